#!/usr/bin/env node
// Builds the optional native masking accelerator (native/mask.c) into build/mask.node with the machine's C
// compiler against Node-API headers. Conduit works without it (WebAssembly SIMD and JavaScript masking), so a
// machine without a compiler or headers only gets a note, unless `--required` is given (CI uses it, so that a
// broken build cannot hide behind the fallback). `CONDUIT_NATIVE=0` skips the build, as it skips loading.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'mask.c');
const output = join(root, 'build', 'mask.node');
const required = process.argv.includes('--required');

/** Directories that may hold node_api.h: Node's own headers first, then the node-api-headers package. */
function headerCandidates() {
  const candidates = [];
  if (process.env.CONDUIT_NODE_API_INCLUDE) candidates.push(process.env.CONDUIT_NODE_API_INCLUDE);
  candidates.push(join(dirname(process.execPath), '..', 'include', 'node'));
  try {
    const pkg = createRequire(import.meta.url).resolve('node-api-headers/package.json');
    candidates.push(join(dirname(pkg), 'include'));
  } catch {
    // Not installed: the system locations below may still have the headers.
  }
  candidates.push('/usr/include/node', '/usr/local/include/node');
  return candidates;
}

function fail(reason) {
  const message = `conduit: native masking accelerator not built (${reason}); WebAssembly SIMD masking is used instead`;
  console.error(message);
  process.exit(required ? 1 : 0);
}

function isFresh() {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return built >= statSync(source).mtimeMs && built >= statSync(fileURLToPath(import.meta.url)).mtimeMs;
}

if (process.env.CONDUIT_NATIVE === '0') fail('CONDUIT_NATIVE=0');
if (process.platform === 'win32') fail('no build recipe for Windows');
if (isFresh()) process.exit(0);

const include = headerCandidates().find((dir) => existsSync(join(dir, 'node_api.h')));
if (include === undefined) fail('no node_api.h found; install Node headers or the node-api-headers package');

const compiler = process.env.CC || 'cc';
const args = ['-O3', '-shared', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-I', include];
// Node-API symbols are resolved against the running node binary when the addon loads.
if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
mkdirSync(dirname(output), { recursive: true });
const result = spawnSync(compiler, [...args, '-o', output, source], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
if (result.error) fail(`${compiler}: ${result.error.message}`);
if (result.status !== 0) fail(`${compiler} exited with ${result.status}`);
