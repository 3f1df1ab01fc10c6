/**
 * Random keys and publish ids. Ids must be unique across clients, page loads and reconnects, because
 * the hub deduplicates retries by id and a collision with another publisher's id would silently drop
 * a message.
 * @module
 */

/** 64 characters, so that a random byte maps to one of them uniformly (256 is a multiple of 64). */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

type Crypto = { getRandomValues?: (array: Uint8Array) => Uint8Array };

/** `length` random characters of `A–Z a–z 0–9 _ -` (6 bits each), from Web Crypto where present. */
export function randomKey(length: number): string {
  const bytes = new Uint8Array(length);
  const crypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let key = '';
  for (const byte of bytes) key += ALPHABET[byte & 63];
  return key;
}

/** Makes ids `<random prefix>.<counter>`: short, and unique without a round trip. */
export class IdSource {
  /** 66 random bits: collisions between client instances are out of reach. */
  readonly #prefix = randomKey(11);
  #counter = 0;

  /** The next id. */
  next(): string {
    this.#counter++;
    return `${this.#prefix}.${this.#counter.toString(36)}`;
  }
}
