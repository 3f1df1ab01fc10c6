#include "fanout_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: fanout-subscribers --port P [--host 127.0.0.1] [--path /] [--connections N]\n"
    "                          [--protocol raw|conduit|socketio] [--topic bench]\n"
    "  Opens N subscriber connections, prints {\"event\":\"ready\",...} once every one is subscribed,\n"
    "  then counts the messages carrying a '#<16-digit CLOCK_REALTIME us>#' stamp and their latency.\n"
    "  stdin commands: 'mark' starts a measured window, 'report' prints it as one JSON line.\n";

static void usage_exit(const char *problem, const char *arg) {
  if (problem != NULL) fprintf(stderr, "fanout-subscribers: %s%s%s\n", problem, arg ? ": " : "", arg ? arg : "");
  fputs(USAGE, stderr);
  exit(2);
}

static int integer(const char *name, const char *text, long min, long max) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min || v > max) usage_exit("invalid value for", name);
  return (int)v;
}

static void set_protocol(struct fanout_options *o, const char *v) {
  if (strcmp(v, "raw") == 0) o->protocol = PROTO_RAW;
  else if (strcmp(v, "conduit") == 0) o->protocol = PROTO_CONDUIT;
  else if (strcmp(v, "socketio") == 0) o->protocol = PROTO_SOCKETIO;
  else usage_exit("unknown protocol", v);
}

void fanout_options_parse(int argc, char **argv, struct fanout_options *o) {
  *o = (struct fanout_options){.host = "127.0.0.1", .path = "/", .topic = "bench", .connections = 1000};
  for (int i = 1; i < argc; i++) {
    const char *name = argv[i];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
      fputs(USAGE, stdout);
      exit(0);
    }
    if (i + 1 >= argc) usage_exit("missing value for", name);
    const char *v = argv[++i];
    if (strcmp(name, "--host") == 0) o->host = v;
    else if (strcmp(name, "--port") == 0) o->port = integer(name, v, 1, 65535);
    else if (strcmp(name, "--path") == 0) o->path = v;
    else if (strcmp(name, "--topic") == 0) o->topic = v;
    else if (strcmp(name, "--connections") == 0) o->connections = integer(name, v, 1, 1000000);
    else if (strcmp(name, "--protocol") == 0) set_protocol(o, v);
    else usage_exit("unknown option", name);
  }
  if (o->port == 0) usage_exit("--port is required", NULL);
  /* The topic goes into a JSON string unescaped, and the request line must stay small. */
  if (strlen(o->host) > 255 || strlen(o->path) > 1024 || o->path[0] != '/' || strlen(o->topic) > 256 ||
      strpbrk(o->topic, "\"\\") != NULL) {
    usage_exit("invalid --host, --path or --topic", NULL);
  }
}
