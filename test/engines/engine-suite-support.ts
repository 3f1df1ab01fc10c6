/**
 * Support for the engine conformance suite: a recording handler that lets a test wait, with a deadline,
 * until what it expects has arrived, and helpers to start engines and to prove non-delivery.
 */
import { randomBytes } from 'node:crypto';
import type { Engine, EngineHandler, PresenceEntry, Publication } from '../../src/engines/engine.js';

/** A join or leave as the handler received it. */
export interface PresenceEvent {
  topic: string;
  entry: PresenceEntry;
}

/** Records what an engine delivers to its node. */
export class Recorder implements EngineHandler {
  readonly publications: Publication[] = [];
  readonly joins: PresenceEvent[] = [];
  readonly leaves: PresenceEvent[] = [];
  private readonly waiters = new Set<() => void>();

  /** `defaultTimeoutMs`: how long {@link until} waits when not told (slower backends want more). */
  constructor(private readonly defaultTimeoutMs = 3000) {}

  onPublication(publication: Publication): void {
    this.publications.push(publication);
    this.wake();
  }

  onJoin(topic: string, entry: PresenceEntry): void {
    this.joins.push({ topic, entry });
    this.wake();
  }

  onLeave(topic: string, entry: PresenceEntry): void {
    this.leaves.push({ topic, entry });
    this.wake();
  }

  /** Publications received for `topic`, in arrival order. */
  of(topic: string): Publication[] {
    return this.publications.filter((publication) => publication.topic === topic);
  }

  /** Clients that joined `topic`, in arrival order. */
  joined(topic: string): string[] {
    return this.joins.filter((event) => event.topic === topic).map((event) => event.entry.client);
  }

  /** Clients that left `topic`, in arrival order. */
  left(topic: string): string[] {
    return this.leaves.filter((event) => event.topic === topic).map((event) => event.entry.client);
  }

  /** Resolves once `condition()` holds; rejects after `timeoutMs` naming `what` was awaited. */
  until(condition: () => boolean, what: string, timeoutMs = this.defaultTimeoutMs): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  protected wake(): void {
    for (const check of [...this.waiters]) check();
  }
}

/** Waits `ms` milliseconds (only where a test must let a TTL pass). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What an engine factory returns: `count` engines, not yet started, and how to release them all. */
export interface EngineSet {
  engines: Engine[];
  cleanup(): Promise<void>;
}

/** Creates `count` engines sharing one backend (count is 1 unless the suite runs multi-node tests). */
export type EngineFactory = (count: number) => Promise<EngineSet>;

/** A topic no other test (or earlier run against the same backend) uses. */
export function uniqueTopic(label: string): string {
  return `suite.${randomBytes(4).toString('hex')}.${label}`;
}

/** The offsets of `publications`, in order. */
export function offsets(publications: Publication[]): number[] {
  return publications.map((publication) => publication.offset);
}

/** The integers from `from` to `to`, both included. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Starts `count` engines with recorders, runs `body`, always cleans up. */
export async function withEngines(
  factory: EngineFactory,
  count: number,
  body: (engines: Engine[], recorders: Recorder[]) => Promise<void>,
): Promise<void> {
  const { engines, cleanup } = await factory(count);
  try {
    const recorders = engines.map(() => new Recorder());
    await Promise.all(engines.map((engine, i) => engine.start(recorders[i]!)));
    await body(engines, recorders);
  } finally {
    await cleanup();
  }
}

/** Publishes on `engine` to a topic `recorder` subscribed and waits for it (see the suite's module comment). */
export async function barrier(
  engine: Engine,
  recorder: Recorder,
  subscriber: Engine = engine,
): Promise<void> {
  const topic = uniqueTopic('barrier');
  await subscriber.subscribe(topic);
  await engine.publish(topic, '"barrier"');
  await recorder.until(() => recorder.of(topic).length === 1, 'the barrier publication');
  await subscriber.unsubscribe(topic);
}
