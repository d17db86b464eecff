/**
 * One worker thread of a parallel fuzz campaign (`psync-sim fuzz --workers N`): the main thread
 * deals it run indices (sim/cli/fuzz.ts runCampaignOnWorkers), it runs each (campaignRun) and
 * posts the result back; the main thread writes failures, shrinks them and adds up the summary.
 * `end` means no more runs: the port closes and the thread exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { campaignRun } from '../fuzz/campaign.ts';
import type { CampaignOptions } from '../fuzz/campaign.ts';

const { campaign } = workerData as { campaign: CampaignOptions };
const port = parentPort!;
const queue: number[] = [];
let ended = false;
let draining = false;

/** Run the queued indices one per macrotask, so a deal sent meanwhile is queued in order. */
function drain(): void {
  const index = queue.shift();
  if (index === undefined) {
    draining = false;
    if (ended) port.close();
    return;
  }
  port.postMessage({ type: 'result', r: campaignRun(campaign, index), index });
  setImmediate(drain);
}

port.on('message', (m: { type: 'run'; index: number } | { type: 'end' }) => {
  if (m.type === 'run') queue.push(m.index);
  else ended = true;
  if (!draining) {
    draining = true;
    setImmediate(drain);
  }
});
