/**
 * Metrics of `conduit serve`. One process: its registry. Cluster mode: a scrape reaches one worker (round
 * robin), which would make counters jump between workers' values; so the worker asks the primary, which
 * gathers every worker's metrics over IPC and sums them (prom-client's aggregation rules), and answers.
 * @module
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';

/** The exposition of `/metrics`. */
export interface MetricsText {
  contentType: string;
  text: string;
}

/** Metrics IPC from a worker: a scrape to answer, or this worker's share of one. */
export type WorkerMetricsMessage =
  | { conduit: 'scrape'; id: number }
  | { conduit: 'collected'; id: number; metrics: unknown[] };

/** Metrics IPC from the primary: collect your share, or here is the summed exposition. */
export type PrimaryMetricsMessage =
  | { conduit: 'collect'; id: number }
  | { conduit: 'scraped'; id: number; contentType: string; text: string };

/** How long the primary waits for the workers' shares (a dying worker must not hang a scrape). */
const GATHER_TIMEOUT_MS = 2000;
/** How long a worker waits for the primary's answer. */
const SCRAPE_TIMEOUT_MS = GATHER_TIMEOUT_MS + 1000;

/** A registry with the process metrics (CPU, memory, event loop, GC) already on it. */
export function createServeRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Reads a single process's metrics. */
export function localMetrics(registry: Registry): () => Promise<MetricsText> {
  return async () => ({ contentType: registry.contentType, text: await registry.metrics() });
}

function isMessage(message: unknown): message is { conduit: string; id: number } {
  return typeof message === 'object' && message !== null && 'conduit' in message && 'id' in message;
}

/**
 * In a worker: answers the primary's `collect` requests with `registry`'s metrics, and returns the scrape
 * function that asks the primary for every worker's sum.
 */
export function workerMetrics(registry: Registry): () => Promise<MetricsText> {
  const waiting = new Map<number, (answer: MetricsText) => void>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    const reply = message as PrimaryMetricsMessage;
    if (reply.conduit === 'collect') {
      void registry.getMetricsAsJSON().then((metrics) => {
        process.send?.({ conduit: 'collected', id: reply.id, metrics } satisfies WorkerMetricsMessage);
      });
    } else if (reply.conduit === 'scraped') {
      waiting.get(reply.id)?.({ contentType: reply.contentType, text: reply.text });
      waiting.delete(reply.id);
    }
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the primary did not answer the metrics request'));
      }, SCRAPE_TIMEOUT_MS);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      process.send?.({ conduit: 'scrape', id } satisfies WorkerMetricsMessage);
    });
}

interface Gathering {
  shares: unknown[][];
  pending: Set<Worker>;
  finish(): void;
}

/** In the primary: answers workers' scrapes with the sum of every ready worker's metrics. */
export class MetricsGatherer {
  private readonly gatherings = new Map<number, Gathering>();
  private next = 0;

  /** @param workers The workers to ask (those serving now). */
  constructor(private readonly workers: () => Worker[]) {}

  /** Handles a metrics message of `worker`; returns false when it is not one. */
  onMessage(worker: Worker, message: unknown): boolean {
    if (!isMessage(message)) return false;
    const request = message as WorkerMetricsMessage;
    if (request.conduit === 'scrape') this.gather(worker, request.id);
    else if (request.conduit === 'collected') this.collected(worker, request.id, request.metrics);
    else return false;
    return true;
  }

  /** A worker exited: stop waiting for its share. */
  forget(worker: Worker): void {
    for (const gathering of this.gatherings.values()) {
      if (gathering.pending.delete(worker) && gathering.pending.size === 0) gathering.finish();
    }
  }

  private gather(asker: Worker, askerId: number): void {
    const id = this.next++;
    const workers = this.workers().filter((worker) => worker.isConnected());
    const gathering: Gathering = {
      shares: [],
      pending: new Set(workers),
      finish: () => {
        clearTimeout(timer);
        this.gatherings.delete(id);
        const summed = AggregatorRegistry.aggregate(gathering.shares);
        void summed.metrics().then((text) => {
          if (!asker.isConnected()) return;
          const answer: PrimaryMetricsMessage = {
            conduit: 'scraped',
            id: askerId,
            contentType: summed.contentType,
            text,
          };
          asker.send(answer);
        });
      },
    };
    const timer = setTimeout(gathering.finish, GATHER_TIMEOUT_MS);
    this.gatherings.set(id, gathering);
    for (const worker of workers) worker.send({ conduit: 'collect', id } satisfies PrimaryMetricsMessage);
    if (workers.length === 0) gathering.finish();
  }

  private collected(worker: Worker, id: number, metrics: unknown[]): void {
    const gathering = this.gatherings.get(id);
    if (gathering === undefined || !gathering.pending.delete(worker)) return;
    gathering.shares.push(metrics);
    if (gathering.pending.size === 0) gathering.finish();
  }
}
