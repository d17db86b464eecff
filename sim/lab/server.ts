/**
 * `psync-sim lab`'s web server: node:http on 127.0.0.1, serving only its own files — the page,
 * its script and the simulator's Web Worker (sim/lab/bundle.ts), uPlot, and the lessons (scenarios/lessons*,
 * read-only). Everything else is 404; a path that tries to leave those folders (`..`, encoded
 * or not, a backslash, a NUL) is 400. The simulation runs in the browser, not here.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { labBundle } from './bundle.ts';
import { labPage } from './page.ts';

/** The lesson folders the page may read (two levels above sim/lab/ and dist/lab/). */
const LESSON_DIRS = ['lessons', 'lessons-sentinel'] as const;
const SCENARIOS_ROOT = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const require = createRequire(import.meta.url);

export interface Lesson {
  /** The URL path, `/scenarios/lessons/04-partial-resync.scn`. */
  readonly path: string;
  readonly title: string;
}

/** The lessons that ship with this checkout or package (package.json's `files` has them), in reading order. */
export function listLessons(): Lesson[] {
  const out: Lesson[] = [];
  for (const dir of LESSON_DIRS) {
    const abs = join(SCENARIOS_ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).filter((f) => f.endsWith('.scn')).sort()) {
      const text = readFileSync(join(abs, f), 'latin1');
      const title = /^title\s+(.*)$/m.exec(text)?.[1]?.trim() ?? f;
      out.push({ path: `/scenarios/${dir}/${f}`, title: `${dir}/${f.replace(/\.scn$/, '')} — ${title}` });
    }
  }
  return out;
}

/**
 * What a request path names: a fixed route, or a lesson file by folder and name. Null for
 * anything else; 'bad' for a path that is not a plain one (traversal, encoded separators).
 */
export function route(rawPath: string): { kind: 'page' | 'bundle' | 'worker' | 'uplot-js' | 'uplot-css' | 'lessons' } | { kind: 'lesson'; dir: string; name: string } | 'bad' | null {
  const path = rawPath.split('?')[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'bad';
  }
  if (decoded.includes('..') || decoded.includes('\\') || decoded.includes('\0') || decoded.includes('//')) return 'bad';
  switch (decoded) {
    case '/': case '/index.html': return { kind: 'page' };
    case '/lab.js': return { kind: 'bundle' };
    case '/lab-worker.js': return { kind: 'worker' };
    case '/uplot.js': return { kind: 'uplot-js' };
    case '/uplot.css': return { kind: 'uplot-css' };
    case '/lessons.json': return { kind: 'lessons' };
  }
  const m = /^\/scenarios\/([a-z-]+)\/([A-Za-z0-9_.-]+\.scn)$/.exec(decoded);
  if (m !== null && (LESSON_DIRS as readonly string[]).includes(m[1]!)) return { kind: 'lesson', dir: m[1]!, name: m[2]! };
  return null;
}

/** Headers for every answer: nothing may be fetched from elsewhere, nothing framed or sniffed. */
const HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; worker-src 'self'; img-src 'self' data:",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
} as const;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  const r = route(req.url ?? '/');
  if (r === 'bad') return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
  if (r === null) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  switch (r.kind) {
    case 'page':
      return send(res, 200, 'text/html; charset=utf-8', labPage());
    case 'bundle':
      return send(res, 200, 'text/javascript; charset=utf-8', (await labBundle()).client);
    case 'worker':
      return send(res, 200, 'text/javascript; charset=utf-8', (await labBundle()).worker);
    case 'uplot-js':
      return send(res, 200, 'text/javascript; charset=utf-8', readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js')));
    case 'uplot-css':
      return send(res, 200, 'text/css; charset=utf-8', readFileSync(require.resolve('uplot/dist/uPlot.min.css')));
    case 'lessons':
      return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(listLessons()));
    case 'lesson': {
      const file = join(SCENARIOS_ROOT, r.dir, r.name);
      if (!existsSync(file)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      // Scenario files are latin1 (binary strings); sent as such, read back as such by the page.
      return send(res, 200, 'text/plain; charset=iso-8859-1', readFileSync(file));
    }
  }
}

export interface LabServer {
  readonly server: Server;
  readonly url: string;
  close(): Promise<void>;
}

/** Listen on host:port (port 0: any free port). The bundle is built before this resolves. */
export async function startLabServer(o: { port: number; host: string }): Promise<LabServer> {
  await labBundle();
  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `psync-sim lab: ${e instanceof Error ? e.message : String(e)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
