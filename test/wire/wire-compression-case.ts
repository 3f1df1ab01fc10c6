/**
 * The shape of an Autobahn category 12/13 case against the echo server, shared by the two files: offer
 * permessage-deflate, check that the 101 accepts one offer validly (RFC 7692 §7.1), then send messages
 * compressed by our own zlib within the negotiated client window and context takeover, one at a time,
 * and check each echo after inflating it with the negotiated server window and takeover.
 * @module
 */
import assert from 'node:assert/strict';
import {
  checkDeflateResponse,
  type DeflateAgreement,
  makeDeflater,
  makeInflater,
  sampleBinary,
  sampleJson,
} from './wire-deflate.js';
import {
  type EchoHandle,
  expectCleanClose,
  expectEvents,
  OP,
  RSV1,
  serverCase,
  type WireEndpoint,
} from './wire-harness.js';

/** One batch of messages: payload size, count, and the fragment size (0: one frame per message). */
export interface Batch {
  size: number;
  count: number;
  fragment: number;
  binary: boolean;
}

/** Asserts the 101 accepted one of our offers validly, and returns the agreement. */
export function agreementOf(offer: string, responseHeader: string | undefined): DeflateAgreement {
  const agreement = checkDeflateResponse(offer, responseHeader);
  assert.notEqual(agreement, null, `the server declined the valid offer "${offer}"`);
  assert.equal(typeof agreement, 'object', `invalid acceptance of "${offer}": ${String(agreement)}`);
  return agreement as DeflateAgreement;
}

/** Sets the endpoint up to read compressed messages under `agreement`. */
export function useAgreement(ep: WireEndpoint, agreement: DeflateAgreement): void {
  ep.allowedRsv = RSV1;
  ep.inflate = makeInflater(agreement.serverMaxWindowBits, !agreement.serverNoContextTakeover);
}

/** Sends the batch, each message compressed, waiting for each echo (as Autobahn does). */
export async function runBatch(ep: WireEndpoint, agreement: DeflateAgreement, batch: Batch): Promise<void> {
  const deflate = makeDeflater(agreement.clientMaxWindowBits, !agreement.clientNoContextTakeover);
  const opcode = batch.binary ? OP.BINARY : OP.TEXT;
  for (let k = 0; k < batch.count; k++) {
    const payload = batch.binary ? sampleBinary(batch.size, k + 1) : sampleJson(batch.size, k + 1);
    const compressed = await deflate(payload);
    const sizes = [batch.fragment > 0 ? batch.fragment : Math.max(1, compressed.length)];
    ep.writeFrames(ep.build.fragmented(opcode, compressed, sizes, { rsv: RSV1 }));
    await expectEvents(ep, [{ type: batch.binary ? 'binary' : 'text', payload }], 5000);
  }
}

/**
 * A case in a compressed session: offer `offer`, assert the 101 accepted it validly and set the endpoint
 * up to read compressed echoes, then hand over to `body`.
 */
export function deflatedCase(
  handle: EchoHandle,
  id: string,
  title: string,
  offer: string,
  body: (ep: WireEndpoint, agreement: DeflateAgreement) => Promise<void>,
  timeout?: number,
): void {
  serverCase(
    handle,
    id,
    title,
    async (ep, response) => {
      const agreement = agreementOf(offer, response.headers.get('sec-websocket-extensions'));
      useAgreement(ep, agreement);
      await body(ep, agreement);
    },
    { extensions: offer, timeout },
  );
}

/** One compression case: negotiate `offer`, run `batches`, close cleanly. */
export function compressionCase(
  handle: EchoHandle,
  id: string,
  title: string,
  offer: string,
  batches: Batch[],
): void {
  deflatedCase(
    handle,
    id,
    title,
    offer,
    async (ep, agreement) => {
      for (const batch of batches) await runBatch(ep, agreement, batch);
      await expectCleanClose(ep);
    },
    20_000,
  );
}

/** Autobahn's (payload size, auto-fragment size) list of categories 12 and 13. */
export const MESSAGE_SIZES: [number, number][] = [
  [16, 0],
  [64, 0],
  [256, 0],
  [1024, 0],
  [4096, 0],
  [8192, 0],
  [16384, 0],
  [32768, 0],
  [65536, 0],
  [131072, 0],
  [8192, 256],
  [16384, 256],
  [32768, 256],
  [65536, 256],
  [131072, 256],
  [131072, 1024],
  [131072, 4096],
  [131072, 32768],
];
