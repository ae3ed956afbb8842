/* proto.c — see proto.h. Each function below is marked with the conn.c function it stands for, so that phase
 * B can carry the TLS branch over (harness/tls/README.md §4). */
#include "proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pki.h"
#include "tls.h"
#include "core/core.h"

#define READ_CHUNK 900          /* as conn.c */
#define READ_MAX (64 * 1024)
#define MAX_HEAD 16384
#define IDLE_MS 10000
#define LINGER_MS 2000

struct listener {
    struct ch_tls_proto *p;
    enum ch_proto_kind kind;
    struct evconnlistener *v4, *v6;
    SSL_CTX *ctx;
    int port;
};

struct pconn;

struct ch_tls_proto {
    struct event_base *base;
    struct ch_pki *pki;
    struct listener ls[CH_PROTO_KINDS];
    struct pconn *conns;
    uint64_t next_id;
    int64_t t0_us;
    json_t *events;
    FILE *log;
    char ca_path[4096];
};

enum pstate {
    P_READING, /* reading requests (the handshake first) */
    P_CLOSING, /* output drains, then `end` runs */
    P_LINGER,  /* FIN sent: input is read and discarded until EOF or LINGER_MS */
};

enum pend { END_KEEP, END_NOTIFY_FIN, END_BARE_FIN, END_RST };

struct pconn {
    struct ch_tls_proto *p;
    struct pconn *next;
    enum ch_proto_kind kind;
    uint64_t id;
    evutil_socket_t fd;
    struct ch_tls *tls;
    struct event *rev, *wev, *timer;
    struct evbuffer *in, *out;
    enum pstate state;
    enum pend end;
    int busy, dead, close_recorded;
};

static const struct {
    const char *name;
    enum ch_cert cert;
    enum ch_tls_refuse refuse;
    int max_version;
} KINDS[CH_PROTO_KINDS] = {
    [CH_PROTO_GOOD] = {"good", CH_CERT_GOOD, CH_TLS_ACCEPT, 0},
    [CH_PROTO_TLS12] = {"tls12", CH_CERT_GOOD, CH_TLS_ACCEPT, TLS1_2_VERSION},
    [CH_PROTO_EXPIRED] = {"expired", CH_CERT_EXPIRED, CH_TLS_ACCEPT, 0},
    [CH_PROTO_WRONG_NAME] = {"wrong-name", CH_CERT_WRONG_NAME, CH_TLS_ACCEPT, 0},
    [CH_PROTO_SELF_SIGNED] = {"self-signed", CH_CERT_SELF_SIGNED, CH_TLS_ACCEPT, 0},
    [CH_PROTO_REFUSE_ALERT] = {"refuse-alert", CH_CERT_GOOD, CH_TLS_REFUSE_ALERT, 0},
    [CH_PROTO_REFUSE_FIN] = {"refuse-fin", CH_CERT_GOOD, CH_TLS_REFUSE_FIN, 0},
    [CH_PROTO_REFUSE_RST] = {"refuse-rst", CH_CERT_GOOD, CH_TLS_REFUSE_RST, 0},
};

const char *ch_proto_kind_name(enum ch_proto_kind k)
{
    return (int)k >= 0 && k < CH_PROTO_KINDS ? KINDS[k].name : "?";
}

/* ---- events (transcript.c's role) ------------------------------------------------------------------------------ */

static void record(struct pconn *c, const char *type, json_t *fields)
{
    struct ch_tls_proto *p = c->p;
    json_t *ev = json_pack("{s:I, s:s, s:I, s:s}", "t_us", (json_int_t)(ch_now_us() - p->t0_us), "type", type,
                           "conn", (json_int_t)c->id, "listener", KINDS[c->kind].name);
    if (!ev) {
        json_decref(fields);
        return;
    }
    if (fields) json_object_update(ev, fields);
    json_decref(fields);
    if (p->log) {
        json_dumpf(ev, p->log, JSON_COMPACT);
        fputc('\n', p->log);
        fflush(p->log);
    }
    if (json_array_size(p->events) >= CH_PROTO_MAX_EVENTS) json_array_remove(p->events, 0);
    json_array_append_new(p->events, ev);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* The tls.h event hook: the JSON shapes proposed for the transcript (README §2.4). */
static void on_tls_event(void *arg, const struct ch_tls_event *ev)
{
    struct pconn *c = arg;
    switch (ev->kind) {
    case CH_TLS_EV_HANDSHAKE:
        record(c, "tls-handshake",
               json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "version", ev->version, "cipher", ev->cipher, "group",
                         str_or_null(ev->group), "sni", str_or_null(ev->sni), "alpn", str_or_null(ev->alpn), "cert",
                         ev->cert));
        break;
    case CH_TLS_EV_ALERT:
        record(c, "tls-alert",
               json_pack("{s:s, s:s, s:o, s:i}", "by", ev->by, "level", ev->fatal ? "fatal" : "warning", "alert",
                         str_or_null(ev->alert), "code", ev->code));
        break;
    case CH_TLS_EV_FAILED:
        record(c, "tls-failed",
               json_pack("{s:s, s:o, s:s}", "why", ev->why, "sni", str_or_null(ev->sni), "cert", ev->cert));
        break;
    }
}

static void record_close(struct pconn *c, const char *by, const char *how)
{
    if (c->close_recorded) return;
    c->close_recorded = 1;
    record(c, "conn-close", json_pack("{s:s, s:s}", "by", by, "how", how));
}

/* ---- lifetime (conn.c: hold, release, do_free, really_free) ------------------------------------------------------ */

static void really_free(struct pconn *c)
{
    struct pconn **pp = &c->p->conns;
    while (*pp && *pp != c) pp = &(*pp)->next;
    if (*pp) *pp = c->next;
    ch_tls_free(c->tls); /* before the fd closes; sends nothing */
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    if (c->timer) event_free(c->timer);
    if (c->in) evbuffer_free(c->in);
    if (c->out) evbuffer_free(c->out);
    if (c->fd >= 0) evutil_closesocket(c->fd);
    free(c);
}

static void do_free(struct pconn *c)
{
    if (c->dead) return;
    c->dead = 1;
    if (c->rev) event_del(c->rev);
    if (c->wev) event_del(c->wev);
    if (c->timer) event_del(c->timer);
    if (!c->busy) really_free(c);
}

static void hold(struct pconn *c) { c->busy++; }

static void release(struct pconn *c)
{
    if (--c->busy == 0 && c->dead) really_free(c);
}

static void arm_timer(struct pconn *c, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* ---- writing (conn.c: ch_conn_write, on_writable) ---------------------------------------------------------------- */

static int retriable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

/* The tls.h raw_write hook: ciphertext to the socket now, what it does not take into `out`. This is the body
 * of today's ch_conn_write, unchanged. */
static void raw_write(void *arg, const void *data, size_t n)
{
    struct pconn *c = arg;
    if (c->dead || n == 0) return;
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

/* ch_conn_write for a TLS connection: plaintext in, records out. */
static void write_plain(struct pconn *c, const void *data, size_t n)
{
    if (ch_tls_write(c->tls, data, n) == 0) record(c, "sent", json_pack("{s:I}", "bytes", (json_int_t)n));
}

static void after_drain(struct pconn *c);

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *c = arg;
    hold(c);
    if (evbuffer_write(c->out, fd) < 0 && !retriable(errno)) {
        record_close(c, "client", errno == ECONNRESET || errno == EPIPE ? "rst" : "error");
        do_free(c);
    } else if (evbuffer_get_length(c->out) == 0) {
        event_del(c->wev);
        if (c->state == P_CLOSING) after_drain(c);
    }
    release(c);
}

/* ---- ending (conn.c: ch_conn_finish, after_drain, fin_now, reset_now) ---------------------------------------------- */

static void fin_now(struct pconn *c, const char *how)
{
    record_close(c, "server", how);
    shutdown(c->fd, SHUT_WR);
    c->state = P_LINGER;
    evtimer_del(c->timer);
    arm_timer(c, LINGER_MS);
}

static void reset_now(struct pconn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    record_close(c, "server", "rst");
    do_free(c);
}

static void after_drain(struct pconn *c)
{
    switch (c->end) {
    case END_NOTIFY_FIN:
    case END_BARE_FIN: fin_now(c, "fin"); break;
    case END_RST: reset_now(c); break;
    case END_KEEP: break;
    }
}

/* close_notify is queued behind the reply in `out` (SSL_shutdown writes it through raw_write), so "drained"
 * means reply and close_notify both left; only then FIN or RST. */
static void finish(struct pconn *c, enum pend end)
{
    c->end = end;
    if (end == END_KEEP) {
        c->state = P_READING;
        evtimer_del(c->timer);
        arm_timer(c, IDLE_MS);
        return;
    }
    if (end == END_NOTIFY_FIN) ch_tls_close_notify(c->tls);
    c->state = P_CLOSING;
    if (evbuffer_get_length(c->out) == 0) after_drain(c);
}

/* ---- replies (http.c's role: a case's steps) ------------------------------------------------------------------------ */

static const char PAGE[] = "<!doctype html><meta charset=utf-8><title>tls ok</title><p id=ok>served over TLS</p>\n";
static const char CUT_HEAD[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Content-Type-Options: nosniff\r\n"
                               "Content-Length: 100\r\n\r\n";

static void reply(struct pconn *c, int status, const char *reason, const char *type, const char *body, int close)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason, type, strlen(body), close ? "Connection: close\r\n" : "");
    write_plain(c, head, (size_t)n);
    write_plain(c, body, strlen(body));
    finish(c, close ? END_NOTIFY_FIN : END_KEEP);
}

static void respond(struct pconn *c, const char *path, int client_close)
{
    static const struct {
        const char *path;
        enum pend end;
    } cuts[] = {{"/cut-bare", END_BARE_FIN}, {"/cut-notify", END_NOTIFY_FIN}, {"/cut-rst", END_RST}};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        if (strcmp(path, cuts[i].path) == 0) {
            write_plain(c, CUT_HEAD, strlen(CUT_HEAD));
            write_plain(c, "0123456789", 10);
            finish(c, cuts[i].end);
            return;
        }
    }
    if (strcmp(path, "/favicon.ico") == 0)
        reply(c, 404, "Not Found", "text/plain", "not found\n", client_close);
    else
        reply(c, 200, "OK", "text/html; charset=utf-8", PAGE, client_close || strcmp(path, "/close") == 0);
}

/* Takes every complete request head from `in` and answers it (pipelined ones in order). */
static void on_input(struct pconn *c)
{
    while (c->state == P_READING && !c->dead) {
        struct evbuffer_ptr end = evbuffer_search(c->in, "\r\n\r\n", 4, NULL);
        if (end.pos < 0) {
            if (evbuffer_get_length(c->in) > MAX_HEAD) {
                record_close(c, "server", "limit");
                do_free(c);
            }
            return;
        }
        size_t n = (size_t)end.pos + 4;
        char *head = malloc(n + 1);
        if (!head) return;
        evbuffer_remove(c->in, head, n);
        head[n] = '\0';
        char method[16] = "", target[1024] = "";
        if (sscanf(head, "%15s %1023s", method, target) != 2) {
            free(head);
            reply(c, 400, "Bad Request", "text/plain", "bad request\n", 1);
            return;
        }
        int client_close = strcasestr(head, "\r\nConnection: close\r\n") != NULL;
        free(head);
        record(c, "request", json_pack("{s:s, s:s}", "method", method, "target", target));
        respond(c, target, client_close);
    }
    if (c->state != P_READING) evbuffer_drain(c->in, evbuffer_get_length(c->in));
}

/* ---- reading (conn.c: on_readable, on_eof, on_error) --------------------------------------------------------------- */

/* The end of the client's stream, by the result that told it. */
static void on_stream_end(struct pconn *c, enum ch_tls_result r)
{
    if (c->state == P_LINGER) { /* the client finished our close */
        do_free(c);
        return;
    }
    switch (r) {
    case CH_TLS_CLOSE_NOTIFY: /* RFC 8446 §6.1: answer with our close_notify, then close */
        record_close(c, "client", "close_notify");
        finish(c, END_NOTIFY_FIN);
        break;
    case CH_TLS_EOF: /* FIN without close_notify (or mid-handshake) */
        record_close(c, "client", "fin");
        do_free(c);
        break;
    case CH_TLS_REFUSED:
        if (ch_tls_refusal(c->tls) == CH_TLS_REFUSE_RST) {
            reset_now(c);
        } else {
            c->end = END_BARE_FIN;
            after_drain(c);
        }
        break;
    default: /* CH_TLS_ERROR: an alert we sent is in `out`; one we received ended it */
        if (ch_tls_errno(c->tls) == ECONNRESET) {
            record_close(c, "client", "rst");
            do_free(c);
        } else {
            finish(c, END_BARE_FIN);
        }
        break;
    }
}

/* Lingering after our FIN: discard what comes (through TLS while it is intact, to see a close_notify). */
static void linger_read(struct pconn *c)
{
    char scratch[4096];
    size_t got;
    for (;;) {
        if (!ch_tls_handshake_done(c->tls) || *ch_tls_error(c->tls)) {
            ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
            if (n > 0) continue;
            if (n < 0 && retriable(errno)) return;
            do_free(c);
            return;
        }
        enum ch_tls_result r = ch_tls_read(c->tls, scratch, sizeof scratch, &got);
        if (r == CH_TLS_DATA) continue;
        if (r != CH_TLS_AGAIN) do_free(c);
        return;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *c = arg;
    size_t total = 0;
    enum ch_tls_result r = CH_TLS_AGAIN;
    hold(c);
    if (c->state == P_LINGER) {
        linger_read(c);
        release(c);
        return;
    }
    /* Unlike recv, a short SSL_read says nothing about the socket (it ends at a record's end): read until
     * AGAIN, up to READ_MAX per turn. */
    while (total < READ_MAX) {
        struct evbuffer_iovec v;
        size_t got = 0;
        if (evbuffer_reserve_space(c->in, READ_CHUNK, &v, 1) < 1) break;
        r = ch_tls_read(c->tls, v.iov_base, v.iov_len, &got);
        if (r != CH_TLS_DATA) break;
        v.iov_len = got;
        evbuffer_commit_space(c->in, &v, 1);
        total += got;
    }
    if (total) on_input(c);
    if (!c->dead) {
        if (r == CH_TLS_DATA) {
            /* READ_MAX reached: decrypted bytes may wait inside OpenSSL, where no socket event will announce
             * them: come back on the next loop turn. */
            if (ch_tls_pending(c->tls)) event_active(c->rev, EV_READ, 0);
        } else if (r != CH_TLS_AGAIN) {
            on_stream_end(c, r);
        }
    }
    release(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct pconn *c = arg;
    hold(c);
    if (c->state == P_LINGER) {
        do_free(c);
    } else if (ch_tls_handshake_done(c->tls)) {
        record_close(c, "server", "timeout");
        finish(c, END_NOTIFY_FIN);
    } else {
        record_close(c, "server", "timeout");
        do_free(c);
    }
    release(c);
}

/* ---- accepting (conn.c: ch_conn_new; server.c: on_accept) ---------------------------------------------------------- */

static void format_peer(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%d", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%d", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "?");
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct listener *ls = arg;
    struct ch_tls_proto *p = ls->p;
    struct pconn *c = calloc(1, sizeof *c);
    char err[CH_ERR_LEN], peer[64];
    int one = 1;
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    c->p = p;
    c->kind = ls->kind;
    c->id = ++p->next_id;
    c->fd = fd;
    c->next = p->conns;
    p->conns = c;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    evutil_make_socket_nonblocking(fd);
    format_peer(sa, peer, sizeof peer);
    record(c, "conn-open", json_pack("{s:s}", "peer", peer));
    struct ch_tls_hooks hooks = {raw_write, on_tls_event, c};
    c->tls = ch_tls_new(ls->ctx, fd, &hooks, err);
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(p->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->wev = event_new(p->base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    c->timer = evtimer_new(p->base, on_timer, c);
    if (!c->tls || !c->in || !c->out || !c->rev || !c->wev || !c->timer) {
        record_close(c, "server", "error");
        do_free(c);
        return;
    }
    event_add(c->rev, NULL);
    arm_timer(c, IDLE_MS);
}

/* ---- listeners (server.c: listen_on, bind_origin) ------------------------------------------------------------------- */

static struct evconnlistener *listen_on(struct listener *ls, int family, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    return evconnlistener_new_bind(ls->p->base, on_accept, ls, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
                                   (struct sockaddr *)&ss, (int)len);
}

/* 127.0.0.1 on a free port, and [::1] on the same port when it is free (localhost may resolve to either). */
static int bind_kind(struct ch_tls_proto *p, enum ch_proto_kind k, char *err)
{
    struct listener *ls = &p->ls[k];
    ls->p = p;
    ls->kind = k;
    ls->ctx = ch_tls_server_ctx(p->pki, KINDS[k].cert, KINDS[k].refuse, KINDS[k].max_version, err);
    if (!ls->ctx) return -1;
    for (int attempt = 0; attempt < 20; attempt++) {
        ls->v4 = listen_on(ls, AF_INET, 0);
        if (!ls->v4) return ch_errf(err, "cannot listen on 127.0.0.1: %s", strerror(errno));
        struct sockaddr_in in;
        socklen_t len = sizeof in;
        getsockname(evconnlistener_get_fd(ls->v4), (struct sockaddr *)&in, &len);
        ls->port = ntohs(in.sin_port);
        ls->v6 = listen_on(ls, AF_INET6, ls->port);
        if (ls->v6 || errno != EADDRINUSE) return 0; /* no IPv6 loopback at all is fine */
        evconnlistener_free(ls->v4);
        ls->v4 = NULL;
    }
    return ch_errf(err, "no free port pair for %s", KINDS[k].name);
}

struct ch_tls_proto *ch_tls_proto_new(struct event_base *base, const char *dir, FILE *log, char *err)
{
    struct ch_tls_proto *p = calloc(1, sizeof *p);
    if (!p) return (ch_errf(err, "out of memory"), NULL);
    p->base = base;
    p->log = log;
    p->t0_us = ch_now_us();
    p->events = json_array();
    const char *slash = strrchr(dir, '/');
    p->pki = ch_pki_new(time(NULL), slash && slash[1] ? slash + 1 : dir, err);
    if (!p->pki || ch_pki_write_ca(p->pki, dir, p->ca_path, sizeof p->ca_path, err) < 0) goto fail;
    for (int k = 0; k < CH_PROTO_KINDS; k++)
        if (bind_kind(p, (enum ch_proto_kind)k, err) < 0) goto fail;
    return p;
fail:
    ch_tls_proto_free(p);
    return NULL;
}

void ch_tls_proto_free(struct ch_tls_proto *p)
{
    if (!p) return;
    while (p->conns) really_free(p->conns); /* never called from inside a connection's callback */
    for (int k = 0; k < CH_PROTO_KINDS; k++) {
        if (p->ls[k].v4) evconnlistener_free(p->ls[k].v4);
        if (p->ls[k].v6) evconnlistener_free(p->ls[k].v6);
        SSL_CTX_free(p->ls[k].ctx);
    }
    ch_pki_free(p->pki);
    json_decref(p->events);
    free(p);
}

int ch_tls_proto_port(const struct ch_tls_proto *p, enum ch_proto_kind k)
{
    return (int)k >= 0 && k < CH_PROTO_KINDS ? p->ls[k].port : 0;
}

json_t *ch_tls_proto_ready(const struct ch_tls_proto *p)
{
    json_t *ports = json_object(), *spki = json_object();
    for (int k = 0; k < CH_PROTO_KINDS; k++) json_object_set_new(ports, KINDS[k].name, json_integer(p->ls[k].port));
    for (int i = 0; i < CH_CERT_COUNT; i++) {
        char b64[CH_PKI_SPKI_B64_LEN];
        if (ch_pki_spki_sha256(p->pki, (enum ch_cert)i, b64, NULL) == 0)
            json_object_set_new(spki, ch_cert_name((enum ch_cert)i), json_string(b64));
    }
    return json_pack("{s:b, s:s, s:o, s:o, s:i}", "ready", 1, "ca", p->ca_path, "ports", ports, "spki_sha256", spki,
                     "pid", (int)getpid());
}

json_t *ch_tls_proto_events(const struct ch_tls_proto *p) { return p->events; }
