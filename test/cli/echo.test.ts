import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { clientClosed, openClient, waitFor, withTimeout } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';

// dist/test/cli/echo.test.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));

function run(args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], { stdio: 'pipe' });
}

/** Reads stdout until the `listening on` line; resolves with the URL. */
function listeningUrl(child: ChildProcessWithoutNullStreams): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /^listening on (wss?:\/\/\S+)$/m.exec(out);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code} before listening: ${out}${err}`)));
    }),
    10_000,
    'listening line',
  );
}

async function exitCode(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  const [code] = await waitFor<[number | null]>(child, 'exit', 10_000);
  return code;
}

describe('conduit echo', () => {
  it('prints the real port for --port 0, echoes with the message type, and exits 0 on SIGTERM', async () => {
    const child = run(['echo', '--port', '0']);
    try {
      const url = await listeningUrl(child);
      assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(url, 'ws://127.0.0.1:0');
      const client = await openClient(`${url}/some/path`);
      client.send('text message');
      const [text, textIsBinary] = await waitFor<[Buffer, boolean]>(client, 'message');
      assert.equal(text.toString(), 'text message');
      assert.equal(textIsBinary, false);
      client.send(Buffer.from([1, 2, 3]));
      const [bytes, bytesIsBinary] = await waitFor<[Buffer, boolean]>(client, 'message');
      assert.deepEqual([...bytes], [1, 2, 3]);
      assert.equal(bytesIsBinary, true);

      const closed = clientClosed(client);
      const exited = exitCode(child);
      child.kill('SIGTERM');
      assert.equal((await closed).code, 1001, 'clients are closed with 1001 on shutdown');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serves wss with --tls-cert/--tls-key and compresses with --deflate', async (t) => {
    const fixture = makeTlsFixture();
    if (typeof fixture === 'string') return t.skip(fixture);
    const child = run([
      'echo',
      '--port',
      '0',
      '--deflate',
      '--tls-cert',
      fixture.certFile,
      '--tls-key',
      fixture.keyFile,
    ]);
    try {
      const url = await listeningUrl(child);
      assert.match(url, /^wss:\/\/127\.0\.0\.1:\d+$/);
      const client = await openClient(url, { rejectUnauthorized: false, perMessageDeflate: true });
      assert.match(client.extensions, /permessage-deflate/);
      client.send('x'.repeat(5000));
      const [echoed] = await waitFor<[Buffer]>(client, 'message');
      assert.equal(echoed.toString(), 'x'.repeat(5000));
      client.close();
      await clientClosed(client);
      const exited = exitCode(child);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('enforces --max-message with close 1009', async () => {
    const child = run(['echo', '--port', '0', '--max-message', '100']);
    try {
      const client = new WebSocket(await listeningUrl(child));
      await waitFor(client, 'open');
      client.send('y'.repeat(101));
      assert.equal((await clientClosed(client)).code, 1009);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('prints --help and --version, and rejects bad arguments with status 2', async () => {
    const help = run(['--help']);
    let helpText = '';
    help.stdout.on('data', (chunk: Buffer) => (helpText += chunk.toString()));
    assert.equal(await exitCode(help), 0);
    assert.match(helpText, /Usage: conduit <command>/);

    const version = run(['--version']);
    let versionText = '';
    version.stdout.on('data', (chunk: Buffer) => (versionText += chunk.toString()));
    assert.equal(await exitCode(version), 0);
    assert.match(versionText.trim(), /^\d+\.\d+\.\d+/);

    const bad = run(['echo', '--port', 'seventy']);
    let errText = '';
    bad.stderr.on('data', (chunk: Buffer) => (errText += chunk.toString()));
    assert.equal(await exitCode(bad), 2, errText);
    assert.match(errText, /Invalid port/);

    const unknown = run(['echo', '--port', '0', '--bogus']);
    assert.equal(await exitCode(unknown), 2);
  });
});
