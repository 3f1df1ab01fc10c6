/**
 * zlib plumbing for permessage-deflate (RFC 7692 §7.2): a synchronous raw-DEFLATE compressor and
 * decompressor that keep their LZ77 context from one message to the next, and a process-wide pool of
 * them for connections that negotiated no context takeover.
 *
 * Why this file touches Node internals (the one place that decision lives):
 * the protocol core is synchronous (bytes in, events out), so compression must finish inside the call.
 * Node's zlib classes are asynchronous streams, and the `*Sync` helpers are one-shot: their
 * `processChunkSync` closes the zlib handle when it returns, so no context survives between messages.
 * Every Node zlib object does own a native handle with `writeSync(flush, in, inOff, inLen, out, outOff,
 * outLen)`, which runs one `deflate()`/`inflate()` call on the calling thread and leaves `avail_out` and
 * `avail_in` in the object's `_writeState`. That is exactly the path the `*Sync` helpers run on (checked
 * in lib/zlib.js of Node 20 and 24, and at runtime on both). We call it directly and own the output
 * buffer, which also lets us stop inflating as soon as a message outgrows its limit (a zip bomb never
 * allocates more than the limit plus one scratch buffer). Errors still go through Node's own handler
 * (the stream is destroyed and `errored` holds the zlib message); `reset()` and `close()` are public API.
 * Both internals are feature-checked when this module loads.
 * @module
 */
import * as zlib from 'node:zlib';
import { CloseCode } from './constants.js';
import { ProtocolError } from './errors.js';

const { Z_SYNC_FLUSH, Z_MIN_CHUNK } = zlib.constants;

/** The tail of every Z_SYNC_FLUSH: an empty stored block's LEN/NLEN (RFC 7692 §7.2.1, §7.2.2). */
export const DEFLATE_TAIL: Readonly<Uint8Array> = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/**
 * Smallest window raw DEFLATE can compress with: zlib >= 1.2.9 rejects 8 for raw streams and Node
 * silently turns 8 into 9, which could exceed what the peer agreed to receive.
 */
export const MIN_DEFLATE_WINDOW_BITS = 9;

/** Window every pooled decompressor uses: inflating with a window at least the sender's is always valid. */
export const POOLED_INFLATE_WINDOW_BITS = 15;

/** How many idle contexts of one kind the pool keeps before it closes the extra ones. */
const MAX_IDLE_PER_KEY = 8;
/** Size of the one scratch output buffer (zlib calls are synchronous, so one is enough per process). */
const SCRATCH_SIZE = 64 * 1024;

/** The native half of a Node zlib object: see the module comment. */
interface NativeZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
}
type NodeZlib = (zlib.DeflateRaw | zlib.InflateRaw) & {
  _handle: NativeZlibHandle | null;
  readonly _writeState: Uint32Array;
};

function assertSyncZlibAvailable(): void {
  const probe = zlib.createInflateRaw({ chunkSize: Z_MIN_CHUNK }) as unknown as Partial<NodeZlib>;
  const usable =
    typeof probe._handle?.writeSync === 'function' &&
    probe._writeState instanceof Uint32Array &&
    probe._writeState.length >= 2;
  (probe as zlib.InflateRaw).close();
  if (!usable) {
    throw new Error(
      `conduit: permessage-deflate needs the synchronous zlib path (_handle.writeSync and _writeState) ` +
        `of Node's zlib objects, which this Node.js ${process.version} does not have`,
    );
  }
}
assertSyncZlibAvailable();

let scratch: Uint8Array | undefined;
function scratchBuffer(): Uint8Array {
  scratch ??= new Uint8Array(SCRATCH_SIZE);
  return scratch;
}

// Node destroys a zlib object on error and emits 'error' later; the caller already got the error.
function ignoreStreamError(): void {}

/** Output copied out of the scratch buffer, joined once at the end. */
class Output {
  private readonly chunks: Uint8Array[] = [];
  total = 0;

  add(source: Uint8Array, length: number): void {
    if (length === 0) return;
    this.chunks.push(source.slice(0, length));
    this.total += length;
  }

  join(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0]!;
    const joined = new Uint8Array(this.total);
    let offset = 0;
    for (const chunk of this.chunks) {
      joined.set(chunk, offset);
      offset += chunk.length;
    }
    return joined;
  }
}

/** One raw-DEFLATE zlib context driven synchronously. */
abstract class RawDeflateContext {
  /** `avail_out` and `avail_in` after the last {@link step}. */
  protected availOut = 0;
  protected availIn = 0;
  private readonly z: NodeZlib;

  protected constructor(z: NodeZlib) {
    this.z = z;
    z.on('error', ignoreStreamError);
  }

  /** True once closed, or after zlib reported an error (Node then frees the context). */
  get closed(): boolean {
    return this.z.destroyed;
  }

  /** Runs one zlib call with Z_SYNC_FLUSH. Returns zlib's error message, or null on success. */
  protected step(input: Uint8Array, inOff: number, out: Uint8Array, outLen: number): string | null {
    const handle = this.z._handle;
    if (handle === null || this.z.destroyed) return 'zlib context is closed';
    handle.writeSync(Z_SYNC_FLUSH, input, inOff, input.length - inOff, out, 0, outLen);
    if (this.z.destroyed) return this.z.errored?.message ?? 'zlib error';
    this.availOut = this.z._writeState[0]!;
    this.availIn = this.z._writeState[1]!;
    return null;
  }

  /** Forgets the LZ77 window and any partial stream, as if new. */
  reset(): void {
    if (!this.closed) this.z.reset();
  }

  /** Frees the zlib memory. */
  close(): void {
    if (!this.closed) this.z.close();
  }
}

/** Compresses whole messages into RFC 7692 payloads, keeping its window until {@link reset}. */
export class Compressor extends RawDeflateContext {
  /** Pool key: contexts are interchangeable only with equal window bits, level and memLevel. */
  readonly key: string;

  /** @throws RangeError for window bits below {@link MIN_DEFLATE_WINDOW_BITS}. */
  constructor(windowBits: number, level: number, memLevel: number) {
    if (windowBits < MIN_DEFLATE_WINDOW_BITS) {
      throw new RangeError(`raw DEFLATE cannot compress with ${windowBits} window bits`);
    }
    super(zlib.createDeflateRaw({ windowBits, level, memLevel, chunkSize: Z_MIN_CHUNK }) as NodeZlib);
    this.key = compressorKey(windowBits, level, memLevel);
  }

  /**
   * Compresses one message with Z_SYNC_FLUSH and drops the trailing `00 00 ff ff` (RFC 7692 §7.2.1).
   * An empty message becomes the single byte `00` (§7.2.3.6) without touching the context.
   */
  compress(payload: Uint8Array): Uint8Array {
    if (payload.length === 0) return Uint8Array.of(0x00);
    const out = scratchBuffer();
    const output = new Output();
    let inOff = 0;
    do {
      const error = this.step(payload, inOff, out, out.length);
      if (error !== null) throw new Error(`permessage-deflate: compression failed: ${error}`);
      inOff = payload.length - this.availIn;
      output.add(out, out.length - this.availOut);
    } while (this.availOut === 0);
    return withoutTail(output.join());
  }
}

function withoutTail(data: Uint8Array): Uint8Array {
  const n = data.length;
  if (n < 4 || data[n - 4] !== 0 || data[n - 3] !== 0 || data[n - 2] !== 0xff || data[n - 1] !== 0xff) {
    throw new Error('permessage-deflate: zlib output does not end with a sync flush');
  }
  return data.subarray(0, n - 4);
}

/** Inflates RFC 7692 payloads piece by piece, keeping its window until {@link reset}. */
export class Decompressor extends RawDeflateContext {
  /** The peer ended the DEFLATE stream with a BFINAL block; the rest of the message is ignored. */
  private ended = false;
  /** Compressed bytes seen in the current message. */
  private messageBytes = 0;

  /** `windowBits` must be at least the peer's agreed window (8..15). */
  constructor(windowBits: number) {
    super(zlib.createInflateRaw({ windowBits, chunkSize: Z_MIN_CHUNK }) as NodeZlib);
  }

  /**
   * Inflates one piece of a message; on `fin` appends `00 00 ff ff` first (RFC 7692 §7.2.2).
   * @throws ProtocolError 1009 `ERR_MESSAGE_TOO_BIG` as soon as the output would exceed `maxOutput`;
   *   ProtocolError 1007 `ERR_EXTENSION` for data zlib rejects. The context is unusable after either.
   */
  inflate(piece: Uint8Array, fin: boolean, maxOutput: number): Uint8Array {
    const output = new Output();
    const limit = Math.max(0, maxOutput);
    this.messageBytes += piece.length;
    this.feed(piece, limit, output);
    if (fin) {
      // A message with no payload at all carries no DEFLATE data: feeding the tail alone would leave
      // the inflater inside a stored-block header and break the next message.
      if (this.messageBytes > 0) this.feed(DEFLATE_TAIL, limit, output);
      // After BFINAL the stream is over: zlib accepts nothing more until reset (§7.2.3.4).
      if (this.ended) this.reset();
      this.messageBytes = 0;
    }
    return output.join();
  }

  override reset(): void {
    super.reset();
    this.ended = false;
    this.messageBytes = 0;
  }

  private feed(input: Uint8Array, limit: number, output: Output): void {
    if (this.ended || input.length === 0) return;
    const out = scratchBuffer();
    let inOff = 0;
    for (;;) {
      // One byte more than allowed, so that overflowing is visible without inflating further.
      const room = Math.min(out.length, limit - output.total + 1);
      const error = this.step(input, inOff, out, room);
      if (error !== null) {
        throw new ProtocolError(
          'ERR_EXTENSION',
          `permessage-deflate: invalid compressed data (${error})`,
          CloseCode.INVALID_PAYLOAD,
        );
      }
      const produced = room - this.availOut;
      if (output.total + produced > limit) throw messageTooBig(limit);
      output.add(out, produced);
      inOff = input.length - this.availIn;
      if (this.availOut === 0) continue;
      // Room left but input unread: only the end of the DEFLATE stream stops zlib like that.
      if (this.availIn > 0) this.ended = true;
      return;
    }
  }
}

function messageTooBig(limit: number): ProtocolError {
  return new ProtocolError(
    'ERR_MESSAGE_TOO_BIG',
    `permessage-deflate: decompressed message exceeds ${limit} more bytes`,
    CloseCode.MESSAGE_TOO_BIG,
  );
}

/** Key of the pool (and of shared encodings) for one compressor configuration. */
export function compressorKey(windowBits: number, level: number, memLevel: number): string {
  return `${windowBits}/${level}/${memLevel}`;
}

const idleCompressors = new Map<string, Compressor[]>();
const idleDecompressors: Decompressor[] = [];

/** Takes an idle pooled compressor of this configuration, or creates one. Give it back with {@link releaseCompressor}. */
export function acquireCompressor(windowBits: number, level: number, memLevel: number): Compressor {
  return (
    idleCompressors.get(compressorKey(windowBits, level, memLevel))?.pop() ??
    new Compressor(windowBits, level, memLevel)
  );
}

/** Resets a compressor and returns it to the pool (or closes it when the pool is full). */
export function releaseCompressor(compressor: Compressor): void {
  if (compressor.closed) return;
  let idle = idleCompressors.get(compressor.key);
  if (idle === undefined) {
    idle = [];
    idleCompressors.set(compressor.key, idle);
  }
  keepOrClose(compressor, idle);
}

/** Takes an idle pooled decompressor (window 15, fits any peer), or creates one. */
export function acquireDecompressor(): Decompressor {
  return idleDecompressors.pop() ?? new Decompressor(POOLED_INFLATE_WINDOW_BITS);
}

/** Resets a pooled decompressor and returns it to the pool (or closes it when the pool is full). */
export function releaseDecompressor(decompressor: Decompressor): void {
  if (!decompressor.closed) keepOrClose(decompressor, idleDecompressors);
}

function keepOrClose<T extends RawDeflateContext>(context: T, idle: T[]): void {
  if (idle.length >= MAX_IDLE_PER_KEY) {
    context.close();
    return;
  }
  context.reset();
  idle.push(context);
}

/**
 * Closes every idle pooled context and returns how many were closed. The protocol core has no timers:
 * the transport's timer wheel may call this when the process has been quiet for a while.
 */
export function trimDeflatePool(): number {
  let closed = 0;
  for (const idle of [...idleCompressors.values(), idleDecompressors]) {
    for (const context of idle.splice(0)) {
      context.close();
      closed++;
    }
  }
  idleCompressors.clear();
  return closed;
}

/** How many idle contexts the pool holds (for metrics and tests). */
export function deflatePoolSize(): { compressors: number; decompressors: number } {
  let compressors = 0;
  for (const idle of idleCompressors.values()) compressors += idle.length;
  return { compressors, decompressors: idleDecompressors.length };
}
