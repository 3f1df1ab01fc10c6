/**
 * `conduit gateway --config FILE`: runs the gateway of a configuration file, reloads it on SIGHUP,
 * drains on SIGTERM/SIGINT; `--check` only validates the file.
 * @module
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GatewayConfigError } from '../gateway/config/issues.js';
import { Gateway } from '../gateway/gateway.js';
import { tuneHeapForLargeMessages } from '../transport/native-heap.js';
import { CliError } from './args.js';
import { GATEWAY_USAGE, type GatewayCliOptions, parseGatewayArgs } from './gateway-args.js';
import { createServeLogger } from './serve-log.js';

export { GATEWAY_USAGE, type GatewayCliOptions, parseGatewayArgs } from './gateway-args.js';

/** `--check`: 0 and "ok" for a usable file, 2 and its problems otherwise. */
async function check(options: GatewayCliOptions): Promise<number> {
  try {
    await Gateway.check(options.config);
  } catch (error) {
    if (!(error instanceof GatewayConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  process.stdout.write('ok\n');
  return 0;
}

/** Reload on SIGHUP; drain and exit on SIGTERM/SIGINT (a second one exits at once with 1). */
function handleSignals(gateway: Gateway): void {
  process.on('SIGHUP', () => {
    // The gateway logs the outcome; a refused reload leaves the running configuration in force.
    void gateway.reload();
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    gateway.drain().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Starts the gateway of `options.config`; resolves once it serves (its URLs are printed). */
export async function runGateway(options: GatewayCliOptions): Promise<Gateway> {
  // Relayed 64 KB messages would otherwise fault fresh pages in for every buffer (see native-heap.ts).
  tuneHeapForLargeMessages();
  const logger = createServeLogger(options.logLevel);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gateway = await Gateway.load(options.config, { logger, registry });
  handleSignals(gateway);
  const lines = gateway.listenerInfo.map((listener) => `listening on ${listener.url}`);
  if (gateway.adminUrl !== null) lines.push(`admin on ${gateway.adminUrl}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return gateway;
}

function isUsageError(error: unknown): boolean {
  return (
    error instanceof CliError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true
  );
}

/**
 * Runs `conduit gateway ARGS`: resolves with the exit status (help: 0; bad arguments: 2 with the usage;
 * `--check`: 0 or 2; an invalid configuration: 2; a start failure: 1), or `null` while serving.
 */
export async function gatewayCommand(args: string[]): Promise<number | null> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${GATEWAY_USAGE}\n`);
    return 0;
  }
  let options: GatewayCliOptions;
  try {
    options = parseGatewayArgs(args);
  } catch (error) {
    if (!isUsageError(error)) throw error;
    process.stderr.write(`${(error as Error).message}\n\n${GATEWAY_USAGE}\n`);
    return 2;
  }
  try {
    if (options.check) return await check(options);
    await runGateway(options);
    return null;
  } catch (error) {
    process.stderr.write(`conduit gateway: ${(error as Error).message}\n`);
    return error instanceof GatewayConfigError ? 2 : 1;
  }
}
