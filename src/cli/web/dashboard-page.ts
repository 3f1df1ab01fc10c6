/**
 * The HTML of the live dashboard (served on `/dashboard`): a header and an empty grid that
 * dashboard-app.ts fills with whatever sections the feed's snapshots hold.
 * @module
 */

/** The dashboard page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conduit dashboard</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="/css/demo.css">
<script type="module" src="/js/web/dashboard-app.js"></script>
</head>
<body>
<header class="bar">
  <div>
    <h1 id="title">Conduit dashboard</h1>
    <p id="subtitle" class="subtitle"></p>
  </div>
  <p id="status" class="status" role="status" data-state="connecting">
    <span class="dot" aria-hidden="true"></span><span id="status-text">Connecting…</span>
  </p>
  <nav><a href="/">Chat demo</a></nav>
</header>
<noscript><p class="notice">The dashboard needs JavaScript.</p></noscript>
<p id="notice" class="notice" role="note" hidden></p>
<main id="sections" class="sections" aria-live="off"></main>
</body>
</html>
`;
