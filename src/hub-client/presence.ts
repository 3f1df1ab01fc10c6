/**
 * Presence requests. The protocol's `presence` request carries no id, so answers are matched to
 * requests per topic, in order (the hub answers a connection's requests in order).
 * @module
 */
import { HubError } from './errors.js';
import { type PresenceEntry, presenceFrame } from './wire.js';

interface Request {
  readonly topic: string;
  readonly resolve: (clients: PresenceEntry[]) => void;
  readonly reject: (error: HubError) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** Sent on the current connection (an answer may come). */
  sent: boolean;
}

/** The presence requests of one client. */
export class PresenceRequests {
  readonly #requests: Request[] = [];

  /** `send` sends a frame when connected and returns false when not. */
  constructor(
    private readonly send: (frame: string) => boolean,
    private readonly timeoutMs: number,
  ) {}

  /** Asks who is present in `topic`; waits for a connection if needed, at most `timeoutMs` in all. */
  request(topic: string): Promise<PresenceEntry[]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#remove(request);
        reject(new HubError('timeout', `no presence answer within ${this.timeoutMs} ms`, { topic }));
      }, this.timeoutMs);
      const request: Request = { topic, resolve, reject, timer, sent: false };
      this.#requests.push(request);
      request.sent = this.send(presenceFrame(topic));
    });
  }

  #remove(request: Request): void {
    const index = this.#requests.indexOf(request);
    if (index !== -1) this.#requests.splice(index, 1);
    clearTimeout(request.timer);
  }

  /** Takes the oldest request for `topic` sent on this connection. */
  #take(topic: string): Request | undefined {
    const request = this.#requests.find((r) => r.sent && r.topic === topic);
    if (request !== undefined) this.#remove(request);
    return request;
  }

  /** A `presence` answer arrived. */
  answered(topic: string, clients: PresenceEntry[]): void {
    this.#take(topic)?.resolve(clients);
  }

  /** An error about `topic` while a request waits: it refuses the request. True when handled. */
  refused(error: HubError): boolean {
    const request = error.topic === undefined ? undefined : this.#take(error.topic);
    request?.reject(error);
    return request !== undefined;
  }

  /** A session is ready: (re)sends every request. */
  connected(): void {
    for (const request of this.#requests) request.sent = this.send(presenceFrame(request.topic));
  }

  /** The session ended: answers to the requests sent on it will not come. */
  disconnected(): void {
    for (const request of this.#requests) request.sent = false;
  }

  /** Rejects every request (the client closed). */
  clear(error: HubError): void {
    for (const request of this.#requests.splice(0)) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }
}
