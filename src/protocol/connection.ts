/**
 * One WebSocket connection after its opening handshake, without I/O: received bytes go in through
 * {@link WebSocketProtocol.receive}, events and bytes to send come out through a {@link ProtocolHandler}.
 * Client and server differ only in masking (RFC 6455 §5.1).
 * @module
 */
import { buildClosePayload, isValidWireCloseCode, parseClosePayload, truncateReason } from './close.js';
import { MAX_CONTROL_PAYLOAD, Opcode, ReadyState } from './constants.js';
import { ProtocolError } from './errors.js';
import type { Extension } from './extension.js';
import {
  type Allocate,
  COALESCE_LIMIT,
  encodeFrameBuffer,
  encodeMaskedFrame,
  headerSize,
  writeHeader,
} from './frame-writer.js';
import type { PreparedMessage } from './prepared-message.js';
import { defaultMaskKeySource, MaskKeySource } from './random.js';
import { Receiver, type ReceiverSink } from './receiver.js';
import type { ProtocolHandler, ProtocolOptions } from './types.js';
import { isValidUtf8 } from './utf8.js';

/** Default of `maxFrameSize` and `maxMessageSize`: 16 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const defaultAllocate: Allocate = (size) => new Uint8Array(size);

/** Options of one outgoing message. */
export interface SendOptions {
  /** Send as binary. Default: false for strings, true for bytes. */
  binary?: boolean;
  /** Let extensions (permessage-deflate) transform the message. Default true. */
  compress?: boolean;
  /** Split the message into frames of at most this many payload bytes. Default: one frame. */
  fragmentSize?: number;
  /**
   * RSV bits of a payload that the negotiated extensions claiming them already encoded (a proxy
   * forwarding a compressed message untouched, RFC 7692 §6): it is sent as it is with these bits on its
   * first frame, without extension encoding and without the UTF-8 check of text. Default 0. RangeError
   * for a bit no negotiated extension claims.
   */
  encodedRsv?: number;
  /**
   * The caller vouches that text bytes are valid UTF-8 because a receiver already checked them (a proxy
   * forwarding a text message), so the check `send` otherwise makes is skipped. Default false.
   */
  utf8Valid?: boolean;
}

/** Extra options of the protocol object, for the Node layers. */
export interface ProtocolInternals {
  /** Allocator of outgoing and reassembly buffers (`Buffer.allocUnsafe` in Node). */
  allocate?: Allocate;
  /** Allocator of outgoing frames only (short-lived: a pool suits them). Default: `allocate`. */
  allocateFrame?: Allocate;
  /** UTF-8 encoder for strings (`Buffer.from(s, 'utf8')` in Node, faster than TextEncoder there). */
  /**
   * With `room` > 0 the result must start with `room` spare bytes (overwritten by the caller) before the
   * UTF-8 text: the frame header goes there, so a small text frame costs one copy of the text.
   */
  encodeText?: (text: string, room?: number) => Uint8Array;
}

function defaultEncodeText(text: string, room = 0): Uint8Array {
  const bytes = encoder.encode(text);
  if (room === 0) return bytes;
  const out = new Uint8Array(room + bytes.length);
  out.set(bytes, room);
  return out;
}

/** Largest header of an unmasked frame (RFC 6455 §5.2: 2 bytes + a 64-bit length). */
const MAX_UNMASKED_HEADER = 10;

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

function controlPayload(data: string | Uint8Array | undefined): Uint8Array {
  const payload = data === undefined ? EMPTY : toBytes(data);
  // RFC 6455 §5.5: control frame payloads are at most 125 bytes.
  if (payload.length > MAX_CONTROL_PAYLOAD) throw new RangeError('control frame payload over 125 bytes');
  return payload;
}

/** The RFC 6455 state machine of one connection: framing, fragmentation, control frames, closing. */
export class WebSocketProtocol implements ReceiverSink {
  /** CONNECTING is the handshake, owned by the layers above; this object starts OPEN. */
  readyState: ReadyState = ReadyState.OPEN;
  /** The status code of the close frame received (1005 for none), once one arrived. */
  closeCode: number | undefined;
  closeReason = '';
  closeSent = false;
  closeReceived = false;
  readonly server: boolean;
  readonly extensions: readonly Extension[];

  private readonly handler: ProtocolHandler;
  private readonly receiver: Receiver;
  private readonly keys: MaskKeySource | null;
  /** Allocates outgoing frames. */
  private readonly allocate: Allocate;
  private readonly autoPong: boolean;
  private readonly encodeText: (text: string, room?: number) => Uint8Array;

  constructor(handler: ProtocolHandler, options: ProtocolOptions & ProtocolInternals) {
    this.handler = handler;
    this.server = options.role === 'server';
    this.extensions = options.extensions ?? [];
    const allocate = options.allocate ?? defaultAllocate;
    this.allocate = options.allocateFrame ?? allocate;
    this.autoPong = options.autoPong ?? true;
    this.encodeText = options.encodeText ?? defaultEncodeText;
    const fill = options.randomFill;
    this.keys = this.server ? null : fill ? new MaskKeySource(fill) : defaultMaskKeySource();
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.receiver = new Receiver(
      {
        server: this.server,
        maxFrameSize: options.maxFrameSize ?? DEFAULT_MAX_MESSAGE_SIZE,
        maxMessageSize,
        extensions: this.extensions,
        allocate,
      },
      this,
    );
  }

  /**
   * Parses received bytes; events reach the handler before this returns. Masked payloads are unmasked in
   * place, so `chunk` is modified. A protocol violation fails the connection (close frame, `onError`)
   * instead of throwing; errors thrown by the handler propagate.
   */
  receive(chunk: Uint8Array): void {
    if (!this.receiver.stopped) this.parse(chunk);
  }

  /**
   * Stops delivering events after the current one, holding back the rest of the received bytes (the
   * caller should also stop reading from its socket). Used for backpressure.
   */
  pause(): void {
    this.receiver.pause();
  }

  /** Delivers what {@link pause} held back, then continues as usual. */
  resume(): void {
    if (!this.receiver.stopped) this.parse(null);
  }

  /** Feeds the receiver (or resumes it, for `null`); a ProtocolError fails the connection. */
  private parse(chunk: Uint8Array | null): void {
    try {
      if (chunk === null) this.receiver.resume();
      else this.receiver.receive(chunk);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.fail(error);
    }
  }

  /**
   * Sends a text (string) or binary (bytes) message. Returns false once a close frame was sent. Bytes sent
   * as text must be valid UTF-8 (TypeError otherwise).
   */
  send(data: string | Uint8Array, options: SendOptions = {}): boolean {
    if (this.closeSent) return false;
    const isText = options.binary === undefined ? typeof data === 'string' : !options.binary;
    if (options.encodedRsv) return this.sendEncoded(toBytes(data), isText, options);
    // RFC 6455 §5.6: a text message is UTF-8; refuse to put anything else on the wire as text.
    if (isText && typeof data !== 'string' && options.utf8Valid !== true && !isValidUtf8(data)) {
      throw new TypeError('text message bytes are not valid UTF-8');
    }
    if (typeof data === 'string' && isText && this.framesTextDirectly(options)) return this.sendText(data);
    const payload = typeof data === 'string' ? this.encodeText(data) : data;
    const opcode = isText ? Opcode.TEXT : Opcode.BINARY;
    if (this.extensions.length === 0) this.writeMessage(opcode, payload, 0, options.fragmentSize ?? 0);
    else this.writeTransformed(opcode, payload, options);
    return true;
  }

  /** Sends a payload the extensions already encoded (see {@link SendOptions.encodedRsv}). */
  private sendEncoded(payload: Uint8Array, isText: boolean, options: SendOptions): true {
    const rsv = options.encodedRsv!;
    let claimed = 0;
    for (const extension of this.extensions) claimed |= extension.rsv;
    // RFC 6455 §5.2: an RSV bit no negotiated extension defines would fail the connection at the peer.
    if ((rsv & ~claimed) !== 0)
      throw new RangeError('encodedRsv names RSV bits no negotiated extension claims');
    this.writeMessage(isText ? Opcode.TEXT : Opcode.BINARY, payload, rsv, options.fragmentSize ?? 0);
    return true;
  }

  /** Lets the extensions transform a message (RFC 6455 §9: in their negotiated order), then sends it. */
  private writeTransformed(opcode: number, data: Uint8Array, options: SendOptions): void {
    let payload = data;
    let rsv = 0;
    const info = { isText: opcode === Opcode.TEXT, compress: options.compress ?? true };
    for (const extension of this.extensions) {
      const encoded = extension.encode(payload, info);
      if (encoded !== null) {
        payload = encoded;
        rsv |= extension.rsv;
      }
    }
    this.writeMessage(opcode, payload, rsv, options.fragmentSize ?? 0);
  }

  /** True when a text message needs no masking, no extension and no fragmentation. */
  private framesTextDirectly(options: SendOptions): boolean {
    const fragmentSize = options.fragmentSize;
    return this.server && this.extensions.length === 0 && (fragmentSize === undefined || fragmentSize <= 0);
  }

  /** An unfragmented, unmasked, untransformed text message: the text is encoded right behind its header. */
  private sendText(text: string): true {
    const room = MAX_UNMASKED_HEADER;
    const buffer = this.encodeText(text, room);
    const length = buffer.length - room;
    if (length > COALESCE_LIMIT) {
      this.writeFrame(Opcode.TEXT, buffer.subarray(room), true, 0);
      return true;
    }
    const start = room - headerSize(length, false);
    writeHeader(buffer, start, Opcode.TEXT, true, 0, length);
    this.handler.write(buffer.subarray(start));
    return true;
  }

  /**
   * Sends a prepared message. In the server role its frame bytes are built once per distinct encoding and
   * shared by every connection; the client role must mask, so it frames the payload itself.
   */
  sendPrepared(message: PreparedMessage): boolean {
    if (this.closeSent) return false;
    const options = { binary: message.isBinary, compress: message.compress };
    if (!this.server) return this.send(message.payload, options);
    let payload = message.payload;
    let rsv = 0;
    if (message.compress && this.extensions.length > 0) {
      const extension = this.extensions[0]!;
      // Sharing bytes needs an encoding independent of this connection; one extension at most keeps it simple.
      if (this.extensions.length > 1 || !extension.encodeShared) return this.send(message.payload, options);
      const info = { isText: !message.isBinary, compress: true };
      const encoded = extension.encodeShared(payload, info, message.extensionCache);
      if (encoded !== null) {
        payload = encoded;
        rsv = extension.rsv;
      }
    }
    let frame = message.frames.get(payload);
    if (frame === undefined) {
      frame = this.allocate(headerSize(payload.length, false) + payload.length);
      const opcode = message.isBinary ? Opcode.BINARY : Opcode.TEXT;
      frame.set(payload, writeHeader(frame, 0, opcode, true, rsv, payload.length));
      message.frames.set(payload, frame);
    }
    this.handler.write(frame);
    return true;
  }

  /** Sends a ping (payload at most 125 bytes). Returns false once a close frame was sent. */
  ping(payload?: string | Uint8Array): boolean {
    const bytes = controlPayload(payload);
    if (this.closeSent) return false;
    this.writeFrame(Opcode.PING, bytes, true, 0);
    return true;
  }

  /** Sends an unsolicited or manual pong (payload at most 125 bytes). */
  pong(payload?: string | Uint8Array): boolean {
    const bytes = controlPayload(payload);
    if (this.closeSent) return false;
    this.writeFrame(Opcode.PONG, bytes, true, 0);
    return true;
  }

  /**
   * Starts (or completes) the closing handshake. Without a code the close frame is empty. Throws a
   * RangeError for codes that must not be sent (1005, 1006, 1015, ...) or a reason over 123 bytes.
   * Returns false when a close frame was already sent.
   */
  close(code?: number, reason?: string): boolean {
    const payload = buildClosePayload(code, reason);
    if (this.closeSent) return false;
    // State first: a handler whose write() makes the peer answer at once re-enters receive().
    this.closeSent = true;
    this.readyState = ReadyState.CLOSING;
    this.writeFrame(Opcode.CLOSE, payload, true, 0);
    return true;
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a close frame with the error's code unless one was
   * sent, stops reading, and reports the error. The transport then closes the connection. Layers above
   * use it for their own limits too (e.g. 1008 for a policy, 1011 for an internal error).
   */
  fail(error: ProtocolError): void {
    if (this.readyState === ReadyState.CLOSED && this.receiver.stopped) return;
    this.receiver.stopped = true;
    if (!this.closeSent) {
      this.closeSent = true;
      // A code that may not go on the wire (1006 for a dropped connection) fails without a close frame.
      if (isValidWireCloseCode(error.closeCode)) {
        const payload = buildClosePayload(error.closeCode, truncateReason(error.message));
        this.writeFrame(Opcode.CLOSE, payload, true, 0);
      }
    }
    this.readyState = ReadyState.CLOSED;
    this.release();
    this.handler.onError?.(error);
  }

  /** The transport's connection ended (cleanly or not): no more I/O happens. */
  connectionLost(): void {
    this.receiver.stopped = true;
    this.closeSent = true;
    if (this.readyState !== ReadyState.CLOSED) {
      this.readyState = ReadyState.CLOSED;
      this.release();
    }
  }

  /** @internal Receiver callback: a complete data message. */
  message(data: Uint8Array, isBinary: boolean): void {
    this.handler.onMessage(data, isBinary);
  }

  /** @internal Receiver callback: a complete control frame. */
  control(opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.PING) {
      // RFC 6455 §5.5.2: answer with the same payload unless the peer's close already arrived. Having sent
      // our own close does not excuse us: §5.5.1 forbids only data frames after it.
      if (this.autoPong && !this.closeReceived) this.writeFrame(Opcode.PONG, payload, true, 0);
      this.handler.onPing?.(payload);
    } else if (opcode === Opcode.PONG) {
      this.handler.onPong?.(payload);
    } else {
      this.receiveClose(payload);
    }
  }

  private receiveClose(payload: Uint8Array): void {
    const { code, reason } = parseClosePayload(payload);
    // RFC 6455 §5.5.1: nothing that follows a close frame is data.
    this.receiver.stopped = true;
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = reason;
    const reply = !this.closeSent;
    this.closeSent = true;
    this.readyState = ReadyState.CLOSED;
    // Echo the status code (RFC 6455 §5.5.1); an empty close is answered by an empty close.
    if (reply) this.writeFrame(Opcode.CLOSE, payload.subarray(0, Math.min(2, payload.length)), true, 0);
    this.release();
    this.handler.onClose?.(code, reason);
  }

  private writeMessage(opcode: number, payload: Uint8Array, rsv: number, fragmentSize: number): void {
    if (fragmentSize <= 0 || payload.length <= fragmentSize) {
      this.writeFrame(opcode, payload, true, rsv);
      return;
    }
    // RFC 6455 §5.4: the first frame carries the opcode (and RSV bits), the rest are continuations.
    for (let offset = 0; offset < payload.length; offset += fragmentSize) {
      const end = Math.min(offset + fragmentSize, payload.length);
      const first = offset === 0;
      this.writeFrame(
        first ? opcode : Opcode.CONTINUATION,
        payload.subarray(offset, end),
        end === payload.length,
        first ? rsv : 0,
      );
    }
  }

  private writeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): void {
    if (this.keys !== null) {
      this.handler.write(encodeMaskedFrame(this.allocate, opcode, payload, fin, rsv, this.keys.nextWord()));
      return;
    }
    const length = payload.length;
    if (length <= COALESCE_LIMIT) {
      this.handler.write(encodeFrameBuffer(this.allocate, opcode, payload, fin, rsv));
      return;
    }
    // A large unmasked payload goes out untouched after its own header (no copy).
    const header = this.allocate(headerSize(length, false));
    writeHeader(header, 0, opcode, fin, rsv, length);
    this.handler.write(header);
    this.handler.write(payload);
  }

  private release(): void {
    for (const extension of this.extensions) extension.close();
  }
}
