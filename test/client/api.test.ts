/**
 * The WHATWG surface of the client: constructor argument checks, constants, close() and send()
 * argument and state checks, binaryType, and event handler attribute semantics.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ClientError } from '../../src/client/errors.js';
import type { CloseEvent, ErrorEvent } from '../../src/client/events.js';
import { WebSocket } from '../../src/client/websocket.js';
import { closeRawServer, isDomException, nextEvent, rawServer } from './helpers.js';

/** Expects `fn` to throw a DOMException named `name`. */
function throwsDom(fn: () => unknown, name: string): void {
  assert.throws(fn, (error: unknown) => isDomException(error, name), `expected a ${name} DOMException`);
}

describe('WebSocket API (WHATWG)', () => {
  // A server that accepts TCP connections and never answers: clients stay CONNECTING.
  let silent: Server;
  let url: string;
  const opened: WebSocket[] = [];

  function connecting(...args: ConstructorParameters<typeof WebSocket>): WebSocket {
    const ws = new WebSocket(...args);
    ws.addEventListener('error', () => {});
    opened.push(ws);
    return ws;
  }

  before(async () => {
    const started = await rawServer(() => {});
    silent = started.server;
    url = `ws://127.0.0.1:${started.port}`;
  });

  after(async () => {
    for (const ws of opened) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    await closeRawServer(silent);
  });

  it('has the readyState constants on the class and on instances', () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const ws = connecting(url);
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.ok(Object.hasOwn(WebSocket.prototype, 'OPEN'));
    assert.ok(ws instanceof EventTarget);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
  });

  it('maps http(s) to ws(s) and serializes the URL', () => {
    assert.equal(connecting(`${url.replace('ws:', 'http:')}/a?b=1`).url, `${url}/a?b=1`);
    const secure = new WebSocket('https://127.0.0.1:1/x', [], { handshakeTimeout: 1 });
    secure.addEventListener('error', () => {});
    opened.push(secure);
    assert.equal(secure.url, 'wss://127.0.0.1:1/x');
    assert.equal(connecting(new URL(url)).url, `${url}/`);
  });

  it('throws SyntaxError for invalid URLs, other schemes and fragments', () => {
    for (const bad of [
      'not a url',
      '/relative',
      'ftp://example.test/',
      'file:///tmp',
      `${url}/#frag`,
      `${url}/#`,
    ]) {
      throwsDom(() => new WebSocket(bad), 'SyntaxError');
    }
  });

  it('throws SyntaxError for invalid or repeated subprotocols', () => {
    for (const bad of [['chat', 'chat'], ['with space'], [''], ['a,b'], 'ünicode']) {
      throwsDom(() => new WebSocket(url, bad), 'SyntaxError');
    }
    const ws = connecting(url, new Set(['one', 'two']));
    assert.equal(ws.readyState, WebSocket.CONNECTING);
  });

  it('accepts options in place of protocols, and rejects invalid options', () => {
    const ws = connecting(url, { binaryType: 'arraybuffer' });
    assert.equal(ws.binaryType, 'arraybuffer');
    assert.throws(() => new WebSocket(url, [], { headers: { 'Bad Name': 'x' } }), TypeError);
    assert.throws(() => new WebSocket(url, [], { headers: { 'X-Ok': 'line\r\nInjected: 1' } }), TypeError);
    assert.throws(() => new WebSocket(url, [], { headers: { 'Sec-WebSocket-Key': 'x' } }), TypeError);
    assert.throws(() => new WebSocket(url, [], { maxPayload: -1 }), RangeError);
    assert.throws(() => new WebSocket(url, [], { handshakeTimeout: 1.5 }), RangeError);
    assert.throws(() => new WebSocket(url, [], { binaryType: 'string' as 'blob' }), TypeError);
  });

  it('throws InvalidStateError on send(), ping() and pong() while CONNECTING', () => {
    const ws = connecting(url);
    throwsDom(() => ws.send('too early'), 'InvalidStateError');
    throwsDom(() => ws.ping(), 'InvalidStateError');
    throwsDom(() => ws.pong(), 'InvalidStateError');
  });

  it('checks close() codes (InvalidAccessError) and reason length (SyntaxError)', () => {
    const ws = connecting(url);
    for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65536 + 1000]) {
      throwsDom(() => ws.close(code), 'InvalidAccessError');
    }
    throwsDom(() => ws.close(1000, 'x'.repeat(124)), 'SyntaxError');
    // 'é' is two bytes of UTF-8: 62 of them are 124 bytes.
    throwsDom(() => ws.close(1000, 'é'.repeat(62)), 'SyntaxError');
    // The code is checked before the reason.
    throwsDom(() => ws.close(1, 'x'.repeat(200)), 'InvalidAccessError');
    assert.equal(ws.readyState, WebSocket.CONNECTING);
  });

  it('close() while CONNECTING goes to CLOSING, then fires error and close 1006 asynchronously', async () => {
    const ws = connecting(url);
    const events: string[] = [];
    let error: unknown;
    ws.onerror = (event) => {
      events.push('error');
      error = event.error;
    };
    ws.onclose = (event) => events.push(`close:${event.code}:${event.wasClean}`);
    ws.close(1000, 'é'.repeat(61));
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(events, []);
    ws.close();
    await nextEvent(ws, 'close');
    assert.deepEqual(events, ['error', 'close:1006:false']);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.ok(error instanceof ClientError);
    assert.equal(error.code, 'ERR_CLOSED_WHILE_CONNECTING');
    // Once closed, close() does nothing and send() only counts the bytes.
    ws.close(3000);
    ws.send('ümlaut');
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount, 7 + 10);
  });

  it('clamps close codes like WebIDL [Clamp] unsigned short', async () => {
    const ws = connecting(url);
    ws.close(999.5 + 0.4);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const other = connecting(url);
    throwsDom(() => other.close(Number.NaN), 'InvalidAccessError');
    throwsDom(() => other.close(-1), 'InvalidAccessError');
    await Promise.all([nextEvent(ws, 'close'), other.terminate(), nextEvent(other, 'close')]);
  });

  it('ignores invalid binaryType values', () => {
    const ws = connecting(url);
    assert.equal(ws.binaryType, 'blob');
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'text' as 'blob';
    assert.equal(ws.binaryType, 'arraybuffer');
    ws.binaryType = 'nodebuffer';
    assert.equal(ws.binaryType, 'nodebuffer');
  });

  it('implements event handler attributes over addEventListener', () => {
    const ws = connecting(url);
    const calls: string[] = [];
    assert.equal(ws.onopen, null);
    ws.addEventListener('open', () => calls.push('listener-1'));
    const first = function (this: WebSocket) {
      assert.equal(this, ws);
      calls.push('handler-a');
    };
    ws.onopen = first;
    assert.equal(ws.onopen, first);
    ws.addEventListener('open', () => calls.push('listener-2'));
    // Replacing keeps the handler's place; null removes it; a non-function counts as null.
    ws.onopen = () => calls.push('handler-b');
    ws.dispatchEvent(new Event('open'));
    ws.onopen = null;
    ws.dispatchEvent(new Event('open'));
    ws.onopen = 'not a function' as unknown as null;
    assert.equal(ws.onopen, null);
    ws.onopen = () => calls.push('handler-c');
    ws.dispatchEvent(new Event('open'));
    assert.deepEqual(calls, [
      'listener-1',
      'handler-b',
      'listener-2',
      'listener-1',
      'listener-2',
      'listener-1',
      'listener-2',
      'handler-c',
    ]);
  });

  it('gives close and error events their fields', async () => {
    const ws = connecting(url);
    const closeEvent = nextEvent<CloseEvent>(ws, 'close');
    const errorEvent = nextEvent<ErrorEvent>(ws, 'error');
    ws.terminate();
    const [close, error] = await Promise.all([closeEvent, errorEvent]);
    assert.equal(close.type, 'close');
    assert.equal(close.code, 1006);
    assert.equal(close.wasClean, false);
    assert.equal(typeof error.message, 'string');
    assert.ok(error.error instanceof Error);
  });
});
