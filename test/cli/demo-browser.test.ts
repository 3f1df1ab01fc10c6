/**
 * The chat demo of `conduit serve` on `/`, run as a real process: its routes (pages under a strict CSP,
 * the SDK and page modules from an allow list, nothing else), presence on `chat.>` by default, and the
 * page itself in headless Chromium (Debian package chromium, driven by playwright-core): two visitors in
 * one room see each other, exchange messages, keep the conversation across a reload, switch rooms, and
 * ride out a server restart.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { HubClientConstructor } from '../../src/cli/web/sdk.js';
import { HubClient } from '../../src/hub-client/index.js';
import { chromiumSkip, useChromium } from '../helpers/chromium.js';
import { killAll, type ServeProcess, startServe } from '../hub/cluster-process.js';
import { connectClient, type TestClient } from '../hub/helpers.js';
import { withTimeout } from '../interop/helpers.js';

/** A GET with the path sent exactly as given (no URL normalisation: `..` and `%2e` reach the server). */
function rawGet(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  const done = new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(done, 5000, `GET ${path}`);
}

/** Stops a serve process, SIGKILL when it does not exit in time. */
async function stopServe(serve: ServeProcess | undefined): Promise<void> {
  if (serve === undefined || serve.child.exitCode !== null) return;
  await serve.stop('SIGTERM', 10_000).catch(() => serve.child.kill('SIGKILL'));
}

after(killAll);

describe('conduit serve: the chat demo routes', () => {
  let serve: ServeProcess;
  const clients: TestClient[] = [];

  before(async () => {
    serve = await startServe(['--log-level', 'warn']);
  });
  after(async () => {
    for (const client of clients) client.ws.terminate();
    await stopServe(serve);
  });

  it('prints the page URLs and serves the chat page under a strict Content-Security-Policy', async () => {
    assert.equal(serve.endpoints.chat, `http://127.0.0.1:${serve.port}/`);
    assert.equal(serve.endpoints.dashboard, `http://127.0.0.1:${serve.port}/dashboard`);
    const page = await rawGet(serve.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/js\/web\/chat-app\.js"><\/script>/);
    assert.doesNotMatch(page.body, /<script>|<style>|style=/, 'no inline script or style');
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      request({ host: '127.0.0.1', port: serve.port, path: '/', agent: false }, (res) => {
        res.resume();
        resolve(res.headers);
      })
        .on('error', reject)
        .end();
    });
    assert.match(String(headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
  });

  it('serves the compiled SDK and page modules as they are, and no other file', async () => {
    const sdk = await rawGet(serve.port, '/js/hub-client/client.js');
    assert.equal(sdk.status, 200);
    assert.match(sdk.type, /^text\/javascript/);
    const built = await readFile(new URL('../../src/hub-client/client.js', import.meta.url), 'utf8');
    assert.equal(sdk.body, built, 'the file of dist/src/hub-client, unchanged');
    for (const path of [
      '/js/hub-client/index.js',
      '/js/web/chat-app.js',
      '/js/web/sparkline.js',
      '/favicon.svg',
    ]) {
      assert.equal((await rawGet(serve.port, path)).status, 200, path);
    }
    for (const path of [
      '/js/hub-client/index.d.ts',
      '/js/hub-client/index.js.map',
      '/js/hub-client/',
      '/js/hub-client/../cli/main.js',
      '/js/hub-client/%2e%2e/cli/main.js',
      '/js/hub-client/..%2fcli%2fmain.js',
      '/js/web/../../../package.json',
      '/js/web/chat-page.js',
      '/js/web/serve.js',
      '/js/',
    ]) {
      assert.equal((await rawGet(serve.port, path)).status, 404, path);
    }
  });

  it('serves every module the page modules import (the allow list is complete)', async () => {
    const pending = ['/js/web/chat-app.js', '/js/web/dashboard-app.js'];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const module = await rawGet(serve.port, path);
      assert.equal(module.status, 200, `${path} is served`);
      for (const [, spec] of module.body.matchAll(/^(?:import|export)[^'";]*?from\s+'(\.[^']+)'/gm)) {
        pending.push(new URL(spec!, `http://host${path}`).pathname);
      }
    }
    assert.ok(seen.size >= 8, `followed the import graph (${[...seen].join(', ')})`);
    // The SDK the chat page loads by URL is served too, and the real HubClient fits the page's types.
    assert.equal((await rawGet(serve.port, '/js/hub-client/index.js')).status, 200);
    const fits: HubClientConstructor = HubClient;
    assert.equal(typeof fits, 'function');
  });

  it('tracks presence in chat rooms (chat.>) by default, and only there', async () => {
    const a = await connectClient(serve.endpoints.hub!);
    const b = await connectClient(serve.endpoints.hub!);
    clients.push(a, b);
    assert.equal((await a.subscribe('chat.routes')).type, 'subscribed');
    assert.equal((await b.subscribe('chat.routes')).type, 'subscribed');
    const join = await a.next((m) => m.type === 'join' && m.client === b.id, 'join of b');
    assert.equal(join.topic, 'chat.routes');
    a.send({ type: 'presence', topic: 'chat.routes' });
    const present = await a.nextOf('presence', 'chat.routes');
    const ids = (present.clients as { client: string }[]).map((entry) => entry.client).sort();
    assert.deepEqual(ids, [a.id, b.id].sort());
    assert.equal((await a.subscribe('news.routes')).type, 'subscribed');
    a.send({ type: 'presence', topic: 'news.routes' });
    assert.equal((await a.nextOf('error', 'news.routes')).code, 'forbidden', 'no presence outside chat.>');
  });
});

/** Texts of the presence list items. */
function people(page: Page): Promise<string[]> {
  return page.$$eval('#presence li', (items) => items.map((item) => item.textContent ?? ''));
}

describe('the chat page in headless Chromium', { skip: chromiumSkip('the chat page test') }, () => {
  const browser = useChromium();
  let serve: ServeProcess | undefined;
  const errors: string[] = [];

  before(async () => {
    serve = await startServe(['--log-level', 'warn']);
  });
  after(() => stopServe(serve));

  /** A new visitor (own context: own localStorage) who opens `/#room` and gives a name. */
  async function visit(name: string, room: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser().newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${name}: ${message.text()}`);
    });
    await page.goto(`http://127.0.0.1:${serve!.port}/#${room}`);
    await page.fill('#name-input', name);
    await page.click('#name-form button[type="submit"]');
    await page.waitForSelector('#status[data-state="connected"]');
    await page.waitForSelector('#chat:not([hidden])');
    return { context, page };
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#message-input', text);
    await page.press('#message-input', 'Enter');
  }

  async function waitForMessage(page: Page, who: string, text: string): Promise<void> {
    await page.waitForFunction(
      ([w, t]) =>
        [...document.querySelectorAll('#messages li')].some(
          (li) => li.querySelector('.who')?.textContent === w && li.querySelector('.text')?.textContent === t,
        ),
      [who, text],
    );
  }

  async function waitForPeople(page: Page, expected: string[]): Promise<void> {
    const sorted = [...expected].sort();
    await page
      .waitForFunction(
        (want) =>
          JSON.stringify(
            [...document.querySelectorAll('#presence li')].map((li) => li.textContent).sort(),
          ) === JSON.stringify(want),
        sorted,
      )
      .catch(async (error: Error) => {
        throw new Error(
          `presence list ${JSON.stringify(await people(page))}, expected ${JSON.stringify(sorted)}: ${error.message}`,
        );
      });
  }

  it('two visitors see each other, talk, and a reload or a newcomer shows the conversation', async () => {
    const room = `t${randomBytes(4).toString('hex')}`;
    const alice = await visit('Alice', room);
    const bob = await visit('Bob', room);
    await waitForPeople(alice.page, ['Alice (you)', 'Bob']);
    await waitForPeople(bob.page, ['Bob (you)', 'Alice']);
    assert.equal(await alice.page.textContent('#room-title'), `#${room}`);

    await say(alice.page, 'Hello from Alice');
    await waitForMessage(bob.page, 'Alice', 'Hello from Alice');
    await waitForMessage(alice.page, 'Alice', 'Hello from Alice');
    await say(bob.page, 'Hi Alice <b>not bold</b>');
    await waitForMessage(alice.page, 'Bob', 'Hi Alice <b>not bold</b>');
    assert.equal(await alice.page.$('#messages b'), null, 'message text is never markup');

    // A reload: the name is remembered, the conversation comes back from the hub's history.
    await bob.page.reload();
    await bob.page.waitForSelector('#status[data-state="connected"]');
    assert.equal(await bob.page.isHidden('#welcome'), true, 'no name prompt after a reload');
    await waitForMessage(bob.page, 'Alice', 'Hello from Alice');
    await waitForMessage(bob.page, 'Bob', 'Hi Alice <b>not bold</b>');
    assert.equal(
      await bob.page.$$eval('#messages li.mine', (items) => items.length),
      1,
      "Bob's own line is marked",
    );
    await waitForPeople(alice.page, ['Alice (you)', 'Bob']);

    // A newcomer, with no stored position, gets the recent conversation too.
    const carol = await visit('Carol', room);
    await waitForMessage(carol.page, 'Alice', 'Hello from Alice');
    await waitForPeople(carol.page, ['Carol (you)', 'Alice', 'Bob']);
    await waitForPeople(alice.page, ['Alice (you)', 'Bob', 'Carol']);

    // Leaving is live: Bob closes his browser, the others see him go.
    await bob.context.close();
    await waitForPeople(alice.page, ['Alice (you)', 'Carol']);
    await waitForPeople(carol.page, ['Carol (you)', 'Alice']);

    // A rename reaches the others.
    await carol.page.click('#rename');
    await carol.page.fill('#name-input', 'Caroline');
    await carol.page.click('#name-form button[type="submit"]');
    await waitForPeople(alice.page, ['Alice (you)', 'Caroline']);
    await alice.context.close();
    await carol.context.close();
    assert.deepEqual(errors, []);
  });

  it('keeps messages and presence per room, and switches rooms from the form or the room list', async () => {
    const first = `a${randomBytes(4).toString('hex')}`;
    const second = `b${randomBytes(4).toString('hex')}`;
    const dan = await visit('Dan', first);
    const erin = await visit('Erin', first);
    await waitForPeople(dan.page, ['Dan (you)', 'Erin']);
    await say(dan.page, 'in the first room');
    await waitForMessage(erin.page, 'Dan', 'in the first room');

    await dan.page.fill('#room-input', second.toUpperCase());
    await dan.page.press('#room-input', 'Enter');
    await dan.page.waitForFunction(
      (r) => document.querySelector('#room-title')?.textContent === `#${r}`,
      second,
    );
    assert.equal(new URL(dan.page.url()).hash, `#${second}`);
    await waitForPeople(dan.page, ['Dan (you)']);
    await waitForPeople(erin.page, ['Erin (you)']);
    assert.equal(
      await dan.page.$$eval('#messages li', (items) => items.length),
      0,
      'the new room has no messages',
    );
    await say(dan.page, 'in the second room');
    await waitForMessage(dan.page, 'Dan', 'in the second room');

    // Back through the room list: the first room's conversation is there again.
    await dan.page.click(`#rooms button:text-is("#${first}")`);
    await waitForMessage(dan.page, 'Dan', 'in the first room');
    await waitForPeople(erin.page, ['Erin (you)', 'Dan']);
    const texts = await dan.page.$$eval('#messages .text', (items) => items.map((item) => item.textContent));
    assert.ok(!texts.includes('in the second room'), 'messages stay in their room');
    await dan.context.close();
    await erin.context.close();
    assert.deepEqual(errors, []);
  });

  it('shows the connection state and reconnects when the server comes back', async () => {
    const room = `r${randomBytes(4).toString('hex')}`;
    const fay = await visit('Fay', room);
    const gil = await visit('Gil', room);
    await waitForPeople(fay.page, ['Fay (you)', 'Gil']);
    const port = serve!.port;
    await stopServe(serve);
    // The state cycles between disconnected and connecting while the server is away.
    await fay.page.waitForFunction(
      () =>
        document.querySelector<HTMLElement>('#status')?.dataset.state === 'disconnected' &&
        /reconnecting in \d+ s/.test(document.querySelector('#status-text')?.textContent ?? ''),
    );

    serve = await startServe(['--log-level', 'warn', '--port', String(port)]);
    await fay.page.waitForSelector('#status[data-state="connected"]', { timeout: 30_000 });
    await gil.page.waitForSelector('#status[data-state="connected"]', { timeout: 30_000 });
    // The new server knows nobody: both pages subscribed again and announced themselves.
    await waitForPeople(fay.page, ['Fay (you)', 'Gil']);
    await say(fay.page, 'after the restart');
    await waitForMessage(gil.page, 'Fay', 'after the restart');
    await fay.context.close();
    await gil.context.close();
    // Failed reconnect attempts are network errors in the console, not page errors.
    assert.deepEqual(
      errors.filter((error) => !/WebSocket connection to .* failed/.test(error)),
      [],
    );
  });
});
