/**
 * The engines behind the hub: the {@link Engine} interface and its implementations, plus the topic
 * syntax and pattern matching they share with the hub.
 * @module
 */

export type {
  Engine,
  EngineErrorCode,
  EngineHandler,
  HistoryOptions,
  HistoryQuery,
  HistoryResult,
  PresenceEntry,
  Publication,
  PublishOptions,
  PublishResult,
  StreamPosition,
} from './engine.js';
export { EngineError } from './engine.js';
export type { MemoryEngineOptions, MemoryEngineStats } from './memory-engine.js';
export { MemoryEngine } from './memory-engine.js';
export { RedisEngine, type RedisEngineOptions } from './redis-engine.js';
export type { TopicMatcher } from './topic-pattern.js';
export { compilePattern, isPattern, isValidTopic, MAX_TOPIC_LENGTH } from './topic-pattern.js';
