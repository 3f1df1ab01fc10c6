/* Command line of the fan-out subscribers (fanout_subscribers.c). */
#ifndef LOADGEN_FANOUT_OPTIONS_H
#define LOADGEN_FANOUT_OPTIONS_H

/* What a subscriber says after the upgrade, and how it knows its subscription is active. */
enum fanout_protocol {
  PROTO_RAW,      /* plain WebSocket: the server subscribes every connection itself */
  PROTO_CONDUIT,  /* conduit.v1: send subscribe, wait for "subscribed" */
  PROTO_SOCKETIO  /* Engine.IO 4 / Socket.IO 5 over WebSocket: send the "40" connect, wait for "40{" */
};

struct fanout_options {
  const char *host;
  int port;
  const char *path;
  const char *topic;
  int connections;
  enum fanout_protocol protocol;
};

/* Parses argv into `o`; prints usage and exits with status 2 on invalid input. */
void fanout_options_parse(int argc, char **argv, struct fanout_options *o);

#endif
