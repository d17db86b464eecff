/**
 * The sentinel's links to instances as real simulated TCP connections (instanceLink in
 * sentinel.c): a command connection `cc` to every node and sentinel, and a pub/sub connection
 * `pc` to every node, each with hiredis's in-order reply callbacks.
 *
 * As with hiredis's async contexts, a connection counts as existing from the moment the connect
 * starts: commands are buffered and leave once it completes, so `disconnected` clears at once
 * (sentinelReconnectInstance) and a peer that never answers is caught by the PING clock, not by
 * the connect. A refused or reset connection, or one we close, sets `disconnected` again; the
 * next attempt waits at least one ping period (1 s).
 */
import type { Sentinel } from './sentinel.ts';
import type { ConnId } from './host.ts';
import { Instance, LinkConn, PING_PERIOD_MS, HELLO_CHANNEL } from './state.ts';
import type { Reply } from '../core/reply.ts';
import { encodeCommand, RespProtocolError } from '../core/resp.ts';
import { receiveHelloMessage } from './hello.ts';

/** redisAsyncCommand(): queue a command on one connection; false when there is none. */
export function sendCommand(s: Sentinel, inst: Instance, kind: 'cc' | 'pc', argv: readonly string[], cb: ((r: Reply) => void) | null): boolean {
  const conn = inst.link[kind];
  if (conn === null) return false;
  conn.callbacks.push(cb);
  conn.pendingOut.push(encodeCommand(argv));
  if (conn.connected) s.pendingWrite.add(conn.sock);
  if (kind === 'cc') inst.link.pendingCommands++;
  return true;
}

/** beforeSleep: write what a connection has queued, once it is connected. */
export function flushConn(s: Sentinel, sock: ConnId): void {
  const entry = s.socks.get(sock);
  if (entry === undefined) return;
  const conn = entry.inst.link[entry.kind];
  if (conn === null || conn.sock !== sock || !conn.connected || conn.pendingOut.length === 0) return;
  const out = conn.pendingOut.length === 1 ? conn.pendingOut[0]! : Buffer.concat(conn.pendingOut);
  conn.pendingOut = [];
  s.host.send(sock, out);
}

function open(s: Sentinel, inst: Instance, kind: 'cc' | 'pc'): LinkConn {
  const sock = s.host.connect(inst.host, inst.port);
  const conn = new LinkConn(sock, kind);
  s.socks.set(sock, { inst, kind });
  inst.link[kind] = conn;
  return conn;
}

/** sentinelReconnectInstance(): at most one attempt per ping period; CLIENT SETNAME, a PING at once, SUBSCRIBE on pc. */
export function reconnectInstance(s: Sentinel, inst: Instance): void {
  const link = inst.link;
  if (!link.disconnected || inst.port === 0) return;
  const now = s.nowMs();
  if (now - link.lastReconnTime < PING_PERIOD_MS) return;
  link.lastReconnTime = now;
  const idPrefix = s.myid.slice(0, 8);
  if (link.cc === null) {
    open(s, inst, 'cc');
    link.pendingCommands = 0;
    link.ccConnTime = now;
    sendCommand(s, inst, 'cc', ['CLIENT', 'SETNAME', `sentinel-${idPrefix}-cmd`], null);
    sendPing(s, inst);
  }
  if (inst.kind !== 'sentinel' && link.pc === null) {
    open(s, inst, 'pc');
    link.pcConnTime = now;
    sendCommand(s, inst, 'pc', ['CLIENT', 'SETNAME', `sentinel-${idPrefix}-pubsub`], null);
    sendCommand(s, inst, 'pc', ['SUBSCRIBE', HELLO_CHANNEL], (r) => receiveHelloMessage(s, inst, r));
    link.pc!.subscribed = true;
  }
  if (link.cc !== null && (inst.kind === 'sentinel' || link.pc !== null)) link.disconnected = false;
}

/** sentinelSendPing(): a PING on cc; act_ping_time starts the down clock if none is running. */
export function sendPing(s: Sentinel, inst: Instance): boolean {
  const ok = sendCommand(s, inst, 'cc', ['PING'], (r) => pingReply(s, inst, r));
  if (ok) {
    const link = inst.link;
    link.lastPingTime = s.nowMs();
    if (link.actPingTime === 0) link.actPingTime = link.lastPingTime;
  }
  return ok;
}

/** sentinelPingReplyCallback(): only PONG, LOADING and MASTERDOWN count as "available". */
function pingReply(s: Sentinel, inst: Instance, r: Reply): void {
  const link = inst.link;
  if (r.kind === 'status' || r.kind === 'error') {
    const t = r.text;
    if (t.startsWith('PONG') || t.startsWith('LOADING') || t.startsWith('MASTERDOWN')) {
      link.lastAvailTime = s.nowMs();
      link.actPingTime = 0;
    }
  }
  link.lastPongTime = s.nowMs();
}

/** instanceLinkCloseConnection(): our side closes one connection; the link is disconnected. */
export function closeLinkConn(s: Sentinel, inst: Instance, kind: 'cc' | 'pc'): void {
  const conn = inst.link[kind];
  if (conn === null) return;
  s.socks.delete(conn.sock);
  s.pendingWrite.delete(conn.sock);
  s.host.close(conn.sock);
  forget(inst, kind);
}

function forget(inst: Instance, kind: 'cc' | 'pc'): void {
  inst.link[kind] = null;
  if (kind === 'cc') inst.link.pendingCommands = 0;
  inst.link.disconnected = true;
}

/** Close both connections of an instance that is being dropped (releaseInstance). */
export function releaseInstanceLinks(s: Sentinel, inst: Instance): void {
  closeLinkConn(s, inst, 'cc');
  closeLinkConn(s, inst, 'pc');
}

export function connConnected(s: Sentinel, sock: ConnId): void {
  const entry = s.socks.get(sock);
  if (entry === undefined) return;
  const conn = entry.inst.link[entry.kind];
  if (conn === null || conn.sock !== sock) return;
  conn.connected = true;
  s.pendingWrite.add(sock);
}

/** The peer refused, reset or closed: the callbacks are dropped (hiredis calls them with NULL). */
export function connLost(s: Sentinel, sock: ConnId, _why: string, _ours: boolean): void {
  const entry = s.socks.get(sock);
  if (entry === undefined) return;
  s.socks.delete(sock);
  s.pendingWrite.delete(sock);
  const conn = entry.inst.link[entry.kind];
  if (conn !== null && conn.sock === sock) forget(entry.inst, entry.kind);
}

export function connReceived(s: Sentinel, sock: ConnId, bytes: Uint8Array): void {
  const entry = s.socks.get(sock);
  if (entry === undefined) return;
  const { inst, kind } = entry;
  const conn = inst.link[kind];
  if (conn === null || conn.sock !== sock) return;
  conn.parser.feed(bytes);
  for (;;) {
    let r: Reply | null;
    try {
      r = conn.parser.next();
    } catch (e) {
      if (!(e instanceof RespProtocolError)) throw e;
      closeLinkConn(s, inst, kind);
      return;
    }
    if (r === null) return;
    if (kind === 'pc') inst.link.pcLastActivity = s.nowMs();
    // On pc, after SUBSCRIBE every message goes to the subscription's callback (hiredis keeps it).
    const cb = conn.callbacks.length > 1 || !conn.subscribed || kind === 'cc' ? conn.callbacks.shift() : conn.callbacks[0];
    if (kind === 'cc' && inst.link.pendingCommands > 0) inst.link.pendingCommands--;
    if (cb !== undefined && cb !== null) cb(r);
    if (inst.link[kind] !== conn) return; // The callback closed or replaced the link.
  }
}
