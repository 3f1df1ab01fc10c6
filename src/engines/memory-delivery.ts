/**
 * Delivery of the memory engine's events to the node's handler: asynchronously (a publish resolves before
 * subscribers see it, like with a real backend) but strictly in the order the events happened. Events wait
 * in one queue drained by a single microtask, so delivering a publication allocates no closure and no
 * timer; a handler that publishes while being called appends to the queue being drained.
 * @module
 */
import type { EngineHandler, PresenceEntry, Publication } from './engine.js';

/** A join or leave waiting in the queue (publications wait as themselves). */
class PresenceEvent {
  constructor(
    readonly joined: boolean,
    readonly topic: string,
    readonly entry: PresenceEntry,
  ) {}
}

/** Receives what a handler threw; delivery goes on with the next event. */
export type HandlerErrorListener = (error: unknown) => void;

/** The ordered, microtask-drained queue of events for one handler. */
export class DeliveryQueue {
  /** Who receives events; while null (before start, after close) events are dropped. */
  handler: EngineHandler | null = null;
  private readonly queue: Array<Publication | PresenceEvent> = [];
  private scheduled = false;
  private readonly drain = (): void => this.flush();

  constructor(private readonly onError: HandlerErrorListener) {}

  /** Queues a publication. */
  publication(publication: Publication): void {
    this.push(publication);
  }

  /** Queues a join (`joined` true) or a leave. */
  presence(joined: boolean, topic: string, entry: PresenceEntry): void {
    this.push(new PresenceEvent(joined, topic, entry));
  }

  /** Drops everything queued. */
  clear(): void {
    this.queue.length = 0;
  }

  private push(event: Publication | PresenceEvent): void {
    if (this.handler === null) return;
    this.queue.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(this.drain);
  }

  private flush(): void {
    try {
      // `queue.length` is read on every turn: handlers may append (publish) or clear (close) meanwhile.
      for (let i = 0; i < this.queue.length; i++) {
        const handler = this.handler;
        if (handler === null) break;
        this.dispatch(handler, this.queue[i]!);
      }
    } finally {
      this.queue.length = 0;
      this.scheduled = false;
    }
  }

  private dispatch(handler: EngineHandler, event: Publication | PresenceEvent): void {
    try {
      if (!(event instanceof PresenceEvent)) handler.onPublication(event);
      else if (event.joined) handler.onJoin(event.topic, event.entry);
      else handler.onLeave(event.topic, event.entry);
    } catch (error) {
      this.onError(error);
    }
  }
}
