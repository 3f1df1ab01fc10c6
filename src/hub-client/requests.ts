/**
 * Checks of the arguments of `HubClient.publish` and `presence`, done at the call so that mistakes
 * fail there rather than as an asynchronous error from the hub.
 * @module
 */
import { HubError } from './errors.js';
import type { PublishOptions } from './events.js';
import type { OutboxPublish } from './outbox.js';
import { topicProblem } from './topics.js';

/** Longest string id the protocol accepts. */
const MAX_ID_LENGTH = 128;

function validId(id: unknown): boolean {
  if (typeof id === 'number') return Number.isFinite(id);
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH;
}

/** The HubError `invalid_topic` for a bad topic (a pattern is bad unless `allowPattern`), or null. */
export function topicError(topic: string, allowPattern: boolean): HubError | null {
  const problem = topicProblem(topic, allowPattern);
  return problem === null
    ? null
    : new HubError('invalid_topic', `topic ${JSON.stringify(topic)} ${problem}`, { topic });
}

/** The HubError `closed` of a request made on a closed client. */
export function closedError(topic: string): HubError {
  return new HubError('closed', 'the client is closed', { topic });
}

function serialize(topic: string, data: unknown): string | HubError {
  try {
    const json = JSON.stringify(data);
    return json === undefined
      ? new HubError('invalid_argument', 'data is not a JSON value', { topic })
      : json;
  } catch (error) {
    return new HubError('invalid_argument', 'data is not serializable as JSON', { topic, cause: error });
  }
}

/** Validates a publish and serializes its data (once, now); a HubError says what is wrong. */
export function publishRequest(
  topic: string,
  data: unknown,
  options: PublishOptions,
): OutboxPublish | HubError {
  const problem = topicError(topic, false);
  if (problem !== null) return problem;
  const dataJson = serialize(topic, data);
  if (dataJson instanceof HubError) return dataJson;
  const { id, echo } = options;
  if (id !== undefined && !validId(id)) {
    return new HubError('invalid_argument', 'id must be 1–128 characters or a finite number', { topic });
  }
  return { topic, dataJson, ack: options.ack === true, id, echo: echo !== false };
}
