/* tls.h — the one public header of harness/tls/: the run's throwaway certificate authority (pki.c) and TLS on
 * the harness's own connections (tls.c): server contexts, and a per-connection filter that sits between a
 * connection's socket and its plaintext buffers. harness/net/conn.c is its one user for connections; the server
 * makes the certificates and contexts. The design and what was proven with real clients: harness/tls/README.md.
 *
 * ---- pki.c: certificates ----
 *
 * One `struct ch_pki` per run, made in memory at start: a CA (ECDSA P-256, self-signed, basicConstraints
 * CA:TRUE pathlen:0, keyUsage keyCertSign cRLSign, nameConstraints limiting it to loopback names) and four
 * leaves, each with a key of its own (ECDSA P-256), so that an allowance bound to one key (Chromium's
 * --ignore-certificate-errors-spki-list) never covers a fault certificate:
 *
 *   CH_CERT_GOOD         signed by the CA, valid now (for CH_PKI_DAYS), subjectAltName DNS:localhost,
 *                        IP:127.0.0.1, IP:::1 — the certificate of every TLS origin
 *   CH_CERT_EXPIRED      the same names, signed by the CA, validity ended a day ago (RFC 5280 §4.1.2.5)
 *   CH_CERT_WRONG_NAME   signed by the CA, valid now, for DNS:wrong-name.invalid only (RFC 9110 §4.3.4:
 *                        the name must match the URI's host)
 *   CH_CERT_SELF_SIGNED  the good certificate's names and validity, but signed by its own key: no CA vouches
 *
 * The CA's private key never leaves memory; ch_pki_free() frees it. Nothing is written except by the two
 * write functions, into the directory the caller names (the run folder).
 *
 * ---- tls.c: TLS on a connection ----
 *
 * The model (README.md §2). A connection keeps its fd, its read and write events and its two evbuffers; only
 * the meaning of the buffers' far ends changes:
 *
 *   socket ──recv──► OpenSSL (a socket BIO reads records)  ──SSL_read──►  `in` (plaintext, as on http)
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
 * Errors: core.h's convention (char *err, -1). Memory: the ch_x* policy of core.h; OpenSSL's own allocations go
 * through the same functions once ch_oom_install() ran. Not thread-safe; one event loop. Hooks run inside
 * ch_tls_* calls and must not call back into this module. */
#ifndef CH_TLS_H
#define CH_TLS_H

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CH_PKI_DAYS 1            /* validity of the CA and the good leaves, from an hour before `now` */
#define CH_PKI_WRONG_NAME "wrong-name.invalid"
#define CH_PKI_SPKI_B64_LEN 45   /* base64 of a SHA-256 digest, plus NUL */

enum ch_cert {
    CH_CERT_GOOD,
    CH_CERT_EXPIRED,
    CH_CERT_WRONG_NAME,
    CH_CERT_SELF_SIGNED,
    CH_CERT_COUNT
};

struct ch_pki;

/* Generates the CA and every leaf for a run starting at `now` (seconds since the epoch; time(NULL) in the
 * server, a fixed value in tests). `label` goes into the CA's common name (e.g. the run folder's name) so that
 * a stray certificate says where it came from; may be NULL. Takes about a millisecond per key. */
struct ch_pki *ch_pki_new(time_t now, const char *label, char *err);
void ch_pki_free(struct ch_pki *p);

/* Borrowed pointers, valid until ch_pki_free. */
X509 *ch_pki_ca(const struct ch_pki *p);
X509 *ch_pki_cert(const struct ch_pki *p, enum ch_cert which);
EVP_PKEY *ch_pki_key(const struct ch_pki *p, enum ch_cert which);

/* "good", "expired", "wrong-name", "self-signed": the names used in file names, ready lines and transcripts. */
const char *ch_cert_name(enum ch_cert which);

/* Writes the CA certificate as PEM to DIR/ca.pem (mode 0644; an existing regular file is replaced, a symlink
 * there is refused) and puts that path into `path` (n bytes). This is the one file clients need. */
int ch_pki_write_ca(const struct ch_pki *p, const char *dir, char *path, size_t n, char *err);

/* Writes a leaf's certificate and key as PEM to DIR/NAME.pem and DIR/NAME.key (mode 0600), NAME from
 * ch_cert_name: for a reference server given the same certificate (the TLS benchmark's nginx). */
int ch_pki_write_leaf(const struct ch_pki *p, enum ch_cert which, const char *dir, char *err);

/* base64(SHA-256(DER SubjectPublicKeyInfo)) of a leaf's key: the form Chromium's
 * --ignore-certificate-errors-spki-list and HPKP-style pins use. */
int ch_pki_spki_sha256(const struct ch_pki *p, enum ch_cert which, char out[CH_PKI_SPKI_B64_LEN], char *err);

/* Puts "WHAT: <the first queued OpenSSL error>" into err, clears OpenSSL's error queue, returns -1. */
int ch_ossl_errf(char *err, const char *what);

/* ---- tls.c ---------------------------------------------------------------------------------------------- */


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
/* 1 while records can still be read and written: the handshake completed and nothing failed. */
int ch_tls_intact(const struct ch_tls *t);
/* Who sent the fatal alert that ended the connection: "client", "server", or NULL for none. */
const char *ch_tls_fatal_by(const struct ch_tls *t);
enum ch_tls_refuse ch_tls_refusal(const struct ch_tls *t);
/* The last failure in words ("" if none); socket errors also leave their errno in ch_tls_errno(). */
const char *ch_tls_error(const struct ch_tls *t);
int ch_tls_errno(const struct ch_tls *t);

#endif
