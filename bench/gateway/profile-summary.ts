/**
 * Where the gateway's time goes: reads `.cpuprofile` files (from `node --cpu-prof`, e.g. the gateway
 * benchmark's `--profile DIR`) and prints the functions with the most self time and total time, and the files with the most self time, as
 * shares of the time the process was not idle. Native work (socket writes, GC) appears under the
 * names V8 gives it.
 *
 * Run: `node dist/bench/gateway/profile-summary.js FILE.cpuprofile [--top 25]`
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time (µs) per key of every sampled node. */
function selfTimes(profile: Profile, keyOf: (node: ProfileNode) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node === undefined) return;
    const key = keyOf(node);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return totals;
}

/**
 * Total time (µs) per function key: the time of every sample with that function anywhere on its stack
 * (counted once per sample, however deep the recursion).
 */
function totalTimes(profile: Profile): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parent.set(child, node);
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let node = byId.get(id); node !== undefined; node = parent.get(node.id)) {
      const key = functionOf(node);
      if (seen.has(key) || key === '(root)') continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
    }
  });
  return totals;
}

/** A file's path relative to the working directory (node: modules and V8's pseudo-frames as they are). */
function fileOf(node: ProfileNode): string {
  const { url } = node.callFrame;
  if (url === '') return `(native) ${node.callFrame.functionName || '(anonymous)'}`;
  return url.startsWith('file://') ? relative(process.cwd(), fileURLToPath(url)) : url;
}

function functionOf(node: ProfileNode): string {
  const name = node.callFrame.functionName || '(anonymous)';
  return node.callFrame.url === '' ? name : `${fileOf(node)}:${node.callFrame.lineNumber + 1} ${name}`;
}

function printTop(title: string, totals: Map<string, number>, busy: number, top: number): void {
  console.log(`\n| ${title} | ms | share of busy time |`);
  console.log('|---|--:|--:|');
  const rows = [...totals].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1]);
  for (const [key, micros] of rows.slice(0, top)) {
    console.log(`| ${key} | ${(micros / 1000).toFixed(0)} | ${((micros / busy) * 100).toFixed(1)} % |`);
  }
}

function summarize(path: string, top: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byFunction = selfTimes(profile, functionOf);
  const total = [...byFunction.values()].reduce((sum, n) => sum + n, 0);
  const busy = total - (byFunction.get('(idle)') ?? 0);
  console.log(
    `${path}: ${(total / 1e6).toFixed(1)} s sampled, ${((busy / total) * 100).toFixed(0)} % of it busy`,
  );
  printTop('function (file:line name), self time', byFunction, busy, top);
  printTop('function (file:line name), total time (self + callees)', totalTimes(profile), busy, top);
  printTop('file', selfTimes(profile, fileOf), busy, top);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
if (positionals.length === 0) {
  console.error('usage: profile-summary FILE.cpuprofile... [--top N]');
  process.exitCode = 2;
}
for (const path of positionals) summarize(path, Number(values.top));
