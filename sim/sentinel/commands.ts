/**
 * The SENTINEL command and INFO/ROLE in sentinel mode (sentinelCommand, sentinelInfoCommand,
 * sentinelRoleCommand, addReplySentinelRedisInstance), with Redis 7.0's replies and errors.
 */
import type { Sentinel, SentinelClient } from './sentinel.ts';
import { Instance } from './state.ts';
import type { Reply } from '../core/reply.ts';
import { OK, array, bulk, err, int, errWrongArgs, status } from '../core/reply.ts';
import { voteLeader, startFailover } from './election.ts';
import { currentMasterAddress, selectSlave, resetMaster } from './failover.ts';
import { releaseInstanceLinks } from './links.ts';
import { globMatch } from '../core/pubsub.ts';

const NO_SUCH_MASTER = err('ERR No such master with that name');

function parseIntText(t: string): number | null {
  return /^-?\d+$/.test(t) ? Number(t) : null;
}

/** addReplySentinelRedisInstance(): the field list, by Redis's names and in its order. */
export function instanceFields(s: Sentinel, ri: Instance): Array<[string, string]> {
  const now = s.nowMs();
  const f: Array<[string, string]> = [
    ['name', ri.name], ['ip', ri.host], ['port', String(ri.port)], ['runid', ri.runid ?? ''], ['flags', ri.flagsText()],
    ['link-pending-commands', String(ri.link.pendingCommands)], ['link-refcount', '1'],
  ];
  if (ri.failoverInProgress) f.push(['failover-state', ri.failoverState]);
  f.push(['last-ping-sent', String(ri.link.actPingTime ? now - ri.link.actPingTime : 0)],
    ['last-ok-ping-reply', String(now - ri.link.lastAvailTime)], ['last-ping-reply', String(now - ri.link.lastPongTime)]);
  if (ri.sDown) f.push(['s-down-time', String(now - ri.sDownSinceTime)]);
  if (ri.oDown) f.push(['o-down-time', String(now - ri.oDownSinceTime)]);
  f.push(['down-after-milliseconds', String((ri.master ?? ri).downAfterMs)]);
  if (ri.kind !== 'sentinel') {
    f.push(['info-refresh', String(ri.infoRefresh ? now - ri.infoRefresh : 0)], ['role-reported', ri.roleReported],
      ['role-reported-time', String(now - ri.roleReportedTime)]);
  }
  if (ri.kind === 'master') {
    f.push(['config-epoch', String(ri.configEpoch)], ['num-slaves', String(ri.slaves.size)],
      ['num-other-sentinels', String(ri.sentinels.size)], ['quorum', String(ri.quorum)],
      ['failover-timeout', String(ri.failoverTimeoutMs)], ['parallel-syncs', String(ri.parallelSyncs)]);
  }
  if (ri.kind === 'slave') {
    f.push(['master-link-down-time', String(ri.masterLinkDownTimeMs)], ['master-link-status', ri.slaveMasterLinkUp ? 'ok' : 'err'],
      ['master-host', ri.slaveMasterHost ?? '?'], ['master-port', String(ri.slaveMasterPort)],
      ['slave-priority', String(ri.slavePriority)], ['slave-repl-offset', String(ri.slaveReplOffset)],
      ['replica-announced', ri.replicaAnnounced ? '1' : '0']);
  }
  if (ri.kind === 'sentinel') {
    f.push(['last-hello-message', String(now - ri.lastHelloTime)], ['voted-leader', ri.leader ?? '?'],
      ['voted-leader-epoch', String(ri.leaderEpoch)]);
  }
  return f;
}

function fieldsReply(f: Array<[string, string]>): Reply {
  return array(f.flatMap(([k, v]) => [bulk(k), bulk(v)]));
}

/** SENTINEL CKQUORUM's text: usable sentinels against quorum and majority (sentinelIsQuorumReachable). */
export function ckquorum(m: Instance): Reply {
  let usable = 1;
  for (const p of m.sentinels.values()) if (!p.sDown && !p.oDown) usable++;
  const voters = m.sentinels.size + 1;
  const noQuorum = usable < m.quorum;
  const noAuth = usable < Math.floor(voters / 2) + 1;
  if (!noQuorum && !noAuth) return status(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
  let e = `NOQUORUM ${usable} usable Sentinels. `;
  if (noQuorum) e += 'Not enough available Sentinels to reach the specified quorum for this master';
  if (noAuth) e += `${noQuorum ? '. ' : ''}Not enough available Sentinels to reach the majority and authorize a failover`;
  return err(e);
}

export function sentinelCommand(s: Sentinel, c: SentinelClient, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  const reply = (r: Reply): void => s.addReply(c, r);
  const master = (): Instance | null => {
    const m = s.masterByName(argv[2]!);
    if (m === null) reply(NO_SUCH_MASTER);
    return m;
  };
  const arity = (n: number): boolean => {
    if (argv.length === n) return true;
    reply(errWrongArgs(`sentinel|${sub}`));
    return false;
  };
  switch (sub) {
    case 'masters':
      if (!arity(2)) return;
      return reply(array([...s.masters.values()].map((m) => fieldsReply(instanceFields(s, m)))));
    case 'master': {
      if (!arity(3)) return;
      const m = master();
      if (m !== null) reply(fieldsReply(instanceFields(s, m)));
      return;
    }
    case 'replicas':
    case 'slaves': {
      if (!arity(3)) return;
      const m = master();
      if (m !== null) reply(array([...m.slaves.values()].filter((r) => r.replicaAnnounced).map((r) => fieldsReply(instanceFields(s, r)))));
      return;
    }
    case 'sentinels': {
      if (!arity(3)) return;
      const m = master();
      if (m !== null) reply(array([...m.sentinels.values()].map((p) => fieldsReply(instanceFields(s, p)))));
      return;
    }
    case 'get-master-addr-by-name': {
      if (!arity(3)) return;
      const m = s.masterByName(argv[2]!);
      if (m === null) return reply(array(null));
      const a = currentMasterAddress(m);
      return reply(array([bulk(a.host), bulk(String(a.port))]));
    }
    case 'is-master-down-by-addr': {
      if (!arity(6)) return;
      const port = parseIntText(argv[3]!);
      const reqEpoch = parseIntText(argv[4]!);
      if (port === null || reqEpoch === null) return reply(err('ERR value is not an integer or out of range'));
      const m = [...s.masters.values()].find((x) => x.host === argv[2] && x.port === port) ?? null;
      const isDown = !s.tilt && m !== null && m.sDown;
      let leader: string | null = null;
      let leaderEpoch = 0;
      if (m !== null && argv[5] !== '*') {
        const v = voteLeader(s, m, reqEpoch, argv[5]!);
        leader = v.leader;
        leaderEpoch = v.epoch;
      }
      return reply(array([int(isDown ? 1 : 0), bulk(leader ?? '*'), int(leaderEpoch)]));
    }
    case 'failover': {
      if (!arity(3)) return;
      const m = master();
      if (m === null) return;
      if (m.failoverInProgress) return reply(err('INPROG Failover already in progress'));
      if (selectSlave(s, m) === null) return reply(err('NOGOODSLAVE No suitable replica to promote'));
      startFailover(s, m, true);
      m.forceFailover = true;
      return reply(OK);
    }
    case 'reset': {
      if (!arity(3)) return;
      let count = 0;
      for (const m of [...s.masters.values()]) {
        if (!globMatch(argv[2]!, m.name)) continue;
        resetMaster(s, m, true);
        s.event('+reset-master', m, '', 'SENTINEL RESET: replicas and sentinels are forgotten and rediscovered');
        count++;
      }
      s.flushConfig();
      return reply(int(count));
    }
    case 'ckquorum': {
      if (!arity(3)) return;
      const m = master();
      if (m !== null) reply(ckquorum(m));
      return;
    }
    case 'myid':
      if (!arity(2)) return;
      return reply(bulk(s.myid));
    case 'flushconfig':
      if (!arity(2)) return;
      s.flushConfig();
      return reply(OK);
    case 'monitor': {
      if (!arity(6)) return;
      const quorum = parseIntText(argv[5]!);
      const port = parseIntText(argv[4]!);
      if (quorum === null) return reply(err('ERR value is not an integer or out of range'));
      if (quorum <= 0) return reply(err('ERR Quorum must be 1 or greater.'));
      if (port === null) return reply(err('ERR Invalid port'));
      if (port <= 0 || port > 65535) return reply(err('ERR Invalid port number.'));
      if (s.masters.has(argv[2]!)) return reply(err('ERR Duplicate master name.'));
      const m = new Instance('master', argv[2]!, argv[3]!, port, null, s.nowMs());
      m.quorum = quorum;
      s.masters.set(m.name, m);
      s.flushConfig();
      s.event('+monitor', m, `quorum ${quorum}`, `SENTINEL MONITOR: ${s.name} starts monitoring ${m.addr}`);
      return reply(OK);
    }
    case 'remove': {
      if (!arity(3)) return;
      const m = master();
      if (m === null) return;
      s.event('-monitor', m, '', `SENTINEL REMOVE: ${s.name} stops monitoring ${m.name}`);
      for (const r of m.slaves.values()) releaseInstanceLinks(s, r);
      for (const p of m.sentinels.values()) releaseInstanceLinks(s, p);
      releaseInstanceLinks(s, m);
      s.masters.delete(m.name);
      s.flushConfig();
      return reply(OK);
    }
    case 'set': {
      if (argv.length < 5 || argv.length % 2 === 0) return reply(errWrongArgs('sentinel|set'));
      const m = master();
      if (m === null) return;
      for (let i = 3; i < argv.length; i += 2) {
        const opt = argv[i]!.toLowerCase();
        const v = parseIntText(argv[i + 1]!);
        const bad = (): void => reply(err(`ERR Invalid argument '${argv[i + 1]}' for SENTINEL SET '${argv[i]}'`));
        if (opt === 'quorum') { if (v === null || v <= 0) return bad(); m.quorum = v; }
        else if (opt === 'down-after-milliseconds') { if (v === null || v <= 0) return bad(); m.downAfterMs = v; }
        else if (opt === 'failover-timeout') { if (v === null || v <= 0) return bad(); m.failoverTimeoutMs = v; }
        else if (opt === 'parallel-syncs') { if (v === null || v <= 0) return bad(); m.parallelSyncs = v; }
        else return reply(err(`ERR Unknown option or number of arguments for SENTINEL SET '${argv[i]}'`));
        s.event('+set', m, `${argv[i]} ${argv[i + 1]}`, `SENTINEL SET changes ${opt}`);
      }
      s.flushConfig();
      return reply(OK);
    }
    case 'simulate-failure': {
      if (argv.length < 3) return reply(errWrongArgs('sentinel|simulate-failure'));
      for (const a of argv.slice(2)) {
        const t = a.toLowerCase();
        if (t === 'crash-after-election') s.simCrashAfterElection = true;
        else if (t === 'crash-after-promotion') s.simCrashAfterPromotion = true;
        else if (t === 'help') return reply(array([bulk('crash-after-election'), bulk('crash-after-promotion')]));
        else return reply(err('ERR Unknown failure simulation specified'));
      }
      return reply(OK);
    }
    default:
      return reply(err(`ERR unknown subcommand '${argv[1]}'. Try SENTINEL HELP.`));
  }
}

/** INFO in sentinel mode: the server section's essentials and the sentinel section. */
export function infoCommand(s: Sentinel, args: string[]): string {
  const section = (args[0] ?? 'default').toLowerCase();
  const out: string[] = [];
  if (section === 'default' || section === 'all' || section === 'everything' || section === 'server') {
    out.push('# Server', 'redis_version:7.0.15', 'redis_mode:sentinel', `tcp_port:${s.port}`, '');
  }
  if (section === 'default' || section === 'all' || section === 'everything' || section === 'sentinel') {
    out.push('# Sentinel', `sentinel_masters:${s.masters.size}`, `sentinel_tilt:${s.tilt ? 1 : 0}`,
      `sentinel_tilt_since_seconds:${s.tilt ? Math.floor((s.nowMs() - s.tiltStartTime) / 1000) : -1}`,
      'sentinel_running_scripts:0', 'sentinel_scripts_queue_length:0',
      `sentinel_simulate_failure_flags:${(s.simCrashAfterElection ? 1 : 0) | (s.simCrashAfterPromotion ? 2 : 0)}`);
    let i = 0;
    for (const m of s.masters.values()) {
      const st = m.oDown ? 'odown' : m.sDown ? 'sdown' : 'ok';
      out.push(`master${i++}:name=${m.name},status=${st},address=${m.host}:${m.port},slaves=${m.slaves.size},sentinels=${m.sentinels.size + 1}`);
    }
    out.push('');
  }
  return out.join('\r\n');
}

export function roleReply(s: Sentinel): Reply {
  return array([bulk('sentinel'), array([...s.masters.keys()].map((n) => bulk(n)))]);
}
