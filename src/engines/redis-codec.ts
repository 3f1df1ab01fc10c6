/**
 * The Redis engine's encodings: what travels on a topic's channel and what a stream entry holds.
 *
 * A channel message starts with a one-letter type:
 * - `p<offset>,<time>,<epoch>,<meta>\n<data>` a publication (the publish script writes the header);
 * - `j<entry JSON>` a presence join, `l<entry JSON>` a presence leave.
 *
 * `<meta>` holds the rarely used fields (publisher, excludePublisher, users) as a JSON array, or nothing
 * when they all have their defaults, so the common publication costs no JSON parsing besides its data.
 * `data` is already JSON and is carried verbatim after the first newline: the header never contains a raw
 * newline (epochs are hex, meta is JSON.stringify output, which escapes newlines).
 * A stream entry has the id `<time>-<offset>` and the fields `m` (meta) and `d` (data).
 * @module
 */
import type { PresenceEntry, Publication, PublishOptions } from './engine.js';

/** Type letters of channel messages. */
export const PUBLICATION_MARK = 'p';
export const JOIN_MARK = 'j';
export const LEAVE_MARK = 'l';

/** The optional publication fields, or '' when all are defaults. */
export function encodeMeta(options: PublishOptions): string {
  const publisher = options.publisher ?? '';
  const exclude = options.excludePublisher === true;
  const users = options.users ?? null;
  if (publisher === '' && !exclude && users === null) return '';
  return JSON.stringify([publisher, exclude ? 1 : 0, users]);
}

interface Meta {
  publisher: string;
  excludePublisher: boolean;
  users: string[] | null;
}

const DEFAULT_META: Meta = { publisher: '', excludePublisher: false, users: null };

function decodeMeta(meta: string): Meta {
  if (meta === '') return DEFAULT_META;
  const [publisher, exclude, users] = JSON.parse(meta) as [string, number, string[] | null];
  return { publisher, excludePublisher: exclude === 1, users };
}

function safeMeta(meta: string): Meta | null {
  try {
    return decodeMeta(meta);
  } catch {
    return null;
  }
}

function publication(topic: string, offset: number, time: number, epoch: string, meta: Meta, data: string) {
  return {
    topic,
    data,
    offset,
    epoch,
    time,
    publisher: meta.publisher,
    excludePublisher: meta.excludePublisher,
    users: meta.users,
  } satisfies Publication;
}

/**
 * Decodes the body of a `p` channel message (without its mark), or returns null when it is malformed.
 * `start` is where the header starts (1 to skip the mark).
 */
export function decodePublication(topic: string, message: string, start = 1): Publication | null {
  const c1 = message.indexOf(',', start);
  const c2 = message.indexOf(',', c1 + 1);
  const c3 = message.indexOf(',', c2 + 1);
  const nl = message.indexOf('\n', c3 + 1);
  if (c1 < 0 || c2 < 0 || c3 < 0 || nl < 0) return null;
  const offset = Number(message.slice(start, c1));
  const time = Number(message.slice(c1 + 1, c2));
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(time)) return null;
  const meta = safeMeta(message.slice(c3 + 1, nl));
  if (meta === null) return null;
  return publication(topic, offset, time, message.slice(c2 + 1, c3), meta, message.slice(nl + 1));
}

/** Encodes a presence entry as stored in Redis and carried by join/leave messages. */
export function encodeEntry(entry: PresenceEntry): string {
  return JSON.stringify({ client: entry.client, user: entry.user, info: entry.info });
}

/** Decodes a stored presence entry, or null when it is malformed. */
export function decodeEntry(text: string): PresenceEntry | null {
  try {
    const value = JSON.parse(text) as Partial<PresenceEntry> | null;
    if (typeof value?.client !== 'string' || typeof value.user !== 'string') return null;
    const entry: PresenceEntry = { client: value.client, user: value.user };
    if (value.info !== undefined) entry.info = value.info;
    return entry;
  } catch {
    return null;
  }
}

/** One stream entry as Redis returns it: `[id, [field, value, …]]`. */
export type StreamEntry = [id: string, fields: string[]];

/** Decodes a stream entry into a publication, or null when it is malformed. */
export function decodeStreamEntry(topic: string, entry: StreamEntry, epoch: string): Publication | null {
  const [id, fields] = entry;
  const dash = id.indexOf('-');
  const time = Number(id.slice(0, dash));
  const offset = Number(id.slice(dash + 1));
  let meta = '';
  let data: string | null = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'm') meta = fields[i + 1]!;
    else if (fields[i] === 'd') data = fields[i + 1]!;
  }
  const decoded = safeMeta(meta);
  if (data === null || decoded === null || !Number.isSafeInteger(offset)) return null;
  return publication(topic, offset, time, epoch, decoded, data);
}
