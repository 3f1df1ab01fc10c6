/**
 * The `conduit.v1` wire protocol (docs/hub-protocol.md): validation of what clients send and the
 * encoding of what the hub sends. Client input is untrusted: every field is checked here, so the rest of
 * the hub only sees well-formed requests.
 * @module
 */
import type { StreamPosition } from '../engines/engine.js';
import { HubError } from './errors.js';

/** The subprotocol of the hub. */
export const HUB_SUBPROTOCOL = 'conduit.v1';

/** A request id: a string or a number the client chose (echoed in `ack` and `error`). */
export type RequestId = string | number;

/** A validated client request. */
export type ClientRequest =
  | {
      type: 'subscribe';
      topic: string;
      since: StreamPosition | null;
      credit: number | null;
      id: RequestId | null;
    }
  | { type: 'unsubscribe'; topic: string; id: RequestId | null }
  | { type: 'publish'; topic: string; data: unknown; echo: boolean; id: RequestId | null }
  | { type: 'presence'; topic: string; id: RequestId | null }
  | { type: 'credit'; topic: string; credit: number; id: RequestId | null }
  | { type: 'auth'; token: string; id: RequestId | null };

const MAX_ID_LENGTH = 128;
/** Credit grants beyond this are clamped: flow control with more in flight makes no sense. */
const MAX_CREDIT = 1_000_000;

type Fields = Record<string, unknown>;

function requestId(message: Fields): RequestId | null {
  const id = message.id;
  if (id === undefined) return null;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  if (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH) return id;
  throw new HubError('bad_request', `"id" must be a number or a string of 1-${MAX_ID_LENGTH} characters`);
}

function stringField(message: Fields, name: string, id: RequestId | null): string {
  const value = message[name];
  if (typeof value !== 'string') throw new HubError('bad_request', `"${name}" must be a string`, id);
  return value;
}

function creditField(message: Fields, id: RequestId | null, required: boolean): number | null {
  const value = message.credit;
  if (value === undefined && !required) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new HubError('bad_request', '"credit" must be a non-negative integer', id);
  }
  return Math.min(value, MAX_CREDIT);
}

function sinceField(message: Fields, id: RequestId | null): StreamPosition | null {
  const since = message.since;
  if (since === undefined || since === null) return null;
  const fields = since as Fields;
  if (
    typeof since !== 'object' ||
    typeof fields.offset !== 'number' ||
    !Number.isSafeInteger(fields.offset) ||
    fields.offset < 0 ||
    typeof fields.epoch !== 'string'
  ) {
    throw new HubError('bad_request', '"since" must be {"offset": integer >= 0, "epoch": string}', id);
  }
  return { offset: fields.offset, epoch: fields.epoch };
}

/** Validates one parsed JSON value as a client request; throws a {@link HubError} otherwise. */
export function toClientRequest(value: unknown): ClientRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HubError('bad_request', 'a message must be a JSON object');
  }
  const message = value as Fields;
  const id = requestId(message);
  switch (message.type) {
    case 'subscribe':
      return {
        type: 'subscribe',
        topic: stringField(message, 'topic', id),
        since: sinceField(message, id),
        credit: creditField(message, id, false),
        id,
      };
    case 'unsubscribe':
    case 'presence':
      return { type: message.type, topic: stringField(message, 'topic', id), id };
    case 'publish':
      if (!('data' in message)) throw new HubError('bad_request', '"data" is missing', id);
      if (message.echo !== undefined && typeof message.echo !== 'boolean') {
        throw new HubError('bad_request', '"echo" must be a boolean', id);
      }
      return {
        type: 'publish',
        topic: stringField(message, 'topic', id),
        data: message.data,
        echo: message.echo !== false,
        id,
      };
    case 'credit':
      return {
        type: 'credit',
        topic: stringField(message, 'topic', id),
        credit: creditField(message, id, true)!,
        id,
      };
    case 'auth':
      return { type: 'auth', token: stringField(message, 'token', id), id };
    default:
      if (typeof message.type !== 'string') throw new HubError('bad_request', '"type" must be a string', id);
      throw new HubError('unknown_type', `unknown message type "${message.type.slice(0, 64)}"`, id);
  }
}

/** Parses and validates one text message. */
export function parseClientMessage(text: string): ClientRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HubError('bad_request', 'a message must be valid JSON');
  }
  return toClientRequest(value);
}

// --- server → client ------------------------------------------------------------------------------------

/**
 * The `message` a subscriber receives. `data` is already JSON, so the envelope is built by concatenation:
 * one string per publication (per pattern), however many subscribers receive it.
 */
export function encodeMessage(
  topic: string,
  data: string,
  offset: number,
  epoch: string,
  pattern?: string,
): string {
  const tail = pattern === undefined ? '}' : `,"pattern":${JSON.stringify(pattern)}}`;
  return `{"type":"message","topic":${JSON.stringify(topic)},"data":${data},"offset":${offset},"epoch":${JSON.stringify(epoch)}${tail}`;
}

/** Any other server message: small and rare enough for `JSON.stringify`. */
export function encodeControl(message: { type: string } & Record<string, unknown>): string {
  return JSON.stringify(message);
}
