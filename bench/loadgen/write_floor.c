/*
 * The floor of fan-out latency on this machine: how long one pass of small writes over N loopback TCP
 * sockets takes when nothing but libc sits between the loop and the kernel. A hub (any hub, in any
 * language) delivering one publication to N subscribers makes at least these N system calls, so the last
 * subscriber hears of a publication at least one such pass after the first.
 *
 * The writer (this process, pin it with taskset) accepts N connections from a reader child process
 * (pinned to --reader-cpu) that drains every socket with epoll, like the fan-out subscribers do. Then it
 * makes --passes passes, each writing --size bytes to every socket, with --gap-us of idle time between
 * passes (0: back to back), and prints the pass durations as JSON.
 *
 * Build: make -C bench/loadgen build/write-floor
 * Run:   taskset -c 1 bench/loadgen/build/write-floor --sockets 1000 --size 150 --passes 400 --gap-us 5000
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct options {
  int sockets;
  int size;
  int passes;
  long gap_us;
  int reader_cpu;
};

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void parse(int argc, char **argv, struct options *o) {
  *o = (struct options){.sockets = 1000, .size = 150, .passes = 400, .gap_us = 5000, .reader_cpu = 0};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sockets")) o->sockets = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--size")) o->size = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--passes")) o->passes = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--gap-us")) o->gap_us = atol(argv[i + 1]);
    else if (!strcmp(argv[i], "--reader-cpu")) o->reader_cpu = atoi(argv[i + 1]);
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      exit(2);
    }
  }
}

/* The child: connects every socket, then reads whatever arrives until the writer closes them. */
static void reader(int port, const struct options *o) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(o->reader_cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
  int ep = epoll_create1(0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < o->sockets; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("reader connect");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  static char buffer[1 << 16];
  struct epoll_event events[256];
  int open = o->sockets;
  while (open > 0) {
    int n = epoll_wait(ep, events, 256, -1);
    for (int i = 0; i < n; i++) {
      ssize_t got = read(events[i].data.fd, buffer, sizeof buffer);
      if (got == 0) {
        close(events[i].data.fd);
        open--;
      }
    }
  }
  exit(0);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  struct options o;
  parse(argc, argv, &o);
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 4096) < 0) die("listen");
  getsockname(listener, (struct sockaddr *)&addr, &len);
  pid_t child = fork();
  if (child == 0) reader(ntohs(addr.sin_port), &o);
  int *fds = calloc(o.sockets, sizeof *fds);
  int one = 1;
  for (int i = 0; i < o.sockets; i++) {
    fds[i] = accept(listener, NULL, NULL);
    if (fds[i] < 0) die("accept");
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char *payload = malloc(o.size);
  memset(payload, '#', o.size);
  double *pass = calloc(o.passes, sizeof *pass);
  struct timespec gap = {.tv_sec = o.gap_us / 1000000, .tv_nsec = (o.gap_us % 1000000) * 1000};
  for (int p = 0; p < o.passes; p++) {
    if (o.gap_us > 0) nanosleep(&gap, NULL);
    double start = now_us();
    for (int i = 0; i < o.sockets; i++) {
      if (write(fds[i], payload, o.size) != o.size) die("write");
    }
    pass[p] = now_us() - start;
  }
  for (int i = 0; i < o.sockets; i++) close(fds[i]);
  waitpid(child, NULL, 0);
  qsort(pass, o.passes, sizeof *pass, compare);
  printf("{\"sockets\":%d,\"size\":%d,\"passes\":%d,\"gap_us\":%ld,\"pass_ms_p50\":%.3f,"
         "\"pass_ms_p99\":%.3f,\"pass_ms_min\":%.3f,\"write_us_p50\":%.3f}\n",
         o.sockets, o.size, o.passes, o.gap_us, pass[o.passes / 2] / 1e3, pass[o.passes * 99 / 100] / 1e3,
         pass[0] / 1e3, pass[o.passes / 2] / o.sockets);
  return 0;
}
