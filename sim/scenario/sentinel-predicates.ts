/**
 * Predicates over sentinels (the sentinel extension of the language): `SENTINEL.FIELD` reads the
 * sentinel's INFO, `SENTINEL.MASTER.FIELD` a field of `SENTINEL MASTER MASTER` by Redis's name,
 * and `settled MASTER` asks whether the sentinels and the data nodes agree on one master.
 */
import type { World } from '../world/world.ts';
import type { FieldRef } from './ast.ts';
import type { Verdict } from './predicates.ts';
import { infoCommand, instanceFields } from '../sentinel/commands.ts';
import { currentMasterAddress } from '../sentinel/failover.ts';

/** A sentinel field's value, or why there is none; null when `f.node` is not a sentinel. */
export function sentinelFieldValue(world: World, f: FieldRef): { value: string } | { missing: string } | null {
  const slot = world.sentinelSlots.get(f.node);
  if (slot === undefined) return null;
  const s = slot.sentinel;
  if (s === null) return { missing: `${f.node} is down` };
  if (f.master !== undefined) {
    const m = s.masterByName(f.master);
    if (m === null) return { missing: `${f.node} does not monitor '${f.master}'` };
    const v = instanceFields(s, m).find(([k]) => k === f.field);
    return v === undefined ? { missing: `SENTINEL MASTER ${f.master} on ${f.node} has no field '${f.field}'` } : { value: v[1] };
  }
  for (const line of infoCommand(s, ['everything']).split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon) === f.field) return { value: line.slice(colon + 1) };
  }
  return { missing: `${f.node} has no INFO field '${f.field}'` };
}

/** `settled MASTER`. */
export function settled(world: World, name: string): Verdict {
  const views: string[] = [];
  let agreed: { host: string; port: number; epoch: number } | null = null;
  const replicas = new Set<string>();
  for (const [sname, slot] of world.sentinelSlots) {
    const s = slot.sentinel;
    if (s === null) continue;
    const m = s.masterByName(name);
    if (m === null) return { ok: false, detail: `${sname} does not monitor ${name}` };
    const a = currentMasterAddress(m);
    views.push(`${sname}: ${a.host}:${a.port} epoch ${m.configEpoch}`);
    for (const r of m.slaves.values()) replicas.add(r.host);
    if (agreed === null) agreed = { host: a.host, port: a.port, epoch: m.configEpoch };
    else if (agreed.host !== a.host || agreed.port !== a.port || agreed.epoch !== m.configEpoch) {
      return { ok: false, detail: `the sentinels disagree (${views.join(', ')}, ...)` };
    }
  }
  if (agreed === null) return { ok: false, detail: 'no sentinel is up' };
  const master = world.slots.get(agreed.host)?.node ?? null;
  if (master === null) return { ok: false, detail: `${views.join(', ')}; but ${agreed.host} is down` };
  if (master.isReplica) return { ok: false, detail: `${views.join(', ')}; but ${agreed.host} is a replica of ${master.masterhost}` };
  const lagging: string[] = [];
  for (const r of replicas) {
    if (r === agreed.host) continue;
    const n = world.slots.get(r)?.node ?? null;
    if (n === null) continue;
    if (n.masterhost !== agreed.host || n.replState !== 'connected') lagging.push(`${r} (${n.masterhost === null ? 'a master' : `replica of ${n.masterhost}, link ${n.replState === 'connected' ? 'up' : 'down'}`})`);
  }
  if (lagging.length > 0) return { ok: false, detail: `${views.join(', ')}; not following ${agreed.host}: ${lagging.join(', ')}` };
  return { ok: true, detail: views.join(', ') };
}
