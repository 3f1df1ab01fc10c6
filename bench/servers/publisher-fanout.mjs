// The publisher every fan-out server runs inside its own process (bench/fanout.bench.ts), so that each
// contender pays the same cost for producing messages. Commands arrive on stdin, one per line:
//   rate R B publish R messages per second: every timer tick (1 ms, or longer when the server is busy)
//            publishes what fell due since the last one, at most B (0 stops)
//   max B    publish B messages per event-loop turn, turn after turn, as fast as the server goes
//   count    print {"published":N,"skipped":S} on stdout
// End of stdin exits the process.
import { createInterface } from 'node:readline';

/** Payload length in characters (ASCII: bytes). */
const PAYLOAD_LENGTH = 64;
const STAMP_DIGITS = 16;
const FILLER = 'x'.repeat(PAYLOAD_LENGTH - STAMP_DIGITS - 2);

/**
 * The payload: '#' + publish time (CLOCK_REALTIME in microseconds, 16 digits) + '#' + filler. The
 * subscribers read the same clock (same machine), so receive time minus stamp is the latency.
 */
function payload() {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return `#${String(micros).padStart(STAMP_DIGITS, '0')}#${FILLER}`;
}

/** Runs the stdin-driven publisher; `publish(text)` sends one message to every subscriber. */
export function startPublisher(publish) {
  let published = 0;
  let skipped = 0;
  let timer = null;
  let immediate = null;

  const stop = () => {
    if (timer !== null) clearTimeout(timer);
    if (immediate !== null) clearImmediate(immediate);
    timer = immediate = null;
  };

  // A tick that finds more than `cap` publications due publishes `cap` and skips the rest: a server that
  // cannot keep up shows it as skipped publications, not as an ever larger burst.
  const startRate = (rate, cap) => {
    const base = performance.now();
    let scheduled = 0;
    const tick = () => {
      let due = Math.floor(((performance.now() - base) * rate) / 1000) - scheduled;
      if (due > cap) {
        skipped += due - cap;
        scheduled += due - cap;
        due = cap;
      }
      for (let i = 0; i < due; i++) publish(payload());
      scheduled += due;
      published += due;
      timer = setTimeout(tick, 1);
    };
    timer = setTimeout(tick, 1);
  };

  const startMax = (batch) => {
    const tick = () => {
      for (let i = 0; i < batch; i++) publish(payload());
      published += batch;
      // setImmediate, not a loop: socket I/O (and the servers' own write flushing) runs between batches.
      immediate = setImmediate(tick);
    };
    immediate = setImmediate(tick);
  };

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, value, extra] = line.trim().split(/\s+/);
    const n = Number(value);
    if (command === 'rate' && n >= 0) {
      stop();
      if (n > 0) startRate(n, Math.max(1, Math.floor(Number(extra ?? 100))));
    } else if (command === 'max' && n >= 1) {
      stop();
      startMax(Math.floor(n));
    } else if (command === 'count') {
      console.log(JSON.stringify({ published, skipped }));
    } else {
      console.error(`publisher: unknown command ${JSON.stringify(line)}`);
    }
  });
  lines.on('close', () => process.exit(0));
}
