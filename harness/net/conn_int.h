/* conn_int.h — what the files of harness/net/ share; internal to the folder. Each file needs only those below it:
 *
 *   accept.c    makes a connection (net.h ch_conn_new): conn.c's, with the TLS filter when the listener has one
 *   conn_tls.c  the TLS filter: its hooks, TLS events into the transcripts, reads through TLS and what each end
 *               of the TLS stream means for the state machine; reached by conn.c through a layer table
 *   conn.c      the connection's state machine: requests, responders, writing, ending, plain reads */
#ifndef CH_CONN_INT_H
#define CH_CONN_INT_H

#include "net.h"

#define READ_CHUNK 900          /* bytes reserved per read: a 1 KiB chain glibc's per-thread cache serves */
#define READ_MAX (64 * 1024)    /* bytes read per readiness at most (a flooding client waits for the next) */
#define LINGER_MS 2000          /* after our FIN, how long late client bytes are read and discarded */

/* ---- conn.c ---- */

/* A filter between the socket and the connection's buffers (the one there is: TLS, conn_tls.c). conn.c calls it
 * only through this table (c->layer, NULL on plain http), so the state machine needs nothing of the filter. */
struct ch_conn_layer {
    /* The socket is readable: read through the filter, hand plaintext to ch_conn_input, act on a stream end. */
    void (*readable)(struct ch_conn *c);
    /* A transcript was attached (the filter's earlier events go into it). */
    void (*attached)(struct ch_conn *c, struct ch_transcript *t);
    /* The ordinary end of the stream, before FIN (TLS: close_notify if the stream is intact). */
    void (*close_notify)(struct ch_conn *c);
    /* The connection is being freed, before its socket closes; sends nothing. */
    void (*free)(struct ch_conn *c);
};

/* A connection on an accepted socket with its events made but not armed (`l` outlives it), and the start of
 * reading (the owner is told: `opened`). Between the two the caller may put a layer on. */
struct ch_conn *ch_conn_alloc(struct event_base *base, evutil_socket_t fd, const struct ch_conn_listener *l,
                              uint64_t id, const struct ch_conn_owner *owner);
void ch_conn_begin(struct ch_conn *c);
/* Frees at once, telling no one (a connection never begun, or the end of ch_conn_free). */
void ch_conn_discard(struct ch_conn *c);

/* A read or write that would block or was interrupted: try again when the socket is ready. */
int ch_conn_retriable(int e);
/* Writes bytes to the socket now, queueing what it does not take (the write event is armed): ciphertext on
 * TLS, the response itself on http. */
void ch_conn_raw_write(struct ch_conn *c, const void *data, size_t n);
/* conn-close in every attached transcript, once; `by` and `how` static strings. */
void ch_conn_record_close(struct ch_conn *c, const char *by, const char *how);
/* Ends the connection (the owner and the responder told once), freed now or when the current callback ends. */
void ch_conn_free(struct ch_conn *c);
/* New bytes are in `in`: the state decides what they are. */
void ch_conn_input(struct ch_conn *c);
/* The peer ended its stream (TCP FIN, or TLS close_notify): `how` is recorded as the client's close. */
void ch_conn_peer_end(struct ch_conn *c, const char *how);
/* FIN now (recorded as the server's `how` unless a close is recorded), then linger; and RST now. */
void ch_conn_fin_now(struct ch_conn *c, const char *how);
void ch_conn_reset_now(struct ch_conn *c);
/* The responder is told the connection is gone; FIN (no close_notify) once `out` has drained, then linger. */
void ch_conn_fin_after_drain(struct ch_conn *c);
/* Reading or writing failed with errno `err` (an RST, most often). */
void ch_conn_error(struct ch_conn *c, int err);

/* ---- conn_tls.c ---- */

/* Puts the TLS filter (its layer table) on a connection made but not begun: 0, or -1 with err. */
int ch_conn_tls_start(struct ch_conn *c, SSL_CTX *ctx, char *err);

#endif
