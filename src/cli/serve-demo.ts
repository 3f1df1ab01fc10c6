/**
 * The chat demo of `conduit serve` on `/`: the page, its stylesheet, its browser modules, and the hub
 * client SDK as the browser loads it (the compiled ES modules of dist/src/hub-client, as they are). Every
 * file is its own exact route, from an allow list fixed at start: no request path ever becomes a file
 * path, so there is nothing to traverse.
 * @module
 */
import { readdirSync } from 'node:fs';
import type { TopicRule } from '../hub/options.js';
import {
  DASHBOARD_ICON_SVG,
  type DashboardFileAnswer,
  moduleAnswer,
  textAnswer,
} from '../observability/dashboard/dashboard-assets.js';
import type { Route } from './serve-routes.js';
import { CHAT_HTML } from './web/chat-page.js';
import { DEMO_CSS } from './web/page-style.js';

/**
 * The chat rooms (`chat.<room>`) track presence, whatever `--presence` says: the page lists who is in
 * each room. Their history follows the defaults (or `--history-size`/`--history-ttl`).
 */
export const CHAT_TOPIC_RULE: TopicRule = { match: 'chat.>', presence: true };

/** Where the browser modules are compiled to, next to this file (dist/src/cli/web/). */
const WEB_DIR = new URL('./web/', import.meta.url);
/** The compiled hub client SDK (dist/src/hub-client/). */
const SDK_DIR = new URL('../hub-client/', import.meta.url);

/**
 * A route with one of the dashboard's answers: the chat's files get the same headers (a strict
 * Content-Security-Policy on pages, no caching without revalidation, no sniffing, no referrer).
 */
function answerRoute(path: string, answer: DashboardFileAnswer, name?: string): Route {
  const route: Route = { path, handle: (_request, response) => answer(response) };
  if (name !== undefined) route.name = name;
  return route;
}

/** An HTML page at `path`, printed at start as `name: URL`. */
export function pageRoute(path: string, name: string, html: string): Route {
  return answerRoute(path, textAnswer('text/html; charset=utf-8', html), name);
}

/** A route serving one compiled ES module, read at each request (a rebuild shows without a restart). */
function fileRoute(path: string, file: URL): Route {
  return answerRoute(path, moduleAnswer(file));
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
  answerRoute('/css/demo.css', textAnswer('text/css; charset=utf-8', DEMO_CSS)),
  // The pages' icon is the dashboard's: a request for it should not end in a 404.
  answerRoute('/favicon.svg', textAnswer('image/svg+xml', DASHBOARD_ICON_SVG)),
  ...PAGE_MODULES.map((name) => fileRoute(`/js/web/${name}.js`, new URL(`${name}.js`, WEB_DIR))),
  ...sdkRoutes(),
];
