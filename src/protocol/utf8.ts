/**
 * UTF-8 validation (RFC 3629 §4; the ranges are Table 3-7 of the Unicode Standard) for text messages.
 * The validator is streaming so that a fragmented message fails in the very fragment where it stops
 * being a prefix of valid UTF-8 (RFC 6455 §8.1: the connection must fail "as soon as" that happens).
 *
 * The rules live in one small state machine ({@link step}); the hot loop takes two shortcuts that must
 * agree with it: ASCII runs skipped a 32-bit word at a time, and whole sequences checked in one go when
 * they do not straddle a piece boundary. A platform layer may install an accelerated whole-buffer
 * validator (Node's `buffer.isUtf8`, simdutf); `feed` then runs the state machine only around the
 * boundaries of each piece.
 * @module
 */

// States, i.e. what the next byte must be, premultiplied by 16 so the table index is `state + class`.
/** On a character boundary. */
const ACCEPT = 0;
/** 1, 2 or 3 continuation bytes (80..BF) still due. */
const TAIL1 = 16;
const TAIL2 = 32;
const TAIL3 = 48;
/** After E0 the next byte is A0..BF: E0 80..9F would encode < U+0800, an overlong form. */
const AFTER_E0 = 64;
/** After ED the next byte is 80..9F: ED A0..BF would encode the surrogates U+D800..DFFF. */
const AFTER_ED = 80;
/** After F0 the next byte is 90..BF: F0 80..8F would encode < U+10000, an overlong form. */
const AFTER_F0 = 96;
/** After F4 the next byte is 80..8F: F4 90..BF would encode > U+10FFFF. */
const AFTER_F4 = 112;
/** Not a prefix of valid UTF-8; sticky until `end()` or `reset()`. */
const REJECT = 128;

// Byte classes: bytes that every state treats alike.
const ASCII = 0;
const CONT_80_8F = 1;
const CONT_90_9F = 2;
const CONT_A0_BF = 3;
/** C0, C1 (only overlong 2-byte forms) and F5..FF (only > U+10FFFF) never occur (RFC 3629 §1). */
const NEVER = 4;
const LEAD2 = 5;
const LEAD_E0 = 6;
const LEAD3 = 7;
const LEAD_ED = 8;
const LEAD_F0 = 9;
const LEAD4 = 10;
const LEAD_F4 = 11;

const CLASS_OF = buildClasses();
const TRANSITION = buildTransitions();

function buildClasses(): Uint8Array {
  const classes = new Uint8Array(256).fill(NEVER);
  const ranges: [number, number, number][] = [
    [0x00, 0x7f, ASCII],
    [0x80, 0x8f, CONT_80_8F],
    [0x90, 0x9f, CONT_90_9F],
    [0xa0, 0xbf, CONT_A0_BF],
    [0xc2, 0xdf, LEAD2],
    [0xe0, 0xe0, LEAD_E0],
    [0xe1, 0xef, LEAD3],
    [0xed, 0xed, LEAD_ED],
    [0xf0, 0xf0, LEAD_F0],
    [0xf1, 0xf3, LEAD4],
    [0xf4, 0xf4, LEAD_F4],
  ];
  for (const [first, last, byteClass] of ranges) classes.fill(byteClass, first, last + 1);
  return classes;
}

function buildTransitions(): Uint8Array {
  const table = new Uint8Array(REJECT + 16).fill(REJECT);
  const anyCont = [CONT_80_8F, CONT_90_9F, CONT_A0_BF];
  const rules: [number, number[], number][] = [
    [ACCEPT, [ASCII], ACCEPT],
    [ACCEPT, [LEAD2], TAIL1],
    [ACCEPT, [LEAD3], TAIL2],
    [ACCEPT, [LEAD4], TAIL3],
    [ACCEPT, [LEAD_E0], AFTER_E0],
    [ACCEPT, [LEAD_ED], AFTER_ED],
    [ACCEPT, [LEAD_F0], AFTER_F0],
    [ACCEPT, [LEAD_F4], AFTER_F4],
    [TAIL1, anyCont, ACCEPT],
    [TAIL2, anyCont, TAIL1],
    [TAIL3, anyCont, TAIL2],
    [AFTER_E0, [CONT_A0_BF], TAIL1],
    [AFTER_ED, [CONT_80_8F, CONT_90_9F], TAIL1],
    [AFTER_F0, [CONT_90_9F, CONT_A0_BF], TAIL2],
    [AFTER_F4, [CONT_80_8F], TAIL2],
  ];
  for (const [from, classes, to] of rules) for (const byteClass of classes) table[from + byteClass] = to;
  return table;
}

/** Bytes still due in each state (indexed by `state >> 4`): enough to get back to ACCEPT. */
const PENDING_LENGTH = [0, 1, 2, 3, 2, 2, 3, 3, 0];

/** The state machine: the state after `byte`. */
function step(state: number, byte: number): number {
  return TRANSITION[state + CLASS_OF[byte]!]!;
}

/** Runs the state machine over `data[start, end)`, stopping at the first rejected byte. */
function stepBytes(data: Uint8Array, start: number, end: number, state: number): number {
  for (let i = start; i < end && state !== REJECT; i++) state = step(state, data[i]!);
  return state;
}

/** `sequenceAt` results that are not an index. */
const INVALID = -1;
const INCOMPLETE = -2;

/**
 * Checks the whole sequence led by `data[i]` (>= 0x80, at a character boundary) and returns the index
 * after it, INVALID, or INCOMPLETE when it runs past `end`. Same rules as the state machine, unrolled.
 */
function sequenceAt(data: Uint8Array, i: number, end: number): number {
  const lead = data[i]!;
  if (lead < 0xe0) {
    if (lead < 0xc2) return INVALID; // continuation byte, or C0/C1
    if (i + 1 >= end) return INCOMPLETE;
    return (data[i + 1]! & 0xc0) === 0x80 ? i + 2 : INVALID;
  }
  if (lead < 0xf0) return threeByteEnd(data, i, end, lead);
  return lead < 0xf5 ? fourByteEnd(data, i, end, lead) : INVALID;
}

/** E0..EF: the second byte is narrower after E0 and ED (see AFTER_E0, AFTER_ED). */
function threeByteEnd(data: Uint8Array, i: number, end: number, lead: number): number {
  if (i + 2 >= end) return INCOMPLETE;
  const second = data[i + 1]!;
  const low = lead === 0xe0 ? 0xa0 : 0x80;
  const high = lead === 0xed ? 0x9f : 0xbf;
  return second >= low && second <= high && (data[i + 2]! & 0xc0) === 0x80 ? i + 3 : INVALID;
}

/** F0..F4: the second byte is narrower after F0 and F4 (see AFTER_F0, AFTER_F4). */
function fourByteEnd(data: Uint8Array, i: number, end: number, lead: number): number {
  if (i + 3 >= end) return INCOMPLETE;
  const second = data[i + 1]!;
  const low = lead === 0xf0 ? 0x90 : 0x80;
  const high = lead === 0xf4 ? 0x8f : 0xbf;
  if (second < low || second > high || (data[i + 2]! & 0xc0) !== 0x80) return INVALID;
  return (data[i + 3]! & 0xc0) === 0x80 ? i + 4 : INVALID;
}

/** Below this many bytes a word view costs more than it saves (V8 does not inline `buffer`/`byteOffset`). */
const WORD_SCAN_MIN = 96;

/**
 * Validates `data[start, end)` starting on a character boundary and returns the final state. ASCII runs
 * are skipped a word at a time when `words` (a Uint32Array view of `data` from index `aligned` on) is
 * given; a sequence cut by `end` is left to the state machine so the state carries over.
 */
function scanFrom(data: Uint8Array, start: number, end: number, words: Uint32Array | null, aligned: number) {
  let i = start;
  while (i < end) {
    if (data[i]! < 0x80) {
      i++;
      // Try whole words only every 16 bytes: in mixed text most ASCII runs are a space or two.
      if (words !== null && ((i - aligned) & 15) === 0)
        i = aligned + (skipAsciiBlocks(words, (i - aligned) >> 2) << 2);
      continue;
    }
    const next = sequenceAt(data, i, end);
    if (next >= 0) i = next;
    else return next === INVALID ? REJECT : stepBytes(data, i, end, ACCEPT);
  }
  return ACCEPT;
}

/**
 * From word index `word`, skips 16-byte blocks of ASCII (OR-ing four words keeps it to one branch per
 * block) and returns the index of the first block that holds a byte >= 0x80 or is incomplete; the
 * caller's byte loop takes it from there. Nothing but `return` follows the loop: V8 compiles this long
 * loop on-stack before the first call returns, and any operation after it would lack type feedback and
 * deoptimize on every later call.
 */
function skipAsciiBlocks(words: Uint32Array, word: number): number {
  const last = words.length - 4;
  while (
    word <= last &&
    ((words[word]! | words[word + 1]! | words[word + 2]! | words[word + 3]!) & 0x80808080) === 0
  ) {
    word += 4;
  }
  return word;
}

/**
 * Skips 4-byte groups of ASCII from `start` (one branch per group, no view needed: short messages are
 * mostly ASCII, and creating a word view would cost more than reading them) and returns where the byte
 * loop must take over.
 */
function skipAsciiQuads(data: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i + 4 <= end && ((data[i]! | data[i + 1]! | data[i + 2]! | data[i + 3]!) & 0x80) === 0) i += 4;
  return i;
}

/** Validates `data` continuing from `state`; returns the new state. */
function scan(data: Uint8Array, state: number): number {
  const end = data.length;
  const head = Math.min(end, PENDING_LENGTH[state >> 4]!);
  state = stepBytes(data, 0, head, state);
  if (state !== ACCEPT || head === end) return state;
  if (end - head < WORD_SCAN_MIN) return scanFrom(data, skipAsciiQuads(data, head, end), end, null, 0);
  const byteOffset = data.byteOffset;
  const aligned = (4 - (byteOffset & 3)) & 3;
  const words = new Uint32Array(data.buffer, byteOffset + aligned, (end - aligned) >>> 2);
  return scanFrom(data, head, end, words, aligned);
}

let accelerator: ((data: Uint8Array) => boolean) | null = null;

/** Below this many bytes the state machine is cheaper than a call into the accelerator. */
const ACCELERATE_MIN = 96;

/**
 * Lets a platform layer install an accelerated whole-buffer validator (Node's `buffer.isUtf8`, simdutf),
 * or remove it with `null`. It must accept exactly the byte strings that RFC 3629 calls valid UTF-8.
 */
export function setUtf8Accelerator(fn: ((data: Uint8Array) => boolean) | null): void {
  accelerator = fn;
}

/** True when `data` is entirely valid UTF-8 (RFC 3629 §4). */
export function isValidUtf8(data: Uint8Array): boolean {
  if (accelerator !== null && data.length >= ACCELERATE_MIN) return accelerator(data);
  return scan(data, ACCEPT) === ACCEPT;
}

/**
 * Validates one piece with the accelerator: the state machine finishes the sequence left open by the
 * previous piece and walks the incomplete sequence at the end of this one; the accelerator checks the
 * complete characters in between.
 */
function scanAccelerated(validate: (data: Uint8Array) => boolean, data: Uint8Array, state: number): number {
  const end = data.length;
  const head = Math.min(end, PENDING_LENGTH[state >> 4]!);
  state = stepBytes(data, 0, head, state);
  if (state !== ACCEPT) return state;
  const tail = incompleteTailStart(data, head, end);
  if (tail > head && !validate(data.subarray(head, tail))) return REJECT;
  return stepBytes(data, tail, end, ACCEPT);
}

/** The length of the sequence a lead byte (>= 0xC0) announces. */
function sequenceLength(lead: number): number {
  return lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/**
 * Returns where the sequence that `data[start, end)` ends inside of begins, or `end` when it ends on a
 * boundary. Only the last 3 bytes can belong to an incomplete sequence; anything malformed there is
 * left for the accelerator or the state machine to reject.
 */
function incompleteTailStart(data: Uint8Array, start: number, end: number): number {
  for (let i = end - 1; i >= start && i >= end - 3; i--) {
    const byte = data[i]!;
    if (byte < 0x80) return end;
    if (byte >= 0xc0) return i + sequenceLength(byte) > end ? i : end;
  }
  return end;
}

/**
 * Streaming UTF-8 validator for one text message at a time (RFC 6455 §8.1): feed the payload pieces in
 * order, then call {@link Utf8Validator.end}. Its whole state is one small integer.
 */
export class Utf8Validator {
  private state = ACCEPT;

  /**
   * Returns false as soon as the bytes seen so far can no longer be the prefix of valid UTF-8, in the
   * very piece where that happens (e.g. `F4 90` fails at `90`), and keeps returning false until reset.
   */
  feed(data: Uint8Array): boolean {
    if (this.state === REJECT) return false;
    this.state =
      accelerator !== null && data.length >= ACCELERATE_MIN
        ? scanAccelerated(accelerator, data, this.state)
        : scan(data, this.state);
    return this.state !== REJECT;
  }

  /** True when the bytes fed so far are valid and end on a character boundary. Resets the state. */
  end(): boolean {
    const complete = this.state === ACCEPT;
    this.state = ACCEPT;
    return complete;
  }

  /** Forgets everything fed so far (e.g. when a message is abandoned). */
  reset(): void {
    this.state = ACCEPT;
  }
}
