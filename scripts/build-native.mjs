#!/usr/bin/env node
// Builds Conduit's optional native addons with the machine's C compiler against Node-API headers:
// - native/mask.c → build/mask.node, the masking accelerator (else WebAssembly SIMD and JavaScript masking);
// - native/relay.c → build/relay.node, the tunnel relay thread, Linux only (else tunnels splice in JavaScript);
// - native/heap.c → build/heap.node, glibc heap tuning for large messages, Linux only (else the C library's defaults).
// Conduit works without them, so a machine without a compiler or headers only gets a note, unless `--required`
// is given (CI uses it, so that a broken build cannot hide behind a fallback). `CONDUIT_NATIVE=0` skips the
// build, as it skips loading.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.argv.includes('--required');

/** The addons: source, output, what is lost without it, and whether this platform can have it. */
const ADDONS = [
  { name: 'mask', fallback: 'WebAssembly SIMD masking is used instead', supported: true },
  {
    name: 'relay',
    fallback: 'tunnels splice in JavaScript instead',
    supported: process.platform === 'linux',
    libraries: ['-lpthread'],
  },
  {
    name: 'heap',
    fallback: "the C library's heap defaults stay",
    supported: process.platform === 'linux',
  },
];

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

let failed = false;

function note(addon, reason) {
  console.error(`conduit: native ${addon.name} addon not built (${reason}); ${addon.fallback}`);
  failed = true;
}

function isFresh(source, output) {
  if (!existsSync(output)) return false;
  const built = statSync(output).mtimeMs;
  return built >= statSync(source).mtimeMs && built >= statSync(fileURLToPath(import.meta.url)).mtimeMs;
}

function build(addon, include) {
  const source = join(root, 'native', `${addon.name}.c`);
  const output = join(root, 'build', `${addon.name}.node`);
  if (isFresh(source, output)) return;
  const compiler = process.env.CC || 'cc';
  const args = ['-O3', '-shared', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wextra', '-I', include];
  // Node-API symbols are resolved against the running node binary when the addon loads.
  if (process.platform === 'darwin') args.push('-undefined', 'dynamic_lookup');
  mkdirSync(dirname(output), { recursive: true });
  const result = spawnSync(compiler, [...args, '-o', output, source, ...(addon.libraries ?? [])], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.error) note(addon, `${compiler}: ${result.error.message}`);
  else if (result.status !== 0) note(addon, `${compiler} exited with ${result.status}`);
}

/** Why no addon can be built on this machine, or null when they can (given the include directory). */
function blocker(include) {
  if (process.env.CONDUIT_NATIVE === '0') return 'CONDUIT_NATIVE=0';
  if (process.platform === 'win32') return 'no build recipe for Windows';
  if (include === undefined)
    return 'no node_api.h found; install Node headers or the node-api-headers package';
  return null;
}

function main() {
  const wanted = ADDONS.filter((addon) => addon.supported);
  const include = headerCandidates().find((dir) => existsSync(join(dir, 'node_api.h')));
  const reason = blocker(include);
  for (const addon of wanted) {
    if (reason === null) build(addon, include);
    else note(addon, reason);
  }
}

main();
process.exit(failed && required ? 1 : 0);
