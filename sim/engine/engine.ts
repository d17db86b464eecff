/**
 * The engine: a virtual clock and the events scheduled on it.
 *
 * Theory of operation. Time is an integer count of microseconds from 0 (docs/ARCHITECTURE.md,
 * determinism contract). An event is an action scheduled at an absolute time; events run one
 * at a time in (atUs, seq) order, seq being the push order, so equal times run first come,
 * first served. Running an event sets `nowUs` to its time first; time never moves backwards.
 * An action may schedule (or cancel) other events, including at the current time, but may
 * not drive the engine itself (step/runUntil from inside an action is a bug: asserted).
 *
 * Cancelling is O(1): the timer is flagged and skipped when it reaches the top of the heap.
 * When flagged timers outnumber live ones the heap is swept (EventQueue.retain), so a node
 * that re-arms a timeout on every byte does not grow the heap without bound.
 * The engine knows nothing of the network or of Redis.
 */
import { assert } from '../assert.ts';
import { EventQueue } from './queue.ts';
import type { Scheduled } from './queue.ts';

type TimerState = 'pending' | 'fired' | 'cancelled';

/** Below this many queued entries a sweep of cancelled timers is not worth it. */
const SWEEP_SIZE_MIN = 1024;

/** A scheduled event. Hold on to it only to cancel it. */
export class Timer implements Scheduled {
  seq = 0;
  state: TimerState = 'pending';

  constructor(
    private readonly engine: Engine,
    /** When it runs; moves only when Engine.scheduleAgainAt() re-arms a fired timer. */
    public atUs: number,
    readonly action: () => void,
  ) {}

  /** Make the event not run. Cheap; harmless when it already ran or was cancelled. */
  cancel(): void {
    if (this.state !== 'pending') return;
    this.state = 'cancelled';
    this.engine.timerCancelled();
  }

  /** Still waiting to run. */
  get pending(): boolean {
    return this.state === 'pending';
  }
}

export class Engine {
  private clockUs = 0;
  private readonly queue = new EventQueue<Timer>();
  /** Cancelled timers still in the heap. */
  private cancelledQueued = 0;
  private running = false;
  /** Events run so far (cancelled ones not counted). */
  eventsRun = 0;

  /** Virtual time, integer microseconds since the run started. */
  get nowUs(): number {
    return this.clockUs;
  }

  /** Events scheduled and neither run nor cancelled. */
  get pendingEvents(): number {
    return this.queue.size - this.cancelledQueued;
  }

  /** Run `action` delayUs from now (0 = after the events already due now). */
  schedule(delayUs: number, action: () => void): Timer {
    // Hot path: build the message only on failure.
    if (!(Number.isSafeInteger(delayUs) && delayUs >= 0)) assert(false, `Engine.schedule: bad delayUs ${delayUs}`);
    return this.scheduleAt(this.clockUs + delayUs, action);
  }

  /** Run `action` at absolute time atUs, which must not be in the past. */
  scheduleAt(atUs: number, action: () => void): Timer {
    if (!Number.isSafeInteger(atUs)) assert(false, `Engine.scheduleAt: atUs ${atUs} is not an integer`);
    if (atUs < this.clockUs) assert(false, `Engine.scheduleAt: atUs ${atUs} is before now ${this.clockUs}`);
    const timer = new Timer(this, atUs, action);
    this.queue.push(timer);
    return timer;
  }

  /**
   * scheduleAt() for the same action again, reusing `timer`, which must have fired (so it is no
   * longer queued and nobody can cancel it by mistake): an action that re-arms itself event after
   * event (a pipe's next delivery, a load's next write) allocates no timer per event. The order is
   * exactly a new timer's (it gets the next sequence number).
   */
  scheduleAgainAt(timer: Timer, atUs: number): Timer {
    if (timer.state !== 'fired') assert(false, `Engine.scheduleAgainAt: the timer is ${timer.state}`);
    if (!Number.isSafeInteger(atUs)) assert(false, `Engine.scheduleAgainAt: atUs ${atUs} is not an integer`);
    if (atUs < this.clockUs) assert(false, `Engine.scheduleAgainAt: atUs ${atUs} is before now ${this.clockUs}`);
    timer.atUs = atUs;
    timer.state = 'pending';
    this.queue.push(timer);
    return timer;
  }

  /** Run the next event. False when nothing is pending (the clock does not move). */
  step(): boolean {
    this.assertNotInsideEvent();
    const timer = this.nextLive();
    if (timer === null) return false;
    this.run(timer);
    return true;
  }

  /** Run every event due at or before atUs, then set the clock to atUs. */
  runUntil(atUs: number): void {
    assert(Number.isSafeInteger(atUs), `Engine.runUntil: atUs ${atUs} is not an integer`);
    assert(atUs >= this.clockUs, `Engine.runUntil: atUs ${atUs} is before now ${this.clockUs}`);
    this.assertNotInsideEvent();
    for (;;) {
      const timer = this.nextLive();
      if (timer === null || timer.atUs > atUs) break;
      this.run(timer);
    }
    this.clockUs = atUs;
  }

  /**
   * Run events until `predicate` holds (checked before the first event and after each one;
   * the clock stays at the time of the event that made it true) → true; or until the
   * deadline passes with it false → the clock is set to deadlineUs, false.
   */
  runUntilOr(predicate: () => boolean, deadlineUs: number): boolean {
    assert(Number.isSafeInteger(deadlineUs), `Engine.runUntilOr: deadline ${deadlineUs} is not an integer`);
    assert(deadlineUs >= this.clockUs, `Engine.runUntilOr: deadline ${deadlineUs} is before now ${this.clockUs}`);
    this.assertNotInsideEvent();
    if (predicate()) return true;
    for (;;) {
      const timer = this.nextLive();
      if (timer === null || timer.atUs > deadlineUs) break;
      this.run(timer);
      if (predicate()) return true;
    }
    this.clockUs = deadlineUs;
    return false;
  }

  /** Called by Timer.cancel() only: count the dead entry, sweep when they dominate. */
  timerCancelled(): void {
    this.cancelledQueued++;
    const size = this.queue.size;
    if (size >= SWEEP_SIZE_MIN && this.cancelledQueued * 2 > size) {
      this.queue.retain((t) => t.state === 'pending');
      this.cancelledQueued = 0;
    }
  }

  /** The earliest pending timer, dropping cancelled ones off the top; null when none. */
  private nextLive(): Timer | null {
    for (;;) {
      const top = this.queue.peek();
      if (top === undefined) return null;
      if (top.state === 'pending') return top;
      this.queue.pop();
      this.cancelledQueued--;
    }
  }

  private assertNotInsideEvent(): void {
    assert(!this.running, 'Engine: step/runUntil called from inside an event');
  }

  private run(timer: Timer): void {
    const popped = this.queue.pop();
    assert(popped === timer, 'Engine.run: not the top of the queue');
    assert(timer.atUs >= this.clockUs, 'Engine.run: time went backwards');
    this.clockUs = timer.atUs;
    timer.state = 'fired';
    this.eventsRun++;
    this.running = true;
    try {
      timer.action();
    } finally {
      this.running = false;
    }
  }
}
