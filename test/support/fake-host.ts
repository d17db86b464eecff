/** A Host that records what the node does: the sans-I/O core tested with arrays . */
import type { Host, ConnId, ClientId, ChildId, ChildTarget } from '../../sim/core/host.ts';
import type { Reply } from '../../sim/core/reply.ts';
import type { TraceEvent } from '../../sim/trace/events.ts';
import { fileBytes, type FileContents } from '../../sim/core/rdb-image.ts';

export class FakeHost implements Host {
  nowUsValue = 0;
  sent: Array<{ conn: ConnId; bytes: Buffer }> = [];
  closedConns: ConnId[] = [];
  connects: Array<{ host: string; port: number; conn: ConnId }> = [];
  forks: Array<{ id: ChildId; target: ChildTarget; sizeBytes: number }> = [];
  replies: Array<{ client: ClientId; reply: Reply }> = [];
  files = new Map<string, Uint8Array>();
  events: TraceEvent[] = [];
  private hexCounter = 0;
  private nextConn = 1000;
  readonly tracing = true;

  nowUs(): number { return this.nowUsValue; }
  unixMs(): number { return Date.UTC(2026, 0, 1) + Math.floor(this.nowUsValue / 1000); }
  randomHex(chars: number): string {
    this.hexCounter++;
    return this.hexCounter.toString(16).padStart(chars, 'a').slice(-chars);
  }
  connect(host: string, port: number): ConnId {
    const conn = this.nextConn++;
    this.connects.push({ host, port, conn });
    return conn;
  }
  send(conn: ConnId, bytes: Uint8Array): void { this.sent.push({ conn, bytes: Buffer.from(bytes) }); }
  close(conn: ConnId): void { this.closedConns.push(conn); }
  fork(target: ChildTarget, sizeBytes: number): ChildId {
    const id = this.forks.length + 1;
    this.forks.push({ id, target, sizeBytes });
    return id;
  }
  killChild(): void {}
  /** An RdbImage is produced at once: tests read `files` directly. */
  writeFile(name: string, contents: FileContents): void { this.files.set(name, fileBytes(contents)); }
  appendFile(name: string, bytes: Uint8Array): void {
    const old = this.files.get(name);
    this.files.set(name, old ? Buffer.concat([old, bytes]) : bytes);
  }
  fsyncFile(): void {}
  readFile(name: string): Uint8Array | null { return this.files.get(name) ?? null; }
  reply(client: ClientId, reply: Reply): void { this.replies.push({ client, reply }); }
  loads: Array<{ diskBytes: number; sizeBytes: number; keys: number }> = [];
  /** Records the load; the test calls node.loadingDone() when it wants the load to end. */
  startLoading(diskBytes: number, sizeBytes: number, keys: number): void { this.loads.push({ diskBytes, sizeBytes, keys }); }
  sleep(): void {}
  exit(): void {}
  trace(event: TraceEvent): void { this.events.push(event); }

  /** Everything sent on conn so far, as one latin1 string. */
  sentOn(conn: ConnId): string {
    return Buffer.concat(this.sent.filter((s) => s.conn === conn).map((s) => s.bytes)).toString('latin1');
  }
}
