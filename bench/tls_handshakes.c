/* tls_handshakes.c — a TLS handshake load client: N connections at once, each connecting, completing a full
 * handshake (no session resumption: no ticket or session is ever offered back), sending close_notify and
 * closing, then starting over; one epoll loop, one thread. Prints one JSON line: {"handshakes_per_s",
 * "handshakes", "seconds", "conns", "version"}. The certificate is not verified (the load measures the server's
 * handshake, and both servers present the same key type), but every handshake must complete: a failed one is an
 * error, not a figure.
 *
 *   tls_handshakes HOST PORT [-c CONNS] [-d SECONDS] [-W WARMUP_SECONDS] [-v 1.2|1.3]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024

struct conn {
    int fd;
    SSL *ssl;
};

static struct conn conns[MAX_CONNS];
static struct sockaddr_in addr;
static SSL_CTX *ctx;
static int ep;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    unsigned long e = ERR_get_error();
    fprintf(stderr, "tls_handshakes: %s: %s (%s)\n", what, strerror(errno), e ? ERR_error_string(e, NULL) : "-");
    exit(1);
}

/* Start connection i afresh: a non-blocking connect, a new SSL in connect state. */
static void start(int i)
{
    struct conn *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) die("connect");
    c->ssl = SSL_new(ctx);
    if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) die("SSL_new");
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set_connect_state(c->ssl);
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void finish(int i)
{
    struct conn *c = &conns[i];
    SSL_shutdown(c->ssl); /* close_notify, as a well-behaved client sends; the answer is not awaited */
    SSL_free(c->ssl);
    close(c->fd); /* also removes it from the epoll set */
}

/* One step of connection i's handshake: 1 when it completed, 0 when it waits, exits on a failure. */
static int step(int i)
{
    struct conn *c = &conns[i];
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) return 1;
    int e = SSL_get_error(c->ssl, r);
    struct epoll_event ev = {.data.u32 = (uint32_t)i};
    if (e == SSL_ERROR_WANT_READ) ev.events = EPOLLIN;
    else if (e == SSL_ERROR_WANT_WRITE) ev.events = EPOLLOUT;
    else die("handshake failed");
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: tls_handshakes HOST PORT [-c CONNS] [-d SECONDS] [-W WARMUP] [-v 1.2|1.3]\n", stderr);
        return 2;
    }
    int nconns = 16, version = TLS1_3_VERSION;
    double seconds = 5, warmup = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-c")) nconns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-d")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-W")) warmup = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-v")) version = strcmp(argv[i + 1], "1.2") ? TLS1_3_VERSION : TLS1_2_VERSION;
        else {
            fprintf(stderr, "tls_handshakes: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (nconns < 1 || nconns > MAX_CONNS || seconds <= 0) {
        fputs("tls_handshakes: -c 1..1024, -d > 0\n", stderr);
        return 2;
    }
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) die("getaddrinfo");
    memcpy(&addr, ai->ai_addr, sizeof addr);
    freeaddrinfo(ai);

    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every handshake full */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9) != 0) die("alpn");

    ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < nconns; i++) start(i);

    double t0 = now(), begin = t0 + warmup, end = begin + seconds;
    long counted = 0;
    struct epoll_event evs[256];
    for (;;) {
        double t = now();
        if (t >= end) break;
        int n = epoll_wait(ep, evs, 256, 100);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            if (step(i)) {
                if (now() >= begin) counted++;
                finish(i);
                start(i);
            }
        }
    }
    printf("{\"handshakes_per_s\": %.0f, \"handshakes\": %ld, \"seconds\": %.1f, \"conns\": %d, \"version\": \"%s\"}\n",
           (double)counted / seconds, counted, seconds, nconns, version == TLS1_3_VERSION ? "1.3" : "1.2");
    for (int i = 0; i < nconns; i++) finish(i);
    SSL_CTX_free(ctx);
    close(ep);
    return 0;
}
