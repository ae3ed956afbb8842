/* tls.c — TLS on a connection (tls.h). OpenSSL 3.0: SSL_read(3), SSL_get_error(3), SSL_shutdown(3),
 * BIO_meth_new(3), SSL_CTX_set_client_hello_cb(3), SSL_CTX_set_alpn_select_cb(3), SSL_CTX_set_info_callback(3). */
#include "tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct ch_tls {
    SSL *ssl;
    struct ch_tls_hooks hooks;
    const struct ctx_info *info;
    int handshake_done, notify_sent, failed, failure_told;
    const char *fatal_by; /* "client" or "server": who sent a fatal alert */
    int sys_errno;
    char alpn[32];
    char why[200];
};

/* What a context presents and does; SSL_CTX app data points at one of these (static: nothing to free). */
struct ctx_info {
    enum ch_cert cert;
    enum ch_tls_refuse refuse;
};

static const struct ctx_info INFOS[CH_CERT_COUNT][CH_TLS_REFUSE_COUNT] = {
#define ROW(c) {{c, CH_TLS_ACCEPT}, {c, CH_TLS_REFUSE_ALERT}, {c, CH_TLS_REFUSE_FIN}, {c, CH_TLS_REFUSE_RST}}
    ROW(CH_CERT_GOOD), ROW(CH_CERT_EXPIRED), ROW(CH_CERT_WRONG_NAME), ROW(CH_CERT_SELF_SIGNED),
#undef ROW
};

const char *ch_tls_refuse_name(enum ch_tls_refuse r)
{
    static const char *const names[CH_TLS_REFUSE_COUNT] = {"accept", "alert", "fin", "rst"};
    return (int)r >= 0 && r < CH_TLS_REFUSE_COUNT ? names[r] : "?";
}

const char *ch_tls_alert_name(int code)
{
    switch (code) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return NULL;
    }
}

/* ---- events ---------------------------------------------------------------------------------------------------- */

static void emit(struct ch_tls *t, struct ch_tls_event *ev)
{
    ev->t_us = ch_now_us();
    if (t->hooks.event) t->hooks.event(t->hooks.arg, ev);
}

static void emit_handshake(struct ch_tls *t)
{
    if (t->handshake_done) return;
    t->handshake_done = 1;
    const unsigned char *alpn = NULL;
    unsigned int alen = 0;
    SSL_get0_alpn_selected(t->ssl, &alpn, &alen);
    if (alpn && alen < sizeof t->alpn) {
        memcpy(t->alpn, alpn, alen);
        t->alpn[alen] = '\0';
    }
    int group = SSL_get_negotiated_group(t->ssl);
    struct ch_tls_event ev = {
        .kind = CH_TLS_EV_HANDSHAKE, .version = SSL_get_version(t->ssl),
        .cipher = SSL_CIPHER_standard_name(SSL_get_current_cipher(t->ssl)),
        .group = group ? SSL_group_to_name(t->ssl, group) : NULL,
        .sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name), .alpn = alen ? t->alpn : NULL,
        .cert = ch_cert_name(t->info->cert)};
    emit(t, &ev);
}

static void emit_failed(struct ch_tls *t)
{
    if (t->handshake_done || t->failure_told) return;
    t->failure_told = 1;
    struct ch_tls_event ev = {.kind = CH_TLS_EV_FAILED, .why = t->why,
                              .sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name),
                              .cert = ch_cert_name(t->info->cert)};
    emit(t, &ev);
}

/* OpenSSL's info callback: alerts both ways, and the end of the handshake. */
static void on_info(const SSL *ssl, int where, int ret)
{
    struct ch_tls *t = SSL_get_app_data(ssl);
    if (!t) return;
    if (where & SSL_CB_ALERT) {
        int code = ret & 0xff;
        struct ch_tls_event ev = {.kind = CH_TLS_EV_ALERT, .by = (where & SSL_CB_READ) ? "client" : "server",
                                  .fatal = (ret >> 8) == SSL3_AL_FATAL, .code = code,
                                  .alert = ch_tls_alert_name(code)};
        if (ev.fatal && !t->fatal_by) t->fatal_by = ev.by;
        emit(t, &ev);
    }
    if (where & SSL_CB_HANDSHAKE_DONE) emit_handshake(t);
}

/* ---- the context ----------------------------------------------------------------------------------------------- */

/* RFC 7301 §3.2: select http/1.1 if offered; a client offering only other protocols gets the fatal
 * no_application_protocol alert; a client offering none gets no ALPN extension back. */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x08" CH_TLS_ALPN;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* The handshake faults: decided at the ClientHello, before anything is sent. RETRY suspends the handshake
 * (SSL_ERROR_WANT_CLIENT_HELLO_CB), and ch_tls_read turns that into CH_TLS_REFUSED. */
static int on_client_hello(SSL *ssl, int *alert, void *arg)
{
    const struct ctx_info *ci = arg;
    switch (ci->refuse) {
    case CH_TLS_REFUSE_ALERT: *alert = SSL_AD_HANDSHAKE_FAILURE; return SSL_CLIENT_HELLO_ERROR;
    case CH_TLS_REFUSE_FIN:
    case CH_TLS_REFUSE_RST: return SSL_CLIENT_HELLO_RETRY;
    default: return SSL_CLIENT_HELLO_SUCCESS;
    }
}

SSL_CTX *ch_tls_server_ctx(const struct ch_pki *pki, enum ch_cert cert, enum ch_tls_refuse refuse,
                           int max_version, char *err)
{
    if ((int)cert < 0 || cert >= CH_CERT_COUNT || (int)refuse < 0 || refuse >= CH_TLS_REFUSE_COUNT)
        return (ch_errf(err, "no such certificate or refusal mode"), NULL);
    if (max_version != 0 && max_version != TLS1_2_VERSION && max_version != TLS1_3_VERSION)
        return (ch_errf(err, "max_version must be 0, TLS 1.2 or TLS 1.3"), NULL);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return (ch_ossl_errf(err, "SSL_CTX_new"), NULL);
    const struct ctx_info *ci = &INFOS[cert][refuse];
    int ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
             SSL_CTX_set_max_proto_version(ctx, max_version ? max_version : TLS1_3_VERSION) &&
             SSL_CTX_use_certificate(ctx, ch_pki_cert(pki, cert)) == 1 &&
             SSL_CTX_use_PrivateKey(ctx, ch_pki_key(pki, cert)) == 1 && SSL_CTX_check_private_key(ctx) == 1 &&
             SSL_CTX_set_num_tickets(ctx, 0) == 1;
    if (!ok) {
        SSL_CTX_free(ctx);
        return (ch_ossl_errf(err, "configuring the TLS context"), NULL);
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn, NULL);
    SSL_CTX_set_info_callback(ctx, on_info);
    if (refuse != CH_TLS_ACCEPT) SSL_CTX_set_client_hello_cb(ctx, on_client_hello, (void *)ci);
    SSL_CTX_set_app_data(ctx, (void *)ci);
    return ctx;
}

/* ---- the write BIO: ciphertext goes straight to the connection's raw write path --------------------------------- */

static int wbio_write(BIO *b, const char *data, int n)
{
    struct ch_tls *t = BIO_get_data(b);
    if (n > 0) t->hooks.raw_write(t->hooks.arg, data, (size_t)n);
    return n;
}

static long wbio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* nothing is buffered here; every other control is unsupported */
}

static int wbio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* One method for every connection, made on first use; it stays reachable until exit. */
static BIO_METHOD *wbio_method(void)
{
    static BIO_METHOD *m;
    if (!m) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "harness connection");
        if (m && !(BIO_meth_set_write(m, wbio_write) && BIO_meth_set_ctrl(m, wbio_ctrl) &&
                   BIO_meth_set_create(m, wbio_create))) {
            BIO_meth_free(m);
            m = NULL;
        }
    }
    return m;
}

/* ---- a connection ---------------------------------------------------------------------------------------------- */

struct ch_tls *ch_tls_new(SSL_CTX *ctx, int fd, const struct ch_tls_hooks *hooks, char *err)
{
    BIO *rb = NULL, *wb = NULL;
    BIO_METHOD *m = wbio_method();
    if (!m) return (ch_ossl_errf(err, "creating the write BIO method"), NULL);
    struct ch_tls *t = ch_xcalloc(1, sizeof *t);
    t->hooks = *hooks;
    t->info = SSL_CTX_get_app_data(ctx);
    t->ssl = SSL_new(ctx);
    rb = BIO_new_socket(fd, BIO_NOCLOSE);
    wb = BIO_new(m);
    if (!t->ssl || !t->info || !rb || !wb) {
        BIO_free(rb);
        BIO_free(wb);
        ch_tls_free(t);
        return (ch_ossl_errf(err, "creating a TLS connection"), NULL);
    }
    BIO_set_data(wb, t);
    SSL_set_bio(t->ssl, rb, wb); /* the SSL owns both BIOs now */
    SSL_set_app_data(t->ssl, t);
    SSL_set_accept_state(t->ssl);
    return t;
}

void ch_tls_free(struct ch_tls *t)
{
    if (!t) return;
    if (t->ssl) {
        SSL_set_app_data(t->ssl, NULL); /* no event from inside SSL_free */
        SSL_free(t->ssl);
    }
    free(t);
}

/* Records why the connection failed: the first queued OpenSSL error, else the socket's errno, else `dflt`. */
static void set_failure(struct ch_tls *t, const char *dflt, int sys)
{
    unsigned long e = ERR_peek_error();
    t->failed = 1;
    t->sys_errno = sys;
    if (e) ERR_error_string_n(e, t->why, sizeof t->why);
    else if (sys) snprintf(t->why, sizeof t->why, "%s", strerror(sys));
    else snprintf(t->why, sizeof t->why, "%s", dflt);
    ERR_clear_error();
}

enum ch_tls_result ch_tls_read(struct ch_tls *t, void *buf, size_t room, size_t *got)
{
    *got = 0;
    if (t->failed) return CH_TLS_ERROR;
    ERR_clear_error(); /* SSL_get_error reads the queue: it must hold only this call's errors */
    errno = 0;
    int n = SSL_read(t->ssl, buf, room > INT_MAX ? INT_MAX : (int)room);
    int sys = errno;
    if (n > 0) {
        emit_handshake(t); /* the info callback normally told it already */
        *got = (size_t)n;
        return CH_TLS_DATA;
    }
    switch (SSL_get_error(t->ssl, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: return CH_TLS_AGAIN; /* (our write BIO never blocks) */
    case SSL_ERROR_ZERO_RETURN: return CH_TLS_CLOSE_NOTIFY;
    case SSL_ERROR_WANT_CLIENT_HELLO_CB:
        snprintf(t->why, sizeof t->why, "refused: %s", ch_tls_refuse_name(t->info->refuse));
        t->failed = 1;
        emit_failed(t);
        return CH_TLS_REFUSED;
    case SSL_ERROR_SYSCALL:
        if (sys == EAGAIN || sys == EWOULDBLOCK || sys == EINTR) return CH_TLS_AGAIN;
        set_failure(t, t->handshake_done ? "eof without close_notify" : "eof during the handshake", sys);
        emit_failed(t);
        return sys ? CH_TLS_ERROR : CH_TLS_EOF;
    default: { /* SSL_ERROR_SSL: a protocol failure; OpenSSL 3 also reports a FIN without close_notify here */
        int eof = ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
        set_failure(t, "protocol error", 0);
        if (eof) snprintf(t->why, sizeof t->why, "%s", t->handshake_done ? "eof without close_notify"
                                                                           : "eof during the handshake");
        emit_failed(t);
        return eof ? CH_TLS_EOF : CH_TLS_ERROR;
    }
    }
}

int ch_tls_pending(const struct ch_tls *t) { return !t->failed && SSL_pending(t->ssl) > 0; }

int ch_tls_write(struct ch_tls *t, const void *data, size_t n)
{
    if (!t->handshake_done || t->notify_sent || t->failed) return -1;
    const char *p = data;
    while (n > 0) {
        ERR_clear_error();
        int k = SSL_write(t->ssl, p, n > INT_MAX ? INT_MAX : (int)n);
        if (k <= 0) {
            set_failure(t, "write failed", errno);
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int ch_tls_close_notify(struct ch_tls *t)
{
    if (t->notify_sent) return 1;
    if (!t->handshake_done || t->failed) return -1; /* SSL_shutdown(3): not during a handshake, nor after a
                                                     * fatal error */
    ERR_clear_error();
    if (SSL_shutdown(t->ssl) < 0) {
        set_failure(t, "close_notify failed", errno);
        return -1;
    }
    t->notify_sent = 1;
    return 0;
}

int ch_tls_handshake_done(const struct ch_tls *t) { return t->handshake_done; }
int ch_tls_intact(const struct ch_tls *t) { return t->handshake_done && !t->failed; }
const char *ch_tls_fatal_by(const struct ch_tls *t) { return t->fatal_by; }
enum ch_tls_refuse ch_tls_refusal(const struct ch_tls *t) { return t->info->refuse; }
const char *ch_tls_error(const struct ch_tls *t) { return t->why; }
int ch_tls_errno(const struct ch_tls *t) { return t->sys_errno; }
