/**
 * Fan-out benchmark: one topic, N subscribers (1000 by default), 64 B payloads, one server process.
 * Contenders: Conduit's hub (MemoryEngine), ws (a loop over its clients), Socket.IO (`io.emit`) and
 * uWebSockets.js (`app.publish`); optionally the same across two nodes on one redis-server (Conduit's
 * RedisEngine, Socket.IO's redis adapter). The publisher runs inside the server process
 * (bench/servers/publisher-fanout.mjs, the same for all); the subscribers are one native process
 * (bench/loadgen/fanout_subscribers.c) that measures publish → receive latency from a timestamp in the
 * payload. Server pinned to CPU 1, subscribers to CPU 0. The method is in docs/benchmarks.md.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/fanout.bench.js`
 *      [--duration 5] [--warmup 1] [--subscribers 1000] [--servers conduit,ws,socketio,uws]
 *      [--batch 100] [--p99 10] [--steps 4] [--quiet 0.2]
 *      (cross-node contenders, not run by default: conduit-redis, socketio-redis)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';

/** One window of the subscribers (a JSON line of fanout-subscribers). */
interface Window {
  readonly messages: number;
  readonly seconds: number;
  readonly msgs_per_sec: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly max_us: number;
  /** Stamped messages received since the subscribers started (all windows). */
  readonly total: number;
  readonly ready: number;
  readonly errors: number;
  /** The subscribers' CPU time over the window, as a share of one core. */
  readonly cpu: number;
}

/** A measured window with the CPU use around it. */
interface Measurement {
  /** Deliveries per second asked for (undefined for the max run). */
  readonly target?: number;
  readonly window: Window;
  /** The server's (node B's) share of one core, all threads. */
  readonly serverCpu: number;
  /** Cores the rest of the machine used meanwhile (cross-node: redis-server included, node A not). */
  readonly otherCpu: number;
}

interface ContenderResult {
  readonly max?: Measurement;
  /** The highest rate that met the latency bound, if any did. */
  readonly sustained?: Measurement;
  readonly steps: Measurement[];
  /** Deliveries that never arrived: publications × subscribers − stamped messages received. */
  readonly lost?: number;
  readonly error?: string;
}

interface Contender {
  readonly id: string;
  readonly name: string;
  readonly script: string;
  readonly protocol: 'raw' | 'conduit' | 'socketio';
  readonly path: string;
  /** Two server processes on one redis-server: publisher on node A, subscribers on node B. */
  readonly crossNode: boolean;
}

interface Options {
  readonly duration: number;
  readonly warmup: number;
  readonly subscribers: number;
  readonly batch: number;
  readonly p99Ms: number;
  readonly steps: number;
  /** A window during which others used more than this share of a core is measured again. */
  readonly quiet: number;
  readonly pin: boolean;
  readonly servers: readonly Contender[];
}

const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const SUBSCRIBERS_BIN = join(ROOT, 'bench/loadgen/build/fanout-subscribers');
const SERVER_CPU = '1';
const SUBSCRIBER_CPU = '0';
/** Above this share of its CPU the subscriber process may be what limits a figure: the table flags it. */
const SUBSCRIBERS_BUSY = 0.9;
/** A rate step passes when it delivers at least this share of its target (and meets the p99 bound). */
const KEPT_UP = 0.95;
const SOCKETIO_PATH = '/socket.io/?EIO=4&transport=websocket';

const CONTENDERS: readonly Contender[] = [
  { id: 'conduit', name: 'Conduit hub', script: 'conduit-fanout.mjs', protocol: 'conduit', path: '/' },
  { id: 'ws', name: 'ws', script: 'ws-fanout.mjs', protocol: 'raw', path: '/' },
  {
    id: 'socketio',
    name: 'Socket.IO',
    script: 'socketio-fanout.mjs',
    protocol: 'socketio',
    path: SOCKETIO_PATH,
  },
  { id: 'uws', name: 'uWS.js', script: 'uws-fanout.mjs', protocol: 'raw', path: '/' },
  {
    id: 'conduit-redis',
    name: 'Conduit hub, 2 nodes + Redis',
    script: 'conduit-fanout.mjs',
    protocol: 'conduit',
    path: '/',
  },
  {
    id: 'socketio-redis',
    name: 'Socket.IO, 2 nodes + Redis adapter',
    script: 'socketio-fanout.mjs',
    protocol: 'socketio',
    path: SOCKETIO_PATH,
  },
].map((c) => ({ ...c, crossNode: c.id.endsWith('-redis') }) as Contender);

/** The directory holding Conduit's package.json, from dist/bench/ or bench/. */
function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'conduit') return dir;
  }
  throw new Error(`no Conduit package.json above ${start}`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A child process driven line by line: commands on stdin, one answer per line on stdout. Lines nobody
 * waits for are kept in order until asked for.
 */
class LineProcess {
  readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiter: ((line: string | null) => void) | null = null;
  private stderr = '';

  constructor(
    readonly label: string,
    command: string[],
  ) {
    // The hard file limit: 1000+ sockets need more than the usual soft 1024.
    this.child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', ...command], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      for (let eol = pending.indexOf('\n'); eol !== -1; eol = pending.indexOf('\n')) {
        this.push(pending.slice(0, eol));
        pending = pending.slice(eol + 1);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-2000);
    });
    this.child.once('exit', () => this.waiter?.(null));
    // A child that died makes writes fail with EPIPE: reported by nextLine, not as an unhandled error.
    this.child.stdin!.on('error', () => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** The next stdout line matching `accept` (others are dropped), or an error after `timeoutMs`. */
  async nextLine(timeoutMs: number, accept: (line: string) => boolean = () => true): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.lines.shift() ?? (await this.wait(deadline - performance.now()));
      if (accept(line)) return line;
    }
  }

  private wait(ms: number): Promise<string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(this.failure('exited'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiter = null;
          reject(this.failure(`no answer within ${Math.round(ms / 1000)} s`));
        },
        Math.max(0, ms),
      );
      this.waiter = (line) => {
        clearTimeout(timer);
        this.waiter = null;
        if (line === null) reject(this.failure('exited'));
        else resolve(line);
      };
    });
  }

  private push(line: string): void {
    if (this.waiter !== null) this.waiter(line);
    else this.lines.push(line);
  }

  private failure(why: string): Error {
    const tail = this.stderr.trim();
    return new Error(`${this.label} ${why}${tail === '' ? '' : `: ${tail}`}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}

function pinned(cpu: string, command: string[], pin: boolean): string[] {
  return pin ? ['taskset', '-c', cpu, ...command] : command;
}

/** Starts one server process of `contender` and waits for its "listening on" line. */
async function startServer(contender: Contender, cpu: string, redisUrl: string | null, opts: Options) {
  const script = join('bench/servers', contender.script);
  const args = [process.execPath, script, '0', ...(redisUrl === null ? [] : ['--redis', redisUrl])];
  const server = new LineProcess(`${contender.name} server`, pinned(cpu, args, opts.pin));
  try {
    const line = await server.nextLine(15_000, (l) => l.startsWith('listening on '));
    return { server, port: Number(/:(\d+)$/.exec(line)![1]) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function startSubscribers(contender: Contender, port: number, opts: Options): Promise<LineProcess> {
  const args = [
    SUBSCRIBERS_BIN,
    ...['--port', String(port), '--connections', String(opts.subscribers)],
    ...['--protocol', contender.protocol, '--path', contender.path, '--topic', 'bench'],
  ];
  const subscribers = new LineProcess('subscribers', pinned(SUBSCRIBER_CPU, args, opts.pin));
  await subscribers.nextLine(70_000, (l) => l.includes('"event":"ready"'));
  return subscribers;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** User + system CPU seconds of a process, all threads (proc(5): fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Non-idle CPU seconds of the whole machine (the "cpu" line of /proc/stat minus idle and iowait). */
function machineBusySeconds(): number {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.split(/\s+/).slice(1, 9).map(Number);
  return ticks.reduce((sum, n, i) => (i === 3 || i === 4 ? sum : sum + n), 0) / CLOCK_TICKS;
}

/** The three processes of a run: who publishes, who fans out (node B), who subscribes. */
interface Rig {
  readonly publisher: LineProcess;
  readonly server: LineProcess;
  readonly subscribers: LineProcess;
}

/** One measured window of `seconds`, with the CPU use of the server and of the rest of the machine. */
async function measure(rig: Rig, seconds: number, target?: number): Promise<Measurement> {
  const server = rig.server.pid;
  // Cross-node: node A publishes; its CPU is part of the setup, not of what disturbs it.
  const publisher = rig.publisher === rig.server ? null : rig.publisher.pid;
  const publisherCpu = () => (publisher === null ? 0 : cpuSeconds(publisher));
  const start = {
    cpu: cpuSeconds(server),
    node: publisherCpu(),
    busy: machineBusySeconds(),
    at: performance.now(),
  };
  rig.subscribers.send('mark');
  await sleep(seconds * 1000);
  rig.subscribers.send('report');
  const window = JSON.parse(
    await rig.subscribers.nextLine(10_000, (l) => l.startsWith('{"messages"')),
  ) as Window;
  const elapsed = (performance.now() - start.at) / 1000;
  const serverCpu = (cpuSeconds(server) - start.cpu) / elapsed;
  const nodeA = (publisherCpu() - start.node) / elapsed;
  const busy = (machineBusySeconds() - start.busy) / elapsed;
  const otherCpu = Math.max(0, busy - serverCpu - window.cpu - nodeA);
  return { ...(target === undefined ? {} : { target }), window, serverCpu, otherCpu };
}

/**
 * Like {@link measure}, but a window during which the rest of the machine used more than
 * `opts.quiet` of a core is measured again (twice at most), keeping the least disturbed: on a shared
 * machine that is the closest to what the server does on its own.
 */
async function measureQuiet(rig: Rig, opts: Options, target?: number): Promise<Measurement> {
  let kept = await measure(rig, opts.duration, target);
  for (let retry = 0; retry < 2 && kept.otherCpu > opts.quiet; retry++) {
    console.error(`  others used ${percent(kept.otherCpu)} of a core: measuring again`);
    const next = await measure(rig, opts.duration, target);
    if (next.otherCpu < kept.otherCpu) kept = next;
  }
  return kept;
}

function passes(m: Measurement, opts: Options): boolean {
  const w = m.window;
  return w.errors === 0 && w.p99_us <= opts.p99Ms * 1000 && w.msgs_per_sec >= KEPT_UP * (m.target ?? 0);
}

/**
 * Bisection over the delivery rate between 0 and the max run's: each step publishes at a fixed rate,
 * settles 1 s, then measures. The highest step that met the p99 bound and kept up is the answer.
 */
async function search(
  rig: Rig,
  max: number,
  opts: Options,
  steps: Measurement[],
): Promise<Measurement | undefined> {
  let low = 0;
  let high = max;
  let best: Measurement | undefined;
  for (let i = 0; i < opts.steps; i++) {
    const target = (low + high) / 2;
    rig.publisher.send(`rate ${target / opts.subscribers} ${opts.batch}`);
    await sleep(1000);
    const step = await measureQuiet(rig, opts, target);
    steps.push(step);
    console.error(`  step ${Math.round(target)}/s: ${JSON.stringify(step)}`);
    if (passes(step, opts)) {
      best = step;
      low = target;
    } else {
      high = target;
    }
  }
  return best;
}

/** Publications × subscribers − stamped messages received so far. */
async function missing(rig: Rig, opts: Options): Promise<{ missing: number; total: number }> {
  rig.publisher.send('count');
  const { published } = JSON.parse(await rig.publisher.nextLine(30_000, (l) => l.startsWith('{"published"')));
  rig.subscribers.send('report');
  const window = JSON.parse(
    await rig.subscribers.nextLine(30_000, (l) => l.startsWith('{"messages"')),
  ) as Window;
  return { missing: published * opts.subscribers - window.total, total: window.total };
}

/**
 * Stops publishing and waits until every publication reached every subscriber, or until nothing has
 * arrived for 1 s (what is missing then was dropped), or 30 s. Returns the deliveries still missing.
 */
async function drain(rig: Rig, opts: Options): Promise<number> {
  rig.publisher.send('rate 0');
  const start = performance.now();
  let last = -1;
  let lastChange = start;
  for (;;) {
    await sleep(250);
    const now = performance.now();
    const state = await missing(rig, opts);
    if (state.missing <= 0 || now - start > 30_000) return state.missing;
    if (state.total !== last) {
      last = state.total;
      lastChange = now;
    } else if (now - lastChange >= 1000) {
      return state.missing;
    }
  }
}

/** Single node: the publisher publishes `batch` messages per event-loop turn, turn after turn. */
async function maxRun(rig: Rig, opts: Options): Promise<Measurement> {
  rig.publisher.send(`max ${opts.batch}`);
  await sleep(opts.warmup * 1000);
  return measureQuiet(rig, opts);
}

/**
 * Cross-node: the publishing node does not wait for the fanning-out one, so publishing "as fast as
 * possible" would only pile up a backlog. Instead the rate doubles from 100 000 deliveries/s until node B
 * falls behind: it delivers less than asked, or a queue builds up (p50 over 100 ms). Node B works through
 * a backlog during that step, so what it delivers then is its maximum (or the step before, if that one
 * delivered more: noise).
 */
async function rampToSaturation(rig: Rig, opts: Options, steps: Measurement[]): Promise<Measurement> {
  let target = 100_000;
  rig.publisher.send(`rate ${target / opts.subscribers} ${opts.batch}`);
  await sleep(opts.warmup * 1000);
  for (;;) {
    const step = await measureQuiet(rig, opts, target);
    steps.push(step);
    console.error(`  ramp ${target}/s: ${JSON.stringify(step)}`);
    const behind = step.window.msgs_per_sec < KEPT_UP * target || step.window.p50_us > 100_000;
    if (behind || target >= 50e6) {
      return steps.reduce((best, m) => (m.window.msgs_per_sec > best.window.msgs_per_sec ? m : best));
    }
    target *= 2;
    rig.publisher.send(`rate ${target / opts.subscribers} ${opts.batch}`);
    await sleep(1000);
  }
}

/** Starts what a contender needs: redis and two nodes for the cross-node variant, else one server. */
async function startRig(
  contender: Contender,
  opts: Options,
  owned: Array<{ stop(): Promise<void> }>,
): Promise<Rig> {
  let redis: RedisServer | null = null;
  if (contender.crossNode) {
    redis = await startRedisServer({ appendonly: false });
    owned.push(redis);
  }
  const nodeB = await startServer(contender, SERVER_CPU, redis?.url ?? null, opts);
  owned.push(nodeB.server);
  let publisher = nodeB.server;
  if (redis !== null) {
    // Node A only publishes (a few thousand messages per second to Redis): it shares CPU 0 with the subscribers.
    const nodeA = await startServer(contender, SUBSCRIBER_CPU, redis.url, opts);
    owned.push(nodeA.server);
    publisher = nodeA.server;
  }
  const subscribers = await startSubscribers(contender, nodeB.port, opts);
  owned.push(subscribers);
  return { publisher, server: nodeB.server, subscribers };
}

async function runContender(contender: Contender, opts: Options): Promise<ContenderResult> {
  const owned: Array<{ stop(): Promise<void> }> = [];
  const steps: Measurement[] = [];
  let max: Measurement | undefined;
  try {
    const rig = await startRig(contender, opts, owned);
    max = contender.crossNode ? await rampToSaturation(rig, opts, steps) : await maxRun(rig, opts);
    console.error(`${contender.id} max: ${JSON.stringify(max)}`);
    // Whatever the max run queued is delivered (or dropped) before the rate steps start.
    await drain(rig, opts);
    const sustained = await search(rig, max.window.msgs_per_sec, opts, steps);
    const lost = await drain(rig, opts);
    return { max, ...(sustained === undefined ? {} : { sustained }), steps, lost };
  } catch (error) {
    // What was measured before the failure is still shown; the error takes the place of the rest.
    return { ...(max === undefined ? {} : { max }), steps, error: (error as Error).message };
  } finally {
    for (const process of owned.reverse()) await process.stop();
  }
}

function canPin(): boolean {
  if (availableParallelism() < 2) {
    console.error('warning: fewer than 2 CPUs, servers and subscribers run unpinned and share a CPU');
    return false;
  }
  if (spawnSync('taskset', ['-c', SUBSCRIBER_CPU, 'true']).status !== 0) {
    console.error('warning: taskset (util-linux) is missing or fails, servers and subscribers run unpinned');
    return false;
  }
  return true;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      subscribers: { type: 'string', default: '1000' },
      servers: { type: 'string', default: 'conduit,ws,socketio,uws' },
      batch: { type: 'string', default: '100' },
      p99: { type: 'string', default: '10' },
      steps: { type: 'string', default: '4' },
      quiet: { type: 'string', default: '0.2' },
    },
  });
  const ids = values.servers.split(',');
  const unknown = ids.filter((id) => !CONTENDERS.some((c) => c.id === id));
  if (unknown.length > 0) throw new Error(`unknown server(s): ${unknown.join(', ')}`);
  return {
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    subscribers: Number(values.subscribers),
    batch: Number(values.batch),
    p99Ms: Number(values.p99),
    steps: Math.max(1, Number(values.steps)),
    quiet: Number(values.quiet),
    pin: canPin(),
    servers: ids.map((id) => CONTENDERS.find((c) => c.id === id)!),
  };
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const percent = (share: number | undefined) => (share === undefined ? '—' : `${Math.round(share * 100)} %`);

const loads = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function printHeader(opts: Options): void {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  console.log(
    `Date: ${new Date().toISOString()}; machine: ${availableParallelism()} CPUs (${cpus()[0]?.model}); Node ${process.version}; load average at start ${loads()}`,
  );
  console.log(
    `Conduit ${version} (hub, MemoryEngine), ws ${packageVersion('ws')} + bufferutil ${packageVersion('bufferutil')}, ` +
      `Socket.IO ${packageVersion('socket.io')}, uWebSockets.js ${packageVersion('@trufflesuite/uws-js-unofficial')}` +
      (opts.servers.some((c) => c.crossNode)
        ? `, @socket.io/redis-adapter ${packageVersion('@socket.io/redis-adapter')}, ioredis ${packageVersion('ioredis')}.`
        : '.'),
  );
  console.log(
    `${fmt(opts.subscribers)} subscribers of one topic, 64 B payloads. ` +
      (opts.pin
        ? `Server pinned to CPU ${SERVER_CPU}, subscribers to CPU ${SUBSCRIBER_CPU}. `
        : 'Unpinned. ') +
      `Max run: ${opts.batch} publications per event-loop turn; ${opts.warmup} s warmup, ${opts.duration} s per window; ` +
      `${opts.steps} bisection steps for the highest rate with p99 ≤ ${opts.p99Ms} ms.\n`,
  );
}

function row(run: string, contender: Contender, m: Measurement | undefined, result: ContenderResult): string {
  if (m === undefined) {
    const why = result.error?.replace(/\s+/g, ' ').slice(0, 160) ?? `no tested rate met p99 ≤ the bound`;
    return `| ${contender.name} | ${run} | ${why} | | | | | | | | |`;
  }
  const w = m.window;
  const mark = w.cpu >= SUBSCRIBERS_BUSY ? ' ⚠' : '';
  const ms = (us: number) => fmt(us / 1000, 1);
  return (
    `| ${contender.name} | ${run} | ${fmt(m.target)} | ${fmt(w.msgs_per_sec)} | ${ms(w.p50_us)} | ${ms(w.p99_us)} | ` +
    `${ms(w.max_us)} | ${fmt(result.lost)} | ${percent(m.serverCpu)} | ${percent(w.cpu)}${mark} | ${percent(m.otherCpu)} |`
  );
}

function printResults(opts: Options, results: Map<string, ContenderResult>): void {
  console.log(
    '| Server | Run | target deliveries/s | deliveries/s | p50 ms | p99 ms | max ms | lost | server CPU | subscribers CPU | others |',
  );
  console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const contender of opts.servers) {
    const result = results.get(contender.id)!;
    console.log(row('max', contender, result.max, result));
    if (result.max !== undefined)
      console.log(row(`p99 ≤ ${opts.p99Ms} ms`, contender, result.sustained, result));
  }
  console.log(
    '\nmax: the publisher publishes back to back (cross-node: the rate doubles until node B falls behind);',
  );
  console.log('p99 ≤ bound: the highest tested fixed rate that kept up (≥ 95 % delivered)');
  console.log(
    'with p99 at or under the bound. lost: deliveries that never arrived over the whole run (queue limits dropping).',
  );
  console.log(
    'CPU: share of one core while measured; "others" is what the rest of the machine used meanwhile',
  );
  console.log('(cross-node rows: redis-server included, the publishing node A not).');
  const windows = [...results.values()].flatMap((r) => [...(r.max === undefined ? [] : [r.max]), ...r.steps]);
  if (windows.some((m) => m.window.cpu >= SUBSCRIBERS_BUSY)) {
    console.log(
      '⚠ the subscribers used ≥ 90 % of their CPU: they may have limited that window (rate a lower bound, latency an upper one).',
    );
  }
  printRatios(opts, results);
  printSteps(opts, results);
}

/** Every fixed-rate window, in the order run: how latency grows with the rate. */
function printSteps(opts: Options, results: Map<string, ContenderResult>): void {
  console.log('\nFixed-rate windows (bisection order; cross-node: the ramp first):\n');
  console.log(
    '| Server | target deliveries/s | deliveries/s | p50 ms | p99 ms | server CPU | subscribers CPU | others |',
  );
  console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
  const ms = (us: number) => fmt(us / 1000, 1);
  for (const contender of opts.servers) {
    for (const m of results.get(contender.id)!.steps) {
      const w = m.window;
      const mark = w.cpu >= SUBSCRIBERS_BUSY ? ' ⚠' : '';
      console.log(
        `| ${contender.name} | ${fmt(m.target)} | ${fmt(w.msgs_per_sec)} | ${ms(w.p50_us)} | ${ms(w.p99_us)} | ` +
          `${percent(m.serverCpu)} | ${percent(w.cpu)}${mark} | ${percent(m.otherCpu)} |`,
      );
    }
  }
}

function printRatios(opts: Options, results: Map<string, ContenderResult>): void {
  const conduit = results.get('conduit');
  if (conduit === undefined) return;
  const others = opts.servers.filter((c) => c.id !== 'conduit' && !c.crossNode);
  if (others.length === 0) return;
  const rate = (m: Measurement | undefined) => m?.window.msgs_per_sec;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
  console.log(`\n| Conduit hub / | ${others.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${others.map(() => '--:').join('|')}|`);
  for (const [label, pick] of [
    ['max deliveries/s', (r: ContenderResult | undefined) => rate(r?.max)],
    [`deliveries/s at p99 ≤ ${opts.p99Ms} ms`, (r: ContenderResult | undefined) => rate(r?.sustained)],
  ] as const) {
    console.log(
      `| ${label} | ${others.map((c) => ratio(pick(conduit), pick(results.get(c.id)))).join(' | ')} |`,
    );
  }
}

function build(): void {
  const made = spawnSync('make', ['-s', '-C', join(ROOT, 'bench/loadgen'), 'build/fanout-subscribers'], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`building the subscribers failed:\n${made.stderr}${made.stdout}`);
  if (!existsSync(join(ROOT, 'dist/src/hub/index.js')))
    throw new Error('run `npx tsc -p tsconfig.json` first');
}

async function main(): Promise<number> {
  build();
  const opts = readOptions();
  printHeader(opts);
  const results = new Map<string, ContenderResult>();
  for (const contender of opts.servers) {
    const result = await runContender(contender, opts);
    results.set(contender.id, result);
    if (result.error !== undefined) console.error(`${contender.id}: ${result.error}`);
  }
  printResults(opts, results);
  console.log(`\nLoad average at the end: ${loads()}`);
  return [...results.values()].some((r) => r.error !== undefined) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`fan-out benchmark: ${(error as Error).message}`);
  process.exitCode = 1;
}
