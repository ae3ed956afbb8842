/* ws.c — the WebSocket engine: the `ws-*` step words (cases/FORMAT.md §4.4) and one state machine per upgraded
 * connection (RFC 6455 §4.2 handshake, §5 frames, §7 closing).
 *
 * The executor (exec.c) runs a route's steps; `ws-accept` validates the request, writes the 101 and upgrades
 * the connection (exec.h's upgrade hooks): from then on this engine reads every client frame
 * (ch_conn_upgrade), while the same executor runs the remaining steps (ws-* words, wait, send, close, reset,
 * hold) and automatic behaviour — pongs, echo, answering a client's Close — runs between them. When the steps
 * end the connection stays with the engine until the closing handshake is over (the server then closes TCP
 * first, §7.1.1) or the client leaves.
 *
 * Everything the engine sees and sends is recorded: `ws-handshake`, `ws-frame-in`, `ws-frame-out` and one
 * `ws-close` summary (harness/MODEL.md §2). */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/core.h"
#include "exec.h"
#include "ws.h"

#define RECORD_FRAMES 1000    /* data/ping/pong frames recorded one by one per direction; Close frames always */
#define CLOSE_WAIT_MS 5000    /* after the steps, how long (case time) our Close waits for the client's */
#define OUT_KEEP (64u << 10)  /* an output buffer larger than this is released once written */

static const unsigned char server_key[4] = {0x37, 0xfa, 0x21, 0x3d}; /* RFC 6455 §5.7's example key */

/* The connection's state (RFC 6455 §7). */
enum ws_state {
    WS_OPEN,           /* handshake done; frames flow both ways */
    WS_CLOSE_SENT,     /* we sent a Close; the client's has not come */
    WS_CLOSE_RECEIVED, /* the client sent a Close; ours is pending (policy ignore or delay, or the steps') */
    WS_CLOSED,         /* both Closes exchanged, or we failed the connection: TCP closes when the steps end */
};

enum on_close { ON_CLOSE_ECHO, ON_CLOSE_IGNORE, ON_CLOSE_DELAY };

/* What a step (or an input handler) left behind. */
enum ws_rc {
    WS_NEXT,  /* go on */
    WS_YIELD, /* a timer or an await will resume the steps */
    WS_GONE,  /* the engine ended, the executor and the engine are freed: touch nothing */
};

struct ch_ws {
    struct ch_conn *conn;
    struct ch_exec *x;          /* runs the steps; its `over` / `finished` say whether they are over */
    enum ws_state state;
    int hold, echo, starting, reader_dead, handshake_completed;
    enum on_close on_close;
    int64_t on_close_ms;
    const char *await_what;     /* NULL, or "message" / "close" / "ping" / "pong" */
    long await_count;
    int await_data;             /* a ping/pong await counts only payloads equal to await_payload */
    unsigned char await_payload[CH_WS_MAX_CONTROL];
    size_t await_payload_len;
    long await_matched;         /* pings or pongs with that payload since the await began */
    struct ch_ws_reader rd;
    unsigned char *out;         /* frames being assembled; flushed per step, per input batch (no allocation per frame) */
    size_t out_len, out_cap;
    int batching;
    struct event *reply_timer;  /* ws-on-close delay */
    struct event *linger_timer; /* our Close waiting for the client's */
    /* The closing handshake, for the `ws-close` summary. */
    const char *first;          /* who sent the first Close: "client" / "server" / NULL */
    json_t *client_close, *server_close, *failed;
    unsigned char client_payload[CH_WS_MAX_CONTROL];
    size_t client_payload_len;
    long frames_in, frames_out, messages_in, pings_in, pongs_in, unrecorded_in, unrecorded_out;
};

static enum ws_rc maybe_finish(struct ch_ws *w);

/* The steps are over: they ended, or failed, or an await can no longer be met. */
static int steps_over(const struct ch_ws *w) { return w->x->over || w->x->finished; }

/* ---- recording ------------------------------------------------------------------------------------------- */

static void record(struct ch_ws *w, const char *type, json_t *fields)
{
    json_object_set_new(fields, "conn", json_integer((json_int_t)w->conn->id));
    ch_transcript_add(w->x->tr, ch_now_us(), type, fields);
}

static json_t *close_json(const struct ch_ws_close *c)
{
    json_t *j = json_pack("{s:o}", "code", c->code < 0 ? json_null() : json_integer(c->code));
    ch_json_set_bytes(j, c->reason_len ? c->reason : (const unsigned char *)"", c->reason_len);
    if (json_object_get(j, "text")) json_object_set(j, "reason", json_object_get(j, "text"));
    else json_object_set(j, "reason_hex", json_object_get(j, "hex"));
    json_object_del(j, "text");
    json_object_del(j, "hex");
    return j;
}

/* {opcode, kind, fin, rsv, masked, len, text|hex (the first CH_TRANSCRIPT_PREVIEW bytes), truncated?} */
static json_t *frame_json(const struct ch_ws_header *h, const unsigned char *payload, size_t n)
{
    json_t *f = json_pack("{s:i, s:s, s:b, s:i, s:b, s:I}", "opcode", (int)h->opcode, "kind",
                          ch_ws_opcode_name(h->opcode), "fin", h->fin, "rsv", (int)h->rsv, "masked", h->masked, "len",
                          (json_int_t)h->len);
    size_t keep = n < CH_TRANSCRIPT_PREVIEW ? n : CH_TRANSCRIPT_PREVIEW;
    if (payload || h->len == 0) ch_json_set_bytes(f, payload ? payload : (const unsigned char *)"", keep);
    if (keep < h->len) json_object_set_new(f, "truncated", json_true());
    return f;
}

/* Data, ping and pong frames past RECORD_FRAMES per direction are only counted (Close frames always go in). */
static int worth_recording(long *count, long *unrecorded, unsigned opcode)
{
    if (opcode == CH_WS_OP_CLOSE || *count < RECORD_FRAMES) return 1;
    (*unrecorded)++;
    return 0;
}

static void record_in(struct ch_ws *w, const struct ch_ws_event *ev, int ignored)
{
    w->frames_in++;
    if (!ev->have_header) {
        record(w, "ws-frame-in", json_pack("{s:s, s:i}", "error", ev->why, "fail_code", ev->fail_code));
        return;
    }
    if (!ev->fail_code && !worth_recording(&w->frames_in, &w->unrecorded_in, ev->h.opcode)) return;
    json_t *f = frame_json(&ev->h, ev->payload, ev->payload_len);
    if (ev->h.opcode == CH_WS_OP_CLOSE && ev->payload_len != 1 && (ev->payload || ev->h.len == 0) &&
        ev->fail_code != CH_WS_CLOSE_PROTOCOL)
        json_object_set_new(f, "close", close_json(&ev->close));
    if (ev->fail_code) json_object_set_new(f, "error", json_pack("{s:s, s:i}", "why", ev->why, "fail_code", ev->fail_code));
    if (ignored) json_object_set_new(f, "ignored", json_true());
    record(w, "ws-frame-in", f);
}

/* ---- output ---------------------------------------------------------------------------------------------- */

/* Frames go out through ch_conn_write, which writes straight to the socket while nothing is queued and keeps
 * the order otherwise. */
static void conn_write(struct ch_conn *c, const unsigned char *p, size_t n)
{
    ch_conn_write(c, p, n);
}

static void flush(struct ch_ws *w)
{
    if (!w->out_len) return;
    conn_write(w->conn, w->out, w->out_len);
    w->out_len = 0;
    if (w->out_cap > OUT_KEEP) { /* after a large frame: do not keep its buffer */
        free(w->out);
        w->out = NULL;
        w->out_cap = 0;
    }
}

/* Room for n more bytes in the output; returns where they go. */
static unsigned char *out_room(struct ch_ws *w, size_t n)
{
    if (w->out_len + n > w->out_cap) {
        size_t cap = w->out_cap ? w->out_cap : 4096;
        while (cap < w->out_len + n) cap *= 2;
        w->out = ch_xrealloc(w->out, cap);
        w->out_cap = cap;
    }
    unsigned char *at = w->out + w->out_len;
    w->out_len += n;
    return at;
}

/* Queues one frame (flushed at once unless an input batch is being answered) and records it. `by` is a step's
 * line (> 0) or an automatic reason ("pong", "echo", "close-reply", "fail"). */
static void send_frame(struct ch_ws *w, struct ch_ws_header *h, const unsigned char *payload, int line,
                       const char *by)
{
    unsigned char head[CH_WS_MAX_HEADER];
    if (h->masked) memcpy(h->key, server_key, 4);
    size_t hn = ch_ws_header_encode(h, head), n = (size_t)h->len;
    unsigned char *at = out_room(w, hn + n);
    memcpy(at, head, hn);
    if (n) memcpy(at + hn, payload, n);
    if (h->masked && n) ch_ws_mask(at + hn, n, h->key, 0);
    if (!w->batching) flush(w);
    w->frames_out++;
    if (!worth_recording(&w->frames_out, &w->unrecorded_out, h->opcode)) return;
    json_t *f = frame_json(h, payload, n);
    if (h->opcode == CH_WS_OP_CLOSE && n != 1) {
        struct ch_ws_close c = {n ? (long)payload[0] << 8 | payload[1] : -1, n ? payload + 2 : NULL, n ? n - 2 : 0};
        json_object_set_new(f, "close", close_json(&c));
    }
    if (line > 0) json_object_set_new(f, "line", json_integer(line));
    else json_object_set_new(f, "auto", json_string(by));
    record(w, "ws-frame-out", f);
}

static void send_simple(struct ch_ws *w, unsigned opcode, const unsigned char *p, size_t n, const char *by)
{
    struct ch_ws_header h = {.fin = 1, .opcode = opcode, .len = n};
    send_frame(w, &h, p, 0, by);
}

/* Sends a Close and notes it for the summary (§5.5.1). */
static void send_close(struct ch_ws *w, const unsigned char *p, size_t n, int line, const char *by)
{
    struct ch_ws_header h = {.fin = 1, .opcode = CH_WS_OP_CLOSE, .len = n};
    send_frame(w, &h, p, line, by);
    if (!w->server_close) {
        struct ch_ws_close c = {n >= 2 ? (long)p[0] << 8 | p[1] : -1, n >= 2 ? p + 2 : NULL, n >= 2 ? n - 2 : 0};
        w->server_close = close_json(&c);
        if (n == 1) { /* not a code: the byte itself, so an odd Close does not read as an empty one */
            char hex[3];
            ch_hex_encode(p, 1, hex);
            json_object_set_new(w->server_close, "payload_hex", json_string(hex));
        }
        if (!w->first) w->first = "server";
    }
    w->state = w->state == WS_OPEN ? WS_CLOSE_SENT : WS_CLOSED;
}

/* ---- the end --------------------------------------------------------------------------------------------- */

static json_t *or_null(json_t *j)
{
    return j ? json_incref(j) : json_null();
}

static void record_summary(struct ch_ws *w, const char *tcp)
{
    const json_t *firstc = w->first && !strcmp(w->first, "client") ? w->client_close : w->server_close;
    json_t *f = json_pack("{s:o, s:o, s:o, s:b, s:b, s:s, s:I, s:I, s:I}", "first",
                          w->first ? json_string(w->first) : json_null(), "client", or_null(w->client_close), "server",
                          or_null(w->server_close), "clean", w->client_close && w->server_close, "handshake_completed",
                          w->handshake_completed, "tcp", tcp, "frames_in", (json_int_t)w->frames_in, "frames_out",
                          (json_int_t)w->frames_out, "messages_in", (json_int_t)w->messages_in);
    json_object_set_new(f, "req", json_integer(w->x->reqno));
    if (firstc) {
        json_object_set(f, "code", json_object_get(firstc, "code"));
        json_object_set(f, "reason", json_object_get(firstc, "reason") ? json_object_get(firstc, "reason")
                                                                        : json_object_get(firstc, "reason_hex"));
    }
    if (w->failed) json_object_set(f, "failed", w->failed);
    if (w->x->pc < w->x->route->nsteps) /* a failure, an unmet await or the client's leaving cut the steps short */
        json_object_set_new(f, "steps_left", json_integer((json_int_t)(w->x->route->nsteps - w->x->pc)));
    if (w->unrecorded_in || w->unrecorded_out)
        json_object_set_new(f, "unrecorded", json_pack("{s:I, s:I}", "in", (json_int_t)w->unrecorded_in, "out",
                                                       (json_int_t)w->unrecorded_out));
    record(w, "ws-close", f);
}

static void ws_free(void *engine)
{
    struct ch_ws *w = engine;
    if (w->reply_timer) event_free(w->reply_timer);
    if (w->linger_timer) event_free(w->linger_timer);
    free(w->out);
    ch_ws_reader_free(&w->rd);
    json_decref(w->client_close);
    json_decref(w->server_close);
    json_decref(w->failed);
    free(w);
}

/* The server ends the connection: FIN (or RST) once everything is written (conn.c lingers for the client's
 * FIN, so the server closes TCP first, §7.1.1). The executor and the engine are freed. */
static enum ws_rc ws_end(struct ch_ws *w, enum ch_conn_end how)
{
    struct ch_conn *c = w->conn;
    struct ch_exec *x = w->x;
    flush(w);
    record_summary(w, how == CH_END_RESET ? "server-rst" : "server-fin");
    ch_transcript_add(x->tr, ch_now_us(), "end", json_pack("{s:I, s:i}", "conn", (json_int_t)c->id, "req", x->reqno));
    ch_conn_set_gone(c, NULL, NULL);
    ch_exec_free(x);
    ch_conn_finish(c, how);
    return WS_GONE;
}

/* A step the engine cannot run: said in the transcript, then the connection closes. */
static enum ws_rc script_error(struct ch_ws *w, const struct ch_step *s, const char *why)
{
    char msg[CH_ERR_LEN + 32];
    snprintf(msg, sizeof msg, "line %d: %s", s->line, why);
    ch_transcript_add(w->x->tr, ch_now_us(), "script-error", json_pack("{s:s}", "message", msg));
    w->x->over = 1;
    return ws_end(w, CH_END_CLOSE);
}

/* §7.1.7 Fail the WebSocket Connection: a Close with the code (unless ours already went), then close TCP. */
static enum ws_rc fail_connection(struct ch_ws *w, int code, const char *why)
{
    w->reader_dead = 1;
    if (!w->failed) w->failed = json_pack("{s:i, s:s}", "code", code, "why", why);
    if (w->hold) return WS_NEXT; /* `hold`: nothing is written, nothing closed */
    if (!w->server_close) {
        unsigned char p[2] = {(unsigned char)(code >> 8), (unsigned char)code};
        send_close(w, p, 2, 0, "fail");
    }
    w->state = WS_CLOSED;
    w->x->over = 1;
    return ws_end(w, CH_END_CLOSE);
}

/* After the steps: close TCP once the closing handshake is over; our unanswered Close waits CLOSE_WAIT_MS. */
static enum ws_rc maybe_finish(struct ch_ws *w)
{
    if (!steps_over(w) || w->hold) return WS_NEXT;
    if (w->state == WS_CLOSED) return ws_end(w, CH_END_CLOSE);
    if (w->state == WS_CLOSE_SENT && !evtimer_pending(w->linger_timer, NULL)) {
        struct timeval tv = ch_exec_tv(w->x, CLOSE_WAIT_MS);
        evtimer_add(w->linger_timer, &tv);
    }
    return WS_NEXT;
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    ws_end(arg, CH_END_CLOSE); /* the client never answered our Close: not clean */
}

/* ---- input ----------------------------------------------------------------------------------------------- */

/* The answer to a client's Close (§5.5.1): its code and reason echoed (1010, which a server must not send,
 * becomes 1000); an empty Close gets an empty one. */
static enum ws_rc answer_close(struct ch_ws *w)
{
    unsigned char p[CH_WS_MAX_CONTROL];
    size_t n = w->client_payload_len;
    if (n) memcpy(p, w->client_payload, n);
    if (n >= 2 && p[0] == 1010 >> 8 && p[1] == (1010 & 255)) p[0] = 1000 >> 8, p[1] = 1000 & 255;
    send_close(w, p, n, 0, "close-reply");
    return maybe_finish(w);
}

static void on_reply_timer(evutil_socket_t fd, short what, void *arg)
{
    struct ch_ws *w = arg;
    if (!w->server_close && !w->hold) answer_close(w);
}

static enum ws_rc got_close(struct ch_ws *w, const struct ch_ws_event *ev)
{
    w->client_close = close_json(&ev->close);
    if (ev->payload_len) memcpy(w->client_payload, ev->payload, ev->payload_len);
    w->client_payload_len = ev->payload_len;
    if (!w->first) w->first = "client";
    if (w->state == WS_CLOSE_SENT) {
        w->state = WS_CLOSED;
        evtimer_del(w->linger_timer);
        return maybe_finish(w);
    }
    w->state = WS_CLOSE_RECEIVED;
    if (w->hold) return WS_NEXT;
    switch (w->on_close) {
    case ON_CLOSE_ECHO: return answer_close(w);
    case ON_CLOSE_IGNORE: return WS_NEXT;
    case ON_CLOSE_DELAY: {
        struct timeval tv = ch_exec_tv(w->x, w->on_close_ms);
        evtimer_add(w->reply_timer, &tv);
        return WS_NEXT;
    }
    }
    return WS_NEXT;
}

/* The counter an await watches. */
static long await_count_of(const struct ch_ws *w, const char *what)
{
    if (!strcmp(what, "message")) return w->messages_in;
    if (!strcmp(what, "ping")) return w->await_data ? w->await_matched : w->pings_in;
    if (!strcmp(what, "pong")) return w->await_data ? w->await_matched : w->pongs_in;
    return w->client_close ? 1 : 0;
}

/* After a frame: resume the steps if their await is met; stop them if it can no longer be (the client's Close
 * came first). */
static enum ws_rc check_await(struct ch_ws *w)
{
    if (!w->await_what) return WS_NEXT;
    if (await_count_of(w, w->await_what) >= w->await_count) {
        w->await_what = NULL;
        ch_exec_wake(w->x);
        return WS_NEXT;
    }
    if (w->client_close || w->state == WS_CLOSED) {
        ch_transcript_add(w->x->tr, ch_now_us(), "ws-await-unmet",
                          json_pack("{s:I, s:s, s:I, s:I}", "conn", (json_int_t)w->conn->id, "what", w->await_what,
                                    "count", (json_int_t)w->await_count, "seen",
                                    (json_int_t)await_count_of(w, w->await_what)));
        w->await_what = NULL;
        w->x->over = 1;
        return maybe_finish(w);
    }
    return WS_NEXT;
}

/* A ping or pong that a `ws-await ping|pong DATA` waits for: its payload must be exactly DATA (§5.5.3: a Pong
 * "MUST have identical Application data" as the Ping it answers; lowercase "must" in the RFC's text). */
static void count_match(struct ch_ws *w, const char *what, const struct ch_ws_event *ev)
{
    if (!w->await_data || !w->await_what || strcmp(w->await_what, what)) return;
    if (ev->payload_len == w->await_payload_len && !memcmp(ev->payload, w->await_payload, ev->payload_len))
        w->await_matched++;
}

/* One frame read (DONE). Frames after the client's Close are recorded and ignored (§5.5.1: no data after a
 * Close). */
static enum ws_rc handle_frame(struct ch_ws *w, const struct ch_ws_event *ev)
{
    int ignored = w->client_close != NULL || w->state == WS_CLOSED;
    record_in(w, ev, ignored);
    if (ignored) return WS_NEXT;
    int quiet = w->hold || w->server_close; /* after our Close nothing else goes out (§5.5.1) */
    switch (ev->h.opcode) {
    case CH_WS_OP_PING:
        w->pings_in++;
        count_match(w, "ping", ev);
        if (!quiet) send_simple(w, CH_WS_OP_PONG, ev->payload, ev->payload_len, "pong"); /* §5.5.2-5.5.3 */
        break;
    case CH_WS_OP_PONG: w->pongs_in++, count_match(w, "pong", ev); break;
    case CH_WS_OP_CLOSE: return got_close(w, ev);
    default:
        if (!ev->message) break;
        w->messages_in++;
        if (w->echo && !quiet) send_simple(w, ev->msg_opcode, ev->msg, ev->msg_len, "echo");
        break;
    }
    return WS_NEXT;
}

/* Reads every complete frame in the input. Returns WS_GONE when the engine ended. */
static enum ws_rc read_frames(struct ch_ws *w)
{
    struct evbuffer *in = w->conn->in;
    for (;;) {
        size_t have = evbuffer_get_length(in), size = 0;
        if (!have) return WS_NEXT;
        if (w->reader_dead) { /* after a failure in `hold`: the bytes cannot be framed any more */
            evbuffer_drain(in, have);
            return WS_NEXT;
        }
        struct ch_ws_event ev;
        size_t peek = have < CH_WS_MAX_HEADER ? have : CH_WS_MAX_HEADER;
        enum ch_ws_status st = ch_ws_read(&w->rd, evbuffer_pullup(in, (ev_ssize_t)peek), peek, &size, &ev);
        if (st == CH_WS_NEED && size > peek) {
            if (have < size) return WS_NEXT;
            st = ch_ws_read(&w->rd, evbuffer_pullup(in, (ev_ssize_t)size), size, &size, &ev);
        }
        if (st == CH_WS_NEED) return WS_NEXT;
        if (st == CH_WS_FAIL) {
            record_in(w, &ev, 0);
            return fail_connection(w, ev.fail_code, ev.why);
        }
        enum ws_rc rc = handle_frame(w, &ev);
        evbuffer_drain(in, size);
        if (rc == WS_GONE) return rc;
        if (check_await(w) == WS_GONE) return WS_GONE;
    }
}

/* Reads what came, answering in one write per batch (echoes, pongs). */
static enum ws_rc take_input(struct ch_ws *w)
{
    w->batching = 1;
    if (read_frames(w) == WS_GONE) return WS_GONE;
    w->batching = 0;
    flush(w);
    return WS_NEXT;
}

static void on_input(struct ch_conn *c, void *arg)
{
    struct ch_ws *w = arg;
    if (w->starting) return; /* the first run of the steps reads what is buffered */
    take_input(w);
}

/* ---- steps ----------------------------------------------------------------------------------------------- */

static const char *jstr(const json_t *s, const char *key)
{
    return json_string_value(json_object_get(s, key));
}

static long jint(const json_t *s, const char *key, long dflt)
{
    const json_t *v = json_object_get(s, key);
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static int jbool(const json_t *s, const char *key, int dflt)
{
    const json_t *v = json_object_get(s, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

/* The step's payload bytes ({"text"} with placeholders, or {"hex"}), or empty when it has neither. */
static int step_bytes(struct ch_ws *w, const json_t *s, struct evbuffer *b, char *err)
{
    if (!json_object_get(s, "text") && !json_object_get(s, "hex")) return 0;
    return ch_exec_payload(w->x, s, b, err);
}

static const struct {
    const char *name;
    unsigned opcode;
} send_kinds[] = {
    {"text", CH_WS_OP_TEXT}, {"binary", CH_WS_OP_BINARY}, {"continuation", CH_WS_OP_CONT},
    {"ping", CH_WS_OP_PING}, {"pong", CH_WS_OP_PONG},
};

static int kind_opcode(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof send_kinds / sizeof send_kinds[0]; i++)
        if (!strcmp(send_kinds[i].name, kind)) return (int)send_kinds[i].opcode;
    return -1;
}

/* A control frame over 125 bytes goes out only when the step says `oversize` (RFC 6455 §5.5). */
static int oversize_refused(const json_t *s, unsigned opcode, size_t n, char *err)
{
    if (!ch_ws_is_control(opcode) || n <= CH_WS_MAX_CONTROL || jbool(s, "oversize", 0)) return 0;
    return ch_errf(err, "a %s frame with a %zu-byte payload (over 125, RFC 6455 §5.5): add `oversize` if the case "
                   "means it", ch_ws_opcode_name(opcode), n);
}

/* What a step's ws_rc means to the executor. */
static enum ch_step_result step_result(enum ws_rc rc)
{
    return rc == WS_GONE ? CH_STEP_OWNED : rc == WS_YIELD ? CH_STEP_YIELD : CH_STEP_NEXT;
}

/* `ws-send KIND DATA [fin false] [rsv N] [opcode N] [masked] [oversize]` */
static enum ws_rc step_send(struct ch_ws *w, const struct ch_step *s)
{
    char err[CH_ERR_LEN];
    int op = kind_opcode(jstr(s->json, "kind"));
    if (op < 0) return script_error(w, s, "ws-send: unknown kind");
    struct ch_ws_header h = {.fin = jbool(s->json, "fin", 1), .rsv = (unsigned)jint(s->json, "rsv", 0) & 7,
                             .opcode = (unsigned)jint(s->json, "opcode", op) & 15, .masked = jbool(s->json, "masked", 0)};
    struct evbuffer *b = evbuffer_new();
    int rc = step_bytes(w, s->json, b, err);
    size_t n = evbuffer_get_length(b);
    if (rc == 0) rc = oversize_refused(s->json, h.opcode, n, err);
    if (rc == 0) {
        h.len = n;
        send_frame(w, &h, n ? evbuffer_pullup(b, -1) : NULL, s->line, NULL);
    }
    evbuffer_free(b);
    return rc == 0 ? WS_NEXT : script_error(w, s, err);
}

/* The payload of `ws-close CODE [REASON] | empty | raw DATA`. */
static int close_payload(struct ch_ws *w, const json_t *s, struct evbuffer *p, char *err)
{
    const char *form = jstr(s, "form");
    if (form && !strcmp(form, "empty")) return 0;
    if (form && !strcmp(form, "raw")) return step_bytes(w, s, p, err);
    if (!form || strcmp(form, "code") != 0) return ch_errf(err, "ws-close: unknown form");
    long code = jint(s, "code", -1);
    if (code < 0 || code > 65535) return ch_errf(err, "ws-close: code %ld is not 0-65535", code);
    unsigned char be[2] = {(unsigned char)(code >> 8), (unsigned char)code};
    evbuffer_add(p, be, 2);
    return step_bytes(w, s, p, err);
}

static enum ws_rc step_close(struct ch_ws *w, const struct ch_step *s)
{
    char err[CH_ERR_LEN];
    struct evbuffer *p = evbuffer_new();
    int rc = close_payload(w, s->json, p, err);
    size_t n = evbuffer_get_length(p);
    if (rc == 0) rc = oversize_refused(s->json, CH_WS_OP_CLOSE, n, err);
    if (rc == 0) {
        evtimer_del(w->reply_timer); /* the steps answer (or start) the closing handshake themselves */
        send_close(w, n ? evbuffer_pullup(p, -1) : NULL, n, s->line, NULL);
    }
    evbuffer_free(p);
    return rc == 0 ? WS_NEXT : script_error(w, s, err);
}

static enum ws_rc step_echo(struct ch_ws *w, const struct ch_step *s)
{
    w->echo = jbool(s->json, "on", 1);
    return WS_NEXT;
}

static enum ws_rc step_on_close(struct ch_ws *w, const struct ch_step *s)
{
    const char *p = jstr(s->json, "policy");
    if (p && !strcmp(p, "echo")) w->on_close = ON_CLOSE_ECHO;
    else if (p && !strcmp(p, "ignore")) w->on_close = ON_CLOSE_IGNORE;
    else if (p && !strcmp(p, "delay")) w->on_close = ON_CLOSE_DELAY, w->on_close_ms = jint(s->json, "ms", 0);
    else return script_error(w, s, "ws-on-close: unknown policy");
    return WS_NEXT;
}

static enum ws_rc step_await(struct ch_ws *w, const struct ch_step *s)
{
    const char *what = jstr(s->json, "what");
    static const char *const known[] = {"message", "close", "ping", "pong"};
    w->await_what = NULL;
    for (size_t i = 0; what && i < 4; i++)
        if (!strcmp(what, known[i])) w->await_what = known[i];
    if (!w->await_what) return script_error(w, s, "ws-await: unknown event");
    w->await_count = jint(s->json, "count", 1);
    w->await_data = 0;
    w->await_matched = 0;
    if (json_object_get(s->json, "text") || json_object_get(s->json, "hex")) {
        char err[CH_ERR_LEN];
        struct evbuffer *b = evbuffer_new();
        int bad = !b || step_bytes(w, s->json, b, err) < 0 || evbuffer_get_length(b) > sizeof w->await_payload;
        if (!bad) {
            w->await_payload_len = evbuffer_get_length(b);
            evbuffer_remove(b, w->await_payload, w->await_payload_len);
            w->await_data = 1;
        }
        if (b) evbuffer_free(b);
        if (bad) return script_error(w, s, "ws-await: a payload of at most 125 bytes expected");
    }
    enum ws_rc rc = check_await(w);
    if (rc != WS_NEXT) return rc;
    if (!w->await_what) { /* met already: check_await scheduled a resume we do not need */
        event_del(w->x->timer);
        return WS_NEXT;
    }
    return WS_YIELD;
}

/* The ws-* words: run by the executor after ws-accept (flagged CH_OP_UPGRADED in the words' table). */
enum ch_step_result ch_op_ws_send(struct ch_exec *x, const struct ch_step *s) { return step_result(step_send(x->engine, s)); }
enum ch_step_result ch_op_ws_close(struct ch_exec *x, const struct ch_step *s) { return step_result(step_close(x->engine, s)); }
enum ch_step_result ch_op_ws_echo(struct ch_exec *x, const struct ch_step *s) { return step_result(step_echo(x->engine, s)); }
enum ch_step_result ch_op_ws_on_close(struct ch_exec *x, const struct ch_step *s) { return step_result(step_on_close(x->engine, s)); }
enum ch_step_result ch_op_ws_await(struct ch_exec *x, const struct ch_step *s) { return step_result(step_await(x->engine, s)); }

/* ---- the upgrade hooks (exec.h) ---------------------------------------------------------------------------- */

/* The executor's timer fired: on the first turn after ws-accept, the input that came with the handshake is
 * read first. */
static int hook_resume(struct ch_exec *x)
{
    struct ch_ws *w = x->engine;
    if (!w->starting) return 0;
    w->starting = 0;
    return take_input(w) == WS_GONE ? -1 : 0;
}

/* The steps ended: `close` (bare or not) and `reset` end the connection now, `hold` keeps it silent, and steps that ran out
 * leave it to the closing handshake (maybe_finish). */
static void hook_steps_over(struct ch_exec *x, enum ch_conn_end how)
{
    struct ch_ws *w = x->engine;
    if (how == CH_END_CLOSE || how == CH_END_RESET || how == CH_END_CLOSE_BARE) {
        ws_end(w, how);
        return;
    }
    if (how == CH_END_HOLD) w->hold = 1;
    maybe_finish(w);
}

static void hook_fail(struct ch_exec *x, const struct ch_step *s, const char *why) { script_error(x->engine, s, why); }

/* The client closed TCP (or the server is shutting down): record; never touch the connection again. */
static void hook_gone(struct ch_exec *x) { record_summary(x->engine, "client"); }

static const struct ch_upgrade_ops upgrade_ops = {hook_resume, hook_steps_over, hook_fail, hook_gone, ws_free};

/* ---- ws-accept: the opening handshake (RFC 6455 §4.2.2) ----------------------------------------------------- */

static json_t *list_json(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v && v[i]; i++) json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int has_fault(const json_t *s, const char *fault)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(s, "faults"), i, f)
        if (json_is_string(f) && !strcmp(json_string_value(f), fault)) return 1;
    return 0;
}

/* `fault bad-accept`: the accept value of GUID + key, the operands swapped (a classic server bug). */
static void bad_accept(const char *key, char out[29])
{
    char buf[256];
    unsigned char sha[20];
    int n = snprintf(buf, sizeof buf, "%s%s", CH_WS_GUID, key);
    ch_sha1(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, sha);
    ch_base64(sha, sizeof sha, out);
}

/* The 101 head as the step asks (§4.2.2 item 5): faults drop or spoil a header; protocol and extension are
 * sent as given, offered or not. Returns whether the handshake is one a client may accept. */
static int write_101(struct ch_exec *x, const struct ch_step *s, const struct ch_ws_offer *o, struct evbuffer *extra,
                     json_t *rec)
{
    const char *proto = jstr(s->json, "protocol"), *ext = jstr(s->json, "extension");
    char accept[29];
    struct evbuffer *b = evbuffer_new();
    if (has_fault(s->json, "bad-accept")) bad_accept(o->key, accept);
    else ch_ws_accept_value(o->key, accept);
    evbuffer_add_printf(b, "HTTP/1.1 101 Switching Protocols\r\n");
    if (!has_fault(s->json, "no-upgrade")) evbuffer_add_printf(b, "Upgrade: websocket\r\n");
    if (!has_fault(s->json, "no-connection")) evbuffer_add_printf(b, "Connection: Upgrade\r\n");
    if (!has_fault(s->json, "no-accept")) evbuffer_add_printf(b, "Sec-WebSocket-Accept: %s\r\n", accept);
    if (proto) evbuffer_add_printf(b, "Sec-WebSocket-Protocol: %s\r\n", proto);
    if (ext) evbuffer_add_printf(b, "Sec-WebSocket-Extensions: %s\r\n", ext);
    evbuffer_add_buffer(b, extra);
    evbuffer_add(b, "\r\n", 2);
    size_t n = evbuffer_get_length(b);
    ch_exec_write(x, evbuffer_pullup(b, -1), n);
    evbuffer_free(b);
    int proto_ok = !proto || ch_ws_offered(o->protocols, proto), ext_ok = !ext || ch_ws_offered(o->extensions, ext);
    json_object_set_new(rec, "accept", json_string(accept));
    json_object_set_new(rec, "protocol", str_or_null(proto));
    json_object_set_new(rec, "extension", str_or_null(ext));
    if (proto) json_object_set_new(rec, "protocol_offered", json_boolean(proto_ok));
    if (ext) json_object_set_new(rec, "extension_offered", json_boolean(ext_ok));
    const json_t *faults = json_object_get(s->json, "faults");
    json_object_set_new(rec, "faults", faults ? json_copy((json_t *)faults) : json_array());
    return proto_ok && ext_ok && json_array_size(json_object_get(s->json, "faults")) == 0;
}

/* The `header` lines of the step, placeholders filled, each ending in CRLF (the parser checked their form).
 * Returns 0, or -1 with err. */
static int extra_headers(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    size_t i;
    const json_t *h;
    json_array_foreach(json_object_get(s->json, "headers"), i, h) {
        if (!json_is_string(h)) return snprintf(err, CH_ERR_LEN, "ws-accept: a header is not a string"), -1;
        if (ch_exec_fill(x, json_string_value(h), json_string_length(h), out, err) < 0) return -1;
        evbuffer_add(out, "\r\n", 2);
    }
    return 0;
}

/* An invalid upgrade request gets 400 (426 with our version for a wrong Sec-WebSocket-Version, §4.2.2 item 4)
 * and a close: the transcript's ws-handshake event says why. */
static enum ch_step_result refuse(struct ch_exec *x, const struct ch_ws_offer *o)
{
    char head[512], body[CH_WS_WHY_LEN + 64];
    struct ch_conn *c = x->conn;
    int bn = snprintf(body, sizeof body, "WebSocket handshake refused: %s\n", o->why);
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\n%sContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n",
                      o->status, o->status == 426 ? "Upgrade Required" : "Bad Request",
                      o->status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "", bn);
    ch_exec_write(x, head, (size_t)hn);
    ch_exec_write(x, body, (size_t)bn);
    ch_conn_set_gone(c, NULL, NULL);
    ch_exec_free(x);
    ch_conn_finish(c, CH_END_CLOSE);
    return CH_STEP_OWNED;
}

static struct ch_ws *engine_new(struct ch_exec *x)
{
    struct ch_ws *w = ch_xcalloc(1, sizeof *w);
    w->conn = x->conn;
    w->x = x;
    w->reply_timer = evtimer_new(x->env->base, on_reply_timer, w);
    w->linger_timer = evtimer_new(x->env->base, on_linger, w);
    ch_ws_reader_init(&w->rd);
    return w;
}

/* `ws-accept [protocol P] [extension E] [fault F]...`: a valid request gets the 101 and the connection is
 * upgraded; the steps after this one run on the next loop turn, once the input that came with the handshake
 * is read (hook_resume). */
enum ch_step_result ch_op_ws_accept(struct ch_exec *x, const struct ch_step *s)
{
    struct ch_ws_offer o;
    ch_ws_offer_read(x->req, &o);
    json_t *rec = json_pack("{s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:b}", "conn", (json_int_t)x->conn->id, "req",
                            x->reqno, "key", str_or_null(o.key), "version", str_or_null(o.version), "origin",
                            str_or_null(o.origin), "protocols", list_json(o.protocols), "extensions",
                            list_json(o.extensions), "valid", o.valid);
    if (!o.valid) {
        json_object_set_new(rec, "error", json_string(o.why));
        ch_transcript_add(x->tr, ch_now_us(), "ws-handshake", rec);
        enum ch_step_result r = refuse(x, &o);
        ch_ws_offer_free(&o);
        return r;
    }
    char err[CH_ERR_LEN];
    struct evbuffer *extra = evbuffer_new();
    if (extra_headers(x, s, extra, err) < 0) {
        evbuffer_free(extra);
        json_decref(rec);
        ch_ws_offer_free(&o);
        return ch_exec_fail(x, s, err);
    }
    struct ch_ws *w = engine_new(x);
    w->handshake_completed = write_101(x, s, &o, extra, rec);
    evbuffer_free(extra);
    json_object_set_new(rec, "completed", json_boolean(w->handshake_completed));
    ch_transcript_add(x->tr, ch_now_us(), "ws-handshake", rec);
    ch_ws_offer_free(&o);
    x->up = &upgrade_ops;
    x->engine = w;
    w->starting = 1;
    ch_conn_upgrade(w->conn, on_input, w);
    ch_exec_wake(x);
    return CH_STEP_YIELD;
}
