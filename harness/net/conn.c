/* conn.c — see net.h. One function per state transition; the read callback is a switch on the state. A filter
 * between the socket and the buffers (TLS: conn_tls.c) is reached only through the connection's layer table
 * (conn_int.h); accept.c makes connections and puts the filter on. */
#include "conn_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"

static int on_header_field(http_parser *p, const char *at, size_t n);
static int on_header_value(http_parser *p, const char *at, size_t n);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t n);
static int on_message_complete(http_parser *p);
static void parse_input(struct ch_conn *c);
static void hold(struct ch_conn *c);
static void release(struct ch_conn *c);

static const http_parser_settings settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- requests ---------------------------------------------------------------------------------------- */

static struct ch_request *request_new(void) { return ch_xcalloc(1, sizeof(struct ch_request)); }

void ch_request_free(struct ch_request *r)
{
    if (!r) return;
    free(r->target);
    free(r->head);
    free(r->fields);
    if (r->body) evbuffer_free(r->body);
    free(r);
}

static void request_free(struct ch_request *r) { ch_request_free(r); }

const char *ch_request_header(const struct ch_request *r, const char *name)
{
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->head + r->fields[i].name, name) == 0) return r->head + r->fields[i].value;
    return NULL;
}

json_t *ch_request_headers_json(const struct ch_request *r)
{
    return ch_headers_json(r->head, r->fields, r->nfields);
}

const void *ch_request_body(const struct ch_request *r, size_t *n)
{
    *n = r->body ? evbuffer_get_length(r->body) : 0;
    return *n ? (const void *)evbuffer_pullup(r->body, -1) : "";
}

/* Appends n bytes to the head (its size is bounded by CH_MAX_HEAD: count_head). */
static void head_put(struct ch_request *r, const char *at, size_t n)
{
    if (r->head_len + n > r->head_cap) {
        size_t cap = r->head_cap ? r->head_cap : 256;
        while (cap < r->head_len + n) cap *= 2;
        r->head = ch_xrealloc(r->head, cap);
        r->head_cap = cap;
    }
    memcpy(r->head + r->head_len, at, n);
    r->head_len += n;
}

/* A new field whose name starts at the end of the head. */
static struct ch_header *field_new(struct ch_request *r)
{
    if (r->nfields == r->fields_cap) {
        r->fields_cap = r->fields_cap ? 2 * r->fields_cap : 16;
        r->fields = ch_xrealloc(r->fields, r->fields_cap * sizeof *r->fields);
    }
    struct ch_header *f = &r->fields[r->nfields++];
    *f = (struct ch_header){(uint32_t)r->head_len, 0, 0, 0};
    return f;
}

/* Ends the name of the last field: its value starts after the name's NUL. */
static void field_name_end(struct ch_request *r)
{
    head_put(r, "", 1);
    r->fields[r->nfields - 1].value = (uint32_t)r->head_len;
}

void ch_request_add_header(struct ch_request *r, const char *name, size_t name_len, const char *value,
                           size_t value_len)
{
    struct ch_header *f = field_new(r);
    f->name_len = (uint32_t)name_len;
    head_put(r, name, name_len);
    field_name_end(r);
    r->fields[r->nfields - 1].value_len = (uint32_t)value_len;
    head_put(r, value, value_len);
    head_put(r, "", 1);
}

/* ---- the deadline: idle before a request, head timeout during one, linger while closing --------------------
 * A connection has at most one deadline. Every request moves it twice and clears it, so moving it is a store:
 * the libevent timer stays armed at the earliest moment the deadline may fall, and when it fires before the
 * deadline it is armed again for the rest (on_timer). */

static void on_timer(evutil_socket_t fd, short what, void *arg);

static void arm_timer_at(struct ch_conn *c, int64_t at, int64_t now)
{
    int64_t wait = at > now ? at - now : 0;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    evtimer_add(c->timer, &tv);
    c->timer_at_us = at;
}

static void set_deadline(struct ch_conn *c, int ms)
{
    int64_t now = ch_now_us();
    c->deadline_us = now + (int64_t)ms * 1000;
    if (!c->timer_at_us || c->deadline_us < c->timer_at_us) arm_timer_at(c, c->deadline_us, now);
}

static void clear_deadline(struct ch_conn *c) { c->deadline_us = 0; }

/* ---- writing ------------------------------------------------------------------------------------------ */

void ch_conn_raw_write(struct ch_conn *c, const void *data, size_t n)
{
    if (c->dead || n == 0) return;
    /* Write at once rather than on the next loop turn: scripted timings are measured at the socket. When
     * nothing is queued the bytes go straight to the socket; only what it does not take waits in `out`, with
     * the write event armed. An error is found and reported by that event. */
    if (evbuffer_get_length(c->out) == 0) {
        ssize_t k = send(c->fd, data, n, MSG_NOSIGNAL);
        if (k > 0) {
            data = (const char *)data + k;
            n -= (size_t)k;
        }
    }
    if (n) {
        evbuffer_add(c->out, data, n);
        event_add(c->wev, NULL);
    }
}

void ch_conn_write(struct ch_conn *c, const void *data, size_t n)
{
    if (c->dead || n == 0) return;
    /* On TLS: one or more records, sent now; dropped before the handshake completed, after close_notify went
     * out (`notify`) or after the TLS layer failed, as bytes after a close are. */
    if (c->tls) ch_tls_write(c->tls, data, n);
    else ch_conn_raw_write(c, data, n);
}

static void drained(struct ch_conn *c)
{
    if (c->on_drained && evbuffer_get_length(c->out) == 0) {
        void (*cb)(struct ch_conn *, void *) = c->on_drained;
        c->on_drained = NULL;
        cb(c, c->drained_arg);
    }
}

int ch_conn_retriable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

/* The socket takes more of `out`; once it is empty the write event is disarmed and a waiter told. */
static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct ch_conn *c = arg;
    hold(c);
    if (evbuffer_write(c->out, fd) < 0 && !ch_conn_retriable(errno)) {
        ch_conn_error(c, errno);
    } else if (evbuffer_get_length(c->out) == 0) {
        event_del(c->wev);
        drained(c);
    }
    release(c);
}

void ch_conn_when_drained(struct ch_conn *c, void (*cb)(struct ch_conn *, void *), void *arg)
{
    c->on_drained = cb;
    c->drained_arg = arg;
    drained(c);
}

void ch_conn_reply(struct ch_conn *c, int status, const char *reason, const char *type, const char *extra,
                   const void *body, size_t n)
{
    char head[1024];
    int close = c->req && !c->req->keep_alive;
    int len = snprintf(head, sizeof head,
                       "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status, reason,
                       type, n, extra ? extra : "", close ? "Connection: close\r\n" : "");
    ch_conn_write(c, head, (size_t)len < sizeof head ? (size_t)len : sizeof head - 1);
    /* 304: no content; its Content-Length is the 200's (RFC 9110 §8.6, §15.4.5). */
    if (c->req && strcmp(c->req->method, "HEAD") != 0 && status != 304) ch_conn_write(c, body, n);
    ch_conn_finish(c, close ? CH_END_CLOSE : CH_END_KEEP);
}

/* A request the harness cannot accept: the protocol's answer, then close (only this connection). */
static void fail_request(struct ch_conn *c, int status, const char *reason, const char *why)
{
    char body[256];
    int n = snprintf(body, sizeof body, "%d %s: %s\n", status, reason, why);
    if (!c->req) c->req = request_new();
    c->req->keep_alive = 0;
    c->state = CH_CONN_RESPONDING;
    clear_deadline(c);
    ch_conn_reply(c, status, reason, "text/plain; charset=utf-8", NULL, body, (size_t)n);
}

/* ---- transcript bookkeeping --------------------------------------------------------------------------- */

void ch_conn_attach(struct ch_conn *c, struct ch_transcript *t)
{
    for (int i = 0; i < c->ntrs; i++)
        if (c->trs[i] == t) return;
    /* Browsers reuse keep-alive connections across many cases: keep the most recent tokens (older cases
     * were judged long ago), never drop the newest. */
    if (c->ntrs == CH_CONN_MAX_TRANSCRIPTS) memmove(&c->trs[0], &c->trs[1], (size_t)--c->ntrs * sizeof c->trs[0]);
    c->trs[c->ntrs++] = t;
    ch_transcript_conn_open(t, c->opened_us, c->id, c->origin_name, c->peer);
    if (c->layer) c->layer->attached(c, t);
}

void ch_conn_record_close(struct ch_conn *c, const char *by, const char *how)
{
    if (c->closed_recorded) return;
    c->closed_recorded = 1;
    int64_t now = ch_now_us();
    for (int i = 0; i < c->ntrs; i++) ch_transcript_conn_close(c->trs[i], now, c->id, by, how);
}

/* ---- ending responses and connections ------------------------------------------------------------------ */

void ch_conn_set_gone(struct ch_conn *c, void (*on_gone)(void *), void *arg)
{
    c->on_gone = on_gone;
    c->gone_arg = arg;
}

static void tell_gone(struct ch_conn *c)
{
    void (*cb)(void *) = c->on_gone;
    c->on_gone = NULL;
    if (cb) cb(c->gone_arg);
}

void ch_conn_discard(struct ch_conn *c)
{
    if (c->timer) event_free(c->timer);
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    if (c->in) evbuffer_free(c->in);
    if (c->out) evbuffer_free(c->out); /* unwritten bytes are discarded, as a close discards them */
    if (c->layer) c->layer->free(c); /* before the socket closes; sends nothing */
    if (c->fd >= 0) evutil_closesocket(c->fd);
    request_free(c->req);
    free(c);
}

/* Ends the connection: tells the responder and the owner once, then frees — at once, or, when called from
 * inside one of our callbacks, when that callback returns (so no callback ever touches freed memory). */
void ch_conn_free(struct ch_conn *c)
{
    if (c->dead) return;
    c->dead = 1;
    tell_gone(c);
    if (c->owner->closed) c->owner->closed(c, c->owner->arg);
    if (c->timer) evtimer_del(c->timer);
    if (c->rev) event_del(c->rev);
    if (c->wev) event_del(c->wev);
    if (!c->busy) ch_conn_discard(c);
}

/* Every libevent callback holds the connection for its duration. */
static void hold(struct ch_conn *c) { c->busy++; }

static void release(struct ch_conn *c)
{
    if (--c->busy == 0 && c->dead) ch_conn_discard(c);
}

void ch_conn_close(struct ch_conn *c, const char *how)
{
    if (c->layer && strcmp(how, "rst") != 0) c->layer->close_notify(c);
    ch_conn_record_close(c, "server", how);
    ch_conn_free(c);
}

void ch_conn_reset_now(struct ch_conn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ch_conn_close(c, "rst");
}

/* FIN now, then read and discard until the peer closes or LINGER_MS passes, so that late client bytes do
 * not turn our close into an RST. A peer whose FIN came already sends nothing more: then the connection ends
 * with ours. */
void ch_conn_fin_now(struct ch_conn *c, const char *how)
{
    ch_conn_record_close(c, "server", how);
    tell_gone(c);
    shutdown(c->fd, SHUT_WR);
    c->state = CH_CONN_CLOSING;
    if (c->peer_closed) ch_conn_free(c);
    else set_deadline(c, LINGER_MS);
}

static void after_drain(struct ch_conn *c, void *arg)
{
    switch (c->end) {
    case CH_END_CLOSE:
    case CH_END_CLOSE_BARE: ch_conn_fin_now(c, "fin"); break;
    case CH_END_RESET: ch_conn_reset_now(c); break;
    case CH_END_SHUTDOWN:
        shutdown(c->fd, SHUT_WR);
        c->state = CH_CONN_HOLDING;
        break;
    default: break;
    }
}

static void begin_reading(struct ch_conn *c)
{
    request_free(c->req);
    c->req = NULL;
    c->state = CH_CONN_READING;
    c->line_done = c->head_size = 0;
    c->in_name = c->in_value = 0;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    set_deadline(c, c->owner->idle_timeout_ms);
    if (evbuffer_get_length(c->in) > 0) {
        /* Pipelined input: parse it from the loop, never recursively from inside a responder. */
        event_active(c->timer, EV_READ, 0);
    }
}

void ch_conn_finish(struct ch_conn *c, enum ch_conn_end how)
{
    ch_conn_set_gone(c, NULL, NULL);
    /* A client that said `Connection: close` (or spoke HTTP/1.0 without keep-alive) or already sent FIN gets
     * the close it asked for; nothing is written for it. */
    if (how == CH_END_KEEP && (c->peer_closed || (c->req && !c->req->keep_alive))) how = CH_END_CLOSE;
    c->end = how;
    switch (how) {
    case CH_END_KEEP: begin_reading(c); break;
    case CH_END_HOLD:
        request_free(c->req);
        c->req = NULL;
        c->state = CH_CONN_HOLDING;
        break;
    default:
        request_free(c->req);
        c->req = NULL;
        c->state = CH_CONN_CLOSING;
        /* close_notify is queued behind the reply in `out`: "drained" means both left, then FIN */
        if (c->layer && (how == CH_END_CLOSE || how == CH_END_SHUTDOWN)) c->layer->close_notify(c);
        ch_conn_when_drained(c, after_drain, NULL);
        break;
    }
}

void ch_conn_fin_after_drain(struct ch_conn *c)
{
    tell_gone(c);
    request_free(c->req);
    c->req = NULL;
    c->state = CH_CONN_CLOSING;
    c->end = CH_END_CLOSE_BARE;
    ch_conn_when_drained(c, after_drain, NULL);
}

int ch_conn_notify(struct ch_conn *c, char *err)
{
    if (!c->tls) return ch_errf(err, "notify: the connection has no TLS (an http origin)");
    if (ch_tls_close_notify(c->tls) < 0) return ch_errf(err, "notify: the TLS stream is not intact");
    return 0;
}

void ch_conn_upgrade(struct ch_conn *c, void (*on_input)(struct ch_conn *, void *), void *arg)
{
    c->state = CH_CONN_UPGRADED;
    c->on_input = on_input;
    c->input_arg = arg;
    if (evbuffer_get_length(c->in) > 0) on_input(c, arg);
}

/* ---- the request line (RFC 9112 §3) ---------------------------------------------------------------------- */

static int is_tchar(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* Parses `METHOD SP TARGET SP HTTP/x.y`; on failure returns the status to answer with. */
static int parse_request_line(struct ch_conn *c, const char *line, size_t n)
{
    const char *sp1 = memchr(line, ' ', n), *sp2;
    if (!sp1 || sp1 == line || (size_t)(sp1 - line) >= sizeof c->req->method) return 400;
    for (const char *p = line; p < sp1; p++)
        if (!is_tchar((unsigned char)*p)) return 400;
    sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
    if (!sp2 || sp2 == sp1 + 1) return 400;
    size_t tlen = (size_t)(sp2 - sp1 - 1);
    if (tlen > CH_MAX_TARGET) return 414;
    for (const char *p = sp1 + 1; p < sp2; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) return 400;
    const char *ver = sp2 + 1;
    size_t vlen = n - (size_t)(ver - line);
    if (vlen != 8 || strncmp(ver, "HTTP/1.", 7) != 0) return vlen >= 5 && strncmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
    if (ver[7] != '0' && ver[7] != '1') return 505;
    memcpy(c->req->method, line, (size_t)(sp1 - line));
    c->req->method[sp1 - line] = '\0';
    c->req->target = ch_xstrndup(sp1 + 1, tlen);
    c->req->major = 1;
    c->req->minor = ver[7] - '0';
    return 0;
}

static const char *reason_for(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
    }
}

/* Reads the request line. Returns 1 when done, 0 when more input is needed, -1 after failing the request. */
static int read_request_line(struct ch_conn *c, struct evbuffer *in)
{
    size_t eol_len = 0;
    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
    if (eol.pos < 0) {
        if (evbuffer_get_length(in) > CH_MAX_TARGET + 64) {
            fail_request(c, 414, reason_for(414), "request line too long");
            return -1;
        }
        return 0;
    }
    if (eol.pos == 0) { /* RFC 9112 §2.2: ignore empty lines before a request line */
        evbuffer_drain(in, eol_len);
        return read_request_line(c, in);
    }
    size_t n = (size_t)eol.pos; /* the line without its end, which is CRLF or a bare LF */
    const char *line = (const char *)evbuffer_pullup(in, (ev_ssize_t)(n + eol_len));
    if (!c->req) c->req = request_new();
    int status = parse_request_line(c, line, n);
    evbuffer_drain(in, n + eol_len);
    if (status) {
        fail_request(c, status, reason_for(status), "malformed request line");
        return -1;
    }
    c->head_size = n + eol_len;
    /* libhttp-parser frames headers and body; it only knows fixed methods, so it sees a stand-in line. */
    static const char *const synth[] = {"POST / HTTP/1.0\r\n", "POST / HTTP/1.1\r\n"};
    http_parser_execute(&c->parser, &settings, synth[c->req->minor], strlen(synth[c->req->minor]));
    c->line_done = 1;
    set_deadline(c, CH_HEAD_TIMEOUT_MS);
    return 1;
}

/* ---- header and body callbacks (libhttp-parser) ------------------------------------------------------------ */

static int fail_from_callback(struct ch_conn *c, int status, const char *why)
{
    c->parser.data = NULL; /* no more callbacks reach us */
    fail_request(c, status, reason_for(status), why);
    return -1;
}

/* The field being read is over (a new name or the end of the head follows): a name without a value gets an
 * empty one; the value is NUL-terminated. */
static void field_end(struct ch_conn *c)
{
    if (c->in_name) field_name_end(c->req);
    if (c->in_name || c->in_value) head_put(c->req, "", 1);
    c->in_name = c->in_value = 0;
}

static int count_head(struct ch_conn *c, size_t n)
{
    c->head_size += n;
    return c->head_size > CH_MAX_HEAD ? fail_from_callback(c, 431, "request head too large") : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
    struct ch_conn *c = p->data;
    if (!c || count_head(c, n) < 0) return -1;
    if (c->in_value) field_end(c);
    if (!c->in_name) {
        if (c->req->nfields >= CH_MAX_HEADERS) return fail_from_callback(c, 431, "too many header fields");
        field_new(c->req);
        c->in_name = 1;
    }
    head_put(c->req, at, n);
    c->req->fields[c->req->nfields - 1].name_len += (uint32_t)n;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
    struct ch_conn *c = p->data;
    if (!c || count_head(c, n) < 0) return -1;
    if (c->in_name) {
        field_name_end(c->req);
        c->in_name = 0;
    }
    c->in_value = 1;
    head_put(c->req, at, n);
    c->req->fields[c->req->nfields - 1].value_len += (uint32_t)n;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct ch_conn *c = p->data;
    if (!c) return -1;
    field_end(c);
    c->req->t_head_us = ch_now_us();
    if (p->content_length != (uint64_t)-1 && p->content_length > CH_MAX_BODY)
        return fail_from_callback(c, 413, "request body too large");
    clear_deadline(c);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct ch_conn *c = p->data;
    if (!c) return -1;
    if (!c->req->body) c->req->body = evbuffer_new();
    if (evbuffer_get_length(c->req->body) + n > CH_MAX_BODY)
        return fail_from_callback(c, 413, "request body too large");
    evbuffer_add(c->req->body, at, n);
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct ch_conn *c = p->data;
    if (!c) return -1;
    /* A message with no body and no chunked framing ends with its head (RFC 9112 §6.3): the same instant. */
    c->req->t_end_us = (c->req->body || (p->flags & F_CHUNKED)) ? ch_now_us() : c->req->t_head_us;
    c->req->keep_alive = http_should_keep_alive(p);
    c->req->upgrade = p->upgrade;
    http_parser_pause(p, 1);
    return 0;
}

/* ---- the reading state -------------------------------------------------------------------------------------- */

static void dispatch(struct ch_conn *c)
{
    clear_deadline(c);
    c->state = CH_CONN_RESPONDING;
    c->nreq++;
    c->owner->dispatch(c, c->req, c->owner->arg);
}

/* Feeds buffered input to the parser until a request is complete, more input is needed, or it failed.
 * Returns 1 when a request was dispatched, 0 otherwise; the connection may be gone when it returns. */
static int parse_some(struct ch_conn *c)
{
    struct evbuffer *in = c->in;
    if (!c->line_done) {
        if (evbuffer_get_length(in) == 0) return 0;
        int r = read_request_line(c, in);
        if (r <= 0) return 0;
    }
    struct evbuffer_iovec v;
    if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) return 0;
    size_t used = http_parser_execute(&c->parser, &settings, v.iov_base, v.iov_len);
    if (!c->parser.data) return 0; /* a callback failed the request and replied */
    evbuffer_drain(in, used);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
        dispatch(c);
        return 1;
    }
    if (e != HPE_OK) {
        fail_request(c, 400, reason_for(400), http_errno_description(e));
        return 0;
    }
    if (c->parser.upgrade && c->req->t_head_us) { /* the message ended where the new protocol begins */
        dispatch(c);
        return 1;
    }
    return used > 0 && evbuffer_get_length(in) > 0 ? parse_some(c) : 0;
}

static void parse_input(struct ch_conn *c)
{
    if (c->state != CH_CONN_READING) return;
    if (!c->line_done && evbuffer_get_length(c->in) == 0) return;
    parse_some(c);
}

void ch_conn_input(struct ch_conn *c)
{
    switch (c->state) {
    case CH_CONN_READING: parse_input(c); break;
    case CH_CONN_UPGRADED: c->on_input(c, c->input_arg); break;
    case CH_CONN_RESPONDING:
        /* Pipelined requests wait; an endless stream of them while we answer is refused. */
        if (evbuffer_get_length(c->in) > CH_MAX_PENDING_INPUT) ch_conn_close(c, "limit");
        break;
    case CH_CONN_HOLDING:
    case CH_CONN_CLOSING: evbuffer_drain(c->in, evbuffer_get_length(c->in)); break;
    }
}

/* Ends the connection after the peer ended its stream; on TLS our close_notify answers first (RFC 8446 §6.1). */
static void gone_after_peer_end(struct ch_conn *c)
{
    if (c->layer) c->layer->close_notify(c);
    ch_conn_free(c);
}

void ch_conn_peer_end(struct ch_conn *c, const char *how)
{
    if (c->state == CH_CONN_CLOSING && c->closed_recorded) {
        ch_conn_free(c); /* the peer finished our lingering close */
        return;
    }
    /* Browsers never half-close: a FIN means the client is gone, unless a complete request is still
     * buffered (a `printf ... | nc` client), which is answered first and then closed. */
    ch_conn_record_close(c, "client", how);
    if (c->state == CH_CONN_READING && evbuffer_get_length(c->in) > 0) {
        c->peer_closed = 1;
        parse_input(c);
    }
    if (c->state == CH_CONN_READING || c->state == CH_CONN_HOLDING || c->state == CH_CONN_UPGRADED)
        gone_after_peer_end(c); /* nothing more can arrive: an incomplete request is dropped */
    else if (c->state == CH_CONN_RESPONDING && !c->peer_closed)
        gone_after_peer_end(c);
    else { /* answering a request that came with the FIN, or output still leaving: nothing more to read */
        c->peer_closed = 1;
        event_del(c->rev);
    }
}

void ch_conn_error(struct ch_conn *c, int err)
{
    if (!(c->state == CH_CONN_CLOSING && c->closed_recorded))
        ch_conn_record_close(c, "client", err == ECONNRESET || err == EPIPE ? "rst" : "error");
    ch_conn_free(c);
}

/* Reads into the input buffer's free space, with no FIONREAD round trip. Each reservation asks for READ_CHUNK
 * bytes, which with libevent's chain header is a 1 KiB allocation that glibc's per-thread cache serves (a
 * larger one is a slower malloc on every message of a WebSocket echo). A recv that fills its space is followed
 * by another, up to READ_MAX per readiness: so a large request head is still read in one turn, and a client
 * that floods waits for the next. A connection with a layer (TLS) reads through it. */
static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct ch_conn *c = arg;
    size_t got = 0;
    int eof = 0, err = 0;
    hold(c);
    if (c->layer) {
        c->layer->readable(c);
        release(c);
        return;
    }
    for (;;) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(c->in, READ_CHUNK, &v, 1) < 1) {
            err = ENOMEM;
            break;
        }
        size_t room = v.iov_len;
        ssize_t n = recv(fd, v.iov_base, room, 0);
        if (n <= 0) {
            if (n == 0) eof = 1;
            else if (!ch_conn_retriable(errno)) err = errno;
            break;
        }
        v.iov_len = (size_t)n;
        evbuffer_commit_space(c->in, &v, 1);
        got += (size_t)n;
        if ((size_t)n < room || got >= READ_MAX) break;
    }
    /* A FIN behind bytes is left for the next turn (a socket at EOF stays readable): the bytes may start
     * pipelined work on the loop that must run before the FIN is judged. An error is not repeated by the
     * socket, so it is handled now, after the bytes. */
    if (got) ch_conn_input(c);
    else if (eof) ch_conn_peer_end(c, "fin");
    if (!c->dead && err) ch_conn_error(c, err);
    release(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct ch_conn *c = arg;
    hold(c);
    c->timer_at_us = 0; /* the timer is off now, whichever way it fired */
    if (what & EV_READ) { /* event_active from begin_reading: parse pipelined input (the deadline stays) */
        if (c->deadline_us) arm_timer_at(c, c->deadline_us, ch_now_us());
        parse_input(c);
    } else if (!c->deadline_us) {
        /* moved away or cleared since the timer was armed */
    } else if (ch_now_us() < c->deadline_us) {
        arm_timer_at(c, c->deadline_us, ch_now_us());
    } else if (c->state == CH_CONN_CLOSING) {
        ch_conn_free(c);
    } else if (c->state == CH_CONN_READING) {
        c->deadline_us = 0;
        if (c->line_done) fail_request(c, 408, reason_for(408), "request head not complete in time");
        else ch_conn_close(c, "timeout");
    } else {
        c->deadline_us = 0;
    }
    release(c);
}

/* ---- making ----------------------------------------------------------------------------------------------- */

struct ch_conn *ch_conn_alloc(struct event_base *base, evutil_socket_t fd, const struct ch_conn_listener *l,
                              uint64_t id, const struct ch_conn_owner *owner)
{
    struct ch_conn *c = ch_xcalloc(1, sizeof *c);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->id = id;
    c->origin = l->origin;
    c->origin_name = l->name;
    c->owner = owner;
    c->opened_us = ch_now_us();
    c->fd = fd;
    evutil_make_socket_nonblocking(fd);
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    c->timer = event_new(base, -1, 0, on_timer, c);
    return c;
}

void ch_conn_begin(struct ch_conn *c)
{
    event_add(c->rev, NULL);
    begin_reading(c);
    if (c->owner->opened) c->owner->opened(c, c->owner->arg);
}
