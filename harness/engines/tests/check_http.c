/* check_http.c — unit tests of the executor and the HTTP step words (harness/engines/exec.c, http.c): compiled
 * routes run over a real connection on a socketpair; the client side records every byte with its arrival time
 * and how the connection ended. */
#include <check.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "reply_rig.h"
#include "testing/testing.h"

struct rig {
    struct reply_rig r;
    char got[65536];
    size_t ngot;
    int64_t t_send, t_first, t_last;
    int eof, rst;
    size_t want;            /* stop the loop once this many bytes arrived (and EOF, when want_eof) */
    int want_eof;
    struct event *reader;
};

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
    struct rig *g = arg;
    ssize_t n = read(fd, g->got + g->ngot, sizeof g->got - 1 - g->ngot);
    if (n > 0) {
        if (!g->t_first) g->t_first = ch_now_us();
        g->t_last = ch_now_us();
        g->ngot += (size_t)n;
        g->got[g->ngot] = '\0';
    } else if (n == 0) {
        g->eof = 1;
        event_del(g->reader);
    } else if (errno == ECONNRESET) {
        g->rst = 1;
        event_del(g->reader);
    }
    if (g->want && g->ngot >= g->want && (!g->want_eof || g->eof || g->rst)) event_base_loopbreak(g->r.env.base);
}

/* Compiles `json` (an array of routes; rendered at load where they can be, with `prerender`) and sends `req`;
 * runs the loop until `want` bytes (and EOF when `want_eof`) arrived, or for `ms` when want is 0; never longer
 * than 10 s (slow under valgrind). */
static void run_opts(struct rig *g, const char *routes, const char *req, int ms, size_t want, int want_eof,
                     int prerender)
{
    memset(g, 0, sizeof *g);
    g->want = want;
    g->want_eof = want_eof;
    if (want) ms = 10000;
    reply_rig_open(&g->r, "t/x", routes, 1.0, "fixtures");
    if (prerender) reply_rig_prerender(&g->r, 1.0);
    g->reader = event_new(g->r.env.base, g->r.fd, EV_READ | EV_PERSIST, on_client_read, g);
    event_add(g->reader, NULL);
    g->t_send = ch_now_us();
    ck_assert_int_eq(write(g->r.fd, req, strlen(req)), (ssize_t)strlen(req));
    reply_rig_run(&g->r, ms);
}

static void run(struct rig *g, const char *routes, const char *req, int ms, size_t want, int want_eof)
{
    run_opts(g, routes, req, ms, want, want_eof, 0);
}

static void done(struct rig *g)
{
    event_free(g->reader);
    reply_rig_close(&g->r, 0);
}

#define GET "GET /x HTTP/1.1\r\nHost: h\r\nOrigin: http://o\r\n\r\n"

static const struct {
    const char *name, *steps, *expect;
    int fixed; /* rendered at load (ch_route_prerender) */
} exact_rows[] = {
    {"status and header", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header\",\"name\":\"X-A\",\"value\":\"1\"}]",
     "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n", 1},
    {"odd status, empty reason", "[{\"op\":\"status\",\"code\":599,\"reason\":\"\"}]", "HTTP/1.1 599 \r\n\r\n", 1},
    {"duplicates kept in order", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header\",\"name\":\"x-d\",\"value\":\"b\"},"
     "{\"op\":\"header\",\"name\":\"X-D\",\"value\":\"a\"}]", "HTTP/1.1 200 OK\r\nx-d: b\r\nX-D: a\r\n\r\n", 1},
    {"body-length tells the truth", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header\",\"name\":\"Content-Length\","
     "\"value\":\"{body-length}\"},{\"op\":\"body\",\"text\":\"hello\"},{\"op\":\"body\",\"hex\":\"2121\"}]",
     "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhello!!", 1},
    {"request header placeholder", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header\",\"name\":\"ACAO\","
     "\"value\":\"{req:origin}\"}]", "HTTP/1.1 200 OK\r\nACAO: http://o\r\n\r\n", 0},
    {"chunks and chunk-end", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"body\",\"text\":\"hello world\",\"chunks\":[5,3]},"
     "{\"op\":\"chunk\",\"text\":\"!\"},{\"op\":\"chunk-end\"}]",
     "HTTP/1.1 200 OK\r\n\r\n5\r\nhello\r\n3\r\n wo\r\n3\r\nrld\r\n1\r\n!\r\n0\r\n\r\n", 1},
    {"gen pattern with LF every 64", "[{\"op\":\"body\",\"gen\":70}]",
     "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqr\n01234", 1},
    {"send writes no head", "[{\"op\":\"send\",\"text\":\"HTTP/1.0 200\\n\\nraw\"}]", "HTTP/1.0 200\n\nraw", 1},
    {"header-raw line", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header-raw\",\"text\":\"X-Fold: a\\r\\n b\"}]",
     "HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\n\r\n", 1},
    {"token placeholder", "[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"header\",\"name\":\"X-T\","
     "\"value\":\"{token}\"}]", "HTTP/1.1 200 OK\r\nX-T: t1\r\n\r\n", 0},
    {"ms placeholder, then close", "[{\"op\":\"send\",\"text\":\"{ms:250}\"},{\"op\":\"close\"}]", "250", 1},
};

START_TEST(exact_bytes)
{
    struct rig g;
    char routes[2048];
    snprintf(routes, sizeof routes, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":%s}]", exact_rows[_i].steps);
    run(&g, routes, GET, 0, strlen(exact_rows[_i].expect), 0);
    ck_assert_msg(g.ngot == strlen(exact_rows[_i].expect) && memcmp(g.got, exact_rows[_i].expect, g.ngot) == 0,
                  "%s: got '%s'", exact_rows[_i].name, g.got);
    done(&g);
}
END_TEST

/* The events of a transcript without their times, as one JSON text. */
static char *events_untimed(const struct reply_rig *g)
{
    json_t *ev = reply_rig_events(g), *e;
    size_t i;
    json_array_foreach(ev, i, e) json_object_del(e, "t_us");
    char *s = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(ev);
    return s;
}

/* A route rendered at load (prerender 1) writes the bytes and records the events its steps would when they run
 * (0), and only a route whose reply cannot differ between requests is rendered at load (`fixed`). */
static void assert_prerendered_alike(const char *name, const char *steps, size_t len, int fixed)
{
    struct rig a, b;
    char routes[2048];
    snprintf(routes, sizeof routes, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":%s}]", steps);
    run_opts(&a, routes, GET, 0, len, 0, 0);
    run_opts(&b, routes, GET, 0, len, 0, 1);
    ck_assert_msg(b.r.kase.routes[0].has_fixed == fixed, "%s: has_fixed %d", name, b.r.kase.routes[0].has_fixed);
    ck_assert_msg(b.ngot == len && b.ngot == a.ngot && memcmp(a.got, b.got, a.ngot) == 0, "%s: got '%s'", name,
                  b.got);
    char *ea = events_untimed(&a.r), *eb = events_untimed(&b.r);
    ck_assert_str_eq(ea, eb);
    ck_assert_ptr_nonnull(strstr(ea, "\"type\":\"end\""));
    free(ea);
    free(eb);
    done(&a);
    done(&b);
}

START_TEST(prerendered_alike)
{
    assert_prerendered_alike(exact_rows[_i].name, exact_rows[_i].steps, strlen(exact_rows[_i].expect),
                             exact_rows[_i].fixed);
}
END_TEST

/* The same where the transcript keeps the reply's bytes as hex (not UTF-8) or only a preview of them (longer than
 * CH_TRANSCRIPT_PREVIEW): a reply rendered at load is recorded from the route's bytes, not a copy. */
START_TEST(prerendered_alike_binary_and_long)
{
    assert_prerendered_alike("binary", "[{\"op\":\"body\",\"hex\":\"fffe80\"}]", 3, 1);
    assert_prerendered_alike("past the preview", "[{\"op\":\"body\",\"gen\":1500}]", 1500, 1);
}
END_TEST

/* Not rendered at load: a wait (the bytes leave later), a file (read when the reply runs), an echo (the request). */
START_TEST(prerender_refuses)
{
    static const char *const steps[] = {
        "[{\"op\":\"wait\",\"ms\":1},{\"op\":\"send\",\"text\":\"a\"}]",
        "[{\"op\":\"body\",\"file\":\"payload/pixel.gif\"}]",
        "[{\"op\":\"echo\"}]",
        "[{\"op\":\"body\",\"gen\":1000000}]",
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        struct reply_rig g;
        char routes[512];
        snprintf(routes, sizeof routes, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":%s}]", steps[i]);
        reply_rig_open(&g, "t/x", routes, 1.0, "fixtures");
        reply_rig_prerender(&g, 1.0);
        ck_assert_msg(!g.kase.routes[0].has_fixed, "rendered at load: %s", steps[i]);
        reply_rig_close(&g, 0);
    }
}
END_TEST

START_TEST(wait_delays_the_head)
{
    struct rig g;
    run(&g, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":[{\"op\":\"wait\",\"ms\":120},{\"op\":\"status\",\"code\":204,\"reason\":\"X\"}]}]",
        GET, 0, 18, 0);
    int64_t waited = g.t_first - g.t_send;
    ck_assert_msg(waited >= 118000 && waited < 200000, "waited %lld us", (long long)waited);
    ck_assert_str_eq(g.got, "HTTP/1.1 204 X\r\n\r\n");
    done(&g);
}
END_TEST

START_TEST(trickle_paces_the_bytes)
{
    struct rig g;
    run(&g, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":[{\"op\":\"trickle\",\"bytes\":2,\"ms\":40},"
            "{\"op\":\"send\",\"text\":\"abcdef\"},{\"op\":\"close\"}]}]", GET, 0, 6, 1);
    ck_assert_str_eq(g.got, "abcdef");
    int64_t span = g.t_last - g.t_first; /* three slices: 0, 40, 80 ms */
    ck_assert_msg(span >= 78000 && span < 140000, "span %lld us", (long long)span);
    ck_assert_int_eq(g.eof, 1);
    done(&g);
}
END_TEST

START_TEST(close_sends_fin_after_the_bytes)
{
    struct rig g;
    run(&g, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":[{\"op\":\"send\",\"text\":\"partial\"},{\"op\":\"close\"}]}]", GET, 0, 7, 1);
    ck_assert_str_eq(g.got, "partial");
    ck_assert_int_eq(g.eof, 1);
    json_t *t = ch_transcript_json(g.r.tr);
    json_t *last = json_array_get(json_object_get(t, "events"), json_array_size(json_object_get(t, "events")) - 1);
    ck_assert_str_eq(json_string_value(json_object_get(last, "type")), "conn-close");
    ck_assert_str_eq(json_string_value(json_object_get(last, "by")), "server");
    ck_assert_str_eq(json_string_value(json_object_get(last, "how")), "fin");
    json_decref(t);
    done(&g);
}
END_TEST

START_TEST(keep_alive_answers_the_next_request)
{
    struct rig g;
    run(&g, "[{\"method\":\"GET\",\"path\":\"/x\",\"nth\":2,\"steps\":[{\"op\":\"send\",\"text\":\"second\"}]},"
            "{\"method\":\"GET\",\"path\":\"/x\",\"steps\":[{\"op\":\"send\",\"text\":\"any;\"}]}]",
        GET GET GET, 0, 14, 0);
    ck_assert_str_eq(g.got, "any;secondany;");
    ck_assert_int_eq(g.eof, 0);
    done(&g);
}
END_TEST

START_TEST(echo_describes_the_request)
{
    struct rig g;
    run(&g, "[{\"method\":\"POST\",\"path\":\"/x\",\"steps\":[{\"op\":\"echo\"},{\"op\":\"close\"}]}]",
        "POST /x HTTP/1.1\r\nX-B: 2\r\nContent-Length: 3\r\n\r\nabc", 0, 1, 1);
    json_t *j = json_loads(g.got, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(j, "body_text")), "abc");
    ck_assert_int_eq(json_array_size(json_object_get(j, "headers")), 2);
    json_decref(j);
    done(&g);
}
END_TEST

START_TEST(transcript_records_sent_runs)
{
    struct rig g;
    run(&g, "[{\"method\":\"GET\",\"path\":\"/x\",\"steps\":[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"},{\"op\":\"body\",\"text\":\"hi\"}]}]",
        GET, 0, 21, 0);
    json_t *t = ch_transcript_json(g.r.tr), *e;
    size_t i, sent = 0, ends = 0;
    json_array_foreach(json_object_get(t, "events"), i, e) {
        const char *type = json_string_value(json_object_get(e, "type"));
        sent += strcmp(type, "sent") == 0 ? (size_t)json_integer_value(json_object_get(e, "bytes")) : 0;
        ends += strcmp(type, "end") == 0;
    }
    ck_assert_uint_eq(sent, g.ngot);
    ck_assert_uint_eq(ends, 1);
    json_decref(t);
    done(&g);
}
END_TEST

int main(void)
{
    return ch_check_main("http", 20,
                         CH_LOOPS(CH_LOOP(exact_bytes, exact_rows), CH_LOOP(prerendered_alike, exact_rows)),
                         CH_TESTS(wait_delays_the_head, trickle_paces_the_bytes, close_sends_fin_after_the_bytes,
                                  keep_alive_answers_the_next_request, echo_describes_the_request,
                                  transcript_records_sent_runs, prerender_refuses,
                                  prerendered_alike_binary_and_long));
}
