/**
 * What the gateway benchmark measures: the load of each scenario, the targets Conduit's gateway is held
 * to (ratios to HAProxy or nginx, from the issue that asked for this benchmark) and the shape of one
 * run's outcome.
 */
import type { CpuShares } from './cpu.js';

/** One JSON result line of the load generator in echo mode. */
export interface LoadResult {
  readonly msgs_per_sec: number;
  readonly mb_per_sec: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly connections: number;
  readonly errors: number;
  readonly loadgen_cpu: number;
}

/** A target: Conduit's contender `proxy` reaches at least `ratio` × the `against` proxy's throughput. */
export interface Target {
  readonly proxy: 'conduit' | 'conduit-tunnel';
  readonly against: 'haproxy' | 'nginx';
  readonly ratio: number;
}

export interface Scenario {
  readonly id: string;
  readonly label: string;
  /** Load generator arguments (port, duration and warmup are added). */
  readonly args: readonly string[];
  /** Large messages: the table's headline is GB/s rather than msgs/s. */
  readonly bulk: boolean;
  readonly targets: readonly Target[];
}

/** What one contender did in one scenario. */
export interface Outcome {
  readonly result?: LoadResult;
  readonly cpu?: CpuShares | null;
  readonly error?: string;
}

/** Tunnel mode only splices bytes: it is held to 0.9× HAProxy everywhere. */
const TUNNEL: Target = { proxy: 'conduit-tunnel', against: 'haproxy', ratio: 0.9 };

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'echo-64',
    label: '64 B text, 100 conns, 1 in flight',
    args: ['--connections', '100', '--size', '64', '--in-flight', '1'],
    bulk: false,
    targets: [{ proxy: 'conduit', against: 'haproxy', ratio: 0.75 }, TUNNEL],
  },
  {
    id: 'echo-64-pipelined',
    label: '64 B text, 100 conns, 16 in flight',
    args: ['--connections', '100', '--size', '64', '--in-flight', '16'],
    bulk: false,
    targets: [{ proxy: 'conduit', against: 'haproxy', ratio: 0.6 }, TUNNEL],
  },
  {
    id: 'echo-64k',
    label: '64 KB binary, 10 conns, 1 in flight',
    args: ['--connections', '10', '--size', '65536', '--binary', '--in-flight', '1'],
    bulk: true,
    targets: [{ proxy: 'conduit', against: 'nginx', ratio: 1 }, TUNNEL],
  },
];

/** Echoed messages per second of an outcome, if it has a result. */
export function throughput(outcome: Outcome | undefined): number | undefined {
  return outcome?.result?.msgs_per_sec;
}
