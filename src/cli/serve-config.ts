/**
 * Loading the `conduit serve --config FILE` file: read it, parse YAML (JSON is YAML too), replace
 * `${VAR}` and `${VAR:-default}` in string values, validate with the schema, then check what the schema
 * cannot: the JWT key, and the TLS files (read and paired now, so that a bad certificate stops the start
 * instead of the first handshake). Every problem is reported at once, one line each, in the gateway's
 * `path: expected X, found Y` form.
 *
 * Loading is synchronous: it runs once, while the command line is parsed, before anything listens.
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseDocument } from 'yaml';
import { type Environment, interpolateEnv } from '../gateway/config/interpolate.js';
import { type ConfigIssue, expectationOf, formatIssue, fromZodIssue } from '../gateway/config/issues.js';
import { type ServeFileConfig, serveConfigSchema } from './serve-config-schema.js';

export type { ConfigIssue } from '../gateway/config/issues.js';

/** RFC 7518 §3.2: an HMAC key for HS256 is at least 256 bits. */
export const MIN_SECRET_BYTES = 32;

/**
 * A configuration file that cannot be used (code `SERVE_CONFIG_INVALID`): unreadable, bad YAML, an unset
 * variable, a value the schema refuses, or unusable TLS files. The message has one line per issue.
 */
export class ServeConfigError extends Error {
  override readonly name = 'ServeConfigError';
  readonly code = 'SERVE_CONFIG_INVALID';

  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`Invalid configuration ${source}:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
  }
}

/** TLS material read from the files of `listen.tls`. */
export interface ServeTls {
  /** PEM certificate chain. */
  cert: Buffer;
  /** PEM private key. */
  key: Buffer;
}

/** A loaded configuration: the validated file and what its files hold. */
export interface LoadedServeConfig {
  /** Where it came from (the file path), for messages. */
  source: string;
  config: ServeFileConfig;
  /** Present when the file has `listen.tls`. */
  tls: ServeTls | undefined;
}

/** Options of {@link parseServeConfig}. */
export interface ServeConfigLoadOptions {
  /** Variables for `${VAR}`. Default `process.env`. */
  env?: Environment;
  /** Name in messages. Default `config`. */
  source?: string;
  /** Directory relative TLS paths are resolved against. Default: the working directory. */
  baseDir?: string;
}

/** The document as plain data, or its syntax errors with line and column (same wording as the gateway). */
function parseYaml(text: string): { data: unknown; issues: ConfigIssue[] } {
  const document = parseDocument(text, { merge: true });
  const issues = document.errors.map((error): ConfigIssue => {
    const at = error.linePos?.[0];
    const what = (error.message.split('\n')[0] ?? error.code).replace(/ at line \d+, column \d+:?$/, '');
    const path = at === undefined ? '' : `line ${at.line}, column ${at.col}`;
    return { path, expected: 'valid YAML or JSON', found: `a syntax error (${what})` };
  });
  return { data: issues.length > 0 ? undefined : document.toJS({ maxAliasCount: 1000 }), issues };
}

/** Exactly one key source, and an HMAC secret long enough; the secret itself is never echoed. */
function checkJwt(config: ServeFileConfig, issues: ConfigIssue[]): void {
  const jwt = config.auth?.jwt;
  if (jwt === undefined) return;
  if ((jwt.secret === undefined) === (jwt.jwksUrl === undefined)) {
    const found = jwt.secret === undefined ? 'neither' : 'both';
    issues.push({ path: 'auth.jwt', expected: 'exactly one of secret, jwksUrl', found });
  }
  const bytes = jwt.secret === undefined ? MIN_SECRET_BYTES : Buffer.byteLength(jwt.secret);
  if (bytes < MIN_SECRET_BYTES) {
    const expected = `a secret of at least ${MIN_SECRET_BYTES} bytes`;
    issues.push({ path: 'auth.jwt.secret', expected, found: `one of ${bytes} bytes` });
  }
}

function readPem(file: string, baseDir: string, path: string, issues: ConfigIssue[]): Buffer | null {
  try {
    return readFileSync(resolve(baseDir, file));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    issues.push({ path, expected: 'a readable PEM file', found: `${JSON.stringify(file)} (${reason})` });
    return null;
  }
}

/** Reads `listen.tls` and checks that the key belongs to the certificate. */
function loadTls(config: ServeFileConfig, baseDir: string, issues: ConfigIssue[]): ServeTls | undefined {
  const tls = config.listen?.tls;
  if (tls === undefined) return undefined;
  const cert = readPem(tls.cert, baseDir, 'listen.tls.cert', issues);
  const key = readPem(tls.key, baseDir, 'listen.tls.key', issues);
  if (cert === null || key === null) return undefined;
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const found = `an unusable pair (${(error as Error).message})`;
    issues.push({ path: 'listen.tls', expected: 'a PEM certificate and its private key', found });
    return undefined;
  }
  return { cert, key };
}

/** Validates a parsed document (after interpolation); throws a {@link ServeConfigError} with every problem. */
export function validateServeConfig(
  document: unknown,
  options: Omit<ServeConfigLoadOptions, 'env'> = {},
): LoadedServeConfig {
  const source = options.source ?? 'config';
  // An empty file is an empty configuration: every section keeps the flags' values and the defaults.
  const result = serveConfigSchema.safeParse(document ?? {}, {
    reportInput: true,
    error: (issue) => `expected ${expectationOf(issue)}`,
  });
  if (!result.success) {
    throw new ServeConfigError(
      source,
      result.error.issues.flatMap((issue) => fromZodIssue(issue)),
    );
  }
  const issues: ConfigIssue[] = [];
  checkJwt(result.data, issues);
  const tls = loadTls(result.data, options.baseDir ?? process.cwd(), issues);
  if (issues.length > 0) throw new ServeConfigError(source, issues);
  return { source, config: result.data, tls };
}

/** Parses configuration text (YAML or JSON); throws a {@link ServeConfigError} listing every problem. */
export function parseServeConfig(text: string, options: ServeConfigLoadOptions = {}): LoadedServeConfig {
  const source = options.source ?? 'config';
  const parsed = parseYaml(text);
  if (parsed.issues.length > 0) throw new ServeConfigError(source, parsed.issues);
  const issues: ConfigIssue[] = [];
  const document = interpolateEnv(parsed.data, options.env ?? process.env, issues);
  if (issues.length > 0) throw new ServeConfigError(source, issues);
  return validateServeConfig(document, { ...options, source });
}

/**
 * Reads and parses a configuration file. Relative TLS paths are resolved against the file's directory,
 * so that the file works from any working directory.
 */
export function loadServeConfig(path: string, env: Environment = process.env): LoadedServeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ServeConfigError(path, [{ path: '', expected: 'a readable file', found: reason }]);
  }
  return parseServeConfig(text, { env, source: path, baseDir: dirname(resolve(path)) });
}
