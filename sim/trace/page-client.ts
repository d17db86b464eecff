/**
 * The script of the `--html` page, run in the browser. sim/trace/html.ts inlines this function's
 * source (`pageMain.toString()`), so it must be self-contained: no imports at run time, no
 * closures over this module, only the DOM, the global uPlot, and the data it is given.
 *
 * Every string from the scenario or the trace goes into the DOM as text (textContent, or SVG
 * text nodes), never as HTML. The page exposes `window.psyncSim` for tests: set the cursor,
 * read what the state panel shows, count what the diagram drew.
 */
import type { PageData, Arrow, Span, PsyncCard, PackedStates, PackedEvents } from './html.ts';
import type { NodeState } from './record.ts';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const uPlot: any;
/** html.ts inlines its unpackStates() into the page ahead of this function. */
declare function unpackStates(p: PackedStates): Record<string, NodeState[]>;

export function pageMain(data: PageData): void {
  const LANE_H = 54;
  const ARROWS_PER_KIND = 1500;
  const SHOWN_MAX = 50;
  const TOP = 26;
  const AXIS = 26;
  const LEFT = 78;
  const RIGHT = 16;
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
  const arrows: Arrow[] = [];
  for (let i = 0, r = data.arrows.rows, S = data.arrows.strings; i < r.length; i += 6) {
    arrows.push({ from: S[r[i]!]!, fromUs: r[i + 1]!, to: S[r[i + 2]!]!, toUs: r[i + 3]!, kind: data.arrows.kinds[r[i + 4]!]!, label: S[r[i + 5]!]! });
  }
  /** An event as the page lists it: html.ts packEvents, unpacked. */
  interface PageEvent { readonly atUs: number; readonly seq: number; readonly node: string | null; readonly sentence: string; readonly check: PackedEvents['checks'][number] | null }
  const events: PageEvent[] = [];
  {
    const p = data.events;
    const bySeq = new Map<number, PackedEvents['checks'][number]>();
    for (const c of p.checks) bySeq.set(c.seq, c);
    let t = 0;
    let seq = 0;
    for (let i = 0; i < p.rows.length; i += 4) {
      t += p.rows[i]!;
      seq += p.rows[i + 1]!;
      const lane = p.rows[i + 2]!;
      events.push({ atUs: t, seq, node: lane < 0 ? null : lanes[lane]!, sentence: p.sentences[p.rows[i + 3]!]!, check: bySeq.get(seq) ?? null });
    }
  }
  const states = unpackStates(data.states);
  const endUs = Math.max(1, data.endUs);

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
  header.appendChild(el('div', 'meta', `${data.file} · seed ${data.seed} · ${fmtUs(data.endUs)} virtual · ${num(events.length)} events · ` +
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
  main.appendChild(chartBox);

  main.appendChild(el('h2', '', `PSYNC decisions (${data.cards.length})`));
  const cardsBox = el('div', 'cards');
  cardsBox.id = 'cards';
  main.appendChild(cardsBox);

  main.appendChild(el('h2', '', 'The story'));
  const story = el('ol', 'story');
  main.appendChild(story);
  showInBatches(data.story, story, (p) => el('li', '', p.replace(/^\d+\.\s*/, '')), 'paragraphs');

  main.appendChild(el('h2', '', 'Events around the cursor'));
  const eventsBox = el('div');
  eventsBox.id = 'events';
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
  function lastAtOrBefore<T>(list: readonly T[], ok: (x: T) => boolean): T | null {
    // `ok` is monotone (true then false); binary search for the last true.
    let lo = 0;
    let hi = list.length - 1;
    let found: T | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ok(list[mid]!)) {
        found = list[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
  function stateOf(node: string): NodeState | null {
    const list = states[node] ?? [];
    return cursor.seq !== null
      ? lastAtOrBefore(list, (s) => s.seq <= cursor.seq!)
      : lastAtOrBefore(list, (s) => s.atUs <= cursor.us);
  }
  /** Index of the first event with seq >= `seq` (events are in seq order). */
  function eventIndexOfSeq(seq: number): number {
    let lo = 0;
    let hi = events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < events.length ? lo : -1;
  }
  function eventIndexAt(us: number): number {
    let lo = 0;
    let hi = events.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]!.atUs <= us) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  // ------------------------------------------------------------------ view and cursor
  const view = { from: 0, to: endUs };
  const cursor: { us: number; seq: number | null } = { us: 0, seq: null };
  let hover: { x: number; y: number } | null = null;
  let targets: Array<{ hit: (x: number, y: number) => number; text: string; seq: number | null; us: number }> = [];
  const drawn = { arrows: {} as Record<string, number>, spans: 0, checks: 0 };
  let arrowTargets: Array<{ a: Arrow; x1: number; y1: number; x2: number; y2: number }> = [];

  /** The plot's width in CSS pixels, read once per draw: reading clientWidth forces a layout,
   *  and xOf() runs for every arrow (a 100k-event run spent most of a cursor move here). */
  let plotWidth = 1;
  function measure(): void {
    plotWidth = Math.max(1, canvas.clientWidth - LEFT - RIGHT);
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
  const laneIndex = new Map(lanes.map((n, i) => [n, i]));
  function laneY(name: string): number {
    const i = laneIndex.get(name) ?? 0;
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

  function draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const w = wrap.clientWidth;
    const h = TOP + lanes.length * LANE_H + AXIS;
    canvas.style.height = `${h}px`;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    measure();
    const g = canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = '12px system-ui, sans-serif';
    targets = [];
    arrowTargets = [];
    drawn.arrows = {};
    drawn.spans = 0;
    drawn.checks = 0;
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
        const e = events[i]!;
        if (e.node === null) continue;
        const x = xOf(e.atUs);
        const y = laneY(e.node);
        g.fillRect(x - 0.5, y - 4, 1, 8);
        targets.push({ hit: (px, py) => (Math.abs(px - x) < 3 && Math.abs(py - y) < 6 ? Math.abs(px - x) + 2 : Infinity), text: `${fmtUs(e.atUs)}  ${e.sentence}`, seq: e.seq, us: e.atUs });
      }
    }

    // Messages. An arrow that lands on the same pixels as the previous one of its kind is drawn
    // once (a long run has thousands per pixel at full view); tooltips are built on hover.
    // Past ARROWS_PER_KIND in view, every k-th of a kind is drawn: at that density the shape is
    // what a reader sees, and zooming in brings every arrow back.
    const lastPx: Record<string, number> = {};
    for (const a of arrows) if (a.toUs >= view.from && a.fromUs <= view.to) drawn.arrows[a.kind] = (drawn.arrows[a.kind] ?? 0) + 1;
    const stride: Record<string, number> = {};
    const seen: Record<string, number> = {};
    for (const k of Object.keys(drawn.arrows)) stride[k] = Math.max(1, Math.ceil(drawn.arrows[k]! / ARROWS_PER_KIND));
    for (const a of arrows) {
      if (a.toUs < view.from || a.fromUs > view.to) continue;
      seen[a.kind] = (seen[a.kind] ?? 0) + 1;
      if (seen[a.kind]! % stride[a.kind]! !== 0) continue;
      const x1 = xOf(a.fromUs);
      const x2 = xOf(a.toUs);
      const y1 = laneY(a.from);
      const y2 = laneY(a.to);
      const px = Math.round(x1) * 100003 + Math.round(x2) * 31 + y1 * 7 + y2;
      if (lastPx[a.kind] === px) continue;
      lastPx[a.kind] = px;
      g.strokeStyle = COLORS[a.kind];
      g.globalAlpha = a.kind === 'stream' ? 0.45 : a.kind === 'rdb' ? 0.35 : 0.95;
      g.lineWidth = a.kind === 'rdb' ? 7 : a.kind === 'stream' || a.kind === 'ack' || a.kind === 'getack' ? 1 : 1.6;
      g.beginPath();
      g.moveTo(x1, y1);
      g.lineTo(x2, y2);
      g.stroke();
      if (a.kind !== 'stream' && a.kind !== 'rdb') {
        const ang = Math.atan2(y2 - y1, x2 - x1);
        g.fillStyle = COLORS[a.kind];
        g.beginPath();
        g.moveTo(x2, y2);
        g.lineTo(x2 - 8 * Math.cos(ang - 0.4), y2 - 8 * Math.sin(ang - 0.4));
        g.lineTo(x2 - 8 * Math.cos(ang + 0.4), y2 - 8 * Math.sin(ang + 0.4));
        g.closePath();
        g.fill();
      }
      arrowTargets.push({ a, x1, y1, x2, y2 });
    }
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

    // The cursor.
    const cx = xOf(cursor.us);
    if (cx >= LEFT - 1 && cx <= LEFT + plotW() + 1) {
      g.strokeStyle = '#e03131';
      g.lineWidth = 1.5;
      g.beginPath();
      g.moveTo(cx, 4);
      g.lineTo(cx, bottom);
      g.stroke();
      g.lineWidth = 1;
    }
    showTooltip();
  }

  function nearestTarget(x: number, y: number): (typeof targets)[number] | null {
    let best: (typeof targets)[number] | null = null;
    let bestD = 7;
    for (const t of arrowTargets) {
      const d = distToSegment(x, y, t.x1, t.y1, t.x2, t.y2) + (t.a.kind === 'stream' ? 2 : 0);
      if (d < bestD) {
        bestD = d;
        const a = t.a;
        best = { hit: () => d, text: `${a.from} → ${a.to}: ${a.label}\n${fmtUs(a.fromUs)} → ${fmtUs(a.toUs)}`, seq: null, us: a.fromUs };
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
    tooltip.style.left = `${Math.min(hover.x + 14, wrap.clientWidth - 300)}px`;
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
    const to = Math.min(events.length, at + 60);
    let current: HTMLElement | null = null;
    for (let i = from; i < to; i++) {
      const e = events[i]!;
      const d = el('div', e.check !== null ? (e.check.ok ? 'good' : 'bad') : '', `${fmtUs(e.atUs).padStart(13)}  ${e.sentence}`);
      d.dataset.seq = String(e.seq);
      if (i === at) {
        d.classList.add('now');
        current = d;
      }
      d.addEventListener('click', () => setCursorSeq(e.seq));
      eventsBox.appendChild(d);
    }
    if (current) eventsBox.scrollTop = current.offsetTop - eventsBox.clientHeight / 2;
  }

  // ------------------------------------------------------------------ PSYNC cards
  function renderCards(): void {
    showInBatches(data.cards, cardsBox, psyncCard, 'PSYNC decisions');
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
  function buildChart(): void {
    if (typeof uPlot === 'undefined') return;
    const times = new Set<number>([0]);
    for (const n of lanes) for (const s of states[n] ?? []) times.add(s.atUs);
    times.add(endUs);
    const xs = [...times].sort((a, b) => a - b);
    const cols: Array<Array<number | null>> = [xs.map((t) => t / 1e6)];
    for (const n of lanes) {
      const list = states[n] ?? [];
      const col: Array<number | null> = [];
      let j = -1;
      for (const t of xs) {
        while (j + 1 < list.length && list[j + 1]!.atUs <= t) j++;
        const s = j >= 0 ? list[j]! : null;
        col.push(s === null || s.process === 'crashed' || s.process === 'poweroff' ? null : s.offset);
      }
      cols.push(col);
    }
    const opts = {
      width: Math.max(300, main.clientWidth),
      height: 240,
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
      },
    };
    chart = new uPlot(opts, cols, chartBox);
    // The cursor is an overlay line moved with CSS: redrawing 100k points per move is not smooth.
    chartCursor = el('div');
    chartCursor.style.cssText = 'position:absolute;top:0;bottom:0;width:2px;background:#e03131;pointer-events:none';
    chart.over.appendChild(chartCursor);
    chart.over.addEventListener('click', () => {
      const v = chart.posToVal(chart.cursor.left, 'x');
      if (Number.isFinite(v)) setCursorUs(Math.round(v * 1e6));
    });
  }

  // ------------------------------------------------------------------ cursor moves
  function update(): void {
    timeBox.textContent = fmtUs(cursor.us) + (cursor.seq !== null ? `  (event ${cursor.seq})` : '');
    renderStates();
    renderEvents();
    draw();
    if (chart && chartCursor) chartCursor.style.left = `${chart.valToPos(cursor.us / 1e6, 'x')}px`;
  }
  function setCursorUs(us: number): void {
    cursor.us = Math.max(0, Math.min(endUs, Math.round(us)));
    cursor.seq = null;
    update();
  }
  function setCursorSeq(seq: number): void {
    const i = eventIndexOfSeq(seq);
    const e = i >= 0 && events[i]!.seq === seq ? events[i]! : null;
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
    if (events.length === 0) return;
    let i = cursor.seq !== null ? eventIndexOfSeq(cursor.seq) : eventIndexAt(cursor.us);
    i = Math.max(0, Math.min(events.length - 1, i + dir));
    setCursorSeq(events[i]!.seq);
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
  window.addEventListener('resize', () => {
    draw();
    if (chart) chart.setSize({ width: Math.max(300, main.clientWidth), height: 240 });
  });

  renderCards();
  buildChart();
  clampView();
  update();

  (window as unknown as { psyncSim: unknown }).psyncSim = {
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
  };
}
