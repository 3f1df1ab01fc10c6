/**
 * `conduit bench --report FILE.html`: one self-contained HTML page (inline CSS and SVG, no script, no
 * external asset) with the parameters, the results table and the latency histogram, to attach to an
 * issue or keep next to a release.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { escapeXml, histogramSvg } from './bench-chart.js';
import type { BenchResult } from './bench-result.js';
import { parameterLine, type Row, resultRows } from './bench-table.js';

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:800px;color:#1f2328}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse}td,th{padding:.2rem .8rem;border-bottom:1px solid #d0d7de;text-align:left}
td.v{text-align:right;font-variant-numeric:tabular-nums}svg{max-width:100%;height:auto}
footer{margin-top:2rem;color:#656d76;font-size:.85rem}`;

function table(rows: readonly Row[]): string {
  const body = rows
    .map(
      ([label, value]) =>
        `<tr><th>${escapeXml(label.trim())}</th><td class="v">${escapeXml(value)}</td></tr>`,
    )
    .join('\n');
  return `<table>\n${body}\n</table>`;
}

function parameterRows(result: BenchResult): Row[] {
  const p = result.parameters;
  const rows: Row[] = [
    ['mode', result.mode],
    ['URL', result.url],
    ['started', result.startedAt],
    [result.mode === 'subscribe' ? 'subscribers' : 'connections', String(p.connections)],
    ['duration', `${p.durationSeconds} s`],
  ];
  if (result.mode !== 'connect') rows.push(['message size', `${p.size} B`]);
  if (p.inFlight !== null) rows.push(['in flight per connection', String(p.inFlight)]);
  if (p.rate !== null) rows.push(['rate', `${p.rate} msgs/s`]);
  if (p.topic !== null) rows.push(['topic', p.topic]);
  rows.push(['permessage-deflate', p.deflate ? 'offered' : 'no']);
  return rows;
}

/** The report page. */
export function reportHtml(result: BenchResult): string {
  const title = `conduit bench --mode ${result.mode}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p>${escapeXml(`${result.url} — ${parameterLine(result)}`)}</p>
<h2>Parameters</h2>
${table(parameterRows(result))}
<h2>Results</h2>
${table(resultRows(result))}
<h2>Latency histogram</h2>
${histogramSvg(result.histogram, result.latencyMs)}
<footer>${result.latencyMs.count} samples in log-sized buckets (within 1.6 % of the true values).</footer>
</body>
</html>
`;
}

/** Writes the report to `file`. */
export function writeReport(file: string, result: BenchResult): void {
  writeFileSync(file, reportHtml(result));
}
