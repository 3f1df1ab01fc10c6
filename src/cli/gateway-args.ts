/**
 * The command line of `conduit gateway`: its usage text, its options, and their validation.
 * @module
 */
import { parseArgs } from 'node:util';
import { CliError } from './args.js';

/** Usage of `conduit gateway`. */
export const GATEWAY_USAGE = `Usage: conduit gateway --config FILE [options]

Runs the WebSocket gateway described by FILE (YAML or JSON; reference: docs/gateway.md): its
listeners, routes and upstreams, and its admin listener (/metrics, /healthz, /status, POST /reload).

Options:
  --config FILE       the configuration file (\${VAR} and \${VAR:-default} are read from the environment)
  --check             validate FILE (certificates and middleware included), print "ok" or the
                      problems, and exit with status 0 (valid) or 2 (invalid); nothing is started
  --log-level LEVEL   trace, debug, info, warn, error, fatal or silent (default info)
  --help              show this help

Prints "listening on ws://HOST:PORT" (wss:// with TLS) for each listener and "admin on http://HOST:PORT"
once ready, then logs JSON lines (pino) to stdout, with one access log line per connection when it ends.
Signals: SIGHUP reloads FILE (an invalid file is refused and logged; the running configuration keeps
serving); SIGTERM or SIGINT drains (no new connections, clients closed with 1001, up to drainTimeout)
and exits with status 0. An invalid FILE at start exits with status 2, a start failure with 1.

Backends behind wss:// or https:// with a private CA: set NODE_EXTRA_CA_CERTS=/path/to/ca.pem.`;

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/** The parsed options of `conduit gateway`. */
export interface GatewayCliOptions {
  config: string;
  check: boolean;
  logLevel: string;
}

/** Parses the arguments after `gateway`. Throws a {@link CliError} (or a parseArgs error) for invalid ones. */
export function parseGatewayArgs(args: string[]): GatewayCliOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string', short: 'c' },
      check: { type: 'boolean' },
      'log-level': { type: 'string' },
    },
  });
  if (values.config === undefined) throw new CliError('conduit gateway: --config is required');
  const logLevel = values['log-level'] ?? 'info';
  if (!LEVELS.has(logLevel)) {
    throw new CliError(`conduit gateway: invalid --log-level ${JSON.stringify(logLevel)}`);
  }
  return { config: values.config, check: values.check ?? false, logLevel };
}
