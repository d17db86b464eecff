/**
 * One worker thread of a parallel fuzz campaign (`psync-sim fuzz --workers N`): it runs its share
 * of the runs (a sub-shard) and posts every result to the main thread, which writes failures,
 * shrinks them and adds up the summary. Wall-clock reads are allowed here: this is the CLI.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runCampaign } from '../fuzz/campaign.ts';
import type { CampaignOptions } from '../fuzz/campaign.ts';

const { campaign, timeUs } = workerData as { campaign: CampaignOptions; timeUs: number | null };
const t0 = performance.now();
runCampaign(campaign, {
  onResult: (r, index) => parentPort!.postMessage({ type: 'result', r, index }),
  shouldStop: timeUs === null ? undefined : () => (performance.now() - t0) * 1000 >= timeUs,
});
parentPort!.postMessage({ type: 'done' });
