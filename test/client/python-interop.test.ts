/**
 * The client against python-websockets (Debian package python3-websockets): an asyncio echo server in
 * fixtures/echo_server.py, run as a child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pythonPeer, withTimeout } from './helpers.js';
import { CloseLog, interopSuite, type Peer } from './interop-suite.js';

// Compiled to dist/test/client/: the script stays in the source tree.
const SCRIPT = join(import.meta.dirname, '..', '..', '..', 'test', 'client', 'fixtures', 'echo_server.py');

const { python, skip } = pythonPeer();

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  return withTimeout(exited, 5000, 'python server exit');
}

async function startPython(): Promise<Peer> {
  const child = spawn(python!, [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const log = new CloseLog();
  const lines = createInterface({ input: child.stdout! });
  const listening = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`python echo server exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('LISTENING ')) {
        resolve(Number(line.slice('LISTENING '.length)));
        return;
      }
      const { path, code, reason } = JSON.parse(line) as { path: string; code: number; reason: string };
      log.record(path, code, reason);
    });
  });
  let port: number;
  try {
    port = await withTimeout(listening, 10_000, 'python echo server start');
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    url: `ws://127.0.0.1:${port}`,
    closeSeen: (path) => log.closeSeen(path),
    stop: () => stopChild(child),
  };
}

interopSuite('python-websockets', startPython, skip);
