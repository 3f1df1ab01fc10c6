#include "fanout_reader.h"

#include <string.h>

#include "frame.h"

size_t fanout_prepare(struct fanout_reader *r, uint8_t *buf) {
  memcpy(buf, r->carry, r->carry_len);
  size_t n = r->carry_len;
  r->carry_len = 0;
  return n;
}

struct head {
  size_t header_len;
  uint64_t payload_len;
  uint8_t opcode;
  uint8_t fin;
};

/* Decodes the header at `p`: 1 when complete, 0 when more bytes are needed, -1 on a framing error. */
static int decode(const uint8_t *p, size_t avail, struct head *h) {
  if (avail < 2) return 0;
  /* RFC 6455 §5.1: a server never masks; §5.2: RSV bits need a negotiated extension (none here). */
  if ((p[1] & 0x80) || (p[0] & 0x70)) return -1;
  h->opcode = p[0] & 0x0F;
  h->fin = p[0] >> 7;
  if ((h->opcode > OP_BINARY && h->opcode < OP_CLOSE) || h->opcode > OP_PONG) return -1;
  uint64_t len = p[1] & 0x7F;
  /* RFC 6455 §5.5: control frames are final and carry at most 125 bytes. */
  if (h->opcode >= OP_CLOSE && (len > 125 || !h->fin)) return -1;
  h->header_len = len == 126 ? 4 : len == 127 ? 10 : 2;
  if (avail < h->header_len) return 0;
  if (len == 126) {
    len = ((uint64_t)p[2] << 8) | p[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 2; i < 10; i++) len = (len << 8) | p[i];
    if (len >> 63) return -1;
  }
  h->payload_len = len;
  return 1;
}

/* RFC 6455 §5.4: a continuation needs an open message, a new data message needs none. */
static int fragment_ok(struct fanout_reader *r, const struct head *h) {
  if ((h->opcode == OP_CONTINUATION) != (r->in_message != 0)) return 0;
  r->in_message = !h->fin;
  return 1;
}

enum fanout_status fanout_feed(struct fanout_reader *r, const uint8_t *buf, size_t len,
                               const struct fanout_handler *h, void *ctx) {
  size_t i = 0;
  while (i < len) {
    if (r->skip > 0) {
      uint64_t take = r->skip < len - i ? r->skip : len - i;
      i += take;
      r->skip -= take;
      continue;
    }
    const uint8_t *p = buf + i;
    size_t avail = len - i;
    struct head f;
    int got = decode(p, avail, &f);
    if (got < 0) return FANOUT_ERROR;
    if (got == 0) break;
    if (f.opcode >= OP_CLOSE) {
      if (avail < f.header_len + f.payload_len) break;
      if (f.opcode == OP_CLOSE) return FANOUT_CLOSE;
      if (f.opcode == OP_PING && h->ping != NULL) h->ping(ctx, p + f.header_len, f.payload_len);
      i += f.header_len + f.payload_len;
      continue;
    }
    size_t peek = f.payload_len < FANOUT_PEEK ? (size_t)f.payload_len : FANOUT_PEEK;
    if (avail < f.header_len + peek) break;
    if (!fragment_ok(r, &f)) return FANOUT_ERROR;
    if (f.opcode != OP_CONTINUATION) h->message(ctx, p + f.header_len, peek);
    uint64_t here = avail - f.header_len;
    uint64_t take = f.payload_len < here ? f.payload_len : here;
    i += f.header_len + take;
    r->skip = f.payload_len - take;
  }
  /* What is left is an incomplete header, or a header and fewer than `peek` bytes: it fits the carry. */
  size_t rest = len - i;
  if (rest > FANOUT_CARRY_MAX) return FANOUT_ERROR;
  memcpy(r->carry, buf + i, rest);
  r->carry_len = (uint32_t)rest;
  return FANOUT_OK;
}
