// The least a WebSocket echo server on node:net can do, for the server benchmarks' "Node floor" row:
// answer the upgrade, then per received chunk parse the frames, unmask them (Conduit's native accelerator,
// the fastest unmask available) and write the unmasked frames back in one batch. No limits, no UTF-8
// checks, no fragmentation, no events, no timers: not a usable server, only a measure of what Node's
// sockets cost on their own, so that a ratio no Node WebSocket library can reach is recognised as such.
// Usage: node bench/servers/node-floor-echo.mjs PORT   (0 picks a free port; the real one is printed)
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import '../../dist/src/transport/index.js'; // installs the native masking accelerator
import { unmask } from '../../dist/src/protocol/mask.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const port = Number(process.argv[2] ?? 0);

/** The 101 response for the request head in `head` (RFC 6455 §4.2.2). */
function accept(head) {
  const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
  const digest = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${digest}\r\n\r\n`;
}

/** An unmasked server frame header for a payload of `length` bytes, first byte copied from the request. */
function header(first, length) {
  if (length < 126) return Buffer.from([first, length]);
  if (length < 65536) return Buffer.from([first, 126, length >> 8, length & 0xff]);
  const out = Buffer.alloc(10);
  out[0] = first;
  out[1] = 127;
  out.writeUIntBE(length, 4, 6);
  return out;
}

/** Parses every complete frame of `data` into `out`; returns the offset of the first incomplete one. */
function frames(data, out) {
  let offset = 0;
  while (data.length - offset >= 6) {
    let length = data[offset + 1] & 0x7f;
    let start = offset + 2;
    if (length === 126) {
      if (data.length - offset < 8) break;
      length = data.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (data.length - offset < 14) break;
      length = data.readUIntBE(start + 2, 6);
      start += 8;
    }
    if (data.length < start + 4 + length) break;
    const key = data.subarray(start, start + 4);
    const payload = data.subarray(start + 4, start + 4 + length);
    unmask(payload, key);
    out.push(header(data[offset], length), payload);
    offset = start + 4 + length;
  }
  return offset;
}

const server = createServer({ noDelay: true }, (socket) => {
  let pending = null;
  let open = false;
  socket.on('data', (chunk) => {
    let data = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    if (!open) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        pending = data;
        return;
      }
      socket.write(accept(data.toString('latin1', 0, end)));
      open = true;
      data = data.subarray(end + 4);
    }
    const out = [];
    const used = frames(data, out);
    if (used < data.length) pending = data.subarray(used);
    if (out.length === 0) return;
    socket.cork();
    for (const buffer of out) socket.write(buffer);
    socket.uncork();
    // A close frame (opcode 8) was echoed: the closing handshake is done on this side.
    for (let i = 0; i < out.length; i += 2) if ((out[i][0] & 0x0f) === 8) socket.end();
  });
  socket.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening on ws://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
