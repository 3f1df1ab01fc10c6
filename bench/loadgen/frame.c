#include "frame.h"

#include <string.h>

size_t frame_build(uint8_t *out, uint8_t opcode, const uint8_t *payload, size_t payload_len,
                   const uint8_t mask_key[4]) {
  size_t n = 0;
  out[n++] = (uint8_t)(0x80 | opcode);
  /* RFC 6455 §5.2: the minimal length form, with the MASK bit set. */
  if (payload_len < 126) {
    out[n++] = (uint8_t)(0x80 | payload_len);
  } else if (payload_len <= 0xFFFF) {
    out[n++] = 0x80 | 126;
    out[n++] = (uint8_t)(payload_len >> 8);
    out[n++] = (uint8_t)payload_len;
  } else {
    out[n++] = 0x80 | 127;
    for (int shift = 56; shift >= 0; shift -= 8) out[n++] = (uint8_t)((uint64_t)payload_len >> shift);
  }
  memcpy(out + n, mask_key, 4);
  n += 4;
  for (size_t i = 0; i < payload_len; i++) out[n + i] = payload[i] ^ mask_key[i & 3];
  return n + payload_len;
}

/* Header length implied by its first two bytes (RFC 6455 §5.2). */
static size_t header_length(const uint8_t *h) {
  size_t n = 2;
  uint8_t len7 = h[1] & 0x7F;
  if (len7 == 126) n += 2;
  else if (len7 == 127) n += 8;
  if (h[1] & 0x80) n += 4;
  return n;
}

/* Decodes a complete header; returns 0 on a framing error. */
static int decode_header(struct frame_reader *r, const uint8_t *h) {
  uint8_t opcode = h[0] & 0x0F;
  if (h[0] & 0x70) return 0; /* RSV1-3 without a negotiated extension: RFC 6455 §5.2 */
  if ((opcode > OP_BINARY && opcode < OP_CLOSE) || opcode > OP_PONG) return 0;
  uint64_t len = h[1] & 0x7F;
  if (len == 126) {
    len = ((uint64_t)h[2] << 8) | h[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 2; i < 10; i++) len = (len << 8) | h[i];
    if (len >> 63) return 0; /* the most significant bit must be 0 */
  }
  if (opcode >= OP_CLOSE && (len > 125 || !(h[0] & 0x80))) return 0; /* RFC 6455 §5.5 */
  r->opcode = opcode;
  r->fin = h[0] >> 7;
  r->frame_len = len;
  r->payload_left = len;
  r->in_payload = 1;
  return 1;
}

static void frame_done(struct frame_reader *r, struct frame_events *ev) {
  r->in_payload = 0;
  if (r->opcode >= OP_CLOSE) {
    if (r->opcode == OP_CLOSE) ev->close = 1;
    else if (r->opcode == OP_PING) ev->pings++; /* ignored: nothing in a load test pings */
    return;
  }
  /* RFC 6455 §5.4: a continuation needs an open message, a new data frame needs none. */
  if ((r->opcode == OP_CONTINUATION) != (r->in_message != 0)) {
    ev->error = 1;
    return;
  }
  r->message_len += r->frame_len;
  r->in_message = !r->fin;
  if (r->fin) {
    ev->messages++;
    ev->message_bytes += r->message_len;
    r->message_len = 0;
  }
}

/* Collects a header that straddles reads; returns bytes consumed. */
static size_t collect_header(struct frame_reader *r, const uint8_t *data, size_t len,
                             struct frame_events *ev) {
  size_t used = 0;
  while (used < len) {
    r->header[r->header_have++] = data[used++];
    if (r->header_have >= 2 && r->header_have == header_length(r->header)) {
      r->header_have = 0;
      if (!decode_header(r, r->header)) ev->error = 1;
      break;
    }
  }
  return used;
}

void frame_read(struct frame_reader *r, const uint8_t *data, size_t len, struct frame_events *ev) {
  size_t i = 0;
  while (!ev->error && !ev->close) {
    if (r->in_payload) {
      uint64_t skip = r->payload_left < len - i ? r->payload_left : len - i;
      i += skip;
      r->payload_left -= skip;
      if (r->payload_left != 0) return;
      frame_done(r, ev);
      continue;
    }
    if (i == len) return;
    /* Fast path: the whole header is in this read. */
    if (r->header_have == 0 && len - i >= 2 && len - i >= header_length(data + i)) {
      size_t n = header_length(data + i);
      if (!decode_header(r, data + i)) ev->error = 1;
      i += n;
    } else {
      i += collect_header(r, data + i, len - i, ev);
    }
  }
}
