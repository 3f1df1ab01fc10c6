/**
 * What the chat page remembers in localStorage: the user's name, the rooms they joined, the room they
 * were in, and per room the stream position of the last message shown (where a reload resumes). Storage
 * may be unavailable (private modes, quotas): every access degrades to "nothing remembered".
 * @module
 */
import type { StreamPosition } from './sdk.js';

const PREFIX = 'conduit.chat.';
/** Rooms every visitor sees. */
export const DEFAULT_ROOMS: readonly string[] = ['lobby', 'random', 'help'];
/** A room name: one topic segment of the letters the hub allows, lowercased, bounded. */
const ROOM = /^[a-z0-9_-]{1,32}$/;
/** Names are shown to others: bounded and trimmed. */
export const MAX_NAME_LENGTH = 32;

function read(key: string): string | null {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null;
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(PREFIX + key, value);
  } catch {
    // Not remembered: the page works on without it.
  }
}

/** `text` as a room name (lowercased), or null when it cannot be one. */
export function roomName(text: string): string | null {
  const name = text.trim().toLowerCase();
  return ROOM.test(name) ? name : null;
}

/** `text` as a display name (trimmed, collapsed spaces, bounded), or null when empty. */
export function displayName(text: string): string | null {
  const name = text.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH);
  return name === '' ? null : name;
}

/** A random key of `length` URL-safe characters. */
function randomKey(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (byte) => alphabet[byte & 63]).join('');
}

/** The chat page's remembered state. */
export const chatStore = {
  /** This browser's author key (created on first use): marks one's own messages across reloads. */
  author(): string {
    const known = read('author');
    if (known !== null && /^[\w-]{16,64}$/.test(known)) return known;
    const created = randomKey(22);
    write('author', created);
    return created;
  },
  name(): string | null {
    return displayName(read('name') ?? '');
  },
  setName(name: string): void {
    write('name', name);
  },
  /** The default rooms, then the ones the user added. */
  rooms(): string[] {
    let added: unknown = [];
    try {
      added = JSON.parse(read('rooms') ?? '[]');
    } catch {
      // A damaged value counts as none.
    }
    const extra = Array.isArray(added) ? added.filter((r): r is string => typeof r === 'string') : [];
    return [...new Set([...DEFAULT_ROOMS, ...extra.map(roomName).filter((r): r is string => r !== null)])];
  },
  addRoom(room: string): void {
    const added = this.rooms().filter((r) => !DEFAULT_ROOMS.includes(r));
    if (!added.includes(room) && !DEFAULT_ROOMS.includes(room))
      write('rooms', JSON.stringify([...added, room]));
  },
  currentRoom(): string | null {
    return roomName(read('room') ?? '');
  },
  setCurrentRoom(room: string): void {
    write('room', room);
  },
  position(room: string): StreamPosition | null {
    try {
      const value = JSON.parse(read(`position.${room}`) ?? 'null') as Partial<StreamPosition> | null;
      const valid = Number.isSafeInteger(value?.offset) && typeof value?.epoch === 'string';
      return valid ? { offset: value!.offset!, epoch: value!.epoch! } : null;
    } catch {
      return null;
    }
  },
  setPosition(room: string, position: StreamPosition): void {
    write(`position.${room}`, JSON.stringify(position));
  },
};
