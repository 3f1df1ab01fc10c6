/**
 * `conduit bench` run as a real process for about a second per mode: echo against `conduit echo`,
 * subscribe against `conduit serve`'s hub, connect against `conduit echo`. Checks that the counts are
 * consistent (sent = received + in flight, no error), the shape of the table and of the JSON, the HTML
 * report, the progress output, and usage errors. The terminal progress bar is checked in tmux.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from '../../src/cli/bench-result.js';
import { killAll, runConduit, type ServeProcess, startServe } from '../hub/cluster-process.js';
import { withTimeout } from '../server/helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

/** Starts `conduit echo --port 0`; resolves with the process and its URL. */
async function startEcho(): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [BIN, 'echo', '--port', '0'], { stdio: 'pipe' });
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^listening on (ws:\/\/\S+)$/m.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`conduit echo exited with ${code}`)));
    }),
    10_000,
    'conduit echo listening',
  );
  return { child, url };
}

/** Runs `conduit bench ARGS` (bounded); parses stdout as JSON when `--json` is among the args. */
async function bench(args: string[]) {
  const run = await runConduit(['bench', ...args], 30_000);
  const result =
    args.includes('--json') && run.code !== 2 ? (JSON.parse(run.stdout) as BenchResult) : undefined;
  return { ...run, result };
}

/** The invariants every finished run keeps. */
function assertConsistent(result: BenchResult): void {
  const { counts, latencyMs, histogram } = result;
  assert.equal(counts.sent, counts.received + counts.inFlight + counts.failed, 'sent = received + in flight');
  assert.equal(result.errors.total, 0, JSON.stringify(result.errors));
  assert.deepEqual(result.errors.byKind, {});
  assert.equal(
    histogram.reduce((sum, b) => sum + b.count, 0),
    latencyMs.count,
    'every latency sample is in the histogram',
  );
  const order = [latencyMs.min, latencyMs.p50, latencyMs.p90, latencyMs.p99, latencyMs.p999, latencyMs.max];
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'min ≤ p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max',
  );
  assert.ok(result.elapsedSeconds > 0);
}

/** The value of a table row, as a number when it is one. */
function row(table: string, label: string): string {
  const match = new RegExp(`^ {2}${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +(.+)$`, 'm').exec(table);
  assert.ok(match, `no row ${label} in:\n${table}`);
  return match[1]!.trim();
}
const num = (text: string): number => Number(text.replace(/,/g, '').split(' ')[0]);

after(killAll);

describe('conduit bench', () => {
  let echo: { child: ChildProcessWithoutNullStreams; url: string };
  let serve: ServeProcess;
  const dir = mkdtempSync(join(tmpdir(), 'conduit-bench-'));
  before(async () => {
    echo = await startEcho();
    serve = await startServe(['--log-level', 'warn']);
  });
  after(() => {
    echo?.child.kill('SIGKILL');
    serve?.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('echo mode: consistent counts, JSON shape, HTML report with an SVG histogram', async () => {
    const report = join(dir, 'echo.html');
    const args = ['--connections', '3', '--in-flight', '8', '--size', '100', '--duration', '1.5'];
    const run = await bench([echo.url, ...args, '--json', '--report', report]);
    assert.equal(run.code, 0, run.stderr);
    const result = run.result!;
    assert.deepEqual(Object.keys(result), [
      'mode',
      'url',
      'startedAt',
      'parameters',
      'elapsedSeconds',
      'counts',
      'rates',
      'latencyMs',
      'errors',
      'closeCodes',
      'histogram',
    ]);
    assert.deepEqual(result.parameters, {
      connections: 3,
      durationSeconds: 1.5,
      size: 100,
      inFlight: 8,
      rate: null,
      topic: null,
      deflate: false,
    });
    assertConsistent(result);
    assert.ok(result.counts.received > 0);
    assert.equal(result.counts.inFlight, 0, 'the echoes in flight at the stop came back');
    assert.equal(result.latencyMs.count, result.counts.received, 'one round trip per echo');
    assert.ok(result.rates.messagesPerSecond > 0);
    assert.ok(result.rates.megabytesPerSecond > 0);
    assert.deepEqual(result.closeCodes, { 1000: 3 });
    assert.match(
      run.stderr,
      /^bench: \d+\.\d\/1\.5 s {2}sent [\d,]+ {2}received [\d,]+ /m,
      'a plain progress line',
    );

    assert.ok(existsSync(report));
    const html = readFileSync(report, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg[^>]*>[\s\S]*<rect [\s\S]*<\/svg>/);
    assert.doesNotMatch(html, /<script|<link|\ssrc=|\shref=/, 'self-contained');
    assert.match(html, new RegExp(`${result.counts.received.toLocaleString('en-US')}`), 'the results table');
  });

  it('echo mode as a table, paced by --rate', async () => {
    const run = await bench([echo.url, '--connections', '2', '--rate', '400', '--duration', '1']);
    assert.equal(run.code, 0, run.stderr);
    const table = run.stdout;
    assert.match(
      table,
      /^conduit bench --mode echo ws:\/\/127\.0\.0\.1:\d+\n {2}2 connections, 64 B messages/,
    );
    const sent = num(row(table, 'messages sent'));
    const received = num(row(table, 'echoes received'));
    assert.equal(sent, received + num(row(table, 'in flight at the end')));
    const elapsed = num(row(table, 'elapsed'));
    assert.ok(
      sent > 0 && sent <= Math.ceil(400 * elapsed) + 1,
      `${sent} messages exceed 400/s × ${elapsed} s`,
    );
    for (const label of ['msgs/s', 'MB/s']) assert.match(row(table, label), /^[\d,.]+$/);
    for (const label of ['p50', 'p90', 'p99', 'p99.9', 'max'])
      assert.match(row(table, `  ${label}`), /^\d+\.\d+ ms$/);
    assert.equal(row(table, 'errors'), '0');
    assert.equal(row(table, 'close codes'), '1000 ×2');
  });

  it('subscribe mode: every publication reaches every subscriber through the hub', async () => {
    const base = `ws://127.0.0.1:${serve.port}`; // no path: the bench adds /hub
    const run = await bench([
      base,
      '--mode',
      'subscribe',
      '--connections',
      '5',
      '--rate',
      '50',
      '--duration',
      '1',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = run.result!;
    assertConsistent(result);
    const { counts } = result;
    assert.ok(counts.published > 0);
    assert.equal(counts.sent, counts.published * 5, 'deliveries due: publications × subscribers');
    assert.equal(counts.received, counts.sent, 'all delivered');
    assert.equal(result.latencyMs.count, counts.received, 'one latency per delivery');
    assert.match(result.parameters.topic!, /^bench\./);
    assert.ok(result.rates.publicationsPerSecond > 0);
    assert.deepEqual(result.closeCodes, { 1000: 6 }, 'five subscribers and the publisher');
  });

  it('connect mode: handshakes per second and handshake latency', async () => {
    const report = join(dir, 'connect.html');
    const run = await bench([
      echo.url,
      '--mode',
      'connect',
      '--connections',
      '2',
      '--duration',
      '1',
      '--json',
      '--report',
      report,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = run.result!;
    assertConsistent(result);
    const { counts } = result;
    assert.ok(counts.received > 0);
    assert.equal(counts.failed, 0);
    assert.equal(counts.inFlight, 0);
    assert.deepEqual(result.closeCodes, { 1000: counts.received }, 'each connection closed with 1000');
    assert.equal(result.latencyMs.count, counts.received);
    assert.ok(result.rates.handshakesPerSecond > 0);
    assert.equal(result.rates.messagesPerSecond, 0);
    assert.match(readFileSync(report, 'utf8'), /<svg/);
  });

  it('exits 1 when the server cannot be reached, 2 on bad usage', async () => {
    const unreachable = await bench(['ws://127.0.0.1:1', '--duration', '1']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /conduit bench: cannot connect: .*ECONNREFUSED/);
    assert.equal(unreachable.stdout, '');

    const cases: [string[], RegExp][] = [
      [[], /exactly one URL/],
      [['http//nowhere'], /Invalid URL/],
      [[echo.url, '--mode', 'flood'], /Invalid --mode/],
      [[echo.url, '--connections', '0'], /Invalid --connections/],
      [[echo.url, '--connections', '2.5'], /Invalid --connections/],
      [[echo.url, '--duration=0'], /Invalid --duration/],
      [[echo.url, '--duration', 'long'], /Invalid --duration/],
      [[echo.url, '--size', 'big'], /Invalid --size/],
      [[echo.url, '--mode', 'connect', '--rate', '10'], /--rate does not apply/],
      [[echo.url, '--topic', 'bad topic'], /Invalid --topic/],
      [[echo.url, '--ca', '/nonexistent.pem'], /Cannot read --ca/],
      [[echo.url, '--bogus'], /bogus/],
    ];
    const runs = await Promise.all(cases.map(([args]) => bench(args)));
    cases.forEach(([args, message], i) => {
      const run = runs[i]!;
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage: conduit bench/);
    });
    const help = await runConduit(['bench', '--help']);
    assert.equal(help.code, 0);
    for (const option of [
      '--mode',
      '--connections',
      '--duration',
      '--size',
      '--in-flight',
      '--rate',
      '--json',
      '--report',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${option} `, 'm'), option);
    }
    assert.match((await runConduit(['--help'])).stdout, /^ {2}bench /m);
  });
});

function tmuxMissing(): string | false {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return false;
  } catch {
    const reason =
      'tmux is needed for the terminal test of conduit bench (install the Debian package "tmux")';
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(`SKIPPING: ${reason}`);
    return reason;
  }
}

describe('conduit bench on a terminal (tmux)', { skip: tmuxMissing() }, () => {
  // A tmux server of our own, on a socket in a temporary directory removed at the end.
  const socketDir = mkdtempSync(join(tmpdir(), 'conduit-bench-tmux-'));
  const socket = join(socketDir, 'tmux.sock');
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
  let echo: { child: ChildProcessWithoutNullStreams; url: string } | undefined;
  after(() => {
    echo?.child.kill('SIGKILL');
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('redraws one progress bar line on stderr, then erases it before the table', async () => {
    echo = await startEcho();
    const command = `'${process.execPath}' '${BIN}' bench ${echo.url} --connections 2 --duration 2; echo EXIT=$?; sleep 600`;
    tmux('new-session', '-d', '-s', 'bench', '-x', '120', '-y', '30', command);
    const seen = new Set<string>();
    const deadline = Date.now() + 15_000;
    let text = '';
    while (!/^EXIT=\d+$/m.test(text)) {
      assert.ok(Date.now() < deadline, `no exit within 15 s:\n${text}`);
      text = tmux('capture-pane', '-p', '-t', 'bench');
      for (const line of text.split('\n')) if (line.startsWith('[')) seen.add(line);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(seen.size > 0, 'a progress bar was shown');
    for (const line of seen) assert.match(line, /^\[[#-]{20}\] \d+\.\d\/2 s {2}sent /);
    assert.match(text, /^EXIT=0$/m);
    assert.doesNotMatch(text, /^\[[#-]{20}\]/m, 'the bar is erased at the end');
    assert.equal(text.split('\n').filter((line) => line.startsWith('conduit bench')).length, 1);
    assert.match(text, /^ {2}close codes +1000 ×2$/m);
  });
});
