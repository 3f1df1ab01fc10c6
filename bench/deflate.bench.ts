/**
 * permessage-deflate cost (RFC 7692): round-trip throughput (server compresses, client inflates) for
 * JSON-like payloads, and memory per server connection after one 1 KB message each way, against ws's
 * PerMessageDeflate in the same run.
 *
 * Run: `npx tsc -p tsconfig.json && node --expose-gc dist/bench/deflate.bench.js`
 * (`--expose-gc` makes the memory figures steadier; each memory row runs in its own child process so
 * that one mode's freed zlib memory cannot hide in another's RSS).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Extension } from '../src/protocol/extension.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../src/protocol/permessage-deflate.js';

type Callback = (error: Error | null, data: Buffer) => void;
interface WsDeflate {
  accept(offers: object[]): object;
  compress(data: Buffer, fin: boolean, callback: Callback): void;
  decompress(data: Buffer, fin: boolean, callback: Callback): void;
}
// ws does not export this module; load it by path (a bench-only reach into ws's internals).
const requireFromHere = createRequire(import.meta.url);
const wsDeflatePath = join(dirname(requireFromHere.resolve('ws')), 'lib', 'permessage-deflate.js');
const WsPerMessageDeflate = requireFromHere(wsDeflatePath) as new (options: {
  isServer?: boolean;
  threshold?: number;
}) => WsDeflate;

const CONNECTIONS = 2000;
const TEXT = { isText: true, compress: true } as const;

/** JSON-like text: realistic keys, varied values from a fixed pseudo-random sequence. */
function jsonPayload(bytes: number, variant = 0): Buffer {
  let seed = 12345 + variant * 7919;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const parts: string[] = [];
  for (let size = 0; size < bytes; ) {
    const n = next();
    const item = JSON.stringify({
      id: n % 1_000_000,
      user: `user_${n % 5000}`,
      event: ['join', 'leave', 'message', 'typing'][n % 4],
      at: 1_700_000_000_000 + (n % 86_400_000),
      text: n.toString(36).repeat(1 + (n % 3)),
    });
    parts.push(item);
    size += item.length + 1;
  }
  return Buffer.from(`[${parts.join(',')}]`).subarray(0, bytes);
}

function pair(server: PerMessageDeflateOptions, client: PerMessageDeflateOptions = {}) {
  const clientFactory = perMessageDeflate({ threshold: 0, ...client });
  const accepted = perMessageDeflate({ threshold: 0, ...server }).accept(clientFactory.offer())!;
  return { server: accepted.extension, client: clientFactory.confirm(accepted.params) };
}

function wsPair(): { server: WsDeflate; client: WsDeflate } {
  const server = new WsPerMessageDeflate({ isServer: true, threshold: 0 });
  const client = new WsPerMessageDeflate({ threshold: 0 });
  client.accept([server.accept([{ client_max_window_bits: [true] }])]);
  return { server, client };
}

const MODES: Record<string, PerMessageDeflateOptions> = {
  'conduit shared (defaults)': {},
  'conduit per-connection, no takeover': { sharedCompressor: false },
  'conduit context takeover': { serverNoContextTakeover: false, clientNoContextTakeover: false },
};

/**
 * Distinct payloads of one size, 64 KB in all: more than a 32 KB window, so context takeover gains only
 * from what real messages share (keys, structure), not from repeating the previous message.
 */
function payloadVariants(size: number): Buffer[] {
  return Array.from({ length: Math.max(2, Math.ceil((64 * 1024) / size)) }, (_, i) => jsonPayload(size, i));
}

/** Payload MB/s of `roundTrip`, run for at least `ms` milliseconds after as long a warm-up. */
async function mbPerSecond(bytes: number, roundTrip: () => unknown, ms = 250): Promise<number> {
  for (const warmUpEnd = Date.now() + ms; Date.now() < warmUpEnd; ) await roundTrip();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < ms * 1e6 || calls < 5) {
    await roundTrip();
    calls++;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return (bytes * calls) / (elapsed / 1e9) / 1e6;
}

async function throughputTable(): Promise<string[]> {
  const rows = [
    '| payload | implementation | level | wire / payload | round trip MB/s |',
    '|---|---|---|---|---|',
  ];
  for (const size of [1024, 16 * 1024, 1024 * 1024]) {
    const payloads = payloadVariants(size);
    const label = size >= 1 << 20 ? '1 MB' : `${size / 1024} KB`;
    for (const level of [1, 6]) {
      for (const [name, options] of Object.entries(MODES)) {
        const { server, client } = pair({ ...options, level });
        let i = 0;
        let wireBytes = 0;
        const rate = await mbPerSecond(size, () => {
          const wire = server.encode(payloads[i++ % payloads.length]!, TEXT)!;
          wireBytes += wire.length;
          return client.decode(wire, true, 1 << 30);
        });
        const ratio = wireBytes / (i * size);
        rows.push(`| ${label} | ${name} | ${level} | ${ratio.toFixed(3)} | ${rate.toFixed(1)} |`);
      }
    }
    const ws = wsPair();
    let i = 0;
    let wireBytes = 0;
    const wsRoundTrip = () =>
      new Promise((resolve, reject) =>
        ws.server.compress(payloads[i++ % payloads.length]!, true, (e, data) => {
          wireBytes += data.length;
          if (e) reject(e);
          else ws.client.decompress(data, true, (e2, out) => (e2 ? reject(e2) : resolve(out)));
        }),
      );
    const wsRate = await mbPerSecond(size, wsRoundTrip);
    rows.push(
      `| ${label} | ws (defaults) | 6 | ${(wireBytes / (i * size)).toFixed(3)} | ${wsRate.toFixed(1)} |`,
    );
  }
  return rows;
}

/** Child process: builds CONNECTIONS server connections of one mode and prints bytes per connection. */
async function measureMemory(mode: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const message = jsonPayload(1024);
  const options = MODES[mode.replace(' + releaseIdle()', '')];
  const factory = options ? perMessageDeflate(options) : null;
  // What a client sends first (standard RFC 7692 bytes, valid as the first message of any inflater).
  const fromClient = Buffer.from(pair({}).client.encode(message, TEXT)!);
  gc();
  const before = process.memoryUsage();
  const kept: unknown[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    if (factory) {
      const server = factory.accept([{ client_max_window_bits: true }])!.extension as Extension & {
        releaseIdle(): boolean;
      };
      server.decode(fromClient, true, 1 << 20);
      server.encode(message, TEXT);
      if (mode.endsWith('releaseIdle()')) server.releaseIdle();
      kept.push(server);
    } else {
      const server = new WsPerMessageDeflate({ isServer: true });
      server.accept([{ client_max_window_bits: [true] }]);
      await new Promise((r) => server.decompress(fromClient, true, r));
      await new Promise((r) => server.compress(message, true, r));
      kept.push(server);
    }
  }
  gc();
  const after = process.memoryUsage();
  const perConnection = (delta: number) => Math.round(delta / CONNECTIONS);
  console.log(
    JSON.stringify({
      rss: perConnection(after.rss - before.rss),
      heap: perConnection(after.heapUsed - before.heapUsed),
      external: perConnection(after.external - before.external),
      kept: kept.length,
    }),
  );
}

function memoryTable(): string[] {
  const rows = [
    `| ${CONNECTIONS} server connections, 1 KB each way | RSS / conn | JS heap / conn | external / conn |`,
    '|---|---|---|---|',
  ];
  const self = fileURLToPath(import.meta.url);
  for (const mode of [...Object.keys(MODES), 'conduit context takeover + releaseIdle()', 'ws (defaults)']) {
    const child = spawnSync(process.execPath, [...process.execArgv, self, '--memory', mode], {
      encoding: 'utf8',
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    const result = JSON.parse(line || '{}') as { rss?: number; heap?: number; external?: number };
    const kb = (n?: number) => (n === undefined ? 'n/a' : `${(n / 1024).toFixed(1)} KB`);
    rows.push(`| ${mode} | ${kb(result.rss)} | ${kb(result.heap)} | ${kb(result.external)} |`);
  }
  return rows;
}

const memoryFlag = process.argv.indexOf('--memory');
if (memoryFlag !== -1) {
  await measureMemory(process.argv[memoryFlag + 1] ?? '');
} else {
  const gcNote =
    typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'with --expose-gc' : 'without --expose-gc';
  console.log(`## permessage-deflate (Node ${process.version}, ${gcNote})\n`);
  console.log((await throughputTable()).join('\n'));
  console.log();
  console.log(memoryTable().join('\n'));
}
