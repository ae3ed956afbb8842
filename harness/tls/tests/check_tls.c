/* check_tls.c — unit tests of harness/tls/: the run's certificates (pki.c), the server context and the
 * per-connection filter (tls.c), through the prototype origin server (proto.c) on loopback.
 *
 * Each handshake test runs the server in this process's event loop and one client in a forked child: an
 * OpenSSL client written here (to see exact versions, alerts and how a stream ended), or curl and openssl
 * s_client (the real tools, exec'd). The child reports one line on a pipe; the test then checks that line and
 * the events the server recorded. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tls/pki.h"
#include "tls/proto.h"
#include "tls/tls.h"
#include "core/core.h"

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z: certificates made "now" and verified at this time */

/* ---- helpers ----------------------------------------------------------------------------------------------------- */

static char *make_tmpdir(void)
{
    char *d = strdup("/tmp/check_tls.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void remove_tmpdir(char *d)
{
    DIR *dir = opendir(d);
    struct dirent *e;
    char path[4200];
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        unlink(path);
    }
    if (dir) closedir(dir);
    rmdir(d);
    free(d);
}

/* The names in a directory, sorted and space-separated (at most 511 bytes). */
static void list_dir(const char *d, char *out, size_t n)
{
    struct dirent **names;
    int k = scandir(d, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        if (names[i]->d_name[0] != '.') {
            if (out[0]) strncat(out, " ", n - strlen(out) - 1);
            strncat(out, names[i]->d_name, n - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

/* X509_verify_cert of `leaf` against a store holding only the run's CA, at NOW. Returns the X509_V_* code. */
static int verify_at_now(const struct ch_pki *p, X509 *leaf, const char *host, const char *ip)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ck_assert(X509_STORE_add_cert(store, ch_pki_ca(p)) == 1);
    ck_assert(X509_STORE_CTX_init(ctx, store, leaf, NULL) == 1);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, NOW);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (host) X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
    int rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

static long seconds_from_now(const ASN1_TIME *t)
{
    ASN1_TIME *now = ASN1_TIME_set(NULL, NOW);
    int days = 0, secs = 0;
    ck_assert(ASN1_TIME_diff(&days, &secs, now, t) == 1);
    ASN1_TIME_free(now);
    return (long)days * 86400 + secs;
}

/* ---- pki.c --------------------------------------------------------------------------------------------------------- */

START_TEST(ca_is_a_constrained_short_lived_ca)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, "check", err);
    ck_assert_msg(p != NULL, "%s", err);
    X509 *ca = ch_pki_ca(p);
    ck_assert_int_eq(X509_check_ca(ca), 1); /* basicConstraints CA:TRUE */
    ck_assert(X509_get_extension_flags(ca) & EXFLAG_SS);
    ck_assert(X509_get_key_usage(ca) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    ck_assert_int_eq(X509_get_pathlen(ca), 0);
    ck_assert_int_eq(seconds_from_now(X509_get0_notAfter(ca)), CH_PKI_DAYS * 86400L);
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL, NULL);
    ck_assert_ptr_nonnull(nc);
    ck_assert_int_eq(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 4);
    ck_assert_ptr_null(nc->excludedSubtrees);
    NAME_CONSTRAINTS_free(nc);
    char cn[256];
    X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn);
    ck_assert_str_eq(cn, "harness run CA check");
    ch_pki_free(p);
}
END_TEST

START_TEST(leaves_verify_as_designed)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    ck_assert_msg(p != NULL, "%s", err);
    X509 *good = ch_pki_cert(p, CH_CERT_GOOD);
    ck_assert_int_eq(verify_at_now(p, good, "localhost", NULL), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, NULL, "127.0.0.1"), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, NULL, "::1"), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
    ck_assert_int_eq(seconds_from_now(X509_get0_notBefore(good)), -3600);
    ck_assert_int_eq(seconds_from_now(X509_get0_notAfter(good)), CH_PKI_DAYS * 86400L);
    ck_assert_int_eq(X509_check_ca(good), 0);
    ck_assert(X509_get_extended_key_usage(good) & XKU_SSL_SERVER);

    X509 *expired = ch_pki_cert(p, CH_CERT_EXPIRED);
    ck_assert_int_eq(verify_at_now(p, expired, "localhost", NULL), X509_V_ERR_CERT_HAS_EXPIRED);
    ck_assert_int_lt(seconds_from_now(X509_get0_notAfter(expired)), 0);

    X509 *wrong = ch_pki_cert(p, CH_CERT_WRONG_NAME);
    ck_assert_int_eq(verify_at_now(p, wrong, NULL, NULL), X509_V_OK); /* a good chain ... */
    ck_assert_int_eq(verify_at_now(p, wrong, CH_PKI_WRONG_NAME, NULL), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, wrong, "localhost", NULL), X509_V_ERR_HOSTNAME_MISMATCH); /* ... elsewhere */
    ck_assert_int_eq(verify_at_now(p, wrong, NULL, "127.0.0.1"), X509_V_ERR_IP_ADDRESS_MISMATCH);

    X509 *self = ch_pki_cert(p, CH_CERT_SELF_SIGNED);
    ck_assert_int_eq(verify_at_now(p, self, "localhost", NULL), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    ck_assert_int_eq(X509_verify(self, ch_pki_key(p, CH_CERT_SELF_SIGNED)), 1); /* signed by its own key */
    ck_assert_int_ne(X509_verify(self, X509_get0_pubkey(ch_pki_ca(p))), 1);

    /* Every leaf has a P-256 key of its own: a key-bound allowance never covers a fault certificate. */
    char spki[CH_CERT_COUNT][CH_PKI_SPKI_B64_LEN];
    for (int i = 0; i < CH_CERT_COUNT; i++) {
        EVP_PKEY *k = ch_pki_key(p, (enum ch_cert)i);
        char group[32];
        size_t glen;
        ck_assert(EVP_PKEY_is_a(k, "EC"));
        ck_assert(EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &glen) == 1);
        ck_assert_str_eq(group, "prime256v1");
        ck_assert_int_eq(X509_check_private_key(ch_pki_cert(p, (enum ch_cert)i), k), 1);
        ck_assert_int_eq(ch_pki_spki_sha256(p, (enum ch_cert)i, spki[i], err), 0);
        ck_assert_int_eq(strlen(spki[i]), 44);
        for (int j = 0; j < i; j++) ck_assert_str_ne(spki[i], spki[j]);
    }
    ck_assert_ptr_null(ch_pki_cert(p, CH_CERT_COUNT));
    ck_assert_int_eq(ch_pki_spki_sha256(p, CH_CERT_COUNT, spki[0], err), -1);
    ck_assert_str_eq(err, "no such certificate: 4");
    ch_pki_free(p);
}
END_TEST

START_TEST(files_only_in_the_given_folder)
{
    char err[CH_ERR_LEN], path[4200], names[512];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    char *d = make_tmpdir();
    ck_assert_int_eq(ch_pki_write_ca(p, d, path, sizeof path, err), 0);
    list_dir(d, names, sizeof names);
    ck_assert_str_eq(names, "ca.pem");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    FILE *f = fopen(path, "r");
    X509 *back = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(X509_cmp(back, ch_pki_ca(p)), 0);
    X509_free(back);

    ck_assert_int_eq(ch_pki_write_leaf(p, CH_CERT_GOOD, d, err), 0);
    list_dir(d, names, sizeof names);
    ck_assert_str_eq(names, "ca.pem good.key good.pem");
    snprintf(path, sizeof path, "%s/good.key", d);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    f = fopen(path, "r");
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(X509_check_private_key(ch_pki_cert(p, CH_CERT_GOOD), k), 1);
    EVP_PKEY_free(k);

    /* A symlink planted at the path is refused, and its target is left alone. */
    char target[4200];
    snprintf(path, sizeof path, "%s/ca.pem", d);
    snprintf(target, sizeof target, "%s/elsewhere", d);
    unlink(path);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(ch_pki_write_ca(p, d, path, sizeof path, err), -1);
    ck_assert_msg(strstr(err, "cannot write") && strstr(err, "ca.pem"), "%s", err);
    ck_assert_int_eq(access(target, F_OK), -1);
    unlink(path);

    ck_assert_int_eq(ch_pki_write_ca(p, "/nonexistent-dir-check-tls", path, sizeof path, err), -1);
    ck_assert_str_eq(err, "cannot write /nonexistent-dir-check-tls/ca.pem: No such file or directory");
    remove_tmpdir(d);
    ch_pki_free(p);
}
END_TEST

/* ---- tls.c: the context --------------------------------------------------------------------------------------------- */

START_TEST(context_arguments_are_checked)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    ck_assert_ptr_null(ch_tls_server_ctx(p, CH_CERT_COUNT, CH_TLS_ACCEPT, 0, err));
    ck_assert_str_eq(err, "no such certificate or refusal mode");
    ck_assert_ptr_null(ch_tls_server_ctx(p, CH_CERT_GOOD, CH_TLS_ACCEPT, TLS1_1_VERSION, err));
    ck_assert_str_eq(err, "max_version must be 0, TLS 1.2 or TLS 1.3");
    SSL_CTX *ctx = ch_tls_server_ctx(p, CH_CERT_GOOD, CH_TLS_ACCEPT, 0, err);
    ck_assert_msg(ctx != NULL, "%s", err);
    ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    ck_assert_int_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    ck_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET);
    ck_assert_int_eq(SSL_CTX_get_num_tickets(ctx), 0);
    SSL_CTX_free(ctx);
    ck_assert_str_eq(ch_tls_alert_name(48), "unknown_ca");
    ck_assert_str_eq(ch_tls_alert_name(0), "close_notify");
    ck_assert_ptr_null(ch_tls_alert_name(255));
    ch_pki_free(p);
}
END_TEST

/* ---- handshakes on loopback ------------------------------------------------------------------------------------------ */

struct client {
    const char *host;            /* what the client checks the certificate against (a name or an IP) */
    const char *sni;             /* server_name to send, or NULL */
    const char *alpn;            /* wire-format ALPN list, or NULL for none */
    int max_version;             /* 0: TLS 1.3 */
    const char *request;         /* written after the handshake; NULL: send close_notify at once */
    int use_ca;                  /* trust the run's CA (else: trust nothing) */
};

static const char *end_of(SSL *s, int rc)
{
    switch (SSL_get_error(s, rc)) {
    case SSL_ERROR_ZERO_RETURN: return "close_notify";
    case SSL_ERROR_SYSCALL: return errno == ECONNRESET ? "rst" : "syscall";
    case SSL_ERROR_SSL:
        return ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING ? "eof" : "ssl-error";
    default: return "other";
    }
}

/* An OpenSSL client (blocking): one line "hs=ok version=V alpn=A end=E body=B" or "hs=fail verify=N why=W". */
static void run_client(const struct client *c, int port, const char *ca, int out)
{
    char line[4096], reply[8192];
    size_t got = 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (c->use_ca) SSL_CTX_load_verify_locations(ctx, ca, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (c->max_version) SSL_CTX_set_max_proto_version(ctx, c->max_version);
    if (c->alpn) SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)c->alpn, (unsigned)strlen(c->alpn));
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) _exit(3);
    SSL *s = SSL_new(ctx);
    SSL_set_fd(s, fd);
    if (c->sni) SSL_set_tlsext_host_name(s, c->sni);
    if (strchr(c->host, ':') || (c->host[0] >= '0' && c->host[0] <= '9'))
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), c->host);
    else
        SSL_set1_host(s, c->host);
    int rc = SSL_connect(s);
    if (rc != 1) {
        char why[256];
        const char *e = end_of(s, rc);
        ERR_error_string_n(ERR_peek_error(), why, sizeof why);
        snprintf(line, sizeof line, "hs=fail verify=%ld end=%s why=%s\n", SSL_get_verify_result(s), e, why);
    } else {
        const unsigned char *a = NULL;
        unsigned alen = 0;
        SSL_get0_alpn_selected(s, &a, &alen);
        if (c->request) {
            SSL_write(s, c->request, (int)strlen(c->request));
        } else {
            SSL_shutdown(s);
        }
        for (;;) {
            ERR_clear_error();
            rc = SSL_read(s, reply + got, (int)(sizeof reply - 1 - got));
            if (rc <= 0) break;
            got += (size_t)rc;
        }
        reply[got] = '\0';
        const char *body = strstr(reply, "\r\n\r\n");
        snprintf(line, sizeof line, "hs=ok version=%s alpn=%.*s end=%s status=%.12s body=%s\n", SSL_get_version(s),
                 (int)alen, a ? (const char *)a : "", end_of(s, rc), got > 9 ? reply + 9 : "",
                 body ? body + 4 : "");
        if (strcmp(end_of(s, rc), "close_notify") == 0) SSL_shutdown(s); /* answer it, RFC 8446 §6.1 */
    }
    SSL_free(s);
    close(fd);
    SSL_CTX_free(ctx);
    if (write(out, line, strlen(line)) < 0) _exit(4);
    _exit(0);
}

struct run {
    char *dir;
    struct event_base *base;
    struct ch_tls_proto *p;
    char out[16384];
    size_t n;
};

static void on_child_output(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    ssize_t k = read(fd, r->out + r->n, sizeof r->out - 1 - r->n);
    if (k > 0) {
        r->n += (size_t)k;
        return;
    }
    /* The child is done; let the server see the last of the connection (its FIN, a late close_notify). */
    struct timeval grace = {0, 150000};
    event_base_loopexit(r->base, &grace);
}

static void run_start(struct run *r)
{
    char err[CH_ERR_LEN];
    memset(r, 0, sizeof *r);
    signal(SIGPIPE, SIG_IGN);
    r->dir = make_tmpdir();
    r->base = event_base_new();
    r->p = ch_tls_proto_new(r->base, r->dir, NULL, err);
    ck_assert_msg(r->p != NULL, "%s", err);
}

static void run_stop(struct run *r)
{
    ch_tls_proto_free(r->p);
    event_base_free(r->base);
    remove_tmpdir(r->dir);
}

static void ca_path(const struct run *r, char *out, size_t n) { snprintf(out, n, "%s/ca.pem", r->dir); }

/* Forks; the child runs `fn` (which writes to the pipe and exits); the parent serves until it is done. */
static void serve_until_child_done(struct run *r, void (*fn)(struct run *, int, const void *), const void *arg)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        fn(r, fds[1], arg);
        _exit(5);
    }
    close(fds[1]);
    struct event *ev = event_new(r->base, fds[0], EV_READ | EV_PERSIST, on_child_output, r);
    event_add(ev, NULL);
    struct timeval limit = {20, 0};
    event_base_loopexit(r->base, &limit);
    event_base_dispatch(r->base);
    event_free(ev);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    r->out[r->n] = '\0';
}

struct client_job {
    struct client c;
    enum ch_proto_kind kind;
};

static void client_child(struct run *r, int out, const void *arg)
{
    const struct client_job *j = arg;
    char ca[4200];
    ca_path(r, ca, sizeof ca);
    run_client(&j->c, ch_tls_proto_port(r->p, j->kind), ca, out);
}

/* True if the server recorded an event of `type` whose string fields equal the given name/value pairs
 * (NULL-terminated; a value "null" matches JSON null). */
static int has_event(struct run *r, const char *type, ...)
{
    size_t i;
    json_t *ev;
    json_array_foreach(ch_tls_proto_events(r->p), i, ev) {
        if (strcmp(json_string_value(json_object_get(ev, "type")), type) != 0) continue;
        va_list ap;
        va_start(ap, type);
        int ok = 1;
        const char *k;
        while (ok && (k = va_arg(ap, const char *))) {
            const char *want = va_arg(ap, const char *);
            json_t *v = json_object_get(ev, k);
            ok = strcmp(want, "null") == 0 ? json_is_null(v) : v && json_is_string(v) &&
                                                                    strcmp(json_string_value(v), want) == 0;
        }
        va_end(ap);
        if (ok) return 1;
    }
    return 0;
}

static char *events_text(struct run *r) { return json_dumps(ch_tls_proto_events(r->p), JSON_COMPACT); }

#define ALPN_H11 "\x08http/1.1"
#define GET_CLOSE "GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n"
#define PAGE_TEXT "served over TLS"

/* One row: a listener, a client, what the client must report, and server events that must exist. */
struct row {
    const char *name;
    enum ch_proto_kind kind;
    struct client c;
    const char *client_has[3];    /* substrings of the client's line */
    const char *server_has[2][11]; /* {type, key, value, ..., NULL} */
};

static const struct row ROWS[] = {
    {"tls13, close_notify both ways", CH_PROTO_GOOD, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=ok version=TLSv1.3 alpn=http/1.1 end=close_notify status=200 OK", PAGE_TEXT},
     {{"tls-handshake", "version", "TLSv1.3", "sni", "localhost", "alpn", "http/1.1", "cert", "good", NULL},
      {"tls-alert", "by", "server", "alert", "close_notify", "level", "warning", NULL}}},
    {"tls12 listener", CH_PROTO_TLS12, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=ok version=TLSv1.2 alpn=http/1.1 end=close_notify", PAGE_TEXT},
     {{"tls-handshake", "version", "TLSv1.2", "cipher", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", NULL}}},
    {"127.0.0.1 without SNI or ALPN", CH_PROTO_GOOD, {"127.0.0.1", NULL, NULL, 0, GET_CLOSE, 1},
     {"hs=ok version=TLSv1.3 alpn= end=close_notify", PAGE_TEXT},
     {{"tls-handshake", "sni", "null", "alpn", "null", NULL}}},
    {"body cut without close_notify", CH_PROTO_GOOD,
     {"localhost", "localhost", ALPN_H11, 0, "GET /cut-bare HTTP/1.1\r\nHost: x\r\n\r\n", 1},
     {"end=eof", "body=0123456789\n"},
     {{"conn-close", "by", "server", "how", "fin", NULL}}},
    {"body cut with close_notify", CH_PROTO_GOOD,
     {"localhost", "localhost", ALPN_H11, 0, "GET /cut-notify HTTP/1.1\r\nHost: x\r\n\r\n", 1},
     {"end=close_notify", "body=0123456789\n"},
     {{"tls-alert", "by", "server", "alert", "close_notify", NULL}}},
    {"body cut by RST", CH_PROTO_GOOD,
     {"localhost", "localhost", ALPN_H11, 0, "GET /cut-rst HTTP/1.1\r\nHost: x\r\n\r\n", 1},
     {"end=rst", "body=0123456789\n"},
     {{"conn-close", "by", "server", "how", "rst", NULL}}},
    {"client sends close_notify first", CH_PROTO_GOOD, {"localhost", "localhost", ALPN_H11, 0, NULL, 1},
     {"hs=ok", "end=close_notify"},
     {{"tls-alert", "by", "client", "alert", "close_notify", NULL},
      {"tls-alert", "by", "server", "alert", "close_notify", NULL}}},
    {"two requests on one connection", CH_PROTO_GOOD,
     {"localhost", "localhost", ALPN_H11, 0,
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1},
     {"end=close_notify", PAGE_TEXT "</p>\nHTTP/1.1 200 OK"},
     {{"request", "target", "/a", NULL}, {"request", "target", "/b", NULL}}},
    {"expired certificate", CH_PROTO_EXPIRED, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail verify=10 "},
     {{"tls-alert", "by", "client", "level", "fatal", "alert", "certificate_expired", NULL},
      {"tls-failed", "cert", "expired", NULL}}},
    {"certificate for another name", CH_PROTO_WRONG_NAME, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail verify=62 "},
     {{"tls-alert", "by", "client", "level", "fatal", NULL}, {"tls-failed", "cert", "wrong-name", NULL}}},
    {"self-signed certificate", CH_PROTO_SELF_SIGNED, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail verify=18 "},
     {{"tls-alert", "by", "client", "level", "fatal", "alert", "unknown_ca", NULL}}},
    {"a client that trusts nothing", CH_PROTO_GOOD, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 0},
     {"hs=fail verify=20 "},
     {{"tls-alert", "by", "client", "alert", "unknown_ca", NULL}}},
    {"handshake refused with an alert", CH_PROTO_REFUSE_ALERT, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail", "alert handshake failure"},
     {{"tls-alert", "by", "server", "level", "fatal", "alert", "handshake_failure", NULL},
      {"conn-close", "by", "server", "how", "fin", NULL}}},
    {"handshake refused with FIN", CH_PROTO_REFUSE_FIN, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail verify=0 end=eof"},
     {{"tls-failed", "why", "refused: fin", NULL}, {"conn-close", "by", "server", "how", "fin", NULL}}},
    {"handshake refused with RST", CH_PROTO_REFUSE_RST, {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1},
     {"hs=fail verify=0 end=rst"},
     {{"tls-failed", "why", "refused: rst", NULL}, {"conn-close", "by", "server", "how", "rst", NULL}}},
    {"ALPN without http/1.1", CH_PROTO_GOOD, {"localhost", "localhost", "\x02h2", 0, GET_CLOSE, 1},
     {"hs=fail", "no application protocol"},
     {{"tls-alert", "by", "server", "level", "fatal", "alert", "no_application_protocol", NULL}}},
};

START_TEST(handshake_rows)
{
    const struct row *w = &ROWS[_i];
    struct run r;
    run_start(&r);
    struct client_job job = {w->c, w->kind};
    serve_until_child_done(&r, client_child, &job);
    for (int i = 0; i < 3 && w->client_has[i]; i++)
        ck_assert_msg(strstr(r.out, w->client_has[i]), "%s: client said [%s], wanted [%s]", w->name, r.out,
                      w->client_has[i]);
    for (int i = 0; i < 2 && w->server_has[i][0]; i++) {
        const char *const *e = w->server_has[i];
        int ok = has_event(&r, e[0], e[1], e[2], e[3], e[4], e[5], e[6], e[7], e[8], e[9], e[10]);
        char *all = ok ? NULL : events_text(&r);
        ck_assert_msg(ok, "%s: no %s event with %s=%s ... in %s", w->name, e[0], e[1], e[2], all);
        free(all);
    }
    run_stop(&r);
}
END_TEST

/* Bytes that are not TLS (a plain HTTP request) fail that connection only; the next handshake succeeds. */
static void garbage_then_client(struct run *r, int out, const void *arg)
{
    char ca[4200], buf[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ch_tls_proto_port(r->p, CH_PROTO_GOOD)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) _exit(3);
    const char plain[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (write(fd, plain, sizeof plain - 1) < 0) _exit(3);
    ssize_t n = read(fd, buf, sizeof buf); /* whatever the server answers, then its close */
    while (n > 0) n = read(fd, buf, sizeof buf);
    close(fd);
    struct client c = {"localhost", "localhost", ALPN_H11, 0, GET_CLOSE, 1};
    ca_path(r, ca, sizeof ca);
    run_client(&c, ch_tls_proto_port(r->p, CH_PROTO_GOOD), ca, out);
}

START_TEST(plain_http_on_a_tls_port)
{
    struct run r;
    run_start(&r);
    serve_until_child_done(&r, garbage_then_client, NULL);
    ck_assert_msg(strstr(r.out, "hs=ok version=TLSv1.3"), "%s", r.out);
    ck_assert(has_event(&r, "tls-failed", "why", "error:0A00009C:SSL routines::http request", NULL));
    ck_assert(has_event(&r, "tls-handshake", "version", "TLSv1.3", NULL));
    run_stop(&r);
}
END_TEST

/* ---- the real tools: curl --cacert, openssl s_client ------------------------------------------------------------------ */

struct tool {
    const char *argv[16]; /* "{CA}" and "{P:kind}" are replaced; the last element NULL */
    const char *stdin_text;
};

/* Replaces every "{CA}" and "{P:kind}" in `in`. */
static void fill(const struct run *r, const char *in, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
    while (*in && k + 1 < n) {
        int w = 0;
        if (strncmp(in, "{CA}", 4) == 0) {
            w = snprintf(out + k, n - k, "%s/ca.pem", r->dir);
            in += 4;
        } else if (strncmp(in, "{P:", 3) == 0 && strchr(in, '}')) {
            size_t len = (size_t)(strchr(in, '}') - in - 3);
            int kind = 0;
            while (kind < CH_PROTO_KINDS && (strlen(ch_proto_kind_name((enum ch_proto_kind)kind)) != len ||
                                             strncmp(in + 3, ch_proto_kind_name((enum ch_proto_kind)kind), len)))
                kind++;
            w = snprintf(out + k, n - k, "%d", ch_tls_proto_port(r->p, (enum ch_proto_kind)kind));
            in += len + 4;
        } else {
            out[k] = *in++;
            out[k + 1] = '\0';
            w = 1;
        }
        k = w > 0 && k + (size_t)w < n ? k + (size_t)w : n - 1;
    }
}

static void tool_child(struct run *r, int out, const void *arg)
{
    const struct tool *t = arg;
    char args[16][600];
    char *argv[16] = {0};
    for (int i = 0; i < 15 && t->argv[i]; i++) {
        fill(r, t->argv[i], args[i], sizeof args[i]);
        argv[i] = args[i];
    }
    int in[2];
    if (pipe(in) < 0) _exit(3);
    if (t->stdin_text && write(in[1], t->stdin_text, strlen(t->stdin_text)) < 0) _exit(3);
    close(in[1]);
    dup2(in[0], 0);
    dup2(out, 1);
    dup2(out, 2);
    execvp(argv[0], argv);
    dprintf(out, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static const struct {
    const char *name;
    struct tool t;
    const char *want[3];
} TOOLS[] = {
    {"curl --cacert, localhost",
     {{"curl", "-sS", "--cacert", "{CA}", "-w", " rc=%{http_code} v=%{ssl_verify_result}", "https://localhost:{P:good}/", NULL}, NULL},
     {PAGE_TEXT, " rc=200 v=0"}},
    {"curl --cacert, 127.0.0.1",
     {{"curl", "-sS", "--cacert", "{CA}", "-w", " rc=%{http_code}", "https://127.0.0.1:{P:good}/", NULL}, NULL},
     {PAGE_TEXT, " rc=200"}},
    {"curl without the CA refuses it (nothing system-wide trusts it)",
     {{"sh", "-c", "curl -sS https://localhost:{P:good}/; echo \" exit=$?\"", NULL}, NULL},
     {"exit=60"}},
    {"curl --cacert, expired",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:expired}/; echo \" exit=$?\"", NULL}, NULL},
     {"certificate has expired", "exit=60"}},
    {"curl --cacert, another name",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:wrong-name}/; echo \" exit=$?\"", NULL}, NULL},
     {"no alternative certificate subject name matches", "exit=60"}},
    {"curl --cacert, cut without close_notify",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:good}/cut-bare; echo \" exit=$?\"", NULL}, NULL},
     {"0123456789", "exit=18"}},
    {"openssl s_client",
     {{"openssl", "s_client", "-brief", "-connect", "127.0.0.1:{P:good}", "-servername", "localhost",
       "-verify_hostname", "localhost", "-CAfile", "{CA}", "-verify_return_error", "-alpn", "http/1.1", "-ign_eof",
       NULL},
      "GET /close HTTP/1.1\r\nHost: localhost\r\n\r\n"},
     {"Verification: OK", "Protocol version: TLSv1.3", PAGE_TEXT}},
};

START_TEST(tool_rows)
{
    struct run r;
    run_start(&r);
    serve_until_child_done(&r, tool_child, &TOOLS[_i].t);
    for (int i = 0; i < 3 && TOOLS[_i].want[i]; i++)
        ck_assert_msg(strstr(r.out, TOOLS[_i].want[i]), "%s: output [%s] lacks [%s]", TOOLS[_i].name, r.out,
                      TOOLS[_i].want[i]);
    run_stop(&r);
}
END_TEST

/* The prototype writes ca.pem into its folder and nothing else; its ready line names it and every port. */
START_TEST(proto_folder_and_ready_line)
{
    struct run r;
    char names[512], ca[4200];
    run_start(&r);
    list_dir(r.dir, names, sizeof names);
    ck_assert_str_eq(names, "ca.pem");
    json_t *ready = ch_tls_proto_ready(r.p);
    ca_path(&r, ca, sizeof ca);
    ck_assert_str_eq(json_string_value(json_object_get(ready, "ca")), ca);
    ck_assert_int_eq(json_object_size(json_object_get(ready, "ports")), CH_PROTO_KINDS);
    ck_assert_int_eq(json_object_size(json_object_get(ready, "spki_sha256")), CH_CERT_COUNT);
    json_decref(ready);
    run_stop(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tls");
    TCase *pki = tcase_create("pki");
    tcase_add_test(pki, ca_is_a_constrained_short_lived_ca);
    tcase_add_test(pki, leaves_verify_as_designed);
    tcase_add_test(pki, files_only_in_the_given_folder);
    suite_add_tcase(s, pki);
    TCase *tls = tcase_create("tls");
    tcase_set_timeout(tls, 30);
    tcase_add_test(tls, context_arguments_are_checked);
    tcase_add_loop_test(tls, handshake_rows, 0, (int)(sizeof ROWS / sizeof ROWS[0]));
    tcase_add_test(tls, plain_http_on_a_tls_port);
    tcase_add_test(tls, proto_folder_and_ready_line);
    suite_add_tcase(s, tls);
    TCase *tools = tcase_create("tools");
    tcase_set_timeout(tools, 30);
    tcase_add_loop_test(tools, tool_rows, 0, (int)(sizeof TOOLS / sizeof TOOLS[0]));
    suite_add_tcase(s, tools);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
