/**
 * `conduit bench --mode connect`: N loops, each opening a connection, timing its handshake and closing
 * it with 1000 before starting the next, for as long as the run lasts. Measures handshakes per second
 * and the time from the start of the TCP connection to the 101 response.
 * @module
 */
import type { CloseEvent, ErrorEvent } from '../client/events.js';
import { WebSocket } from '../client/websocket.js';
import type { BenchOptions } from './bench-args.js';
import type { BenchDriver } from './bench-driver.js';
import { type BenchTarget, closeAll, openSocket, waitUntil } from './bench-sockets.js';
import type { BenchStats } from './bench-stats.js';
import { describeConnectError } from './connect-session.js';

/** Time allowed for the closing handshakes at the end, in ms. */
const CLOSE_WAIT_MS = 3000;

/** The connect mode for these options. */
export function connectDriver(options: BenchOptions, stats: BenchStats, target: BenchTarget): BenchDriver {
  const live = new Set<WebSocket>();
  let running = false;

  /** One handshake; when it ended (open then closed, or failed), the loop goes on. */
  const attempt = (): void => {
    if (!running) return;
    const startedAt = performance.now();
    stats.sent++;
    const ws = new WebSocket(target.url, target.protocols, target.options);
    live.add(ws);
    let opened = false;
    let failure: unknown;
    ws.addEventListener('error', (event) => {
      failure = (event as ErrorEvent).error;
    });
    ws.addEventListener('open', () => {
      const now = performance.now();
      opened = true;
      stats.received++;
      stats.lastReceivedAt = now;
      stats.latency.record((now - startedAt) * 1000);
      ws.close(1000);
    });
    ws.addEventListener('close', (event) => {
      live.delete(ws);
      const { code } = event as CloseEvent;
      if (opened) stats.closed(code);
      if (opened && code !== 1000) stats.error(`closed ${code}`);
      if (!opened) {
        stats.failed++;
        stats.error(describeConnectError(failure).message);
      }
      // A later task: a server refusing at once must not turn the loop into a synchronous recursion.
      setImmediate(attempt);
    });
  };

  return {
    async prepare() {
      // One connection first: an unreachable server fails the run before it starts.
      const probe = await openSocket(target, stats, () => true);
      await closeAll([probe], CLOSE_WAIT_MS);
      stats.closeCodes.clear();
    },
    start() {
      running = true;
      for (let i = 0; i < options.connections; i++) attempt();
    },
    stop() {
      running = false;
    },
    settle(ms) {
      return waitUntil(() => live.size === 0, ms);
    },
    close() {
      return closeAll([...live], CLOSE_WAIT_MS);
    },
  };
}
