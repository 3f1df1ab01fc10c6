/**
 * Headless Chromium for the browser tests: the Debian package chromium (or `CHROMIUM_PATH`), driven by
 * playwright-core. A test that cannot find either fails under `CI=true` and is skipped loudly elsewhere,
 * naming what to install (see {@link missingPeer}).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before } from 'node:test';
import type { Browser } from 'playwright-core';
import { missingPeer } from '../client/helpers.js';
import { findExecutable } from '../interop/helpers.js';
import { withTimeout } from '../server/helpers.js';

/** The Chromium executable, when there is one. */
export const CHROMIUM: string | undefined = findExecutable([
  process.env.CHROMIUM_PATH ?? '',
  '/usr/bin/chromium',
]);

/** Headless, in containers (no sandbox, no GPU), without first-run and sync chatter. */
const BASE_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-sync'];

/** Extra flags of the interop tests: Chromium does no networking of its own while a scenario runs. */
export const QUIET_NETWORK_ARGS: readonly string[] = [
  '--disable-background-networking',
  '--disable-component-update',
];

function hasPlaywright(): boolean {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the Chromium tests of `what` (`the chat page test`) cannot run, or false when they can. Under
 * `CI=true` a missing browser or driver throws instead: CI must run every test.
 */
export function chromiumSkip(what: string): string | false {
  if (CHROMIUM === undefined) {
    return missingPeer(`headless Chromium is needed for ${what} (install the Debian package chromium)`);
  }
  if (!hasPlaywright()) {
    return missingPeer(
      'playwright-core is needed to drive Chromium (npm package playwright-core, a devDependency)',
    );
  }
  return false;
}

/** Starts headless Chromium with `extraArgs` besides the usual ones; give up after 30 s. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: [...BASE_ARGS, ...extraArgs], timeout: 30_000 });
}

/** Closes `browser` (when it started), waiting at most 10 s: a browser that hangs is only reported. */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  await withTimeout(browser?.close() ?? Promise.resolve(), 10_000, 'chromium close').catch((error) =>
    console.warn(`chromium did not close: ${error}`),
  );
}

/**
 * Launches Chromium (with `extraArgs`) before the tests of the enclosing `describe` and closes it after
 * them. Hooks run in the order they are registered: called first, the browser is up for the suite's own
 * `before` and closed before the suite's own `after` runs. Returns the browser, once launched.
 */
export function useChromium(extraArgs: readonly string[] = []): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchChromium(extraArgs);
  });
  after(() => closeChromium(browser));
  return () => {
    assert.ok(browser !== undefined, 'Chromium was launched');
    return browser;
  };
}
