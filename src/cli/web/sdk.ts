/**
 * The part of the hub client SDK (`conduit/hub-client`) the chat page uses, and its loading. The page
 * loads the SDK's compiled modules from the server by URL, as any page would; these structural types
 * describe what it relies on (the demo's browser test checks that the real `HubClient` fits them).
 * @module
 */

/** Where `conduit serve` serves the SDK's entry module. */
export const SDK_URL = '/js/hub-client/index.js';

/** A position in a topic's stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** What `onSubscribed` receives. */
export interface SubscribedInfo extends StreamPosition {
  topic: string;
  /** The subscribe carried `since`. */
  resumed: boolean;
  /** Every message after `since` follows. */
  recovered: boolean;
}

/** Where a message came from. */
export interface MessageMeta extends StreamPosition {
  topic: string;
}

/** A `join` or `leave`. */
export interface PresenceEvent {
  topic: string;
  client: string;
  user: string;
}

/** One connection present in a topic. */
export interface PresenceEntry {
  client: string;
  user: string;
}

/** Options and handlers of a subscription. */
export interface SubscribeOptions {
  since?: StreamPosition;
  /** Resume after a reconnect (default true). */
  recover?: boolean;
  onMessage?(data: unknown, meta: MessageMeta): void;
  onJoin?(event: PresenceEvent): void;
  onLeave?(event: PresenceEvent): void;
  onSubscribed?(info: SubscribedInfo): void;
  onError?(error: Error): void;
}

/** A subscription. */
export interface SubscriptionLike {
  unsubscribe(): void;
  readonly position: StreamPosition | null;
}

/** The client's connection states. */
export type ClientState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** A hub client. */
export interface HubClientLike {
  readonly state: ClientState;
  readonly clientId: string;
  connect(): void;
  on(event: 'state', listener: (event: { state: ClientState; previous: ClientState }) => void): unknown;
  on(event: 'reconnecting', listener: (event: { attempt: number; delayMs: number }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  subscribe(topic: string, options?: SubscribeOptions): SubscriptionLike;
  publish(topic: string, data: unknown, options?: { ack?: boolean; echo?: boolean }): Promise<unknown>;
  presence(topic: string): Promise<PresenceEntry[]>;
}

/** The `HubClient` constructor. */
export type HubClientConstructor = new (url: string) => HubClientLike;

/** Loads the SDK from the server; rejects when it is not there (not built). */
export async function loadHubClient(): Promise<HubClientConstructor> {
  // A string-typed specifier: the compiler must not try to resolve the URL as a module of this tree.
  const url: string = SDK_URL;
  const sdk = (await import(url)) as { HubClient?: HubClientConstructor };
  if (typeof sdk.HubClient !== 'function') throw new Error(`${SDK_URL} exports no HubClient`);
  return sdk.HubClient;
}
