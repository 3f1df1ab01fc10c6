/**
 * The dashboard's files as a server answers them: the browser modules compiled next to this file
 * (dist/src/observability/dashboard/) from a fixed allow list, the icon, and the headers that keep the
 * page under a strict Content-Security-Policy. Each file is an exact path mapped to an answer: no
 * request path ever becomes a file path, so there is nothing to traverse. `conduit serve`'s chat demo
 * answers its own files with the same functions, under the same headers.
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

/**
 * The browser modules of the page, by name. This folder holds Node-side files too: only these are
 * ever served (dashboard-types compiles to nothing the browser loads: it is imported for types only).
 */
export const DASHBOARD_MODULES: readonly string[] = [
  'dashboard-app',
  'dashboard-render',
  'dom',
  'format',
  'sparkline',
];

/** The page's icon: a dot in the accent colour (a request for it should not end in a 404). */
export const DASHBOARD_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="6" fill="#2457c5"/></svg>';

/** What the page may load: its own scripts and styles, and WebSockets to its server (CSP Level 3 'self'). */
export const DASHBOARD_PAGE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of every file of the page. */
const FILE_HEADERS = {
  // Pages and modules change with every build: revalidate rather than run yesterday's code.
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Answers one GET of a dashboard file. */
export type DashboardFileAnswer = (response: ServerResponse) => void | Promise<void>;

/** The compiled file of browser module `name` (one of {@link DASHBOARD_MODULES}). */
export function dashboardModuleFile(name: string): URL {
  return new URL(`${name}.js`, import.meta.url);
}

/** An answer with a fixed text; an HTML page also gets {@link DASHBOARD_PAGE_POLICY}. */
export function textAnswer(contentType: string, text: string): DashboardFileAnswer {
  const page = contentType.startsWith('text/html')
    ? { 'content-security-policy': DASHBOARD_PAGE_POLICY }
    : {};
  const headers = { ...FILE_HEADERS, ...page, 'content-type': contentType };
  return (response) => {
    response.writeHead(200, headers);
    response.end(text);
  };
}

/** An answer with a compiled ES module, read at each request (a rebuild shows without a restart). */
export function moduleAnswer(file: URL): DashboardFileAnswer {
  return async (response) => {
    const code = await readFile(file).catch(() => null);
    if (code === null) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Not built: run npm run build\n');
      return;
    }
    response.writeHead(200, { ...FILE_HEADERS, 'content-type': 'text/javascript; charset=utf-8' });
    response.end(code);
  };
}

/** Every browser module of the page, served as `<folder><name>.js` (`folder` ends with `/`). */
export function dashboardModuleAnswers(folder: string): [path: string, answer: DashboardFileAnswer][] {
  return DASHBOARD_MODULES.map((name) => [`${folder}${name}.js`, moduleAnswer(dashboardModuleFile(name))]);
}
