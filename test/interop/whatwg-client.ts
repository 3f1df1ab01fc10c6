/**
 * Runs the WHATWG scenarios with the runtime's global `WebSocket` (undici in Node >= 22) against each
 * BASE_URL given, and prints `{ node, reports }` (one report per base, in order) as one JSON line.
 * Launched by undici.test.ts as `npx -y node@24 dist/test/interop/whatwg-client.js BASE_URL...` when the
 * tests run on a Node without a global WebSocket.
 */
import { runScenarios } from './whatwg-scenarios.js';

const bases = process.argv.slice(2);
if (bases.length === 0 || typeof globalThis.WebSocket !== 'function') {
  process.stderr.write('usage: node whatwg-client.js BASE_URL... (on a Node with a global WebSocket)\n');
  process.exit(2);
}
const reports = [];
for (const base of bases) {
  reports.push(await runScenarios((url, protocols) => new WebSocket(url, protocols), base));
}
process.stdout.write(`${JSON.stringify({ node: process.version, reports })}\n`);
