/**
 * Hello messages (sentinelSendHello, sentinelReceiveHelloMessages, sentinelProcessHelloMessage):
 * every 2 s each sentinel publishes on `__sentinel__:hello` of every node, and sends the same
 * PUBLISH to every other sentinel directly, the 8-field payload
 * `ip,port,runid,current_epoch,master_name,master_ip,master_port,master_config_epoch`.
 * Receiving one discovers the sender, adopts a higher current epoch, and adopts a master
 * configuration with a strictly higher config epoch ("highest config epoch wins"). Hellos are
 * processed in TILT and during our own failover.
 */
import type { Sentinel } from './sentinel.ts';
import { Instance, HELLO_CHANNEL, PUBLISH_PERIOD_MS } from './state.ts';
import type { Reply } from '../core/reply.ts';
import { sendCommand, releaseInstanceLinks } from './links.ts';
import { currentMasterAddress, resetMasterAndChangeAddress } from './failover.ts';

export function helloPayload(s: Sentinel, inst: Instance): string {
  const master = inst.kind === 'master' ? inst : inst.master!;
  const addr = currentMasterAddress(master);
  // announce_ip: the local address of the cc socket, i.e. our host name in the simulation.
  return `${s.name},${s.port},${s.myid},${s.currentEpoch},${master.name},${addr.host},${addr.port},${master.configEpoch}`;
}

/** sentinelSendHello(): PUBLISH over cc; last_pub_time moves only on a non-error reply. */
export function sendHello(s: Sentinel, inst: Instance): boolean {
  if (inst.link.disconnected) return false;
  return sendCommand(s, inst, 'cc', ['PUBLISH', HELLO_CHANNEL, helloPayload(s, inst)], (r) => {
    if (r.kind !== 'error') inst.lastPubTime = s.nowMs();
  });
}

/** sentinelForceHelloUpdateForMaster(): move every last_pub_time back so hellos leave on the next tick. */
export function forceHelloUpdate(master: Instance): void {
  const back = (i: Instance): void => {
    if (i.lastPubTime >= PUBLISH_PERIOD_MS + 1) i.lastPubTime -= PUBLISH_PERIOD_MS + 1;
  };
  back(master);
  for (const r of master.slaves.values()) back(r);
  for (const p of master.sentinels.values()) back(p);
}

/** sentinelReceiveHelloMessages(): a pub/sub message on a node's pc; our own hellos are dropped. */
export function receiveHelloMessage(s: Sentinel, _inst: Instance, r: Reply): void {
  if (r.kind !== 'array' || r.items === null || r.items.length !== 3) return;
  const [kind, , msg] = r.items;
  if (kind!.kind !== 'bulk' || kind!.value !== 'message' || msg!.kind !== 'bulk' || msg!.value === null) return;
  if (msg!.value.includes(s.myid)) return;
  processHelloMessage(s, msg!.value);
}

function findSentinel(master: Instance, host: string, port: number, runid: string | null): Instance | null {
  for (const p of master.sentinels.values()) {
    if (p.host === host && p.port === port && (runid === null || p.runid === runid)) return p;
  }
  return null;
}

export function processHelloMessage(s: Sentinel, payload: string): void {
  const t = payload.split(',');
  if (t.length !== 8) return;
  const master = s.masterByName(t[4]!);
  if (master === null) return;
  const [ip, portText, runid, epochText, , masterIp, masterPortText, configEpochText] = t as [string, string, string, string, string, string, string, string];
  const port = Number.parseInt(portText, 10) || 0;
  const masterPort = Number.parseInt(masterPortText, 10) || 0;
  const helloEpoch = Number.parseInt(epochText, 10) || 0;
  const helloConfigEpoch = Number.parseInt(configEpochText, 10) || 0;
  const now = s.nowMs();
  let si = findSentinel(master, ip, port, runid);
  if (si === null) {
    // removeMatchingSentinelFromMaster(): same runid at a new address.
    const old = master.sentinels.get(runid);
    let removed = false;
    if (old !== undefined) {
      releaseInstanceLinks(s, old);
      master.sentinels.delete(runid);
      removed = true;
      s.event('+sentinel-address-switch', master, `ip ${ip} port ${port} for ${runid}`, `sentinel ${runid.slice(0, 8)} now announces ${ip}:${port}`);
    } else {
      const other = findSentinel(master, ip, port, null);
      if (other !== null) {
        // Another runid at the same address (a restarted sentinel with a new id): invalidate the old entry.
        s.event('+sentinel-invalid-addr', other, '', `${ip}:${port} now answers with runid ${runid.slice(0, 8)}, so the entry for ${other.runid?.slice(0, 8)} is stale`);
        releaseInstanceLinks(s, other);
        other.port = 0;
      }
    }
    si = new Instance('sentinel', `${ip}:${port}`, ip, port, master, now);
    si.runid = runid;
    master.sentinels.set(runid, si);
    if (!removed) s.event('+sentinel', si, '', `${s.name} discovers sentinel ${ip} from its hello on the ${HELLO_CHANNEL} channel`);
    s.flushConfig();
  }
  if (helloEpoch > s.currentEpoch) {
    s.currentEpoch = helloEpoch;
    s.flushConfig();
    s.event('+new-epoch', null, String(helloEpoch), `a hello from ${ip} carries current epoch ${helloEpoch}, higher than ours`);
  }
  if (master.configEpoch < helloConfigEpoch) {
    master.configEpoch = helloConfigEpoch;
    // Bug zoo 'sentinel-hello-same-port' (#1394): the IP test inverted, so only a port change counts.
    const ipDiffers = s.bugs.has('sentinel-hello-same-port') ? masterIp === master.host : masterIp !== master.host;
    if (masterPort !== master.port || ipDiffers) {
      s.event('+config-update-from', si, '', `${ip} announces ${master.name} at ${masterIp}:${masterPort} with config epoch ${helloConfigEpoch}, newer than ours`);
      s.event('+switch-master', null, `${master.name} ${master.host} ${master.port} ${masterIp} ${masterPort}`,
        `the highest config epoch wins: ${s.name} now names ${masterIp} as the master of ${master.name}`);
      resetMasterAndChangeAddress(s, master, masterIp, masterPort);
    }
  }
  si.lastHelloTime = now;
}
