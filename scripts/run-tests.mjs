#!/usr/bin/env node
// Runs every compiled node:test file under dist/test. Files are listed explicitly because
// Node 20 and Node 24 read directory and glob arguments of `node --test` differently.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The whole run is stopped (and fails) after this long: CI must end with a verdict, never hang. */
const RUN_LIMIT_MS = 40 * 60 * 1000;

function collect(dir) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...collect(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
const files = collect('dist/test').filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('run-tests: no compiled test files found under dist/test (did the build run?)');
  process.exit(1);
}
// A test that hangs fails after 10 minutes. `--test-force-exit` is deliberately not used: it can end a
// file's process before all of its suites ran (seen on Node 20 and 24), silently dropping tests.
const args = ['--test', '--test-reporter=spec', '--test-timeout=600000', ...files];
// Its own process group, so that the watchdog can stop the runner and every test process it started.
const child = spawn(process.execPath, args, { stdio: 'inherit', detached: true });
const watchdog = setTimeout(() => {
  console.error(
    `run-tests: still running after ${RUN_LIMIT_MS / 60000} minutes (a test or a leaked handle hangs); stopping`,
  );
  process.kill(-child.pid, 'SIGKILL');
}, RUN_LIMIT_MS);
child.on('exit', (code, signal) => {
  clearTimeout(watchdog);
  process.exit(signal === null ? (code ?? 1) : 1);
});
