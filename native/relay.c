/*
 * Native byte relay for the gateway's tunnel mode (Linux): after both WebSocket handshakes, the bytes of
 * two TCP sockets are copied between them by one epoll thread, outside the JavaScript event loop.
 *
 * Why: a tunnel does nothing per byte but copy it, yet on Node's sockets each read and each write also
 * crosses libuv, a stream and a JavaScript callback. That fixed cost per chunk is most of a tunnel's CPU
 * time with small messages. Here a chunk costs one read() and one send(), as in HAProxy or nginx.
 *
 * How it fits: JavaScript stops Node's reading of both sockets and hands this addon duplicates of their
 * descriptors (dup), with any bytes Node had already read. The relay thread owns the duplicates until
 * the tunnel ends; the Node sockets stay open, idle, so that their bookkeeping and close events still
 * run in JavaScript. When both directions ended (end of stream each way, all bytes written), or a socket
 * failed, or JavaScript asked, the thread closes its duplicates and calls the tunnel's JavaScript
 * callback, which then destroys the Node sockets.
 *
 * Half-close: an end of stream read from one side becomes shutdown(SHUT_WR) on the other once every
 * byte before it was written, as a byte-for-byte proxy must do (RFC 6455 §7.1.1 leaves the TCP close to
 * the peers). Memory per tunnel is bounded: a direction reads again only after its previous chunk was
 * written completely, so at most one chunk per direction waits in user space.
 *
 * Threads: JavaScript sends commands (open, end, destroy, free) through a queue and an eventfd; only the
 * relay thread touches a tunnel's state. Live byte counts go to a Float64Array the tunnel passed in
 * (aligned 8-byte stores, so JavaScript never reads a torn value). A tunnel's memory is freed by the relay
 * thread on the `free` command, which JavaScript sends only after its callback ran; every earlier command
 * naming the tunnel is ahead of it in the queue, so none can reach freed memory.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes read per read() call. Loopback and LAN sockets rarely hold more at once. */
#define CHUNK_SIZE (256 * 1024)
/* Events taken per epoll_wait(). */
#define MAX_EVENTS 256

enum counter { UP_READ, UP_WRITTEN, DOWN_READ, DOWN_WRITTEN, COUNTER_COUNT };

struct tunnel;

/* One socket of a tunnel. Its epoll data points here. */
struct side {
  struct tunnel *tunnel;
  int fd;
  int index; /* 0: the client, 1: the backend */
  int registered; /* in the epoll set (a side waiting for nothing is taken out, see update_interest) */
  uint32_t interest; /* events currently registered with epoll */
};

/* Bytes flowing from sides[i] to sides[1 - i]: the chunk not yet written, and how the stream ended. */
struct direction {
  char *pending;
  size_t pending_length;
  size_t pending_offset;
  int read_ended; /* end of stream read from the source */
  int write_shut; /* shutdown(SHUT_WR) done on the target */
};

struct tunnel {
  struct side sides[2];
  struct direction directions[2];
  double *counters; /* COUNTER_COUNT doubles inside the JavaScript Float64Array */
  double counts[COUNTER_COUNT];
  napi_ref counters_ref;
  napi_ref callback_ref;
  napi_threadsafe_function done_call;
  int ending; /* JavaScript asked for a graceful end: FIN both ways, bytes still arriving are dropped */
  int finished;
  int error; /* errno of the failure that ended the tunnel, 0 for a clean end */
};

enum command_kind { CMD_OPEN, CMD_END, CMD_DESTROY, CMD_FREE };

struct command {
  enum command_kind kind;
  struct tunnel *tunnel;
  struct command *next;
};

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct command *queue_head;
static struct command *queue_tail;
static pthread_once_t relay_once = PTHREAD_ONCE_INIT;
static int epoll_fd = -1;
static int wake_fd = -1;
static int relay_started;
static char wake_marker;
static char chunk[CHUNK_SIZE];

static void store_counter(struct tunnel *t, enum counter which, size_t added) {
  t->counts[which] += (double)added;
  __atomic_store(&t->counters[which], &t->counts[which], __ATOMIC_RELAXED);
}

static void fail(struct tunnel *t, int error) {
  if (t->error == 0) t->error = error;
  t->finished = 1;
}

/*
 * Registers what `side` waits for: readable while its outgoing direction may read, writable while its
 * incoming direction has a pending chunk. A side that waits for nothing leaves the epoll set: epoll
 * reports hang-ups and errors whatever the interest, and level-triggered reports would repeat forever.
 */
static void update_interest(struct side *side) {
  struct tunnel *t = side->tunnel;
  struct direction *out = &t->directions[side->index];
  struct direction *in = &t->directions[1 - side->index];
  uint32_t wanted = 0;
  if (!out->read_ended && out->pending_length == 0) wanted |= EPOLLIN;
  if (in->pending_length > 0) wanted |= EPOLLOUT;
  if (side->registered && wanted == side->interest) return;
  if (!side->registered && wanted == 0) return;
  struct epoll_event event = {.events = wanted, .data.ptr = side};
  int op = wanted == 0 ? EPOLL_CTL_DEL : side->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(epoll_fd, op, side->fd, &event) != 0) {
    fail(t, errno);
    return;
  }
  side->registered = wanted != 0;
  side->interest = wanted;
}

/*
 * Sends up to `length` bytes of direction `d` to its target until the socket is full; returns how many
 * were sent (counted). A failure other than a full socket fails the tunnel.
 */
static size_t send_some(struct tunnel *t, int d, const char *bytes, size_t length) {
  size_t sent = 0;
  while (sent < length) {
    ssize_t n = send(t->sides[1 - d].fd, bytes + sent, length - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) fail(t, errno);
      break;
    }
    sent += (size_t)n;
  }
  store_counter(t, d == 0 ? UP_WRITTEN : DOWN_WRITTEN, sent);
  return sent;
}

/* Writes what is pending in direction `d` to its target. Returns 0 when all of it was written. */
static int flush_direction(struct tunnel *t, int d) {
  struct direction *dir = &t->directions[d];
  size_t sent = send_some(t, d, dir->pending + dir->pending_offset, dir->pending_length);
  dir->pending_offset += sent;
  dir->pending_length -= sent;
  return dir->pending_length == 0 ? 0 : -1;
}

/* Keeps the unwritten rest of a chunk (it is in the shared read buffer, which the next read reuses). */
static void keep_pending(struct tunnel *t, int d, const char *bytes, size_t length) {
  struct direction *dir = &t->directions[d];
  char *copy = realloc(dir->pending, length);
  if (copy == NULL) {
    fail(t, ENOMEM);
    return;
  }
  memcpy(copy, bytes, length);
  dir->pending = copy;
  dir->pending_offset = 0;
  dir->pending_length = length;
}

/* The source of direction `d` ended (or the tunnel is ending): pass the FIN on once nothing is pending. */
static void shut_if_drained(struct tunnel *t, int d) {
  struct direction *dir = &t->directions[d];
  if (t->finished) return;
  if (!(dir->read_ended || t->ending) || dir->pending_length > 0 || dir->write_shut) return;
  dir->write_shut = 1;
  if (shutdown(t->sides[1 - d].fd, SHUT_WR) != 0 && errno != ENOTCONN) fail(t, errno);
}

/* Reads one chunk from the source of direction `d` and writes it to the target. */
static void pump(struct tunnel *t, int d) {
  struct direction *dir = &t->directions[d];
  if (dir->read_ended || dir->pending_length > 0) return;
  ssize_t n;
  do n = read(t->sides[d].fd, chunk, sizeof chunk);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(t, errno);
    return;
  }
  if (n == 0) {
    dir->read_ended = 1;
    shut_if_drained(t, d);
    return;
  }
  store_counter(t, d == 0 ? UP_READ : DOWN_READ, (size_t)n);
  if (t->ending) return; /* the target was shut: a graceful end drops what still arrives */
  size_t written = send_some(t, d, chunk, (size_t)n);
  if (written < (size_t)n && !t->finished) keep_pending(t, d, chunk + written, (size_t)n - written);
}

static int both_ended(const struct tunnel *t) {
  return t->directions[0].write_shut && t->directions[1].write_shut && t->directions[0].read_ended &&
         t->directions[1].read_ended;
}

/* Stops relaying: forgets the descriptors and tells JavaScript (which frees the tunnel later). */
static void finish(struct tunnel *t) {
  t->finished = 1;
  for (int i = 0; i < 2; i++) {
    if (t->sides[i].fd < 0) continue;
    if (t->sides[i].registered) epoll_ctl(epoll_fd, EPOLL_CTL_DEL, t->sides[i].fd, NULL);
    close(t->sides[i].fd);
    t->sides[i].fd = -1;
  }
  napi_call_threadsafe_function(t->done_call, t, napi_tsfn_nonblocking);
  napi_release_threadsafe_function(t->done_call, napi_tsfn_release);
}

/* After any progress: pass FINs on, finish a tunnel that ended or failed, else update the interests. */
static void after_event(struct tunnel *t) {
  shut_if_drained(t, 0);
  shut_if_drained(t, 1);
  if (!t->finished && both_ended(t)) t->finished = 1;
  if (!t->finished) update_interest(&t->sides[0]);
  if (!t->finished) update_interest(&t->sides[1]);
  if (t->finished) finish(t);
}

static void on_socket_event(struct side *side, uint32_t events) {
  struct tunnel *t = side->tunnel;
  if (t->finished) return;
  int out = side->index; /* the direction this side's bytes feed */
  int in = 1 - side->index; /* the direction whose bytes this side receives */
  /* Once the pending chunk into this side is written, its source may be read again at once. */
  if ((events & EPOLLOUT) && flush_direction(t, in) == 0 && !t->finished) pump(t, in);
  if (!t->finished && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) pump(t, out);
  after_event(t);
}

/* Writes the bytes Node had already read (given at open), then starts listening. */
static void open_tunnel(struct tunnel *t) {
  flush_direction(t, 0);
  flush_direction(t, 1);
  after_event(t);
}

/* A graceful end asked by JavaScript: FIN both ways once pending bytes are out, drop what still
 * arrives, and finish when both peers sent their own FIN (JavaScript destroys the tunnel if they never
 * do). */
static void end_tunnel(struct tunnel *t) {
  t->ending = 1;
  after_event(t);
}

static void free_tunnel(struct tunnel *t) {
  free(t->directions[0].pending);
  free(t->directions[1].pending);
  free(t);
}

static struct command *take_commands(void) {
  uint64_t count;
  while (read(wake_fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
  pthread_mutex_lock(&queue_lock);
  struct command *head = queue_head;
  queue_head = queue_tail = NULL;
  pthread_mutex_unlock(&queue_lock);
  return head;
}

static void run_commands(void) {
  struct command *c = take_commands();
  while (c != NULL) {
    struct command *next = c->next;
    struct tunnel *t = c->tunnel;
    if (c->kind == CMD_FREE) free_tunnel(t);
    else if (!t->finished && c->kind == CMD_OPEN) open_tunnel(t);
    else if (!t->finished && c->kind == CMD_END) end_tunnel(t);
    else if (!t->finished && c->kind == CMD_DESTROY) finish(t);
    free(c);
    c = next;
  }
}

static void *relay_main(void *unused) {
  (void)unused;
  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
    if (n < 0) continue; /* EINTR */
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == &wake_marker) run_commands();
      else on_socket_event(events[i].data.ptr, events[i].events);
    }
  }
  return NULL;
}

/* Creates the epoll set and starts the thread, once per process. */
static void start_relay(void) {
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || wake_fd < 0) return;
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = &wake_marker};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &event) != 0) return;
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attributes, relay_main, NULL) == 0) relay_started = 1;
  pthread_attr_destroy(&attributes);
}

static int send_command(enum command_kind kind, struct tunnel *t) {
  struct command *c = malloc(sizeof *c);
  if (c == NULL) return -1;
  c->kind = kind;
  c->tunnel = t;
  c->next = NULL;
  pthread_mutex_lock(&queue_lock);
  if (queue_tail != NULL) queue_tail->next = c;
  else queue_head = c;
  queue_tail = c;
  pthread_mutex_unlock(&queue_lock);
  uint64_t one = 1;
  while (write(wake_fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
  return 0;
}

/* ---- JavaScript side ---- */

#define CHECK(call)                                                                                    \
  do {                                                                                                 \
    if ((call) != napi_ok) return NULL;                                                                \
  } while (0)

static napi_value throw_error(napi_env env, const char *message) {
  napi_throw_error(env, "ERR_CONDUIT_RELAY", message);
  return NULL;
}

/* Runs on the JavaScript thread after a tunnel finished: calls its callback with the errno (0 for a
 * clean end), then lets the relay thread free it. */
static void call_done(napi_env env, napi_value js_callback, void *context, void *data) {
  (void)js_callback;
  (void)context;
  struct tunnel *t = data;
  if (env != NULL) {
    napi_value callback, global, error;
    if (napi_get_reference_value(env, t->callback_ref, &callback) == napi_ok &&
        napi_get_global(env, &global) == napi_ok && napi_create_int32(env, t->error, &error) == napi_ok)
      napi_call_function(env, global, callback, 1, &error, NULL);
    napi_delete_reference(env, t->callback_ref);
    napi_delete_reference(env, t->counters_ref);
  }
  send_command(CMD_FREE, t);
}

static int read_fd(napi_env env, napi_value value, int *fd) {
  return napi_get_value_int32(env, value, fd) == napi_ok && *fd >= 0 ? 0 : -1;
}

/* Copies a Buffer (or undefined) into the tunnel's pending chunk for direction `d`. */
static int take_initial(napi_env env, napi_value value, struct tunnel *t, int d) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return -1;
  if (type == napi_undefined || type == napi_null) return 0;
  void *data;
  size_t length;
  if (napi_get_buffer_info(env, value, &data, &length) != napi_ok) return -1;
  if (length == 0) return 0;
  t->directions[d].pending = malloc(length);
  if (t->directions[d].pending == NULL) return -1;
  memcpy(t->directions[d].pending, data, length);
  t->directions[d].pending_length = length;
  return 0;
}

static int take_counters(napi_env env, napi_value value, struct tunnel *t) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok) return -1;
  if (type != napi_float64_array || length < COUNTER_COUNT) return -1;
  t->counters = data;
  for (int i = 0; i < COUNTER_COUNT; i++) t->counters[i] = 0;
  return napi_create_reference(env, value, 1, &t->counters_ref) == napi_ok ? 0 : -1;
}

static int take_callback(napi_env env, napi_value value, struct tunnel *t) {
  napi_value name;
  if (napi_create_reference(env, value, 1, &t->callback_ref) != napi_ok) return -1;
  if (napi_create_string_utf8(env, "conduit relay", NAPI_AUTO_LENGTH, &name) != napi_ok) return -1;
  return napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, call_done,
                                         &t->done_call) == napi_ok
             ? 0
             : -1;
}

/*
 * open(clientFd, backendFd, toBackend, toClient, counters, onDone) -> handle
 * The descriptors are duplicated (the Node sockets keep theirs). `toBackend` and `toClient` are bytes
 * already read from the client and from the backend (Buffer or undefined), written first. `counters` is
 * a Float64Array of 4: client bytes read, backend bytes written, backend bytes read, client bytes
 * written, by the relay (initial bytes count as written, not as read). `onDone(errno)` is called once, when the relay let go of both sockets.
 */
static napi_value open_relay(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_error(env, "open() takes 6 arguments");
  pthread_once(&relay_once, start_relay);
  if (!relay_started) return throw_error(env, "the relay thread could not start");
  int fds[2];
  if (read_fd(env, argv[0], &fds[0]) != 0 || read_fd(env, argv[1], &fds[1]) != 0)
    return throw_error(env, "socket descriptors must be non-negative integers");
  struct tunnel *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_error(env, "out of memory");
  t->sides[0].fd = t->sides[1].fd = -1;
  for (int i = 0; i < 2; i++) {
    t->sides[i].tunnel = t;
    t->sides[i].index = i;
  }
  if (take_initial(env, argv[2], t, 0) != 0 || take_initial(env, argv[3], t, 1) != 0 ||
      take_counters(env, argv[4], t) != 0) {
    free_tunnel(t);
    return throw_error(env, "bad initial bytes or counters");
  }
  /* Once the callback is taken, the tunnel lives until call_done: failures below finish it. */
  if (take_callback(env, argv[5], t) != 0) {
    if (t->counters_ref != NULL) napi_delete_reference(env, t->counters_ref);
    if (t->callback_ref != NULL) napi_delete_reference(env, t->callback_ref);
    free_tunnel(t);
    return throw_error(env, "could not create the completion callback");
  }
  for (int i = 0; i < 2; i++) t->sides[i].fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
  if (t->sides[0].fd < 0 || t->sides[1].fd < 0) t->error = EBADF;
  if (send_command(t->error == 0 ? CMD_OPEN : CMD_DESTROY, t) != 0) return throw_error(env, "out of memory");
  napi_value handle;
  CHECK(napi_create_external(env, t, NULL, NULL, &handle));
  return handle;
}

static struct tunnel *tunnel_of(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value handle;
  void *t;
  if (napi_get_cb_info(env, info, &argc, &handle, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_get_value_external(env, handle, &t) != napi_ok) return NULL;
  return t;
}

/* end(handle): graceful end (see end_tunnel). Only valid before the tunnel's onDone ran. */
static napi_value end_relay(napi_env env, napi_callback_info info) {
  struct tunnel *t = tunnel_of(env, info);
  if (t == NULL) return throw_error(env, "end() takes a relay handle");
  if (send_command(CMD_END, t) != 0) return throw_error(env, "out of memory");
  return NULL;
}

/* destroy(handle): let go of both sockets now. Only valid before the tunnel's onDone ran. */
static napi_value destroy_relay(napi_env env, napi_callback_info info) {
  struct tunnel *t = tunnel_of(env, info);
  if (t == NULL) return throw_error(env, "destroy() takes a relay handle");
  if (send_command(CMD_DESTROY, t) != 0) return throw_error(env, "out of memory");
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"open", NULL, open_relay, NULL, NULL, NULL, napi_default, NULL},
      {"end", NULL, end_relay, NULL, NULL, NULL, napi_default, NULL},
      {"destroy", NULL, destroy_relay, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, properties) != napi_ok) return NULL;
  return exports;
}
