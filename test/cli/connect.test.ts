/**
 * `conduit connect` run as a real process with its stdin, stdout and stderr as pipes, against a Conduit
 * `WebSocketServer` of the test process: lines in, echoes out, end of input, exit statuses (refused
 * handshake, unreachable server, error close, bad usage), --execute/--wait, --json, headers,
 * subprotocols, --binary, --deflate and TLS (--ca, --insecure).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTypedLine } from '../../src/cli/connect-commands.js';
import { parseHeaders } from '../../src/cli/connect-options.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { closeServer, startServer, withTimeout } from '../server/helpers.js';
import { makeTlsFixture } from '../server/tls-fixture.js';

// dist/test/cli/connect.test.js → bin/conduit.js at the repository root.
const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));
/** Files for --binary, removed at the end. */
const SCRATCH = mkdtempSync(join(tmpdir(), 'conduit-connect-'));
after(() => rmSync(SCRATCH, { recursive: true, force: true }));
/** `< 12:00:01.123 text` and `> ...`: direction, local time with milliseconds, then the message. */
const LINE = /^([<>]) \d\d:\d\d:\d\d\.\d{3} (.*)$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `conduit connect ARGS`, writing `input` to its stdin then ending it (unless `keepOpen`). */
function connect(args: string[], input = '', keepOpen = false): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'connect', ...args], {
    stdio: 'pipe',
    env: { ...process.env, NO_COLOR: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {}); // the process may exit before reading everything
  child.stdin.write(input);
  if (!keepOpen) child.stdin.end();
  const exited = new Promise<Run>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return withTimeout(exited, 10_000, `conduit connect ${args.join(' ')}`).finally(() =>
    child.kill('SIGKILL'),
  );
}

/** The message lines of an output, as [direction, text]. */
function messages(stdout: string): [string, string][] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = LINE.exec(line);
      assert.ok(match, `not a message line: ${JSON.stringify(line)}`);
      return [match[1]!, match[2]!];
    });
}

/** What the test server saw. */
interface ServerLog {
  messages: { text: string; isBinary: boolean; bytes: Buffer }[];
  closes: { code: number; reason: string }[];
  headers: Record<string, string>[];
  protocols: string[];
}

/**
 * An echo server that records everything; `please fail` makes it close with 1011, path /refuse is
 * refused with 403, and it picks the subprotocol `chat.v2` when offered.
 */
async function startTestServer(options: { tls?: { cert: Buffer; key: Buffer } } = {}) {
  const log: ServerLog = { messages: [], closes: [], headers: [], protocols: [] };
  const { server, port } = await startServer({
    ...options,
    perMessageDeflate: true,
    upgrade: (request) => (request.pathname === '/refuse' ? { status: 403, message: 'go away' } : undefined),
    handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
  });
  server.on('connection', (connection, request) => {
    log.headers.push({ ...request.headers });
    log.protocols.push(connection.protocol);
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      const bytes = Buffer.from(data);
      log.messages.push({ text: bytes.toString(), isBinary, bytes });
      if (!isBinary && bytes.toString() === 'please fail') connection.close(1011, 'something broke');
      else connection.send(bytes, { binary: isBinary });
    });
    connection.on('close', (code: number, reason: string) => log.closes.push({ code, reason }));
  });
  const scheme = options.tls ? 'wss' : 'ws';
  return { server, log, url: `${scheme}://127.0.0.1:${port}`, port };
}

describe('conduit connect (pipes)', () => {
  let server: WebSocketServer;
  let log: ServerLog;
  let url: string;
  before(async () => {
    ({ server, log, url } = await startTestServer());
  });
  after(() => closeServer(server));

  it('sends each stdin line, prints the echoes, and closes with 1000 at end of input (exit 0)', async () => {
    const before = log.closes.length;
    const run = await connect([url], 'first line\n{"json": true}\nthird\n');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '', 'nothing extra');
    const lines = messages(run.stdout);
    const sent = lines.filter(([dir]) => dir === '>').map(([, text]) => text);
    const received = lines.filter(([dir]) => dir === '<').map(([, text]) => text);
    assert.deepEqual(sent, ['first line', '{"json": true}', 'third']);
    assert.deepEqual(received, ['first line', '{"json": true}', 'third'], 'echoes arrive before the close');
    assert.deepEqual(log.closes.slice(before), [{ code: 1000, reason: '' }]);
    assert.ok(!run.stdout.includes(String.fromCharCode(27)), 'no colors outside a terminal');
  });

  it('exits 1 and prints the status when the handshake is refused', async () => {
    const run = await connect([`${url}/refuse`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /handshake refused with HTTP status 403/);
    assert.equal(run.stdout, '');
  });

  it('exits 1 when nothing listens on the port', async () => {
    const { server: gone, port } = await startServer();
    await closeServer(gone);
    const run = await connect([`ws://127.0.0.1:${port}`]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot connect: .*ECONNREFUSED/);
  });

  it('exits 3 and prints the code and reason when the server closes with 1011', async () => {
    const run = await connect([url], 'please fail\n', true);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /closed with 1011 "something broke"/);
  });

  it('--execute sends the messages, --wait closes that long after the last one (stdin unread)', async () => {
    const before = log.closes.length;
    const subscribe = '{"type":"subscribe","topic":"x"}';
    const run = await connect([url, '--execute', subscribe, '--execute', 'two', '--wait', '300'], '', true);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(messages(run.stdout), [
      ['>', subscribe],
      ['>', 'two'],
      ['<', subscribe],
      ['<', 'two'],
    ]);
    assert.deepEqual(log.closes.slice(before), [{ code: 1000, reason: '' }]);
  });

  it('--json prints one JSON object per event', async () => {
    const run = await connect(
      [url, '--json', '--subprotocol', 'chat.v1', '--subprotocol', 'chat.v2'],
      'hi\n',
    );
    assert.equal(run.code, 0, run.stderr);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const event of events) assert.ok(!Number.isNaN(Date.parse(event.time as string)), 'ISO time');
    assert.deepEqual(
      events.map(({ time: _time, url: _url, ...rest }) => rest),
      [
        { event: 'open', protocol: 'chat.v2', extensions: '' },
        { event: 'message', direction: 'out', type: 'text', data: 'hi' },
        { event: 'message', direction: 'in', type: 'text', data: 'hi' },
        { event: 'close', code: 1000, reason: '', wasClean: true },
      ],
    );
    assert.equal(log.protocols.at(-1), 'chat.v2');
    assert.equal(log.headers.at(-1)!['sec-websocket-protocol'], 'chat.v1, chat.v2');
  });

  it('sends --header values, a --binary file and negotiates --deflate', async () => {
    const file = join(SCRATCH, 'payload.bin');
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, ...Buffer.alloc(40, 7)]);
    writeFileSync(file, bytes);
    const args = [
      url,
      '--header',
      'X-Trace: abc',
      '--header',
      'x-trace: def',
      '--header',
      'Authorization: Bearer t',
    ];
    const run = await connect([...args, '--binary', file, '--deflate', '--json', '--wait', '200']);
    assert.equal(run.code, 0, run.stderr);
    const headers = log.headers.at(-1)!;
    assert.equal(headers['x-trace'], 'abc, def');
    assert.equal(headers.authorization, 'Bearer t');
    const received = log.messages.at(-1)!;
    assert.equal(received.isBinary, true);
    assert.deepEqual([...received.bytes], [...bytes]);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.match(events[0]!.extensions as string, /^permessage-deflate/);
    const echoed = events.find((e) => e.event === 'message' && e.direction === 'in')!;
    assert.deepEqual([echoed.type, echoed.length, echoed.base64], ['binary', 45, bytes.toString('base64')]);
  });

  it('shows binary messages as their length and first bytes', async () => {
    const file = join(SCRATCH, 'small.bin');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    const run = await connect([url, '--binary', file, '--wait', '200']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(messages(run.stdout), [
      ['>', '[binary 3 B] 01 02 03'],
      ['<', '[binary 3 B] 01 02 03'],
    ]);
  });

  it('rejects bad usage with status 2 and the usage text', async () => {
    const cases: [string[], RegExp][] = [
      [[], /a URL is required/],
      [[url, '--wait', 'soon'], /Invalid --wait/],
      [[url, '--header', 'no colon here'], /Invalid --header/],
      [[url, '--binary', '/nonexistent/file'], /Cannot read --binary/],
      [[url, '--bogus'], /bogus/],
      [['ftp://example.com'], /scheme/],
      [[url, '--subprotocol', 'bad protocol'], /subprotocol/i],
    ];
    const runs = await Promise.all(cases.map(([args]) => connect(args)));
    cases.forEach(([args, message], i) => {
      const run = runs[i]!;
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage: conduit connect/);
    });
    const help = await connect(['--help']);
    assert.equal(help.code, 0);
    for (const option of [
      '--header',
      '--subprotocol',
      '--deflate',
      '--binary',
      '--execute',
      '--wait',
      '--json',
    ]) {
      assert.match(help.stdout, new RegExp(`^  ${option} `, 'm'), option);
    }
  });
});

describe('conduit connect (wss)', () => {
  const fixture = makeTlsFixture();
  let tls: Awaited<ReturnType<typeof startTestServer>> | undefined;
  after(() => tls && closeServer(tls.server));

  it('refuses an unknown certificate (exit 1), accepts it with --ca or --insecure', async (t) => {
    if (typeof fixture === 'string') return t.skip(fixture);
    tls = await startTestServer({ tls: { cert: fixture.cert, key: fixture.key } });
    // The certificate names localhost: connect by that name so that --ca alone is enough.
    const url = `wss://localhost:${tls.port}`;
    const untrusted = await connect([url, '--wait', '0']);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /cannot connect: .*(self[- ]signed|certificate)/i);
    const withCa = await connect([url, '--ca', fixture.certFile, '--execute', 'secure', '--wait', '200']);
    assert.equal(withCa.code, 0, withCa.stderr);
    assert.deepEqual(messages(withCa.stdout), [
      ['>', 'secure'],
      ['<', 'secure'],
    ]);
    const insecure = await connect([`wss://127.0.0.1:${tls.port}`, '--insecure', '--wait', '0']);
    assert.equal(insecure.code, 0, insecure.stderr);
  });
});

describe('conduit connect prompt commands and headers', () => {
  it('reads commands, messages and // escapes from typed lines', () => {
    assert.deepEqual(parseTypedLine('hello'), { kind: 'send', text: 'hello' });
    assert.deepEqual(parseTypedLine('//ping'), { kind: 'send', text: '/ping' });
    assert.deepEqual(parseTypedLine('/ping'), { kind: 'ping', payload: '' });
    assert.deepEqual(parseTypedLine('/ping  some payload '), { kind: 'ping', payload: 'some payload' });
    assert.deepEqual(parseTypedLine('/close'), { kind: 'close', code: undefined, reason: '' });
    assert.deepEqual(parseTypedLine('/close 4001'), { kind: 'close', code: 4001, reason: '' });
    assert.deepEqual(parseTypedLine('/close 1000 going away now'), {
      kind: 'close',
      code: 1000,
      reason: 'going away now',
    });
    assert.deepEqual(parseTypedLine('/quit'), { kind: 'quit' });
    assert.deepEqual(parseTypedLine('/help'), { kind: 'help' });
    for (const bad of ['/close 1001', '/close 2999', '/close abc', `/close 4000 ${'r'.repeat(124)}`]) {
      assert.equal(parseTypedLine(bad).kind, 'invalid', bad);
    }
    assert.equal(parseTypedLine(`/ping ${'p'.repeat(126)}`).kind, 'invalid');
    assert.match(
      (parseTypedLine('/frobnicate') as { message: string }).message,
      /Unknown command \/frobnicate/,
    );
  });

  it('parses Name: value headers, joining repeated names', () => {
    assert.deepEqual(parseHeaders(['X-A: 1', 'x-a:2', 'Authorization:  Bearer t ']), {
      'X-A': '1, 2',
      Authorization: 'Bearer t',
    });
    assert.deepEqual(parseHeaders(['X-Empty:']), { 'X-Empty': '' });
    for (const bad of ['no colon', ': value', 'bad name: v'])
      assert.throws(() => parseHeaders([bad]), /Invalid --header/);
  });
});
