/* check_ws_engine.c — the WebSocket engine (harness/engines/ws.c) over a real connection on a socketpair: the
 * client side writes a handshake and masked frames at scripted times, reads the server's bytes back as frames,
 * and each test checks the wire and the transcript (ws-handshake, ws-frame-in/out, ws-close). */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "engines/ws.h"
#include "reply_rig.h"
#include "testing/testing.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define UPGRADE                                                                                                 \
    "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " KEY       \
    "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\nOrigin: http://o\r\n\r\n"

/* One thing the client does at a time after the start: write bytes, or close its socket. */
struct act {
    int ms;
    const char *what; /* "frame", "raw", "close" */
    unsigned opcode;
    const char *data;
    size_t len;       /* 0: strlen(data) */
    int fin_false, unmasked;
};

struct rig {
    struct reply_rig r;
    unsigned char got[300000];
    size_t ngot;
    int eof, rst;
    int64_t t0, t_eof;
    struct event *reader;
    json_t *events; /* the transcript's events after the run */
};

struct pending {
    struct rig *g;
    const struct act *a;
};

static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
    struct rig *g = arg;
    ssize_t n = read(fd, g->got + g->ngot, sizeof g->got - g->ngot);
    if (n > 0) {
        g->ngot += (size_t)n;
        return;
    }
    if (n < 0 && errno == EAGAIN) return;
    if (n == 0) g->eof = 1;
    else g->rst = 1;
    g->t_eof = ch_now_us();
    event_del(g->reader);
    event_base_loopbreak(g->r.env.base);
}

/* A client frame: masked (unless told otherwise) with a fixed key. */
static size_t client_frame(unsigned char *out, unsigned opcode, int fin, int masked, const void *p, size_t n)
{
    struct ch_ws_header h = {.fin = fin, .opcode = opcode, .masked = masked, .len = n, .key = {1, 2, 3, 4}};
    size_t hn = ch_ws_header_encode(&h, out);
    if (n) memcpy(out + hn, p, n);
    if (masked) ch_ws_mask(out + hn, n, h.key, 0);
    return hn + n;
}

static void do_act(evutil_socket_t fd, short what, void *arg)
{
    struct pending *p = arg;
    const struct act *a = p->a;
    struct rig *g = p->g;
    free(p);
    if (g->r.fd < 0) return;
    if (!strcmp(a->what, "close")) {
        struct timeval tv = {0, 50000}; /* let the server see the FIN */
        close(g->r.fd);
        g->r.fd = -1;
        event_del(g->reader);
        event_base_loopexit(g->r.env.base, &tv);
        return;
    }
    size_t n = a->len ? a->len : a->data ? strlen(a->data) : 0;
    unsigned char *b = malloc(n + CH_WS_MAX_HEADER);
    size_t k = n;
    if (!strcmp(a->what, "raw")) memcpy(b, a->data, n);
    else k = client_frame(b, a->opcode, !a->fin_false, !a->unmasked, a->data, n);
    for (size_t off = 0; off < k;) { /* a socketpair may take a large frame in parts */
        ssize_t w = write(g->r.fd, b + off, k - off);
        if (w > 0) off += (size_t)w;
        else if (errno != EAGAIN) break;
    }
    free(b);
}

/* Runs `steps` (a JSON array) for one upgrade request `req`, with the client acts, until the server closes the
 * connection, the client does, or `ms` pass. */
static void run(struct rig *g, const char *steps, const char *req, const struct act *acts, int ms, double scale)
{
    char routes[8192];
    memset(g, 0, sizeof *g);
    snprintf(routes, sizeof routes, "[{\"method\":\"GET\",\"path\":\"/ws\",\"steps\":%s}]", steps);
    reply_rig_open(&g->r, "ws/x", routes, scale, "fixtures");
    g->reader = event_new(g->r.env.base, g->r.fd, EV_READ | EV_PERSIST, on_client_read, g);
    event_add(g->reader, NULL);
    g->t0 = ch_now_us();
    ck_assert_int_eq(write(g->r.fd, req, strlen(req)), (ssize_t)strlen(req));
    for (const struct act *a = acts; a && a->what; a++) {
        struct pending *p = malloc(sizeof *p);
        *p = (struct pending){g, a};
        struct timeval tv = {a->ms / 1000, (a->ms % 1000) * 1000};
        event_base_once(g->r.env.base, -1, EV_TIMEOUT, do_act, p, &tv);
    }
    reply_rig_run(&g->r, ms);
    g->events = reply_rig_events(&g->r);
}

static void done(struct rig *g)
{
    event_free(g->reader);
    /* let the server see the close and free the connection (pending event_base_once acts run and free: with
     * the client end closed they do nothing) */
    reply_rig_close(&g->r, 300);
    json_decref(g->events);
}

/* The bytes after the 101 head as frames: "text(hi) close(1000,bye) binary(0102) ..." (rsv/fin/mask marked). */
static void frames_of(const struct rig *g, char *out, size_t cap)
{
    const unsigned char *end = memmem(g->got, g->ngot, "\r\n\r\n", 4);
    size_t at = end ? (size_t)(end + 4 - g->got) : g->ngot;
    out[0] = '\0';
    while (at < g->ngot) {
        struct ch_ws_header h;
        if (ch_ws_header_parse(g->got + at, g->ngot - at, &h, NULL) != CH_WS_DONE) break;
        if (ch_ws_frame_size(&h) > g->ngot - at) break;
        unsigned char p[1024];
        size_t n = h.len < sizeof p ? (size_t)h.len : sizeof p;
        memcpy(p, g->got + at + h.hlen, n);
        if (h.masked) ch_ws_mask(p, n, h.key, 0);
        size_t o = strlen(out);
        const char *sep = o ? " " : "";
        char flags[32] = "";
        snprintf(flags, sizeof flags, "%s%s%s", h.fin ? "" : "~", h.rsv ? "r" : "", h.masked ? "m" : "");
        if (h.opcode == CH_WS_OP_CLOSE && n >= 2)
            snprintf(out + o, cap - o, "%s%sclose(%d,%.*s)", sep, flags, p[0] << 8 | p[1], (int)n - 2, (char *)p + 2);
        else if (h.opcode == CH_WS_OP_BINARY || n > 60) {
            char hex[130];
            ch_hex_encode(p, n < 64 ? n : 64, hex);
            snprintf(out + o, cap - o, "%s%s%s(%s%s)", sep, flags, ch_ws_opcode_name(h.opcode), hex, n > 64 ? "..." : "");
        } else
            snprintf(out + o, cap - o, "%s%s%s(%.*s)", sep, flags, ch_ws_opcode_name(h.opcode), (int)n, (char *)p);
        at += ch_ws_frame_size(&h);
    }
}

/* The n-th (0-based) transcript event of a type, or NULL. */
static const json_t *event_of(const struct rig *g, const char *type, int nth)
{
    size_t i;
    const json_t *ev;
    json_array_foreach(g->events, i, ev)
        if (!strcmp(json_string_value(json_object_get(ev, "type")), type) && nth-- == 0) return ev;
    return NULL;
}

static int count_of(const struct rig *g, const char *type)
{
    int n = 0;
    while (event_of(g, type, n)) n++;
    return n;
}

static const json_t *summary(const struct rig *g)
{
    const json_t *s = event_of(g, "ws-close", 0);
    ck_assert_msg(s != NULL, "no ws-close event");
    ck_assert_int_eq(count_of(g, "ws-close"), 1);
    return s;
}

static long jint(const json_t *o, const char *path)
{
    return (long)json_integer_value(json_object_get(o, path));
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

#define ASSERT_FRAMES(g, want)                                                                                  \
    do {                                                                                                        \
        char fr_[4096];                                                                                         \
        frames_of(g, fr_, sizeof fr_);                                                                          \
        ck_assert_msg(strcmp(fr_, want) == 0, "frames '%s', want '%s'", fr_, want);                             \
    } while (0)

#define STEPS(...) "[{\"op\":\"ws-accept\"}" __VA_ARGS__ "]"
#define CLIENT_CLOSE(ms, payload) {ms, "frame", 8, payload, 0, 0, 0}
#define ACT_END {0, NULL, 0, NULL, 0, 0, 0}

/* ---- handshake ----------------------------------------------------------------------------------------- */

START_TEST(accept_and_server_close)
{
    struct rig g;
    static const struct act acts[] = {CLIENT_CLOSE(50, "\x03\xe8" "bye"), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"hi {token}\"},"
                  "{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1000,\"text\":\"bye\"}"),
        UPGRADE, acts, 3000, 1.0);
    const char *head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
    ck_assert_int_eq(memcmp(g.got, head, strlen(head)), 0);
    ASSERT_FRAMES(&g, "text(hi t1) close(1000,bye)");
    ck_assert_int_eq(g.eof, 1); /* the server closed TCP after the closing handshake */
    const json_t *hs = event_of(&g, "ws-handshake", 0);
    ck_assert(json_is_true(json_object_get(hs, "valid")));
    ck_assert(json_is_true(json_object_get(hs, "completed")));
    ck_assert_str_eq(jstr(hs, "key"), KEY);
    ck_assert_str_eq(jstr(hs, "accept"), ACCEPT);
    ck_assert_str_eq(jstr(hs, "origin"), "http://o");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(hs, "protocols"), 1)), "superchat");
    const json_t *s = summary(&g);
    ck_assert_str_eq(jstr(s, "first"), "server");
    ck_assert_int_eq(jint(s, "code"), 1000);
    ck_assert_str_eq(jstr(s, "reason"), "bye");
    ck_assert(json_is_true(json_object_get(s, "clean")));
    ck_assert(json_is_true(json_object_get(s, "handshake_completed")));
    ck_assert_str_eq(jstr(s, "tcp"), "server-fin");
    ck_assert_int_eq(jint(json_object_get(s, "client"), "code"), 1000);
    const json_t *out = event_of(&g, "ws-frame-out", 0);
    ck_assert_str_eq(jstr(out, "kind"), "text");
    ck_assert_str_eq(jstr(out, "text"), "hi t1");
    ck_assert_int_eq(jint(out, "line"), 0); /* hand-written JSON has no lines */
    const json_t *in = event_of(&g, "ws-frame-in", 0);
    ck_assert(json_is_true(json_object_get(in, "masked")));
    ck_assert_int_eq(jint(json_object_get(in, "close"), "code"), 1000);
    done(&g);
}
END_TEST

static const struct {
    const char *name, *accept_json, *req;
    const char *head_has, *head_lacks;
    int status, completed;
} handshake_rows[] = {
    {"protocol offered", "{\"op\":\"ws-accept\",\"protocol\":\"chat\"}", UPGRADE, "Sec-WebSocket-Protocol: chat\r\n", NULL, 101, 1},
    {"protocol not offered", "{\"op\":\"ws-accept\",\"protocol\":\"mqtt\"}", UPGRADE, "Sec-WebSocket-Protocol: mqtt\r\n", NULL, 101, 0},
    {"extension not offered", "{\"op\":\"ws-accept\",\"extension\":\"x-foo\"}", UPGRADE, "Sec-WebSocket-Extensions: x-foo\r\n", NULL, 101, 0},
    {"extra headers", "{\"op\":\"ws-accept\",\"headers\":[\"Set-Cookie: a={token}; HttpOnly\",\"X-Y: z\"]}", UPGRADE,
     "\r\nSet-Cookie: a=t1; HttpOnly\r\nX-Y: z\r\n\r\n", NULL, 101, 1},
    {"bad accept", "{\"op\":\"ws-accept\",\"faults\":[\"bad-accept\"]}", UPGRADE, "Sec-WebSocket-Accept: ", ACCEPT, 101, 0},
    {"no accept", "{\"op\":\"ws-accept\",\"faults\":[\"no-accept\"]}", UPGRADE, "Upgrade: websocket", "Sec-WebSocket-Accept", 101, 0},
    {"no upgrade", "{\"op\":\"ws-accept\",\"faults\":[\"no-upgrade\"]}", UPGRADE, "Connection: Upgrade", "Upgrade: websocket", 101, 0},
    {"no connection", "{\"op\":\"ws-accept\",\"faults\":[\"no-connection\"]}", UPGRADE, "Upgrade: websocket", "Connection:", 101, 0},
    {"version 8 refused", "{\"op\":\"ws-accept\"}",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " KEY
     "\r\nSec-WebSocket-Version: 8\r\n\r\n", "Sec-WebSocket-Version: 13\r\n", "Upgrade:", 426, 0},
    {"no key refused", "{\"op\":\"ws-accept\"}",
     "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
     "Connection: close\r\n", "Upgrade:", 400, 0},
    {"plain GET refused", "{\"op\":\"ws-accept\"}", "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", "Bad Request", NULL, 400, 0},
};

START_TEST(handshake_table)
{
    struct rig g;
    char steps[512];
    static const struct act acts[] = {{100, "close", 0, NULL, 0, 0, 0}, ACT_END};
    snprintf(steps, sizeof steps, "[%s]", handshake_rows[_i].accept_json);
    run(&g, steps, handshake_rows[_i].req, acts, 3000, 1.0);
    char status[16];
    snprintf(status, sizeof status, "HTTP/1.1 %d ", handshake_rows[_i].status);
    g.got[g.ngot < sizeof g.got ? g.ngot : sizeof g.got - 1] = '\0';
    ck_assert_msg(strncmp((char *)g.got, status, strlen(status)) == 0, "%s: got %s", handshake_rows[_i].name, g.got);
    ck_assert_msg(strstr((char *)g.got, handshake_rows[_i].head_has) != NULL, "%s: no '%s' in %s", handshake_rows[_i].name,
                  handshake_rows[_i].head_has, g.got);
    if (handshake_rows[_i].head_lacks)
        ck_assert_msg(strstr((char *)g.got, handshake_rows[_i].head_lacks) == NULL, "%s: '%s' in %s",
                      handshake_rows[_i].name, handshake_rows[_i].head_lacks, g.got);
    const json_t *hs = event_of(&g, "ws-handshake", 0);
    ck_assert_ptr_nonnull(hs);
    if (handshake_rows[_i].status == 101) {
        ck_assert(json_is_true(json_object_get(hs, "valid")));
        ck_assert_int_eq(json_is_true(json_object_get(hs, "completed")), handshake_rows[_i].completed);
        ck_assert_int_eq(json_is_true(json_object_get(summary(&g), "handshake_completed")), handshake_rows[_i].completed);
    } else {
        ck_assert(json_is_false(json_object_get(hs, "valid")));
        ck_assert_ptr_nonnull(jstr(hs, "error"));
        ck_assert_int_eq(g.eof, 1);
        ck_assert_ptr_null(event_of(&g, "ws-close", 0));
    }
    done(&g);
}
END_TEST

/* ---- echo, pings, the client's Close ------------------------------------------------------------------- */

START_TEST(echo_everything)
{
    struct rig g;
    static const struct act acts[] = {
        {10, "frame", 1, "a", 0, 0, 0},       {12, "frame", 2, "\x01\x02", 2, 0, 0},
        {14, "frame", 9, "p", 0, 0, 0},       {16, "frame", 1, "he", 0, 1, 0},
        {18, "frame", 9, "q", 0, 0, 0},       {20, "frame", 0, "llo", 0, 0, 0},
        {22, "frame", 1, "", 0, 0, 0},        CLIENT_CLOSE(40, "\x03\xe8" "x"),
        ACT_END,
    };
    run(&g, STEPS(",{\"op\":\"ws-echo\"}"), UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "text(a) binary(0102) pong(p) pong(q) text(hello) text() close(1000,x)");
    ck_assert_int_eq(g.eof, 1);
    const json_t *s = summary(&g);
    ck_assert_str_eq(jstr(s, "first"), "client");
    ck_assert(json_is_true(json_object_get(s, "clean")));
    ck_assert_int_eq(jint(s, "messages_in"), 4);
    ck_assert_str_eq(jstr(event_of(&g, "ws-frame-out", 0), "auto"), "echo");
    ck_assert_str_eq(jstr(event_of(&g, "ws-frame-out", 6), "auto"), "close-reply");
    done(&g);
}
END_TEST

START_TEST(echo_large_message)
{
    struct rig g;
    static char big[70000];
    memset(big, 'z', sizeof big);
    static const struct act acts[] = {{10, "frame", 1, big, sizeof big, 0, 0}, CLIENT_CLOSE(100, ""), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-echo\"}"), UPGRADE, acts, 3000, 1.0);
    const unsigned char *end = memmem(g.got, g.ngot, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(end);
    end += 4;
    ck_assert_int_eq(memcmp(end, "\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10), 0);
    ck_assert_uint_eq(g.ngot - (size_t)(end - g.got), 10 + sizeof big + 2);
    const json_t *in = event_of(&g, "ws-frame-in", 0);
    ck_assert_int_eq(jint(in, "len"), 70000);
    ck_assert(json_is_true(json_object_get(in, "truncated")));
    ck_assert_uint_eq(strlen(jstr(in, "text")), CH_TRANSCRIPT_PREVIEW);
    done(&g);
}
END_TEST

static const struct {
    const char *name;
    const char *payload;
    size_t len;
    const char *reply;
    long code;
} client_close_rows[] = {
    {"empty Close gets an empty Close", "", 0, "close()", -1},
    {"code and reason echoed", "\x0f\xa1" "bye", 5, "close(4001,bye)", 4001},
    {"1010 answered with 1000", "\x03\xf2" "ext", 5, "close(1000,ext)", 1010},
    {"1001 echoed", "\x03\xe9", 2, "close(1001,)", 1001},
};

START_TEST(client_close_table)
{
    struct rig g;
    struct act acts[] = {{20, "frame", 8, client_close_rows[_i].payload, client_close_rows[_i].len, 0, 0}, ACT_END};
    if (!acts[0].len) acts[0].data = NULL;
    run(&g, STEPS(), UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, client_close_rows[_i].reply);
    ck_assert_int_eq(g.eof, 1);
    const json_t *s = summary(&g);
    ck_assert(json_is_true(json_object_get(s, "clean")));
    if (client_close_rows[_i].code < 0) ck_assert(json_is_null(json_object_get(s, "code")));
    else ck_assert_int_eq(jint(s, "code"), client_close_rows[_i].code);
    done(&g);
}
END_TEST

/* ---- client protocol errors fail the connection --------------------------------------------------------- */

static const struct {
    const char *name;
    struct act a;
    const char *reply;
    int code;
} fail_rows[] = {
    {"unmasked frame", {20, "frame", 1, "x", 0, 0, 1}, "close(1002,)", 1002},
    {"reserved opcode", {20, "frame", 3, "x", 0, 0, 0}, "close(1002,)", 1002},
    {"RSV1 without extension", {20, "raw", 0, "\xc1\x80\0\0\0\0", 6, 0, 0}, "close(1002,)", 1002},
    {"fragmented ping", {20, "frame", 9, "x", 0, 1, 0}, "close(1002,)", 1002},
    {"ping over 125", {20, "raw", 0, "\x89\xfe\x00\x7e\0\0\0\0", 8, 0, 0}, "close(1002,)", 1002},
    {"continuation first", {20, "frame", 0, "x", 0, 0, 0}, "close(1002,)", 1002},
    {"invalid UTF-8 text", {20, "frame", 1, "\xff\xfe", 0, 0, 0}, "close(1007,)", 1007},
    {"Close 1005", {20, "frame", 8, "\x03\xed", 2, 0, 0}, "close(1002,)", 1002},
    {"Close one byte", {20, "frame", 8, "\x03", 1, 0, 0}, "close(1002,)", 1002},
    {"Close reason not UTF-8", {20, "frame", 8, "\x03\xe8\xff", 3, 0, 0}, "close(1007,)", 1007},
    {"frame over 16 MiB", {20, "raw", 0, "\x82\xff\x00\x00\x00\x00\x01\x00\x00\x01\0\0\0\0", 14, 0, 0}, "close(1009,)", 1009},
};

START_TEST(fail_table)
{
    struct rig g;
    struct act acts[] = {fail_rows[_i].a, ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-echo\"},{\"op\":\"wait\",\"ms\":5000},{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"never\"}"),
        UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, fail_rows[_i].reply);
    ck_assert_msg(g.eof, "%s: the server did not close TCP", fail_rows[_i].name);
    const json_t *s = summary(&g);
    ck_assert_int_eq(jint(json_object_get(s, "failed"), "code"), fail_rows[_i].code);
    ck_assert_ptr_nonnull(jstr(json_object_get(s, "failed"), "why"));
    ck_assert(json_is_false(json_object_get(s, "clean")));
    ck_assert_str_eq(jstr(s, "first"), "server");
    ck_assert_ptr_nonnull(json_object_get(event_of(&g, "ws-frame-in", 0), "error"));
    ck_assert_str_eq(jstr(event_of(&g, "ws-frame-out", 0), "auto"), "fail");
    done(&g);
}
END_TEST

/* ---- close policies ------------------------------------------------------------------------------------- */

START_TEST(on_close_ignore)
{
    struct rig g;
    static const struct act acts[] = {CLIENT_CLOSE(20, "\x03\xe8"), {150, "close", 0, NULL, 0, 0, 0}, ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-on-close\",\"policy\":\"ignore\"}"), UPGRADE, acts, 3000, 1.0);
    reply_rig_run(&g.r, 100); /* let the server read the FIN */
    json_decref(g.events);
    g.events = reply_rig_events(&g.r);
    const json_t *s = summary(&g);
    ck_assert_str_eq(jstr(s, "first"), "client");
    ck_assert(json_is_false(json_object_get(s, "clean")));
    ck_assert(json_is_null(json_object_get(s, "server")));
    ck_assert_str_eq(jstr(s, "tcp"), "client");
    done(&g);
}
END_TEST

START_TEST(on_close_delay)
{
    struct rig g;
    static const struct act acts[] = {CLIENT_CLOSE(20, "\x03\xe8" "d"), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-on-close\",\"policy\":\"delay\",\"ms\":150}"), UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "close(1000,d)");
    int64_t t = g.t_eof - g.t0;
    ck_assert_msg(t >= 165000 && t < 400000, "closed after %lld us", (long long)t);
    ck_assert(json_is_true(json_object_get(summary(&g), "clean")));
    done(&g);
}
END_TEST

/* Our Close unanswered: TCP closes after CLOSE_WAIT_MS (5 s × 0.02 = 100 ms here), not clean. */
START_TEST(server_close_unanswered)
{
    struct rig g;
    run(&g, STEPS(",{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1001}"), UPGRADE, NULL, 3000, 0.02);
    ASSERT_FRAMES(&g, "close(1001,)");
    int64_t t = g.t_eof - g.t0;
    ck_assert_msg(t >= 95000 && t < 400000, "closed after %lld us", (long long)t);
    const json_t *s = summary(&g);
    ck_assert(json_is_false(json_object_get(s, "clean")));
    ck_assert(json_is_null(json_object_get(s, "client")));
    done(&g);
}
END_TEST

/* ---- server steps --------------------------------------------------------------------------------------- */

static const struct {
    const char *name, *steps, *frames;
} send_rows[] = {
    {"fragments", ",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"ab\",\"fin\":false},"
                  "{\"op\":\"ws-send\",\"kind\":\"continuation\",\"text\":\"cd\"}", "~text(ab) continuation(cd)"},
    {"rsv and opcode", ",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"r\",\"rsv\":4},"
                       "{\"op\":\"ws-send\",\"kind\":\"binary\",\"hex\":\"ff\",\"opcode\":3}", "rtext(r) reserved(\xff)"},
    {"masked by the server", ",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"m\",\"masked\":true}", "mtext(m)"},
    {"ping and pong", ",{\"op\":\"ws-send\",\"kind\":\"ping\"},{\"op\":\"ws-send\",\"kind\":\"pong\",\"text\":\"u\"}", "ping() pong(u)"},
    {"invalid code and reason", ",{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1005,\"hex\":\"ff\"}", "close(1005,\xff)"},
    {"code 0", ",{\"op\":\"ws-close\",\"form\":\"code\",\"code\":0}", "close(0,)"},
    {"empty close", ",{\"op\":\"ws-close\",\"form\":\"empty\"}", "close()"},
    {"raw one byte", ",{\"op\":\"ws-close\",\"form\":\"raw\",\"hex\":\"03\"}", "close(\x03)"},
    {"oversize reason asked for", ",{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1000,\"oversize\":true,\"text\":\""
                                  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123\"}",
     "close(1000,0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123)"},
    {"data after our Close", ",{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1000},{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"late\"}",
     "close(1000,) text(late)"},
    {"raw bytes", ",{\"op\":\"send\",\"hex\":\"8102686981\"}", "text(hi)"},
};

START_TEST(send_table)
{
    struct rig g;
    char steps[2048];
    static const struct act acts[] = {{150, "close", 0, NULL, 0, 0, 0}, ACT_END};
    snprintf(steps, sizeof steps, STEPS("%s"), send_rows[_i].steps);
    run(&g, steps, UPGRADE, acts, 3000, 1.0);
    char fr[4096];
    frames_of(&g, fr, sizeof fr);
    ck_assert_msg(strcmp(fr, send_rows[_i].frames) == 0, "%s: frames '%s'", send_rows[_i].name, fr);
    ck_assert_int_eq(count_of(&g, "script-error"), 0);
    done(&g);
}
END_TEST

START_TEST(oversize_refused_without_the_word)
{
    struct rig g;
    char steps[1024], p126[127];
    memset(p126, 'o', 126);
    p126[126] = '\0';
    snprintf(steps, sizeof steps, STEPS(",{\"op\":\"ws-send\",\"kind\":\"ping\",\"text\":\"%s\"}"), p126);
    run(&g, steps, UPGRADE, NULL, 3000, 1.0);
    ASSERT_FRAMES(&g, "");
    ck_assert_int_eq(g.eof, 1);
    ck_assert_ptr_nonnull(strstr(jstr(event_of(&g, "script-error", 0), "message"), "oversize"));
    done(&g);
}
END_TEST

START_TEST(await_messages)
{
    struct rig g;
    static const struct act acts[] = {{30, "frame", 1, "one", 0, 0, 0}, {120, "frame", 2, "2", 0, 0, 0},
                                      CLIENT_CLOSE(250, "\x03\xe8"), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-await\",\"what\":\"message\",\"count\":2},{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"got 2\"},"
                  "{\"op\":\"ws-await\",\"what\":\"close\"},{\"op\":\"wait\",\"ms\":50}"),
        UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "text(got 2) close(1000,)");
    const json_t *out = event_of(&g, "ws-frame-out", 0), *in2 = event_of(&g, "ws-frame-in", 1);
    ck_assert_int_ge(json_integer_value(json_object_get(out, "t_us")), json_integer_value(json_object_get(in2, "t_us")));
    int64_t t = g.t_eof - g.t0; /* the close reply at 250 ms; TCP closes after the last wait */
    ck_assert_msg(t >= 295000 && t < 600000, "closed after %lld us", (long long)t);
    done(&g);
}
END_TEST

/* `ws-await pong DATA`: a Pong with another payload does not count; the one with the Ping's payload does. */
START_TEST(await_pong_payload)
{
    struct rig g;
    static const struct act acts[] = {{30, "frame", 10, "other", 0, 0, 0}, {150, "frame", 10, "abc", 0, 0, 0},
                                      CLIENT_CLOSE(300, "\x03\xe8"), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-send\",\"kind\":\"ping\",\"text\":\"abc\"},"
                  "{\"op\":\"ws-await\",\"what\":\"pong\",\"text\":\"abc\",\"count\":1},"
                  "{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"got\"}"),
        UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "ping(abc) text(got) close(1000,)");
    const json_t *got = event_of(&g, "ws-frame-out", 1), *right = event_of(&g, "ws-frame-in", 1);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(right);
    ck_assert_int_ge(json_integer_value(json_object_get(got, "t_us")), json_integer_value(json_object_get(right, "t_us")));
    done(&g);
}
END_TEST

START_TEST(await_unmet_stops_the_steps)
{
    struct rig g;
    static const struct act acts[] = {CLIENT_CLOSE(30, ""), ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-await\",\"what\":\"message\"},{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"never\"}"),
        UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "close()");
    ck_assert_int_eq(g.eof, 1);
    ck_assert_ptr_nonnull(event_of(&g, "ws-await-unmet", 0));
    done(&g);
}
END_TEST

START_TEST(tcp_close_and_reset)
{
    struct rig g;
    run(&g, STEPS(",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"x\"},{\"op\":\"close\"}"), UPGRADE, NULL, 3000, 1.0);
    ASSERT_FRAMES(&g, "text(x)");
    ck_assert_int_eq(g.eof, 1);
    ck_assert(json_is_false(json_object_get(summary(&g), "clean")));
    ck_assert(json_is_null(json_object_get(summary(&g), "first")));
    done(&g);
    run(&g, STEPS(",{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"x\"},{\"op\":\"reset\"}"), UPGRADE, NULL, 3000, 1.0);
    ck_assert_int_eq(g.eof + g.rst, 1);
    ck_assert_str_eq(jstr(summary(&g), "tcp"), "server-rst");
    done(&g);
}
END_TEST

START_TEST(hold_answers_nothing)
{
    struct rig g;
    static const struct act acts[] = {{20, "frame", 9, "p", 0, 0, 0}, CLIENT_CLOSE(40, ""), {150, "close", 0, NULL, 0, 0, 0},
                                      ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-echo\"},{\"op\":\"hold\"}"), UPGRADE, acts, 3000, 1.0);
    ASSERT_FRAMES(&g, "");
    ck_assert_int_eq(count_of(&g, "ws-frame-in"), 2);
    done(&g);
}
END_TEST

START_TEST(frames_after_client_close_ignored)
{
    struct rig g;
    unsigned char b[64];
    size_t n = client_frame(b, 8, 1, 1, "\x03\xe8", 2);
    n += client_frame(b + n, 1, 1, 1, "late", 4);
    struct act a2[] = {{20, "raw", 0, (const char *)b, n, 0, 0}, ACT_END};
    run(&g, STEPS(",{\"op\":\"ws-echo\"}"), UPGRADE, a2, 3000, 1.0);
    ASSERT_FRAMES(&g, "close(1000,)");
    ck_assert(json_is_true(json_object_get(event_of(&g, "ws-frame-in", 1), "ignored")) ||
              event_of(&g, "ws-frame-in", 1) == NULL); /* the server may close before reading it */
    done(&g);
}
END_TEST

START_TEST(ws_word_before_accept)
{
    struct rig g;
    run(&g, "[{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"x\"},{\"op\":\"ws-accept\"}]", UPGRADE, NULL, 3000, 1.0);
    ck_assert_uint_eq(g.ngot, 0);
    ck_assert_ptr_nonnull(strstr(jstr(event_of(&g, "script-error", 0), "message"), "before ws-accept"));
    done(&g);
}
END_TEST

START_TEST(wrong_step_after_accept)
{
    struct rig g;
    run(&g, STEPS(",{\"op\":\"status\",\"code\":200,\"reason\":\"OK\"}"), UPGRADE, NULL, 3000, 1.0);
    ck_assert_int_eq(g.eof, 1);
    ck_assert_ptr_nonnull(strstr(jstr(event_of(&g, "script-error", 0), "message"), "cannot follow ws-accept"));
    done(&g);
}
END_TEST

/* Frames that came with the handshake bytes are read before the steps run. */
START_TEST(frames_with_the_handshake)
{
    struct rig g;
    char req[1024];
    unsigned char f[32];
    size_t n = client_frame(f, 1, 1, 1, "early", 5);
    size_t hl = strlen(UPGRADE);
    memcpy(req, UPGRADE, hl);
    memcpy(req + hl, f, n);
    req[hl + n] = '\0'; /* masked bytes of "early" with key 1 2 3 4 hold no NUL */
    run(&g, STEPS(",{\"op\":\"ws-echo\"},{\"op\":\"ws-close\",\"form\":\"code\",\"code\":1000}"), req, NULL, 500, 1.0);
    ASSERT_FRAMES(&g, "close(1000,)");
    ck_assert_str_eq(jstr(event_of(&g, "ws-frame-in", 0), "text"), "early");
    done(&g);
}
END_TEST

int main(void)
{
    return ch_check_main("ws_engine", 20,
                         CH_LOOPS(CH_LOOP(handshake_table, handshake_rows),
                                  CH_LOOP(client_close_table, client_close_rows), CH_LOOP(fail_table, fail_rows),
                                  CH_LOOP(send_table, send_rows)),
                         CH_TESTS(accept_and_server_close, echo_everything, echo_large_message, on_close_ignore,
                                  on_close_delay, server_close_unanswered, oversize_refused_without_the_word,
                                  await_messages, await_pong_payload, await_unmet_stops_the_steps, tcp_close_and_reset,
                                  hold_answers_nothing, frames_after_client_close_ignored, ws_word_before_accept,
                                  wrong_step_after_accept, frames_with_the_handshake));
}
