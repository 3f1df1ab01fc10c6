/**
 * Conversions at the WHATWG API boundary: what `send()` accepts into what the transport sends, and a
 * received binary message into the type `binaryType` asks for.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { BinaryType } from './options.js';
import type { QueuedData } from './send-queue.js';

/** What `send()` accepts (WHATWG: `BufferSource or Blob or USVString`). */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/**
 * The payload of `send(data)`: strings stay text; ArrayBuffers and views become byte views without a
 * copy (the client masks into a new buffer anyway, RFC 6455 §5.3); Blobs stay Blobs; anything else is
 * converted to a string, as WebIDL converts it to USVString.
 */
export function toPayload(data: unknown): QueuedData {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Blob) return data;
  return String(data);
}

/** Payload bytes of a message to send (UTF-8 length for text), for `bufferedAmount`. */
export function payloadSize(payload: QueuedData): number {
  if (typeof payload === 'string') return Buffer.byteLength(payload, 'utf8');
  if (payload instanceof Blob) return payload.size;
  return payload.byteLength;
}

/**
 * A received binary message as `binaryType` asks: a Buffer view of the received bytes ('nodebuffer'),
 * an ArrayBuffer of its own ('arraybuffer': copied unless the view spans its whole buffer), or a Blob.
 */
export function binaryMessage(data: Buffer, binaryType: BinaryType): Buffer | ArrayBuffer | Blob {
  if (binaryType === 'nodebuffer') return data;
  if (binaryType === 'blob') return new Blob([data as Uint8Array<ArrayBuffer>]);
  const buffer = data.buffer;
  if (data.byteOffset === 0 && data.byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) {
    return buffer;
  }
  return buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
