/**
 * How the wire suite judges a case, the way Autobahn does but strictly: the events that came back must
 * equal the expected ones in order; a protocol violation must be answered by a close frame with an
 * expected code and then the server must close TCP (within 2 s); a clean close must be echoed with the
 * same code; and no frame the peer sent may break RFC 6455 §5.
 * @module
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { utf8 } from '../conformance/harness.js';
import { WAIT_MS, type WireEndpoint, type WireEvent } from './wire-endpoint.js';

/** An event a case expects, payload as bytes or as a string (its UTF-8). */
export interface Expected {
  type: 'text' | 'binary' | 'ping' | 'pong';
  payload: Uint8Array | string;
}

/** Time the peer gets to close TCP after the closing handshake (Autobahn reports a failure past it). */
export const TCP_CLOSE_MS = 2000;

export const text = (payload: Uint8Array | string): Expected => ({ type: 'text', payload });
export const binary = (payload: Uint8Array | string): Expected => ({ type: 'binary', payload });
export const pong = (payload: Uint8Array | string = ''): Expected => ({ type: 'pong', payload });

function bytesOf(payload: Uint8Array | string): Uint8Array {
  return typeof payload === 'string' ? utf8(payload) : payload;
}

/** A short description of a payload: itself when small, length and SHA-1 when large. */
export function describePayload(payload: Uint8Array): string {
  if (payload.length <= 64) return `${payload.length} bytes ${Buffer.from(payload).toString('hex')}`;
  return `${payload.length} bytes sha1=${createHash('sha1').update(payload).digest('hex').slice(0, 12)}`;
}

/** A one-line description of a received event. */
export function describeEvent(event: WireEvent): string {
  switch (event.type) {
    case 'message':
      return `${event.binary ? 'binary' : 'text'} message of ${describePayload(event.payload)}`;
    case 'close':
      return `close ${event.code} "${Buffer.from(event.reason).toString()}"`;
    case 'eof':
      return 'TCP closed';
    default:
      return `${event.type} of ${describePayload(event.payload)}`;
  }
}

function eventMatches(event: WireEvent, expected: Expected): boolean {
  const payload = bytesOf(expected.payload);
  if (event.type === 'message') {
    if (
      event.binary !== (expected.type === 'binary') ||
      expected.type === 'ping' ||
      expected.type === 'pong'
    ) {
      return false;
    }
    return Buffer.from(event.payload).equals(payload);
  }
  if (event.type === 'ping' || event.type === 'pong') {
    return event.type === expected.type && Buffer.from(event.payload).equals(payload);
  }
  return false;
}

/** Reads events and asserts they equal `expected`, in order. */
export async function expectEvents(
  ep: WireEndpoint,
  expected: Expected[],
  timeoutMs = WAIT_MS,
): Promise<void> {
  for (const [index, want] of expected.entries()) {
    let event: WireEvent;
    try {
      event = await ep.nextEvent(timeoutMs);
    } catch (error) {
      assert.fail(`event #${index + 1}: expected ${want.type}, got nothing (${(error as Error).message})`);
    }
    const wanted = `${want.type} of ${describePayload(bytesOf(want.payload))}`;
    assert.ok(
      eventMatches(event, want),
      `event #${index + 1}: expected ${wanted}, got ${describeEvent(event)}`,
    );
  }
}

/** The usual end of a case: the events must equal `expected`, in order, then we close cleanly with 1000. */
export async function expectEventsThenClose(
  ep: WireEndpoint,
  expected: Expected[],
  timeoutMs = WAIT_MS,
): Promise<void> {
  await expectEvents(ep, expected, timeoutMs);
  await expectCleanClose(ep);
}

/** Asserts that the peer sent nothing within `ms` (the case is still open). */
export async function expectSilence(ep: WireEndpoint, ms: number, why: string): Promise<void> {
  const frames = await ep.framesWithin(ms);
  const seen = frames.map((f) => `opcode ${f.opcode} ${describePayload(f.payload)}`).join('; ');
  assert.equal(frames.length, 0, `${why}: expected nothing yet, got ${seen}`);
  assert.ok(!ep.tcpClosed, `${why}: the peer closed TCP`);
}

/** Waits for the close the peer must send, and asserts it carries one of `codes`. */
export async function expectCloseFrame(
  ep: WireEndpoint,
  codes: number[],
  timeoutMs = WAIT_MS,
): Promise<number> {
  let event: WireEvent;
  try {
    event = await ep.nextEvent(timeoutMs);
  } catch (error) {
    assert.fail(`expected a close frame with ${codes.join(' or ')}: ${(error as Error).message}`);
  }
  assert.equal(
    event.type,
    'close',
    `expected a close frame with ${codes.join(' or ')}, got ${describeEvent(event)}`,
  );
  const { code } = event as { code: number };
  assert.ok(codes.includes(code), `expected close code ${codes.join(' or ')}, got ${describeEvent(event)}`);
  return code;
}

/**
 * Finishes the closing handshake the peer started and checks TCP is closed: a server must close it
 * itself (RFC 6455 §7.1.1), while against a client we close it, as a server does, and wait for the end.
 */
export async function finishClose(ep: WireEndpoint, code: number): Promise<void> {
  ep.write(ep.build.close(code));
  if (!ep.peerIsServer) ep.end();
  const closed = await ep.waitTcpClosed(TCP_CLOSE_MS);
  const who = ep.peerIsServer ? 'the server did not close' : 'the client did not let go of';
  assert.ok(closed, `${who} the TCP connection within ${TCP_CLOSE_MS} ms after the closing handshake`);
}

/** A protocol violation was sent: expect a close with one of `codes`, then the TCP close. */
export async function expectFailure(ep: WireEndpoint, codes: number[], timeoutMs = WAIT_MS): Promise<void> {
  const code = await expectCloseFrame(ep, codes, timeoutMs);
  await finishClose(ep, code);
  assertNoViolations(ep);
}

/** We start the closing handshake with `code`: the peer must echo it, then TCP closes. */
export async function expectCleanClose(ep: WireEndpoint, code = 1000, timeoutMs = WAIT_MS): Promise<void> {
  ep.write(ep.build.close(code));
  await expectCloseFrame(ep, [code], timeoutMs);
  if (!ep.peerIsServer) ep.end();
  const closed = await ep.waitTcpClosed(TCP_CLOSE_MS);
  assert.ok(closed, `TCP not closed within ${TCP_CLOSE_MS} ms after the closing handshake`);
  assertNoViolations(ep);
}

/** Asserts that the peer broke no wire rule in anything it sent. */
export function assertNoViolations(ep: WireEndpoint): void {
  assert.deepEqual(ep.violations, [], 'frames from the peer break RFC 6455 §5');
}
