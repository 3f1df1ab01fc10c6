/**
 * The commands typed at the `conduit connect` prompt (`/ping`, `/close`, `/quit`, `/help`): every other
 * line is a message. A line starting with `//` sends the rest of it after one `/`, so that messages
 * beginning with a slash stay possible.
 * @module
 */

/** What one typed line asks for. */
export type TypedCommand =
  | { kind: 'send'; text: string }
  | { kind: 'ping'; payload: string }
  | { kind: 'close'; code: number | undefined; reason: string }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'invalid'; message: string };

/** Help shown by `/help`. */
export const COMMANDS_HELP = `Commands:
  /ping [PAYLOAD]         send a ping; the pong shows the round-trip time
  /close [CODE [REASON]]  start the closing handshake (CODE 1000 or 3000-4999, default 1000)
  /quit                   close with 1000 and exit (also Ctrl+D or Ctrl+C)
  /help                   this list
Any other line is sent as a text message; start it with // to send a line beginning with /.`;

/** RFC 6455 §7.4: an application may send 1000 or a code of the 3000–4999 range. */
function isSendableCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

function parseClose(rest: string): TypedCommand {
  const match = /^(\S+)?\s*([\s\S]*)$/.exec(rest)!;
  const [, codeText, reason = ''] = match;
  if (codeText === undefined) return { kind: 'close', code: undefined, reason: '' };
  const code = Number(codeText);
  if (!/^\d+$/.test(codeText) || !isSendableCode(code)) {
    return { kind: 'invalid', message: `Invalid close code ${codeText}: use 1000 or 3000-4999` };
  }
  // RFC 6455 §5.5: the whole close payload fits in 125 bytes, 2 of which are the code.
  if (Buffer.byteLength(reason, 'utf8') > 123) {
    return { kind: 'invalid', message: 'The close reason is longer than 123 bytes of UTF-8' };
  }
  return { kind: 'close', code, reason };
}

/** Splits `/name rest` into the command name and the rest of the line. */
function splitCommand(line: string): [string, string] {
  const space = line.search(/\s/);
  if (space < 0) return [line.slice(1), ''];
  return [line.slice(1, space), line.slice(space).trim()];
}

/** Interprets one line typed at the prompt. */
export function parseTypedLine(line: string): TypedCommand {
  if (!line.startsWith('/')) return { kind: 'send', text: line };
  if (line.startsWith('//')) return { kind: 'send', text: line.slice(1) };
  const [name, rest] = splitCommand(line);
  switch (name) {
    case 'ping':
      // RFC 6455 §5.5: control frame payloads are at most 125 bytes.
      if (Buffer.byteLength(rest, 'utf8') > 125) {
        return { kind: 'invalid', message: 'A ping payload is at most 125 bytes' };
      }
      return { kind: 'ping', payload: rest };
    case 'close':
      return parseClose(rest);
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', message: `Unknown command /${name} (try /help)` };
  }
}
