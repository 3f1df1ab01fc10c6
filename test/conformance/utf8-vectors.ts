/**
 * UTF-8 test vectors of Autobahn category 6 (cases 6.5–6.23), each marked well-formed or not per RFC 3629
 * §3 and Unicode Table 3-7, and a reference oracle that finds the byte at which a sequence stops being
 * completable. Kept out of `06-utf8.test.ts` so that the test file holds only how the vectors are fed
 * to a connection and what is asserted, not two hundred lines of data.
 * @module
 */
import { concat, hex, utf8 } from './harness.js';

/** One vector: Autobahn-style id, what it is, its bytes, and whether it is well-formed UTF-8. */
export interface Utf8Vector {
  id: string;
  name: string;
  bytes: Uint8Array;
  valid: boolean;
}

/** "κόσμε" (Greek for cosmos): the sample word of the Autobahn UTF-8 cases. */
export const KOSME = hex('ce ba e1 bd b9 cf 83 ce bc ce b5');

function group(prefix: string, name: string, valid: boolean, hexes: string[]): Utf8Vector[] {
  return hexes.map((h, i) => ({ id: `${prefix}.${i + 1}`, name: `${name} ${h}`, bytes: hex(h), valid }));
}

function lonelyStarts(from: number, to: number): string {
  const parts: string[] = [];
  for (let b = from; b <= to; b++) parts.push(`${b.toString(16)} 20`);
  return parts.join(' ');
}

function continuationBytes(): string {
  const parts: string[] = [];
  for (let b = 0x80; b <= 0xbf; b++) parts.push(b.toString(16));
  return parts.join(' ');
}

/** U+FFFE and U+FFFF of every plane: noncharacters, but well-formed UTF-8 (Unicode §23.7). */
function noncharacters(): string[] {
  const out = ['ef bf be', 'ef bf bf'];
  for (let plane = 1; plane <= 16; plane++) {
    for (const last of [0xfffe, 0xffff]) {
      const bytes = new TextEncoder().encode(String.fromCodePoint(plane * 0x10000 + last));
      out.push(Buffer.from(bytes).toString('hex'));
    }
  }
  return out;
}

const TRUNCATED = [
  'c0',
  'e0 80',
  'f0 80 80',
  'f8 80 80 80',
  'fc 80 80 80 80',
  'df',
  'ef bf',
  'f7 bf bf',
  'fb bf bf bf',
  'fd bf bf bf bf',
];

/** The κόσμε prefixes: a prefix is valid when it ends on a character boundary (Autobahn 6.6). */
function kosmePrefixes(): Utf8Vector[] {
  const boundaries = new Set([2, 5, 7, 9, 11]);
  return Array.from({ length: 11 }, (_, i) => ({
    id: `6.6.${i + 1}`,
    name: `first ${i + 1} bytes of κόσμε`,
    bytes: KOSME.subarray(0, i + 1),
    valid: boundaries.has(i + 1),
  }));
}

/** Every vector of cases 6.5–6.23. */
export const UTF8_VECTORS: Utf8Vector[] = [
  { id: '6.5.1', name: 'κόσμε', bytes: KOSME, valid: true },
  { id: '6.5.2', name: 'Hello-µ@ßöäüàá-UTF-8!!', bytes: utf8('Hello-µ@ßöäüàá-UTF-8!!'), valid: true },
  { id: '6.5.3', name: 'musical symbol G clef (4 bytes)', bytes: hex('f0 9d 84 9e'), valid: true },
  { id: '6.5.4', name: 'mixed 1-4 byte characters', bytes: utf8('a€𐍈ß汉😀z'), valid: true },
  ...kosmePrefixes(),
  ...group('6.7', 'first possible sequence of a length', true, ['00', 'c2 80', 'e0 a0 80', 'f0 90 80 80']),
  ...group('6.8', 'first 5/6-byte sequence (RFC 3629 §3: at most 4 bytes)', false, [
    'f8 88 80 80 80',
    'fc 84 80 80 80 80',
  ]),
  ...group('6.9', 'last possible sequence of a length', true, ['7f', 'df bf', 'ef bf bf', 'f4 8f bf bf']),
  ...group('6.10', 'beyond U+10FFFF or 5/6 bytes', false, [
    'f7 bf bf bf',
    'fb bf bf bf bf',
    'fd bf bf bf bf bf',
  ]),
  ...group('6.11', 'boundary below surrogates / private use / U+FFFD / U+10FFFF', true, [
    'ed 9f bf',
    'ee 80 80',
    'ef bf bd',
    'f4 8f bf bf',
  ]),
  { id: '6.11.5', name: 'U+110000 (f4 90 80 80), beyond U+10FFFF', bytes: hex('f4 90 80 80'), valid: false },
  ...group('6.12', 'unexpected continuation bytes', false, [
    '80',
    'bf',
    '80 bf',
    '80 bf 80',
    '80 bf 80 bf',
    '80 bf 80 bf 80',
    '80 bf 80 bf 80 bf',
    continuationBytes(),
  ]),
  ...group('6.13', 'lonely start bytes followed by a space', false, [
    lonelyStarts(0xc0, 0xdf),
    lonelyStarts(0xe0, 0xef),
    lonelyStarts(0xf0, 0xf7),
    lonelyStarts(0xf8, 0xfb),
    lonelyStarts(0xfc, 0xfd),
  ]),
  ...group('6.14', 'sequence missing its last continuation byte', false, TRUNCATED),
  {
    id: '6.15.1',
    name: 'all truncated sequences concatenated',
    bytes: concat(...TRUNCATED.map(hex)),
    valid: false,
  },
  ...group('6.16', 'impossible bytes', false, ['fe', 'ff', 'fe fe ff ff']),
  ...group('6.17', 'overlong "/"', false, [
    'c0 af',
    'e0 80 af',
    'f0 80 80 af',
    'f8 80 80 80 af',
    'fc 80 80 80 80 af',
  ]),
  ...group('6.18', 'maximum overlong sequences', false, [
    'c1 bf',
    'e0 9f bf',
    'f0 8f bf bf',
    'f8 87 bf bf bf',
    'fc 83 bf bf bf bf',
  ]),
  ...group('6.19', 'overlong NUL', false, [
    'c0 80',
    'e0 80 80',
    'f0 80 80 80',
    'f8 80 80 80 80',
    'fc 80 80 80 80 80',
  ]),
  ...group('6.20', 'single UTF-16 surrogate (RFC 3629 §3)', false, [
    'ed a0 80',
    'ed ad bf',
    'ed ae 80',
    'ed af bf',
    'ed b0 80',
    'ed be 80',
    'ed bf bf',
  ]),
  ...group('6.21', 'paired UTF-16 surrogates (RFC 3629 §3)', false, [
    'ed a0 80 ed b0 80',
    'ed a0 80 ed bf bf',
    'ed ad bf ed b0 80',
    'ed ad bf ed bf bf',
    'ed ae 80 ed b0 80',
    'ed ae 80 ed bf bf',
    'ed af bf ed b0 80',
    'ed af bf ed bf bf',
  ]),
  ...group('6.22', 'noncharacter (well-formed)', true, noncharacters()),
  ...group('6.23', 'specials U+FFF9..U+FFFD and the replacement character in text', true, [
    'ef bf b9',
    'ef bf ba',
    'ef bf bb',
    'ef bf bc',
    'ef bf bd',
    '61 ef bf bd 62',
  ]),
];

/** The byte ranges allowed after each lead byte (Unicode Table 3-7), as [low, high] per position. */
function followers(lead: number): [number, number][] | null {
  if (lead <= 0x7f) return [];
  if (lead >= 0xc2 && lead <= 0xdf) return [[0x80, 0xbf]];
  if (lead === 0xe0)
    return [
      [0xa0, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xed)
    return [
      [0x80, 0x9f],
      [0x80, 0xbf],
    ];
  if (lead >= 0xe1 && lead <= 0xef)
    return [
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xf0)
    return [
      [0x90, 0xbf],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead >= 0xf1 && lead <= 0xf3)
    return [
      [0x80, 0xbf],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xf4)
    return [
      [0x80, 0x8f],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  return null;
}

/**
 * Index of the first byte after which `bytes` can no longer be the start of valid UTF-8, or -1 when
 * every prefix is still completable (the text is valid, or only truncated at its end).
 */
export function firstInvalidIndex(bytes: Uint8Array): number {
  let expected: [number, number][] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const range = expected.shift();
    if (range !== undefined) {
      if (b < range[0] || b > range[1]) return i;
      continue;
    }
    const next = followers(b);
    if (next === null) return i;
    expected = next;
  }
  return -1;
}
