/**
 * The cluster primary of `conduit serve --workers N`: forks N workers that share the port (node:cluster,
 * round-robin), replaces a worker that dies (within a {@link RestartBudget}), sums their metrics for
 * `/metrics`, and on SIGINT/SIGTERM tells every worker to drain, waits for them, and exits.
 * @module
 */
import cluster, { type Worker } from 'node:cluster';
import { type AddressInfo, createServer } from 'node:net';
import type { Logger } from 'pino';
import type { ServeOptions } from './serve-args.js';
import { createServeLogger } from './serve-log.js';
import { MetricsGatherer } from './serve-metrics.js';
import { printEndpoints } from './serve-node.js';
import { RestartBudget } from './serve-restarts.js';
import { DRAIN_TIMEOUT_MS, onStopSignals } from './serve-shutdown.js';
import { PORT_ENV, type PrimaryLifeMessage, type WorkerLifeMessage } from './serve-worker.js';

/** The window of the restart budget; within it, at most twice as many restarts as workers. */
const RESTART_WINDOW_MS = 30_000;
/** Time the workers get to drain beyond their own bound, before the primary kills them. */
const KILL_GRACE_MS = 2000;

function isListening(message: unknown): message is WorkerLifeMessage {
  return (message as Partial<WorkerLifeMessage> | null)?.conduit === 'listening';
}

/** Supervises the workers of one `conduit serve`. */
class Primary {
  private readonly logger: Logger;
  private readonly budget: RestartBudget;
  /** Workers forked and not yet exited (cluster.workers may still list one that exited). */
  private readonly live = new Set<Worker>();
  private readonly ready = new Set<Worker>();
  private readonly gatherer = new MetricsGatherer(() => [...this.ready]);
  private port = 0;
  private everReady = false;
  private announced = false;
  private stopping = false;
  private drainFailed = false;

  constructor(private readonly options: ServeOptions) {
    this.logger = createServeLogger(options.logLevel, { role: 'primary' });
    this.budget = new RestartBudget(options.workers * 2, RESTART_WINDOW_MS);
  }

  /** Forks the workers on `port` (the one given, or a free one for 0). */
  start(port: number): void {
    this.port = port;
    cluster.schedulingPolicy = cluster.SCHED_RR;
    cluster.on('message', (worker, message: unknown) => this.onMessage(worker, message));
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    onStopSignals((reason) => this.stop(reason));
    for (let i = 0; i < this.options.workers; i++) this.fork();
  }

  private fork(): void {
    const worker = cluster.fork({ [PORT_ENV]: String(this.port) });
    this.live.add(worker);
    this.logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker started');
  }

  private onMessage(worker: Worker, message: unknown): void {
    if (this.gatherer.onMessage(worker, message) || !isListening(message)) return;
    if (this.stopping) {
      this.shutdown(worker);
      return;
    }
    this.ready.add(worker);
    this.everReady = true;
    if (this.announced || this.ready.size < this.options.workers) return;
    this.announced = true;
    printEndpoints(message.endpoints);
    this.logger.info({ port: message.port, workers: this.options.workers }, 'serving');
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.live.delete(worker);
    this.ready.delete(worker);
    this.gatherer.forget(worker);
    const fields = { worker: worker.id, workerPid: worker.process.pid, code, signal };
    if (this.stopping) {
      if (code !== 0) this.drainFailed = true;
      if (this.live.size === 0) this.finish();
      return;
    }
    if (!this.everReady) {
      // Not one worker came up: the engine or the port is unusable, and forking again would not fix it.
      this.logger.error(fields, 'worker failed before any worker served: giving up');
      this.killAll();
      process.exit(1);
    }
    const delay = this.budget.book();
    this.logger.warn({ ...fields, restartInMs: delay }, 'worker died: restarting');
    setTimeout(() => {
      if (!this.stopping) this.fork();
    }, delay).unref();
  }

  private stop(reason: string): void {
    if (this.stopping) {
      this.logger.warn({ reason }, 'stop requested again while draining: killing the workers');
      this.killAll();
      process.exit(1);
    }
    this.stopping = true;
    this.logger.info({ reason }, 'draining');
    if (this.live.size === 0) this.finish();
    // A worker still starting cannot hear it yet (its listener is not there): it is told when it reports.
    for (const worker of this.ready) this.shutdown(worker);
    setTimeout(() => {
      this.logger.error('workers did not drain in time: killing them');
      this.killAll();
      process.exit(1);
    }, DRAIN_TIMEOUT_MS + KILL_GRACE_MS).unref();
  }

  private shutdown(worker: Worker): void {
    if (worker.isConnected()) worker.send({ conduit: 'shutdown' } satisfies PrimaryLifeMessage);
    else worker.process.kill('SIGTERM');
  }

  private killAll(): void {
    for (const worker of this.live) worker.process.kill('SIGKILL');
  }

  private finish(): void {
    this.logger.info(this.drainFailed ? 'stopped (a worker did not drain cleanly)' : 'stopped');
    process.exit(this.drainFailed ? 1 : 0);
  }
}

/**
 * A port that is free on `host` now. Workers asking for port 0 would share one random port only as long
 * as one of them holds it; a fixed number survives all of them restarting.
 */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts the primary: forks the workers and supervises them until a signal stops it. */
export async function runPrimary(options: ServeOptions): Promise<void> {
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  new Primary(options).start(port);
}
