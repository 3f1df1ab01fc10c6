/**
 * Topic permissions carried by a token (the JWT's `permissionsClaim`): each entry is `sub:<topic or
 * pattern>`, `pub:<topic or pattern>`, or a bare topic/pattern granting both. A session with permissions
 * may subscribe or publish only where an entry allows it; a session without (no claim configured)
 * is governed by the ACL hooks alone.
 * @module
 */
import { compilePattern, isPattern, isValidTopic } from '../engines/topic-pattern.js';

/** What a session may do, compiled once per session. */
export interface TopicPermissions {
  canSubscribe(topic: string): boolean;
  canPublish(topic: string): boolean;
}

type Matcher = (topic: string) => boolean;

function matcherOf(pattern: string): Matcher | null {
  if (!isValidTopic(pattern, true)) return null;
  return isPattern(pattern) ? compilePattern(pattern) : (topic: string) => topic === pattern;
}

/**
 * Whether `granted` (a pattern) covers `wanted` (a topic, or a pattern the client subscribes to): a
 * subscription pattern is allowed only when granted verbatim, since a narrower grant cannot cover it.
 */
function covers(matcher: Matcher, granted: string, wanted: string): boolean {
  return isPattern(wanted) ? granted === wanted || granted === '>' : matcher(wanted);
}

/** Compiles a token's permission entries; unparseable entries grant nothing. */
export function compilePermissions(entries: readonly string[]): TopicPermissions {
  const subscribe: [Matcher, string][] = [];
  const publish: [Matcher, string][] = [];
  for (const entry of entries) {
    const action = entry.startsWith('sub:') ? 'sub' : entry.startsWith('pub:') ? 'pub' : 'both';
    const pattern = action === 'both' ? entry : entry.slice(4);
    const matcher = matcherOf(pattern);
    if (matcher === null) continue;
    if (action !== 'pub') subscribe.push([matcher, pattern]);
    if (action !== 'sub') publish.push([matcher, pattern]);
  }
  return {
    canSubscribe: (topic) => subscribe.some(([matcher, granted]) => covers(matcher, granted, topic)),
    canPublish: (topic) => publish.some(([matcher, granted]) => covers(matcher, granted, topic)),
  };
}
