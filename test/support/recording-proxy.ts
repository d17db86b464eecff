/**
 * A recording TCP proxy in front of a real redis-server, for the differential tests: every byte
 * is forwarded both ways unchanged, and the client-to-server direction is also parsed as RESP
 * requests and kept per connection, so a test can read the exact commands a node received, in
 * order, with their arguments (admin commands included, which MONITOR does not show).
 *
 * Theory of operation. Only the client-to-server direction is parsed: the other one carries
 * replies and, on a replication link, the RDB payload, which is not RESP. A connection's name is
 * the last `CLIENT SETNAME` it sent (a sentinel names its links `sentinel-<id8>-cmd|pubsub`).
 * `down()` behaves like a crashed process: the listener closes (new connections are refused) and
 * every open connection is destroyed; `up(port)` listens again on the same port, in front of a
 * (possibly new) backend. This is test code: wall-clock time is fine.
 */
import * as net from 'node:net';
import { parseReplyAt } from './real-redis.ts';

/** One request a client sent through the proxy. */
export interface ProxiedCommand {
  readonly conn: number;
  /** The connection's CLIENT SETNAME name when the command was sent ('' if none yet). */
  readonly clientName: string;
  readonly argv: string[];
}

export class RecordingProxy {
  readonly received: ProxiedCommand[] = [];
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private nextConn = 1;

  private constructor(readonly port: number, private backendPort: number) {}

  /** Listen on `port` (a free one, test/support/real-redis.ts freePort) in front of 127.0.0.1:`backendPort`. */
  static async start(port: number, backendPort: number): Promise<RecordingProxy> {
    const p = new RecordingProxy(port, backendPort);
    await p.up(backendPort);
    return p;
  }

  async up(backendPort: number): Promise<void> {
    this.backendPort = backendPort;
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Like a crash of the node behind it: refuse new connections, reset the open ones. */
  down(): void {
    this.server?.close();
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  stop(): void {
    this.down();
  }

  private accept(client: net.Socket): void {
    const conn = this.nextConn++;
    const backend = net.connect(this.backendPort, '127.0.0.1');
    client.setNoDelay(true);
    backend.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(backend);
    let name = '';
    let buf: Buffer = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      backend.write(d);
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      let at = 0;
      while (at < buf.length) {
        // Every client here (hiredis in a sentinel, a replica, our RespClient) sends multibulk
        // requests; anything else (an inline command) is skipped up to its newline.
        if (buf[at] !== 0x2a) {
          const nl = buf.indexOf(0x0a, at);
          if (nl < 0) break;
          at = nl + 1;
          continue;
        }
        const r = parseReplyAt(buf, at);
        if (r === null) break;
        at = r[1];
        const m = r[0];
        if (m.kind !== 'array' || m.items === null) continue;
        const argv = m.items.map((x) => (x.kind === 'bulk' ? x.value ?? '' : ''));
        if (argv.length === 3 && argv[0]!.toUpperCase() === 'CLIENT' && argv[1]!.toUpperCase() === 'SETNAME') name = argv[2]!;
        this.received.push({ conn, clientName: name, argv });
      }
      buf = buf.subarray(at);
    });
    backend.on('data', (d: Buffer) => client.write(d));
    const close = (): void => {
      client.destroy();
      backend.destroy();
      this.sockets.delete(client);
      this.sockets.delete(backend);
    };
    client.on('close', close);
    backend.on('close', close);
    client.on('error', () => {});
    backend.on('error', () => {});
  }
}
