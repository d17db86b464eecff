/**
 * The ledger as the scenario language and the CLI see it: the world's data nodes as the loss
 * analysis needs them, `CLIENT.FIELD` / `writes.FIELD` values, and the end-of-run report
 * (per client: sent, acknowledged, failed, unknown, lost, and the lost writes by cause), as text.
 */
import type { World } from '../world/world.ts';
import { counts, ledgerReport, lostWritesCount, singleMaster } from './ledger.ts';
import type { DataNodeView, LedgerReport } from './ledger.ts';

/** Every data node, as the ledger analysis reads it (values as of now; expired keys absent). */
export function dataNodeViews(world: World): DataNodeView[] {
  return [...world.slots.values()].map((slot) => {
    const n = slot.node;
    return {
      name: slot.name,
      up: n !== null,
      masterhost: n?.masterhost ?? null,
      replid: n?.replid ?? '',
      offset: n?.masterReplOffset ?? 0,
      get: (db: number, key: string): string | undefined => {
        const e = n?.ks.get(db, key);
        if (e === undefined) return undefined;
        if (e.expireAtMs >= 0 && e.expireAtMs <= slot.unixMs()) return undefined;
        return e.value;
      },
    };
  });
}

/** `CLIENT.FIELD` or `writes.FIELD`: a number, or why there is none. */
export function ledgerField(world: World, who: string, field: string): { value: string } | { missing: string } {
  if (field === 'lost') {
    const m = singleMaster(dataNodeViews(world));
    if (!m.ok) return { missing: `${who}.lost cannot be judged: ${m.why}` };
    return { value: String(lostWritesCount(world.ledger, m.node, who === 'writes' ? null : who)) };
  }
  const entries = who === 'writes' ? world.ledger.entries : world.ledger.entries.filter((e) => e.client === who);
  const c = counts(entries);
  switch (field) {
    case 'sent': return { value: String(c.sent) };
    case 'acked': return { value: String(c.acked) };
    case 'failed': return { value: String(c.failed) };
    case 'unknown': return { value: String(c.unknown) };
    default: return { missing: `no ledger field '${field}'` };
  }
}

export function worldLedgerReport(world: World): LedgerReport {
  return ledgerReport(world.ledger, [...world.clients.keys()], dataNodeViews(world), world.histories);
}

/** The report as lines of text (psync-sim run prints it after the checks). */
export function renderLedgerReport(r: LedgerReport): string[] {
  const lines: string[] = [];
  lines.push(r.master !== null ? `  ledger (lost = acknowledged writes whose value master ${r.master} does not hold now):` : `  ledger (lost not judged: ${r.masterWhy}):`);
  for (const c of r.clients) {
    const pending = c.pending > 0 ? `, ${c.pending} pending` : '';
    lines.push(`    ${c.client}: ${c.sent} sent, ${c.acked} acknowledged, ${c.failed} failed, ${c.unknown} unknown${pending}, ${c.lost === null ? '? lost' : `${c.lost} lost`}`);
    for (const g of c.groups) lines.push(`      ${g.cause}: ${g.text} (keys ${g.keys.join(' ')}${g.count > g.keys.length ? ' …' : ''})`);
  }
  return lines;
}
