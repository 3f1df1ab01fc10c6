/*
 * RFC 6455 §5.2 frame reader for the fan-out subscribers. Unlike the echo load generator's reader, this
 * one shows the caller the first bytes of every message (the publish timestamp lives there) while still
 * never copying or buffering whole payloads: the rest of a payload is skipped. A frame head cut by the
 * end of a read is carried over (a few hundred bytes at most) and put in front of the next read.
 */
#ifndef LOADGEN_FANOUT_READER_H
#define LOADGEN_FANOUT_READER_H

#include <stddef.h>
#include <stdint.h>

/* Payload bytes of each message shown to the caller (the rest is skipped unread). */
#define FANOUT_PEEK 128
/* Longest carry-over: a full header plus FANOUT_PEEK bytes, or a whole control frame (RFC 6455 §5.5). */
#define FANOUT_CARRY_MAX 256

/* What the caller does with what arrives. `ctx` is passed through. */
struct fanout_handler {
  /* A data message starts: `peek` holds its first min(length, FANOUT_PEEK) payload bytes. */
  void (*message)(void *ctx, const uint8_t *peek, size_t len);
  /* A ping arrived with this payload (the caller may answer with a pong). */
  void (*ping)(void *ctx, const uint8_t *payload, size_t len);
};

/* Reader state of one connection; zero it to start. */
struct fanout_reader {
  uint64_t skip;          /* payload bytes of the current frame still to discard */
  uint32_t carry_len;
  uint8_t in_message;     /* a fragmented data message is open: continuations are expected */
  uint8_t carry[FANOUT_CARRY_MAX];
};

/* Result of fanout_feed. */
enum fanout_status { FANOUT_OK = 0, FANOUT_CLOSE = 1, FANOUT_ERROR = -1 };

/*
 * Puts the carried-over bytes at the start of `buf` and returns how many: the caller reads the socket
 * into `buf` after them and passes the whole to fanout_feed.
 */
size_t fanout_prepare(struct fanout_reader *r, uint8_t *buf);

/*
 * Parses `len` bytes (carry-over first). Messages are reported where they start (their first fragment).
 * Returns FANOUT_CLOSE at a Close frame, FANOUT_ERROR on invalid framing for a server without
 * extensions (masked frame, RSV bits, unknown opcode, bad fragmentation), else FANOUT_OK.
 */
enum fanout_status fanout_feed(struct fanout_reader *r, const uint8_t *buf, size_t len,
                               const struct fanout_handler *h, void *ctx);

#endif
