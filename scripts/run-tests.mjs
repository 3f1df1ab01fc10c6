#!/usr/bin/env node
// Runs every compiled node:test file under dist/test. Files are listed explicitly because
// Node 20 and Node 24 read directory and glob arguments of `node --test` differently.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
// A test that hangs fails after 10 minutes, and a file whose tests are done exits even if a handle leaked:
// CI must end with a verdict, never wait forever.
const guards = ['--test-timeout=600000', '--test-force-exit'];
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...guards, ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
