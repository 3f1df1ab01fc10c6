/**
 * The admin listener: `GET /metrics` (Prometheus text), `GET /healthz` (200 while serving, 503 while
 * draining), `GET /status` (JSON: routes, upstreams and backends, listeners, configuration source and
 * load time), `POST /reload` (200 with the new load time, or 400 with the configuration errors while
 * the old configuration keeps serving) and `GET /dashboard` (a live page of the same numbers, see
 * gateway-dashboard.ts). Bind it to a private address: it has no authentication.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminConfig } from './config/types.js';
import {
  attachGatewayDashboardFeed,
  type GatewayDashboardFeed,
  gatewayDashboardFiles,
} from './gateway-dashboard.js';
import { listenerUrl } from './gateway-listeners.js';
import { answer, answerJson } from './gateway-reply.js';
import type { GatewayStatus } from './gateway-status.js';

/** Outcome of a reload. */
export type ReloadResult = { ok: true; loadedAt: string } | { ok: false; error: string };

/** What the admin endpoints read and do. */
export interface AdminHandlers {
  metrics(): Promise<{ contentType: string; text: string }>;
  status(): GatewayStatus;
  /** False while draining. */
  serving(): boolean;
  reload(): Promise<ReloadResult>;
  /** Unexpected failure of an endpoint (logged by the gateway). */
  failed(error: unknown, path: string): void;
}

type Endpoint = (res: ServerResponse) => void | Promise<void>;

/** The admin HTTP server. */
export class AdminServer {
  readonly config: AdminConfig;
  private readonly server: Server;
  private readonly endpoints: Record<string, { method: string; run: Endpoint }>;
  private readonly dashboard: GatewayDashboardFeed;

  constructor(config: AdminConfig, handlers: AdminHandlers) {
    this.config = config;
    this.endpoints = {
      '/metrics': {
        method: 'GET',
        run: async (res) => {
          const { contentType, text } = await handlers.metrics();
          // Scrapes must see fresh numbers, never a cached copy.
          res.writeHead(200, {
            'content-type': contentType,
            'content-length': String(Buffer.byteLength(text)),
            'cache-control': 'no-store',
          });
          res.end(text);
        },
      },
      '/healthz': {
        method: 'GET',
        run: (res) => (handlers.serving() ? answer(res, 200, 'ok') : answer(res, 503, 'draining')),
      },
      '/status': { method: 'GET', run: (res) => answerJson(res, 200, handlers.status()) },
      '/reload': {
        method: 'POST',
        run: async (res) => {
          const result = await handlers.reload();
          if (result.ok) answerJson(res, 200, result);
          else answer(res, 400, result.error);
        },
      },
    };
    for (const [path, run] of gatewayDashboardFiles()) this.endpoints[path] = { method: 'GET', run };
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        handlers.failed(error, req.url ?? '');
        answer(res, 500, 'Internal error');
      });
    });
    this.dashboard = attachGatewayDashboardFeed(this.server, handlers, (error) =>
      handlers.failed(error, '/dashboard/feed'),
    );
  }

  /** `http://host:port` once listening. */
  get url(): string {
    const address = this.server.address() as AddressInfo | null;
    return listenerUrl('http', this.config.host, address?.port ?? this.config.port);
  }

  /** Binds; rejects with the listen error. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting and closes its connections (a request in progress is cut). */
  close(): void {
    this.dashboard.close();
    this.server.close();
    this.server.closeAllConnections();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Drain the request body (POST /reload has none to read): the answer does not depend on it.
    req.resume();
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const endpoint = Object.hasOwn(this.endpoints, path) ? this.endpoints[path] : undefined;
    if (endpoint === undefined) {
      answer(res, 404, 'Not found: /metrics, /healthz, /status, POST /reload, /dashboard');
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (method !== endpoint.method) {
      answer(res, 405, `Use ${endpoint.method}`, { allow: endpoint.method });
      return;
    }
    await endpoint.run(res);
  }
}
