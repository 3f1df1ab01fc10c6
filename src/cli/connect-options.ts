/**
 * Client options shared by `conduit connect` and `conduit bench`: request headers given as
 * `Name: value` strings, TLS trust (`--ca`, `--insecure`) and permessage-deflate, turned into the
 * options of Conduit's {@link WebSocket} client.
 * @module
 */
import { readFileSync } from 'node:fs';
import type { WebSocketOptions } from '../client/options.js';
import { CliError } from './args.js';

/** What the command line says about how to connect. */
export interface ClientFlags {
  /** `Name: value` strings, as typed. */
  headers: string[];
  deflate: boolean;
  /** Skip verification of the server's certificate (wss: only). */
  insecure: boolean;
  /** PEM file of the certificate authorities to trust instead of Node's defaults. */
  ca: string | undefined;
}

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses `Name: value` strings into a header record; repeated names are joined with `, ` (RFC 9110 §5.3). */
export function parseHeaders(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!TOKEN.test(name)) {
      throw new CliError(`Invalid --header ${JSON.stringify(line)}: expected 'Name: value'`);
    }
    const value = line.slice(colon + 1).trim();
    const key = Object.keys(headers).find((known) => known.toLowerCase() === name.toLowerCase()) ?? name;
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`Cannot read --ca ${JSON.stringify(file)}: ${(error as Error).message}`);
  }
}

/** The client options for these flags; a {@link CliError} for a bad header or an unreadable CA file. */
export function clientOptions(flags: ClientFlags): WebSocketOptions {
  const options: WebSocketOptions = { binaryType: 'nodebuffer' };
  if (flags.headers.length > 0) options.headers = parseHeaders(flags.headers);
  if (flags.deflate) options.perMessageDeflate = true;
  if (flags.insecure) options.rejectUnauthorized = false;
  if (flags.ca !== undefined) options.ca = readCa(flags.ca);
  return options;
}
