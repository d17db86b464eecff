/**
 * Finding a master through the sentinels, as Redis's guidelines for sentinel clients describe
 * (the client side of sentinel.c sentinelCommand `get-master-addr-by-name`):
 *   1. try the sentinels in turn (the client's list, in the scenario's order at first): connect
 *      to SENTINEL:26379 with a short timeout (the client's `timeout`); a refused connect, a
 *      timeout, a closed connection, an error or a null reply (that sentinel does not know the
 *      master) moves on to the next one;
 *   2. ask `SENTINEL get-master-addr-by-name NAME`; the first sentinel that answers with an
 *      address goes to the head of the list, so the next resolution asks it first;
 *   3. (client.ts) connect to that address and check with `ROLE` that it is a master.
 * If every sentinel fails, resolution fails with what each one did. The client resolves again
 * before every new connection (after a timeout, a closed connection, -READONLY, a failed ROLE
 * check): that is what makes the sentinels' `CLIENT KILL TYPE normal` during a failover send it
 * to the new master, and why a client whose connection to a demoted-to-be master never breaks
 * keeps writing there.
 * Simplification: one short-lived connection per question (real clients may keep one open);
 * pub/sub `+switch-master` events are not listened to (the guidelines make them optional).
 */
import { assert } from '../assert.ts';
import type { SocketId } from '../net/network.ts';
import { ReplyParser, RespProtocolError, encodeCommand, formatReply } from '../core/resp.ts';
import type { Reply } from '../core/reply.ts';

export const SENTINEL_PORT = 26379;

/** What the resolver needs from its client (client.ts wraps the world: pause, crash epochs). */
export interface ResolverHost {
  readonly name: string;
  readonly timeoutUs: number;
  connect(to: string, port: number): SocketId;
  send(sock: SocketId, bytes: Uint8Array): void;
  close(sock: SocketId): void;
  abort(sock: SocketId): void;
  /** A timer that does nothing if the client crashed meanwhile; returns a cancel. */
  after(delayUs: number, f: () => void): () => void;
  readonly tracing: boolean;
  note(text: string): void;
}

/** The answer: the node and port the sentinel named, or null and why. */
export type ResolveDone = (answer: { readonly node: string; readonly port: number; readonly via: string } | null, why: string) => void;

interface Attempt {
  readonly master: string;
  readonly order: readonly string[];
  i: number;
  sock: SocketId | null;
  open: boolean;
  parser: ReplyParser;
  cancel: (() => void) | null;
  readonly failures: string[];
  readonly done: ResolveDone;
}

export class SentinelResolver {
  /** The sentinels in the order to ask them; the last one that answered first. */
  private order: string[];
  private attempt: Attempt | null = null;

  constructor(private readonly host: ResolverHost, sentinels: readonly string[]) {
    this.order = [...sentinels];
  }

  get sentinels(): readonly string[] {
    return this.order;
  }

  /** Ask the sentinels where `master` is. One resolution at a time (the client has one write in flight). */
  resolve(master: string, done: ResolveDone): void {
    assert(this.attempt === null, `${this.host.name}: resolution already under way`);
    if (this.order.length === 0) {
      done(null, 'no sentinels to ask');
      return;
    }
    this.attempt = { master, order: [...this.order], i: -1, sock: null, open: false, parser: new ReplyParser(), cancel: null, failures: [], done };
    this.next(null);
  }

  /** Whether `sock` is one of ours (the client forwards socket events here first). */
  owns(sock: SocketId): boolean {
    return this.attempt !== null && this.attempt.sock === sock;
  }

  /** The client crashed or stopped: forget the attempt (its sockets died with the host). */
  reset(): void {
    const a = this.attempt;
    if (a === null) return;
    a.cancel?.();
    this.attempt = null;
  }

  // --- One sentinel after another -------------------------------------------------------------

  /** Give up on the current sentinel (with `failure`) and ask the next one. */
  private next(failure: string | null): void {
    const a = this.attempt!;
    if (failure !== null) {
      const s = a.order[a.i]!;
      a.failures.push(`${s}: ${failure}`);
      if (this.host.tracing) this.host.note(`sentinel ${s}: ${failure}`);
    }
    a.cancel?.();
    a.cancel = null;
    if (a.sock !== null) {
      if (a.open) this.host.close(a.sock);
      else this.host.abort(a.sock);
      a.sock = null;
    }
    a.i++;
    if (a.i >= a.order.length) {
      this.attempt = null;
      a.done(null, `no sentinel gave an address for ${a.master} (${a.failures.join('; ')})`);
      return;
    }
    const s = a.order[a.i]!;
    if (this.host.tracing) this.host.note(`asking sentinel ${s}:${SENTINEL_PORT}: SENTINEL get-master-addr-by-name ${a.master}`);
    a.open = false;
    a.parser = new ReplyParser();
    a.sock = this.host.connect(s, SENTINEL_PORT);
    const sock = a.sock;
    a.cancel = this.host.after(this.host.timeoutUs, () => {
      if (this.attempt === a && a.sock === sock) this.next(`no answer within ${this.host.timeoutUs / 1000}ms`);
    });
  }

  connected(sock: SocketId): void {
    const a = this.attempt;
    if (a === null || a.sock !== sock) return;
    a.open = true;
    this.host.send(sock, encodeCommand(['SENTINEL', 'get-master-addr-by-name', a.master]));
  }

  connectFailed(sock: SocketId): void {
    const a = this.attempt;
    if (a === null || a.sock !== sock) return;
    a.open = true; // Refused: nothing to abort, just close our end.
    this.next('connection refused');
  }

  closed(sock: SocketId, reason: 'eof' | 'reset'): void {
    const a = this.attempt;
    if (a === null || a.sock !== sock) return;
    this.next(`connection ${reason === 'eof' ? 'closed' : 'reset'} before it answered`);
  }

  data(sock: SocketId, bytes: Uint8Array): void {
    const a = this.attempt;
    if (a === null || a.sock !== sock) return;
    a.parser.feed(bytes);
    let r: Reply | null;
    try {
      r = a.parser.next();
    } catch (e) {
      if (!(e instanceof RespProtocolError)) throw e;
      this.next(`protocol error: ${e.message}`);
      return;
    }
    if (r === null) return;
    this.answer(a, r);
  }

  private answer(a: Attempt, r: Reply): void {
    const s = a.order[a.i]!;
    if (r.kind === 'array' && r.items !== null && r.items.length === 2) {
      const [h, p] = r.items;
      const port = p !== undefined && p.kind === 'bulk' && p.value !== null ? Number(p.value) : NaN;
      if (h !== undefined && h.kind === 'bulk' && h.value !== null && Number.isSafeInteger(port)) {
        const node = h.value;
        a.cancel?.();
        a.cancel = null;
        this.host.close(a.sock!);
        this.attempt = null;
        // The guidelines: the sentinel that answered goes to the head of the list.
        this.order = [s, ...this.order.filter((x) => x !== s)];
        if (this.host.tracing) this.host.note(`sentinel ${s} says ${a.master} is at ${node}:${port}`);
        a.done({ node, port, via: s }, '');
        return;
      }
    }
    if (r.kind === 'array' && r.items === null) this.next(`does not know ${a.master} (null reply)`);
    else if (r.kind === 'error') this.next(r.text);
    else this.next(`unexpected reply ${formatReply(r)}`);
  }
}
