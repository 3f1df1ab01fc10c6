/**
 * Gateway benchmark: Conduit's gateway (frame-aware and tunnel routes) against nginx and HAProxy, all
 * proxying the same uWebSockets.js echo backend, driven by the native load generator in bench/loadgen/.
 * With two cores, the proxy runs pinned to CPU 0 while the backend and the load generator share CPU 1;
 * the table shows their CPU shares and how busy CPU 1 was, and a "no proxy" row (load generator straight
 * to the backend) gives the most that CPU 1 lets any proxy show. Every proxy runs as one process with one
 * thread of work, started fresh for every scenario, contenders taking turns within a scenario.
 * Configurations: bench/gateway/. Method and figures: the Gateway section of docs/benchmarks.md.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/gateway.bench.js`
 *      [--duration 5] [--warmup 1] [--proxies conduit,conduit-tunnel,nginx,haproxy,node-pipe,direct]
 *      [--scenarios echo-64,echo-64-pipelined,echo-64k] [--repeat 1] [--profile DIR]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CpuMeter } from './gateway/cpu.js';
import { onLines, runs, stopChild, versionLine } from './gateway/processes.js';
import { type Contender, PROXIES, type Running, startBackend } from './gateway/proxies.js';
import { printHeader, printNotes, printTargets, printThroughput } from './gateway/report.js';
import { type LoadResult, type Outcome, SCENARIOS, type Scenario } from './gateway/scenarios.js';

const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
const LOADGEN = join(ROOT, 'bench/loadgen/build/loadgen');
const PROXY_CPU = '0';
const CLIENT_CPU = '1';

interface RunOptions {
  readonly duration: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly pin: boolean;
  readonly proxies: readonly Contender[];
  readonly scenarios: readonly Scenario[];
  /** `node --cpu-prof` directory for Conduit's gateway processes, or null. */
  readonly profileDir: string | null;
}

/** The directory holding Conduit's package.json, from dist/bench/ or bench/. */
function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'conduit') return dir;
  }
  throw new Error(`no Conduit package.json above ${start}`);
}

function buildLoadgen(): void {
  const made = spawnSync('make', ['-s', '-C', join(ROOT, 'bench/loadgen'), 'build/loadgen'], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`building the load generator failed:\n${made.stderr}${made.stdout}`);
}

/** Pinning needs taskset (util-linux) and two CPUs; without them everything runs unpinned. */
function canPin(): boolean {
  if (availableParallelism() < 2) {
    console.error('warning: fewer than 2 CPUs, proxy, backend and load generator run unpinned');
    return false;
  }
  if (!runs('taskset', ['-c', PROXY_CPU, 'true'])) {
    console.error('warning: taskset (util-linux) is missing or fails, everything runs unpinned');
    return false;
  }
  return true;
}

/** Runs the load generator against `port` (pinned to the client CPU); resolves with its JSON line. */
function runLoadgen(args: readonly string[], pin: boolean, timeoutMs: number): Promise<LoadResult> {
  const command = pin ? ['taskset', '-c', CLIENT_CPU, LOADGEN, ...args] : [LOADGEN, ...args];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  let last = '';
  onLines(child, (line) => {
    last = line;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(last) as LoadResult);
      else reject(new Error(`load generator ${signal ?? `status ${code}`}: ${stderr.trim()}`));
    });
  });
}

async function stop(running: Running | undefined): Promise<void> {
  if (running === undefined) return;
  if (running.child !== null) await stopChild(running.child.process);
  running.cleanup();
}

/** One contender in one scenario, on a fresh backend and a fresh proxy. */
async function runScenario(proxy: Contender, scenario: Scenario, opts: RunOptions): Promise<Outcome> {
  if (proxy.executable !== null && !existsSync(proxy.executable)) {
    return { error: `${proxy.executable} is missing (install the Debian package ${proxy.id})` };
  }
  let backend: Running | undefined;
  let front: Running | undefined;
  try {
    backend = await startBackend(ROOT, opts.pin ? CLIENT_CPU : null);
    front = await proxy.start({
      root: ROOT,
      backendPort: backend.port,
      cpu: opts.pin ? PROXY_CPU : null,
      profileDir: proxy.profiled ? opts.profileDir : null,
    });
    const meter = new CpuMeter(
      front.child?.process.pid ?? null,
      backend.child!.process.pid!,
      opts.pin ? CLIENT_CPU : null,
    );
    const args = [
      ...scenario.args,
      ...['--port', String(front.port), '--duration', String(opts.duration), '--warmup', String(opts.warmup)],
    ];
    // The window starts after the warmup, with slack for opening the connections through the proxy.
    const timer = setTimeout(() => meter.begin(), (opts.warmup + 0.2) * 1000);
    let result: LoadResult;
    try {
      result = await runLoadgen(args, opts.pin, (opts.duration + opts.warmup + 70) * 1000);
    } finally {
      clearTimeout(timer);
    }
    return { result, cpu: meter.end(result.loadgen_cpu) };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await stop(front);
    await stop(backend);
  }
}

/** With --repeat, keep the run the rest of the machine disturbed least (lowest "others"). */
function lessDisturbed(kept: Outcome | undefined, next: Outcome): Outcome {
  if (kept?.result === undefined) return next;
  if (next.result === undefined) return kept;
  const others = (o: Outcome) => o.cpu?.others ?? Number.POSITIVE_INFINITY;
  return others(next) < others(kept) ? next : kept;
}

function pick<T extends { id: string }>(all: readonly T[], list: string, what: string): T[] {
  const ids = list.split(',').filter((id) => id !== '');
  const unknown = ids.filter((id) => !all.some((item) => item.id === id));
  if (unknown.length > 0) {
    throw new Error(`unknown ${what} ${unknown.join(', ')} (known: ${all.map((i) => i.id).join(', ')})`);
  }
  return all.filter((item) => ids.includes(item.id));
}

function readOptions(): RunOptions {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      proxies: { type: 'string', default: PROXIES.map((p) => p.id).join(',') },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.id).join(',') },
      repeat: { type: 'string', default: '1' },
      profile: { type: 'string' },
    },
  });
  const profileDir = values.profile === undefined ? null : resolve(values.profile);
  if (profileDir !== null) mkdirSync(profileDir, { recursive: true });
  return {
    duration: Number(values.duration),
    warmup: Number(values.warmup),
    repeat: Math.max(1, Number(values.repeat)),
    pin: canPin(),
    proxies: pick(PROXIES, values.proxies, 'proxy'),
    scenarios: pick(SCENARIOS, values.scenarios, 'scenario'),
    profileDir,
  };
}

function versions(): string {
  const conduit = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  let uws = '?';
  try {
    const manifest = join(ROOT, 'node_modules/@trufflesuite/uws-js-unofficial/package.json');
    uws = JSON.parse(readFileSync(manifest, 'utf8')).version;
  } catch {}
  const nginx = versionLine('/usr/sbin/nginx', ['-v']).replace('nginx version: ', '');
  const haproxy = versionLine('/usr/sbin/haproxy', ['-v']).replace(/ - https:.*$/, '');
  return `Conduit ${conduit}; ${nginx}; ${haproxy}; backend uWebSockets.js ${uws}`;
}

async function main(): Promise<number> {
  buildLoadgen();
  const opts = readOptions();
  printHeader({
    duration: opts.duration,
    warmup: opts.warmup,
    repeat: opts.repeat,
    proxyCpu: opts.pin ? PROXY_CPU : null,
    clientCpu: opts.pin ? CLIENT_CPU : null,
    versions: versions(),
  });
  const results = new Map<string, Outcome>();
  for (const scenario of opts.scenarios) {
    for (let round = 0; round < opts.repeat; round++) {
      for (const proxy of opts.proxies) {
        const id = `${scenario.id}/${proxy.id}`;
        const outcome = await runScenario(proxy, scenario, opts);
        results.set(id, lessDisturbed(results.get(id), outcome));
        console.error(`${id}: ${outcome.error ?? JSON.stringify({ ...outcome.result, cpu: outcome.cpu })}`);
      }
    }
  }
  const clientBusy = printThroughput(opts.scenarios, opts.proxies, results);
  printNotes(clientBusy);
  printTargets(opts.scenarios, results);
  const [one, five] = loadavg();
  console.log(`\nLoad average at the end: ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min).`);
  if (opts.profileDir !== null) console.log(`CPU profiles of Conduit's gateway: ${opts.profileDir}`);
  return [...results.values()].some((o) => o.error !== undefined) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`gateway benchmark: ${(error as Error).message}`);
  process.exitCode = 1;
}
