/**
 * The HTML of the live dashboard: a header and an empty grid that dashboard-app.ts fills with whatever
 * sections the feed's snapshots hold. Markup only, no inline script or style, so that the page runs
 * under a strict Content-Security-Policy. Where its modules and stylesheet are served, and which pages
 * the header links to, differ per server: they are options.
 * @module
 */
import { escapeHtml, pageHead } from './html-page.js';

/** A link in the page's header. */
export interface DashboardLink {
  href: string;
  text: string;
}

/** Where a server serves the page's files, and what its header links to. */
export interface DashboardPageOptions {
  /** URL path of the folder the browser modules are served from, ending with `/` (`/js/web/`). */
  modules: string;
  /** URL path of the stylesheet ({@link DASHBOARD_CSS}, or a sheet that includes it). */
  stylesheet: string;
  /** URL path of the icon. */
  icon: string;
  /** Other pages of the same server. Default: none. */
  links?: readonly DashboardLink[];
}

function navigation(links: readonly DashboardLink[]): string {
  if (links.length === 0) return '';
  const anchors = links.map((link) => `<a href="${escapeHtml(link.href)}">${escapeHtml(link.text)}</a>`);
  return `\n  <nav>${anchors.join(' · ')}</nav>`;
}

/** The dashboard page for a server that serves its files as `options` says. */
export function dashboardHtml(options: DashboardPageOptions): string {
  const head = pageHead({
    title: 'Conduit dashboard',
    icon: options.icon,
    stylesheet: options.stylesheet,
    script: `${options.modules}dashboard-app.js`,
  });
  return `${head}<header class="bar">
  <div>
    <h1 id="title">Conduit dashboard</h1>
    <p id="subtitle" class="subtitle"></p>
  </div>
  <p id="status" class="status" role="status" data-state="connecting">
    <span class="dot" aria-hidden="true"></span><span id="status-text">Connecting…</span>
  </p>${navigation(options.links ?? [])}
</header>
<noscript><p class="notice">The dashboard needs JavaScript.</p></noscript>
<p id="notice" class="notice" role="note" hidden></p>
<main id="sections" class="sections" aria-live="off"></main>
</body>
</html>
`;
}
