/* sse_streams.c — hold N concurrent SSE streams against a server and measure the server's memory.
 *
 *   sse_streams (--url http://127.0.0.1:PORT/PATH | --urls-file FILE)... -n N --events K --pid PID
 *               [--settle MS] [--timeout S] [--connecting C]
 *
 * Opens N connections (at most C connecting at once, default 256), each sending `GET PATH` with
 * Accept: text/event-stream (the URLs, given one by one or one a line in a file, are used round-robin, so one
 * token per stream is possible), and counts
 * the events each stream receives (a blank line, LF LF, after the head). When every stream has K events it
 * waits --settle ms and reads the server's VmRSS / RssAnon from /proc/PID/status, then prints one JSON line:
 *   {"streams", "events", "rss_kib", "rss_anon_kib", "connect_ms", "all_events_ms", "failed"}
 * and closes everything. The RSS before the streams is the caller's to take (bench/sse_streams.sh does).
 *
 * A load client only: raw epoll, no allocation per read, nothing that could make the client the bottleneck. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct target {
    struct sockaddr_in addr;
    char request[512];
    int reqlen;
};

struct stream {
    int fd;
    int state;         /* 0 connecting, 1 reading the head, 2 reading events, 3 failed */
    int head_match;    /* bytes of "\r\n\r\n" matched */
    char prev;         /* last byte seen in the body */
    int events;
    const struct target *t;
};

struct opts {
    struct target *targets;
    int ntargets, cap, n, events, settle_ms, timeout_s, connecting;
    long pid;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int parse_url(const char *url, struct target *t)
{
    char host[256];
    int port;
    const char *p = strstr(url, "://");
    if (!p || sscanf(p + 3, "%255[^:/]:%d", host, &port) != 2) return -1;
    const char *path = strchr(p + 3, '/');
    if (!path) path = "/";
    memset(&t->addr, 0, sizeof t->addr);
    t->addr.sin_family = AF_INET;
    t->addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &t->addr.sin_addr) != 1) return -1;
    t->reqlen = snprintf(t->request, sizeof t->request,
                         "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n",
                         path, host, port);
    return t->reqlen < (int)sizeof t->request ? 0 : -1;
}

/* VmRSS and RssAnon of a process, in KiB (-1 when unreadable). */
static void read_rss(long pid, long *rss, long *anon)
{
    char path[64], line[256];
    *rss = *anon = -1;
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) *rss = atol(line + 6);
        if (!strncmp(line, "RssAnon:", 8)) *anon = atol(line + 8);
    }
    fclose(f);
}

static int start_connect(int ep, struct stream *s)
{
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) return -1;
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s->fd, (struct sockaddr *)&s->t->addr, sizeof s->t->addr) < 0 && errno != EINPROGRESS) return -1;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = s};
    return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Counts the head's end, then events (LF LF) in what arrived. Returns events completed by this read. */
static int scan(struct stream *s, const char *b, ssize_t n)
{
    static const char crlf2[] = "\r\n\r\n";
    int got = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (s->state == 1) {
            s->head_match = b[i] == crlf2[s->head_match] ? s->head_match + 1 : (b[i] == '\r');
            if (s->head_match == 4) {
                s->state = 2;
                s->prev = 0;
            }
            continue;
        }
        if (b[i] == '\n' && s->prev == '\n') {
            s->events++;
            got++;
            s->prev = 0;
            continue;
        }
        s->prev = b[i];
    }
    return got;
}

static void fail(struct stream *s, int ep, int *failed)
{
    if (s->state == 3) return;
    epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->state = 3;
    (*failed)++;
}

static int add_url(struct opts *o, const char *url)
{
    if (o->ntargets == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 64;
        o->targets = realloc(o->targets, (size_t)o->cap * sizeof *o->targets);
        if (!o->targets) return -1;
    }
    return parse_url(url, &o->targets[o->ntargets++]);
}

static int add_urls_file(struct opts *o, const char *path)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*line && add_url(o, line) < 0) {
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static int usage(void)
{
    fputs("usage: sse_streams (--url URL | --urls-file FILE)... -n N --events K --pid PID [--settle MS] [--timeout S] "
          "[--connecting C]\n", stderr);
    return 64;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.n = 1000, .events = 1, .settle_ms = 1000, .timeout_s = 120, .connecting = 256, .pid = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return -1;
        if (!strcmp(a, "--url")) {
            if (add_url(o, v) < 0) return -1;
        } else if (!strcmp(a, "--urls-file")) {
            if (add_urls_file(o, v) < 0) return -1;
        } else if (!strcmp(a, "-n")) o->n = atoi(v);
        else if (!strcmp(a, "--events")) o->events = atoi(v);
        else if (!strcmp(a, "--pid")) o->pid = atol(v);
        else if (!strcmp(a, "--settle")) o->settle_ms = atoi(v);
        else if (!strcmp(a, "--timeout")) o->timeout_s = atoi(v);
        else if (!strcmp(a, "--connecting")) o->connecting = atoi(v);
        else return -1;
        i++;
    }
    return o->ntargets && o->n > 0 && o->events > 0 && o->pid > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) < 0) return usage();
    struct stream *ss = calloc((size_t)o.n, sizeof *ss);
    int ep = epoll_create1(0), next = 0, inflight = 0, failed = 0, complete = 0;
    double t0 = now_ms(), t_connected = 0, t_events = 0;
    struct epoll_event evs[512];
    char buf[16384];
    for (int i = 0; i < o.n; i++) ss[i].t = &o.targets[i % o.ntargets];
    while (complete + failed < o.n && now_ms() - t0 < o.timeout_s * 1e3) {
        while (next < o.n && inflight < o.connecting) {
            if (start_connect(ep, &ss[next]) < 0) {
                fprintf(stderr, "connect %d: %s\n", next, strerror(errno));
                ss[next].state = 3;
                failed++;
            } else {
                inflight++;
            }
            next++;
        }
        int k = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < k; i++) {
            struct stream *s = evs[i].data.ptr;
            if (s->state == 0 && (evs[i].events & EPOLLOUT)) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err || write(s->fd, s->t->request, (size_t)s->t->reqlen) != s->t->reqlen) {
                    inflight--;
                    fail(s, ep, &failed);
                    continue;
                }
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
                epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
                s->state = 1;
                inflight--;
                if (next == o.n && inflight == 0) t_connected = now_ms() - t0;
            }
            if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || s->state == 3) continue;
            ssize_t n = read(s->fd, buf, sizeof buf);
            if (n <= 0) {
                if (n < 0 && errno == EAGAIN) continue;
                if (s->state == 0) inflight--;
                fail(s, ep, &failed);
                continue;
            }
            int before = s->events;
            scan(s, buf, n);
            if (before < o.events && s->events >= o.events) complete++;
        }
    }
    t_events = now_ms() - t0;
    usleep((useconds_t)o.settle_ms * 1000);
    long rss, anon;
    read_rss(o.pid, &rss, &anon);
    long events = 0;
    for (int i = 0; i < o.n; i++) events += ss[i].events;
    printf("{\"streams\": %d, \"complete\": %d, \"failed\": %d, \"events\": %ld, \"rss_kib\": %ld, "
           "\"rss_anon_kib\": %ld, \"connect_ms\": %.0f, \"all_events_ms\": %.0f}\n",
           o.n, complete, failed, events, rss, anon, t_connected, t_events);
    fflush(stdout);
    for (int i = 0; i < o.n; i++)
        if (ss[i].state != 3) close(ss[i].fd);
    free(ss);
    free(o.targets);
    close(ep);
    return complete == o.n ? 0 : 1;
}
