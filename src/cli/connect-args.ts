/**
 * The command line of `conduit connect`: its usage text, its options, and their validation.
 * @module
 */
import { parseArgs } from 'node:util';
import { CliError } from './args.js';
import type { ClientFlags } from './connect-options.js';

/** Usage of `conduit connect`. */
export const CONNECT_USAGE = `Usage: conduit connect URL [options]

Opens a WebSocket connection (ws://, wss://) and shows every message with its direction and time
("< 12:00:01.123 text" received, "> ..." sent; binary messages as their length and first bytes).
On a terminal, type a line to send it, or a command:
  /ping [PAYLOAD]          send a ping (the pong is shown with its round-trip time)
  /close [CODE [REASON]]   start the closing handshake (default 1000)
  /quit                    close with 1000 and exit
  /help                    list the commands
With stdin from a pipe or a file, each line is sent as a text message and end of input closes the
connection (1000) once the lines are sent.

Options:
  --header 'NAME: VALUE'   add a request header (repeatable)
  --subprotocol P          offer this subprotocol (repeatable, in order of preference)
  --deflate                offer permessage-deflate (RFC 7692)
  --binary FILE            send the content of FILE as one binary message once connected
  --execute MSG            send MSG as a text message once connected (repeatable, after --binary)
  --wait MS                close MS milliseconds after the last --execute/--binary message (or after
                           connecting when there is none) instead of reading stdin
  --json                   print one JSON object per event (open, message, ping, pong, close, error)
  --insecure               do not verify the server's TLS certificate
  --ca FILE                trust the certificate authorities of this PEM file
  --help                   show this help

Colors are used on a terminal unless NO_COLOR is set.
Exit status: 0 closed cleanly (1000, 1001, or by you), 1 connection failed (refused handshake, DNS or
connect error), 2 bad usage, 3 closed by the server with an error code (or the connection was lost).`;

/** The parsed options of `conduit connect`. */
export interface ConnectOptions extends ClientFlags {
  url: string;
  subprotocols: string[];
  binaryFile: string | undefined;
  execute: string[];
  /** Milliseconds to wait after the last scripted send before closing; undefined reads stdin instead. */
  waitMs: number | undefined;
  json: boolean;
}

const OPTIONS = {
  header: { type: 'string', multiple: true },
  subprotocol: { type: 'string', multiple: true },
  deflate: { type: 'boolean' },
  binary: { type: 'string' },
  execute: { type: 'string', multiple: true },
  wait: { type: 'string' },
  json: { type: 'boolean' },
  insecure: { type: 'boolean' },
  ca: { type: 'string' },
} as const;

function parseWait(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new CliError(`Invalid --wait ${JSON.stringify(text)}: expected milliseconds (an integer >= 0)`);
  }
  return value;
}

/** Parses the arguments after `connect`. Throws a {@link CliError} for invalid ones. */
export function parseConnectArgs(args: string[]): ConnectOptions {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: OPTIONS });
  if (positionals.length === 0) throw new CliError('conduit connect: a URL is required');
  if (positionals.length > 1) {
    throw new CliError(`conduit connect: one URL expected, got ${JSON.stringify(positionals)}`);
  }
  return {
    url: positionals[0]!,
    headers: values.header ?? [],
    subprotocols: values.subprotocol ?? [],
    deflate: values.deflate ?? false,
    binaryFile: values.binary,
    execute: values.execute ?? [],
    waitMs: parseWait(values.wait),
    json: values.json ?? false,
    insecure: values.insecure ?? false,
    ca: values.ca,
  };
}
