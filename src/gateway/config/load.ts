/**
 * Loading a gateway configuration: read the file, parse YAML (JSON is YAML too), replace `${VAR}` and
 * `${VAR:-default}` in string values, validate with the schema, then check what spans several fields.
 * Every problem found is reported at once in a {@link GatewayConfigError}.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { crossCheck } from './cross-check.js';
import { type Environment, interpolateEnv } from './interpolate.js';
import { type ConfigIssue, expectationOf, fromZodIssue, GatewayConfigError } from './issues.js';
import { gatewayConfigSchema } from './schema.js';
import type { GatewayConfig } from './types.js';

/** Options of {@link parseGatewayConfig} and {@link loadGatewayConfig}. */
export interface LoadOptions {
  /** Variables for `${VAR}` references. Default `process.env`. */
  env?: Environment;
  /** Name of the configuration in error messages (the file path when loading a file). Default `config`. */
  source?: string;
}

/** The YAML document as plain data, or the syntax problems with their line and column. */
function parseYaml(text: string): { data: unknown; issues: ConfigIssue[] } {
  // merge: `<<: *defaults` lets upstreams share settings; uniqueKeys (the default) refuses duplicate keys.
  const document = parseDocument(text, { merge: true });
  const issues = document.errors.map((error): ConfigIssue => {
    const at = error.linePos?.[0];
    const where = at === undefined ? '' : `line ${at.line}, column ${at.col}`;
    // The first line of yaml's message says what is wrong; the rest is a drawing of the spot.
    const what = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
    return { path: where, expected: 'valid YAML or JSON', found: `a syntax error (${what})` };
  });
  if (issues.length > 0) return { data: undefined, issues };
  return { data: document.toJS({ maxAliasCount: 1000 }), issues };
}

/** Validates a parsed document (after interpolation) into the configuration; throws with every problem. */
export function validateGatewayConfig(document: unknown, source = 'config'): GatewayConfig {
  const result = gatewayConfigSchema.safeParse(document, {
    reportInput: true,
    error: (issue) => `expected ${expectationOf(issue)}`,
  });
  if (!result.success) {
    throw new GatewayConfigError(
      source,
      result.error.issues.flatMap((issue) => fromZodIssue(issue)),
    );
  }
  const issues = crossCheck(result.data);
  if (issues.length > 0) throw new GatewayConfigError(source, issues);
  return result.data;
}

/**
 * Parses configuration text (YAML or JSON) into a validated {@link GatewayConfig}, or throws a
 * {@link GatewayConfigError} listing every problem.
 */
export function parseGatewayConfig(text: string, options: LoadOptions = {}): GatewayConfig {
  const source = options.source ?? 'config';
  const parsed = parseYaml(text);
  if (parsed.issues.length > 0) throw new GatewayConfigError(source, parsed.issues);
  const issues: ConfigIssue[] = [];
  const document = interpolateEnv(parsed.data, options.env ?? process.env, issues);
  if (issues.length > 0) throw new GatewayConfigError(source, issues);
  return validateGatewayConfig(document, source);
}

/** Reads and parses a configuration file; an unreadable file is a {@link GatewayConfigError} too. */
export async function loadGatewayConfig(path: string, options: LoadOptions = {}): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new GatewayConfigError(path, [{ path: '', expected: 'a readable file', found: reason }]);
  }
  return parseGatewayConfig(text, { ...options, source: options.source ?? path });
}
