/**
 * How the `--html` page carries its data: two gzipped blocks in base64, inside
 * `<script type="application/octet-stream">` elements (no `<` can end one).
 *
 * - The first block holds what the first paint needs (the lanes, the events, every node's states,
 *   the arrows, the fault spans). Its bulk is numbers — about 700,000 for a 100k-event run — so
 *   they travel as binary arrays, not JSON: the page views them in place (an Int32Array or a
 *   Float64Array over the inflated bytes) instead of parsing text into objects. Layout: a uint32
 *   (little-endian) byte length, the JSON of everything else (each big array replaced by its
 *   index in `bin`), then each array, 8-byte aligned.
 * - The second block is JSON: the story and the PSYNC cards, which are below the fold. The page
 *   inflates it after its first paint (a 100k-event run's story and cards are 4.8 MB of JSON).
 *
 * decodePageBlock runs in the page: html.ts inlines its source (`toString()`), so it uses
 * nothing but the platform (DataView, TextDecoder, typed arrays). Typed arrays are in the host's
 * byte order, little-endian on every machine Node and Chromium run on.
 */
import type { PageData } from './html.ts';

/** What the page paints first: everything but the story and the cards. */
export type PageFirst = Omit<PageData, 'story' | 'cards'>;
/** What it shows after (below the fold). */
export type PageLater = Pick<PageData, 'story' | 'cards'>;

/** A JSON skeleton: the first block with its arrays as indexes into `bin` ([type, length] each). */
interface Skeleton {
  bin: Array<['i32' | 'f64', number]>;
  events: { rows: number };
  arrows: { rows: number };
  states: { strings: readonly string[]; rows: Record<string, number> };
}

function fitsInt32(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if ((v | 0) !== v) return false;
  }
  return true;
}

export function encodePageBlock(first: PageFirst): Buffer {
  const arrays: Array<Int32Array | Float64Array> = [];
  const ref = (a: ArrayLike<number>): number => {
    arrays.push(fitsInt32(a) ? Int32Array.from(a) : Float64Array.from(a));
    return arrays.length - 1;
  };
  const rows: Record<string, number> = {};
  for (const [node, r] of Object.entries(first.states.rows)) rows[node] = ref(r);
  const skeleton = {
    ...first,
    events: { ...first.events, rows: ref(first.events.rows) },
    arrows: { ...first.arrows, rows: ref(first.arrows.rows) },
    states: { strings: first.states.strings, rows },
    bin: arrays.map((a) => [a instanceof Int32Array ? 'i32' : 'f64', a.length]),
  };
  const json = Buffer.from(JSON.stringify(skeleton), 'utf8');
  const pad = (n: number): number => (n + 7) & ~7;
  let size = pad(4 + json.length);
  for (const a of arrays) size += pad(a.byteLength);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let at = pad(4 + json.length);
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, at);
    at += pad(a.byteLength);
  }
  return out;
}

/** The page's inverse of encodePageBlock (also run by the tests, in Node). */
export function decodePageBlock(buf: ArrayBuffer): PageFirst {
  const len = new DataView(buf).getUint32(0, true);
  const sk = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, len))) as Skeleton;
  let at = (4 + len + 7) & ~7;
  const arrays = sk.bin.map(([type, n]) => {
    const a = type === 'i32' ? new Int32Array(buf, at, n) : new Float64Array(buf, at, n);
    at += (a.byteLength + 7) & ~7;
    return a;
  });
  const rows: Record<string, Int32Array | Float64Array> = {};
  for (const node of Object.keys(sk.states.rows)) rows[node] = arrays[sk.states.rows[node]!]!;
  const first = sk as unknown as Record<string, unknown>;
  delete first.bin;
  return {
    ...(first as unknown as PageFirst),
    events: { ...(first.events as PageFirst['events']), rows: arrays[sk.events.rows]! },
    arrows: { ...(first.arrows as PageFirst['arrows']), rows: arrays[sk.arrows.rows]! },
    states: { strings: sk.states.strings, rows },
  };
}
