/*
 * The client side of the RFC 6455 §4.1 opening handshake, reduced to what a load generator needs:
 * build the upgrade request with a fresh random Sec-WebSocket-Key, and find the end of the response
 * head and check its status line. Sec-WebSocket-Accept is not verified (it would cost a SHA-1 per
 * connection and prove nothing about the server's speed); the 101 is.
 */
#ifndef LOADGEN_HANDSHAKE_H
#define LOADGEN_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

/* Response heads longer than this are treated as an error. */
#define HANDSHAKE_HEAD_MAX 4096

/* Seeds the generator of Sec-WebSocket-Key values from the kernel. */
void handshake_seed(void);

/* Writes the upgrade request into `out` (at least 512 + strlen(host) + strlen(path) bytes). */
size_t handshake_request(char *out, const char *host, int port, const char *path);

/*
 * Looks for the end of the response head in `head[0..len)`. Returns 0 while incomplete, -1 when the
 * head is not a 101 Switching Protocols response, else the head length (frames may follow it).
 */
long handshake_response(const char *head, size_t len);

#endif
