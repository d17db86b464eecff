/**
 * One timer tick's work, in sentinel.c's order (sentinelTimer, sentinelHandleDictOfRedisInstances,
 * sentinelHandleRedisInstance), and failure detection (sentinelCheckSubjectivelyDown,
 * sentinelCheckObjectivelyDown, sentinelAskMasterStateToOtherSentinels).
 *
 * Per instance: reconnect, periodic commands, then (not in TILT) SDOWN; for masters also ODOWN,
 * start a failover if needed (with a forced round of vote requests), one step of the failover
 * state machine, and the regular ask. A master's replicas and sentinels follow it; the switch to
 * a promoted replica happens at the end of the pass over the masters.
 */
import type { Sentinel } from './sentinel.ts';
import { Instance, TILT_TRIGGER_MS, TILT_PERIOD_MS, ASK_PERIOD_MS, MIN_LINK_RECONNECT_PERIOD_MS, PUBLISH_PERIOD_MS, INFO_PERIOD_MS } from './state.ts';
import type { Reply } from '../core/reply.ts';
import { reconnectInstance, closeLinkConn, sendCommand } from './links.ts';
import { sendPeriodicCommands } from './discovery.ts';
import { startFailoverIfNeeded } from './election.ts';
import { failoverStateMachine, switchToPromotedSlave } from './failover.ts';

/** sentinelCheckTiltCondition(): the wall clock jumped back, or more than 2 s passed since the last tick. */
export function checkTiltCondition(s: Sentinel): void {
  const now = s.nowMs();
  const delta = now - s.previousTime;
  if (delta < 0 || delta > TILT_TRIGGER_MS) {
    s.tilt = true;
    s.tiltStartTime = now;
    s.event('+tilt', null, '#tilt mode entered', `${delta} ms passed between two timer ticks (more than ${TILT_TRIGGER_MS}): ${s.name} stops acting on timers for ${TILT_PERIOD_MS / 1000} s`);
  }
  s.previousTime = now;
}

export function handleInstances(s: Sentinel): void {
  let switchTo: Instance | null = null;
  for (const m of [...s.masters.values()]) {
    handleInstance(s, m);
    for (const r of [...m.slaves.values()]) handleInstance(s, r);
    for (const p of [...m.sentinels.values()]) handleInstance(s, p);
    if (m.failoverState === 'update_config') switchTo = m;
    if (s.exited) return;
  }
  if (switchTo !== null) switchToPromotedSlave(s, switchTo);
}

function handleInstance(s: Sentinel, ri: Instance): void {
  if (s.exited) return;
  reconnectInstance(s, ri);
  sendPeriodicCommands(s, ri);
  if (s.tilt) {
    if (s.nowMs() - s.tiltStartTime < TILT_PERIOD_MS) return;
    s.tilt = false;
    s.event('-tilt', null, '#tilt mode exited', `${TILT_PERIOD_MS / 1000} s without a new trigger`);
  }
  checkSubjectivelyDown(s, ri);
  if (ri.kind === 'master') {
    checkObjectivelyDown(s, ri);
    if (startFailoverIfNeeded(s, ri)) askMasterStateToOtherSentinels(s, ri, true);
    failoverStateMachine(s, ri);
    if (s.exited) return;
    askMasterStateToOtherSentinels(s, ri, false);
  }
}

export function checkSubjectivelyDown(s: Sentinel, ri: Instance): void {
  const now = s.nowMs();
  const link = ri.link;
  const downAfter = (ri.master ?? ri).downAfterMs;
  let elapsed = 0;
  if (link.actPingTime !== 0) elapsed = now - link.actPingTime;
  else if (link.disconnected) elapsed = now - link.lastAvailTime;
  // Link hygiene: a connection up for 15 s whose PING waits too long, or a silent pub/sub.
  if (link.cc !== null && now - link.ccConnTime > MIN_LINK_RECONNECT_PERIOD_MS && link.actPingTime !== 0 &&
      now - link.actPingTime > downAfter / 2 && now - link.lastPongTime > downAfter / 2) {
    closeLinkConn(s, ri, 'cc');
  }
  if (link.pc !== null && now - link.pcConnTime > MIN_LINK_RECONNECT_PERIOD_MS && now - link.pcLastActivity > PUBLISH_PERIOD_MS * 3) {
    closeLinkConn(s, ri, 'pc');
  }
  const roleDown = ri.kind === 'master' && ri.roleReported === 'slave' && now - ri.roleReportedTime > downAfter + INFO_PERIOD_MS * 2;
  if (elapsed > downAfter || roleDown) {
    if (!ri.sDown) {
      ri.sDown = true;
      ri.sDownSinceTime = now;
      s.event('+sdown', ri, '', roleDown
        ? `${ri.addr} has reported role:slave for over ${(downAfter + INFO_PERIOD_MS * 2) / 1000} s although it is configured as the master`
        : `no valid reply from ${ri.addr} for ${elapsed} ms (down-after-milliseconds ${downAfter})`);
    }
  } else if (ri.sDown) {
    ri.sDown = false;
    s.event('-sdown', ri, '', `${ri.addr} answers again`);
  }
}

/** The weak quorum: our own SDOWN plus the peers that last said "down". */
export function checkObjectivelyDown(s: Sentinel, m: Instance): void {
  let quorum = 0;
  let odown = false;
  if (m.sDown) {
    quorum = 1;
    for (const p of m.sentinels.values()) if (p.masterDown) quorum++;
    if (quorum >= m.quorum) odown = true;
  }
  if (odown) {
    if (!m.oDown) {
      m.oDown = true;
      m.oDownSinceTime = s.nowMs();
      s.event('+odown', m, `#quorum ${quorum}/${m.quorum}`, `${quorum} sentinel(s) including ${s.name} see ${m.addr} down, and the quorum is ${m.quorum}`);
    }
  } else if (m.oDown) {
    m.oDown = false;
    s.event('-odown', m, '', `fewer than ${m.quorum} sentinels now report ${m.addr} down`);
  }
}

/** sentinelAskMasterStateToOtherSentinels(): is-master-down-by-addr to every peer, a vote request once we fail over. */
export function askMasterStateToOtherSentinels(s: Sentinel, m: Instance, forced: boolean): void {
  const now = s.nowMs();
  for (const p of m.sentinels.values()) {
    if (now - p.lastMasterDownReplyTime > ASK_PERIOD_MS * 5) {
      p.masterDown = false;
      p.leader = null;
    }
    if (!m.sDown) continue;
    if (p.link.disconnected) continue;
    if (!forced && now - p.lastMasterDownReplyTime < ASK_PERIOD_MS) continue;
    const runid = m.failoverState !== 'none' ? s.myid : '*';
    sendCommand(s, p, 'cc', ['SENTINEL', 'is-master-down-by-addr', m.host, String(m.port), String(s.currentEpoch), runid],
      (r) => isMasterDownReply(s, p, r));
  }
}

function isMasterDownReply(s: Sentinel, p: Instance, r: Reply): void {
  if (r.kind !== 'array' || r.items === null || r.items.length !== 3) return;
  const [down, leader, epoch] = r.items;
  if (down!.kind !== 'int' || leader!.kind !== 'bulk' || leader!.value === null || epoch!.kind !== 'int') return;
  p.lastMasterDownReplyTime = s.nowMs();
  p.masterDown = down!.value === 1;
  if (leader!.value !== '*') {
    if (p.leaderEpoch !== epoch!.value) {
      s.event('voted-for', null, `${leader!.value} ${epoch!.value}`, `sentinel ${p.host} (${p.runid?.slice(0, 8)}) reports its vote in epoch ${epoch!.value}`);
    }
    p.leader = leader!.value;
    p.leaderEpoch = Number(epoch!.value);
  }
}
