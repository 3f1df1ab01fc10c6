/*
 * fanout-subscribers: N WebSocket subscribers of one topic on one epoll thread, for the fan-out
 * benchmark (bench/fanout.bench.ts, method in docs/benchmarks.md). The server publishes messages whose
 * payload carries '#' + the publish time (CLOCK_REALTIME, microseconds, 16 digits) + '#'; every message
 * received with such a stamp counts as one delivery, and now - stamp is its latency. Both processes run
 * on one machine, so they read the same realtime clock.
 *
 * The benchmark drives it through stdin: "mark" starts a measured window (counters, histogram and CPU
 * time reset), "report" prints the window as one JSON line. End of stdin ends the program.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fanout_options.h"
#include "fanout_reader.h"
#include "frame.h"
#include "handshake.h"
#include "histogram.h"

#define NS_PER_S 1000000000ull
#define READ_BUFFER_SIZE (256 * 1024)
#define MAX_EVENTS 1024
#define CONNECT_CONCURRENCY 256 /* pending connects; stays under Node's default listen backlog */
#define SETUP_TIMEOUT_NS (60 * NS_PER_S)
#define STAMP_DIGITS 16

enum sub_state { S_IDLE, S_CONNECTING, S_UPGRADING, S_OPEN, S_DEAD };

struct sub {
  int fd;
  uint8_t state;
  uint8_t ready;          /* the subscription is active (or the protocol needs no request) */
  uint16_t head_len;
  char *head;             /* the response head while upgrading, then freed */
  struct fanout_reader reader;
};

struct run {
  struct fanout_options o;
  struct sockaddr_in addr;
  int epfd;
  struct sub *subs;
  uint8_t *rbuf;
  int next_to_open, pending, ready_count, announced;
  uint64_t now_ns;        /* CLOCK_MONOTONIC, for timeouts and window length */
  int64_t now_us;         /* CLOCK_REALTIME in microseconds, for latency (taken once per read) */
  uint64_t setup_start;
  uint64_t total, errors; /* since the start */
  uint64_t messages;      /* in the current window */
  int64_t max_latency_us;
  uint64_t window_start;
  struct rusage usage_start;
  struct histogram hist;
  char line[256];
  size_t line_len;
};

/* Marks the stdin entry in epoll (sockets carry their struct sub). */
static int stdin_tag;

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what, const char *detail) {
  fprintf(stderr, "fanout-subscribers: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void sub_close(struct run *r, struct sub *s) {
  if (s->state == S_CONNECTING || s->state == S_UPGRADING) r->pending--;
  if (s->ready) r->ready_count--;
  close(s->fd);
  s->fd = -1;
  free(s->head);
  s->head = NULL;
  s->ready = 0;
  s->state = S_DEAD;
}

/* A subscriber failed: fatal until every one is ready (the figures would be for fewer), counted after. */
static void sub_failed(struct run *r, struct sub *s, const char *what, const char *detail) {
  if (!r->announced) {
    char message[192];
    snprintf(message, sizeof message, "subscriber to %s:%d%s failed: %s", r->o.host, r->o.port, r->o.path,
             what);
    fatal(message, detail);
  }
  r->errors++;
  sub_close(r, s);
}

/* Sends one small masked frame (subscribe request, pong); it always fits an idle socket's buffer. */
static void send_frame(struct run *r, struct sub *s, uint8_t opcode, const void *data, size_t len) {
  static const uint8_t mask_key[4] = {0x5A, 0x13, 0xC4, 0x7E};
  uint8_t frame[FRAME_HEADER_MAX + 512];
  if (len > 512) fatal("internal", "control message too long");
  size_t n = frame_build(frame, opcode, data, len, mask_key);
  if (send(s->fd, frame, n, MSG_NOSIGNAL) != (ssize_t)n) sub_failed(r, s, "send", strerror(errno));
}

static void set_ready(struct run *r, struct sub *s) {
  if (s->ready) return;
  s->ready = 1;
  r->ready_count++;
}

/* The 16 digits between two '#' in the first bytes of a message, or -1 when it carries no stamp. */
static int64_t find_stamp(const uint8_t *p, size_t len) {
  const uint8_t *hash = memchr(p, '#', len);
  if (hash == NULL || (size_t)(hash - p) + STAMP_DIGITS + 2 > len || hash[STAMP_DIGITS + 1] != '#') return -1;
  int64_t v = 0;
  for (int i = 1; i <= STAMP_DIGITS; i++) {
    unsigned digit = (unsigned)hash[i] - '0';
    if (digit > 9) return -1;
    v = v * 10 + digit;
  }
  return v;
}

static int starts_with(const uint8_t *p, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(p, prefix, n) == 0;
}

/* A message that is not a publication: the subscription's answer, or an Engine.IO ping. */
static void on_control(struct run *r, struct sub *s, const uint8_t *p, size_t len) {
  if (s->state != S_OPEN) return; /* failed earlier in this read */
  if (r->o.protocol == PROTO_CONDUIT && starts_with(p, len, "{\"type\":\"subscribed\"")) set_ready(r, s);
  if (r->o.protocol == PROTO_SOCKETIO) {
    /* Engine.IO packet types: 2 is ping (answered by 3, pong); Socket.IO "40{...}" acknowledges connect. */
    if (len == 1 && p[0] == '2') send_frame(r, s, OP_TEXT, "3", 1);
    else if (starts_with(p, len, "40")) set_ready(r, s);
  }
}

/* What the reader's callbacks need. */
struct feed_ctx {
  struct run *r;
  struct sub *s;
};

static void on_message(void *ctx, const uint8_t *p, size_t len) {
  struct run *r = ((struct feed_ctx *)ctx)->r;
  struct sub *s = ((struct feed_ctx *)ctx)->s;
  int64_t stamp = find_stamp(p, len);
  if (stamp < 0) {
    on_control(r, s, p, len);
    return;
  }
  r->total++;
  r->messages++;
  int64_t latency = r->now_us - stamp;
  if (latency < 0) latency = 0;
  if (latency > r->max_latency_us) r->max_latency_us = latency;
  hist_record(&r->hist, (uint64_t)latency * 1000);
}

static void on_ping(void *ctx, const uint8_t *payload, size_t len) {
  struct feed_ctx *c = ctx;
  if (c->s->state == S_OPEN) send_frame(c->r, c->s, OP_PONG, payload, len);
}

static const struct fanout_handler HANDLER = {.message = on_message, .ping = on_ping};

/* Parses `len` bytes at the start of the read buffer (carry-over included). */
static void feed(struct run *r, struct sub *s, size_t len) {
  r->now_us = (int64_t)(clock_ns(CLOCK_REALTIME) / 1000);
  struct feed_ctx ctx = {.r = r, .s = s};
  enum fanout_status status = fanout_feed(&s->reader, r->rbuf, len, &HANDLER, &ctx);
  if (s->state != S_OPEN) return; /* a callback failed it */
  if (status == FANOUT_CLOSE) sub_failed(r, s, "closed", "the server sent a Close frame");
  else if (status == FANOUT_ERROR) sub_failed(r, s, "protocol", "invalid frame from the server");
}

static void on_readable(struct run *r, struct sub *s) {
  size_t carried = fanout_prepare(&s->reader, r->rbuf);
  ssize_t n = read(s->fd, r->rbuf + carried, READ_BUFFER_SIZE - carried);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    memcpy(s->reader.carry, r->rbuf, carried);
    s->reader.carry_len = (uint32_t)carried;
    return;
  }
  if (n <= 0) {
    sub_failed(r, s, "read", n == 0 ? "the server closed the connection" : strerror(errno));
    return;
  }
  feed(r, s, carried + (size_t)n);
}

/* The request that makes a fresh connection a subscriber of the topic. */
static void subscribe(struct run *r, struct sub *s) {
  char text[320];
  switch (r->o.protocol) {
  case PROTO_CONDUIT:
    snprintf(text, sizeof text, "{\"type\":\"subscribe\",\"topic\":\"%s\"}", r->o.topic);
    send_frame(r, s, OP_TEXT, text, strlen(text));
    break;
  case PROTO_SOCKETIO:
    send_frame(r, s, OP_TEXT, "40", 2); /* Socket.IO CONNECT to the main namespace */
    break;
  default:
    set_ready(r, s);
  }
}

static void on_head_bytes(struct run *r, struct sub *s) {
  ssize_t n = read(s->fd, s->head + s->head_len, HANDSHAKE_HEAD_MAX - s->head_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    sub_failed(r, s, "upgrade", n == 0 ? "connection closed before the response" : strerror(errno));
    return;
  }
  s->head_len = (uint16_t)(s->head_len + n);
  long head = handshake_response(s->head, s->head_len);
  if (head == 0) return;
  if (head < 0) {
    char *eol = memchr(s->head, '\r', s->head_len);
    if (eol != NULL) *eol = '\0';
    else s->head[s->head_len < HANDSHAKE_HEAD_MAX ? s->head_len : HANDSHAKE_HEAD_MAX - 1] = '\0';
    sub_failed(r, s, "upgrade refused", s->head);
    return;
  }
  /* Frames may follow the head in the same read (a server's greeting): they are parsed at once. */
  size_t extra = s->head_len - (size_t)head;
  memcpy(r->rbuf, s->head + head, extra);
  free(s->head);
  s->head = NULL;
  r->pending--;
  s->state = S_OPEN;
  subscribe(r, s);
  if (extra > 0 && s->state == S_OPEN) feed(r, s, extra);
}

static void on_connected(struct run *r, struct sub *s) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    sub_failed(r, s, "connect", strerror(err));
    return;
  }
  char request[1536];
  size_t n = handshake_request(request, r->o.host, r->o.port, r->o.path);
  if (send(s->fd, request, n, MSG_NOSIGNAL) != (ssize_t)n) {
    sub_failed(r, s, "send", "could not write the upgrade request");
    return;
  }
  s->head = malloc(HANDSHAKE_HEAD_MAX);
  if (s->head == NULL) fatal("out of memory", NULL);
  s->head_len = 0;
  s->state = S_UPGRADING;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
  if (epoll_ctl(r->epfd, EPOLL_CTL_MOD, s->fd, &ev) != 0) fatal("epoll_ctl", strerror(errno));
}

static void sub_start(struct run *r, struct sub *s) {
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0) fatal("socket", strerror(errno));
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->state = S_CONNECTING;
  r->pending++;
  if (connect(s->fd, (struct sockaddr *)&r->addr, sizeof r->addr) != 0 && errno != EINPROGRESS) {
    sub_failed(r, s, "connect", strerror(errno));
    return;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
  if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0) fatal("epoll_ctl", strerror(errno));
}

static double cpu_seconds(const struct rusage *u) {
  return (double)u->ru_utime.tv_sec + (double)u->ru_utime.tv_usec / 1e6 + (double)u->ru_stime.tv_sec +
         (double)u->ru_stime.tv_usec / 1e6;
}

static void mark(struct run *r) {
  r->messages = 0;
  r->max_latency_us = 0;
  hist_reset(&r->hist);
  r->window_start = r->now_ns;
  getrusage(RUSAGE_SELF, &r->usage_start);
}

static void report(struct run *r) {
  struct rusage end;
  getrusage(RUSAGE_SELF, &end);
  double secs = (double)(r->now_ns - r->window_start) / 1e9;
  if (secs <= 0) secs = 1e-9;
  printf("{\"messages\":%llu,\"seconds\":%.3f,\"msgs_per_sec\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
         "\"p999_us\":%.1f,\"max_us\":%lld,\"total\":%llu,\"connections\":%d,\"ready\":%d,\"errors\":%llu,"
         "\"cpu\":%.3f}\n",
         (unsigned long long)r->messages, secs, (double)r->messages / secs, hist_quantile(&r->hist, 0.5) / 1e3,
         hist_quantile(&r->hist, 0.99) / 1e3, hist_quantile(&r->hist, 0.999) / 1e3,
         (long long)r->max_latency_us, (unsigned long long)r->total, r->o.connections, r->ready_count,
         (unsigned long long)r->errors, (cpu_seconds(&end) - cpu_seconds(&r->usage_start)) / secs);
  fflush(stdout);
}

/* Commands from the benchmark, one per line. Returns 0 at end of input. */
static int on_stdin(struct run *r) {
  ssize_t n = read(STDIN_FILENO, r->line + r->line_len, sizeof r->line - 1 - r->line_len);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  if (n == 0) return 0;
  r->line_len += (size_t)n;
  char *eol;
  while ((eol = memchr(r->line, '\n', r->line_len)) != NULL) {
    *eol = '\0';
    if (strcmp(r->line, "mark") == 0) mark(r);
    else if (strcmp(r->line, "report") == 0) report(r);
    size_t used = (size_t)(eol - r->line) + 1;
    memmove(r->line, eol + 1, r->line_len - used);
    r->line_len -= used;
  }
  if (r->line_len == sizeof r->line - 1) r->line_len = 0; /* an overlong line: drop it */
  return 1;
}

static void dispatch(struct run *r, struct sub *s) {
  switch (s->state) {
  case S_CONNECTING:
    on_connected(r, s);
    break;
  case S_UPGRADING:
    on_head_bytes(r, s);
    break;
  case S_OPEN:
    on_readable(r, s);
    break;
  default:
    break; /* an event for a socket closed earlier in this batch */
  }
}

/* Opens connections up to the concurrency limit; announces readiness once all are subscribed. */
static void progress(struct run *r) {
  while (r->next_to_open < r->o.connections && r->pending < CONNECT_CONCURRENCY) {
    sub_start(r, &r->subs[r->next_to_open++]);
  }
  if (r->announced) return;
  if (r->ready_count == r->o.connections) {
    r->announced = 1;
    printf("{\"event\":\"ready\",\"connections\":%d,\"connect_ms\":%.1f}\n", r->ready_count,
           (double)(r->now_ns - r->setup_start) / 1e6);
    fflush(stdout);
  } else if (r->now_ns - r->setup_start > SETUP_TIMEOUT_NS) {
    char detail[96];
    snprintf(detail, sizeof detail, "%d of %d subscribers ready after 60 s", r->ready_count, r->o.connections);
    fatal("setup timed out", detail);
  }
}

static void raise_fd_limit(int connections) {
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < (rlim_t)connections + 16) fatal("file descriptor limit", "too low for --connections");
}

static void setup(struct run *r, int argc, char **argv) {
  memset(r, 0, sizeof *r);
  fanout_options_parse(argc, argv, &r->o);
  raise_fd_limit(r->o.connections);
  signal(SIGPIPE, SIG_IGN);
  handshake_seed();
  r->addr.sin_family = AF_INET;
  r->addr.sin_port = htons((uint16_t)r->o.port);
  if (inet_pton(AF_INET, r->o.host, &r->addr.sin_addr) != 1) fatal("--host must be an IPv4 address", r->o.host);
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  r->subs = calloc((size_t)r->o.connections, sizeof *r->subs);
  r->rbuf = malloc(READ_BUFFER_SIZE);
  if (r->epfd < 0 || r->subs == NULL || r->rbuf == NULL) fatal("setup", strerror(errno));
  for (int i = 0; i < r->o.connections; i++) r->subs[i].fd = -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stdin_tag};
  if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, STDIN_FILENO, &ev) != 0) fatal("stdin must be a pipe", strerror(errno));
}

int main(int argc, char **argv) {
  static struct run run;
  struct run *r = &run;
  setup(r, argc, argv);
  struct epoll_event events[MAX_EVENTS];
  r->now_ns = r->setup_start = clock_ns(CLOCK_MONOTONIC);
  mark(r);
  for (;;) {
    progress(r);
    int n = epoll_wait(r->epfd, events, MAX_EVENTS, 100);
    if (n < 0 && errno != EINTR) fatal("epoll_wait", strerror(errno));
    r->now_ns = clock_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr != &stdin_tag) dispatch(r, events[i].data.ptr);
      else if (!on_stdin(r)) return 0;
    }
  }
}
