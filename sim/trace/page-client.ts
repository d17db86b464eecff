/**
 * The script of the `--html` page, run in the browser. sim/trace/html.ts inlines this function's
 * source (`pageMain.toString()`), so it must be self-contained: no imports at run time, no
 * closures over this module, only the DOM, the global uPlot, and the data it is given.
 *
 * Every string from the scenario or the trace goes into the DOM as text (textContent, or SVG
 * text nodes), never as HTML. The page exposes `window.psyncSim` for tests: set the cursor,
 * read what the state panel shows, count what the diagram drew.
 *
 * First paint. A 100k-event run has 104,000 events, 44,000 state samples and 33,000 arrows; the
 * page keeps them in the typed arrays it was given (html-block.ts) and builds an object only for
 * what it shows (the events list around the cursor, each node's state at it). The diagram is
 * drawn from the arrows in view (sorted by departure, found by binary search) into a cached
 * canvas; a cursor move copies it and draws the cursor over it. The offset chart (uPlot) gets
 * at most four points per pixel column per node (the first, lowest, highest and last offset in
 * it, so every step still shows), and is built, like the cards and the story, after the first
 * paint. Sizes are read once and then from a ResizeObserver, so that nothing forces a layout.
 */
import type { Arrow, Span, PsyncCard, PackedEvents } from './html.ts';
import type { PageFirst, PageLater } from './html-block.ts';
import type { NodeState } from './record.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const uPlot: any;

export interface PageOptions {
  /** The story and the cards when `data` has none: the run page inflates them after its first paint. */
  readonly later?: () => Promise<PageLater>;
  /** Build everything (the chart, the cards, the story) before returning: the lab redraws the page at every step. */
  readonly sync?: boolean;
}

/** Draw the page into #app; returns a function that cancels what is still scheduled (the lab redraws). */
export function pageMain(data: PageFirst & Partial<PageLater>, opts: PageOptions = {}): () => void {
  const LANE_H = 54;
  const ARROWS_PER_KIND = 1500;
  const SHOWN_MAX = 50;
  const TOP = 26;
  const AXIS = 26;
  const LEFT = 78;
  const RIGHT = 16;
  /** The events list: a fixed row height, so the list scrolls to the cursor without measuring. */
  const EVENT_ROW_H = 18;
  const EVENTS_H = 260;
  const CHART_H = 240;
  const COLORS: Record<Arrow['kind'], string> = {
    handshake: '#8d99a6', psync: '#6f42c1', fullresync: '#d9480f', continue: '#1a7f37', rdb: '#e8590c', stream: '#1971c2',
    ack: '#0c8599', getack: '#c2255c',
  };
  const SPAN_COLORS: Record<Span['kind'], string> = {
    partition: 'rgba(245, 159, 0, 0.20)', pause: 'rgba(120, 130, 140, 0.20)', sleep: 'rgba(120, 130, 140, 0.20)',
    crash: 'rgba(198, 40, 40, 0.16)', poweroff: 'rgba(198, 40, 40, 0.24)',
  };
  const SERIES = ['#1971c2', '#d9480f', '#1a7f37', '#6f42c1', '#c2255c', '#0c8599', '#5c940d', '#e67700'];

  const lanes = data.lanes;
  const laneIndex = new Map(lanes.map((n, i) => [n, i]));
  const endUs = Math.max(1, data.endUs);
  let disposed = false;

  // ------------------------------------------------------------------ the arrows, as columns
  const A = data.arrows;
  const nArrows = A.rows.length / 6;
  const aFrom = new Int32Array(nArrows);
  const aTo = new Int32Array(nArrows);
  const aFromUs = new Float64Array(nArrows);
  const aToUs = new Float64Array(nArrows);
  const aKind = new Uint8Array(nArrows);
  const aLabel = new Int32Array(nArrows);
  let maxArrowUs = 0;
  for (let i = 0, r = A.rows; i < nArrows; i++) {
    aFrom[i] = laneIndex.get(A.strings[r[6 * i]!]!) ?? 0;
    aFromUs[i] = r[6 * i + 1]!;
    aTo[i] = laneIndex.get(A.strings[r[6 * i + 2]!]!) ?? 0;
    aToUs[i] = r[6 * i + 3]!;
    aKind[i] = r[6 * i + 4]!;
    aLabel[i] = r[6 * i + 5]!;
    maxArrowUs = Math.max(maxArrowUs, aToUs[i]! - aFromUs[i]!);
  }
  function arrowText(i: number): string {
    return `${A.strings[A.rows[6 * i]!]} → ${A.strings[A.rows[6 * i + 2]!]}: ${A.strings[aLabel[i]!]}\n${fmtUs(aFromUs[i]!)} → ${fmtUs(aToUs[i]!)}`;
  }

  // ------------------------------------------------------------------ the events, as columns
  /** An event as the page lists it: html.ts packEvents, unpacked on demand. */
  interface PageEvent { readonly atUs: number; readonly seq: number; readonly node: string | null; readonly sentence: string; readonly check: PackedEvents['checks'][number] | null }
  const nEvents = data.events.rows.length / 4;
  const evAt = new Float64Array(nEvents);
  const evSeq = new Float64Array(nEvents);
  const evLane = new Int32Array(nEvents);
  const evSentence = new Int32Array(nEvents);
  const checkBySeq = new Map<number, PackedEvents['checks'][number]>();
  for (const c of data.events.checks) checkBySeq.set(c.seq, c);
  for (let i = 0, t = 0, q = 0, r = data.events.rows; i < nEvents; i++) {
    t += r[4 * i]!;
    q += r[4 * i + 1]!;
    evAt[i] = t;
    evSeq[i] = q;
    evLane[i] = r[4 * i + 2]!;
    evSentence[i] = r[4 * i + 3]!;
  }
  function eventAt(i: number): PageEvent {
    return { atUs: evAt[i]!, seq: evSeq[i]!, node: evLane[i]! < 0 ? null : lanes[evLane[i]!]!, sentence: data.events.sentences[evSentence[i]!]!, check: checkBySeq.get(evSeq[i]!) ?? null };
  }

  // ------------------------------------------------------------------ the states, read in place
  /** A node's packed rows (html.ts packStates) with where each row starts and its time, seq and offset. */
  interface StateColumns { readonly rows: ArrayLike<number>; readonly start: Int32Array; readonly at: Float64Array; readonly seq: Float64Array; readonly offset: Float64Array; readonly down: Uint8Array }
  const S = data.states.strings;
  const stateCols = new Map<string, StateColumns>();
  for (const node of Object.keys(data.states.rows)) {
    const r = data.states.rows[node]!;
    let n = 0;
    for (let i = 0; i < r.length; i += 15 + 3 * r[i + 14]!) n++;
    const c = { rows: r, start: new Int32Array(n), at: new Float64Array(n), seq: new Float64Array(n), offset: new Float64Array(n), down: new Uint8Array(n) };
    for (let i = 0, k = 0, t = 0, q = 0, o = 0; i < r.length; i += 15 + 3 * r[i + 14]!, k++) {
      t += r[i]!;
      q += r[i + 1]!;
      o += r[i + 9]!;
      c.start[k] = i;
      c.at[k] = t;
      c.seq[k] = q;
      c.offset[k] = o;
      const p = S[r[i + 2]!];
      c.down[k] = p === 'crashed' || p === 'poweroff' ? 1 : 0;
    }
    stateCols.set(node, c);
  }
  function stateRow(c: StateColumns, k: number): NodeState {
    const r = c.rows;
    const i = c.start[k]!;
    const replicas: Array<{ name: string; ackOffset: number; state: string }> = [];
    for (let m = 0, j = i + 15; m < r[i + 14]!; m++, j += 3) replicas.push({ name: S[r[j]!]!, ackOffset: r[j + 1]!, state: S[r[j + 2]!]! });
    return {
      atUs: c.at[k]!, seq: c.seq[k]!, process: S[r[i + 2]!]!, role: r[i + 3] === 1 ? 'replica' : 'master', master: r[i + 4] === -1 ? null : S[r[i + 4]!]!,
      link: r[i + 5] === 0 ? null : r[i + 5] === 1 ? 'up' : 'down', replState: S[r[i + 6]!]!, replid: S[r[i + 7]!]!, replid2: S[r[i + 8]!]!,
      offset: c.offset[k]!, secondOffset: r[i + 10]!, backlogFirst: r[i + 11]!, backlogHistlen: r[i + 12]!, keys: r[i + 13]!, replicas,
    } as NodeState;
  }
  /** The index of the last value <= x in a sorted column, or -1. */
  function lastAtOrBefore(col: ArrayLike<number>, x: number, n = col.length): number {
    let lo = 0;
    let hi = n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (col[mid]! <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  // ------------------------------------------------------------------ small DOM helpers
  function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmtUs(us: number): string {
    const s = Math.floor(us / 1e6);
    return `${s}.${String(us % 1e6).padStart(6, '0')}s`;
  }
  function short(id: string): string {
    return /^0+$/.test(id) ? '—' : id.slice(0, 8) + '…';
  }
  function num(n: number): string {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  }

  // ------------------------------------------------------------------ layout
  const app = document.getElementById('app')!;
  const header = el('header');
  header.appendChild(el('h1', '', data.title ?? data.file));
  const checks = data.events.checks;
  const failedChecks = checks.filter((c) => !c.ok).length;
  header.appendChild(el('div', 'meta', `${data.file} · seed ${data.seed} · ${fmtUs(data.endUs)} virtual · ${num(nEvents)} events · ` +
    `${checks.length - failedChecks} of ${checks.length} checks passed` +
    (data.streamEvents > 0 ? ` · ${num(data.streamEvents)} stream events, drawn as arrows in batches` : '')));
  app.appendChild(header);
  const main = el('main');
  app.appendChild(main);

  const controls = el('div', 'controls');
  const buttons: Record<string, HTMLButtonElement> = {};
  for (const [id, label, title] of [
    ['prev', '◀ event', 'previous event (←)'], ['play', '▶ play', 'play / pause (space)'], ['next', 'event ▶', 'next event (→)'],
    ['zin', '+', 'zoom in (wheel)'], ['zout', '−', 'zoom out'], ['fit', 'fit', 'show the whole run (double-click)'],
  ] as const) {
    const b = el('button', '', label);
    b.title = title;
    b.id = `btn-${id}`;
    buttons[id] = b;
    controls.appendChild(b);
  }
  const timeBox = el('span', '', '');
  timeBox.id = 'cursor-time';
  controls.appendChild(timeBox);
  main.appendChild(controls);

  const legend = el('div', 'legend');
  for (const k of Object.keys(COLORS) as Array<Arrow['kind']>) {
    // ACK and GETACK arrows exist only when the run traced the stream (--trace-level stream).
    if ((k === 'ack' || k === 'getack') && data.streamEvents === 0) continue;
    const item = el('span');
    const sw = el('i');
    sw.style.background = COLORS[k];
    item.appendChild(sw);
    item.appendChild(document.createTextNode(k === 'rdb' ? 'RDB transfer' : k === 'ack' ? 'REPLCONF ACK' : k === 'getack' ? 'REPLCONF GETACK' : k));
    legend.appendChild(item);
  }
  for (const [k, label] of [['partition', 'partition'], ['pause', 'paused'], ['crash', 'down']] as const) {
    const item = el('span');
    const sw = el('i');
    sw.style.background = SPAN_COLORS[k];
    sw.style.height = '10px';
    item.appendChild(sw);
    item.appendChild(document.createTextNode(label));
    legend.appendChild(item);
  }
  main.appendChild(legend);

  const wrap = el('div');
  wrap.id = 'diagram-wrap';
  const canvas = el('canvas');
  canvas.id = 'diagram';
  const tooltip = el('div');
  tooltip.id = 'tooltip';
  wrap.appendChild(canvas);
  wrap.appendChild(tooltip);
  main.appendChild(wrap);
  const details = el('div');
  details.id = 'details';
  main.appendChild(details);

  main.appendChild(el('h2', '', 'Every node at the cursor'));
  const statesBox = el('div', 'states');
  statesBox.id = 'states';
  main.appendChild(statesBox);

  main.appendChild(el('h2', '', 'master_repl_offset over time'));
  const chartBox = el('div');
  chartBox.id = 'chart';
  // Its size before uPlot fills it (after the first paint), so that nothing below moves then.
  chartBox.style.minHeight = `${CHART_H + 40}px`;
  main.appendChild(chartBox);

  const cardsTitle = el('h2', '', 'PSYNC decisions');
  main.appendChild(cardsTitle);
  const cardsBox = el('div', 'cards');
  cardsBox.id = 'cards';
  main.appendChild(cardsBox);

  main.appendChild(el('h2', '', 'The story'));
  const story = el('ol', 'story');
  main.appendChild(story);

  main.appendChild(el('h2', '', 'Events around the cursor'));
  const eventsBox = el('div');
  eventsBox.id = 'events';
  eventsBox.style.height = `${EVENTS_H}px`;
  main.appendChild(eventsBox);

  /**
   * Long lists (cards, the story) are put in the DOM SHOWN_MAX at a time, with a button for the
   * next batch: a 100k-event run has thousands of each, and laying them all out at once made
   * the first paint wait seconds for what is below the fold.
   */
  function showInBatches<T>(items: readonly T[], box: HTMLElement, make: (x: T) => HTMLElement, what: string): void {
    let shown = 0;
    const more = el('button', 'more');
    const next = (): void => {
      const end = Math.min(items.length, shown + SHOWN_MAX);
      for (; shown < end; shown++) box.appendChild(make(items[shown]!));
      if (shown < items.length) {
        more.textContent = `show ${Math.min(SHOWN_MAX, items.length - shown)} more of ${items.length - shown} ${what}`;
        box.after(more);
      } else more.remove();
    };
    more.addEventListener('click', next);
    next();
  }

  // ------------------------------------------------------------------ state lookup
  function stateOf(node: string): NodeState | null {
    const c = stateCols.get(node);
    if (c === undefined) return null;
    const k = cursor.seq !== null ? lastAtOrBefore(c.seq, cursor.seq) : lastAtOrBefore(c.at, cursor.us);
    return k < 0 ? null : stateRow(c, k);
  }
  /** Index of the first event with seq >= `seq` (events are in seq order), or -1. */
  function eventIndexOfSeq(seq: number): number {
    let lo = 0;
    let hi = nEvents;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (evSeq[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < nEvents ? lo : -1;
  }
  function eventIndexAt(us: number): number {
    return lastAtOrBefore(evAt, us);
  }

  // ------------------------------------------------------------------ view and cursor
  const view = { from: 0, to: endUs };
  const cursor: { us: number; seq: number | null } = { us: 0, seq: null };
  let hover: { x: number; y: number } | null = null;
  let targets: Array<{ hit: (x: number, y: number) => number; text: string; seq: number | null; us: number }> = [];
  const drawn = { arrows: {} as Record<string, number>, spans: 0, checks: 0, painted: 0 };
  /** The arrows drawn (index, ends in CSS pixels), for hover. */
  let arrowTargets: number[] = [];

  /** The diagram's width in CSS pixels: read once, then kept by a ResizeObserver (reading
   *  clientWidth after the state panel changed forced a layout of the page at every cursor move). */
  let wrapWidth = 0;
  let plotWidth = 1;
  function setWidth(w: number): void {
    wrapWidth = Math.max(1, Math.floor(w));
    plotWidth = Math.max(1, wrapWidth - LEFT - RIGHT);
  }
  function plotW(): number {
    return plotWidth;
  }
  function xOf(us: number): number {
    return LEFT + ((us - view.from) / (view.to - view.from)) * plotWidth;
  }
  function usOf(x: number): number {
    return Math.round(view.from + ((x - LEFT) / plotWidth) * (view.to - view.from));
  }
  function laneY(name: string): number {
    return laneYi(laneIndex.get(name) ?? 0);
  }
  function laneYi(i: number): number {
    return TOP + i * LANE_H + LANE_H / 2;
  }
  function clampView(): void {
    const span = Math.max(20, Math.min(endUs * 1.05, view.to - view.from));
    if (view.from < 0) view.from = 0;
    view.to = view.from + span;
    if (view.to > endUs * 1.02 + 10) {
      view.to = endUs * 1.02 + 10;
      view.from = Math.max(0, view.to - span);
    }
  }

  // ------------------------------------------------------------------ the space-time diagram
  function niceStep(spanUs: number, px: number): number {
    const raw = (spanUs / px) * 90;
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
    return 10 * pow;
  }
  function distToSegment(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
    const dx = x2 - x1;
    const dy = y2 - y1;
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2));
    return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
  }
  /** The first arrow that leaves at or after `us` (html.ts sorts them by departure). */
  function firstDeparting(us: number): number {
    let lo = 0;
    let hi = nArrows;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (aFromUs[mid]! < us) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Everything but the cursor, drawn when the view or the size changes, copied at each cursor move. */
  const layer = document.createElement('canvas');
  let layerKey = '';
  function diagramHeight(): number {
    return TOP + lanes.length * LANE_H + AXIS;
  }

  function draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = wrapWidth;
    const h = diagramHeight();
    const pw = Math.round(w * dpr);
    const ph = Math.round(h * dpr);
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
    }
    const key = `${pw} ${ph} ${view.from} ${view.to}`;
    if (key !== layerKey) {
      layerKey = key;
      if (layer.width !== pw || layer.height !== ph) {
        layer.width = pw;
        layer.height = ph;
      }
      drawLayer(layer.getContext('2d')!, dpr, w, h);
    }
    const g = canvas.getContext('2d')!;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, pw, ph);
    g.drawImage(layer, 0, 0);
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    // The cursor.
    const cx = xOf(cursor.us);
    if (cx >= LEFT - 1 && cx <= LEFT + plotW() + 1) {
      g.strokeStyle = '#e03131';
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(cx, 4);
      g.lineTo(cx, TOP + lanes.length * LANE_H);
      g.stroke();
      g.lineWidth = 1;
    }
    showTooltip();
  }

  function drawLayer(g: CanvasRenderingContext2D, dpr: number, w: number, h: number): void {
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = '12px system-ui, sans-serif';
    targets = [];
    arrowTargets = [];
    drawn.arrows = {};
    drawn.spans = 0;
    drawn.checks = 0;
    drawn.painted = 0;
    const bottom = TOP + lanes.length * LANE_H;

    // Time axis.
    const step = niceStep(view.to - view.from, plotW());
    g.strokeStyle = '#eceef0';
    g.fillStyle = '#6b7075';
    g.lineWidth = 1;
    for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      const x = xOf(t);
      g.beginPath();
      g.moveTo(x, TOP - 6);
      g.lineTo(x, bottom);
      g.stroke();
      g.fillText(step >= 1e6 ? `${t / 1e6}s` : step >= 1e3 ? `${(t / 1e3).toFixed(step >= 1e4 ? 0 : 1)}ms` : `${t}µs`, x + 2, bottom + 16);
    }

    // Fault spans, under everything else.
    for (const s of data.spans) {
      const to = s.toUs ?? endUs;
      if (to < view.from || s.fromUs > view.to) continue;
      const x1 = Math.max(LEFT, xOf(s.fromUs));
      const x2 = Math.min(LEFT + plotW(), xOf(to));
      g.fillStyle = SPAN_COLORS[s.kind];
      for (const n of s.nodes) {
        const y = laneY(n) - LANE_H / 2 + 3;
        g.fillRect(x1, y, Math.max(2, x2 - x1), LANE_H - 6);
        targets.push({ hit: (px, py) => (px >= x1 && px <= x2 && py >= y && py <= y + LANE_H - 6 ? 6 : Infinity), text: `${s.label}\n${fmtUs(s.fromUs)} → ${s.toUs === null ? 'the end' : fmtUs(s.toUs)}`, seq: null, us: s.fromUs });
      }
      drawn.spans++;
    }

    // Lanes.
    for (const name of lanes) {
      const y = laneY(name);
      g.strokeStyle = '#b8bec4';
      g.beginPath();
      g.moveTo(LEFT, y);
      g.lineTo(LEFT + plotW(), y);
      g.stroke();
      g.fillStyle = '#1d1f21';
      g.font = '600 13px system-ui, sans-serif';
      g.fillText(name, 10, y + 4);
      g.font = '12px system-ui, sans-serif';
    }

    // Event ticks on the lanes, when zoomed in enough to tell them apart.
    const i0 = Math.max(0, eventIndexAt(view.from));
    const i1 = eventIndexAt(view.to);
    if (i1 - i0 < 4000) {
      g.fillStyle = '#868e96';
      for (let i = i0; i <= i1; i++) {
        if (evLane[i]! < 0) continue;
        const x = xOf(evAt[i]!);
        const y = laneYi(evLane[i]!);
        g.fillRect(x - 0.5, y - 4, 1, 8);
        const k = i;
        targets.push({ hit: (px, py) => (Math.abs(px - x) < 3 && Math.abs(py - y) < 6 ? Math.abs(px - x) + 2 : Infinity), text: `${fmtUs(evAt[k]!)}  ${data.events.sentences[evSentence[k]!]}`, seq: evSeq[k]!, us: evAt[k]! });
      }
    }

    // Messages: only those in view (by departure, from the earliest that can still be in flight).
    // Arrows of a kind that land on the same pixels (both ends rounded, the same two lanes) are
    // drawn once (a long run has thousands per pixel column at full view); tooltips are built
    // on hover. Past ARROWS_PER_KIND in view, every k-th of a kind is drawn: at that density
    // the shape is what a reader sees, and zooming in brings every arrow back.
    const i0a = firstDeparting(view.from - maxArrowUs);
    const i1a = firstDeparting(view.to + 1);
    const kinds = A.kinds;
    const inView = new Int32Array(kinds.length);
    for (let i = i0a; i < i1a; i++) if (aToUs[i]! >= view.from) inView[aKind[i]!]!++;
    for (let k = 0; k < kinds.length; k++) if (inView[k]! > 0) drawn.arrows[kinds[k]!] = inView[k]!;
    const stride = Array.from(inView, (n) => Math.max(1, Math.ceil(n / ARROWS_PER_KIND)));
    const seen = new Int32Array(kinds.length);
    const onPixels = kinds.map(() => new Set<number>());
    const px = (x: number): number => Math.max(0, Math.min(200000, Math.round(x) + 100000));
    // The arrows to draw, by kind, so that each kind's style is set once. Each arrow is its own
    // stroke: one path holding all of a kind's arrows is several times slower to stroke.
    const ends: number[][] = kinds.map(() => []);
    for (let i = i0a; i < i1a; i++) {
      if (aToUs[i]! < view.from) continue;
      const kind = aKind[i]!;
      if (++seen[kind]! % stride[kind]! !== 0) continue;
      const x1 = xOf(aFromUs[i]!);
      const x2 = xOf(aToUs[i]!);
      // 18 bits per end, 8 per lane: exact below 2^53.
      const key = ((px(x1) * 262144 + px(x2)) * 256 + (aFrom[i]! & 255)) * 256 + (aTo[i]! & 255);
      if (onPixels[kind]!.has(key)) continue;
      onPixels[kind]!.add(key);
      const y1 = laneYi(aFrom[i]!);
      const y2 = laneYi(aTo[i]!);
      ends[kind]!.push(x1, y1, x2, y2);
      drawn.painted++;
      arrowTargets.push(i, x1, y1, x2, y2);
    }
    kinds.forEach((k, kind) => {
      const e = ends[kind]!;
      if (e.length === 0) return;
      g.strokeStyle = COLORS[k];
      g.fillStyle = COLORS[k];
      g.globalAlpha = k === 'stream' ? 0.45 : k === 'rdb' ? 0.35 : 0.95;
      g.lineWidth = k === 'rdb' ? 7 : k === 'stream' || k === 'ack' || k === 'getack' ? 1 : 1.6;
      const head = k !== 'stream' && k !== 'rdb';
      for (let j = 0; j < e.length; j += 4) {
        const x1 = e[j]!;
        const y1 = e[j + 1]!;
        const x2 = e[j + 2]!;
        const y2 = e[j + 3]!;
        g.beginPath();
        g.moveTo(x1, y1);
        g.lineTo(x2, y2);
        g.stroke();
        if (head) {
          const ang = Math.atan2(y2 - y1, x2 - x1);
          g.beginPath();
          g.moveTo(x2, y2);
          g.lineTo(x2 - 8 * Math.cos(ang - 0.4), y2 - 8 * Math.sin(ang - 0.4));
          g.lineTo(x2 - 8 * Math.cos(ang + 0.4), y2 - 8 * Math.sin(ang + 0.4));
          g.closePath();
          g.fill();
        }
      }
    });
    g.globalAlpha = 1;
    g.lineWidth = 1;

    // Checks, on the top row.
    for (const c of checks) {
      if (c.atUs < view.from || c.atUs > view.to) continue;
      const x = xOf(c.atUs);
      g.fillStyle = c.ok ? '#1a7f37' : '#c62828';
      g.beginPath();
      g.arc(x, TOP / 2, 5, 0, Math.PI * 2);
      g.fill();
      drawn.checks++;
      targets.push({ hit: (px, py) => Math.hypot(px - x, py - TOP / 2), text: `line ${c.line}: ${c.ok ? 'ok' : 'FAILED'} ${c.text}${c.detail ? '\n' + c.detail : ''}\n${fmtUs(c.atUs)}`, seq: c.seq, us: c.atUs });
    }
  }

  function nearestTarget(x: number, y: number): (typeof targets)[number] | null {
    let best: (typeof targets)[number] | null = null;
    let bestD = 7;
    const T = arrowTargets;
    for (let j = 0; j < T.length; j += 5) {
      const i = T[j]!;
      const d = distToSegment(x, y, T[j + 1]!, T[j + 2]!, T[j + 3]!, T[j + 4]!) + (A.kinds[aKind[i]!] === 'stream' ? 2 : 0);
      if (d < bestD) {
        bestD = d;
        best = { hit: () => d, text: arrowText(i), seq: null, us: aFromUs[i]! };
      }
    }
    for (const t of targets) {
      const d = t.hit(x, y);
      if (d < bestD) {
        bestD = d;
        best = t;
      }
    }
    return best;
  }
  function showTooltip(): void {
    const t = hover ? nearestTarget(hover.x, hover.y) : null;
    if (t === null || hover === null) {
      tooltip.style.display = 'none';
      return;
    }
    tooltip.textContent = t.text;
    tooltip.style.display = 'block';
    tooltip.style.left = `${Math.min(hover.x + 14, wrapWidth - 300)}px`;
    tooltip.style.top = `${hover.y + 14}px`;
  }

  // ------------------------------------------------------------------ the state panel
  function renderStates(): void {
    statesBox.replaceChildren();
    for (const name of lanes) {
      const s = stateOf(name);
      const card = el('div', 'state');
      card.dataset.node = name;
      const h = el('h3', '', name);
      const role = el('span', 'role', s === null ? 'not started' : s.process !== 'up' ? s.process : s.role === 'replica' ? `replica of ${s.master}` : 'master');
      h.appendChild(role);
      card.appendChild(h);
      if (s === null) {
        statesBox.appendChild(card);
        continue;
      }
      if (s.process === 'crashed' || s.process === 'poweroff') card.classList.add('down');
      card.dataset.role = s.role;
      card.dataset.replid = s.replid;
      card.dataset.offset = String(s.offset);
      card.dataset.replid2 = s.replid2;
      card.dataset.secondOffset = String(s.secondOffset);
      card.dataset.process = s.process;
      const dl = el('dl');
      const row = (k: string, v: string, title?: string): void => {
        dl.appendChild(el('dt', '', k));
        const dd = el('dd', '', v);
        if (title) dd.title = title;
        dl.appendChild(dd);
      };
      if (s.role === 'replica') row('link', `${s.link} (repl_state ${s.replState})`);
      row('master_replid', short(s.replid), s.replid);
      row('master_repl_offset', num(s.offset));
      row('master_replid2', short(s.replid2), s.replid2);
      row('second_repl_offset', String(s.secondOffset));
      row('backlog', s.backlogHistlen > 0 ? `[${num(s.backlogFirst)}, ${num(s.backlogFirst + s.backlogHistlen - 1)}] (${num(s.backlogHistlen)} bytes)` : 'none');
      row('keys', num(s.keys));
      if (s.replicas.length > 0) row('replicas', s.replicas.map((r) => `${r.name} ${r.state} ack ${num(r.ackOffset)}`).join(', '));
      card.appendChild(dl);
      if (s.backlogHistlen > 0) {
        const lo = Math.min(s.backlogFirst, ...s.replicas.map((r) => r.ackOffset || s.backlogFirst));
        const hi = Math.max(s.offset + 1, lo + 1);
        const pos = (o: number): string => `${(((o - lo) / (hi - lo)) * 100).toFixed(2)}%`;
        const bar = el('div', 'bar');
        const fill = el('div', 'fill');
        fill.style.left = pos(s.backlogFirst);
        fill.style.width = `calc(${pos(s.backlogFirst + s.backlogHistlen)} - ${pos(s.backlogFirst)})`;
        bar.appendChild(fill);
        for (const r of s.replicas) {
          const m = el('div', 'mark');
          m.style.left = pos(Math.max(lo, r.ackOffset));
          m.title = `${r.name} acknowledged offset ${r.ackOffset}`;
          m.appendChild(el('span', '', r.name));
          bar.appendChild(m);
        }
        card.appendChild(bar);
        const lab = el('div', 'barlabel');
        lab.appendChild(el('span', '', num(lo)));
        lab.appendChild(el('span', '', 'backlog and replicas’ acknowledged offsets'));
        lab.appendChild(el('span', '', num(hi - 1)));
        card.appendChild(lab);
      }
      statesBox.appendChild(card);
    }
  }

  // ------------------------------------------------------------------ the events list
  function renderEvents(): void {
    const idx = cursor.seq !== null ? eventIndexOfSeq(cursor.seq) : eventIndexAt(cursor.us);
    const at = idx < 0 ? 0 : idx;
    eventsBox.replaceChildren();
    const from = Math.max(0, at - 60);
    const to = Math.min(nEvents, at + 60);
    for (let i = from; i < to; i++) {
      const e = eventAt(i);
      const d = el('div', e.check !== null ? (e.check.ok ? 'good' : 'bad') : '', `${fmtUs(e.atUs).padStart(13)}  ${e.sentence}`);
      d.dataset.seq = String(e.seq);
      if (i === at) d.classList.add('now');
      eventsBox.appendChild(d);
    }
    // Rows are EVENT_ROW_H high (the page's CSS): the current one is centred without measuring.
    if (to > from) eventsBox.scrollTop = Math.max(0, (at - from + 0.5) * EVENT_ROW_H - EVENTS_H / 2);
  }

  // ------------------------------------------------------------------ PSYNC cards
  function renderLater(later: PageLater): void {
    cardsTitle.textContent = `PSYNC decisions (${later.cards.length})`;
    showInBatches(later.cards, cardsBox, psyncCard, 'PSYNC decisions');
    showInBatches(later.story, story, (p) => el('li', '', p.replace(/^\d+\.\s*/, '')), 'paragraphs');
  }
  function psyncCard(c: PsyncCard): HTMLElement {
    const card = el('div', c.accepted ? 'card ok' : 'card');
    card.appendChild(el('div', 'verdict', `${fmtUs(c.atUs)} · ${c.replica} → ${c.master}: ${c.accepted ? '+CONTINUE (partial resync)' : '+FULLRESYNC (full sync)'}`));
    card.appendChild(el('div', 'meta', `PSYNC ${c.replid === '?' ? '?' : short(c.replid)} ${c.offset}`));
    const s = c.server;
    const svg = svgEl('svg', { viewBox: '0 0 360 74' }) as SVGSVGElement;
    const offset = Number(c.offset);
    if (s !== null) {
      const first = s.backlogHistlen > 0 ? s.backlogFirst : s.offset + 1;
      const last = s.backlogHistlen > 0 ? s.backlogFirst + s.backlogHistlen : s.offset + 1;
      const lo = Math.min(first, offset > 0 ? offset : first) - 1;
      const hi = Math.max(last, offset) + 1;
      const x = (o: number): number => 20 + ((o - lo) / Math.max(1, hi - lo)) * 320;
      svg.appendChild(svgEl('line', { x1: 20, y1: 40, x2: 340, y2: 40, stroke: '#b8bec4' }));
      if (s.backlogHistlen > 0) {
        svg.appendChild(svgEl('rect', { x: x(first), y: 32, width: Math.max(2, x(last) - x(first)), height: 16, fill: '#a5c8ee', rx: 2 }));
        svg.appendChild(svgEl('text', { x: x(first), y: 62, 'font-size': 10, fill: '#6b7075' }, `backlog ${first}`));
        svg.appendChild(svgEl('text', { x: x(last), y: 62, 'font-size': 10, fill: '#6b7075', 'text-anchor': 'end' }, String(last)));
      } else {
        svg.appendChild(svgEl('text', { x: 180, y: 62, 'font-size': 10, fill: '#6b7075', 'text-anchor': 'middle' }, 'no backlog'));
      }
      if (offset > 0) {
        svg.appendChild(svgEl('path', { d: `M ${x(offset)} 30 l -5 -9 h 10 z`, fill: c.accepted ? '#1a7f37' : '#c62828' }));
        svg.appendChild(svgEl('text', { x: x(offset), y: 16, 'font-size': 10, fill: '#1d1f21', 'text-anchor': 'middle' }, `asked ${offset}`));
      }
    }
    card.appendChild(svg);
    if (s !== null) {
      const same = c.replid === s.replid;
      const viaTwo = !same && c.replid === s.replid2;
      card.appendChild(el('div', 'meta',
        `server history ${short(s.replid)}${s.secondOffset > 0 ? `, replid2 ${short(s.replid2)} valid up to ${s.secondOffset}` : ''} — ` +
        (c.replid === '?' ? 'the replica asks for everything' : same ? 'the replid matches' : viaTwo ? 'the replid is the server’s replid2' : 'the replid is not the server’s')));
    }
    card.appendChild(el('div', 'reason', c.reason));
    card.addEventListener('click', () => setCursorSeq(c.seq));
    return card;
  }

  // ------------------------------------------------------------------ the offset chart (uPlot)
  let chart: any = null;
  let chartCursor: HTMLElement | null = null;
  /** The x range the chart's data was made for, in µs (it is made again when uPlot zooms). */
  let chartRange = { from: 0, to: endUs };

  /**
   * The chart's columns over [fromUs, toUs]: [x in seconds, then each node's offset (null while
   * it is down)]. When the samples in range outnumber the pixel columns, each column gets four
   * points per node — its offset entering the column, the lowest and highest within it, and the
   * last — so the line keeps its shape and every step stays visible with a few thousand points
   * instead of every sample (a 100k-event run has 44,000). The run's first and last moments are
   * always points, so that uPlot's "reset zoom" (double-click) spans the whole run.
   */
  function chartData(fromUs: number, toUs: number, columns: number): Array<ArrayLike<number | null>> {
    const cols = lanes.map((n) => stateCols.get(n));
    const valueAt = (c: StateColumns | undefined, k: number): number | null => (c === undefined || k < 0 || c.down[k] === 1 ? null : c.offset[k]!);
    let inRange = 0;
    for (const c of cols) if (c !== undefined) inRange += lastAtOrBefore(c.at, toUs) - lastAtOrBefore(c.at, fromUs);
    const xs: number[] = [];
    const ys: Array<Array<number | null>> = cols.map(() => []);
    const point = (us: number): void => {
      xs.push(us / 1e6);
      cols.forEach((c, i) => ys[i]!.push(c === undefined ? null : valueAt(c, lastAtOrBefore(c.at, us))));
    };
    if (fromUs > 0) point(0);
    if (inRange <= 4 * columns) {
      // Few samples: every one of them.
      const times = new Set<number>([fromUs, toUs]);
      for (const c of cols) {
        if (c === undefined) continue;
        for (let k = lastAtOrBefore(c.at, fromUs) + 1; k < c.at.length && c.at[k]! <= toUs; k++) times.add(c.at[k]!);
      }
      for (const t of [...times].sort((x, y) => x - y)) point(t);
    } else {
      const w = (toUs - fromUs) / columns;
      const next = cols.map((c) => (c === undefined ? 0 : lastAtOrBefore(c.at, fromUs)));
      for (let b = 0; b < columns; b++) {
        const t0 = fromUs + b * w;
        const t1 = t0 + w;
        xs.push(t0 / 1e6, (t0 + w * 0.25) / 1e6, (t0 + w * 0.5) / 1e6, (t0 + w * 0.75) / 1e6);
        cols.forEach((c, i) => {
          const y = ys[i]!;
          if (c === undefined) return void y.push(null, null, null, null);
          let k = next[i]!;
          const entry = valueAt(c, k);
          let lo = entry;
          let hi = entry;
          while (k + 1 < c.at.length && c.at[k + 1]! < t1) {
            k++;
            const v = valueAt(c, k);
            if (v !== null) {
              lo = lo === null ? v : Math.min(lo, v);
              hi = hi === null ? v : Math.max(hi, v);
            }
          }
          next[i] = k;
          y.push(entry, lo, hi, valueAt(c, k));
        });
      }
      point(toUs);
    }
    if (toUs < endUs) point(endUs);
    chartRange = { from: fromUs, to: toUs };
    return [xs, ...ys];
  }

  function buildChart(): void {
    if (typeof uPlot === 'undefined' || disposed) return;
    const width = Math.max(300, main.clientWidth);
    const opts = {
      width,
      height: CHART_H,
      scales: { x: { time: false } },
      axes: [{ label: 'virtual seconds' }, { label: 'offset', size: 70 }],
      series: [{ label: 't (s)' }, ...lanes.map((n, i) => ({ label: n, stroke: SERIES[i % SERIES.length], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }) }))],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        drawClear: [(u: any) => {
          const ctx = u.ctx as CanvasRenderingContext2D;
          for (const s of data.spans) {
            const x1 = u.valToPos(s.fromUs / 1e6, 'x', true);
            const x2 = u.valToPos((s.toUs ?? endUs) / 1e6, 'x', true);
            ctx.fillStyle = SPAN_COLORS[s.kind];
            ctx.fillRect(x1, u.bbox.top, Math.max(1, x2 - x1), u.bbox.height);
          }
        }],
        // A zoom (drag, or double-click back to the whole run) gets points for its own range.
        setScale: [(u: any, key: string) => {
          if (key !== 'x') return;
          const from = Math.max(0, Math.floor(u.scales.x.min * 1e6));
          const to = Math.min(endUs, Math.ceil(u.scales.x.max * 1e6));
          const span = Math.max(1, chartRange.to - chartRange.from);
          if (Math.abs(from - chartRange.from) < span / 1000 && Math.abs(to - chartRange.to) < span / 1000) return;
          requestAnimationFrame(() => {
            if (!disposed && to > from) u.setData(chartData(from, to, Math.max(50, Math.round(u.bbox.width / (window.devicePixelRatio || 1)))), false);
          });
        }],
      },
    };
    const guess = Math.max(50, width - 90);
    chart = new uPlot(opts, chartData(0, endUs, guess), chartBox);
    // A column per pixel of the plot once uPlot has laid it out (the axes' widths were a guess).
    requestAnimationFrame(() => {
      if (disposed || chart === null) return;
      const columns = Math.max(50, Math.round(chart.bbox.width / (window.devicePixelRatio || 1)));
      if (columns < guess && chartRange.from === 0 && chartRange.to === endUs) chart.setData(chartData(0, endUs, columns), false);
    });
    chartBox.style.minHeight = '';
    // The cursor is an overlay line moved with CSS: redrawing the chart per move is not smooth.
    chartCursor = el('div');
    chartCursor.style.cssText = 'position:absolute;top:0;bottom:0;width:2px;background:#e03131;pointer-events:none';
    chart.over.appendChild(chartCursor);
    chart.over.addEventListener('click', () => {
      const v = chart.posToVal(chart.cursor.left, 'x');
      if (Number.isFinite(v)) setCursorUs(Math.round(v * 1e6));
    });
    moveChartCursor();
  }
  function moveChartCursor(): void {
    if (chart && chartCursor) chartCursor.style.left = `${chart.valToPos(cursor.us / 1e6, 'x')}px`;
  }

  // ------------------------------------------------------------------ cursor moves
  function update(): void {
    timeBox.textContent = fmtUs(cursor.us) + (cursor.seq !== null ? `  (event ${cursor.seq})` : '');
    renderStates();
    renderEvents();
    draw();
    moveChartCursor();
  }
  function setCursorUs(us: number): void {
    cursor.us = Math.max(0, Math.min(endUs, Math.round(us)));
    cursor.seq = null;
    update();
  }
  function setCursorSeq(seq: number): void {
    const i = eventIndexOfSeq(seq);
    const e = i >= 0 && evSeq[i] === seq ? eventAt(i) : null;
    cursor.seq = seq;
    if (e) {
      cursor.us = e.atUs;
      details.textContent = `${fmtUs(e.atUs)}  ${e.sentence}`;
      if (e.atUs < view.from || e.atUs > view.to) {
        const span = view.to - view.from;
        view.from = e.atUs - span / 2;
        view.to = view.from + span;
        clampView();
      }
    }
    update();
  }
  function stepEvent(dir: 1 | -1): void {
    if (nEvents === 0) return;
    let i = cursor.seq !== null ? eventIndexOfSeq(cursor.seq) : eventIndexAt(cursor.us);
    i = Math.max(0, Math.min(nEvents - 1, i + dir));
    setCursorSeq(evSeq[i]!);
  }
  function zoom(factor: number, aroundUs: number): void {
    const span = (view.to - view.from) * factor;
    const f = (aroundUs - view.from) / (view.to - view.from);
    view.from = aroundUs - f * span;
    view.to = view.from + span;
    clampView();
    draw();
  }

  let playing: number | null = null;
  function togglePlay(): void {
    if (playing !== null) {
      cancelAnimationFrame(playing);
      playing = null;
      buttons.play!.textContent = '▶ play';
      return;
    }
    buttons.play!.textContent = '❚❚ pause';
    let last = performance.now(); // determinism-ok: the play button animates in the browser; the run is already recorded
    const tick = (now: number): void => {
      const dt = now - last;
      last = now;
      // The whole view in about ten seconds.
      const next = cursor.us + ((view.to - view.from) / 10000) * dt;
      if (next >= endUs) {
        setCursorUs(endUs);
        togglePlay();
        return;
      }
      if (next > view.to) {
        const span = view.to - view.from;
        view.from = next - span * 0.1;
        view.to = view.from + span;
        clampView();
      }
      setCursorUs(next);
      playing = requestAnimationFrame(tick);
    };
    playing = requestAnimationFrame(tick);
  }

  buttons.prev!.addEventListener('click', () => stepEvent(-1));
  buttons.next!.addEventListener('click', () => stepEvent(1));
  buttons.play!.addEventListener('click', togglePlay);
  buttons.zin!.addEventListener('click', () => zoom(0.5, cursor.us));
  buttons.zout!.addEventListener('click', () => zoom(2, cursor.us));
  buttons.fit!.addEventListener('click', () => {
    view.from = 0;
    view.to = endUs;
    clampView();
    draw();
  });
  let dragging = false;
  canvas.addEventListener('mousedown', (ev) => {
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left;
    const y = ev.clientY - r.top;
    const t = nearestTarget(x, y);
    if (t !== null && t.seq !== null) {
      setCursorSeq(t.seq);
      return;
    }
    if (t !== null) details.textContent = t.text;
    dragging = true;
    setCursorUs(usOf(x));
  });
  window.addEventListener('mouseup', () => (dragging = false));
  canvas.addEventListener('mousemove', (ev) => {
    const r = canvas.getBoundingClientRect();
    hover = { x: ev.clientX - r.left, y: ev.clientY - r.top };
    if (dragging) setCursorUs(usOf(hover.x));
    else showTooltip();
  });
  canvas.addEventListener('mouseleave', () => {
    hover = null;
    showTooltip();
  });
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    if (ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
      const d = ((ev.shiftKey ? ev.deltaY : ev.deltaX) / plotW()) * (view.to - view.from);
      view.from += d;
      view.to += d;
      clampView();
      draw();
    } else zoom(ev.deltaY > 0 ? 1.25 : 0.8, usOf(ev.clientX - r.left));
  }, { passive: false });
  canvas.addEventListener('dblclick', () => buttons.fit!.click());
  window.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight') stepEvent(1);
    else if (ev.key === 'ArrowLeft') stepEvent(-1);
    else if (ev.key === ' ') {
      ev.preventDefault();
      togglePlay();
    }
  });
  eventsBox.addEventListener('click', (ev) => {
    const row = (ev.target as HTMLElement).closest('[data-seq]') as HTMLElement | null;
    if (row !== null) setCursorSeq(Number(row.dataset.seq));
  });
  // Sizes come from here after the first read (below): no layout is forced to learn them.
  const resized = new ResizeObserver(() => {
    if (disposed) return;
    const w = wrap.clientWidth;
    if (w === wrapWidth) return;
    setWidth(w);
    draw();
    if (chart) chart.setSize({ width: Math.max(300, main.clientWidth), height: CHART_H });
  });

  // The first paint: the diagram and the state panel. One layout, here, for the diagram's width.
  canvas.style.height = `${diagramHeight()}px`;
  clampView();
  timeBox.textContent = fmtUs(0);
  renderStates();
  renderEvents();
  setWidth(wrap.clientWidth);
  draw();
  resized.observe(wrap);

  // Then, after that paint: the chart, the cards and the story.
  const later = (): Promise<PageLater> => data.story !== undefined && data.cards !== undefined
    ? Promise.resolve({ story: data.story, cards: data.cards })
    : opts.later !== undefined ? opts.later() : Promise.resolve({ story: [], cards: [] });
  let complete: Promise<void>;
  if (opts.sync) {
    buildChart();
    renderLater({ story: data.story ?? [], cards: data.cards ?? [] });
    complete = Promise.resolve();
  } else {
    // After the next frame is painted (the task after its animation frame). In the browser, over a run already recorded.
    const afterPaint = (): Promise<void> => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))); // determinism-ok: page paint order
    complete = afterPaint()
      .then(() => buildChart())
      .then(later)
      .then((l) => afterPaint().then(() => {
        if (!disposed) renderLater(l);
      }));
  }

  (window as unknown as { psyncSim: unknown }).psyncSim = {
    /** Resolves when the chart, the cards and the story are in the page too. */
    complete,
    setCursorUs,
    setCursorSeq,
    /** What the state panel shows for `node`, as the data attributes hold it. */
    shown(node: string): Record<string, string> | null {
      const card = statesBox.querySelector(`[data-node="${CSS.escape(node)}"]`) as HTMLElement | null;
      return card ? { ...card.dataset } as Record<string, string> : null;
    },
    /** What the last draw put on the diagram (with the whole run in view after `fit`). */
    drawn(): typeof drawn {
      return JSON.parse(JSON.stringify(drawn));
    },
    fit(): void {
      buttons.fit!.click();
    },
    /** The offset chart's columns as uPlot has them ([x in seconds, then each node's offsets]), and its plot width in pixels. */
    chart(): { data: Array<Array<number | null>>; widthPx: number } | null {
      return chart ? { data: chart.data.map((c: ArrayLike<number | null>) => Array.from(c)), widthPx: Math.round(chart.bbox.width / (window.devicePixelRatio || 1)) } : null;
    },
  };
  return () => {
    disposed = true;
    resized.disconnect();
    if (playing !== null) cancelAnimationFrame(playing);
    playing = null;
    if (chart) chart.destroy();
    chart = null;
  };
}
