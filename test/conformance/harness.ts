/**
 * Test harness of the conformance suite. It builds raw frames byte by byte (independently of the
 * project's frame writer, so the suite does not trust the code under test), feeds them to a
 * `WebSocketProtocol` under any chunking, and records what comes out: events in order, and the
 * written bytes decoded back into frames.
 *
 * This module is the suite's single import point; the helpers live by concern in `harness-bytes.ts`
 * (PRNG, text, chunking), `harness-frames.ts` (frame builder and decoder), `harness-peer.ts` (the
 * recording connection and its assertions) and `harness-deflate.ts` (RFC 7692 reference codec and
 * negotiation).
 * @module
 */

export * from './harness-bytes.js';
export * from './harness-deflate.js';
export * from './harness-frames.js';
export * from './harness-peer.js';
