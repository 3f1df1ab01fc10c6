/**
 * The import rule of the architecture (DESIGN.md): a layer imports only the layers below it, and the
 * parts of the protocol core that browsers use import nothing from Node.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Layers each layer may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  protocol: [],
  observability: ['protocol'],
  transport: ['protocol', 'observability'],
  server: ['transport', 'protocol', 'observability'],
  client: ['transport', 'protocol', 'observability'],
  engines: ['protocol', 'observability'],
  hub: ['server', 'engines', 'transport', 'protocol', 'observability'],
  'hub-client': ['protocol'],
  gateway: ['server', 'client', 'transport', 'protocol', 'observability'],
  cli: ['hub', 'engines', 'gateway', 'server', 'client', 'transport', 'protocol', 'observability'],
};

/** Protocol files that may use Node built-ins: zlib for deflate, crypto for the handshake's SHA-1. */
const NODE_ONLY_PROTOCOL = new Set(['permessage-deflate.ts', 'deflate-codec.ts', 'handshake.ts']);

function sources(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...sources(path));
    else if (name.endsWith('.ts')) found.push(path);
  }
  return found;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  // Only statements at the start of a line count: comments may quote import lines.
  return [...text.matchAll(/^(?:import|export)[^'";]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!);
}

test('each layer imports only the layers below it', () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file).split('/');
    const layer = rel.length > 1 ? rel[0]! : null;
    if (layer === null) continue;
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `unknown layer folder src/${layer}: add it to the import rule`);
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const target = relative(SRC, join(file, '..', spec)).split('/');
      const targetLayer = target.length > 1 ? target[0]! : 'root';
      if (targetLayer !== layer && !allowed.includes(targetLayer)) {
        violations.push(`${relative(SRC, file)} imports ${spec} (layer ${targetLayer})`);
      }
    }
  }
  assert.deepEqual(violations, []);
});

test('the browser-facing protocol core imports nothing from Node', () => {
  const violations: string[] = [];
  for (const file of sources(join(SRC, 'protocol'))) {
    const name = relative(join(SRC, 'protocol'), file);
    if (NODE_ONLY_PROTOCOL.has(name)) continue;
    for (const spec of imports(file)) {
      if (spec.startsWith('node:') || !spec.startsWith('.')) violations.push(`${name} imports ${spec}`);
    }
  }
  assert.deepEqual(violations, []);
});
