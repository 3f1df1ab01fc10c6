/**
 * Header validation rules of RFC 6455 §5: what a received frame header may say, given the role, the
 * negotiated extensions and the message in progress. Kept apart from the parser loop so each rule reads
 * on its own line with its RFC section.
 * @module
 */
import { CloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { ProtocolError } from './errors.js';

/** What the receiver knows when it checks one frame header. */
export interface FrameContext {
  readonly server: boolean;
  /** RSV bits granted by negotiated extensions (first frame of a data message only). */
  readonly allowedRsv: number;
  /** Opcode of the data message in progress, 0 when none. */
  readonly messageOpcode: number;
  readonly maxFrameSize: number;
}

function fail(code: ConstructorParameters<typeof ProtocolError>[0], message: string, close?: number): never {
  throw new ProtocolError(code, message, close);
}

/** Throws the ProtocolError a frame header deserves, if any. */
export function checkFrameHeader(
  ctx: FrameContext,
  fin: boolean,
  rsv: number,
  opcode: number,
  masked: boolean,
  length: number,
): void {
  if (opcode >= 0x8) {
    checkControlFrame(fin, rsv, opcode, length);
  } else {
    if (opcode > Opcode.BINARY) fail('ERR_RESERVED_OPCODE', `reserved data opcode 0x${opcode.toString(16)}`);
    checkDataFrame(ctx, rsv, opcode, length);
  }
  // RFC 6455 §5.1: clients mask every frame, servers never do.
  if (ctx.server && !masked) fail('ERR_MASK_REQUIRED', 'unmasked frame from a client (RFC 6455 §5.1)');
  if (!ctx.server && masked) fail('ERR_MASK_FORBIDDEN', 'masked frame from a server (RFC 6455 §5.1)');
}

function checkControlFrame(fin: boolean, rsv: number, opcode: number, length: number): void {
  if (opcode > Opcode.PONG) fail('ERR_RESERVED_OPCODE', `reserved control opcode 0x${opcode.toString(16)}`);
  // RFC 6455 §5.5: control frames are never fragmented and carry at most 125 bytes.
  if (!fin) fail('ERR_CONTROL_FRAGMENTED', 'fragmented control frame (RFC 6455 §5.5)');
  if (length > MAX_CONTROL_PAYLOAD) fail('ERR_CONTROL_TOO_LONG', 'control frame payload over 125 bytes');
  if (rsv !== 0) fail('ERR_UNEXPECTED_RSV', 'RSV bits set on a control frame (RFC 6455 §5.2)');
}

function checkDataFrame(ctx: FrameContext, rsv: number, opcode: number, length: number): void {
  if (opcode === Opcode.CONTINUATION) {
    // RFC 6455 §5.4: a continuation frame only continues a started message.
    if (ctx.messageOpcode === 0) fail('ERR_UNEXPECTED_CONTINUATION', 'continuation frame without a message');
    // RFC 7692 §6.1: the per-message RSV1 bit belongs to the first frame only.
    if (rsv !== 0) fail('ERR_UNEXPECTED_RSV', 'RSV bits set on a continuation frame');
  } else {
    if (ctx.messageOpcode !== 0) {
      fail('ERR_EXPECTED_CONTINUATION', 'new data frame inside a fragmented message (RFC 6455 §5.4)');
    }
    // RFC 6455 §5.2: RSV bits must be 0 unless an extension defines them.
    if ((rsv & ~ctx.allowedRsv) !== 0)
      fail('ERR_UNEXPECTED_RSV', 'RSV bits set that no extension negotiated');
  }
  if (length > ctx.maxFrameSize) {
    fail('ERR_FRAME_TOO_BIG', `frame of ${length} bytes over the limit`, CloseCode.MESSAGE_TOO_BIG);
  }
}
