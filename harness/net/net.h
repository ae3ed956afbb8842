/* net.h — the one public header of harness/net/ (conn.c): one loopback connection, reading HTTP/1.1 requests
 * and writing exactly what a responder asks for, in clear or over TLS. The engines write replies through it;
 * the server owns it.
 *
 * A connection is a small state machine (one state at a time, see enum ch_conn_state). It parses one request
 * at a time (pipelined input waits in the buffer), hands each complete request to the server's dispatcher, and
 * returns to reading when the responder calls ch_conn_finish(CH_END_KEEP). The request line is parsed here
 * (any RFC 9110 token is a method: `patch` and `FOO` must reach cases unchanged); header fields and body
 * framing (Content-Length, chunked) are parsed by libhttp-parser.
 *
 * Hostile input gets the protocol's answer and only its own connection closes: a malformed request line 400,
 * a target over CH_MAX_TARGET 414, a head over CH_MAX_HEAD or CH_MAX_HEADERS 431, a body over CH_MAX_BODY 413,
 * an HTTP version other than 1.0/1.1 505, a bad header or chunk 400, a head not complete within
 * CH_HEAD_TIMEOUT_MS 408; an idle connection (no request begun, nothing being written) is closed after the
 * server's idle timeout.
 *
 * TLS (a listener with a context; harness/tls/README.md §2): the same connection with the TLS filter of tls.h
 * between the socket and the buffers. `in` holds plaintext; `out` ciphertext the socket has not taken; what a
 * responder writes is encrypted and sent at once, so scripted timing holds record by record, and the replies
 * stay byte-exact at the HTTP layer (the transcript's `sent` events are the plaintext). The handshake runs
 * inside the first reads, under the idle timeout. The connection records its TLS events (tls-handshake,
 * tls-alert, tls-failed: harness/MODEL.md §2) in the transcripts it is attached to; those that happened before
 * the first attachment (the handshake, which comes before any request names a token) are kept and replayed,
 * with their own times, into every transcript the connection is attached to. A normal close sends close_notify
 * before FIN (RFC 8446 §6.1: "Each party MUST send a close_notify alert before closing its write side of the
 * connection, unless it has already sent some error alert"); CH_END_CLOSE_BARE and CH_END_RESET do not, and
 * ch_conn_notify sends it while TCP stays open: those are the truncation faults a case scripts. */
#ifndef CH_CONN_H
#define CH_CONN_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <http_parser.h>
#include <jansson.h>
#include <stdint.h>

#include "tls/tls.h"

#define CH_MAX_TARGET 8192
#define CH_MAX_HEAD 32768
#define CH_MAX_HEADERS 128
#define CH_MAX_BODY (64 * 1024 * 1024)
#define CH_MAX_PENDING_INPUT (1024 * 1024)
#define CH_HEAD_TIMEOUT_MS 10000
#define CH_CONN_MAX_TRANSCRIPTS 8
#define CH_CONN_TLS_EARLY 4 /* TLS events kept from before the first attachment (the handshake's) */

struct ch_transcript;
struct ch_conn_layer;

enum ch_conn_state {
    CH_CONN_READING,    /* parsing a request; nothing is being written */
    CH_CONN_RESPONDING, /* a responder owns the connection; input is buffered, not parsed */
    CH_CONN_HOLDING,    /* `hold`: nothing more will be written; input is discarded until the peer closes */
    CH_CONN_UPGRADED,   /* a protocol engine (WebSocket) owns input and output */
    CH_CONN_CLOSING,    /* output drains, then the socket closes (FIN or RST) */
};

/* How a response ends (ch_conn_finish). */
enum ch_conn_end {
    CH_END_KEEP,     /* read the next request */
    CH_END_CLOSE,    /* close with FIN once output is written (on TLS: close_notify, then FIN) */
    CH_END_RESET,    /* close with RST once output is written (on TLS: no close_notify) */
    CH_END_SHUTDOWN, /* FIN our side once output is written; keep reading until the peer closes (on TLS:
                      * close_notify, then FIN) */
    CH_END_HOLD,     /* keep the connection open, write and parse nothing more */
    CH_END_CLOSE_BARE, /* on TLS, FIN without close_notify (a truncation, RFC 8446 §6.1); on http CH_END_CLOSE */
};

struct ch_request {
    char method[64];
    char *target;      /* as received, NUL-terminated */
    int major, minor;  /* HTTP version */
    /* The header fields in wire order, as received: `fields[i]` locates field i's name and value in `head`
     * (core.h, struct ch_header). ch_request_header finds one; ch_request_headers_json gives them as JSON. */
    char *head;
    size_t head_len, head_cap;
    struct ch_header *fields;
    size_t nfields, fields_cap;
    struct evbuffer *body; /* NULL while no body byte has come: ch_request_body */
    int keep_alive;    /* per http_should_keep_alive */
    int upgrade;       /* an Upgrade request (the rest of the input belongs to the new protocol) */
    int64_t t_head_us, t_end_us; /* monotonic: the head received; the whole message received */
};

struct ch_conn;

/* What the connections of one listener share (the listener owns it; it outlives them). */
struct ch_conn_listener {
    int origin;       /* the server's number for the listener (routes match on it: core.h's enum ch_origin) */
    const char *name; /* "A" ... "D", "SF-expired": the origin in conn-open events (static) */
    SSL_CTX *tls;     /* NULL: plain http */
};

/* The server's side of a connection. `dispatch` is called once per complete request; the connection is then
 * RESPONDING and belongs to whoever the dispatcher hands it to, until ch_conn_finish() or its close.
 * `closed` is called once when the connection goes away (any reason), before it is freed; `opened` once when a
 * connection ch_conn_new made starts reading. */
struct ch_conn_owner {
    void (*dispatch)(struct ch_conn *c, struct ch_request *req, void *arg);
    void (*closed)(struct ch_conn *c, void *arg);
    void *arg;
    int idle_timeout_ms;
    void (*opened)(struct ch_conn *c, void *arg); /* told of each new connection when it starts reading (or NULL) */
};

struct ch_conn {
    uint64_t id;
    int origin;             /* the listener's origin number */
    const char *origin_name;
    char peer[64];
    evutil_socket_t fd;
    struct evbuffer *in;    /* bytes read, not yet consumed (a parser or a protocol engine drains it) */
    struct evbuffer *out;   /* bytes the socket has not taken yet */
    struct event *rev;      /* readable: always on */
    struct event *wev;      /* writable: armed only while `out` holds bytes */
    enum ch_conn_state state;
    int64_t opened_us;
    struct ch_request *req; /* the request being parsed or answered (owned) */
    int nreq;               /* requests completed on this connection */
    void *tag;              /* the owner's note on the last request (the server: its token) */

    /* The responder currently writing, told if the connection goes away under it. */
    void (*on_gone)(void *arg);
    void *gone_arg;
    /* Called when output has drained (ch_conn_when_drained). */
    void (*on_drained)(struct ch_conn *c, void *arg);
    void *drained_arg;
    /* A protocol engine's input handler in CH_CONN_UPGRADED. */
    void (*on_input)(struct ch_conn *c, void *arg);
    void *input_arg;

    /* Transcripts of the latest tokens this connection carried requests for (at most CH_CONN_MAX_TRANSCRIPTS,
     * the oldest forgotten first); each gets conn-open/close events. */
    struct ch_transcript *trs[CH_CONN_MAX_TRANSCRIPTS];
    int ntrs;
    int closed_recorded;

    /* TLS (NULL on http). `tls_end` is a stream end read behind data in the same turn (a ch_tls_result), handled
     * on the next; `tls_early` the events from before the first attachment ([[t_us, type, fields], ...]). */
    struct ch_tls *tls;
    int tls_end;
    json_t *tls_early;
    const struct ch_conn_layer *layer; /* the filter's table (conn_int.h): set with `tls`, NULL on http */

    /* Parsing state (private to conn.c). */
    http_parser parser;
    struct event *timer;
    int64_t deadline_us, timer_at_us; /* the one deadline (0 = none) and when the timer fires (0 = not armed) */
    enum ch_conn_end end;
    size_t head_size;
    int in_name, in_value, line_done, peer_closed;
    int busy, dead;         /* inside a callback / freed while busy: the free waits for the callback to end */
    const struct ch_conn_owner *owner;
};

/* Takes a freshly accepted socket and returns its connection; `l` (NULL: origin A, plain http) must outlive it.
 * A TLS connection whose filter cannot be made (OpenSSL refused) is closed at once: NULL is returned. */
struct ch_conn *ch_conn_new(struct event_base *base, evutil_socket_t fd, const struct sockaddr *sa, int salen,
                            const struct ch_conn_listener *l, uint64_t id, const struct ch_conn_owner *owner);

/* Writes bytes now (to the socket if it takes them, else to the output buffer). Never fails; after the peer is
 * gone the bytes are dropped. */
void ch_conn_write(struct ch_conn *c, const void *data, size_t n);

/* Sends close_notify now, while TCP stays open (the `notify` step): nothing more can be written on the
 * connection; the peer must treat the stream as ended (RFC 8446 §6.1). Returns 0, or -1 with err on a
 * connection without TLS (or whose handshake is not complete). */
int ch_conn_notify(struct ch_conn *c, char *err);

/* Calls cb once everything written so far has left the output buffer (at once if it already has). */
void ch_conn_when_drained(struct ch_conn *c, void (*cb)(struct ch_conn *, void *), void *arg);

/* Ends the current response: see enum ch_conn_end. The request is freed. */
void ch_conn_finish(struct ch_conn *c, enum ch_conn_end how);

/* Records this connection in a transcript (conn-open now, conn-close later). Idempotent per transcript. */
void ch_conn_attach(struct ch_conn *c, struct ch_transcript *t);

/* Sets who to tell if the connection disappears while they hold it (NULL to clear). */
void ch_conn_set_gone(struct ch_conn *c, void (*on_gone)(void *), void *arg);

/* Hands input to a protocol engine: state becomes UPGRADED, any buffered bytes are offered at once. */
void ch_conn_upgrade(struct ch_conn *c, void (*on_input)(struct ch_conn *, void *), void *arg);

/* Closes now (shutdown path, case over, limits, fatal errors): records server/`how`, tells the responder,
 * frees. On TLS a close_notify goes out first (as much of it as the socket takes now) unless `how` is "rst" or
 * the TLS layer failed. */
void ch_conn_close(struct ch_conn *c, const char *how);

/* A complete response for harness-generated replies (control, errors): status line, Content-Type,
 * Content-Length, extra header lines (each ending in CRLF, may be NULL), body (not sent for HEAD, nor for 304,
 * whose Content-Length is then the length the 200 would have had). */
void ch_conn_reply(struct ch_conn *c, int status, const char *reason, const char *type, const char *extra,
                   const void *body, size_t n);

/* The first value of a request header (case-insensitive name), NUL-terminated, or NULL. */
const char *ch_request_header(const struct ch_request *r, const char *name);

/* The header fields as [[name, value], ...] (core.h, ch_header_json: valid JSON whatever the bytes). New
 * reference. */
json_t *ch_request_headers_json(const struct ch_request *r);

/* Appends a header field (the parser appends the bytes as they come; a test builds a request with it). */
void ch_request_add_header(struct ch_request *r, const char *name, size_t name_len, const char *value,
                           size_t value_len);

/* The body as one contiguous run of *n bytes ("" and 0 for none). Valid until the request changes. */
const void *ch_request_body(const struct ch_request *r, size_t *n);

/* Frees a request (NULL is a no-op). */
void ch_request_free(struct ch_request *r);

#endif
