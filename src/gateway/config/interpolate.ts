/**
 * `${VAR}` and `${VAR:-default}` in string values of a parsed config document. Interpolation runs on
 * values after YAML parsing, never on the file text, so a variable can only ever become (part of) one
 * string: it cannot add fields or change the document's structure. Mapping keys are left alone.
 * @module
 */
import { type ConfigIssue, formatPath } from './issues.js';

/** Environment variables, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

// biome-ignore lint/suspicious/noTemplateCurlyInString: this text describes the `${VAR}` syntax itself.
const FORMS = '${NAME} or ${NAME:-default}';

// `$${` is a literal `${`; `${NAME}`, `${NAME:-default}` (default used when NAME is unset or empty).
const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/** Replaces the references of one string; unset variables without a default become issues. */
function interpolateString(value: string, env: Environment, path: string, issues: ConfigIssue[]): string {
  if (!value.includes('${')) return value;
  return value.replace(REFERENCE, (match: string, variable?: string, fallback?: string) => {
    if (match === '$${') return '${';
    if (variable === undefined) {
      issues.push({ path, expected: FORMS, found: JSON.stringify(value) });
      return match;
    }
    const found = env[variable];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    if (found === '') return found;
    issues.push({ path, expected: `environment variable ${variable} to be set`, found: 'it unset' });
    return match;
  });
}

function walk(node: unknown, env: Environment, path: PropertyKey[], issues: ConfigIssue[]): unknown {
  if (typeof node === 'string') return interpolateString(node, env, formatPath(path), issues);
  if (Array.isArray(node)) return node.map((item, index) => walk(item, env, [...path, index], issues));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      // defineProperty: a `__proto__` key stays a plain (unknown, hence refused) field.
      const copy = walk(value, env, [...path, key], issues);
      Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return node;
}

/**
 * A copy of `document` with the environment references of its string values replaced. Problems (an
 * unset variable without default, a malformed `${`) are appended to `issues`, with their path.
 */
export function interpolateEnv(document: unknown, env: Environment, issues: ConfigIssue[]): unknown {
  return walk(document, env, [], issues);
}
