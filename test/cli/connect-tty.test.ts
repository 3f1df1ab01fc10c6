/**
 * `conduit connect` on a real pseudo-terminal: the command runs in a detached tmux session (Debian
 * package `tmux`), keys are typed with `send-keys` and the screen is read with `capture-pane`. Checks
 * that typed lines are sent and received ones printed above the prompt (which is redrawn with what is
 * being typed), `/ping` shows the pong, `/close 4000 bye` closes with that code, and colors follow
 * NO_COLOR. A missing tmux fails under CI=true and skips loudly elsewhere.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { closeServer, startServer } from '../server/helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/conduit.js', import.meta.url));
/**
 * A tmux server of our own, on a socket in a temporary directory (removed at the end), so that the
 * sessions of the person running the tests stay untouched.
 */
const SOCKET_DIR = mkdtempSync(join(tmpdir(), 'conduit-connect-tmux-'));
const SOCKET = join(SOCKET_DIR, 'tmux.sock');

function tmuxMissing(): string | false {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return false;
  } catch {
    const reason =
      'tmux is needed for the terminal tests of conduit connect (install the Debian package "tmux")';
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(`SKIPPING: ${reason}`);
    return reason;
  }
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-S', SOCKET, ...args], { encoding: 'utf8' });
}

/** The escape character that starts ANSI color sequences. */
const ESC = String.fromCharCode(27);

const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * Starts `conduit ARGS` in a 120×30 session; `EXIT=<status>` is printed when it ends, and the pane
 * stays for reading.
 */
function startSession(name: string, args: string[], env = 'NO_COLOR='): void {
  const command = `env ${env} ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`;
  tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '30', `${command}; echo EXIT=$?; sleep 600`);
}

/** The screen, wrapped lines joined; with `escapes`, the color sequences as well. */
function screen(name: string, escapes = false): string {
  return tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', name);
}

/** Polls the screen until it matches, for 10 s at most; fails showing the screen. */
async function waitScreen(name: string, pattern: RegExp, escapes = false): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = screen(name, escapes);
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) assert.fail(`screen never matched ${pattern}:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Types `text` literally, then Enter unless told otherwise. */
function type(name: string, text: string, enter = true): void {
  tmux('send-keys', '-t', name, '-l', text);
  if (enter) tmux('send-keys', '-t', name, 'Enter');
}

describe('conduit connect on a terminal (tmux)', { skip: tmuxMissing() }, () => {
  let server: WebSocketServer;
  let url: string;
  const received: string[] = [];
  const closes: { code: number; reason: string }[] = [];
  let current: WebSocketConnection | undefined;
  let sessions = 0;
  before(async () => {
    ({ server, url } = await startServer());
    server.on('connection', (connection: WebSocketConnection) => {
      current = connection;
      connection.on('message', (data: Buffer) => {
        received.push(data.toString());
        connection.send(`echo: ${data.toString()}`);
      });
      connection.on('close', (code: number, reason: string) => closes.push({ code, reason }));
    });
  });
  after(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no session left: the server is already gone
    }
    rmSync(SOCKET_DIR, { recursive: true, force: true });
    await closeServer(server);
  });

  it('sends typed lines, prints received ones, pings, redraws the prompt, and /close 4000 bye', async () => {
    const name = `connect${sessions++}`;
    startSession(name, ['connect', url]);
    await waitScreen(name, /connected to ws:\/\/127\.0\.0\.1:\d+\/\n> $/m);
    type(name, 'hello from the terminal');
    await waitScreen(name, /^< \d\d:\d\d:\d\d\.\d{3} echo: hello from the terminal$/m);
    assert.deepEqual(received, ['hello from the terminal']);
    assert.match(screen(name), /^> \d\d:\d\d:\d\d\.\d{3} hello from the terminal$/m, 'shown as sent');

    type(name, '/ping probe');
    await waitScreen(name, /pong received "probe" \(round trip \d+\.\d\d ms\)/);

    // A message arriving while a line is being typed goes above the prompt, which keeps the typing.
    type(name, 'half-typed', false);
    await waitScreen(name, /^> half-typed$/m);
    current!.send('pushed by the server');
    const pushed = await waitScreen(name, /pushed by the server/);
    assert.match(pushed, /^< \d\d:\d\d:\d\d\.\d{3} pushed by the server\n> half-typed$/m);
    tmux('send-keys', '-t', name, 'C-u');

    type(name, '/close 4000 bye');
    const end = await waitScreen(name, /^EXIT=\d+$/m);
    assert.match(end, /^EXIT=0$/m, 'closing at the prompt is a clean exit');
    assert.match(end, /closed with 4000/);
    assert.deepEqual(closes.at(-1), { code: 4000, reason: 'bye' });
    assert.deepEqual(received, ['hello from the terminal'], 'commands are not sent as messages');
  });

  it('colors on a terminal, none with NO_COLOR; Ctrl+D closes with 1000', async () => {
    const colored = `connect${sessions++}`;
    startSession(colored, ['connect', url], 'NO_COLOR=');
    await waitScreen(colored, /connected to/);
    type(colored, 'paint');
    const withColors = await waitScreen(colored, /echo: paint/, true);
    assert.match(
      withColors,
      new RegExp(`${ESC}\\[32m< \\d\\d:\\d\\d:\\d\\d\\.\\d{3}`),
      'received lines in green',
    );
    tmux('send-keys', '-t', colored, 'C-d');
    await waitScreen(colored, /^EXIT=0$/m);
    assert.deepEqual(closes.at(-1), { code: 1000, reason: '' });

    const plain = `connect${sessions++}`;
    startSession(plain, ['connect', url], 'NO_COLOR=1');
    await waitScreen(plain, /connected to/);
    type(plain, 'no paint');
    const withoutColors = await waitScreen(plain, /echo: no paint/, true);
    assert.doesNotMatch(withoutColors, new RegExp(`${ESC}\\[3\\dm`));
    tmux('send-keys', '-t', plain, 'C-c');
    await waitScreen(plain, /^EXIT=0$/m);
  });
});
