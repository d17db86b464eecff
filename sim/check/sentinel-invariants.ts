/**
 * Sentinel invariants, checked after every event-loop iteration of every sentinel (always on,
 * like the replication invariants):
 *   1. a sentinel's current epoch and each master's config epoch never decrease while the
 *      process runs, and a restarted process starts from at least what its predecessor last
 *      flushed to sentinel.conf. Not from what it held in memory: SENTINEL FAILOVER bumps the
 *      epoch (sentinelCommand → sentinelStartFailover) with no sentinelFlushConfig(); the flush
 *      comes with the leader's own vote in the next tick, so a crash in between forgets the
 *      epoch in Redis too. Nothing has left the process with that epoch by then;
 *   2. one vote per epoch per sentinel: once a sentinel has voted for X in epoch e, it never
 *      holds a vote for Y ≠ X in epoch e;
 *   3. a failover leaves WAIT_START only under a leader elected with a majority of the
 *      sentinels it knows and the quorum, counting the votes actually given for it in that
 *      epoch (a SENTINEL FAILOVER, which needs no votes, is exempt);
 *   4. no two sentinels ever hold different addresses for one master name with the same
 *      config epoch (epoch 0, the configuration a user wrote, is exempt), except a leader whose
 *      own failover a newer configuration overtook. Redis 7.0.15 does not promise more: a leader
 *      in reconf_slaves announces its promoted replica (sentinelGetCurrentMasterAddress), and
 *      when a hello brings a newer config epoch, sentinelProcessHelloMessage takes the epoch but
 *      compares the hello's address with master->addr, still the old master; if that is the
 *      address the hello names, nothing switches, and the leader goes on announcing (and, once
 *      the failover ends, sentinelFailoverSwitchToPromotedSlave adopts) its promoted replica at
 *      the newer epoch. Only a still newer epoch repairs that, so from the moment it is seen the
 *      leader's configuration at that epoch is left out of the comparison (`overtaken`).
 * A violation throws InvariantViolation, which the scenario runner reports as a failed check.
 */
import type { Sentinel } from '../sentinel/sentinel.ts';
import { currentMasterAddress } from '../sentinel/failover.ts';
import { InvariantViolation } from './invariants.ts';

export class SentinelChecker {
  private readonly epochs = new Map<string, number>();
  private readonly configEpochs = new Map<string, number>();
  /** The process each name ran last, to tell a restart from the next iteration. */
  private readonly processes = new Map<string, Sentinel>();
  /** `${sentinel}/${master}/${epoch}` → the runid voted for. */
  private readonly votes = new Map<string, string>();
  /** `${master}/${epoch}` → runid → how many sentinels voted for it. */
  private readonly tally = new Map<string, Map<string, number>>();
  /** `${master}/${configEpoch}` → the address first seen with it, and by whom. */
  private readonly configs = new Map<string, { addr: string; by: string }>();
  /**
   * `${sentinel}/${master}/${configEpoch}` of leaders whose failover (of an older epoch) was still
   * announcing its promoted replica when they took this newer config epoch from a hello.
   */
  readonly overtaken = new Set<string>();
  /** `${sentinel}/${master}/${failoverEpoch}` already checked for leadership. */
  private readonly ledFailovers = new Set<string>();
  checks = 0;

  afterIteration(name: string, s: Sentinel, nowUs: number): void {
    this.checks++;
    const fail = (what: string, detail: string): never => {
      throw new InvariantViolation(what, name, nowUs, detail);
    };
    const previous = this.processes.get(name);
    const restarted = previous !== undefined && previous !== s;
    this.processes.set(name, s);
    const prevEpoch = restarted ? previous.flushedCurrentEpoch : (this.epochs.get(name) ?? 0);
    if (s.currentEpoch < prevEpoch) fail('sentinel epoch monotonic', `current epoch went from ${prevEpoch} to ${s.currentEpoch}${restarted ? ' (flushed before the restart)' : ''}`);
    this.epochs.set(name, s.currentEpoch);
    for (const m of s.masters.values()) {
      const key = `${name}/${m.name}`;
      const prevConfig = restarted ? (previous.flushedConfigEpochs.get(m.name) ?? 0) : (this.configEpochs.get(key) ?? 0);
      if (m.configEpoch < prevConfig) fail('sentinel config epoch monotonic', `config epoch of ${m.name} went from ${prevConfig} to ${m.configEpoch}`);
      this.configEpochs.set(key, m.configEpoch);
      if (m.leader !== null && m.leaderEpoch > 0) {
        const vkey = `${key}/${m.leaderEpoch}`;
        const had = this.votes.get(vkey);
        if (had === undefined) {
          this.votes.set(vkey, m.leader);
          const tkey = `${m.name}/${m.leaderEpoch}`;
          let t = this.tally.get(tkey);
          if (t === undefined) this.tally.set(tkey, (t = new Map()));
          t.set(m.leader.toLowerCase(), (t.get(m.leader.toLowerCase()) ?? 0) + 1);
        } else if (had !== m.leader) {
          fail('one vote per epoch', `voted for ${had} and then for ${m.leader} in epoch ${m.leaderEpoch} (${m.name})`);
        }
      }
      if (m.failoverInProgress && !m.forceFailover && m.failoverState !== 'wait_start' && m.failoverState !== 'none') {
        const fkey = `${key}/${m.failoverEpoch}`;
        if (!this.ledFailovers.has(fkey)) {
          this.ledFailovers.add(fkey);
          const got = this.tally.get(`${m.name}/${m.failoverEpoch}`)?.get(s.myid) ?? 0;
          const voters = m.sentinels.size + 1;
          const majority = Math.floor(voters / 2) + 1;
          if (got < majority || got < m.quorum) {
            fail('failover under an elected leader', `${m.name} failover in epoch ${m.failoverEpoch} with ${got} vote(s) given for it; needs ${majority} of ${voters} and quorum ${m.quorum}`);
          }
        }
      }
      if (m.configEpoch > 0) {
        const okey = `${key}/${m.configEpoch}`;
        if (m.failoverInProgress && m.failoverEpoch < m.configEpoch && currentMasterAddress(m) !== m) this.overtaken.add(okey);
        if (this.overtaken.has(okey)) continue;
        const a = currentMasterAddress(m);
        const addr = `${a.host}:${a.port}`;
        const ckey = `${m.name}/${m.configEpoch}`;
        const seen = this.configs.get(ckey);
        if (seen === undefined) this.configs.set(ckey, { addr, by: name });
        else if (seen.addr !== addr) fail('one master per config epoch', `${name} holds ${addr} for ${m.name} at config epoch ${m.configEpoch}, ${seen.by} held ${seen.addr}`);
      }
    }
  }
}
