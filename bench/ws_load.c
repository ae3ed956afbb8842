/* ws_load.c — a WebSocket echo load client: N connections, each keeping W small text messages in flight, one
 * epoll loop, one thread. Prints one JSON line: {"msgs_per_s", "messages", "seconds", "conns", "window",
 * "size"}. A C client because a Node client saturates before Node's own server does (measured here).
 *
 *   ws_load HOST PORT PATH [-c CONNS] [-w WINDOW] [-s SIZE] [-d SECONDS] [-W WARMUP_SECONDS]
 *
 * Every echo is checked (opcode text, same length); a wrong or missing echo is an error, not a figure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define BUF (1 << 16)

struct conn {
    int fd;
    unsigned char in[BUF];
    size_t nin;
    long inflight;
};

static struct conn *conns;
static unsigned char *frame; /* one masked text frame, sent as is */
static size_t frame_len, size;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "ws_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
    exit(1);
}

static void build_frame(void)
{
    static const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
    size_t h = size < 126 ? 2 : 4;
    frame = malloc(h + 4 + size);
    frame[0] = 0x81;
    if (size < 126) {
        frame[1] = (unsigned char)(0x80 | size);
    } else {
        frame[1] = 0x80 | 126;
        frame[2] = (unsigned char)(size >> 8);
        frame[3] = (unsigned char)size;
    }
    memcpy(frame + h, key, 4);
    for (size_t i = 0; i < size; i++) frame[h + 4 + i] = (unsigned char)('a' + i % 26) ^ key[i % 4];
    frame_len = h + 4 + size;
}

/* Blocking connect and opening handshake; the 101 must come back. */
static int open_conn(const char *host, const char *port, const char *path)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) die("getaddrinfo");
    int fd = socket(ai->ai_family, SOCK_STREAM, 0), one = 1;
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect");
    freeaddrinfo(ai);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[1024], resp[4096];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, host, port);
    if (write(fd, req, (size_t)n) != n) die("write handshake");
    size_t got = 0;
    while (!memmem(resp, got, "\r\n\r\n", 4)) {
        ssize_t r = read(fd, resp + got, sizeof resp - got);
        if (r <= 0) die("read handshake");
        got += (size_t)r;
    }
    if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
        fprintf(stderr, "ws_load: no 101: %.*s\n", (int)got, resp);
        exit(1);
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void send_frames(struct conn *c, long k)
{
    static unsigned char *batch;
    static size_t cap;
    if (cap < frame_len * (size_t)k) {
        cap = frame_len * (size_t)k;
        batch = realloc(batch, cap);
    }
    for (long i = 0; i < k; i++) memcpy(batch + (size_t)i * frame_len, frame, frame_len);
    size_t n = frame_len * (size_t)k, off = 0;
    while (off < n) { /* small frames: the socket buffer takes them; spin on the rare EAGAIN */
        ssize_t w = write(c->fd, batch + off, n - off);
        if (w > 0) off += (size_t)w;
        else if (errno != EAGAIN) die("write");
    }
    c->inflight += k;
}

/* Consumes complete echo frames; returns how many. */
static long take_echoes(struct conn *c)
{
    size_t at = 0;
    long n = 0;
    while (c->nin - at >= 2) {
        unsigned char *p = c->in + at;
        size_t len = p[1] & 127, h = 2;
        if (len == 126) {
            if (c->nin - at < 4) break;
            len = (size_t)p[2] << 8 | p[3];
            h = 4;
        } else if (len == 127) {
            fprintf(stderr, "ws_load: unexpected 64-bit length\n");
            exit(1);
        }
        if (c->nin - at < h + len) break;
        if ((p[0] & 0x0f) != 1 || len != size || (p[1] & 0x80)) {
            fprintf(stderr, "ws_load: bad echo frame (byte0 %02x, len %zu)\n", p[0], len);
            exit(1);
        }
        at += h + len;
        n++;
    }
    memmove(c->in, c->in + at, c->nin - at);
    c->nin -= at;
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ws_load HOST PORT PATH [-c CONNS] [-w WINDOW] [-s SIZE] [-d SECONDS] [-W WARMUP]\n");
        return 64;
    }
    long nconns = 32, window = 1;
    double seconds = 5, warmup = 1;
    size = 16;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-c")) nconns = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-w")) window = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-s")) size = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "-d")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-W")) warmup = atof(argv[i + 1]);
    }
    if (nconns < 1 || nconns > MAX_CONNS || window < 1 || size > 65535) return 64;
    build_frame();
    conns = calloc((size_t)nconns, sizeof *conns);
    int ep = epoll_create1(0);
    for (long i = 0; i < nconns; i++) {
        conns[i].fd = open_conn(argv[1], argv[2], argv[3]);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    }
    for (long i = 0; i < nconns; i++) send_frames(&conns[i], window);
    double t0 = now(), start = t0 + warmup, end = start + seconds;
    long counted = 0;
    int measuring = 0;
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (!measuring && t >= start) measuring = 1, counted = 0, start = t;
        if (t >= end) break;
        int n = epoll_wait(ep, evs, 256, 1000);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            ssize_t r = read(c->fd, c->in + c->nin, sizeof c->in - c->nin);
            if (r == 0 || (r < 0 && errno != EAGAIN)) die("the server closed a connection");
            if (r < 0) continue;
            c->nin += (size_t)r;
            long got = take_echoes(c);
            c->inflight -= got;
            if (measuring) counted += got;
            if (got) send_frames(c, got);
        }
    }
    double elapsed = now() - start;
    for (long i = 0; i < nconns; i++) close(conns[i].fd);
    printf("{\"msgs_per_s\": %.0f, \"messages\": %ld, \"seconds\": %.3f, \"conns\": %ld, \"window\": %ld, \"size\": %zu}\n",
           (double)counted / elapsed, counted, elapsed, nconns, window, size);
    return 0;
}
