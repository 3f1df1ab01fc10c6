/**
 * The chat demo of `conduit serve` on `/`: the page, its stylesheet, its browser modules, and the hub
 * client SDK as the browser loads it (the compiled ES modules of dist/src/hub-client, as they are). Every
 * file is its own exact route, from an allow list fixed at start: no request path ever becomes a file
 * path, so there is nothing to traverse.
 * @module
 */
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TopicRule } from '../hub/options.js';
import type { Route } from './serve-routes.js';
import { CHAT_HTML } from './web/chat-page.js';
import { DEMO_CSS } from './web/page-style.js';

/**
 * The chat rooms (`chat.<room>`) track presence, whatever `--presence` says: the page lists who is in
 * each room. Their history follows the defaults (or `--history-size`/`--history-ttl`).
 */
export const CHAT_TOPIC_RULE: TopicRule = { match: 'chat.>', presence: true };

/** The pages' icon: a dot in the accent colour (a request for it should not end in a 404). */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#2457c5"/></svg>';

/** Where the browser modules are compiled to, next to this file (dist/src/cli/web/). */
const WEB_DIR = new URL('./web/', import.meta.url);
/** The compiled hub client SDK (dist/src/hub-client/). */
const SDK_DIR = new URL('../hub-client/', import.meta.url);

/** What a page may load: its own scripts and styles, and WebSockets to this server (CSP Level 3 'self'). */
const PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const COMMON_HEADERS = {
  // Pages and modules change with every build: revalidate rather than run yesterday's SDK.
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** A route answering a fixed text. */
function textRoute(path: string, contentType: string, text: string, name?: string): Route {
  const headers = { ...COMMON_HEADERS, 'content-type': contentType };
  const page = contentType.startsWith('text/html') ? { 'content-security-policy': PAGE_POLICY } : {};
  const route: Route = {
    path,
    handle: (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(200, { ...headers, ...page });
      response.end(text);
    },
  };
  if (name !== undefined) route.name = name;
  return route;
}

/** An HTML page at `path`, printed at start as `name: URL`. */
export function pageRoute(path: string, name: string, html: string): Route {
  return textRoute(path, 'text/html; charset=utf-8', html, name);
}

/** A route serving one compiled ES module, read at each request (a rebuild shows without a restart). */
function fileRoute(path: string, file: URL): Route {
  return {
    path,
    handle: async (_request: IncomingMessage, response: ServerResponse) => {
      const code = await readFile(file).catch(() => null);
      if (code === null) {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('Not built: run npm run build\n');
        return;
      }
      response.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'text/javascript; charset=utf-8' });
      response.end(code);
    },
  };
}

/**
 * Routes `/js/hub-client/NAME.js` for every module of the compiled SDK, listed once at start. Names are
 * checked to be plain module names (no separators, no dots but the suffix): maps and typings stay out.
 */
function sdkRoutes(): Route[] {
  let names: string[];
  try {
    names = readdirSync(SDK_DIR).filter((name) => /^[a-z][a-z0-9-]*\.js$/.test(name));
  } catch {
    names = []; // not built: the page reports the SDK as missing
  }
  return names.sort().map((name) => fileRoute(`/js/hub-client/${name}`, new URL(name, SDK_DIR)));
}

/**
 * The browser modules of the chat page (src/cli/web/ holds Node-side files too). The helpers it shares
 * with the dashboard (dom, format) are served in the same folder by the dashboard's routes.
 */
const PAGE_MODULES = ['chat-app', 'chat-room', 'chat-roster', 'chat-store', 'chat-view', 'sdk'];

/** The chat page on `/`, the stylesheet of both pages, the chat's browser modules, and the SDK's modules. */
export const DEMO_ROUTES: readonly Route[] = [
  pageRoute('/', 'chat', CHAT_HTML),
  textRoute('/css/demo.css', 'text/css; charset=utf-8', DEMO_CSS),
  textRoute('/favicon.svg', 'image/svg+xml', FAVICON_SVG),
  ...PAGE_MODULES.map((name) => fileRoute(`/js/web/${name}.js`, new URL(`${name}.js`, WEB_DIR))),
  ...sdkRoutes(),
];
