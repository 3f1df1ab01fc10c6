/**
 * CPU accounting of a gateway benchmark run, from /proc (proc(5)): the proxy's and the backend's own
 * CPU time, how busy the client CPU was as a whole, and what the rest of the machine used meanwhile.
 * The load generator reports its own share.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** Shares of one core over a measured window. */
export interface CpuShares {
  readonly proxy: number;
  readonly backend: number;
  /** The whole client CPU (backend, load generator, their softirqs, anything else on it); null unpinned. */
  readonly clientCpu: number | null;
  /** The machine's busy time outside the proxy, the backend and the load generator, in cores. */
  readonly others: number;
}

interface Snapshot {
  readonly at: number;
  readonly proxy: number;
  readonly backend: number;
  readonly machine: number;
  readonly clientCpu: number;
}

/** User + system CPU seconds of a process, all threads (fields 14 and 15 of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Busy seconds (everything but idle and iowait) of the /proc/stat line named `name` (`cpu`, `cpu1`). */
function busySeconds(name: string): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name} `));
  if (line === undefined) return 0;
  // user nice system idle iowait irq softirq steal
  const ticks = line.split(/\s+/).slice(1, 9).map(Number);
  return ticks.reduce((sum, n, i) => (i === 3 || i === 4 ? sum : sum + n), 0) / CLOCK_TICKS;
}

/** Measures the CPU use of a proxy, a backend and the CPU they share with the load generator. */
export class CpuMeter {
  private start: Snapshot | null = null;

  constructor(
    /** Null when there is no proxy (its share is then 0). */
    private readonly proxyPid: number | null,
    private readonly backendPid: number,
    /** The CPU of the backend and the load generator, or null when nothing is pinned. */
    private readonly clientCpu: string | null,
  ) {}

  private snapshot(): Snapshot {
    return {
      at: performance.now(),
      proxy: this.proxyPid === null ? 0 : cpuSeconds(this.proxyPid),
      backend: cpuSeconds(this.backendPid),
      machine: busySeconds('cpu'),
      clientCpu: this.clientCpu === null ? 0 : busySeconds(`cpu${this.clientCpu}`),
    };
  }

  /** Starts the window (call once the warmup is over). False when a process is already gone. */
  begin(): boolean {
    try {
      this.start = this.snapshot();
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the window; null when it never began or a process vanished. */
  end(loadgenShare: number): CpuShares | null {
    if (this.start === null) return null;
    let now: Snapshot;
    try {
      now = this.snapshot();
    } catch {
      return null;
    }
    const seconds = (now.at - this.start.at) / 1000;
    const proxy = (now.proxy - this.start.proxy) / seconds;
    const backend = (now.backend - this.start.backend) / seconds;
    const machine = (now.machine - this.start.machine) / seconds;
    return {
      proxy,
      backend,
      clientCpu: this.clientCpu === null ? null : (now.clientCpu - this.start.clientCpu) / seconds,
      others: Math.max(0, machine - proxy - backend - loadgenShare),
    };
  }
}
