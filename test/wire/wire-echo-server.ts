/**
 * The product under test in "fuzzing client" mode: the real `conduit echo` command started as a child
 * process (`node bin/conduit.js echo --port 0 ...`), once per test file, killed in `after()`.
 * @module
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// dist/test/wire/*.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

/** A running echo server. */
export interface EchoServer {
  port: number;
  child: ChildProcessWithoutNullStreams;
  /** What the child wrote to stderr so far (shown when a case fails oddly). */
  stderr(): string;
  /** Kills the child and waits (bounded) for it to exit. */
  stop(): Promise<void>;
}

/** Starts `conduit echo --port 0` with extra arguments; resolves once it printed its URL. */
export function startEcho(extraArgs: string[] = []): Promise<EchoServer> {
  const child = spawn(process.execPath, [BIN, 'echo', '--port', '0', ...extraArgs], { stdio: 'pipe' });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(resolve, 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGKILL');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`conduit echo did not print its URL within 10 s: ${out}${err}`));
    }, 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /^listening on ws:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ port: Number(match[1]), child, stderr: () => err, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`conduit echo exited with ${code} before listening: ${out}${err}`));
    });
  });
}
