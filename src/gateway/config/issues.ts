/**
 * Configuration problems as people read them: `<path>: expected <what>, found <value>`, e.g.
 * `upstreams.echo.backends[1].url: expected a ws:// or wss:// URL, found "tcp://x"`. Zod issues are
 * turned into this shape here, so that every message names the field, the rule and the offending value.
 * @module
 */
import type { z } from 'zod';

/** One problem of a configuration. */
export interface ConfigIssue {
  /** Where: `routes[0].path.regex`; empty for the document itself. */
  path: string;
  /** What was expected, as a phrase: `a ws:// or wss:// URL`. */
  expected: string;
  /** What was found, as a phrase: `"tcp://x"`, `nothing`, `an unknown field`. */
  found: string;
}

/**
 * Raised by the loader when a configuration cannot be used (code `GATEWAY_CONFIG_INVALID`): unreadable
 * file, YAML syntax, an unset environment variable, a value the schema refuses, or a failed cross-check.
 * `issues` lists every problem found; the message has one line per problem.
 */
export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
  readonly code = 'GATEWAY_CONFIG_INVALID';

  constructor(
    readonly source: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    const lines = issues.map((issue) => `  ${formatIssue(issue)}`);
    super(`Invalid gateway configuration ${source}:\n${lines.join('\n')}`);
  }
}

/** `path: expected X, found Y`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}expected ${issue.expected}, found ${issue.found}`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/** `routes[0].path`, `upstreams.echo.backends[1].url`, `upstreams["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A value as a short phrase: strings quoted, structures as compact JSON, absence as `nothing`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'an empty value';
  if (value instanceof RegExp) return String(value);
  if (value instanceof URL) return JSON.stringify(value.href);
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

const TYPE_PHRASES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

function sizePhrase(issue: { origin: string; minimum?: unknown; maximum?: unknown }, small: boolean): string {
  const bound = String(small ? issue.minimum : issue.maximum);
  const atLeast = small ? 'at least' : 'at most';
  if (issue.origin === 'string')
    return bound === '1' && small ? 'a non-empty string' : `a string of ${atLeast} ${bound} characters`;
  if (issue.origin === 'array') return `a list of ${atLeast} ${bound} item${bound === '1' ? '' : 's'}`;
  return `a number ${small ? '>=' : '<='} ${bound}`;
}

/** Known field names of the object schema an unknown key was found in. */
function knownFields(issue: z.core.$ZodRawIssue): string[] {
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  return shape === undefined ? [] : Object.keys(shape);
}

/**
 * The error map used while parsing: every built-in zod issue as the "expected ..." half of a message.
 * Messages the schema sets itself (custom checks, unions) win over these.
 */
export function expectationOf(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return TYPE_PHRASES[issue.expected] ?? `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'too_small':
      return sizePhrase(issue, true);
    case 'too_big':
      return sizePhrase(issue, false);
    case 'unrecognized_keys':
      return `one of the fields ${knownFields(issue).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? `a string matching ${String(issue.pattern)}`
        : `a valid ${issue.format}`;
    case 'invalid_key':
      return 'a valid key';
    default:
      return 'a valid value';
  }
}

/** Strips a leading "expected " that schema messages carry, so the formatter adds it once. */
function expectation(message: string): string {
  return message.startsWith('expected ') ? message.slice('expected '.length) : message;
}

/** True when a union branch failed on the value's type or literal value (it is not the one meant). */
function wrongBranch(issues: readonly z.core.$ZodIssue[]): boolean {
  return issues.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

/**
 * ConfigIssues of one zod issue. A failed union reports the problems of the one alternative whose
 * shape the value has (a mapping with a bad field reports that field); when no single alternative fits,
 * the union's own message stands.
 */
export function fromZodIssue(issue: z.core.$ZodIssue, base: readonly PropertyKey[] = []): ConfigIssue[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union') {
    const meant = issue.errors.filter((branch) => !wrongBranch(branch));
    if (meant.length === 1) return meant[0]!.flatMap((inner) => fromZodIssue(inner, path));
  }
  if (issue.code === 'invalid_key') {
    // The key's own schema knows what a key should look like; report its message.
    const found = describeValue(issue.input);
    return issue.issues.map((inner) => ({
      path: formatPath(path),
      expected: expectation(inner.message),
      found,
    }));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...path, key]),
      expected: expectation(issue.message),
      found: 'an unknown field',
    }));
  }
  return [
    { path: formatPath(path), expected: expectation(issue.message), found: describeValue(issue.input) },
  ];
}
