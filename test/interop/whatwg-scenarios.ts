/**
 * Interop scenarios written against the WHATWG WebSocket API alone, so that the same code runs in a
 * browser page, in Node's global (undici) WebSocket and with Conduit's own client. Each scenario opens
 * its own connection to `<base>?case=<name>` (the server logs connections by request target) against
 * the command server of conduit-peer.ts, and returns a JSON-serializable result that the test checks.
 *
 * This module is served as-is to the browser: it must import nothing at run time.
 */

/**
 * What the server sends back for `fragment`: a text message in frames of {@link FRAGMENT_SIZE} bytes.
 * Its 8-byte unit does not divide the frame size, so frame boundaries split characters (RFC 6455 §5.6
 * validates UTF-8 over the whole message, not per frame).
 */
export const FRAGMENTED_TEXT = 'abc✓é'.repeat(500);
/** Payload bytes per frame of the server's fragmented text message. */
export const FRAGMENT_SIZE = 700;
/** Size of the binary message the server sends for `fragment-binary`, in frames of 4 KiB. */
export const FRAGMENTED_BINARY_SIZE = 64 * 1024;
/** Size of the large messages (binary and text) of the `large` scenario. */
export const LARGE_SIZE = 1024 * 1024;
/** A message that deflates to a small fraction of its size. */
export const COMPRESSIBLE_TEXT = 'compress me, please! '.repeat(10_000);
/** Messages sent by the `repeated` scenario: context takeover makes all but the first tiny. */
export const REPEATED_COUNT = 8;
/** Size of the pseudo-random text block each `repeated` message carries. */
export const REPEATED_BLOCK_SIZE = 4096;
/** Text with characters of 1 to 4 UTF-8 bytes. */
export const UNICODE_TEXT = 'héllo wörld ✓ 𝄞';

/** The scenarios, in the order they run. */
export const SCENARIOS = [
  'text',
  'binary',
  'large',
  'fragmented',
  'compression',
  'repeated',
  'broadcast',
  'ping',
  'client-close',
  'server-close',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The part of the WHATWG WebSocket interface the scenarios use (browsers, undici and Conduit fit it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly extensions: string;
  readonly protocol: string;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: Event) => void, options?: { once?: boolean }): void;
}

/** Creates a WebSocket for `url` offering `protocols`. */
export type OpenWebSocket = (url: string, protocols?: string[]) => WebSocketLike;

/** A scenario's result: its data, or the error that stopped it. */
export type ScenarioResult = Record<string, unknown> & { error?: string };

/** A close event's fields. */
export interface CloseInfo {
  code: number;
  reason: string;
  wasClean: boolean;
}

/** The pattern of binary test payloads: not periodic at 256, so that a shifted chunk is noticed. */
export function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

/** A text of about `size` bytes of UTF-8, mixing 1- and 2-byte characters. */
export function largeText(size: number): string {
  const unit = 'WebSocket ümlaut '; // 18 bytes of UTF-8
  return unit.repeat(Math.floor(size / 18));
}

/**
 * Deterministic text of `size` characters from a 64-letter alphabet: it deflates to about 3/4 on its
 * own, so only a shared window (context takeover, RFC 7692 §7.1.1) makes a repeat of it small.
 */
export function pseudoRandomText(size: number, seed = 1): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let state = seed >>> 0;
  let text = '';
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    text += alphabet[state >>> 26];
  }
  return text;
}

/** The `i`-th message of the `repeated` scenario. */
export function repeatedMessage(i: number): string {
  return `${i} ${pseudoRandomText(REPEATED_BLOCK_SIZE)}`;
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function sha256(data: ArrayBuffer | Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The kind of a received message, named portably (instanceof fails across realms). */
function kindOf(data: unknown): string {
  return typeof data === 'string' ? 'string' : Object.prototype.toString.call(data).slice(8, -1);
}

async function bytesOf(data: unknown): Promise<Uint8Array> {
  if (data instanceof Blob || kindOf(data) === 'Blob')
    return new Uint8Array(await (data as Blob).arrayBuffer());
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data as ArrayBuffer);
}

/** One open connection with a message queue and its close event. */
class Session {
  readonly ws: WebSocketLike;
  readonly closed: Promise<CloseInfo>;
  private readonly queue: unknown[] = [];
  private waiter: ((data: unknown) => void) | null = null;

  constructor(ws: WebSocketLike) {
    this.ws = ws;
    ws.addEventListener('message', (event) => {
      const data = (event as MessageEvent).data;
      const waiter = this.waiter;
      this.waiter = null;
      if (waiter === null) this.queue.push(data);
      else waiter(data);
    });
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (event) => {
        const { code, reason, wasClean } = event as CloseEvent;
        resolve({ code, reason, wasClean });
      });
    });
  }

  static async open(open: OpenWebSocket, url: string, protocols?: string[]): Promise<Session> {
    const session = new Session(open(url, protocols));
    const opened = new Promise<void>((resolve, reject) => {
      session.ws.addEventListener('open', () => resolve(), { once: true });
      session.ws.addEventListener('error', () => reject(new Error(`error event before open: ${url}`)), {
        once: true,
      });
    });
    await bounded(opened, 5000, `open ${url}`);
    return session;
  }

  next(ms = 10_000): Promise<unknown> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return bounded(
      new Promise((resolve) => {
        this.waiter = resolve;
      }),
      ms,
      'next message',
    );
  }

  /** Closes (when still open) and waits for the close event. */
  async close(code?: number, reason?: string): Promise<CloseInfo> {
    if (this.ws.readyState <= 1) this.ws.close(code, reason);
    return bounded(this.closed, 5000, 'close event');
  }
}

type Scenario = (session: Session) => Promise<Record<string, unknown>>;

const scenarios: Record<ScenarioName, { protocols?: string[]; run: Scenario }> = {
  text: {
    protocols: ['superchat', 'chat'],
    run: async (s) => {
      s.ws.send(UNICODE_TEXT);
      s.ws.send('');
      const echoes = [await s.next(), await s.next()];
      return { protocol: s.ws.protocol, extensions: s.ws.extensions, echoes };
    },
  },
  binary: {
    run: async (s) => {
      s.ws.binaryType = 'arraybuffer';
      s.ws.send(new Uint8Array([0, 1, 2, 253, 254, 255]).buffer);
      const fromArrayBuffer = await s.next();
      s.ws.send(new Uint16Array([0x0102, 0x0304]));
      const fromView = await s.next();
      s.ws.binaryType = 'blob';
      s.ws.send(new Blob([new Uint8Array([9, 8, 7]), 'blob']));
      const fromBlob = await s.next();
      const describe = async (data: unknown) => ({ kind: kindOf(data), bytes: [...(await bytesOf(data))] });
      return {
        arrayBuffer: await describe(fromArrayBuffer),
        view: await describe(fromView),
        blob: await describe(fromBlob),
      };
    },
  },
  large: {
    run: async (s) => {
      s.ws.binaryType = 'arraybuffer';
      s.ws.send(patterned(LARGE_SIZE));
      const binary = await bytesOf(await s.next(20_000));
      const text = largeText(LARGE_SIZE);
      s.ws.send(text);
      const echoedText = await s.next(20_000);
      return {
        binaryLength: binary.length,
        binarySha256: await sha256(binary),
        textEqual: echoedText === text,
        textLength: typeof echoedText === 'string' ? echoedText.length : -1,
      };
    },
  },
  fragmented: {
    run: async (s) => {
      s.ws.binaryType = 'arraybuffer';
      s.ws.send('fragment');
      const text = await s.next();
      s.ws.send('fragment-binary');
      const binary = await bytesOf(await s.next());
      return {
        textEqual: text === FRAGMENTED_TEXT,
        binaryLength: binary.length,
        binarySha256: await sha256(binary),
      };
    },
  },
  compression: {
    run: async (s) => {
      s.ws.send(COMPRESSIBLE_TEXT);
      const echoed = await s.next();
      return { extensions: s.ws.extensions, equal: echoed === COMPRESSIBLE_TEXT };
    },
  },
  repeated: {
    run: async (s) => {
      // One at a time, so that each message's size on the wire can be told apart.
      let equal = true;
      for (let i = 0; i < REPEATED_COUNT; i++) {
        s.ws.send(repeatedMessage(i));
        equal &&= (await s.next()) === repeatedMessage(i);
      }
      return { extensions: s.ws.extensions, equal };
    },
  },
  broadcast: {
    run: async (s) => {
      // A broadcast is compressed once, outside this connection's context: the message after it must
      // not refer back past it as if it were not in our window (RFC 7692 §7.2.3.2).
      const received: unknown[] = [];
      s.ws.send(repeatedMessage(0));
      received.push(await s.next());
      s.ws.send('broadcast');
      received.push(await s.next());
      s.ws.send(repeatedMessage(2));
      received.push(await s.next());
      s.ws.send(repeatedMessage(0));
      received.push(await s.next());
      const expected = [0, 1, 2, 0].map(repeatedMessage);
      return { equal: received.map((data, i) => data === expected[i]) };
    },
  },
  ping: {
    run: async (s) => {
      // The server pings, our (automatic) pong makes it answer with a text message.
      s.ws.send('ping:interop');
      return { message: await s.next() };
    },
  },
  'client-close': {
    run: async (s) => ({ close: await s.close(4001, 'client bye ✓') }),
  },
  'server-close': {
    run: async (s) => {
      s.ws.send('close:4002:server bye ✓');
      return { close: await bounded(s.closed, 5000, 'server close') };
    },
  },
};

/** Runs one scenario on a connection of its own; never throws (errors become `{ error }`). */
export async function runScenario(
  open: OpenWebSocket,
  base: string,
  name: ScenarioName,
): Promise<ScenarioResult> {
  const url = `${base}${base.includes('?') ? '&' : '?'}case=${name}`;
  const scenario = scenarios[name];
  let session: Session | undefined;
  try {
    session = await Session.open(open, url, scenario.protocols);
    return await bounded(scenario.run(session), 30_000, `scenario ${name}`);
  } catch (error) {
    return { error: String((error as Error)?.stack ?? error) };
  } finally {
    await session?.close().catch(() => {});
  }
}

/** Runs every scenario, one after the other; resolves with the results by name. */
export async function runScenarios(
  open: OpenWebSocket,
  base: string,
): Promise<Record<ScenarioName, ScenarioResult>> {
  const results = {} as Record<ScenarioName, ScenarioResult>;
  for (const name of SCENARIOS) results[name] = await runScenario(open, base, name);
  return results;
}
