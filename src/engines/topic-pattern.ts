/**
 * Topic names and subscription patterns (docs/hub-protocol.md): 1–256 characters of
 * `A–Z a–z 0–9 . _ - : / @ =`, segments separated by `.`, no empty segment. A pattern may also use `*` as a
 * whole segment (exactly one segment) and `>` as its last segment (one or more segments).
 * Shared by the hub (validation) and the engines (matching).
 * @module
 */

/** Longest topic or pattern, in characters. */
export const MAX_TOPIC_LENGTH = 256;

/** One segment of a concrete topic: at least one allowed character, no separator. */
const SEGMENT = /^[A-Za-z0-9_\-:/@=]+$/;

/** A topic or pattern matcher. */
export type TopicMatcher = (topic: string) => boolean;

/** True when `topic` uses a wildcard segment (`*` or `>`), i.e. it is a pattern, not a concrete topic. */
export function isPattern(topic: string): boolean {
  for (const segment of topic.split('.')) {
    if (segment === '*' || segment === '>') return true;
  }
  return false;
}

/**
 * True when `topic` follows the topic syntax. With `allowPattern`, wildcard segments are accepted too
 * (`*` anywhere, `>` only last), which is what a subscription may name.
 */
export function isValidTopic(topic: string, allowPattern = false): boolean {
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH) return false;
  const segments = topic.split('.');
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const segment = segments[i]!;
    if (SEGMENT.test(segment)) continue;
    // Wildcards count only as whole segments: `a*` or `>.x` are invalid.
    const wildcard = segment === '*' || (segment === '>' && i === last);
    if (!allowPattern || !wildcard) return false;
  }
  return true;
}

/**
 * Compiles a pattern (or a concrete topic, which matches only itself) into a matcher of concrete topics.
 * The matcher is a single regular expression test, cheap enough to run once per publication per pattern.
 * @throws TypeError when `pattern` is not a valid topic or pattern.
 */
export function compilePattern(pattern: string): TopicMatcher {
  if (!isValidTopic(pattern, true)) throw new TypeError(`Invalid topic pattern: ${JSON.stringify(pattern)}`);
  if (!isPattern(pattern)) return (topic) => topic === pattern;
  // A validated segment holds no character that is special in a regular expression, so literal segments
  // need no escaping; only the `.` separators do.
  const parts = pattern.split('.').map((segment) => {
    if (segment === '*') return '[^.]+';
    if (segment === '>') return '[^.]+(?:\\.[^.]+)*';
    return segment;
  });
  const regex = new RegExp(`^${parts.join('\\.')}$`);
  return (topic) => regex.test(topic);
}
