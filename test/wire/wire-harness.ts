/**
 * The wire-level Autobahn-style suite's single import point. Unlike `test/conformance/` (frames fed
 * straight into the protocol object), these cases talk to the product over real TCP on 127.0.0.1:
 * "fuzzing client" mode against the `conduit echo` command (files `server-*.test.ts`) and "fuzzing
 * server" mode against the client `WebSocket` (files `client-*.test.ts`).
 *
 * Modules by concern: `wire-frames.ts` (incremental frame parser and wire checks), `wire-endpoint.ts`
 * (our side of a connection), `wire-client.ts` (raw upgrade as a client), `wire-echo-server.ts` (the
 * child process), `wire-fuzz-server.ts` (raw server for the client cases), `wire-expect.ts` (judging),
 * `wire-deflate.ts` (RFC 7692 negotiation checks and our own zlib codec).
 * @module
 */
import { after, before, it } from 'node:test';
import { concat, hex, OP, utf8 } from '../conformance/harness.js';
import { KOSME } from '../conformance/utf8-vectors.js';
import type { HttpHead } from './wire-client.js';
import { openRaw, type RawOpenOptions } from './wire-client.js';
import { type EchoServer, startEcho } from './wire-echo-server.js';
import type { WireEndpoint } from './wire-endpoint.js';

export * from '../conformance/harness.js';
export * from './wire-client.js';
export * from './wire-echo-server.js';
export * from './wire-endpoint.js';
export * from './wire-expect.js';
export * from './wire-frames.js';
export * from './wire-fuzz-server.js';

/** A port getter for an echo server started in `before()` and killed in `after()`. */
export interface EchoHandle {
  readonly port: number;
  readonly server: EchoServer;
}

/** Starts one `conduit echo` child for the current test file (`before`/`after` hooks). */
export function useEchoServer(args: string[] = ['--deflate']): EchoHandle {
  let server: EchoServer | undefined;
  before(async () => {
    server = await startEcho(args);
  });
  after(async () => {
    await server?.stop();
  });
  return {
    get port(): number {
      if (server === undefined) throw new Error('the echo server did not start');
      return server.port;
    },
    get server(): EchoServer {
      if (server === undefined) throw new Error('the echo server did not start');
      return server;
    },
  };
}

/** Options of one {@link serverCase}. */
export interface CaseOptions extends RawOpenOptions {
  /** Bound of the whole case, in ms. Default 10 000. */
  timeout?: number;
}

/**
 * One case against the echo server: a fresh raw connection (upgraded by hand) handed to `body`, destroyed
 * afterwards whatever happened.
 */
export function serverCase(
  handle: EchoHandle,
  id: string,
  title: string,
  body: (ep: WireEndpoint, response: HttpHead) => Promise<void>,
  options: CaseOptions = {},
): void {
  it(`${id} ${title}`, { timeout: options.timeout ?? 10_000 }, async () => {
    const { endpoint, response } = await openRaw(handle.port, options);
    try {
      await body(endpoint, response);
    } finally {
      endpoint.destroy();
    }
  });
}

/** The pause Autobahn's 6.4.x cases leave between parts (1 s there; shorter here to keep the suite fast). */
export const PAUSE_MS = 300;

/** A text message cut into frames of one byte each (most cuts fall inside a character). */
export function byteFragments(ep: WireEndpoint, bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) return [ep.build.text(bytes)];
  return Array.from(bytes, (_, i) =>
    ep.build.raw({
      opcode: i === 0 ? OP.TEXT : OP.CONT,
      payload: bytes.subarray(i, i + 1),
      fin: i === bytes.length - 1,
    }),
  );
}

/**
 * One frame cut into consecutive writes at `offsets` counted in its payload (the header goes with the
 * first write), for cases that judge when the peer reacts to a part of a single frame.
 */
export function cutPayload(
  frame: Uint8Array,
  payloadLength: number,
  offsets: readonly number[],
): Uint8Array[] {
  const header = frame.length - payloadLength;
  const bounds = [0, ...offsets.map((offset) => header + offset), frame.length];
  return bounds.slice(1).map((end, i) => frame.subarray(bounds[i], end));
}

/** Autobahn's 6.4.x text: κόσμε, then f4 90 80 80 (U+110000 in the UTF-8 scheme: out of range), "edited". */
export const FAIL_FAST_TEXT = concat(KOSME, hex('f4 90 80 80'), utf8('edited'));

/**
 * Autobahn 6.4.3 and 6.4.4: {@link FAIL_FAST_TEXT} in one frame, written in 3 parts cut at these payload
 * offsets; what the 2nd part holds makes the text invalid.
 */
export const ONE_FRAME_CUTS: readonly { id: string; title: string; offsets: readonly number[] }[] = [
  {
    id: '6.4.3',
    title: '1 frame in 3 writes, the 2nd holds f4 90 80 80: 1007 right after write 2',
    offsets: [KOSME.length, KOSME.length + 4],
  },
  {
    id: '6.4.4',
    title: '1 frame in 3 writes, the 2nd holds only the byte 90: 1007 right after write 2',
    offsets: [12, 13],
  },
];
