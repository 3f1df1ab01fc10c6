/**
 * The command line of `conduit bench`: its usage text, its options, and their validation.
 * @module
 */
import { parseArgs } from 'node:util';
import { CliError, parseByteCount } from './args.js';
import type { ClientFlags } from './connect-options.js';

/** Usage of `conduit bench`. */
export const BENCH_USAGE = `Usage: conduit bench URL [options]

Load-tests a WebSocket server from this process and prints a table of the results.

Modes:
  --mode echo        (default) N connections send binary messages of --size bytes and wait for the
                     server to echo them, --in-flight at a time per connection (against conduit echo,
                     or the /echo endpoint of conduit serve); latency is the round trip
  --mode subscribe   N hub subscribers (conduit.v1, URL of conduit serve's /hub; a URL without a path
                     gets /hub) and one publisher connection publishing --rate messages/s, each
                     carrying its send time; latency is publish to delivery
  --mode connect     N loops that open a connection, wait for the handshake and close it, as fast as
                     possible; latency is the handshake time

Options:
  --connections N    connections (echo), subscribers (subscribe) or concurrent loops (connect); default 10
  --duration S       seconds to run (default 10; fractions allowed); Ctrl+C stops early
  --size BYTES       message size (echo: payload bytes; subscribe: approximate data size); default 64
  --in-flight K      messages awaiting their echo per connection (echo); default 16
  --rate R           echo: cap on the total messages/s (default: as fast as echoes return);
                     subscribe: publications/s (default 100; conduit serve allows 1000/s per connection)
  --topic T          hub topic (subscribe); default a new random one
  --header 'N: V'    add a request header to every handshake (repeatable; e.g. a bearer token)
  --deflate          offer permessage-deflate (RFC 7692)
  --insecure         do not verify the server's TLS certificate
  --ca FILE          trust the certificate authorities of this PEM file
  --json             print the results as JSON instead of a table
  --report FILE      also write a self-contained HTML report (parameters, results, latency histogram)
  --help             show this help

Progress goes to stderr (one redrawn line on a terminal, a line per second otherwise).
Exit status: 0 the run completed without errors, 1 errors occurred or no connection could be made
(results are still printed), 2 bad usage.`;

/** What `conduit bench` measures. */
export type BenchMode = 'echo' | 'subscribe' | 'connect';

/** The parsed options of `conduit bench`. */
export interface BenchOptions extends ClientFlags {
  url: string;
  mode: BenchMode;
  connections: number;
  durationMs: number;
  size: number;
  inFlight: number;
  /** Messages (echo) or publications (subscribe) per second; undefined: as fast as possible (echo). */
  rate: number | undefined;
  topic: string;
  json: boolean;
  report: string | undefined;
}

const OPTIONS = {
  mode: { type: 'string' },
  connections: { type: 'string' },
  duration: { type: 'string' },
  size: { type: 'string' },
  'in-flight': { type: 'string' },
  rate: { type: 'string' },
  topic: { type: 'string' },
  header: { type: 'string', multiple: true },
  deflate: { type: 'boolean' },
  insecure: { type: 'boolean' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  report: { type: 'string' },
} as const;

const MODES: readonly BenchMode[] = ['echo', 'subscribe', 'connect'];
/** A sanity bound: more than this from one process is a typo (and would run out of ports). */
const MAX_CONNECTIONS = 50_000;
/** Topics of the hub protocol (docs/hub-protocol.md). */
const TOPIC = /^[A-Za-z0-9._\-:/@=]{1,256}$/;

function positiveNumber(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0) || !Number.isFinite(value)) {
    throw new CliError(`Invalid ${option} ${JSON.stringify(text)}: expected a number > 0`);
  }
  return value;
}

function count(option: string, text: string | undefined, fallback: number, max: number): number {
  const value = positiveNumber(option, text, fallback);
  if (!Number.isInteger(value) || value > max) {
    throw new CliError(`Invalid ${option} ${JSON.stringify(text)}: expected an integer 1..${max}`);
  }
  return value;
}

function parseMode(text: string | undefined): BenchMode {
  if (text === undefined) return 'echo';
  if (!(MODES as readonly string[]).includes(text)) {
    throw new CliError(`Invalid --mode ${JSON.stringify(text)}: expected ${MODES.join(', ')}`);
  }
  return text as BenchMode;
}

function parseRate(mode: BenchMode, text: string | undefined): number | undefined {
  if (text === undefined) return mode === 'subscribe' ? 100 : undefined;
  if (mode === 'connect') throw new CliError('conduit bench: --rate does not apply to --mode connect');
  return positiveNumber('--rate', text, 0);
}

function parseTopic(text: string | undefined): string {
  if (text === undefined) return `bench.${Math.random().toString(36).slice(2, 10)}`;
  if (!TOPIC.test(text)) throw new CliError(`Invalid --topic ${JSON.stringify(text)}`);
  return text;
}

function parseUrl(positionals: string[]): string {
  if (positionals.length !== 1) throw new CliError('conduit bench: exactly one URL is required');
  const url = positionals[0]!;
  // The WebSocket constructor's own rules (RFC 6455 §3: no fragment), checked before any connection.
  if (!/^(wss?|https?):\/\/./i.test(url) || !URL.canParse(url) || url.includes('#')) {
    throw new CliError(`Invalid URL ${JSON.stringify(url)}: expected ws:// or wss://, without a fragment`);
  }
  return url;
}

/** Parses the arguments after `bench`. Throws a {@link CliError} for invalid ones. */
export function parseBenchArgs(args: string[]): BenchOptions {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: OPTIONS });
  const mode = parseMode(values.mode);
  return {
    url: parseUrl(positionals),
    mode,
    connections: count('--connections', values.connections, 10, MAX_CONNECTIONS),
    durationMs: Math.round(positiveNumber('--duration', values.duration, 10) * 1000),
    size: values.size === undefined ? 64 : parseByteCount('--size', values.size),
    inFlight: count('--in-flight', values['in-flight'], 16, 1_000_000),
    rate: parseRate(mode, values.rate),
    topic: parseTopic(values.topic),
    headers: values.header ?? [],
    deflate: values.deflate ?? false,
    insecure: values.insecure ?? false,
    ca: values.ca,
    json: values.json ?? false,
    report: values.report,
  };
}
