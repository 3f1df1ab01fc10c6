/**
 * Cost of parsing an opening handshake head: Conduit's HttpRequestParser / HttpResponseParser beside
 * Node's own llhttp binding (`node:_http_common` HTTPParser, the parser behind `http.Server`) fed the same bytes
 * in the same process. Node's numbers only produce a raw header array; ours also builds the lowercased map.
 * Run: node dist/bench/http-head.bench.js
 */

import { createRequire } from 'node:module';
import { HttpRequestParser, HttpResponseParser } from '../src/protocol/http-head.js';

const require = createRequire(import.meta.url);

// A typical browser upgrade request (Chrome's header set), about 450 bytes.
const BROWSER_REQUEST =
  'GET /chat?room=lobby HTTP/1.1\r\n' +
  'Host: realtime.example.com\r\n' +
  'Connection: Upgrade\r\n' +
  'Pragma: no-cache\r\n' +
  'Cache-Control: no-cache\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36\r\n' +
  'Upgrade: websocket\r\n' +
  'Origin: https://app.example.com\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Accept-Encoding: gzip, deflate, br\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n';

// A minimal programmatic client's request, about 300 bytes with a subprotocol list.
const TYPICAL_REQUEST =
  'GET /socket HTTP/1.1\r\n' +
  'Host: server.example.com:8080\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n' +
  'Origin: http://example.com\r\n' +
  'User-Agent: conduit-bench/1.0\r\n\r\n';

const RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n';

/** Nanoseconds per call of `run` over `iterations` calls. */
function time(run: () => void, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/**
 * Median nanoseconds per call of each function, after a warm-up. Rounds alternate between the functions
 * so that a change of machine load during the run weighs on both alike.
 */
function measure(runs: readonly (() => void)[], iterations: number): number[] {
  for (const run of runs) time(run, iterations);
  const rounds: number[][] = runs.map(() => []);
  for (let round = 0; round < 9; round++) {
    runs.forEach((run, i) => {
      rounds[i]!.push(time(run, iterations));
    });
  }
  return rounds.map((list) => list.sort((x, y) => x - y)[4]!);
}

let sink = 0;

function conduitRequest(bytes: Uint8Array, pieces: number): () => void {
  const size = Math.ceil(bytes.length / pieces);
  const chunks = Array.from({ length: pieces }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
  return () => {
    const parser = new HttpRequestParser();
    for (const chunk of chunks) {
      const result = parser.feed(chunk);
      if (result !== null) sink += result.head.headers.size;
    }
  };
}

function conduitResponse(bytes: Uint8Array): () => void {
  return () => {
    const result = new HttpResponseParser().feed(bytes);
    sink += result!.head.status;
  };
}

interface NodeParser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [key: number]: unknown;
}

/** Node's llhttp binding, re-initialized for every head like `http.Server` does per connection. */
function nodeParser(bytes: Buffer, kind: 'REQUEST' | 'RESPONSE'): (() => void) | undefined {
  try {
    const { HTTPParser } = require('node:_http_common');
    const parser: NodeParser = new HTTPParser();
    parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, headers: string[]) => {
      sink += headers.length;
      return kind === 'RESPONSE' ? 1 : 0;
    };
    return () => {
      parser.initialize(HTTPParser[kind], {});
      parser.execute(bytes);
    };
  } catch {
    return undefined;
  }
}

const rows: string[] = [];
function row(name: string, bytes: number, ours: number, node: number | undefined): void {
  const nodeCell = node === undefined ? 'n/a' : node.toFixed(0);
  const ratio = node === undefined ? 'n/a' : `${(node / ours).toFixed(2)}×`;
  rows.push(`| ${name} | ${bytes} | ${ours.toFixed(0)} | ${nodeCell} | ${ratio} |`);
}

/** Measures ours, and Node's beside it when available, and adds a table row. */
function compare(
  name: string,
  bytes: number,
  ours: () => void,
  node: (() => void) | undefined,
  n: number,
): void {
  const [oursNs, nodeNs] = measure(node === undefined ? [ours] : [ours, node], n);
  row(name, bytes, oursNs!, nodeNs);
}

const N = 50_000;
for (const [name, text] of [
  ['browser request, 1 chunk', BROWSER_REQUEST],
  ['typical request, 1 chunk', TYPICAL_REQUEST],
] as const) {
  const bytes = Buffer.from(text, 'latin1');
  compare(name, bytes.length, conduitRequest(bytes, 1), nodeParser(bytes, 'REQUEST'), N);
}
const typical = Buffer.from(TYPICAL_REQUEST, 'latin1');
compare('typical request, 3 chunks', typical.length, conduitRequest(typical, 3), undefined, N);
compare(
  'typical request, 1 byte at a time',
  typical.length,
  conduitRequest(typical, typical.length),
  undefined,
  N / 20,
);
const response = Buffer.from(RESPONSE, 'latin1');
compare(
  '101 response, 1 chunk',
  response.length,
  conduitResponse(response),
  nodeParser(response, 'RESPONSE'),
  N,
);

console.log(`## HTTP head parsing (Node ${process.version}, ns per head, median of 9 interleaved rounds)\n`);
console.log('| case | bytes | conduit ns | node llhttp ns | conduit speed-up |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const line of rows) console.log(line);
if (sink === 0) console.log('(no work done?)');
