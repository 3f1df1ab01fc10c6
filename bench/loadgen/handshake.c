#include "handshake.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

void handshake_seed(void) {
  uint64_t seed;
  if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)time(NULL);
  rng_state ^= seed | 1;
}

/* xorshift64*: the key only has to differ between connections (RFC 6455 §4.1), not be secret. */
static uint64_t next_random(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Dull;
}

static const char BASE64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of 16 random bytes: 24 characters, the last two '=' (RFC 4648 §4). */
static void random_key(char out[25]) {
  uint8_t bytes[18] = {0};
  uint64_t a = next_random(), b = next_random();
  memcpy(bytes, &a, 8);
  memcpy(bytes + 8, &b, 8);
  for (int i = 0, o = 0; i < 18; i += 3, o += 4) {
    uint32_t v = ((uint32_t)bytes[i] << 16) | ((uint32_t)bytes[i + 1] << 8) | bytes[i + 2];
    out[o] = BASE64[v >> 18];
    out[o + 1] = BASE64[(v >> 12) & 63];
    out[o + 2] = BASE64[(v >> 6) & 63];
    out[o + 3] = BASE64[v & 63];
  }
  out[22] = '=';
  out[23] = '=';
  out[24] = '\0';
}

size_t handshake_request(char *out, const char *host, int port, const char *path) {
  char key[25];
  random_key(key);
  int n = sprintf(out,
                  "GET %s HTTP/1.1\r\n"
                  "Host: %s:%d\r\n"
                  "Upgrade: websocket\r\n"
                  "Connection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                  "\r\n",
                  path, host, port, key);
  return n < 0 ? 0 : (size_t)n;
}

long handshake_response(const char *head, size_t len) {
  const char *end = memmem(head, len, "\r\n\r\n", 4);
  if (end == NULL) return len >= HANDSHAKE_HEAD_MAX ? -1 : 0;
  /* RFC 6455 §4.2.2: any status other than 101 means the handshake failed. */
  if (len < 13 || memcmp(head, "HTTP/1.1 101", 12) != 0 || (head[12] != ' ' && head[12] != '\r')) {
    return -1;
  }
  return (long)(end - head) + 4;
}
