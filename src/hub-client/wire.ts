/**
 * The `conduit.v1` messages (docs/hub-protocol.md): the shapes the hub sends, their validation, and
 * the frames the client sends. Everything is JSON text, one object per WebSocket message.
 * @module
 */

/** The subprotocol of the hub's wire protocol. */
export const SUBPROTOCOL = 'conduit.v1';

/** A position in a topic's stream: the offset of a publication within one epoch of the stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** One connection present in a topic. */
export interface PresenceEntry {
  client: string;
  user: string;
  info: unknown;
}

/** Messages from the hub, as validated by {@link parseServerMessage}. */
export type ServerMessage =
  | { type: 'connected'; client: string; user: string }
  | { type: 'subscribed'; topic: string; offset: number; epoch: string; recovered: boolean }
  | { type: 'unsubscribed'; topic: string }
  | { type: 'message'; topic: string; data: unknown; offset: number; epoch: string; pattern?: string }
  | { type: 'ack'; id: string | number; offset: number; epoch: string }
  | { type: 'presence'; topic: string; clients: PresenceEntry[] }
  | { type: 'join'; topic: string; client: string; user: string; info: unknown }
  | { type: 'leave'; topic: string; client: string; user: string }
  | { type: 'error'; code: string; message: string; id?: string | number; topic?: string };

type Check = (value: unknown) => boolean;

const isString: Check = (value) => typeof value === 'string';
const isOffset: Check = (value) => Number.isSafeInteger(value) && (value as number) >= 0;
const isBoolean: Check = (value) => typeof value === 'boolean';
const isId: Check = (value) => typeof value === 'string' || typeof value === 'number';
const isAny: Check = () => true;
const isEntry: Check = (value) =>
  typeof value === 'object' && value !== null && isString((value as PresenceEntry).client);
const isEntries: Check = (value) => Array.isArray(value) && value.every(isEntry);

/** Required fields of each message type (`data` and `info` may be any JSON, even absent). */
const REQUIRED: Readonly<Record<ServerMessage['type'], Readonly<Record<string, Check>>>> = {
  connected: { client: isString, user: isString },
  subscribed: { topic: isString, offset: isOffset, epoch: isString, recovered: isBoolean },
  unsubscribed: { topic: isString },
  message: { topic: isString, offset: isOffset, epoch: isString, data: isAny },
  ack: { id: isId, offset: isOffset, epoch: isString },
  presence: { topic: isString, clients: isEntries },
  join: { topic: isString, client: isString, user: isString },
  leave: { topic: isString, client: isString, user: isString },
  error: { code: isString, message: isString },
};

/** Optional fields that must have the right type when present. */
const OPTIONAL: Readonly<Record<string, Check>> = { pattern: isString, id: isId, topic: isString };

/** What {@link parseServerMessage} found: a message, a type this client does not know, or garbage. */
export type ParseResult =
  | { kind: 'message'; message: ServerMessage }
  | { kind: 'unknown'; type: string }
  | { kind: 'invalid'; reason: string };

function fieldProblem(object: Record<string, unknown>, type: ServerMessage['type']): string | null {
  for (const [field, check] of Object.entries(REQUIRED[type])) {
    if (!check(object[field])) return `'${type}' message with a missing or ill-typed '${field}'`;
  }
  for (const [field, check] of Object.entries(OPTIONAL)) {
    if (object[field] !== undefined && !check(object[field]))
      return `'${type}' message with an ill-typed '${field}'`;
  }
  return null;
}

/**
 * Parses and validates one text message from the hub. Unknown types are reported as such (a newer hub
 * may send more; the client ignores them) rather than as invalid.
 */
export function parseServerMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'invalid', reason: 'not a JSON object' };
  }
  const object = value as Record<string, unknown>;
  const type = object.type;
  if (typeof type !== 'string') return { kind: 'invalid', reason: "no string 'type'" };
  if (!Object.hasOwn(REQUIRED, type)) return { kind: 'unknown', type };
  const problem = fieldProblem(object, type as ServerMessage['type']);
  if (problem !== null) return { kind: 'invalid', reason: problem };
  return { kind: 'message', message: object as unknown as ServerMessage };
}

/** `{"type":"auth"}`: first-message authentication. */
export function authFrame(token: string): string {
  return JSON.stringify({ type: 'auth', token });
}

/** `{"type":"subscribe"}` with the optional resume position and flow-control credit. */
export function subscribeFrame(topic: string, since: StreamPosition | null, credit: number | null): string {
  const frame: Record<string, unknown> = { type: 'subscribe', topic };
  if (since !== null) frame.since = { offset: since.offset, epoch: since.epoch };
  if (credit !== null) frame.credit = credit;
  return JSON.stringify(frame);
}

/** `{"type":"unsubscribe"}`. */
export function unsubscribeFrame(topic: string): string {
  return JSON.stringify({ type: 'unsubscribe', topic });
}

/** `{"type":"credit"}`: grants `credit` more messages. */
export function creditFrame(topic: string, credit: number): string {
  return JSON.stringify({ type: 'credit', topic, credit });
}

/** `{"type":"presence"}` request. */
export function presenceFrame(topic: string): string {
  return JSON.stringify({ type: 'presence', topic });
}

/**
 * `{"type":"publish"}` around data that is already JSON (serialized once, when `publish()` is called,
 * so later changes to the object do not leak into a queued message). `echo: false` asks the hub not to
 * deliver it back to this connection.
 */
export function publishFrame(
  topic: string,
  dataJson: string,
  id: string | number | undefined,
  echo = true,
): string {
  const head = `{"type":"publish","topic":${JSON.stringify(topic)}`;
  const withId = id === undefined ? head : `${head},"id":${JSON.stringify(id)}`;
  return `${echo ? withId : `${withId},"echo":false`},"data":${dataJson}}`;
}
