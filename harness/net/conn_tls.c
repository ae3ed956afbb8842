/* conn_tls.c — the TLS branch of a connection (net.h "TLS", harness/tls/README.md §2): the filter of tls.h
 * between the socket and the connection's buffers, its events in the transcripts, and what each end of the TLS
 * stream means for conn.c's state machine. */
#include "conn_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/core.h"

/* ---- events (harness/MODEL.md §2: tls-handshake, tls-alert, tls-failed) -------------------------------------- */

/* A string of the peer's (the SNI is the client's bytes: OpenSSL refuses only NUL in it, and at most 255 of them)
 * as JSON; bytes that are not UTF-8 make json_string fail, which would lose the event: then every byte outside
 * printable ASCII is written \xNN. */
static json_t *str_or_null(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    char out[4 * 255 + 1];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < sizeof out; p++) {
        if (*p >= 0x20 && *p < 0x7f) out[o++] = (char)*p;
        else o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", *p);
    }
    out[o] = '\0';
    return json_string(out);
}

static json_t *event_fields(const struct ch_conn *c, const struct ch_tls_event *ev, const char **type)
{
    json_int_t conn = (json_int_t)c->id;
    switch (ev->kind) {
    case CH_TLS_EV_HANDSHAKE:
        *type = "tls-handshake";
        return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:s}", "conn", conn, "version", ev->version, "cipher",
                         ev->cipher ? ev->cipher : "?", "group", str_or_null(ev->group), "sni", str_or_null(ev->sni),
                         "alpn", str_or_null(ev->alpn), "cert", ev->cert);
    case CH_TLS_EV_ALERT:
        *type = "tls-alert";
        return json_pack("{s:I, s:s, s:s, s:o, s:i}", "conn", conn, "by", ev->by, "level",
                         ev->fatal ? "fatal" : "warning", "alert", str_or_null(ev->alert), "code", ev->code);
    case CH_TLS_EV_FAILED:
    default:
        *type = "tls-failed";
        return json_pack("{s:I, s:s, s:o, s:s}", "conn", conn, "why", ev->why, "sni", str_or_null(ev->sni),
                         "cert", ev->cert);
    }
}

/* The tls.h event hook: into every attached transcript; before the first attachment, kept (the first
 * CH_CONN_TLS_EARLY) for tls_attached. */
static void on_tls_event(void *arg, const struct ch_tls_event *ev)
{
    struct ch_conn *c = arg;
    const char *type;
    json_t *fields = event_fields(c, ev, &type);
    if (c->ntrs == 0) {
        if (json_array_size(c->tls_early) < CH_CONN_TLS_EARLY)
            json_array_append_new(c->tls_early, json_pack("[I, s, o]", (json_int_t)ev->t_us, type, fields));
        else
            json_decref(fields);
        return;
    }
    for (int i = 0; i < c->ntrs; i++) /* ch_transcript_add takes (and changes) its fields: one copy each */
        ch_transcript_add(c->trs[i], ev->t_us, type, i + 1 < c->ntrs ? json_deep_copy(fields) : fields);
}

/* The TLS events from before the first attachment go into the new transcript. */
static void tls_attached(struct ch_conn *c, struct ch_transcript *t)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->tls_early, i, e)
        ch_transcript_add(t, (int64_t)json_integer_value(json_array_get(e, 0)), json_string_value(json_array_get(e, 1)),
                          json_deep_copy(json_array_get(e, 2)));
}

/* ---- the filter ------------------------------------------------------------------------------------------------ */

static void raw_write_hook(void *arg, const void *bytes, size_t n) { ch_conn_raw_write(arg, bytes, n); }

static void tls_free(struct ch_conn *c)
{
    ch_tls_free(c->tls);
    c->tls = NULL;
    json_decref(c->tls_early);
    c->tls_early = NULL;
}

/* close_notify if the stream is still intact (the ordinary end of a connection). */
static void tls_close_notify(struct ch_conn *c)
{
    if (c->tls && ch_tls_intact(c->tls)) ch_tls_close_notify(c->tls);
}

/* ---- the end of the client's stream --------------------------------------------------------------------------- */

/* What ended the stream, as ch_tls_read said it. */
static void stream_end(struct ch_conn *c, enum ch_tls_result r)
{
    switch (r) {
    case CH_TLS_CLOSE_NOTIFY: /* the clean end (RFC 8446 §6.1): as a FIN on http, our close_notify answers */
        ch_conn_peer_end(c, "close_notify");
        break;
    case CH_TLS_EOF: /* FIN without close_notify: the client truncated the stream (or left mid-handshake) */
        ch_conn_peer_end(c, "fin");
        break;
    case CH_TLS_REFUSED: /* a fault listener refuses the handshake: no alert, FIN or RST */
        if (ch_tls_refusal(c->tls) == CH_TLS_REFUSE_RST) ch_conn_reset_now(c);
        else ch_conn_fin_now(c, "fin");
        break;
    default: { /* CH_TLS_ERROR: a socket error, or a fatal alert (received, or sent by OpenSSL and now in `out`) */
        int e = ch_tls_errno(c->tls);
        const char *by = ch_tls_fatal_by(c->tls);
        if (e) {
            ch_conn_error(c, e);
        } else if (c->state == CH_CONN_CLOSING && c->closed_recorded) {
            ch_conn_free(c);
        } else {
            /* No close_notify after an error alert (RFC 8446 §6.1: "unless it has already sent some error
             * alert"); the alert we sent, if any, leaves before our FIN. */
            ch_conn_record_close(c, by && !strcmp(by, "client") ? "client" : "server", by ? "alert" : "error");
            ch_conn_fin_after_drain(c);
        }
        break;
    }
    }
}

/* Lingering after our FIN with the TLS layer gone: discard raw bytes until the peer's FIN (or an error). */
static void discard_raw(struct ch_conn *c)
{
    char scratch[4096];
    for (;;) {
        ssize_t n = recv(c->fd, scratch, sizeof scratch, 0);
        if (n > 0) continue;
        if (n < 0 && ch_conn_retriable(errno)) return;
        ch_conn_free(c);
        return;
    }
}

/* Reads through TLS (the handshake first), hands plaintext to the state machine, acts on the end of the stream. */
static void tls_readable(struct ch_conn *c)
{
    if (c->tls_end) { /* read behind data on the previous turn, after that data was handled */
        enum ch_tls_result r = (enum ch_tls_result)c->tls_end;
        c->tls_end = 0;
        stream_end(c, r);
        return;
    }
    if (c->state == CH_CONN_CLOSING && c->closed_recorded && !ch_tls_intact(c->tls)) {
        discard_raw(c); /* lingering after a failure: OpenSSL reads nothing more */
        return;
    }
    /* Unlike a short recv, a short SSL_read ends at a record boundary and says nothing about the socket: read
     * until AGAIN (or a stream end), up to READ_MAX per turn. */
    size_t got = 0;
    enum ch_tls_result r = CH_TLS_AGAIN;
    while (got < READ_MAX) {
        struct evbuffer_iovec v;
        size_t n = 0;
        evbuffer_reserve_space(c->in, READ_CHUNK, &v, 1);
        r = ch_tls_read(c->tls, v.iov_base, v.iov_len, &n);
        if (r != CH_TLS_DATA) break;
        v.iov_len = n;
        evbuffer_commit_space(c->in, &v, 1);
        got += n;
    }
    int ended = r != CH_TLS_DATA && r != CH_TLS_AGAIN;
    if (!got) {
        if (ended) stream_end(c, r);
        return;
    }
    /* As on http, a stream end behind data waits for the next turn (the data may start work on the loop
     * first); OpenSSL has consumed it, so it is kept in tls_end and the read event made active again. Bytes
     * already decrypted inside OpenSSL (READ_MAX reached) produce no socket event either. */
    if (ended) c->tls_end = r;
    ch_conn_input(c);
    if (!c->dead && (ended || (r == CH_TLS_DATA && ch_tls_pending(c->tls)))) event_active(c->rev, EV_READ, 0);
}

/* ---- the layer ------------------------------------------------------------------------------------------------- */

static const struct ch_conn_layer tls_layer = {tls_readable, tls_attached, tls_close_notify, tls_free};

int ch_conn_tls_start(struct ch_conn *c, SSL_CTX *ctx, char *err)
{
    struct ch_tls_hooks hooks = {raw_write_hook, on_tls_event, c};
    c->tls = ch_tls_new(ctx, c->fd, &hooks, err);
    if (!c->tls) return -1;
    c->tls_early = json_array();
    c->layer = &tls_layer;
    return 0;
}
