/**
 * Topic syntax of the `conduit.v1` protocol, checked on the client so that a typo fails at the call
 * site instead of as an asynchronous `invalid_topic` from the hub.
 * @module
 */

/** Characters of a topic (docs/hub-protocol.md): letters, digits and `. _ - : / @ =`. */
const TOPIC = /^[A-Za-z0-9._\-:/@=]{1,256}$/;
const SEGMENT = /^[A-Za-z0-9_\-:/@=]+$/;
const MAX_TOPIC_LENGTH = 256;

/** True when `topic` is a subscription pattern: a `*` segment, or a `>` segment. */
export function isPattern(topic: string): boolean {
  return topic.split('.').some((segment) => segment === '*' || segment === '>');
}

/** Checks a pattern's segments: `*` anywhere, `>` only last, other segments plain. */
function patternProblem(topic: string): string | null {
  if (topic.length > MAX_TOPIC_LENGTH) return 'is longer than 256 characters';
  const segments = topic.split('.');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '*' || (segment === '>' && i === segments.length - 1)) continue;
    if (!SEGMENT.test(segment)) return `has an invalid segment '${segment}'`;
  }
  return null;
}

/**
 * Why `topic` is not acceptable, or null when it is. Patterns are accepted only when `allowPattern`
 * (subscriptions); publish and presence need a concrete topic.
 */
export function topicProblem(topic: unknown, allowPattern: boolean): string | null {
  if (typeof topic !== 'string') return 'is not a string';
  if (isPattern(topic)) return allowPattern ? patternProblem(topic) : 'is a pattern, not a topic';
  return TOPIC.test(topic) ? null : 'must be 1–256 characters of A–Z a–z 0–9 . _ - : / @ =';
}
