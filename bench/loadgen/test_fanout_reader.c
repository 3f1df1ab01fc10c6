/*
 * Checks of the fan-out reader: cut into reads of any size, a stream of server frames gives the same
 * messages, with the same first bytes, as read whole; framing errors are caught.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fanout_reader.h"
#include "frame.h"

/* An unmasked server frame whose payload bytes are fill, fill+1, fill+2, ... */
static size_t server_frame(uint8_t *out, uint8_t first, uint64_t len, uint8_t fill) {
  size_t n = 0;
  out[n++] = first;
  if (len < 126) {
    out[n++] = (uint8_t)len;
  } else if (len <= 0xFFFF) {
    out[n++] = 126;
    out[n++] = (uint8_t)(len >> 8);
    out[n++] = (uint8_t)len;
  } else {
    out[n++] = 127;
    for (int shift = 56; shift >= 0; shift -= 8) out[n++] = (uint8_t)(len >> shift);
  }
  for (uint64_t i = 0; i < len; i++) out[n + i] = (uint8_t)(fill + i);
  return n + len;
}

struct seen {
  int messages, pings, bad_peek;
  uint8_t firsts[16];
  size_t peek_lens[16];
};

static void on_message(void *ctx, const uint8_t *peek, size_t len) {
  struct seen *s = ctx;
  for (size_t i = 1; i < len; i++) {
    if (peek[i] != (uint8_t)(peek[0] + i)) s->bad_peek++;
  }
  if (s->messages < 16) {
    s->firsts[s->messages] = len > 0 ? peek[0] : 0;
    s->peek_lens[s->messages] = len;
  }
  s->messages++;
}

static void on_ping(void *ctx, const uint8_t *payload, size_t len) {
  (void)payload;
  struct seen *s = ctx;
  if (len == 4) s->pings++;
}

static const struct fanout_handler HANDLER = {.message = on_message, .ping = on_ping};
static int failures;

static void expect(int ok, const char *what, size_t step) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s (read size %zu)\n", what, step);
    failures++;
  }
}

/* Feeds `stream` in reads of `step` bytes the way the subscribers do: carry-over first, then the read. */
static enum fanout_status feed_in_steps(const uint8_t *stream, size_t n, size_t step, struct seen *seen) {
  static uint8_t buf[FANOUT_CARRY_MAX + 300000];
  struct fanout_reader r = {0};
  for (size_t i = 0; i < n; i += step) {
    size_t carried = fanout_prepare(&r, buf);
    size_t len = step < n - i ? step : n - i;
    memcpy(buf + carried, stream + i, len);
    enum fanout_status status = fanout_feed(&r, buf, carried + len, &HANDLER, seen);
    if (status != FANOUT_OK) return status;
  }
  return r.carry_len == 0 ? FANOUT_OK : FANOUT_ERROR;
}

int main(void) {
  uint8_t *stream = malloc(300000);
  size_t n = 0;
  n += server_frame(stream + n, 0x81, 64, 'A');    /* the benchmark's case: a small text message */
  n += server_frame(stream + n, 0x82, 0, 0);       /* empty binary */
  n += server_frame(stream + n, 0x81, 125, 'B');   /* longest 7-bit length */
  n += server_frame(stream + n, 0x82, 300, 'C');   /* 16-bit length, longer than the peek */
  n += server_frame(stream + n, 0x82, 70000, 'D'); /* 64-bit length */
  n += server_frame(stream + n, 0x01, 10, 'E');    /* fragmented text: first fragment */
  n += server_frame(stream + n, 0x89, 4, 'p');     /* ping between fragments (RFC 6455 §5.4) */
  n += server_frame(stream + n, 0x80, 20, 'x');    /* final continuation: not a new message */
  n += server_frame(stream + n, 0x81, 1, '2');     /* an Engine.IO ping, as a text message */
  size_t before_close = n;
  n += server_frame(stream + n, 0x88, 2, 0);       /* close */
  const uint8_t firsts[] = {'A', 0, 'B', 'C', 'D', 'E', '2'};
  const size_t peeks[] = {64, 0, 125, FANOUT_PEEK, FANOUT_PEEK, 10, 1};
  const size_t steps[] = {1, 2, 3, 7, 13, 100, 4096, 65536, 300000};
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    struct seen seen = {0};
    enum fanout_status status = feed_in_steps(stream, n, steps[s], &seen);
    expect(status == FANOUT_CLOSE, "ends at the close frame", steps[s]);
    expect(seen.messages == 7, "seven messages", steps[s]);
    expect(seen.pings == 1, "one ping", steps[s]);
    expect(seen.bad_peek == 0, "peeked bytes are the payload's", steps[s]);
    for (int m = 0; m < 7; m++) {
      expect(seen.firsts[m] == firsts[m] && seen.peek_lens[m] == peeks[m], "message start and peek", steps[s]);
    }
    struct seen whole = {0};
    expect(feed_in_steps(stream, before_close, steps[s], &whole) == FANOUT_OK, "no carry-over left",
           steps[s]);
  }
  /* Masked server frame, RSV1 without an extension, reserved opcode, continuation with nothing open,
     fragmented ping, ping over 125 bytes. */
  const uint8_t bad[][2] = {{0x81, 0x80}, {0xC1, 0x00}, {0x83, 0x00}, {0x80, 0x00}, {0x09, 0x00}, {0x89, 126}};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    struct seen seen = {0};
    struct fanout_reader r = {0};
    expect(fanout_feed(&r, bad[b], 2, &HANDLER, &seen) == FANOUT_ERROR, "framing error detected", b);
  }
  free(stream);
  if (failures == 0) puts("fan-out reader: all checks passed");
  return failures == 0 ? 0 : 1;
}
