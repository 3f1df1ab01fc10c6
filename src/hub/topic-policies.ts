/**
 * Looks up the policy of a topic: the first matching rule, completed with the defaults. Lookups are
 * memoized per topic (bounded) because every publish and subscribe asks.
 * @module
 */
import { compilePattern, isPattern } from '../engines/topic-pattern.js';
import { DEFAULT_TOPIC_POLICY, type TopicPolicy, type TopicRule } from './options.js';

/** A topic's policy with every field set. */
export type ResolvedTopicPolicy = Required<TopicPolicy>;

interface CompiledRule {
  matches: (topic: string) => boolean;
  policy: ResolvedTopicPolicy;
}

/** Memo entries kept; beyond it the memo starts afresh (topics are client-chosen, so unbounded). */
const MEMO_LIMIT = 10_000;

/** The policy table of a hub. */
export class TopicPolicies {
  private readonly rules: CompiledRule[];
  private readonly memo = new Map<string, ResolvedTopicPolicy>();

  constructor(rules: readonly TopicRule[]) {
    this.rules = rules.map((rule) => {
      const { match, ...policy } = rule;
      const matches = isPattern(match) ? compilePattern(match) : (topic: string) => topic === match;
      return { matches, policy: { ...DEFAULT_TOPIC_POLICY, ...policy } };
    });
  }

  /** The policy of `topic` (a client-facing topic name, before tenant scoping). */
  of(topic: string): ResolvedTopicPolicy {
    let policy = this.memo.get(topic);
    if (policy !== undefined) return policy;
    policy = this.rules.find((rule) => rule.matches(topic))?.policy ?? DEFAULT_TOPIC_POLICY;
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(topic, policy);
    return policy;
  }
}
