/**
 * Periodic commands and what INFO tells a sentinel (sentinelSendPeriodicCommands,
 * sentinelRefreshInstanceInfo). INFO goes to masters and replicas every 10 s, every 1 s to a
 * replica whose master is O_DOWN or failing over or whose own master link is down; PING about
 * once a second; a hello every 2 s. The INFO text is parsed line by line with Redis's rules
 * (the replica fields only after `role:slave`), then acted on: promotion detection, the
 * reconfiguration progress, and outside a failover +convert-to-slave / +fix-slave-config.
 */
import type { Sentinel } from './sentinel.ts';
import { Instance, INFO_PERIOD_MS, PING_PERIOD_MS, PUBLISH_PERIOD_MS, MAX_PENDING_COMMANDS } from './state.ts';
import type { Reply } from '../core/reply.ts';
import { sendCommand, sendPing } from './links.ts';
import { sendHello, forceHelloUpdate } from './hello.ts';
import { sendSlaveOf } from './failover.ts';

export function sendPeriodicCommands(s: Sentinel, inst: Instance): void {
  const link = inst.link;
  const now = s.nowMs();
  if (link.disconnected) return;
  if (link.pendingCommands >= MAX_PENDING_COMMANDS) return;
  const m = inst.master;
  const infoPeriod = inst.kind === 'slave' && m !== null && (m.oDown || m.failoverInProgress || inst.masterLinkDownTimeMs !== 0)
    ? 1000 : INFO_PERIOD_MS;
  const downAfter = (m ?? inst).downAfterMs;
  const pingPeriod = Math.min(downAfter, PING_PERIOD_MS);
  if (inst.kind !== 'sentinel' && (inst.infoRefresh === 0 || now - inst.infoRefresh > infoPeriod)) {
    sendCommand(s, inst, 'cc', ['INFO'], (r) => infoReply(s, inst, r));
  }
  if (now - link.lastPongTime > pingPeriod && now - link.lastPingTime > pingPeriod / 2) sendPing(s, inst);
  if (now - inst.lastPubTime > PUBLISH_PERIOD_MS) sendHello(s, inst);
}

function infoReply(s: Sentinel, inst: Instance, r: Reply): void {
  if (r.kind === 'bulk' && r.value !== null) refreshInstanceInfo(s, inst, r.value);
}

/** sentinelMasterLooksSane(). */
function masterLooksSane(s: Sentinel, m: Instance): boolean {
  return m.roleReported === 'master' && !m.sDown && !m.oDown && s.nowMs() - m.infoRefresh < INFO_PERIOD_MS * 2;
}

/** sentinelRedisInstanceNoDownFor(): no SDOWN/ODOWN started in the last `ms`. */
function noDownFor(s: Sentinel, i: Instance, ms: number): boolean {
  const mostRecent = Math.max(i.sDownSinceTime, i.oDownSinceTime);
  return mostRecent === 0 || s.nowMs() - mostRecent > ms;
}

export function refreshInstanceInfo(s: Sentinel, ri: Instance, info: string): void {
  const now = s.nowMs();
  let role: 'master' | 'slave' | null = null;
  ri.masterLinkDownTimeMs = 0;
  for (const l of info.split('\r\n')) {
    if (l.length >= 47 && l.startsWith('run_id:')) {
      const id = l.slice(7, 47);
      if (ri.runid === null) ri.runid = id;
      else if (ri.runid !== id) {
        s.event('+reboot', ri, '', `${ri.addr} reports a new run_id: the process restarted`);
        ri.runid = id;
      }
    }
    if (ri.kind === 'master' && l.length >= 7 && l.startsWith('slave') && l.charCodeAt(5) >= 48 && l.charCodeAt(5) <= 57) {
      const body = l.slice(l.indexOf(':') + 1);
      let ip: string | undefined;
      let port: string | undefined;
      if (body.includes('ip=')) {
        for (const kv of body.split(',')) {
          if (kv.startsWith('ip=')) ip = kv.slice(3);
          else if (kv.startsWith('port=')) port = kv.slice(5);
        }
      } else [ip, port] = body.split(',');
      if (ip !== undefined && port !== undefined) {
        const p = Number.parseInt(port, 10) || 0;
        const key = `${ip}:${p}`;
        if (!ri.slaves.has(key)) {
          const slave = new Instance('slave', key, ip, p, ri, now);
          ri.slaves.set(key, slave);
          s.event('+slave', slave, '', `${ri.name}'s INFO lists replica ${key}, new to ${s.name}`);
          s.flushConfig();
        }
      }
    }
    if (l.length >= 32 && l.startsWith('master_link_down_since_seconds')) {
      ri.masterLinkDownTimeMs = (Number.parseInt(l.slice(31), 10) || 0) * 1000;
    }
    if (l.startsWith('role:master')) role = 'master';
    else if (l.startsWith('role:slave')) role = 'slave';
    if (role === 'slave') {
      if (l.startsWith('master_host:')) {
        const h = l.slice(12);
        if (ri.slaveMasterHost === null || h.toLowerCase() !== ri.slaveMasterHost.toLowerCase()) {
          ri.slaveMasterHost = h;
          ri.slaveConfChangeTime = now;
        }
      }
      if (l.startsWith('master_port:')) {
        const p = Number.parseInt(l.slice(12), 10) || 0;
        if (ri.slaveMasterPort !== p) {
          ri.slaveMasterPort = p;
          ri.slaveConfChangeTime = now;
        }
      }
      if (l.startsWith('master_link_status:')) ri.slaveMasterLinkUp = l.slice(19).toLowerCase() === 'up';
      if (l.startsWith('slave_priority:')) ri.slavePriority = Number.parseInt(l.slice(15), 10) || 0;
      if (l.startsWith('slave_repl_offset:')) ri.slaveReplOffset = Number.parseInt(l.slice(18), 10) || 0;
      if (l.startsWith('replica_announced:')) ri.replicaAnnounced = (Number.parseInt(l.slice(18), 10) || 0) !== 0;
    }
  }
  ri.infoRefresh = now;
  if (role === null) return;

  // --- The acting half ---
  if (role !== ri.roleReported) {
    ri.roleReportedTime = now;
    ri.roleReported = role;
    if (role === 'slave') ri.slaveConfChangeTime = now;
    const coherent = ri.kind === role;
    s.event(coherent ? '+role-change' : '-role-change', ri, `new reported role is ${role}`,
      coherent ? `${ri.addr} now reports the role our config gives it` : `${ri.addr} reports ${role}, which our config does not expect`);
  }
  if (s.tilt) return;
  const m = ri.master;
  if (ri.kind === 'slave' && m !== null && role === 'master') {
    if (ri.promoted && m.failoverInProgress && m.failoverState === 'wait_promotion') {
      // The promotion is seen only through INFO: now announce the new config (epoch) to everyone.
      m.configEpoch = m.failoverEpoch;
      m.failoverState = 'reconf_slaves';
      m.failoverStateChangeTime = now;
      s.flushConfig();
      s.event('+promoted-slave', ri, '', `${ri.addr} reports role:master: the promotion worked; config epoch ${m.configEpoch} is announced in hellos from now on`);
      if (s.simCrashAfterPromotion) return s.simFailureCrash();
      s.event('+failover-state-reconf-slaves', m, '', `now the other replicas are repointed to ${ri.addr}, ${m.parallelSyncs} at a time`);
      forceHelloUpdate(m);
    } else {
      const waitMs = PUBLISH_PERIOD_MS * 4;
      if (!ri.promoted && masterLooksSane(s, m) && noDownFor(s, ri, waitMs) && now - ri.roleReportedTime > waitMs) {
        if (sendSlaveOf(s, ri, m.host, m.port)) {
          s.event('+convert-to-slave', ri, '', `${ri.addr} has claimed to be a master for over ${waitMs / 1000} s while ${m.addr} is the master: it is told to replicate from it`);
        }
      }
    }
  }
  if (ri.kind === 'slave' && m !== null && role === 'slave' && (ri.slaveMasterPort !== m.port || ri.slaveMasterHost !== m.host)) {
    const waitMs = m.failoverTimeoutMs;
    if (masterLooksSane(s, m) && noDownFor(s, ri, waitMs) && now - ri.slaveConfChangeTime > waitMs) {
      if (sendSlaveOf(s, ri, m.host, m.port)) {
        s.event('+fix-slave-config', ri, '', `${ri.addr} replicates from ${ri.slaveMasterHost}:${ri.slaveMasterPort}, not from the master ${m.addr}`);
      }
    }
  }
  if (ri.kind === 'slave' && m !== null && role === 'slave' && (ri.reconfSent || ri.reconfInprog)) {
    const p = m.promotedSlave;
    if (ri.reconfSent && p !== null && ri.slaveMasterHost === p.host && ri.slaveMasterPort === p.port) {
      ri.reconfSent = false;
      ri.reconfInprog = true;
      s.event('+slave-reconf-inprog', ri, '', `${ri.addr} now names ${p.addr} as its master`);
    }
    if (ri.reconfInprog && ri.slaveMasterLinkUp) {
      ri.reconfInprog = false;
      ri.reconfDone = true;
      s.event('+slave-reconf-done', ri, '', `${ri.addr} has its link to the new master up`);
    }
  }
}
