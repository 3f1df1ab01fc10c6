/**
 * The heap tuning addon (native/heap.c through transport/native-heap.ts): it must take its settings on
 * Linux with glibc (what CI runs), refuse nonsense, and stay off when disabled.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tuneHeapForLargeMessages } from '../../src/transport/native-heap.js';

const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
const glibc = process.platform === 'linux' && report.header?.glibcVersionRuntime !== undefined;
const skip = !glibc && process.env.CI !== 'true' ? 'heap tuning applies to Linux with glibc only' : false;
const moduleUrl = new URL('../../src/transport/native-heap.js', import.meta.url).href;

/** Runs tuneHeapForLargeMessages() in a child process with `env` and returns what it printed. */
function tuneInChild(env: NodeJS.ProcessEnv): string {
  const script = `import(${JSON.stringify(moduleUrl)}).then((m) => console.log(m.tuneHeapForLargeMessages()))`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, ...env },
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
  }).trim();
}

describe('heap tuning', { skip }, () => {
  it('is taken by glibc (build/heap.node built and loaded)', () => {
    assert.equal(tuneHeapForLargeMessages({ trimThreshold: 16 * 1024 * 1024 }), true);
    assert.equal(tuneHeapForLargeMessages(), true);
  });

  it('refuses thresholds that are not positive byte counts below 2 GiB', () => {
    assert.throws(() => tuneHeapForLargeMessages({ trimThreshold: -1 }), RangeError);
    assert.throws(() => tuneHeapForLargeMessages({ mmapThreshold: 2 ** 31 }), RangeError);
  });

  it('stays off with CONDUIT_HEAP_TUNING=0 or CONDUIT_NATIVE=0', () => {
    assert.equal(tuneInChild({}), 'true');
    assert.equal(tuneInChild({ CONDUIT_HEAP_TUNING: '0' }), 'false');
    assert.equal(tuneInChild({ CONDUIT_NATIVE: '0' }), 'false');
  });
});
