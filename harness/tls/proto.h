/* proto.h — phase A's prototype TLS origin server (issue 12): the TLS filter of tls.h on the connection model
 * of harness/conn.c (per connection: fd, a read event, a write event armed only while output waits, an input
 * and an output evbuffer), serving a few fixed replies. It exists to prove the design with real clients
 * (harness/tls/README.md §3) and is the code phase B folds into conn.c and server.c; it is not the runner.
 *
 * Listeners, all on loopback (127.0.0.1, and [::1] on the same port when it can), one per kind:
 *   good, tls12 (the good certificate, TLS 1.2 at most), expired, wrong-name, self-signed (CH_CERT_*),
 *   refuse-alert, refuse-fin, refuse-rst (the good certificate, the handshake refused: CH_TLS_REFUSE_*).
 *
 * Replies, by request path (the request is read up to its blank line; a body is not expected):
 *   /cut-bare    Content-Length: 100, 10 body bytes, then FIN without close_notify (a truncation)
 *   /cut-notify  Content-Length: 100, 10 body bytes, then close_notify and FIN
 *   /cut-rst     Content-Length: 100, 10 body bytes, then RST
 *   /close       a complete reply with `Connection: close`, then close_notify and FIN
 *   /favicon.ico 404
 *   anything else a small HTML page (200, Content-Length), and the connection stays open for the next request
 *
 * Every event is a JSON object (the transcript events phase B adds, harness/tls/README.md §2.4), appended to
 * an in-memory list (the last CH_PROTO_MAX_EVENTS) and, when a log FILE is given, written to it as one line. */
#ifndef CH_TLS_PROTO_H
#define CH_TLS_PROTO_H

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>

#define CH_PROTO_MAX_EVENTS 1000

enum ch_proto_kind {
    CH_PROTO_GOOD,
    CH_PROTO_TLS12,
    CH_PROTO_EXPIRED,
    CH_PROTO_WRONG_NAME,
    CH_PROTO_SELF_SIGNED,
    CH_PROTO_REFUSE_ALERT,
    CH_PROTO_REFUSE_FIN,
    CH_PROTO_REFUSE_RST,
    CH_PROTO_KINDS
};

struct ch_tls_proto;

/* Generates the run's certificates, writes DIR/ca.pem, binds every listener on a free port. */
struct ch_tls_proto *ch_tls_proto_new(struct event_base *base, const char *dir, FILE *log, char *err);
/* Closes every connection and listener (no close_notify: a shutdown), frees the certificates. */
void ch_tls_proto_free(struct ch_tls_proto *p);

const char *ch_proto_kind_name(enum ch_proto_kind k);
int ch_tls_proto_port(const struct ch_tls_proto *p, enum ch_proto_kind k);
/* {"ready": true, "ca": PATH, "ports": {KIND: PORT...}, "spki_sha256": {CERT: BASE64...}}. New reference. */
json_t *ch_tls_proto_ready(const struct ch_tls_proto *p);
/* The events so far (borrowed; the list keeps growing up to its bound). */
json_t *ch_tls_proto_events(const struct ch_tls_proto *p);

#endif
