/*
 * RFC 6455 §5.2 framing as far as a load generator needs it: building one masked client frame, and a
 * streaming reader that finds frame boundaries in received bytes without buffering payloads (the
 * load generator only counts echoed messages, it never looks at their contents).
 */
#ifndef LOADGEN_FRAME_H
#define LOADGEN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define OP_CONTINUATION 0x0
#define OP_TEXT 0x1
#define OP_BINARY 0x2
#define OP_CLOSE 0x8
#define OP_PING 0x9
#define OP_PONG 0xA

/* The longest header: 2 bytes + 8-byte extended length + 4-byte masking key. */
#define FRAME_HEADER_MAX 14

/*
 * Writes one final, masked frame (RFC 6455 §5.3: every client frame is masked) with `payload_len` bytes
 * of `payload` into `out`, which must hold FRAME_HEADER_MAX + payload_len bytes. Returns its length.
 */
size_t frame_build(uint8_t *out, uint8_t opcode, const uint8_t *payload, size_t payload_len,
                   const uint8_t mask_key[4]);

/* Reader state of one connection; zero it to start. */
struct frame_reader {
  uint64_t payload_left;  /* payload bytes of the current frame still to skip */
  uint64_t message_len;   /* payload bytes of the current (possibly fragmented) message so far */
  uint64_t frame_len;     /* payload length of the current frame */
  uint8_t header[FRAME_HEADER_MAX];
  uint8_t header_have;    /* header bytes collected while a header straddles two reads */
  uint8_t in_payload;
  uint8_t opcode;
  uint8_t fin;
  uint8_t in_message;     /* a fragmented data message has started */
};

/* What one call of frame_read found. */
struct frame_events {
  uint32_t messages;      /* complete data messages (text or binary, final fragment seen) */
  uint64_t message_bytes; /* their payload bytes */
  uint32_t pings;
  uint8_t close;          /* a Close frame arrived (RFC 6455 §5.5.1) */
  uint8_t error;          /* the bytes are not valid framing for an extension-less connection */
};

/*
 * Consumes `len` received bytes. Stops early at a Close frame or a framing error; the caller closes
 * the connection in both cases. `data` may be NULL for bytes that were discarded unread, as long as
 * they all belong to the current payload (`len <= payload_left` while `in_payload`).
 */
void frame_read(struct frame_reader *r, const uint8_t *data, size_t len, struct frame_events *ev);

#endif
