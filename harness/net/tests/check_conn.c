/* check_conn.c — unit tests of harness/net/conn.c: a real connection on a socketpair, fed raw bytes, answered by a
 * dispatcher that echoes what was parsed. Table rows: request bytes → the status line we expect back (or what
 * the dispatcher must have seen). */
#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"
#include "core/core.h"
#include "testing/testing.h"

struct seen {
    int requests, closed;
    char method[64], target[256], body[256];
    int nheaders, keep_alive;
    int closed_first; /* exchange(): the connection had closed before the client closed its end */
    int64_t head_us, end_us;
};

static void on_dispatch(struct ch_conn *c, struct ch_request *r, void *arg)
{
    struct seen *s = arg;
    s->requests++;
    snprintf(s->method, sizeof s->method, "%s", r->method);
    snprintf(s->target, sizeof s->target, "%s", r->target);
    size_t n;
    const char *body = ch_request_body(r, &n);
    if (n >= sizeof s->body) n = sizeof s->body - 1;
    memcpy(s->body, body, n);
    s->body[n] = '\0';
    s->nheaders = (int)r->nfields;
    s->keep_alive = r->keep_alive;
    s->head_us = r->t_head_us;
    s->end_us = r->t_end_us;
    ch_conn_reply(c, 200, "OK", "text/plain", NULL, "ok", 2);
}

static void on_closed(struct ch_conn *c, void *arg) { ((struct seen *)arg)->closed = 1; }

/* Runs the loop for ms milliseconds. */
static void run_for(struct event_base *base, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* A connection served for `owner` (which must outlive it) on a new loop (returned), from one end of a socketpair;
 * *peer is the other end, the client's. */
static struct event_base *open_conn(struct ch_conn_owner *owner, int *peer)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    struct event_base *base = event_base_new();
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ch_conn_new(base, sv[0], &sa, sizeof sa, NULL, 1, owner);
    *peer = sv[1];
    return base;
}

/* Closes the client's end, lets the connection see EOF and free itself (one pass of the loop), frees the loop. */
static void close_conn(struct event_base *base, int peer)
{
    close(peer);
    event_base_loopexit(base, NULL);
    event_base_dispatch(base);
    event_base_free(base);
}

/* Sends `in` (n bytes) on a fresh connection, half-closes when `fin`, runs the loop for up to `ms`, and returns
 * what came back (malloc'd, NUL-terminated). */
static char *exchange(const char *in, size_t n, int fin, int ms, struct seen *s)
{
    int peer;
    struct ch_conn_owner owner = {on_dispatch, on_closed, s, 5000, NULL};
    struct event_base *base = open_conn(&owner, &peer);
    ck_assert_int_eq(write(peer, in, n), (ssize_t)n);
    if (fin) shutdown(peer, SHUT_WR);
    run_for(base, ms);
    char *out = calloc(1, 65536);
    fcntl(peer, F_SETFL, O_NONBLOCK);
    ssize_t got = read(peer, out, 65535);
    out[got > 0 ? got : 0] = '\0';
    s->closed_first = s->closed;
    close_conn(base, peer);
    return out;
}

static const struct {
    const char *name, *in;
    const char *status; /* the status line expected first in the reply */
} rows[] = {
    {"simple GET", "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK"},
    {"HTTP/1.0", "GET /x HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK"},
    {"leading empty line", "\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK"},
    {"lowercase method kept", "patch /x HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK"},
    {"extension method", "FOO-BAR /x HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 OK"},
    {"bare LF line ends", "GET /x HTTP/1.1\nHost: a\n\n", "HTTP/1.1 200 OK"},
    {"no target", "GET  HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"no version", "GET /x\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"HTTP/2.0", "GET /x HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
    {"HTTP/1.2", "GET /x HTTP/1.2\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"},
    {"method with a separator", "GE(T /x HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"control byte in target", "GET /\x01 HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"header without colon", "GET /x HTTP/1.1\r\nHost a\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad chunk size", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "HTTP/1.1 400 Bad Request"},
    {"bad content-length", "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 400 Bad Request"},
    {"body over the limit", "POST /x HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", "HTTP/1.1 413 Content Too Large"},
};

START_TEST(status_table)
{
    struct seen s = {0};
    char *out = exchange(rows[_i].in, strlen(rows[_i].in), 0, 150, &s);
    ck_assert_msg(strncmp(out, rows[_i].status, strlen(rows[_i].status)) == 0, "%s: got '%.60s'", rows[_i].name, out);
    free(out);
}
END_TEST

START_TEST(request_parts_reach_the_dispatcher)
{
    struct seen s = {0};
    const char *in = "patch /c/t/x?q=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 5\r\n\r\nhello";
    char *out = exchange(in, strlen(in), 0, 150, &s);
    ck_assert_int_eq(s.requests, 1);
    ck_assert_str_eq(s.method, "patch");
    ck_assert_str_eq(s.target, "/c/t/x?q=1");
    ck_assert_str_eq(s.body, "hello");
    ck_assert_int_eq(s.nheaders, 4);
    free(out);
}
END_TEST

START_TEST(chunked_body_is_decoded)
{
    struct seen s = {0};
    const char *in = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    free(exchange(in, strlen(in), 0, 150, &s));
    ck_assert_str_eq(s.body, "hello world");
}
END_TEST

/* A request's end is stamped when its last byte came: with its head when it has no body (RFC 9112 §6.3), later
 * when a body or the chunked framing's last chunk comes 30 ms after the head (at least 10 ms later: slack for
 * a loaded machine). */
START_TEST(message_end_is_stamped_when_its_last_byte_came)
{
    static const struct {
        const char *head, *rest;
        int later;
    } stamps[] = {
        {"GET /x HTTP/1.1\r\nHost: a\r\n\r\n", "", 0},
        {"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "", 0},
        {"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n", "hello", 1},
        {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", 1},
        {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "0\r\n\r\n", 1}, /* no body byte at all */
    };
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        int peer;
        struct seen s = {0};
        struct ch_conn_owner owner = {on_dispatch, on_closed, &s, 5000, NULL};
        struct event_base *base = open_conn(&owner, &peer);
        ck_assert_int_eq(write(peer, stamps[i].head, strlen(stamps[i].head)), (ssize_t)strlen(stamps[i].head));
        run_for(base, 30);
        size_t n = strlen(stamps[i].rest);
        if (n) ck_assert_int_eq(write(peer, stamps[i].rest, n), (ssize_t)n);
        run_for(base, 30);
        ck_assert_int_eq(s.requests, 1);
        int ok = stamps[i].later ? s.end_us - s.head_us >= 10000 : s.end_us == s.head_us;
        ck_assert_msg(ok, "row %zu: head %lld end %lld", i, (long long)s.head_us, (long long)s.end_us);
        close_conn(base, peer);
    }
}
END_TEST

START_TEST(pipelined_requests_answered_in_order)
{
    struct seen s = {0};
    const char *in = "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n";
    char *out = exchange(in, strlen(in), 0, 200, &s);
    ck_assert_int_eq(s.requests, 3);
    ck_assert_str_eq(s.target, "/3");
    int replies = 0;
    for (char *p = out; (p = strstr(p, "HTTP/1.1 200 OK")); p++) replies++;
    ck_assert_int_eq(replies, 3);
    free(out);
}
END_TEST

START_TEST(oversize_heads_get_414_and_431)
{
    struct seen s = {0};
    size_t n = CH_MAX_TARGET + 200;
    char *in = malloc(n + 64);
    memcpy(in, "GET /", 5);
    memset(in + 5, 'a', n);
    strcpy(in + 5 + n, " HTTP/1.1\r\n\r\n");
    char *out = exchange(in, strlen(in), 0, 150, &s);
    ck_assert_msg(strncmp(out, "HTTP/1.1 414", 12) == 0, "got '%.40s'", out);
    free(out);
    /* one header far over CH_MAX_HEAD */
    size_t hn = CH_MAX_HEAD + 100;
    char *big = malloc(hn + 64);
    int k = sprintf(big, "GET /x HTTP/1.1\r\nX: ");
    memset(big + k, 'y', hn);
    strcpy(big + k + hn, "\r\n\r\n");
    out = exchange(big, strlen(big), 0, 150, &s);
    ck_assert_msg(strncmp(out, "HTTP/1.1 431", 12) == 0, "got '%.40s'", out);
    ck_assert_int_eq(s.requests, 0);
    free(out);
    free(big);
    free(in);
}
END_TEST

START_TEST(too_many_headers_get_431)
{
    struct seen s = {0};
    char *in = malloc(64 + (CH_MAX_HEADERS + 10) * 16);
    int k = sprintf(in, "GET /x HTTP/1.1\r\n");
    for (int i = 0; i < CH_MAX_HEADERS + 10; i++) k += sprintf(in + k, "X-%d: v\r\n", i);
    strcpy(in + k, "\r\n");
    char *out = exchange(in, strlen(in), 0, 150, &s);
    ck_assert_msg(strncmp(out, "HTTP/1.1 431", 12) == 0, "got '%.40s'", out);
    free(out);
    free(in);
}
END_TEST

START_TEST(half_closed_client_still_answered)
{
    struct seen s = {0};
    const char *in = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
    char *out = exchange(in, strlen(in), 1, 150, &s);
    ck_assert_int_eq(s.requests, 1);
    ck_assert(strncmp(out, "HTTP/1.1 200 OK", 15) == 0);
    free(out);
}
END_TEST

/* Pipelined requests and the FIN in one write, of every length around the read reservation's: at one of them
 * the bytes end exactly where a reservation does, so the reader sees the FIN in the same turn as the bytes.
 * Every request is answered, then the connection ends (fuzz_request found a version that answered them and
 * then stayed open forever). */
START_TEST(pipelined_requests_then_fin_in_one_write)
{
    for (int pad_len = 880; pad_len <= 980; pad_len++) { /* the boundary was at 929 */
        struct seen s = {0};
        char pad[1024], in[4096];
        memset(pad, 'p', (size_t)pad_len);
        pad[pad_len] = '\0';
        int n = snprintf(in, sizeof in, "GET /1 HTTP/1.1\r\nX-Pad: %s\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", pad);
        char *out = exchange(in, (size_t)n, 1, 30, &s);
        ck_assert_msg(s.requests == 2, "pad %d: %d requests", pad_len, s.requests);
        ck_assert_msg(s.closed_first, "pad %d: the connection outlived its client's FIN", pad_len);
        free(out);
    }
}
END_TEST

START_TEST(connection_close_is_honoured)
{
    struct seen s = {0};
    const char *in = "GET /x HTTP/1.1\r\nConnection: close\r\n\r\nGET /y HTTP/1.1\r\n\r\n";
    char *out = exchange(in, strlen(in), 0, 150, &s);
    ck_assert_int_eq(s.requests, 1); /* the second request is never read */
    ck_assert(strstr(out, "Connection: close\r\n") != NULL);
    free(out);
}
END_TEST

/* A browser reuses one keep-alive connection for many cases: each token's transcript gets this connection's
 * open and close, however many tokens came before on it. */
static struct ch_transcript *trs[12];
static int ntr;

static void on_dispatch_tokens(struct ch_conn *c, struct ch_request *r, void *arg)
{
    ch_conn_attach(c, trs[ntr++]);
    ch_conn_reply(c, 200, "OK", "text/plain", NULL, "ok", 2);
}

START_TEST(every_token_on_a_reused_connection_sees_its_close)
{
    int peer;
    char buf[4096];
    ntr = 0;
    struct ch_arena *arena = ch_arena_new();
    for (int i = 0; i < 12; i++) trs[i] = ch_transcript_new(arena, "t", "c", 0);
    struct seen s = {0};
    struct ch_conn_owner owner = {on_dispatch_tokens, on_closed, &s, 5000, NULL};
    struct event_base *base = open_conn(&owner, &peer);
    for (int i = 0; i < 12; i++) {
        ck_assert_int_eq(write(peer, "GET /x HTTP/1.1\r\n\r\n", 19), 19);
        while (ntr <= i) event_base_loop(base, EVLOOP_ONCE);
        ck_assert(read(peer, buf, sizeof buf) > 0);
    }
    close(peer);
    while (!s.closed) event_base_loop(base, EVLOOP_ONCE);
    for (int i = 4; i < 12; i++) { /* the last CH_CONN_MAX_TRANSCRIPTS tokens, the newest above all */
        json_t *j = ch_transcript_json(trs[i]), *ev = json_object_get(j, "events");
        ck_assert_uint_eq(json_array_size(ev), 2);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "type")), "conn-close");
        json_decref(j);
    }
    for (int i = 0; i < 12; i++) ch_transcript_free(trs[i]);
    ch_arena_free(arena);
    event_base_free(base);
}
END_TEST

int main(void)
{
    return ch_check_main("conn", 20,
                         CH_LOOPS(CH_LOOP(status_table, rows)),
                         CH_TESTS(request_parts_reach_the_dispatcher, chunked_body_is_decoded, message_end_is_stamped_when_its_last_byte_came,
                                  pipelined_requests_answered_in_order, oversize_heads_get_414_and_431,
                                  too_many_headers_get_431, half_closed_client_still_answered,
                                  pipelined_requests_then_fin_in_one_write, connection_close_is_honoured,
                                  every_token_on_a_reused_connection_sees_its_close));
}
