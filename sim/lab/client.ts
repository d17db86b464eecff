/**
 * The lab page's script (bundled for the browser by sim/lab/bundle.ts). Pick a lesson or paste a
 * scenario; play, pause, step and scrub; crash, restart, power off or pause a node, partition,
 * kill a link, type a command into a node's console; export what was done as a `.scn` file.
 *
 * Theory of operation. The lab's Web Worker (sim/lab/worker.ts) holds a LabSession
 * (sim/lab/program.ts): the scenario plus the learner's actions as steps, run from the start,
 * whole, every time it changes (a lesson takes milliseconds to a second or more, off the page's
 * thread: play, pause, step and scrub go on over the last run meanwhile). The page keeps the
 * last answer (LabView: the recording, the program's text, its trace hash). "Now" is how far
 * the learner has watched: the page shows the run only up to now (the recording cut there), so
 * playing reveals it as if it were live, and scrubbing back re-shows it up to an earlier time —
 * the same as re-running from the start to that time, since the run is deterministic. An
 * action is done at now: it becomes steps at that virtual time and the whole program runs
 * again; everything before now stays as it was.
 * The drawing is the run page's own (sim/trace/page-client.ts pageMain, over html.ts
 * pageData), redrawn at each change. Only the play button reads the wall clock, to animate.
 */
import { LabError, formatAction, cutAt } from './program.ts';
import type { LabAction } from './program.ts';
import type { LabRequest, LabReply, LabView } from './worker.ts';
import { pageData } from '../trace/html.ts';
import { pageMain } from '../trace/page-client.ts';
import type { RecordedEvent } from '../trace/record.ts';
import { formatTimeUs } from '../trace/render.ts';

interface Lesson {
  readonly path: string;
  readonly title: string;
}

const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 5, 10] as const;
const DEFAULT_LESSON = '/scenarios/lessons/04-partial-resync.scn';
/** The run page's diagram layout (sim/trace/page-client.ts: TOP, LANE_H, LEFT). */
const LANE_TOP = 26;
const LANE_H = 54;
const LANE_LABEL_W = 78;
/** Redraws while playing are at most this often (ms of wall time). */
const PLAY_REDRAW_MS = 80;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function latin1(bytes: ArrayBuffer): string {
  // Scenario files are binary strings (one char per byte); TextDecoder's 'latin1' is cp1252.
  const u = new Uint8Array(bytes);
  let s = '';
  for (let i = 0; i < u.length; i += 8192) s += String.fromCharCode(...u.subarray(i, i + 8192));
  return s;
}

/**
 * The simulator's Web Worker (sim/lab/worker.ts): requests go in order, and only the answer to
 * the latest one is shown (each answer is the whole session, so it includes those before it).
 */
class Simulator {
  private readonly worker = new Worker('/lab-worker.js');
  private next = 1;
  private latest = 0;
  /** While a request is out: the page says so, and plays on over the run it has. */
  busy = false;

  constructor(private readonly onReply: (r: LabReply, latest: boolean) => void) {
    this.worker.onmessage = (ev: MessageEvent<LabReply>) => {
      const latest = ev.data.id === this.latest;
      if (latest) this.busy = false;
      this.onReply(ev.data, latest);
    };
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.busy = false;
      this.onReply({ id: this.latest, ok: false, error: `psync-sim lab: the simulator stopped (${ev.message})` }, true);
    };
  }

  send(req: LabRequest): void {
    const id = this.next++;
    this.latest = id;
    this.busy = true;
    this.worker.postMessage({ id, req });
  }
}

function main(): void {
  const root = document.getElementById('lab')!;
  const app = document.getElementById('app')!;

  // ---------------------------------------------------------------- the controls
  const pick = el('div', { class: 'row' });
  pick.appendChild(el('h1', {}, 'psync-sim lab'));
  const lessonSel = el('select', { id: 'lab-lesson', title: 'a lesson' });
  const seedIn = el('input', { id: 'lab-seed', size: '8', placeholder: 'seed', title: "seed (empty: the file's)" });
  const loadBtn = el('button', { id: 'lab-load', class: 'primary' }, 'load');
  const pasteBtn = el('button', { id: 'lab-paste' }, 'paste a scenario…');
  pick.append(lessonSel, el('span', {}, 'seed'), seedIn, loadBtn, pasteBtn);
  root.appendChild(pick);
  const pasteBox = el('div', { class: 'row', hidden: '' });
  const pasteArea = el('textarea', { id: 'lab-source', spellcheck: 'false', placeholder: 'nodes m r1\nat 0s\n  r1: REPLICAOF m 6379\nawait converged within 10s' });
  const pasteRun = el('button', { id: 'lab-paste-run', class: 'primary' }, 'run this scenario');
  pasteBox.append(pasteArea, pasteRun);
  root.appendChild(pasteBox);

  const transport = el('div', { class: 'row' });
  const startBtn = el('button', { id: 'lab-start', title: 'back to 0s' }, '|◀');
  const prevBtn = el('button', { id: 'lab-prev', title: 'now to the previous event' }, '◀ step');
  const playBtn = el('button', { id: 'lab-play', class: 'primary' }, '▶ play');
  const nextBtn = el('button', { id: 'lab-next', title: 'now to the next event' }, 'step ▶');
  const scrub = el('input', { id: 'lab-scrub', type: 'range', min: '0', max: '0', value: '0', step: '1000' });
  const nowBox = el('span', { id: 'lab-now' }, '0.000000s');
  const speedSel = el('select', { id: 'lab-speed', title: 'virtual seconds per second' });
  for (const s of SPEEDS) speedSel.appendChild(el('option', { value: String(s), ...(s === 1 ? { selected: '' } : {}) }, `${s}×`));
  const runOnBtn = el('button', { id: 'lab-run-on', title: 'let the story go on 5 s past its end' }, '+5s');
  transport.append(startBtn, prevBtn, playBtn, nextBtn, scrub, nowBox, speedSel, runOnBtn);
  root.appendChild(transport);

  const nodesRow = el('div', { class: 'row' });
  const nodesBox = el('div', { class: 'lab-nodes', id: 'lab-nodes' });
  nodesRow.append(el('span', {}, 'click a node:'), nodesBox);
  root.appendChild(nodesRow);
  const partBox = el('span', { id: 'lab-partition-nodes' });
  const partBtn = el('button', { id: 'lab-partition', title: 'the ticked nodes | the others' }, 'partition');
  const healBtn = el('button', { id: 'lab-heal' }, 'heal');
  nodesRow.append(el('span', { class: 'sep' }, 'network: cut off'), partBox, partBtn, healBtn);

  const menu = el('div', { id: 'lab-menu', hidden: '' });
  const menuTitle = el('b', { id: 'lab-menu-title' });
  const faultRow = el('div', { class: 'row' });
  const crashBtn = el('button', { id: 'lab-crash' }, 'crash');
  const restartBtn = el('button', { id: 'lab-restart' }, 'restart');
  const poweroffBtn = el('button', { id: 'lab-poweroff' }, 'power off');
  const pauseBtn = el('button', { id: 'lab-pause' }, 'pause');
  const pauseDur = el('input', { id: 'lab-pause-s', size: '4', value: '2' });
  const killSel = el('select', { id: 'lab-kill-peer' });
  const killBtn = el('button', { id: 'lab-kill-link' }, 'kill link to');
  faultRow.append(menuTitle, crashBtn, restartBtn, poweroffBtn, pauseBtn, pauseDur, el('span', {}, 's'), killBtn, killSel);
  const consoleOut = el('div', { id: 'lab-console-out' });
  const consoleIn = el('input', { id: 'lab-console-in', placeholder: 'a Redis command, e.g. INFO replication (Enter sends it at now)', spellcheck: 'false' });
  menu.append(faultRow, consoleOut, consoleIn);
  root.appendChild(menu);


  const doneRow = el('div', { class: 'row' });
  const undoBtn = el('button', { id: 'lab-undo' }, 'undo');
  const exportBtn = el('button', { id: 'lab-export', class: 'primary' }, 'export .scn');
  const hashBox = el('span', { id: 'lab-hash' });
  const status = el('span', { id: 'lab-status' }, 'loading…');
  doneRow.append(undoBtn, exportBtn, hashBox, status);
  root.appendChild(doneRow);
  const actionsList = el('ol', { id: 'lab-actions' });
  root.appendChild(actionsList);

  // ---------------------------------------------------------------- state
  let session: LabView | null = null;
  let nowUs = 0;
  let selected: string | null = null;
  let hash = '';
  let disposePage = (): void => {};
  let pageListeners: Array<[string, EventListenerOrEventListenerObject, boolean | AddEventListenerOptions | undefined]> = [];

  function setStatus(text: string, error = false): void {
    status.textContent = text;
    status.className = error ? 'error' : '';
  }
  function hosts(): readonly string[] {
    return session!.hosts;
  }

  /** Redraw the run page over the recording cut at now (pageMain builds it anew each time). */
  function drawPage(): void {
    if (session === null) return;
    for (const [t, l, o] of pageListeners) window.removeEventListener(t, l, o);
    pageListeners = [];
    app.replaceChildren();
    const add = window.addEventListener;
    // pageMain listens on window (keys, resize, mouseup): collect those to remove them at the
    // next redraw, and keep its keys away from the lab's inputs (space would start its player).
    window.addEventListener = ((t: string, l: EventListenerOrEventListenerObject, o?: boolean | AddEventListenerOptions): void => {
      const wrapped: EventListener = t === 'keydown'
        ? (ev) => {
            const tag = (ev.target as HTMLElement | null)?.tagName;
            if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
            if (typeof l === 'function') l(ev);
            else l.handleEvent(ev);
          }
        : (ev) => (typeof l === 'function' ? l(ev) : l.handleEvent(ev));
      pageListeners.push([t, wrapped, o]);
      add.call(window, t, wrapped, o);
    }) as typeof window.addEventListener;
    try {
      disposePage();
      disposePage = pageMain(pageData(cutAt(session.recording, nowUs)), { sync: true });
    } finally {
      window.addEventListener = add;
    }
    (window as unknown as { psyncSim: { setCursorUs(us: number): void } }).psyncSim.setCursorUs(nowUs);
    const canvas = document.getElementById('diagram');
    // The lane names are nodes too: click one to pick it; drag from one lane name to another
    // to partition those two (`partition A | B`: other hosts still reach both).
    const laneAt = (ev: MouseEvent): number | null => {
      const r = canvas!.getBoundingClientRect();
      const i = Math.floor((ev.clientY - r.top - LANE_TOP) / LANE_H);
      const lanes = session!.recording.nodes;
      return ev.clientX - r.left < LANE_LABEL_W && i >= 0 && i < lanes.length ? i : null;
    };
    canvas?.addEventListener('mousedown', (ev) => {
      const from = laneAt(ev);
      if (from === null) return;
      window.addEventListener('mouseup', (up) => {
        const r = canvas.getBoundingClientRect();
        const to = Math.max(0, Math.min(session!.recording.nodes.length - 1, Math.floor((up.clientY - r.top - LANE_TOP) / LANE_H)));
        const lanes = session!.recording.nodes;
        if (to === from) return select(lanes[from]!);
        act({ kind: 'partition', groups: [[lanes[from]!], [lanes[to]!]] });
      }, { once: true });
    });
  }

  /** The state of every host at now, for the node buttons. */
  function hostStatus(name: string): { text: string; down: boolean } {
    const rec = session!.recording;
    let process = 'up';
    for (const e of rec.events) {
      if (e.atUs > nowUs) break;
      if (e.kind === 'process' && e.node === name) process = e.what;
    }
    const list = rec.states[name] ?? [];
    let s = null;
    for (const x of list) {
      if (x.atUs > nowUs) break;
      s = x;
    }
    const down = process === 'crash' || process === 'poweroff' || process === 'exit';
    if (down) return { text: process === 'poweroff' ? 'powered off' : 'crashed', down };
    if (process === 'pause' || process === 'sleep') return { text: 'paused', down: false };
    if (s === null) return { text: rec.nodes.includes(name) ? 'starting' : 'up', down: false };
    return { text: s.role === 'replica' ? `replica of ${s.master?.replace(/:\d+$/, '')} (${s.link})` : `master, offset ${s.offset}`, down: false };
  }

  function renderControls(): void {
    if (session === null) return;
    const endUs = session.endUs;
    scrub.max = String(endUs);
    scrub.value = String(nowUs);
    nowBox.textContent = `${formatTimeUs(nowUs)} / ${formatTimeUs(endUs)}`;
    nodesBox.replaceChildren();
    for (const name of hosts()) {
      const st = hostStatus(name);
      const b = el('div', { class: `lab-node${st.down ? ' down' : ''}${name === selected ? ' selected' : ''}`, 'data-node': name });
      b.append(el('b', {}, name), el('span', {}, st.text));
      b.addEventListener('click', () => select(name));
      nodesBox.appendChild(b);
    }
    if (partBox.childElementCount !== hosts().length) {
      partBox.replaceChildren();
      for (const name of hosts()) {
        const lab = el('label', {});
        lab.append(el('input', { type: 'checkbox', value: name }), document.createTextNode(` ${name} `));
        partBox.appendChild(lab);
      }
    }
    actionsList.replaceChildren(...session.done.map((d) => el('li', {}, d)));
    renderMenu();
  }

  function renderMenu(): void {
    if (session === null || selected === null) {
      menu.hidden = true;
      return;
    }
    menu.hidden = false;
    menuTitle.textContent = `${selected}:`;
    const others = hosts().filter((h) => h !== selected);
    if (killSel.childElementCount !== others.length || [...killSel.options].some((o, i) => o.value !== others[i])) {
      killSel.replaceChildren(...others.map((h) => el('option', { value: h }, h)));
    }
    // The console: every command this host's local client sent up to now, with its reply.
    const lines: string[] = [];
    const evs = session.recording.events;
    for (let i = 0; i < evs.length; i++) {
      const e = evs[i]!;
      if (e.atUs > nowUs) break;
      if (e.kind === 'command' && e.node === selected && e.client === 'cli') {
        lines.push(`${formatTimeUs(e.atUs)} > ${e.argv.join(' ')}`);
        const r = evs.slice(i + 1).find((x): x is Extract<RecordedEvent, { kind: 'reply' }> => x.kind === 'reply' && x.node === selected && x.client === 'cli');
        if (r !== undefined && r.atUs <= nowUs) lines.push(r.reply.replace(/\\r\\n/g, '\n').replace(/^"|"$/g, ''));
        else lines.push('(no reply yet)');
      }
    }
    consoleOut.textContent = lines.length > 0 ? lines.join('\n') : `(no command sent to ${selected} yet)`;
    consoleOut.scrollTop = consoleOut.scrollHeight;
  }

  function select(name: string): void {
    selected = selected === name ? null : name;
    renderControls();
  }

  function render(): void {
    renderControls();
    drawPage();
  }

  function showHash(): void {
    if (session === null) return;
    hash = session.hash;
    hashBox.textContent = `trace sha256 ${hash.slice(0, 16)}… · ${session.passed} passed, ${session.failed} failed · ${session.recording.events.length} events`;
    hashBox.dataset.hash = hash;
  }

  function fail(e: unknown): void {
    setStatus(typeof e === 'string' ? e : e instanceof LabError ? e.message : `psync-sim lab: ${e instanceof Error ? e.message : String(e)}`, true);
  }

  /** What to do with the answer to the latest request, set when it is sent. */
  let onDone: (r: Extract<LabReply, { ok: true }>) => void = () => {};
  const sim = new Simulator((r, latest) => {
    if (!r.ok) {
      fail(r.error);
      return;
    }
    if (!latest) return;
    session = r.view;
    onDone(r);
    render();
    showHash();
  });

  function start(source: string, file: string): void {
    stop();
    const seed = seedIn.value.trim();
    setStatus(`${file}: running…`);
    onDone = () => {
      nowUs = 0;
      selected = null;
      setStatus(`${file}: press ▶ play, or drag the slider. Click a node to crash it or type a command.`);
    };
    sim.send({ op: 'start', source, file, ...(seed !== '' ? { seed } : {}) });
  }

  /**
   * Do `action` at now: the program gets the steps and runs again from 0s in the worker; the
   * page stays as it is (and can play on) until the new run comes back, then now stays.
   */
  function act(action: LabAction): void {
    if (session === null) return;
    stop();
    const at = nowUs;
    setStatus(`${formatAction({ atUs: at, action })}: running the story again from 0s with it…`);
    onDone = (r) => {
      const atUs = r.atUs ?? at;
      nowUs = Math.min(atUs, r.view.endUs);
      setStatus(`${formatAction({ atUs, action })}: done; the story was run again from 0s with it.`);
    };
    sim.send({ op: 'act', action, atUs: at });
  }

  // ---------------------------------------------------------------- playing
  let playing: number | null = null;
  function stop(): void {
    if (playing !== null) cancelAnimationFrame(playing);
    playing = null;
    playBtn.textContent = '▶ play';
  }
  function play(): void {
    if (session === null) return;
    if (playing !== null) {
      stop();
      // Show the moment it paused at: while playing, the page is redrawn at most every PLAY_REDRAW_MS.
      render();
      return;
    }
    if (nowUs >= session.endUs) nowUs = 0;
    playBtn.textContent = '❚❚ pause';
    let last = performance.now(); // determinism-ok: the play button animates; the run itself is already computed
    let drawn = last;
    const tick = (t: number): void => {
      const speed = Number(speedSel.value);
      nowUs = Math.min(session!.endUs, Math.round(nowUs + (t - last) * 1000 * speed));
      last = t;
      if (nowUs >= session!.endUs) {
        stop();
        render();
        return;
      }
      if (t - drawn >= PLAY_REDRAW_MS) {
        drawn = t;
        render();
      } else renderControls();
      playing = requestAnimationFrame(tick);
    };
    playing = requestAnimationFrame(tick);
  }
  function moveTo(us: number): void {
    stop();
    nowUs = Math.max(0, Math.min(session?.endUs ?? 0, Math.round(us)));
    render();
  }
  /** Now to the time of the next (or previous) event. */
  function stepEvent(dir: 1 | -1): void {
    if (session === null) return;
    const times = session.recording.events.map((e) => e.atUs);
    const t = dir > 0 ? times.find((x) => x > nowUs) : [...times].reverse().find((x) => x < nowUs);
    moveTo(t ?? (dir > 0 ? session.endUs : 0));
  }

  playBtn.addEventListener('click', play);
  startBtn.addEventListener('click', () => moveTo(0));
  prevBtn.addEventListener('click', () => stepEvent(-1));
  nextBtn.addEventListener('click', () => stepEvent(1));
  scrub.addEventListener('input', () => moveTo(Number(scrub.value)));
  runOnBtn.addEventListener('click', () => {
    if (session === null) return;
    stop();
    setStatus('running the story on for 5 s more…');
    onDone = () => setStatus('the story goes on for 5 s more (a run step at its end).');
    sim.send({ op: 'run-on', durUs: 5_000_000 });
  });
  crashBtn.addEventListener('click', () => selected && act({ kind: 'crash', node: selected }));
  restartBtn.addEventListener('click', () => selected && act({ kind: 'restart', node: selected }));
  poweroffBtn.addEventListener('click', () => selected && act({ kind: 'poweroff', node: selected }));
  pauseBtn.addEventListener('click', () => {
    const s = Number(pauseDur.value);
    if (!(s > 0 && s <= 3600)) return fail(new LabError('pause: a duration in seconds, e.g. 2'));
    if (selected) act({ kind: 'pause', node: selected, durUs: Math.round(s * 1e6) });
  });
  killBtn.addEventListener('click', () => selected && killSel.value && act({ kind: 'kill-link', a: selected, b: killSel.value }));
  consoleIn.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' || selected === null) return;
    const line = consoleIn.value;
    if (line.trim() === '') return;
    consoleIn.value = '';
    act({ kind: 'command', node: selected, line });
  });
  partBtn.addEventListener('click', () => {
    const ticked = [...partBox.querySelectorAll('input')].filter((i) => i.checked).map((i) => i.value);
    const rest = hosts().filter((h) => !ticked.includes(h));
    if (ticked.length === 0 || rest.length === 0) return fail(new LabError('partition: tick the nodes to cut off from the others'));
    act({ kind: 'partition', groups: [ticked, rest] });
  });
  healBtn.addEventListener('click', () => act({ kind: 'heal-all' }));
  undoBtn.addEventListener('click', () => {
    if (session === null || session.done.length === 0) return;
    stop();
    setStatus('undoing…');
    onDone = (r) => {
      nowUs = Math.min(nowUs, r.view.endUs);
      setStatus('undone.');
    };
    sim.send({ op: 'undo' });
  });
  exportBtn.addEventListener('click', () => {
    if (session === null) return;
    const blob = new Blob([session.text], { type: 'text/plain' });
    const a = el('a', { href: URL.createObjectURL(blob), download: (session.file.split('/').pop() ?? 'lab.scn').replace(/\.scn$/, '') + '-lab.scn' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setStatus('exported: replay it with psync-sim run FILE (the same trace, byte for byte).');
  });
  // The state cards of the page are nodes too.
  app.addEventListener('click', (ev) => {
    const card = (ev.target as HTMLElement).closest('.state[data-node]') as HTMLElement | null;
    if (card?.dataset.node) select(card.dataset.node);
  });

  async function loadLesson(path: string): Promise<void> {
    const res = await fetch(path);
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
    start(latin1(await res.arrayBuffer()), path.replace(/^\//, ''));
  }
  loadBtn.addEventListener('click', () => void loadLesson(lessonSel.value).catch(fail));
  pasteBtn.addEventListener('click', () => (pasteBox.hidden = !pasteBox.hidden));
  pasteRun.addEventListener('click', () => start(pasteArea.value, 'pasted.scn'));

  // For tests and the curious: the lab's state, read-only.
  (window as unknown as { psyncLab: unknown }).psyncLab = {
    get nowUs() { return nowUs; },
    get endUs() { return session?.endUs ?? 0; },
    get hash() { return hash; },
    get text() { return session?.text ?? ''; },
    get file() { return session?.file ?? ''; },
    /** True while the simulator's worker is running a request. */
    get busy() { return sim.busy; },
    moveTo,
  };

  void (async () => {
    const lessons = (await (await fetch('/lessons.json')).json()) as Lesson[];
    for (const l of lessons) lessonSel.appendChild(el('option', { value: l.path, ...(l.path === DEFAULT_LESSON ? { selected: '' } : {}) }, l.title));
    if (lessons.length === 0) {
      lessonSel.appendChild(el('option', { value: '' }, '(no lessons here: paste a scenario)'));
      pasteBox.hidden = false;
      setStatus('paste a scenario and run it.');
      return;
    }
    await loadLesson(lessonSel.value);
  })().catch(fail);
}

main();
