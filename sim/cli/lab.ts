/**
 * `psync-sim lab [--port N] [--host H]`: serve the lab page (sim/lab/) on 127.0.0.1 until
 * Ctrl-C. The simulator runs in the browser; this process only serves files.
 */
import { UsageError, onInterrupt } from './exit.ts';

export interface LabOptions {
  readonly port: number;
  readonly host: string;
}

export async function labCommand(o: LabOptions): Promise<void> {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UsageError(`--port ${Number.isNaN(o.port) ? '' : o.port + ' '}: a port number 0..65535 (0: any free port)`.replace(' :', ':'));
  const { startLabServer } = await import('../lab/server.ts');
  let lab;
  try {
    lab = await startLabServer(o);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw new UsageError(`--port ${o.port}: already in use on ${o.host} (try --port 0)`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EACCES') throw new UsageError(`--host ${o.host} --port ${o.port}: cannot listen there (${err.code})`);
    throw e;
  }
  process.stdout.write(`psync-sim lab: ${lab.url}  (Ctrl-C stops it)\n`);
  const stop = (): void => {
    void lab.close().then(() => {
      process.stdout.write('psync-sim lab: stopped\n');
      process.exit(0);
    });
  };
  onInterrupt(stop);
  process.once('SIGTERM', stop);
  // The server keeps the process alive until stop() exits it.
  await new Promise<void>(() => {});
}
