#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: loadgen --port P [--host 127.0.0.1] [--path /] [--connections N] [--size BYTES]\n"
    "               [--in-flight K] [--duration S] [--warmup S] [--binary]\n"
    "               [--mode echo|handshake|idle] [--hold S] [--close websocket|reset]\n"
    "  echo       N connections keep K messages of BYTES in flight; prints msgs/s and latency\n"
    "  handshake  N concurrent connect + upgrade + close cycles; prints handshakes/s\n"
    "             (--close websocket: Close frame, wait for the server's FIN; reset: TCP reset)\n"
    "  idle       opens N connections, prints {\"event\":\"open\"...}, holds them S seconds\n";

static void usage_exit(const char *problem, const char *arg) {
  if (problem != NULL) fprintf(stderr, "loadgen: %s%s%s\n", problem, arg ? ": " : "", arg ? arg : "");
  fputs(USAGE, stderr);
  exit(2);
}

static double number(const char *name, const char *text, double min, double max) {
  char *end;
  double v = strtod(text, &end);
  if (*text == '\0' || *end != '\0' || !(v >= min && v <= max)) usage_exit("invalid value for", name);
  return v;
}

static void set_mode(struct options *o, const char *v) {
  if (strcmp(v, "echo") == 0) o->mode = MODE_ECHO;
  else if (strcmp(v, "handshake") == 0) o->mode = MODE_HANDSHAKE;
  else if (strcmp(v, "idle") == 0) o->mode = MODE_IDLE;
  else usage_exit("unknown mode", v);
}

static void set_close(struct options *o, const char *v) {
  if (strcmp(v, "websocket") == 0) o->close_style = CLOSE_WEBSOCKET;
  else if (strcmp(v, "reset") == 0) o->close_style = CLOSE_RESET;
  else usage_exit("unknown close style", v);
}

/* Applies one `--name value` pair. */
static void set_option(struct options *o, const char *name, const char *v) {
  if (strcmp(name, "--host") == 0) o->host = v;
  else if (strcmp(name, "--port") == 0) o->port = (int)number(name, v, 1, 65535);
  else if (strcmp(name, "--path") == 0) o->path = v;
  else if (strcmp(name, "--connections") == 0) o->connections = (int)number(name, v, 1, 1000000);
  else if (strcmp(name, "--size") == 0) o->size = (size_t)number(name, v, 0, 256.0 * 1024 * 1024);
  else if (strcmp(name, "--in-flight") == 0) o->in_flight = (int)number(name, v, 1, 100000);
  else if (strcmp(name, "--duration") == 0) o->duration = number(name, v, 0.1, 3600);
  else if (strcmp(name, "--warmup") == 0) o->warmup = number(name, v, 0, 3600);
  else if (strcmp(name, "--hold") == 0) o->hold = number(name, v, 0, 3600);
  else if (strcmp(name, "--mode") == 0) set_mode(o, v);
  else if (strcmp(name, "--close") == 0) set_close(o, v);
  else usage_exit("unknown option", name);
}

void options_parse(int argc, char **argv, struct options *o) {
  *o = (struct options){.host = "127.0.0.1", .path = "/", .connections = 100, .size = 64,
                        .in_flight = 1, .duration = 5, .warmup = 1, .hold = 5, .mode = MODE_ECHO};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--binary") == 0) {
      o->binary = 1;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(USAGE, stdout);
      exit(0);
    } else {
      if (i + 1 >= argc) usage_exit("missing value for", argv[i]);
      set_option(o, argv[i], argv[i + 1]);
      i++;
    }
  }
  if (o->port == 0) usage_exit("--port is required", NULL);
  if (strlen(o->host) > 255 || strlen(o->path) > 1024 || o->path[0] != '/') {
    usage_exit("invalid --host or --path", NULL);
  }
}
