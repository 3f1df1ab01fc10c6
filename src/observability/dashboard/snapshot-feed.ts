/**
 * The dashboard feed's loop, independent of any server: one snapshot per interval, serialized once and
 * sent to every watcher, sampled only while someone watches (an unwatched server pays nothing). The
 * servers own the WebSocket endpoint; they hand each accepted connection to {@link SnapshotFeed.watch}.
 * @module
 */
import type { DashboardSnapshot } from './dashboard-types.js';

/** What the feed samples. */
export interface SnapshotSource {
  /** Time between snapshots, in ms. */
  readonly intervalMs: number;
  /** The first watcher arrived: start measuring what needs measuring between samples. */
  start(): void;
  /** The last watcher left. */
  stop(): void;
  /** Reads everything once. */
  sample(): Promise<DashboardSnapshot>;
}

/** A watcher's connection, as the feed uses it (a server-side WebSocket connection fits). */
export interface SnapshotWatcher {
  /** 1 while open (the WebSocket `OPEN` state). */
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(text: string): void;
}

/** The WebSocket `OPEN` ready state. */
const OPEN = 1;
/** A watcher that has this much unsent is skipped for a snapshot: the next one supersedes it anyway. */
const MAX_BUFFERED_BYTES = 256 * 1024;

/** Sends one snapshot per interval to its watchers while there are any. */
export class SnapshotFeed {
  private readonly watchers = new Set<SnapshotWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;
  /** The last snapshot sent, for a watcher that arrives between two. */
  private last: string | null = null;

  /** `failed` hears about a sample that threw (the feed carries on with the next one). */
  constructor(
    private readonly source: SnapshotSource,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** The number of watchers. */
  get size(): number {
    return this.watchers.size;
  }

  /**
   * Adds a watcher; call the returned function when its connection closes. What a watcher sends is
   * not read: the feed only talks.
   */
  watch(watcher: SnapshotWatcher): () => void {
    this.watchers.add(watcher);
    if (this.timer === null) {
      this.source.start();
      this.timer = setInterval(() => void this.tick(), this.source.intervalMs);
      this.timer.unref();
      // The first watcher gets a first snapshot now rather than an interval later.
      void this.tick();
    } else if (this.last !== null) watcher.send(this.last);
    return () => {
      if (this.watchers.delete(watcher) && this.watchers.size === 0) this.stop();
    };
  }

  /** Stops sampling and forgets every watcher (their connections are the server's to close). */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    const wasRunning = this.timer !== null;
    this.timer = null;
    this.last = null;
    this.watchers.clear();
    if (wasRunning) this.source.stop();
  }

  private async tick(): Promise<void> {
    // Samples do not overlap: a slow one makes the next one skip rather than queue behind it.
    if (this.sampling) return;
    this.sampling = true;
    try {
      const text = JSON.stringify(await this.source.sample());
      if (this.timer === null) return; // everybody left while it was sampled
      this.last = text;
      for (const watcher of this.watchers) {
        if (watcher.readyState === OPEN && watcher.bufferedAmount < MAX_BUFFERED_BYTES) watcher.send(text);
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.sampling = false;
    }
  }
}
