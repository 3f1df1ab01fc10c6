/* Checks of the streaming frame reader: every split of a stream of server frames gives the same events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static size_t put_frame(uint8_t *out, uint8_t first, uint64_t len, uint8_t fill) {
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
  memset(out + n, fill, len);
  return n + len;
}

static int failures;

static void expect(int ok, const char *what, size_t step) {
  if (!ok) {
    fprintf(stderr, "FAIL: %s (chunk size %zu)\n", what, step);
    failures++;
  }
}

int main(void) {
  uint8_t *stream = malloc(200000);
  size_t n = 0;
  n += put_frame(stream + n, 0x81, 5, 'a');        /* text, 7-bit length */
  n += put_frame(stream + n, 0x82, 0, 0);          /* empty binary */
  n += put_frame(stream + n, 0x82, 300, 1);        /* 16-bit length */
  n += put_frame(stream + n, 0x82, 70000, 2);      /* 64-bit length */
  n += put_frame(stream + n, 0x01, 10, 'b');       /* fragmented text: first fragment */
  n += put_frame(stream + n, 0x89, 4, 'p');        /* ping in between (RFC 6455 §5.4) */
  n += put_frame(stream + n, 0x80, 20, 'c');       /* final continuation */
  size_t before_close = n;
  n += put_frame(stream + n, 0x88, 2, 0);          /* close */
  const uint64_t bytes = 5 + 0 + 300 + 70000 + 30;
  size_t steps[] = {1, 2, 3, 7, 13, 100, 4096, 65536, 200000};
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    struct frame_reader r = {0};
    struct frame_events ev = {0};
    for (size_t i = 0; i < n && !ev.close && !ev.error; i += steps[s]) {
      frame_read(&r, stream + i, steps[s] < n - i ? steps[s] : n - i, &ev);
    }
    expect(ev.messages == 5, "five messages", steps[s]);
    expect(ev.message_bytes == bytes, "message bytes", steps[s]);
    expect(ev.pings == 1, "one ping", steps[s]);
    expect(ev.close == 1 && ev.error == 0, "close, no error", steps[s]);
  }
  /* Payload bytes discarded unread (data == NULL), as the MSG_TRUNC path does. */
  struct frame_reader r = {0};
  struct frame_events ev = {0};
  frame_read(&r, stream, 10, &ev); /* the text frame, the empty one, one byte of the next header */
  size_t i = 10;
  while (i < before_close) {
    if (r.in_payload && r.payload_left > 0) {
      size_t skip = (size_t)r.payload_left;
      frame_read(&r, NULL, skip, &ev);
      i += skip;
    } else {
      frame_read(&r, stream + i, 1, &ev);
      i++;
    }
  }
  expect(ev.messages == 5 && ev.message_bytes == bytes && !ev.error, "discarded payloads", 0);
  /* Framing errors: RSV1 without an extension, reserved opcode, a continuation with nothing open. */
  const uint8_t bad[][2] = {{0xC1, 0x00}, {0x83, 0x00}, {0x80, 0x00}, {0x09, 0x00}};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    struct frame_reader br = {0};
    struct frame_events bev = {0};
    frame_read(&br, bad[b], 2, &bev);
    expect(bev.error == 1, "framing error detected", b);
  }
  free(stream);
  if (failures == 0) puts("frame reader: all checks passed");
  return failures == 0 ? 0 : 1;
}
