/**
 * Conduit's WebSocketServer against Node's global `WebSocket` (undici). On Node >= 22 the scenarios
 * run in this process; on older Node they run in Node 24, fetched and cached by `npx -y node@24`
 * (whatwg-client.ts prints a JSON report that the checks read).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InteropServer, TAKEOVER } from './conduit-peer.js';
import { ChildProcesses, lastJsonLine, missingPeer } from './helpers.js';
import { MODES, type Mode, whatwgTests } from './whatwg-checks.js';
import {
  runScenario,
  type ScenarioName,
  type ScenarioResult,
  type WebSocketLike,
} from './whatwg-scenarios.js';

const CLIENT_SCRIPT = join(import.meta.dirname, 'whatwg-client.js');
const NPX_NODE = ['-y', 'node@24'];
const inProcess =
  Number(process.versions.node.split('.')[0]) >= 22 && typeof globalThis.WebSocket === 'function';

/** Node 24 through npx answers (it is fetched from the npm registry once, then cached). */
function npxNode24Works(): boolean {
  const probe = spawnSync(
    'npx',
    [...NPX_NODE, '-e', 'process.exit(typeof WebSocket === "function" ? 0 : 1)'],
    { stdio: 'ignore', timeout: 180_000 },
  );
  return probe.status === 0;
}

const skip =
  inProcess || npxNode24Works()
    ? false
    : missingPeer(
        'undici WebSocket interop needs Node >= 22, or Node 24 through `npx -y node@24` ' +
          '(npm and access to the npm registry, or its npx cache)',
      );

const RUNTIME = inProcess ? process.version : 'Node 24 via npx';
const TITLE = `WebSocketServer against Node's global WebSocket (undici, ${RUNTIME})`;

describe(TITLE, { skip }, () => {
  const children = new ChildProcesses();
  const servers = {} as Record<Mode, InteropServer>;
  let reports: Record<Mode, Record<ScenarioName, ScenarioResult>> | undefined;
  let version = process.version;

  const base = (mode: Mode) => `ws://127.0.0.1:${servers[mode].port}/${mode}`;

  before(async () => {
    servers.deflate = await InteropServer.start({ perMessageDeflate: true });
    servers.takeover = await InteropServer.start({ perMessageDeflate: TAKEOVER });
    servers.plain = await InteropServer.start({ perMessageDeflate: false });
    if (inProcess) return;
    const run = await children.run('npx', [...NPX_NODE, CLIENT_SCRIPT, ...MODES.map(base)], 180_000);
    assert.equal(run.code, 0, `node@24 client failed: ${run.stderr}`);
    const output = lastJsonLine<{ node: string; reports: Record<ScenarioName, ScenarioResult>[] }>(
      run.stdout,
    );
    version = output.node;
    reports = Object.fromEntries(MODES.map((mode, i) => [mode, output.reports[i]!])) as typeof reports;
  });
  after(async () => {
    await children.stopAll();
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  });

  it('runs on Node >= 22', () => {
    assert.ok(Number(version.slice(1).split('.')[0]) >= 22, version);
  });

  whatwgTests(() => ({
    run: async (mode, name) => {
      if (reports !== undefined) return reports[mode][name];
      const open = (url: string, protocols?: string[]) => new WebSocket(url, protocols) as WebSocketLike;
      return runScenario(open, base(mode), name);
    },
    server: (mode) => servers[mode],
    // undici inflates what it receives but sends uncompressed (allowed: RFC 7692 §6 leaves it to the sender).
    compressesSends: false,
  }));
});
