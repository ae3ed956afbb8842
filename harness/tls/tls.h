/* tls.h — TLS on the harness's own connections: server contexts, and a per-connection filter that sits
 * between a connection's socket and its plaintext buffers.
 *
 * The model (harness/tls/README.md §2). A connection keeps its fd, its read and write events and its two
 * evbuffers; only the meaning of the buffers' far ends changes:
 *
 *   socket ──recv──► OpenSSL (a socket BIO reads records)  ──SSL_read──►  `in` (plaintext, as today)
 *   `out` (ciphertext not yet taken) ◄──raw_write hook── OpenSSL (a write BIO) ◄──SSL_write── ch_conn_write
 *
 * So the output side is unchanged — `out` holds bytes the socket has not taken, written now when it can, on
 * the write event otherwise — and OpenSSL never sees EAGAIN on a write: SSL_write always completes, each call
 * becoming one or more records (at most 16 KiB of plaintext each, RFC 8446 §5.1) sent at once, so a scripted
 * write with waits between its parts keeps its timing at the socket. Reads drive the handshake: the first
 * ch_tls_read calls of a connection complete it, and CH_TLS_AGAIN means "wait until the socket is readable".
 *
 * Ending a connection (RFC 8446 §6.1): ch_tls_close_notify() sends close_notify (the clean end of the
 * stream); a FIN or RST without it is a truncation the peer can detect. The caller decides which.
 *
 * Every TLS event — handshake done, an alert sent or received (close_notify is an alert), a failed handshake —
 * goes to the `event` hook as it happens, with the RFC 8446 §6 alert names.
 *
 * Not thread-safe; one event loop. Hooks run inside ch_tls_* calls and must not call back into this module. */
#ifndef CH_TLS_TLS_H
#define CH_TLS_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#include "pki.h"

#define CH_TLS_ALPN "http/1.1"

/* What a context does with a ClientHello: the handshake faults of the case language. */
enum ch_tls_refuse {
    CH_TLS_ACCEPT,       /* complete the handshake */
    CH_TLS_REFUSE_ALERT, /* answer with a fatal handshake_failure alert (RFC 8446 §6.2), then FIN */
    CH_TLS_REFUSE_FIN,   /* read the ClientHello, then close the TCP connection: no alert */
    CH_TLS_REFUSE_RST,   /* read the ClientHello, then reset the TCP connection */
    CH_TLS_REFUSE_COUNT
};

/* A server context presenting `cert` from `pki`: TLS 1.2 and 1.3 (RFC 8446; RFC 5246), ALPN `http/1.1` only
 * (RFC 7301 §3.2: a client offering neither it nor nothing gets no_application_protocol), no session tickets
 * or session cache (every connection is a full handshake, so each is seen and recorded alike), buffers
 * released while idle. `max_version` is 0 (TLS 1.3) or TLS1_2_VERSION (a TLS 1.2 origin). Free with
 * SSL_CTX_free. */
SSL_CTX *ch_tls_server_ctx(const struct ch_pki *pki, enum ch_cert cert, enum ch_tls_refuse refuse,
                           int max_version, char *err);

/* "accept", "alert", "fin", "rst". */
const char *ch_tls_refuse_name(enum ch_tls_refuse r);

/* The RFC 8446 §6 (and RFC 5246 §7.2) name of an alert description, e.g. 48 → "unknown_ca"; NULL if none. */
const char *ch_tls_alert_name(int code);

enum ch_tls_event_kind {
    CH_TLS_EV_HANDSHAKE, /* the handshake completed */
    CH_TLS_EV_ALERT,     /* an alert was sent or received (close_notify included) */
    CH_TLS_EV_FAILED,    /* the handshake failed or was refused */
};

struct ch_tls_event {
    enum ch_tls_event_kind kind;
    int64_t t_us; /* ch_now_us() when it happened */
    /* CH_TLS_EV_HANDSHAKE (static strings or the SSL's own; copy what you keep) */
    const char *version;  /* "TLSv1.3" */
    const char *cipher;   /* IANA name: "TLS_AES_128_GCM_SHA256" */
    const char *group;    /* key exchange group: "x25519"; NULL if none */
    const char *sni;      /* server_name sent by the client (RFC 6066 §3); NULL if none */
    const char *alpn;     /* "http/1.1", or NULL when the client offered no ALPN */
    const char *cert;     /* ch_cert_name of the certificate presented */
    /* CH_TLS_EV_ALERT */
    const char *by;       /* "client" (received) or "server" (sent) */
    int fatal;            /* level fatal(2), else warning(1) */
    int code;             /* AlertDescription */
    const char *alert;    /* its name, or NULL for a code no RFC names */
    /* CH_TLS_EV_FAILED */
    const char *why;      /* OpenSSL's reason, or "refused: fin" etc. */
};

struct ch_tls_hooks {
    /* Ciphertext to send: the connection's raw write path (send now if nothing is queued, else queue and arm
     * the write event). Must accept everything; errors surface on the socket later. */
    void (*raw_write)(void *arg, const void *bytes, size_t n);
    /* A TLS event (may be NULL). */
    void (*event)(void *arg, const struct ch_tls_event *ev);
    void *arg;
};

struct ch_tls;

/* Server side of one accepted, non-blocking socket. The fd stays the caller's (never closed here). */
struct ch_tls *ch_tls_new(SSL_CTX *ctx, int fd, const struct ch_tls_hooks *hooks, char *err);
void ch_tls_free(struct ch_tls *t);

enum ch_tls_result {
    CH_TLS_DATA,         /* *got > 0 plaintext bytes */
    CH_TLS_AGAIN,        /* wait for the socket to be readable (handshake in progress, or a partial record) */
    CH_TLS_CLOSE_NOTIFY, /* the peer sent close_notify: it writes nothing more (RFC 8446 §6.1) */
    CH_TLS_EOF,          /* TCP FIN without close_notify (a truncation, RFC 8446 §6.1), or FIN mid-handshake */
    CH_TLS_REFUSED,      /* the context refuses this handshake: close with ch_tls_refusal()'s FIN or RST */
    CH_TLS_ERROR,        /* a fatal alert, a malformed record, a socket error: ch_tls_error() says which */
};

/* Like recv(2) into buf (room bytes): completes the handshake first. After CH_TLS_DATA, call again while
 * ch_tls_pending() says bytes wait inside OpenSSL: the socket will not wake the caller for them. */
enum ch_tls_result ch_tls_read(struct ch_tls *t, void *buf, size_t room, size_t *got);
int ch_tls_pending(const struct ch_tls *t);

/* Encrypts n bytes and sends them through raw_write, at once. Returns 0, or -1 (nothing sent) before the
 * handshake completed, after close_notify was sent, or after a fatal error. */
int ch_tls_write(struct ch_tls *t, const void *data, size_t n);

/* Sends close_notify (once). Returns 0 when sent now, 1 when it had been, -1 when it cannot be (handshake
 * not complete, or the connection failed). */
int ch_tls_close_notify(struct ch_tls *t);

int ch_tls_handshake_done(const struct ch_tls *t);
enum ch_tls_refuse ch_tls_refusal(const struct ch_tls *t);
/* The last failure in words ("" if none); socket errors also leave their errno in ch_tls_errno(). */
const char *ch_tls_error(const struct ch_tls *t);
int ch_tls_errno(const struct ch_tls *t);

#endif
