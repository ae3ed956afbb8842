/* conn_int.h — what conn.c and its TLS branch (conn_tls.c) share; internal to harness/net/.
 *
 *   conn.c      the connection's state machine: requests, responders, writing, ending, plain reads
 *   conn_tls.c  the TLS branch: the filter's hooks, TLS events into the transcripts, reads through TLS and what
 *               each end of the TLS stream means for the state machine */
#ifndef CH_CONN_INT_H
#define CH_CONN_INT_H

#include "net.h"

#define READ_CHUNK 900          /* bytes reserved per read: a 1 KiB chain glibc's per-thread cache serves */
#define READ_MAX (64 * 1024)    /* bytes read per readiness at most (a flooding client waits for the next) */
#define LINGER_MS 2000          /* after our FIN, how long late client bytes are read and discarded */

/* ---- conn.c ---- */

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

/* Puts the TLS filter on a new connection (0), or -1 with err. */
int ch_conn_tls_start(struct ch_conn *c, SSL_CTX *ctx, char *err);
void ch_conn_tls_free(struct ch_conn *c);
/* The socket is readable: read through TLS (the handshake first), hand plaintext to the state machine, and act
 * on the end of the stream. */
void ch_conn_tls_readable(struct ch_conn *c);
/* A transcript was attached: the TLS events from before the first attachment go into it. */
void ch_conn_tls_attached(struct ch_conn *c, struct ch_transcript *t);
/* Sends close_notify if the stream is still intact (the ordinary end of a connection). */
void ch_conn_tls_close_notify(struct ch_conn *c);

#endif
