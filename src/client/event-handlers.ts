/**
 * Event handler attributes (`onopen`, `onmessage`, ...) over an EventTarget, as the HTML standard
 * defines them (§8.1.8.1): the first non-null value adds one listener, later values replace the handler
 * without moving that listener, and null removes it.
 * @module
 */

// biome-ignore lint/suspicious/noExplicitAny: handlers receive whatever event type their name implies.
type Handler = (this: any, event: any) => unknown;

interface Slot {
  handler: Handler;
  readonly listener: (event: Event) => void;
}

/** The handler attributes of one EventTarget. */
export class EventHandlers {
  private readonly slots = new Map<string, Slot>();
  private readonly target: EventTarget;

  constructor(target: EventTarget) {
    this.target = target;
  }

  /** The handler of `type`, or null. */
  get(type: string): Handler | null {
    return this.slots.get(type)?.handler ?? null;
  }

  /** Sets the handler of `type`; anything but a function clears it (WebIDL's non-object → null). */
  set(type: string, value: unknown): void {
    const slot = this.slots.get(type);
    if (typeof value !== 'function') {
      if (slot === undefined) return;
      this.target.removeEventListener(type, slot.listener);
      this.slots.delete(type);
      return;
    }
    if (slot !== undefined) {
      slot.handler = value as Handler;
      return;
    }
    const target = this.target;
    const created: Slot = {
      handler: value as Handler,
      listener: (event) => {
        created.handler.call(target, event);
      },
    };
    target.addEventListener(type, created.listener);
    this.slots.set(type, created);
  }
}
