/**
 * The gateway benchmark's Markdown output: a header saying how the run was taken, one row per scenario
 * and proxy (throughput, latency, ratios to HAProxy and nginx, CPU shares), and the targets table.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { Contender } from './proxies.js';
import { type Outcome, type Scenario, throughput } from './scenarios.js';

/** How the run was set up, for the header. */
export interface RunSetup {
  readonly duration: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly proxyCpu: string | null;
  readonly clientCpu: string | null;
  readonly versions: string;
}

/** Above this share of its CPU, the backend + load generator side may be what limits a figure. */
export const CLIENT_BUSY = 0.9;

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const percent = (share: number | null | undefined) =>
  share === undefined || share === null ? '—' : `${Math.round(share * 100)} %`;

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;
}

const key = (scenario: Scenario, proxyId: string) => `${scenario.id}/${proxyId}`;

/** Date, machine, versions, pinning and the load average when the run started. */
export function printHeader(setup: RunSetup): void {
  const [one, five] = loadavg();
  console.log(
    `Date: ${new Date().toISOString()}; machine: ${availableParallelism()} CPUs (${cpus()[0]?.model}); ` +
      `Node ${process.version}; load average at start ${one!.toFixed(2)} (1 min), ${five!.toFixed(2)} (5 min).`,
  );
  console.log(`${setup.versions}.`);
  console.log(
    (setup.proxyCpu !== null
      ? `Proxy pinned to CPU ${setup.proxyCpu}; backend (uWebSockets.js echo) and load generator share CPU ${setup.clientCpu}. `
      : 'Unpinned: proxy, backend and load generator share every CPU. ') +
      `${setup.warmup} s warmup + ${setup.duration} s measured per run` +
      (setup.repeat > 1 ? `, least disturbed of ${setup.repeat} runs.` : '.'),
  );
  console.log('');
}

function failedRow(scenario: Scenario, proxy: Contender, outcome: Outcome | undefined): string {
  const why = (outcome?.error ?? 'not run').replace(/\s+/g, ' ').slice(0, 160);
  return `| ${scenario.label} | ${proxy.name} | failed: ${why} |${' |'.repeat(13)}`;
}

/** Proxy CPU time per echoed message, µs (each message crosses the proxy twice); undefined without one. */
export function cpuPerMessage(outcome: Outcome | undefined): number | undefined {
  const share = outcome?.cpu?.proxy;
  const rate = throughput(outcome);
  return share === undefined || share === 0 || rate === undefined || rate === 0
    ? undefined
    : (share / rate) * 1e6;
}

/** One row of the main table. */
function row(
  scenario: Scenario,
  proxy: Contender,
  outcome: Outcome,
  results: ReadonlyMap<string, Outcome>,
): string {
  const r = outcome.result!;
  const cpu = outcome.cpu;
  const busy = (cpu?.clientCpu ?? 0) >= CLIENT_BUSY;
  const against = (id: string) => ratio(r.msgs_per_sec, throughput(results.get(key(scenario, id))));
  const ceiling = throughput(results.get(key(scenario, 'direct')));
  const ofCeiling = ceiling === undefined ? undefined : (r.msgs_per_sec / ceiling) * 100;
  return (
    `| ${scenario.label} | ${proxy.name} | ${fmt(r.msgs_per_sec)} | ${fmt(r.mb_per_sec / 1000, scenario.bulk ? 2 : 3)} | ` +
    `${fmt(r.p50_us)} | ${fmt(r.p99_us)} | ${r.errors} | ${against('haproxy')} | ${against('nginx')} | ` +
    `${ofCeiling === undefined ? '—' : `${fmt(ofCeiling)} %`} | ${fmt(cpuPerMessage(outcome), 1)} | ` +
    `${percent(cpu?.proxy)} | ${percent(cpu?.backend)} | ${percent(r.loadgen_cpu)} | ` +
    `${percent(cpu?.clientCpu)}${busy ? ' ⚠' : ''} | ${percent(cpu?.others)} |`
  );
}

/** The main table; returns true when some row had its client CPU at or above {@link CLIENT_BUSY}. */
export function printThroughput(
  scenarios: readonly Scenario[],
  proxies: readonly Contender[],
  results: ReadonlyMap<string, Outcome>,
): boolean {
  console.log(
    '| Scenario | Proxy | msgs/s | GB/s | p50 µs | p99 µs | errors | / HAProxy | / nginx | of ceiling | ' +
      'proxy µs/msg | proxy CPU | backend CPU | loadgen CPU | client CPU busy | others |',
  );
  console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  let clientBusy = false;
  for (const scenario of scenarios) {
    for (const proxy of proxies) {
      const outcome = results.get(key(scenario, proxy.id));
      if (outcome?.result === undefined) {
        console.log(failedRow(scenario, proxy, outcome));
        continue;
      }
      clientBusy ||= (outcome.cpu?.clientCpu ?? 0) >= CLIENT_BUSY;
      console.log(row(scenario, proxy, outcome, results));
    }
  }
  return clientBusy;
}

/** Notes under the main table. */
export function printNotes(clientBusy: boolean): void {
  const notes = [
    'GB/s counts echoed payload bytes, one direction (10^9 B/s); ratios compare msgs/s. "of ceiling": share of',
    'the "no proxy" rate, the load generator talking to the backend itself on the client CPU, which does the',
    'same work per message then as with a proxy in between: no proxy can show more here.',
    '"proxy µs/msg": the proxy\'s CPU time per echoed message (each crosses it twice), comparable even when',
    'the client CPU, not the proxy, set the rate. CPU columns are shares of one core while measured: the proxy',
    'process (all threads), the backend, the load generator, the client CPU as a whole (both of them plus the',
    'kernel work done there) and "others": the rest of the machine meanwhile.',
  ];
  if (clientBusy) {
    notes.push(
      '⚠ the client CPU was at least 90 % busy: the rate may be capped by the client side (see "of ceiling").',
    );
  }
  console.log(`\n${notes.join('\n')}`);
}

/** The targets of Conduit's gateway and whether this run meets them. */
export function printTargets(scenarios: readonly Scenario[], results: ReadonlyMap<string, Outcome>): void {
  const names: Record<string, string> = {
    conduit: 'frames',
    'conduit-tunnel': 'tunnel',
    haproxy: 'HAProxy',
    nginx: 'nginx',
  };
  const rows: string[] = [];
  for (const scenario of scenarios) {
    for (const target of scenario.targets) {
      // Targets whose contenders were left out of this run are left out of the table too.
      if (!results.has(key(scenario, target.proxy)) || !results.has(key(scenario, target.against))) continue;
      const oursOutcome = results.get(key(scenario, target.proxy));
      const theirsOutcome = results.get(key(scenario, target.against));
      const ours = throughput(oursOutcome);
      const theirs = throughput(theirsOutcome);
      // The same ratio from CPU cost: what the rates would be if each proxy had its core to itself.
      const byCost = ratio(cpuPerMessage(theirsOutcome), cpuPerMessage(oursOutcome));
      const measured = ratio(ours, theirs);
      const met =
        ours === undefined || theirs === undefined ? '—' : ours >= target.ratio * theirs ? 'yes' : 'no';
      rows.push(
        `| ${scenario.label} | ${names[target.proxy]} | ≥ ${target.ratio}× ${names[target.against]} | ${measured} | ${met} | ${byCost} |`,
      );
    }
  }
  if (rows.length === 0) return;
  console.log('\n| Scenario | Conduit mode | target | measured | met | by proxy CPU per message |');
  console.log('|---|---|--:|--:|:-:|--:|');
  console.log(rows.join('\n'));
  console.log(
    '\n"met" compares the measured rates. "by proxy CPU per message" is the other proxy\'s µs/msg over',
  );
  console.log("Conduit's: the ratio to expect when neither is held back by the client CPU.");
}
