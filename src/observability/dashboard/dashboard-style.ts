/**
 * The dashboard's stylesheet: system fonts, light and dark schemes from the user's preference, visible
 * focus, and states that never rely on colour alone. Its first part styles the page's frame (header,
 * panels, status, notices) and is shared by every page of `conduit serve`, whose sheet extends this one.
 * @module
 */

/** The page frame: colours, type, header, panels, status and notices. */
const PAGE_BASE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --panel: #ffffff; --text: #1b1f24; --muted: #5b6470; --line: #d9dde3;
  --accent: #2457c5; --accent-text: #ffffff; --ok: #1a7f37; --warn: #9a6700; --bad: #c62828;
  --spark: #2457c5; --spark-fill: rgba(36, 87, 197, 0.12); --mine: #eef3ff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  font-size: 16px; line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1217; --panel: #171b22; --text: #e6e9ee; --muted: #9aa4b2; --line: #2a313c;
    --accent: #7aa2ff; --accent-text: #0f1217; --ok: #4ac26b; --warn: #d4a72c; --bad: #ff6b6b;
    --spark: #7aa2ff; --spark-fill: rgba(122, 162, 255, 0.15); --mine: #1c2538;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); min-height: 100vh; }
h1, h2, h3 { line-height: 1.2; margin: 0; }
h1 { font-size: 1.25rem; }
h2 { font-size: 1rem; }
a { color: var(--accent); }
button, input { font: inherit; color: inherit; }
button {
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text);
  border-radius: 6px; padding: 0.4rem 0.9rem; cursor: pointer;
}
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
button:disabled { opacity: 0.5; cursor: default; }
input {
  border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 0.4rem 0.6rem;
  min-width: 0;
}
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
[hidden] { display: none !important; }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; margin: -1px; padding: 0; border: 0;
}
.bar {
  display: flex; align-items: center; gap: 1rem; flex-wrap: wrap;
  padding: 0.75rem 1.25rem; background: var(--panel); border-bottom: 1px solid var(--line);
}
.bar nav { margin-left: auto; }
.subtitle { color: var(--muted); font-size: 0.875rem; margin: 0; }
.status { display: inline-flex; align-items: center; gap: 0.4rem; margin: 0; font-size: 0.875rem; }
.status .dot { width: 0.7rem; height: 0.7rem; border-radius: 50%; background: var(--warn); }
.status[data-state="connected"] .dot { background: var(--ok); }
.status[data-state="disconnected"] .dot, .status[data-state="closed"] .dot { background: var(--bad); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; }
.note { color: var(--muted); font-size: 0.8125rem; margin: 0.25rem 0 0.75rem; }
.notice {
  margin: 1rem 1.25rem 0; padding: 0.6rem 0.9rem; border-radius: 8px;
  border: 1px solid var(--warn); background: var(--panel);
}
`;

/** The dashboard grid, stat cards, sparklines, tables and event lists. */
const DASHBOARD_PARTS_CSS = `
/* dashboard */
.sections {
  display: grid; gap: 1rem; padding: 1rem 1.25rem;
  grid-template-columns: repeat(auto-fill, minmax(min(100%, 24rem), 1fr));
}
.stats { display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); }
.stat { border: 1px solid var(--line); border-radius: 8px; padding: 0.5rem 0.6rem; margin: 0; }
.stat .label { color: var(--muted); font-size: 0.8125rem; display: block; }
.stat .value { font-size: 1.35rem; font-variant-numeric: tabular-nums; font-weight: 600; display: block; }
.stat .hint { color: var(--muted); font-size: 0.75rem; display: block; }
.stat[data-health="warn"] .value { color: var(--warn); }
.stat[data-health="bad"] .value { color: var(--bad); }
.stat svg { display: block; width: 100%; height: 2rem; margin-top: 0.25rem; }
.stat svg .line { fill: none; stroke: var(--spark); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.stat svg .area { fill: var(--spark-fill); stroke: none; }
/* A table wider than its panel scrolls inside it rather than spilling over the next one. */
.panel > .body { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: 0.875rem; }
th, td { text-align: left; padding: 0.3rem 0.4rem; border-bottom: 1px solid var(--line); }
thead th { white-space: nowrap; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.events { list-style: none; margin: 0; padding: 0; font-size: 0.875rem; max-height: 16rem; overflow-y: auto; }
.events li { padding: 0.25rem 0; border-bottom: 1px solid var(--line); }
.events time { color: var(--muted); margin-right: 0.5rem; font-variant-numeric: tabular-nums; }
.events .level { font-weight: 600; margin-right: 0.4rem; text-transform: uppercase; font-size: 0.75rem; }
.events li[data-level="warn"] .level { color: var(--warn); }
.events li[data-level="error"] .level { color: var(--bad); }
.empty { color: var(--muted); font-size: 0.875rem; margin: 0; }
`;

/** The whole stylesheet of the dashboard page. */
export const DASHBOARD_CSS = PAGE_BASE_CSS + DASHBOARD_PARTS_CSS;
