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
