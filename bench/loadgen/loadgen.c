/*
 * loadgen: a single-threaded epoll WebSocket load generator for the server benchmarks (bench/).
 * The caller pins it to one CPU and the server to another; see docs/benchmarks-method.md.
 *
 * Echo mode: N connections each keep K messages in flight. Every frame sent is the same masked frame,
 * so a connection's outgoing bytes are a repetition of one frame: the pending output is just a byte
 * count and a phase within that frame, and any number of frames goes out in one write() from a buffer
 * holding K + 1 copies. Received frames are only delimited, never copied. Latency is measured per
 * connection in FIFO order (an echo server answers in order): send time -> time the echo was read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#include "frame.h"
#include "handshake.h"
#include "histogram.h"
#include "options.h"

#define READ_BUFFER_SIZE (256 * 1024)
#define MAX_EVENTS 1024
#ifndef SKIP_IN_KERNEL_MIN
#define SKIP_IN_KERNEL_MIN (16 * 1024)
#endif
#define CONNECT_CONCURRENCY 256   /* pending connects; stays under Node's default listen backlog */
#define CONNECT_TIMEOUT_NS (10 * NS_PER_S)
#define SETUP_TIMEOUT_NS (60 * NS_PER_S)
#define CLOSE_TIMEOUT_NS (2 * NS_PER_S)
#define STREAM_BUFFER_MAX (64u * 1024 * 1024)
#define NS_PER_S 1000000000ull

enum conn_state { C_IDLE, C_CONNECTING, C_UPGRADING, C_OPEN, C_CLOSING, C_DEAD };
enum phase { P_SETUP, P_WARMUP, P_MEASURE, P_HOLD };

struct conn {
  int fd;
  uint8_t state;
  uint8_t want_out;
  uint16_t head_len;
  char *head;             /* the response head while upgrading, then freed */
  uint64_t started_ns;    /* when connect() was called */
  uint64_t deadline_ns;   /* for CONNECTING, UPGRADING and CLOSING */
  struct frame_reader reader;
  uint64_t out_pending;   /* bytes of the repeated frame still to write */
  size_t out_phase;       /* offset in the frame where the next write starts */
  uint64_t *sent_ns;      /* FIFO ring of send times, capacity in_flight */
  uint32_t fifo_head, fifo_count;
};

struct run {
  struct options o;
  struct sockaddr_in addr;
  int epfd;
  struct conn *conns;
  uint8_t *stream;        /* whole frames, back to back */
  size_t frame_len, stream_len;
  uint8_t *rbuf;
  enum phase phase;
  uint64_t now, phase_end, measure_start;
  int next_to_open, pending_connects, open_count, ever_upgraded;
  int *reopen;            /* handshake mode: slots to reconnect after the current batch */
  int reopen_count;
  uint64_t errors, messages, bytes, handshakes;
  struct histogram hist;
  struct rusage usage_start;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what, const char *detail) {
  fprintf(stderr, "loadgen: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static void watch(struct run *r, struct conn *c, int op, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(r->epfd, op, c->fd, &ev) != 0) fatal("epoll_ctl", strerror(errno));
}

static void want_output(struct run *r, struct conn *c, int on) {
  c->want_out = (uint8_t)on;
  watch(r, c, EPOLL_CTL_MOD, on ? EPOLLIN | EPOLLOUT : EPOLLIN);
}

/* Closes the socket; `abort` sends a reset instead of a FIN (no TIME_WAIT left behind). */
static void conn_close(struct run *r, struct conn *c, int abort, enum conn_state next) {
  if (abort) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  if (c->state == C_CONNECTING || c->state == C_UPGRADING) r->pending_connects--;
  if (c->state == C_OPEN) r->open_count--;
  close(c->fd);
  c->fd = -1;
  free(c->head);
  c->head = NULL;
  c->state = (uint8_t)next;
  if (next == C_IDLE) r->reopen[r->reopen_count++] = (int)(c - r->conns);
}

/* A connection failed. Before the load starts that is fatal; afterwards it is counted. */
static void conn_failed(struct run *r, struct conn *c, const char *what, const char *detail) {
  int handshake_mode = r->o.mode == MODE_HANDSHAKE;
  if ((r->phase == P_SETUP && !handshake_mode) || (handshake_mode && !r->ever_upgraded)) {
    char message[160];
    snprintf(message, sizeof message, "connecting to %s:%d%s failed: %s", r->o.host, r->o.port,
             r->o.path, what);
    fatal(message, detail);
  }
  r->errors++;
  conn_close(r, c, 1, handshake_mode ? C_IDLE : C_DEAD);
}

static void conn_start(struct run *r, struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) fatal("socket", strerror(errno));
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->state = C_CONNECTING;
  c->started_ns = r->now;
  c->deadline_ns = r->now + CONNECT_TIMEOUT_NS;
  memset(&c->reader, 0, sizeof c->reader);
  c->out_pending = 0;
  c->out_phase = 0;
  c->fifo_head = c->fifo_count = 0;
  c->want_out = 0;
  r->pending_connects++;
  if (connect(c->fd, (struct sockaddr *)&r->addr, sizeof r->addr) != 0 && errno != EINPROGRESS) {
    conn_failed(r, c, "connect", strerror(errno));
    return;
  }
  watch(r, c, EPOLL_CTL_ADD, EPOLLOUT);
}

/* Sends as much of the pending repeated-frame output as the socket takes. */
static void flush(struct run *r, struct conn *c) {
  while (c->out_pending > 0) {
    size_t room = r->stream_len - c->out_phase;
    size_t len = c->out_pending < room ? (size_t)c->out_pending : room;
    ssize_t w = send(c->fd, r->stream + c->out_phase, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!c->want_out) want_output(r, c, 1);
        return;
      }
      conn_failed(r, c, "send", strerror(errno));
      return;
    }
    c->out_pending -= (uint64_t)w;
    c->out_phase = (c->out_phase + (size_t)w) % r->frame_len;
  }
  if (c->want_out) want_output(r, c, 0);
}

static void queue_messages(struct run *r, struct conn *c, uint32_t n) {
  uint32_t capacity = (uint32_t)r->o.in_flight;
  for (uint32_t i = 0; i < n; i++) {
    c->sent_ns[(c->fifo_head + c->fifo_count) % capacity] = r->now;
    c->fifo_count++;
  }
  c->out_pending += (uint64_t)n * r->frame_len;
  flush(r, c);
}

/* Echoes arrived: record their latency, then keep K in flight. */
static void on_echoes(struct run *r, struct conn *c, const struct frame_events *ev) {
  if (ev->messages > c->fifo_count) {
    conn_failed(r, c, "protocol", "more messages received than sent");
    return;
  }
  uint32_t capacity = (uint32_t)r->o.in_flight;
  for (uint32_t i = 0; i < ev->messages; i++) {
    if (r->phase == P_MEASURE) hist_record(&r->hist, r->now - c->sent_ns[c->fifo_head]);
    c->fifo_head = (c->fifo_head + 1) % capacity;
  }
  c->fifo_count -= ev->messages;
  if (r->phase == P_MEASURE) {
    r->messages += ev->messages;
    r->bytes += ev->message_bytes;
  }
  queue_messages(r, c, ev->messages);
}

static void on_frames(struct run *r, struct conn *c, const uint8_t *data, size_t len) {
  struct frame_events ev = {0};
  frame_read(&c->reader, data, len, &ev);
  if (ev.error) {
    conn_failed(r, c, "protocol", "invalid frame from the server");
  } else if (ev.close) {
    conn_failed(r, c, "closed", "the server sent a Close frame");
  } else if (ev.messages > 0 && r->o.mode == MODE_ECHO) {
    on_echoes(r, c, &ev);
  }
}

/* RFC 6455 §5.5.1 close frame with status 1000, masked with a zero key (still a masked frame). */
static const uint8_t CLOSE_1000[] = {0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8};

static void on_upgraded(struct run *r, struct conn *c, size_t head_len) {
  size_t extra = c->head_len - head_len;
  char leftover[HANDSHAKE_HEAD_MAX];
  memcpy(leftover, c->head + head_len, extra);
  free(c->head);
  c->head = NULL;
  r->pending_connects--;
  r->ever_upgraded = 1;
  if (r->o.mode == MODE_HANDSHAKE) {
    if (r->phase == P_MEASURE) {
      r->handshakes++;
      hist_record(&r->hist, r->now - c->started_ns);
    }
    if (r->o.close_style == CLOSE_RESET) {
      conn_close(r, c, 1, C_IDLE);
      return;
    }
    /* Client-initiated close; the server closes TCP first (RFC 6455 §7.1.1), so no TIME_WAIT here. */
    c->state = C_CLOSING;
    c->deadline_ns = r->now + CLOSE_TIMEOUT_NS;
    if (send(c->fd, CLOSE_1000, sizeof CLOSE_1000, MSG_NOSIGNAL) != (ssize_t)sizeof CLOSE_1000) {
      r->errors++;
      conn_close(r, c, 1, C_IDLE);
    }
    return;
  }
  c->state = C_OPEN;
  r->open_count++;
  if (extra > 0) on_frames(r, c, (const uint8_t *)leftover, extra);
}

static void on_connected(struct run *r, struct conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    conn_failed(r, c, "connect", strerror(err));
    return;
  }
  char request[1536];
  size_t n = handshake_request(request, r->o.host, r->o.port, r->o.path);
  if (send(c->fd, request, n, MSG_NOSIGNAL) != (ssize_t)n) {
    conn_failed(r, c, "send", "could not write the upgrade request");
    return;
  }
  c->head = malloc(HANDSHAKE_HEAD_MAX);
  if (c->head == NULL) fatal("out of memory", NULL);
  c->head_len = 0;
  c->state = C_UPGRADING;
  watch(r, c, EPOLL_CTL_MOD, EPOLLIN);
}

static void on_head_bytes(struct run *r, struct conn *c) {
  ssize_t n = read(c->fd, c->head + c->head_len, HANDSHAKE_HEAD_MAX - c->head_len);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    conn_failed(r, c, "upgrade", n == 0 ? "connection closed before the response" : strerror(errno));
    return;
  }
  c->head_len = (uint16_t)(c->head_len + n);
  long head = handshake_response(c->head, c->head_len);
  if (head < 0) {
    char *eol = memchr(c->head, '\r', c->head_len);
    if (eol != NULL) *eol = '\0';
    else c->head[c->head_len < HANDSHAKE_HEAD_MAX ? c->head_len : HANDSHAKE_HEAD_MAX - 1] = '\0';
    conn_failed(r, c, "upgrade refused", c->head);
  } else if (head > 0) {
    on_upgraded(r, c, (size_t)head);
  }
}

/*
 * Reads what arrived. In the middle of a long payload the bytes are discarded inside the kernel
 * (MSG_TRUNC on TCP, see tcp(7)) instead of being copied out: only frame headers need reading.
 */
static void on_readable(struct run *r, struct conn *c) {
  const uint8_t *data = r->rbuf;
  ssize_t n;
  if (c->reader.in_payload && c->reader.payload_left >= SKIP_IN_KERNEL_MIN) {
    data = NULL;
    n = recv(c->fd, NULL, (size_t)c->reader.payload_left, MSG_TRUNC | MSG_DONTWAIT);
  } else {
    n = read(c->fd, r->rbuf, READ_BUFFER_SIZE);
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (c->state == C_CLOSING) {
    /* Handshake mode: skip the server's Close frame; its FIN (or a reset) ends the cycle. */
    if (n <= 0) conn_close(r, c, n < 0, C_IDLE);
    return;
  }
  if (n <= 0) {
    conn_failed(r, c, "read", n == 0 ? "the server closed the connection" : strerror(errno));
    return;
  }
  r->now = now_ns();
  on_frames(r, c, data, (size_t)n);
}

static void dispatch(struct run *r, struct conn *c, uint32_t events) {
  switch (c->state) {
  case C_CONNECTING:
    on_connected(r, c);
    break;
  case C_UPGRADING:
    on_head_bytes(r, c);
    break;
  case C_OPEN:
  case C_CLOSING:
    if (events & EPOLLOUT) flush(r, c);
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLERR | EPOLLHUP))) on_readable(r, c);
    break;
  default:
    break; /* an event for a socket closed earlier in this batch */
  }
}

/* Connection attempts and closes that take too long: fatal during setup, counted afterwards. */
static void sweep_deadlines(struct run *r) {
  for (int i = 0; i < r->o.connections; i++) {
    struct conn *c = &r->conns[i];
    int waiting = c->state == C_CONNECTING || c->state == C_UPGRADING || c->state == C_CLOSING;
    if (!waiting || c->deadline_ns > r->now) continue;
    if (c->state == C_CLOSING) {
      r->errors++;
      conn_close(r, c, 1, C_IDLE);
    } else {
      conn_failed(r, c, "timeout", "no upgrade response within 10 s");
    }
  }
}

static void open_more(struct run *r) {
  while (r->next_to_open < r->o.connections && r->pending_connects < CONNECT_CONCURRENCY) {
    conn_start(r, &r->conns[r->next_to_open++]);
  }
  while (r->reopen_count > 0) conn_start(r, &r->conns[r->reopen[--r->reopen_count]]);
}

static double seconds_between(uint64_t a, uint64_t b) { return (double)(b - a) / 1e9; }

static double cpu_seconds(const struct rusage *u) {
  return (double)u->ru_utime.tv_sec + (double)u->ru_utime.tv_usec / 1e6 + (double)u->ru_stime.tv_sec +
         (double)u->ru_stime.tv_usec / 1e6;
}

static void start_measuring(struct run *r) {
  r->phase = P_MEASURE;
  r->measure_start = r->now;
  r->phase_end = r->now + (uint64_t)(r->o.duration * 1e9);
  r->messages = r->bytes = r->handshakes = 0;
  hist_reset(&r->hist);
  getrusage(RUSAGE_SELF, &r->usage_start);
}

static void start_load(struct run *r) {
  r->phase = P_WARMUP;
  r->phase_end = r->now + (uint64_t)(r->o.warmup * 1e9);
  if (r->o.mode == MODE_ECHO) {
    for (int i = 0; i < r->o.connections; i++) queue_messages(r, &r->conns[i], (uint32_t)r->o.in_flight);
  }
}

/* Moves between phases as time passes; returns 0 once the run is over. */
static int advance(struct run *r, uint64_t setup_start) {
  if (r->phase == P_SETUP) {
    if (r->open_count == r->o.connections) {
      if (r->o.mode != MODE_IDLE) {
        start_load(r);
        return 1;
      }
      printf("{\"event\":\"open\",\"connections\":%d,\"connect_ms\":%.1f}\n", r->open_count,
             seconds_between(setup_start, r->now) * 1e3);
      fflush(stdout);
      r->phase = P_HOLD;
      r->phase_end = r->now + (uint64_t)(r->o.hold * 1e9);
    } else if (r->now - setup_start > SETUP_TIMEOUT_NS) {
      char detail[96];
      snprintf(detail, sizeof detail, "%d of %d connections open after 60 s", r->open_count,
               r->o.connections);
      fatal("setup timed out", detail);
    }
    return 1;
  }
  if (r->now < r->phase_end) return 1;
  if (r->phase == P_WARMUP) {
    start_measuring(r);
    return 1;
  }
  return 0;
}

static void report(struct run *r) {
  struct rusage end;
  getrusage(RUSAGE_SELF, &end);
  double secs = seconds_between(r->measure_start, r->now);
  double cpu = (cpu_seconds(&end) - cpu_seconds(&r->usage_start)) / secs;
  double p50 = hist_quantile(&r->hist, 0.5) / 1e3, p99 = hist_quantile(&r->hist, 0.99) / 1e3;
  double p999 = hist_quantile(&r->hist, 0.999) / 1e3;
  if (r->o.mode == MODE_IDLE) {
    printf("{\"mode\":\"idle\",\"connections\":%d,\"open\":%d,\"errors\":%llu}\n", r->o.connections,
           r->open_count, (unsigned long long)r->errors);
  } else if (r->o.mode == MODE_HANDSHAKE) {
    printf("{\"mode\":\"handshake\",\"handshakes_per_sec\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"p999_us\":%.1f,\"connections\":%d,\"errors\":%llu,\"loadgen_cpu\":%.2f}\n",
           (double)r->handshakes / secs, p50, p99, p999, r->o.connections, (unsigned long long)r->errors,
           cpu);
  } else {
    printf("{\"mode\":\"echo\",\"msgs_per_sec\":%.1f,\"mb_per_sec\":%.2f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"p999_us\":%.1f,\"connections\":%d,\"errors\":%llu,\"loadgen_cpu\":%.2f}\n",
           (double)r->messages / secs, (double)r->bytes / secs / 1e6, p50, p99, p999, r->o.connections,
           (unsigned long long)r->errors, cpu);
  }
  fflush(stdout);
}

/* One message's frame, repeated so that up to K frames go out in one write from any phase. */
static void build_stream(struct run *r) {
  uint8_t *payload = malloc(r->o.size + 1);
  uint8_t *frame = malloc(r->o.size + FRAME_HEADER_MAX);
  if (payload == NULL || frame == NULL) fatal("out of memory", NULL);
  for (size_t i = 0; i < r->o.size; i++) {
    payload[i] = r->o.binary ? (uint8_t)(i * 131 + 7) : (uint8_t)('a' + i % 26);
  }
  static const uint8_t mask_key[4] = {0x37, 0xFA, 0x21, 0x3D};
  r->frame_len = frame_build(frame, r->o.binary ? OP_BINARY : OP_TEXT, payload, r->o.size, mask_key);
  size_t copies = (size_t)r->o.in_flight + 1;
  if (copies * r->frame_len > STREAM_BUFFER_MAX) copies = STREAM_BUFFER_MAX / r->frame_len;
  if (copies == 0) copies = 1;
  r->stream_len = copies * r->frame_len;
  r->stream = malloc(r->stream_len);
  if (r->stream == NULL) fatal("out of memory", NULL);
  for (size_t i = 0; i < copies; i++) memcpy(r->stream + i * r->frame_len, frame, r->frame_len);
  free(payload);
  free(frame);
}

static void raise_fd_limit(int connections) {
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < (rlim_t)connections + 16) {
    char detail[96];
    snprintf(detail, sizeof detail, "%d connections need more than the %llu allowed", connections,
             (unsigned long long)lim.rlim_cur);
    fatal("file descriptor limit", detail);
  }
}

static void setup(struct run *r, int argc, char **argv) {
  memset(r, 0, sizeof *r);
  options_parse(argc, argv, &r->o);
  raise_fd_limit(r->o.connections);
  signal(SIGPIPE, SIG_IGN);
  handshake_seed();
  r->addr.sin_family = AF_INET;
  r->addr.sin_port = htons((uint16_t)r->o.port);
  if (inet_pton(AF_INET, r->o.host, &r->addr.sin_addr) != 1) fatal("--host must be an IPv4 address", r->o.host);
  r->epfd = epoll_create1(EPOLL_CLOEXEC);
  r->conns = calloc((size_t)r->o.connections, sizeof *r->conns);
  r->reopen = calloc((size_t)r->o.connections, sizeof *r->reopen);
  r->rbuf = malloc(READ_BUFFER_SIZE);
  if (r->epfd < 0 || r->conns == NULL || r->reopen == NULL || r->rbuf == NULL) fatal("setup", strerror(errno));
  if (r->o.mode == MODE_ECHO) {
    build_stream(r);
    for (int i = 0; i < r->o.connections; i++) {
      r->conns[i].sent_ns = malloc(sizeof(uint64_t) * (size_t)r->o.in_flight);
      if (r->conns[i].sent_ns == NULL) fatal("out of memory", NULL);
    }
  }
  for (int i = 0; i < r->o.connections; i++) r->conns[i].fd = -1;
}

int main(int argc, char **argv) {
  static struct run run;
  struct run *r = &run;
  setup(r, argc, argv);
  struct epoll_event events[MAX_EVENTS];
  r->now = now_ns();
  uint64_t setup_start = r->now, last_sweep = r->now;
  /* Handshake mode has no setup phase: its N slots cycle from the start. */
  if (r->o.mode == MODE_HANDSHAKE) start_load(r);
  open_more(r);
  for (;;) {
    int n = epoll_wait(r->epfd, events, MAX_EVENTS, 10);
    if (n < 0 && errno != EINTR) fatal("epoll_wait", strerror(errno));
    r->now = now_ns();
    for (int i = 0; i < n; i++) dispatch(r, events[i].data.ptr, events[i].events);
    r->now = now_ns();
    if (r->now - last_sweep > NS_PER_S / 10) {
      sweep_deadlines(r);
      last_sweep = r->now;
    }
    open_more(r);
    if (!advance(r, setup_start)) break;
  }
  report(r);
  return 0;
}
