/**
 * permessage-deflate helpers of the conformance suite (RFC 7692): a reference compressor and inflater
 * built on node:zlib, independent of the code under test, and a negotiation that goes through the
 * Sec-WebSocket-Extensions header syntax like a real handshake. Separate because only the compression
 * tests need zlib and the extension factory.
 * @module
 */
import assert from 'node:assert/strict';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Extension, ExtensionParams } from '../../src/protocol/extension.js';
import { parseExtensions, serializeExtensions } from '../../src/protocol/extension-header.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../../src/protocol/permessage-deflate.js';
import { concat, joinBytes } from './harness-bytes.js';

/** The trailing bytes a sender removes from a compressed message (RFC 7692 §7.2.1). */
const DEFLATE_TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/**
 * Compresses a message with node:zlib the way RFC 7692 §7.2.1 describes, independently of the code
 * under test: a sync flush with the trailing 00 00 ff ff removed, or (`bfinal`) a finished stream whose
 * last block has BFINAL set (§7.2.3.4).
 */
export function deflateMessage(payload: Uint8Array, windowBits = 15, bfinal = false): Uint8Array {
  const flush = bfinal ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  const out = new Uint8Array(deflateRawSync(payload, { windowBits, finishFlush: flush }));
  return bfinal ? out : out.subarray(0, out.length - 4);
}

/**
 * Inflates compressed message payloads with node:zlib and a window of `windowBits`: one stream over all
 * messages when the sender may use context takeover, a fresh one per message otherwise. zlib refuses
 * back-references beyond its window, so this also checks the sender kept to the negotiated window and
 * to no_context_takeover (RFC 7692 §7.1.1, §7.1.2).
 */
export function inflateMessages(payloads: Uint8Array[], windowBits: number, takeover: boolean): Uint8Array[] {
  // Small output chunks: zlib only checks distances against the window for bytes of earlier chunks.
  const options = { windowBits, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 64 };
  if (!takeover) return payloads.map((p) => new Uint8Array(inflateRawSync(concat(p, DEFLATE_TAIL), options)));
  const joined = inflateRawSync(joinBytes(payloads.flatMap((p) => [p, DEFLATE_TAIL])), options);
  return [new Uint8Array(joined)];
}

/** The outcome of a permessage-deflate negotiation. */
export interface DeflatePair {
  client: Extension;
  server: Extension;
  /** The server's response parameters, as the client read them from the header. */
  response: ExtensionParams;
}

/**
 * Negotiates permessage-deflate like a handshake would: the client's offer and the server's response
 * go through the Sec-WebSocket-Extensions header syntax (RFC 6455 §9.1, RFC 7692 §7.1).
 */
export function negotiateDeflate(
  clientOptions: PerMessageDeflateOptions = {},
  serverOptions: PerMessageDeflateOptions = {},
): DeflatePair {
  const clientFactory = perMessageDeflate(clientOptions);
  const serverFactory = perMessageDeflate(serverOptions);
  const offerHeader = serializeExtensions(
    clientFactory.offer().map((params) => ({ name: clientFactory.name, params })),
  );
  const offers = parseExtensions(offerHeader).filter((o) => o.name === serverFactory.name);
  const accepted = serverFactory.accept(offers.map((o) => o.params));
  assert.ok(accepted, `the server declined ${offerHeader}`);
  const [answer] = parseExtensions(
    serializeExtensions([{ name: serverFactory.name, params: accepted.params }]),
  );
  const response = { ...answer!.params };
  return { client: clientFactory.confirm(response), server: accepted.extension, response };
}
