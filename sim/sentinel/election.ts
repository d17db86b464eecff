/**
 * Epochs and the leader election (sentinelStartFailoverIfNeeded, sentinelStartFailover,
 * sentinelVoteLeader, sentinelGetLeader). A sentinel that sees its master ODOWN bumps the
 * current epoch and asks every peer for its vote with is-master-down-by-addr carrying its runid.
 * Each sentinel votes once per epoch, for the first candidate that asks (votes are granted in
 * TILT too); a candidate wins with at least a majority of all known sentinels and the quorum.
 * A vote given to someone else, like any attempt, holds off our own attempt for
 * 2 × failover-timeout; the start time carries a random 0-999 ms push (SENTINEL_MAX_DESYNC).
 */
import type { Sentinel } from './sentinel.ts';
import type { Instance } from './state.ts';

export const MAX_DESYNC_MS = 1000;

/** sentinelVoteLeader(): adopt a higher epoch, vote if we have not in this epoch; returns our vote. */
export function voteLeader(s: Sentinel, m: Instance, reqEpoch: number, reqRunid: string): { leader: string | null; epoch: number } {
  if (reqEpoch > s.currentEpoch) {
    s.currentEpoch = reqEpoch;
    s.flushConfig();
    s.event('+new-epoch', null, String(reqEpoch), `a vote request for epoch ${reqEpoch} is newer than our epoch`);
  }
  if (m.leaderEpoch < reqEpoch && s.currentEpoch <= reqEpoch) {
    m.leader = reqRunid;
    m.leaderEpoch = s.currentEpoch;
    s.flushConfig();
    const self = reqRunid.toLowerCase() === s.myid;
    s.event('+vote-for-leader', null, `${reqRunid} ${m.leaderEpoch}`,
      self ? `${s.name} votes for itself in epoch ${m.leaderEpoch}` : `${s.name} has not voted in epoch ${m.leaderEpoch} yet: the first request gets its vote`);
    if (!self) m.failoverStartTime = s.nowMs() + (s.rand() % MAX_DESYNC_MS);
  }
  return { leader: m.leader, epoch: m.leaderEpoch };
}

export interface LeaderCount {
  readonly winner: string | null;
  readonly votes: number;
  readonly voters: number;
}

/** sentinelGetLeader(): count the peers' votes in the current epoch, cast ours, apply majority and quorum. */
export function getLeader(s: Sentinel, m: Instance, epoch: number): LeaderCount {
  const counters = new Map<string, number>();
  const voters = m.sentinels.size + 1;
  for (const p of m.sentinels.values()) {
    // Compared with the current epoch, not the failover epoch (redis#11571).
    if (p.leader !== null && p.leaderEpoch === s.currentEpoch) counters.set(p.leader, (counters.get(p.leader) ?? 0) + 1);
  }
  let winner: string | null = null;
  let maxVotes = 0;
  for (const [runid, votes] of counters) {
    if (votes > maxVotes) {
      maxVotes = votes;
      winner = runid;
    }
  }
  const mine = voteLeader(s, m, epoch, winner ?? s.myid);
  if (mine.leader !== null && mine.epoch === epoch) {
    const votes = (counters.get(mine.leader) ?? 0) + 1;
    counters.set(mine.leader, votes);
    if (votes > maxVotes) {
      maxVotes = votes;
      winner = mine.leader;
    }
  }
  const majority = Math.floor(voters / 2) + 1;
  if (winner !== null && (maxVotes < majority || maxVotes < m.quorum)) winner = null;
  return { winner, votes: maxVotes, voters };
}

export function startFailoverIfNeeded(s: Sentinel, m: Instance): boolean {
  if (!m.oDown || m.failoverInProgress) return false;
  const now = s.nowMs();
  if (now - m.failoverStartTime < m.failoverTimeoutMs * 2) {
    if (m.failoverDelayLogged !== m.failoverStartTime) {
      m.failoverDelayLogged = m.failoverStartTime;
      const atMs = m.failoverStartTime + m.failoverTimeoutMs * 2;
      s.event('next-failover-delay', m, `I will not start a failover before unix ms ${atMs}`,
        `a failover was attempted or a vote given less than 2 × failover-timeout (${(m.failoverTimeoutMs * 2) / 1000} s) ago`);
    }
    return false;
  }
  startFailover(s, m, false);
  return true;
}

/** sentinelStartFailover(): a new epoch, WAIT_START, and a start time pushed by 0-999 ms. */
export function startFailover(s: Sentinel, m: Instance, forced: boolean): void {
  m.failoverState = 'wait_start';
  m.failoverInProgress = true;
  m.failoverEpoch = ++s.currentEpoch;
  s.event('+new-epoch', null, String(s.currentEpoch), forced
    ? `SENTINEL FAILOVER: ${s.name} starts epoch ${s.currentEpoch} without asking for votes`
    : `${m.name} is objectively down: ${s.name} starts a new epoch to ask for votes`);
  s.event('+try-failover', m, '', forced ? 'a user asked for this failover' : `${s.name} will be leader only with a majority and the quorum (${m.quorum})`);
  m.failoverStartTime = s.nowMs() + (s.rand() % MAX_DESYNC_MS);
  m.failoverStateChangeTime = s.nowMs();
}
