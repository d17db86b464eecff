/**
 * A sentinel's machine in the world: its disk (sentinel.conf survives crashes), its process (a
 * Sentinel, or none while it is down) and the SentinelHost it talks through, on its own network
 * host listening on 26379. Crash, restart, pause and power-off work as for data nodes (the shared
 * part is ProcessSlot, process-slot.ts): every input runs as one event-loop iteration followed by
 * beforeSleep(); a paused process queues its input, and its timer tick waits with it, so the
 * first tick after a long pause sees the wall clock jump and enters TILT, as a SIGSTOPped
 * redis-sentinel does.
 */
import { assert } from '../assert.ts';
import type { Timer } from '../engine/engine.ts';
import type { Rng } from '../engine/random.ts';
import type { ConnId, ClientId } from '../core/host.ts';
import type { SentinelHost } from '../sentinel/host.ts';
import { Sentinel } from '../sentinel/sentinel.ts';
import { fileBytes, type FileContents } from '../core/rdb-image.ts';
import type { SentinelOptions } from '../sentinel/sentinel.ts';
import { SENTINEL_DEFAULT_PORT } from '../sentinel/state.ts';
import type { World } from './world.ts';
import { ProcessSlot } from './process-slot.ts';

export class SentinelSlot extends ProcessSlot<Sentinel> implements SentinelHost {
  readonly disk = new Map<string, Uint8Array>();
  private timer: Timer | null = null;
  protected readonly refusedPort = SENTINEL_DEFAULT_PORT;

  constructor(
    world: World,
    name: string,
    readonly options: SentinelOptions,
    rng: Rng,
  ) {
    super(world, name, rng);
  }

  get sentinel(): Sentinel | null {
    return this.proc;
  }

  start(): void {
    assert(this.proc === null, `${this.name}: already running`);
    this.beginStart();
    const s = new Sentinel(this.name, this, this.world.bugs.size > 0 ? { ...this.options, bugs: this.world.bugs } : this.options);
    this.proc = s;
    this.world.net.listen(this.name, this.options.port ?? SENTINEL_DEFAULT_PORT);
    this.deliver(() => s.start());
    this.scheduleTick(this.rng.int(100_000) + 1);
  }

  protected tornDown(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  protected afterInput(s: Sentinel): void {
    if (this.proc !== s) return;
    s.beforeSleep();
    this.world.sentinelChecker?.afterIteration(this.name, s, this.world.engine.nowUs);
  }

  protected runCommand(s: Sentinel, client: ClientId, argv: string[]): void {
    this.deliver(() => s.localCommand(client, argv));
  }

  private scheduleTick(delayUs: number): void {
    const epoch = this.epoch;
    this.timer = this.world.engine.schedule(delayUs, () => {
      const s = this.proc;
      if (epoch !== this.epoch || s === null) return;
      // A frozen process runs its overdue tick when it wakes; the next one is scheduled from then.
      this.deliver(() => {
        s.timer();
        if (epoch === this.epoch) this.scheduleTick(s.nextTickUs);
      });
    });
  }

  // --- SentinelHost (the rest is ProcessSlot's) ------------------------------------------------

  rand(): number {
    return this.rng.int(0x7fffffff);
  }

  connect(host: string, port: number): ConnId {
    if (!this.world.slots.has(host) && !this.world.sentinelSlots.has(host)) return this.unresolved(host);
    return this.world.net.connect(this.name, host, port);
  }

  writeFile(name: string, contents: FileContents): void {
    this.disk.set(name, fileBytes(contents));
  }

  readFile(name: string): Uint8Array | null {
    return this.disk.get(name) ?? null;
  }

  sleep(durUs: number): void {
    this.freezeFor(durUs);
  }
}
