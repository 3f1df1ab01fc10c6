/**
 * What the request handlers need of their hub, as an interface (the handlers live in their own files).
 * @module
 */
import type { Engine } from '../engines/engine.js';
import type { HubStats } from './hub-stats.js';
import type { LocalTopics } from './local-topics.js';
import type { HubConfig } from './options.js';
import type { TopicPolicies } from './topic-policies.js';

/** The state of a hub shared by its sessions. */
export interface HubContext {
  readonly config: HubConfig;
  readonly engine: Engine;
  readonly policies: TopicPolicies;
  readonly topics: LocalTopics;
  readonly stats: HubStats;
  /** True once the engine has started. */
  readonly engineStarted: boolean;
  /** Settles when the engine has started (or failed to). */
  ready(): Promise<void>;
}
