/* Command line of the load generator. */
#ifndef LOADGEN_OPTIONS_H
#define LOADGEN_OPTIONS_H

#include <stddef.h>

enum mode { MODE_ECHO, MODE_HANDSHAKE, MODE_IDLE };

/* How handshake mode ends each connection once upgraded. */
enum close_style { CLOSE_WEBSOCKET, CLOSE_RESET };

struct options {
  const char *host;
  int port;
  const char *path;
  int connections;
  size_t size;
  int in_flight;
  double duration;
  double warmup;
  double hold;
  int binary;
  enum mode mode;
  enum close_style close_style;
};

/* Parses argv into `o`; prints usage and exits with status 2 on invalid input. */
void options_parse(int argc, char **argv, struct options *o);

#endif
