/**
 * The failover state machine (sentinelFailoverStateMachine and its states), replica selection
 * (sentinelSelectSlave, compareSlavesForPromotion), the reconfiguration transaction
 * (sentinelSendSlaveOf), the end (sentinelFailoverDetectEnd) and the switch
 * (sentinelFailoverSwitchToPromotedSlave, sentinelResetMasterAndChangeAddress).
 * One state runs per master per tick; aborts are possible up to WAIT_PROMOTION only.
 */
import type { Sentinel } from './sentinel.ts';
import { Instance, ELECTION_TIMEOUT_MS, PING_PERIOD_MS, INFO_PERIOD_MS, SLAVE_RECONF_TIMEOUT_MS } from './state.ts';
import { sendCommand, releaseInstanceLinks, closeLinkConn } from './links.ts';
import { getLeader } from './election.ts';

/** sentinelGetCurrentMasterAddress(): the promoted replica once our failover reached RECONF_SLAVES. */
export function currentMasterAddress(m: Instance): { host: string; port: number } {
  const p = m.promotedSlave;
  if (m.failoverInProgress && p !== null && (m.failoverState === 'reconf_slaves' || m.failoverState === 'update_config')) return p;
  return m;
}

/**
 * sentinelSendSlaveOf(): MULTI, SLAVEOF, CONFIG REWRITE, CLIENT KILL TYPE normal, CLIENT KILL
 * TYPE pubsub, EXEC on the command link; the replies are ignored (later INFO shows the effect).
 */
export function sendSlaveOf(s: Sentinel, ri: Instance, host: string | null, port: number): boolean {
  if (ri.link.cc === null) return false;
  const target = host === null ? ['NO', 'ONE'] : [host, String(port)];
  sendCommand(s, ri, 'cc', ['MULTI'], null);
  sendCommand(s, ri, 'cc', ['SLAVEOF', ...target], null);
  sendCommand(s, ri, 'cc', ['CONFIG', 'REWRITE'], null);
  sendCommand(s, ri, 'cc', ['CLIENT', 'KILL', 'TYPE', 'normal'], null);
  sendCommand(s, ri, 'cc', ['CLIENT', 'KILL', 'TYPE', 'pubsub'], null);
  sendCommand(s, ri, 'cc', ['EXEC'], null);
  return true;
}

/** Why a replica cannot be promoted, or null (sentinelSelectSlave's exclusions, in order). */
export function promotionExclusion(s: Sentinel, m: Instance, r: Instance): string | null {
  const now = s.nowMs();
  let maxMasterDownMs = m.sDown ? now - m.sDownSinceTime : 0;
  maxMasterDownMs += m.downAfterMs * 10;
  if (r.sDown || r.oDown) return 'it is down';
  if (r.link.disconnected) return 'its link is disconnected';
  if (now - r.link.lastAvailTime > PING_PERIOD_MS * 5) return 'its last valid PING reply is over 5 s old';
  if (r.slavePriority === 0) return 'its replica-priority is 0';
  const infoValidity = m.sDown ? PING_PERIOD_MS * 5 : INFO_PERIOD_MS * 3;
  if (now - r.infoRefresh > infoValidity) return `its INFO is over ${infoValidity / 1000} s old`;
  if (r.masterLinkDownTimeMs > maxMasterDownMs) return 'its link to the master has been down too long';
  return null;
}

/** compareSlavesForPromotion(): lower priority, then higher offset, then smaller runid (none sorts last). */
function compareForPromotion(a: Instance, b: Instance): number {
  if (a.slavePriority !== b.slavePriority) return a.slavePriority - b.slavePriority;
  if (a.slaveReplOffset !== b.slaveReplOffset) return a.slaveReplOffset > b.slaveReplOffset ? -1 : 1;
  if (a.runid === null && b.runid === null) return 0;
  if (a.runid === null) return 1;
  if (b.runid === null) return -1;
  const x = a.runid.toLowerCase();
  const y = b.runid.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

export function selectSlave(s: Sentinel, m: Instance): Instance | null {
  const ok = [...m.slaves.values()].filter((r) => promotionExclusion(s, m, r) === null);
  ok.sort(compareForPromotion);
  return ok[0] ?? null;
}

function setState(s: Sentinel, m: Instance, state: Instance['failoverState']): void {
  m.failoverState = state;
  m.failoverStateChangeTime = s.nowMs();
}

/** sentinelAbortFailover(). */
function abortFailover(s: Sentinel, m: Instance): void {
  m.failoverInProgress = false;
  m.forceFailover = false;
  setState(s, m, 'none');
  if (m.promotedSlave !== null) {
    m.promotedSlave.promoted = false;
    m.promotedSlave = null;
  }
}

export function failoverStateMachine(s: Sentinel, m: Instance): void {
  if (!m.failoverInProgress) return;
  const now = s.nowMs();
  switch (m.failoverState) {
    case 'wait_start': {
      const count = getLeader(s, m, m.failoverEpoch);
      const isLeader = count.winner !== null && count.winner.toLowerCase() === s.myid;
      if (!isLeader && !m.forceFailover) {
        const electionTimeout = Math.min(ELECTION_TIMEOUT_MS, m.failoverTimeoutMs);
        if (now - m.failoverStartTime > electionTimeout) {
          s.event('-failover-abort-not-elected', m, '', `no majority and quorum for ${s.name} in epoch ${m.failoverEpoch} within ${electionTimeout / 1000} s (best: ${count.votes} of ${count.voters} votes)`);
          abortFailover(s, m);
        }
        return;
      }
      s.event('+elected-leader', m, '', m.forceFailover
        ? `a forced failover needs no votes: ${s.name} leads epoch ${m.failoverEpoch}`
        : `${s.name} is elected leader for epoch ${m.failoverEpoch} with ${count.votes} of ${count.voters} votes (quorum ${m.quorum})`);
      if (s.simCrashAfterElection) return s.simFailureCrash();
      setState(s, m, 'select_slave');
      s.event('+failover-state-select-slave', m, '', 'the leader picks the replica to promote');
      return;
    }
    case 'select_slave': {
      const r = selectSlave(s, m);
      if (r === null) {
        const why = [...m.slaves.values()].map((x) => `${x.addr}: ${promotionExclusion(s, m, x)}`).join('; ');
        s.event('-failover-abort-no-good-slave', m, '', `no replica can be promoted${why ? ` (${why})` : ''}`);
        abortFailover(s, m);
        return;
      }
      s.event('+selected-slave', r, '', `${r.addr} wins on priority ${r.slavePriority}, offset ${r.slaveReplOffset}, runid ${r.runid?.slice(0, 8) ?? '?'}`);
      r.promoted = true;
      m.promotedSlave = r;
      setState(s, m, 'send_slaveof_noone');
      s.event('+failover-state-send-slaveof-noone', r, '', `${r.addr} gets REPLICAOF NO ONE in a MULTI/EXEC transaction`);
      return;
    }
    case 'send_slaveof_noone': {
      const r = m.promotedSlave!;
      if (r.link.disconnected) {
        if (now - m.failoverStateChangeTime > m.failoverTimeoutMs) {
          s.event('-failover-abort-slave-timeout', m, '', `the link to ${r.addr} stayed down for failover-timeout`);
          abortFailover(s, m);
        }
        return;
      }
      if (!sendSlaveOf(s, r, null, 0)) return;
      s.event('+failover-state-wait-promotion', r, '', `waiting for ${r.addr}'s INFO to say role:master`);
      setState(s, m, 'wait_promotion');
      return;
    }
    case 'wait_promotion':
      if (now - m.failoverStateChangeTime > m.failoverTimeoutMs) {
        s.event('-failover-abort-slave-timeout', m, '', `${m.promotedSlave?.addr} did not report role:master within failover-timeout`);
        abortFailover(s, m);
      }
      return;
    case 'reconf_slaves':
      reconfNextSlave(s, m);
      return;
    case 'none':
    case 'update_config':
      return;
  }
}

/** sentinelFailoverReconfNextSlave(): up to parallel-syncs replicas being repointed at a time. */
function reconfNextSlave(s: Sentinel, m: Instance): void {
  const now = s.nowMs();
  const p = m.promotedSlave!;
  let inProgress = 0;
  for (const r of m.slaves.values()) if (r.reconfSent || r.reconfInprog) inProgress++;
  for (const r of m.slaves.values()) {
    if (inProgress >= m.parallelSyncs) break;
    if (r.promoted || r.reconfDone) continue;
    if (r.reconfSent && now - r.slaveReconfSentTime > SLAVE_RECONF_TIMEOUT_MS) {
      s.event('-slave-reconf-sent-timeout', r, '', `${r.addr} did not follow ${p.addr} within ${SLAVE_RECONF_TIMEOUT_MS / 1000} s: counted as done`);
      r.reconfSent = false;
      r.reconfDone = true;
    }
    if (r.reconfSent || r.reconfInprog) continue;
    if (r.link.disconnected) continue;
    if (sendSlaveOf(s, r, p.host, p.port)) {
      r.reconfSent = true;
      r.slaveReconfSentTime = now;
      s.event('+slave-reconf-sent', r, '', `${r.addr} is told REPLICAOF ${p.host} ${p.port}`);
      inProgress++;
    }
  }
  detectEnd(s, m);
}

/** sentinelFailoverDetectEnd(): every reachable replica done (or failover-timeout passed). */
function detectEnd(s: Sentinel, m: Instance): void {
  const p = m.promotedSlave;
  if (p === null || p.sDown) return;
  let notReconfigured = 0;
  for (const r of m.slaves.values()) {
    if (r.promoted || r.reconfDone || r.sDown) continue;
    notReconfigured++;
  }
  let timeout = false;
  if (s.nowMs() - m.failoverStateChangeTime > m.failoverTimeoutMs) {
    notReconfigured = 0;
    timeout = true;
    s.event('+failover-end-for-timeout', m, '', 'failover-timeout passed while replicas were being repointed');
  }
  if (notReconfigured === 0) {
    s.event('+failover-end', m, '', `every reachable replica follows ${p.addr}`);
    setState(s, m, 'update_config');
  }
  if (timeout) {
    for (const r of m.slaves.values()) {
      if (r.promoted || r.reconfDone || r.reconfSent || r.link.disconnected) continue;
      if (sendSlaveOf(s, r, p.host, p.port)) {
        s.event('+slave-reconf-sent-be', r, '', `best effort after the timeout: ${r.addr} is told REPLICAOF ${p.host} ${p.port}`);
        r.reconfSent = true;
      }
    }
  }
}

/** sentinelFailoverSwitchToPromotedSlave(). */
export function switchToPromotedSlave(s: Sentinel, m: Instance): void {
  const ref = m.promotedSlave ?? m;
  s.event('+switch-master', null, `${m.name} ${m.host} ${m.port} ${ref.host} ${ref.port}`,
    `the failover is over: ${s.name} now monitors ${ref.addr} as ${m.name}`);
  resetMasterAndChangeAddress(s, m, ref.host, ref.port);
}

/**
 * sentinelResetMaster(SENTINEL_RESET_NO_SENTINELS) + sentinelResetMasterAndChangeAddress(): the
 * master entry starts afresh at the new address; the replicas are re-created, minus the new
 * master, plus the old master's address (so a returning old master can be converted).
 */
export function resetMasterAndChangeAddress(s: Sentinel, m: Instance, host: string, port: number): void {
  const keep: Array<{ host: string; port: number }> = [];
  for (const r of m.slaves.values()) if (!(r.host === host && r.port === port)) keep.push({ host: r.host, port: r.port });
  if (!(m.host === host && m.port === port)) keep.push({ host: m.host, port: m.port });
  resetMaster(s, m, false);
  m.host = host;
  m.port = port;
  m.oDownSinceTime = 0;
  m.sDownSinceTime = 0;
  const now = s.nowMs();
  for (const a of keep) {
    const r = new Instance('slave', `${a.host}:${a.port}`, a.host, a.port, m, now);
    m.slaves.set(r.name, r);
    s.event('+slave', r, '', `${r.addr} is a replica of ${m.name} in the new configuration`);
  }
  s.flushConfig();
}

/** sentinelResetMaster(): forget replicas (and sentinels if asked), close the links, clear the state. */
export function resetMaster(s: Sentinel, m: Instance, sentinelsToo: boolean): void {
  for (const r of m.slaves.values()) releaseInstanceLinks(s, r);
  m.slaves.clear();
  if (sentinelsToo) {
    for (const p of m.sentinels.values()) releaseInstanceLinks(s, p);
    m.sentinels.clear();
  }
  closeLinkConn(s, m, 'cc');
  closeLinkConn(s, m, 'pc');
  m.sDown = m.oDown = m.masterDown = m.failoverInProgress = m.promoted = false;
  m.reconfSent = m.reconfInprog = m.reconfDone = m.forceFailover = false;
  m.leader = null;
  m.failoverState = 'none';
  m.failoverStateChangeTime = 0;
  m.failoverStartTime = 0;
  m.promotedSlave = null;
  m.runid = null;
  m.slaveMasterHost = null;
  const now = s.nowMs();
  m.link.actPingTime = now;
  m.link.lastPingTime = 0;
  m.link.lastAvailTime = now;
  m.link.lastPongTime = now;
  m.roleReportedTime = now;
  m.roleReported = 'master';
}
