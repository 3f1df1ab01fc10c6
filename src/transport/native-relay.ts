/**
 * Hands two connected TCP sockets to the native relay thread (`native/relay.c`, built into
 * `build/relay.node` on Linux), which copies bytes between them with one read() and one send() per chunk,
 * outside the event loop. Used by the gateway's tunnel mode; without the addon (another platform, no C
 * compiler, `CONDUIT_NATIVE=0`), or for sockets it cannot take (TLS, writes still queued, a stream that
 * already ended), {@link relayNatively} returns null and the caller splices in JavaScript.
 *
 * Taking a socket over relies on two internals of Node's TCP sockets, checked before use: the libuv
 * handle's descriptor (`_handle.fd`) and its `readStop()`. Node's `net.Socket` restarts reading only when
 * its handle says it is not reading, so the handle is stopped while its `reading` flag stays set: the
 * socket's buffered bytes can then be taken with `read()` without Node reading the descriptor again.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { loadAddon } from './native-addon.js';

/** Opaque handle of one relayed pair, owned by the addon. */
type RelayHandle = object;

interface RelayAddon {
  open(
    clientFd: number,
    backendFd: number,
    toBackend: Buffer | undefined,
    toClient: Buffer | undefined,
    counters: Float64Array,
    onDone: (errno: number) => void,
  ): RelayHandle;
  end(handle: RelayHandle): void;
  destroy(handle: RelayHandle): void;
}

/** The libuv stream handle under a `net.Socket`, as far as the relay needs it. */
interface TcpHandle {
  fd: number;
  reading: boolean;
  writeQueueSize: number;
  readStop(): number;
}

/** What the relay counts, indexes into {@link NativeRelay.counters}. */
export const RelayCounter = {
  /** Bytes read from the first socket. */
  FIRST_READ: 0,
  /** Bytes written to the second socket. */
  SECOND_WRITTEN: 1,
  /** Bytes read from the second socket. */
  SECOND_READ: 2,
  /** Bytes written to the first socket. */
  FIRST_WRITTEN: 3,
} as const;

/** Two sockets relayed by the native thread. */
export interface NativeRelay {
  /** Live byte counts of the relay thread, indexed by {@link RelayCounter}. */
  readonly counters: Float64Array;
  /**
   * Bytes Node had read from each socket before the hand-over (not in `counters`' reads; the relay
   * writes them first, and counts them as written).
   */
  readonly handedOver: { readonly first: number; readonly second: number };
  /** Graceful end: FIN to both peers once pending bytes are written; done when both answered with theirs. */
  end(): void;
  /** Lets go of both sockets now (done follows). */
  destroy(): void;
}

let cached: RelayAddon | null | undefined;

function relayAddon(): RelayAddon | null {
  if (cached === undefined) {
    cached =
      process.platform === 'linux'
        ? loadAddon<RelayAddon>(
            'relay',
            (addon) => typeof addon.open === 'function' && typeof addon.destroy === 'function',
          )
        : null;
  }
  return cached;
}

/** True when the native relay addon is loaded (Linux, built, not disabled). */
export function nativeRelayAvailable(): boolean {
  return relayAddon() !== null;
}

/** The socket's TCP handle when the relay can take the socket over now, else null. */
function takeableHandle(socket: Socket): TcpHandle | null {
  if (socket instanceof TLSSocket || socket.destroyed || socket.connecting) return null;
  if (socket.writableLength > 0 || socket.writableEnded) return null;
  // Bytes after an end of stream are still in Node's buffer and reading them would emit 'end' (whose
  // listeners end the socket from JavaScript): such a socket stays with JavaScript.
  const state = (socket as unknown as { _readableState?: { ended?: boolean } })._readableState;
  if (state === undefined || state.ended !== false) return null;
  const handle = (socket as unknown as { _handle?: Partial<TcpHandle> | null })._handle;
  if (handle === null || handle === undefined) return null;
  if (typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.readStop !== 'function') return null;
  if (handle.writeQueueSize !== 0) return null;
  return handle as TcpHandle;
}

/** Stops Node's reading of `socket` for good and returns the bytes it had already read. */
function detachReading(socket: Socket, handle: TcpHandle): Buffer | undefined {
  socket.removeAllListeners('data');
  socket.pause();
  handle.readStop();
  // Left set on purpose: net.Socket only restarts a handle whose flag says it is not reading.
  handle.reading = true;
  const chunks: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null)
    chunks.push(chunk);
  if (chunks.length === 0) return undefined;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/**
 * Relays `first` and `second` natively, or returns null (nothing changed) when the addon is absent or
 * a socket cannot be taken over. After it returns a relay, the sockets must not be read or written from
 * JavaScript; `onDone(errno)` is called once when the relay let go of them (errno 0 after a clean end
 * of both directions), and the caller then destroys them. Destroying a socket earlier does not stop
 * the relay (it holds duplicates of the descriptors): call {@link NativeRelay.destroy}.
 */
export function relayNatively(
  first: Socket,
  second: Socket,
  onDone: (errno: number) => void,
): NativeRelay | null {
  const addon = relayAddon();
  if (addon === null) return null;
  const firstHandle = takeableHandle(first);
  const secondHandle = takeableHandle(second);
  if (firstHandle === null || secondHandle === null) return null;
  const toSecond = detachReading(first, firstHandle);
  const toFirst = detachReading(second, secondHandle);
  const counters = new Float64Array(4);
  let live = true;
  const handle = addon.open(firstHandle.fd, secondHandle.fd, toSecond, toFirst, counters, (errno) => {
    live = false;
    onDone(errno);
  });
  return {
    counters,
    handedOver: { first: toSecond?.length ?? 0, second: toFirst?.length ?? 0 },
    end: () => {
      if (live) addon.end(handle);
    },
    destroy: () => {
      if (live) addon.destroy(handle);
    },
  };
}
