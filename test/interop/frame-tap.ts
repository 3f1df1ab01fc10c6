/**
 * Watches the raw bytes a peer sends and lists the frame headers in them (RFC 6455 §5.2), so that a
 * test can check what the peer put on the wire: fragmentation, RSV1 of compressed messages (RFC 7692
 * §6), masking, control frames. It reads headers only and skips payloads without buffering them.
 */

/** One frame header seen on the wire. */
export interface FrameHeader {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  length: number;
}

/** A data message as it was framed on the wire. */
export interface WireMessage {
  /** Opcode of the first frame: 1 (text) or 2 (binary). */
  opcode: number;
  /** RSV1 of the first frame: the message is compressed (RFC 7692 §6). */
  rsv1: boolean;
  frames: FrameHeader[];
}

/** An incremental frame-header scanner: feed it every received chunk in order. */
export class FrameTap {
  readonly frames: FrameHeader[] = [];
  /** Header bytes of the frame being read (at most 14). */
  private header: number[] = [];
  /** Payload bytes still to skip before the next header. */
  private skip = 0;

  /** Scans one chunk. */
  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - offset);
        this.skip -= n;
        offset += n;
        continue;
      }
      this.header.push(chunk[offset++]!);
      this.tryHeader();
    }
  }

  /** Frames of data messages (text, binary, continuation), in order. */
  dataFrames(): FrameHeader[] {
    return this.frames.filter((frame) => frame.opcode < 0x8);
  }

  /** Data frames grouped into messages (RFC 6455 §5.4): the first frame's opcode and RSV1, and the frames. */
  messages(): WireMessage[] {
    const messages: WireMessage[] = [];
    let current: WireMessage | null = null;
    for (const frame of this.dataFrames()) {
      current ??= { opcode: frame.opcode, rsv1: frame.rsv1, frames: [] };
      current.frames.push(frame);
      if (frame.fin) {
        messages.push(current);
        current = null;
      }
    }
    return messages;
  }

  private tryHeader(): void {
    const h = this.header;
    if (h.length < 2) return;
    const len7 = h[1]! & 0x7f;
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const masked = (h[1]! & 0x80) !== 0;
    if (h.length < 2 + extended + (masked ? 4 : 0)) return;
    let length = len7;
    if (extended > 0) {
      length = 0;
      for (let i = 2; i < 2 + extended; i++) length = length * 256 + h[i]!;
    }
    this.frames.push({
      fin: (h[0]! & 0x80) !== 0,
      rsv1: (h[0]! & 0x40) !== 0,
      opcode: h[0]! & 0x0f,
      masked,
      length,
    });
    this.header = [];
    this.skip = length;
  }
}
