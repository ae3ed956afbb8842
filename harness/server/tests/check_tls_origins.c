/* check_tls_origins.c — the runner's TLS origins end to end (harness/tls/README.md §2, net.h "TLS"): a real
 * server (ch_server_new with a run folder) serving one case whose routes script the TLS endings (close, close
 * bare, notify, reset), its origin SA and the fault listeners of a token, against clients in a forked child: an
 * OpenSSL client written here (exact versions, alerts and how each stream ended), curl and openssl s_client
 * (the real tools, exec'd). The child reports one line on a pipe; the test checks that line and what the
 * server recorded (the token's transcript, or its strays). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "case/case.h"
#include "server/server_int.h"
#include "core/core.h"
#include "testing/testing.h"

/* The routes every row asks for (/c/TOKEN/PATH), and a client program naming every fault listener, so that a
 * token of this case has them all. */
static const char CASE[] =
    "case tls/rig\n"
    "title the TLS rig of check_tls_origins\n"
    "spec https://www.rfc-editor.org/rfc/rfc8446#section-6.1\n"
    "server GET /page\n"
    "  status 200 OK\n"
    "  header Content-Length: {body-length}\n"
    "  body \"<p id=ok>served over TLS</p>\\n\"\n"
    "server GET /close\n"
    "  status 200 OK\n"
    "  header Content-Length: {body-length}\n"
    "  header Connection: close\n"
    "  body \"served over TLS\"\n"
    "  close\n"
    "server GET /cut-bare\n"
    "  status 200 OK\n"
    "  header Content-Length: 100\n"
    "  body \"0123456789\"\n"
    "  close bare\n"
    "server GET /cut-notify\n"
    "  status 200 OK\n"
    "  header Content-Length: 100\n"
    "  body \"0123456789\"\n"
    "  close\n"
    "server GET /cut-rst\n"
    "  status 200 OK\n"
    "  header Content-Length: 100\n"
    "  body \"0123456789\"\n"
    "  reset\n"
    "server GET /notify-hold\n"
    "  status 200 OK\n"
    "  header Content-Length: 100\n"
    "  body \"0123456789\"\n"
    "  notify\n"
    "  wait 300ms\n"
    "  close\n"
    "client http\n"
    "  request GET {SA}/page\n"
    "  request GET {SF-expired}/page\n"
    "  request GET {SF-wrong-name}/page\n"
    "  request GET {SF-self-signed}/page\n"
    "  request GET {SF-refuse-alert}/page\n"
    "  request GET {SF-refuse-fin}/page\n"
    "  request GET {SF-refuse-rst}/page\n"
    "  request GET {SF-tls12}/page\n"
    "expect server\n"
    "  requests GET /page\n";

/* ---- the client (runs in the child) ------------------------------------------------------------------------- */

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

/* ---- the server (this process) -------------------------------------------------------------------------------- */

struct run {
    char dir[64];
    struct ch_serve_opts opts;
    struct ch_server *srv;
    struct ch_token *t;
    char out[16384];
    size_t n;
};

/* A server on loopback, or (listen set) on that one address under the names a.test and c.test. */
static void run_start_on(struct run *r, const char *listen)
{
    char err[CH_ERR_LEN];
    memset(r, 0, sizeof *r);
    signal(SIGPIPE, SIG_IGN);
    snprintf(r->dir, sizeof r->dir, "/tmp/check_tls_origins.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    json_t *cases = json_array(), *errs = json_array();
    int bad = ch_script_parse_text("rig.case", CASE, strlen(CASE), "fixtures", cases, errs);
    char *e = json_dumps(errs, 0);
    ck_assert_msg(bad == 0, "%s", e);
    free(e);
    json_decref(errs);
    r->opts = (struct ch_serve_opts){.fixtures_dir = "fixtures", .run_dir = r->dir, .time_scale = 1.0,
                                     .idle_timeout_ms = 5000, .listen = listen};
    if (listen) r->opts.host_a = "a.test", r->opts.host_c = "c.test";
    ck_assert_msg(ch_server_new(&r->opts, cases, &r->srv, err) == 0, "%s", err);
    r->t = ch_token_new(r->srv, &r->srv->cases[0], NULL);
    ck_assert_msg(!r->t->error[0], "%s", r->t->error);
}

static void run_start(struct run *r)
{
    run_start_on(r, NULL);
}

static void run_stop(struct run *r)
{
    char ca[128];
    ch_server_free(r->srv);
    snprintf(ca, sizeof ca, "%s/ca.pem", r->dir);
    unlink(ca);
    ck_assert_int_eq(rmdir(r->dir), 0); /* ca.pem was the only file */
}

static void on_child_output(evutil_socket_t fd, short what, void *arg)
{
    struct run *r = arg;
    ssize_t k = read(fd, r->out + r->n, sizeof r->out - 1 - r->n);
    if (k > 0) {
        r->n += (size_t)k;
        return;
    }
    /* The child is done; let the server see the last of the connection (its FIN, a late close_notify). */
    struct timeval grace = {0, 400000};
    event_base_loopexit(r->srv->base, &grace);
}

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
    struct event *ev = event_new(r->srv->base, fds[0], EV_READ | EV_PERSIST, on_child_output, r);
    event_add(ev, NULL);
    struct timeval limit = {20, 0};
    event_base_loopexit(r->srv->base, &limit);
    event_base_dispatch(r->srv->base);
    event_free(ev);
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    r->out[r->n] = '\0';
}

/* Where a row connects: an origin (its port) or a fault listener of the token. */
static int port_of(const struct run *r, const char *where)
{
    int o = ch_origin_by_name(where, strlen(where));
    if (o >= 0) return r->srv->port[o];
    int f = ch_fault_by_name(where + 3, strlen(where + 3));
    ck_assert_msg(f >= 0 && r->t->faults[f], "no listener %s", where);
    return r->t->faults[f]->port;
}

/* A request template with {T} for the token and {H} for the Host that names `where` (the run's origins and a
 * token's open fault listeners are the only Hosts the server answers: README, "Security"). */
static void fill_token(const struct run *r, const char *where, const char *in, char *out, size_t n)
{
    size_t k = 0;
    for (; *in && k + 1 < n; in++) {
        if (strncmp(in, "{T}", 3) == 0) {
            k += (size_t)snprintf(out + k, n - k, "%s", r->t->id);
            in += 2;
        } else if (strncmp(in, "{H}", 3) == 0) {
            int o = ch_origin_by_name(where, strlen(where));
            const char *host = o == CH_ORIGIN_C || o == CH_ORIGIN_SC ? "127.0.0.1" : "localhost";
            k += (size_t)snprintf(out + k, n - k, "%s:%d", host, port_of(r, where));
            in += 2;
        } else {
            out[k++] = *in;
        }
    }
    out[k < n ? k : n - 1] = '\0';
}

struct client_job {
    struct client c;
    const char *where;
};

static void client_child(struct run *r, int out, const void *arg)
{
    const struct client_job *j = arg;
    char ca[128], req[1024];
    struct client c = j->c;
    snprintf(ca, sizeof ca, "%s/ca.pem", r->dir);
    if (c.request) {
        fill_token(r, j->where, c.request, req, sizeof req);
        c.request = req;
    }
    run_client(&c, port_of(r, j->where), ca, out);
}

/* True if the token's transcript holds an event of `type` whose string fields equal the given name/value pairs
 * (NULL-terminated; a value "null" matches JSON null). */
static int has_event(struct run *r, const char *type, ...)
{
    size_t i;
    json_t *ev, *tr = ch_transcript_json(r->t->tr);
    int found = 0;
    json_array_foreach(json_object_get(tr, "events"), i, ev) {
        if (found || strcmp(json_string_value(json_object_get(ev, "type")), type) != 0) continue;
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
        found = ok;
    }
    json_decref(tr);
    return found;
}

static char *events_text(struct run *r)
{
    json_t *tr = ch_transcript_json(r->t->tr);
    char *s = json_dumps(json_object_get(tr, "events"), JSON_COMPACT);
    json_decref(tr);
    return s;
}

/* Whether a stray says why a handshake failed ("tls: ..." holding `phrase`). */
static int stray_says(struct run *r, const char *phrase)
{
    size_t i;
    json_t *s;
    json_array_foreach(r->srv->stray, i, s) {
        const char *why = json_string_value(json_object_get(s, "why"));
        if (why && strncmp(why, "tls: ", 5) == 0 && strstr(why, phrase)) return 1;
    }
    return 0;
}

#define ALPN_H11 "\x08http/1.1"
#define GET(path) "GET /c/{T}" path " HTTP/1.1\r\nHost: {H}\r\n\r\n"
#define PAGE_TEXT "served over TLS"

/* One row: where to connect, a client, what the client must report, and events the token's transcript must
 * hold (or, with `stray`, a phrase of the stray that records a handshake no token claimed). */
struct row {
    const char *name, *where;
    struct client c;
    const char *client_has[3];     /* substrings of the client's line */
    const char *server_has[2][11]; /* {type, key, value, ..., NULL} */
    const char *stray;
};

static const struct row ROWS[] = {
    {"tls13, close_notify both ways", "SA", {"localhost", "localhost", ALPN_H11, 0, GET("/close"), 1},
     {"hs=ok version=TLSv1.3 alpn=http/1.1 end=close_notify status=200 OK", PAGE_TEXT},
     {{"tls-handshake", "version", "TLSv1.3", "sni", "localhost", "alpn", "http/1.1", "cert", "good", NULL},
      {"tls-alert", "by", "server", "alert", "close_notify", "level", "warning", NULL}}, NULL},
    {"127.0.0.1 without SNI or ALPN (origin SC)", "SC", {"127.0.0.1", NULL, NULL, 0, GET("/close"), 1},
     {"hs=ok version=TLSv1.3 alpn= end=close_notify", PAGE_TEXT},
     {{"tls-handshake", "sni", "null", "alpn", "null", NULL}, {"conn-open", "origin", "SC", NULL}}, NULL},
    {"an SNI that is not UTF-8: the handshake event kept, its bytes escaped", "SA",
     {"localhost", "a\xff" "b", ALPN_H11, 0, GET("/close"), 1},
     {"hs=ok version=TLSv1.3 alpn=http/1.1 end=close_notify", PAGE_TEXT},
     {{"tls-handshake", "sni", "a\\xffb", "cert", "good", NULL}}, NULL},
    {"a TLS 1.2 listener", "SF-tls12", {"localhost", "localhost", ALPN_H11, 0, GET("/close"), 1},
     {"hs=ok version=TLSv1.2 alpn=http/1.1 end=close_notify", PAGE_TEXT},
     {{"tls-handshake", "version", "TLSv1.2", "cipher", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", NULL},
      {"conn-open", "origin", "SF-tls12", NULL}}, NULL},
    {"close bare: the body cut without close_notify", "SA", {"localhost", "localhost", ALPN_H11, 0, GET("/cut-bare"), 1},
     {"end=eof", "body=0123456789\n"},
     {{"conn-close", "by", "server", "how", "fin", NULL}}, NULL},
    {"close: the body cut with close_notify", "SA", {"localhost", "localhost", ALPN_H11, 0, GET("/cut-notify"), 1},
     {"end=close_notify", "body=0123456789\n"},
     {{"tls-alert", "by", "server", "alert", "close_notify", NULL}, {"conn-close", "by", "server", "how", "fin", NULL}},
     NULL},
    {"reset: the body cut by RST", "SA", {"localhost", "localhost", ALPN_H11, 0, GET("/cut-rst"), 1},
     {"end=rst", "body=0123456789\n"},
     {{"conn-close", "by", "server", "how", "rst", NULL}}, NULL},
    {"notify: close_notify mid-body, TCP open", "SA", {"localhost", "localhost", ALPN_H11, 0, GET("/notify-hold"), 1},
     {"end=close_notify", "body=0123456789\n"},
     {{"tls-alert", "by", "server", "alert", "close_notify", NULL},
      {"conn-close", "by", "client", "how", "close_notify", NULL}}, NULL}, /* it answered ours before the wait ended */
    {"the client sends close_notify first", "SF-tls12", {"localhost", "localhost", ALPN_H11, 0, NULL, 1},
     {"hs=ok", "end=close_notify"},
     {{"tls-alert", "by", "client", "alert", "close_notify", NULL},
      {"conn-close", "by", "client", "how", "close_notify", NULL}}, NULL},
    {"two requests on one connection", "SA",
     {"localhost", "localhost", ALPN_H11, 0, "GET /c/{T}/page HTTP/1.1\r\nHost: {H}\r\n\r\n" GET("/close"), 1},
     {"end=close_notify", PAGE_TEXT "</p>\nHTTP/1.1 200 OK"},
     {{"request", "path", "/page", NULL}, {"request", "path", "/close", NULL}}, NULL},
    {"expired certificate", "SF-expired", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail verify=10 "},
     {{"tls-alert", "by", "client", "level", "fatal", "alert", "certificate_expired", NULL},
      {"tls-failed", "cert", "expired", NULL}}, NULL},
    {"certificate for another name", "SF-wrong-name", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail verify=62 "},
     {{"tls-alert", "by", "client", "level", "fatal", NULL}, {"conn-close", "by", "client", "how", "alert", NULL}},
     NULL},
    {"self-signed certificate", "SF-self-signed", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail verify=18 "},
     {{"tls-alert", "by", "client", "level", "fatal", "alert", "unknown_ca", NULL}}, NULL},
    {"a client that trusts nothing (a stray: no token claimed it)", "SA",
     {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 0}, {"hs=fail verify=20 "}, {{NULL}},
     "unknown ca"},
    {"handshake refused with an alert", "SF-refuse-alert", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail", "alert handshake failure"},
     {{"tls-alert", "by", "server", "level", "fatal", "alert", "handshake_failure", NULL},
      {"conn-close", "by", "server", "how", "alert", NULL}}, NULL},
    {"handshake refused with FIN", "SF-refuse-fin", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail verify=0 end=eof"},
     {{"tls-failed", "why", "refused: fin", NULL}, {"conn-close", "by", "server", "how", "fin", NULL}}, NULL},
    {"handshake refused with RST", "SF-refuse-rst", {"localhost", "localhost", ALPN_H11, 0, GET("/page"), 1},
     {"hs=fail verify=0 end=rst"},
     {{"tls-failed", "why", "refused: rst", NULL}, {"conn-close", "by", "server", "how", "rst", NULL}}, NULL},
    {"ALPN without http/1.1", "SF-tls12", {"localhost", "localhost", "\x02h2", 0, GET("/page"), 1},
     {"hs=fail", "no application protocol"},
     {{"tls-alert", "by", "server", "level", "fatal", "alert", "no_application_protocol", NULL}}, NULL},
};

START_TEST(handshake_rows)
{
    const struct row *w = &ROWS[_i];
    struct run r;
    run_start(&r);
    struct client_job job = {w->c, w->where};
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
    if (w->stray) {
        char *s = json_dumps(r.srv->stray, 0);
        ck_assert_msg(stray_says(&r, w->stray), "%s: no stray 'tls: ...%s...' in %s", w->name, w->stray, s);
        free(s);
    }
    run_stop(&r);
}
END_TEST

/* Bytes that are not TLS (a plain HTTP request) fail that connection only; the next handshake succeeds. */
static void garbage_then_client(struct run *r, int out, const void *arg)
{
    char buf[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)r->srv->port[CH_ORIGIN_SA]),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) _exit(3);
    char plain[64];
    snprintf(plain, sizeof plain, "GET / HTTP/1.1\r\nHost: localhost:%d\r\n\r\n", r->srv->port[CH_ORIGIN_SA]);
    if (write(fd, plain, strlen(plain)) < 0) _exit(3);
    ssize_t n = read(fd, buf, sizeof buf); /* whatever the server answers, then its close */
    while (n > 0) n = read(fd, buf, sizeof buf);
    close(fd);
    struct client_job job = {{"localhost", "localhost", ALPN_H11, 0, GET("/close"), 1}, "SA"};
    client_child(r, out, &job);
}

START_TEST(plain_http_on_a_tls_port)
{
    struct run r;
    run_start(&r);
    serve_until_child_done(&r, garbage_then_client, NULL);
    ck_assert_msg(strstr(r.out, "hs=ok version=TLSv1.3"), "%s", r.out);
    ck_assert(stray_says(&r, "http request"));
    ck_assert(has_event(&r, "tls-handshake", "version", "TLSv1.3", NULL));
    run_stop(&r);
}
END_TEST

/* ---- the real tools: curl --cacert, openssl s_client ------------------------------------------------------------ */

struct tool {
    const char *argv[16]; /* "{CA}", "{T}" and "{P:WHERE}" are replaced; the last element NULL */
    const char *stdin_text;
};

/* Replaces every "{CA}", "{T}" and "{P:WHERE}" in `in`. */
static void fill(const struct run *r, const char *in, char *out, size_t n)
{
    size_t k = 0;
    while (*in && k + 1 < n) {
        int w;
        if (strncmp(in, "{CA}", 4) == 0) {
            w = snprintf(out + k, n - k, "%s/ca.pem", r->dir);
            in += 4;
        } else if (strncmp(in, "{T}", 3) == 0) {
            w = snprintf(out + k, n - k, "%s", r->t->id);
            in += 3;
        } else if (strncmp(in, "{P:", 3) == 0 && strchr(in, '}')) {
            char where[32];
            size_t len = (size_t)(strchr(in, '}') - in - 3);
            snprintf(where, sizeof where, "%.*s", (int)len, in + 3);
            w = snprintf(out + k, n - k, "%d", port_of(r, where));
            in += len + 4;
        } else {
            out[k] = *in++;
            w = 1;
        }
        k = w > 0 && k + (size_t)w < n ? k + (size_t)w : n - 1;
    }
    out[k] = '\0';
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
    if (t->stdin_text) {
        char text[1024];
        fill(r, t->stdin_text, text, sizeof text);
        if (write(in[1], text, strlen(text)) < 0) _exit(3);
    }
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
    {"curl --cacert, https://localhost (SA)",
     {{"curl", "-sS", "--cacert", "{CA}", "-w", " rc=%{http_code} v=%{ssl_verify_result}",
       "https://localhost:{P:SA}/c/{T}/page", NULL}, NULL},
     {PAGE_TEXT, " rc=200 v=0"}},
    {"curl --cacert, https://127.0.0.1 (SC)",
     {{"curl", "-sS", "--cacert", "{CA}", "-w", " rc=%{http_code}", "https://127.0.0.1:{P:SC}/c/{T}/page", NULL}, NULL},
     {PAGE_TEXT, " rc=200"}},
    {"curl without the CA refuses it (nothing system-wide trusts it)",
     {{"sh", "-c", "curl -sS https://localhost:{P:SA}/c/{T}/page; echo \" exit=$?\"", NULL}, NULL},
     {"exit=60"}},
    {"curl --cacert, expired",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:SF-expired}/c/{T}/page; echo \" exit=$?\"", NULL}, NULL},
     {"certificate has expired", "exit=60"}},
    {"curl --cacert, another name",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:SF-wrong-name}/c/{T}/page; echo \" exit=$?\"", NULL},
      NULL},
     {"no alternative certificate subject name matches", "exit=60"}},
    {"curl --cacert, cut without close_notify",
     {{"sh", "-c", "curl -sS --cacert {CA} https://localhost:{P:SA}/c/{T}/cut-bare; echo \" exit=$?\"", NULL}, NULL},
     {"0123456789", "exit=18"}},
    {"openssl s_client",
     {{"openssl", "s_client", "-brief", "-connect", "127.0.0.1:{P:SA}", "-servername", "localhost",
       "-verify_hostname", "localhost", "-CAfile", "{CA}", "-verify_return_error", "-alpn", "http/1.1", "-ign_eof",
       NULL},
      "GET /c/{T}/close HTTP/1.1\r\nHost: localhost:{P:SA}\r\n\r\n"},
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

/* The run folder gets ca.pem and nothing else (run_stop removes it and checks the folder is then empty); the
 * origins and the token's fault placeholders are served as the ready line and FORMAT.md §1.8 say; a fault
 * listener is closed with the token's verdict. */
START_TEST(origins_and_placeholders)
{
    struct run r;
    run_start(&r);
    json_t *o = ch_origins_json(r.srv, 0);
    ck_assert_int_eq(json_object_size(o), CH_ORIGINS);
    char want[96];
    snprintf(want, sizeof want, "https://localhost:%d", r.srv->port[CH_ORIGIN_SA]);
    ck_assert_str_eq(json_string_value(json_object_get(o, "SA")), want);
    snprintf(want, sizeof want, "https://127.0.0.1:%d", r.srv->port[CH_ORIGIN_SC]);
    ck_assert_str_eq(json_string_value(json_object_get(o, "SC")), want);
    snprintf(want, sizeof want, "http://insecure.test:%d", r.srv->port[CH_ORIGIN_D]);
    ck_assert_str_eq(json_string_value(json_object_get(o, "D")), want);
    json_decref(o);
    snprintf(want, sizeof want, "https://localhost:%d/c/%s", r.t->faults[CH_FAULT_EXPIRED]->port, r.t->id);
    ck_assert_str_eq(json_string_value(json_object_get(r.t->vars, "SF-expired")), want);
    snprintf(want, sizeof want, "localhost:%d", r.t->faults[CH_FAULT_REFUSE_RST]->port);
    ck_assert_str_eq(json_string_value(json_object_get(r.t->vars, "host-SF-refuse-rst")), want);
    ck_assert_ptr_nonnull(json_object_get(r.t->vars, "host-SB"));
    /* Every origin served is one of the run's (the Host check, README "Security"); a fault listener only while
     * it is open; another name for the same port is not. */
    char host[64];
    snprintf(host, sizeof host, "LOCALHOST:%d", r.srv->port[CH_ORIGIN_SA]);
    ck_assert_ptr_nonnull(ch_origin_by_host(r.srv, host));
    snprintf(host, sizeof host, "127.0.0.1:%d", r.srv->port[CH_ORIGIN_SA]);
    ck_assert_ptr_null(ch_origin_by_host(r.srv, host));
    snprintf(host, sizeof host, "insecure.test:%d", r.srv->port[CH_ORIGIN_D]);
    ck_assert_ptr_nonnull(ch_origin_by_host(r.srv, host));
    snprintf(want, sizeof want, "https://127.0.0.1:%d", r.srv->port[CH_ORIGIN_SC]);
    ck_assert_str_eq(ch_origin_by_url(r.srv, want)->name, "SC");
    snprintf(want, sizeof want, "http://127.0.0.1:%d", r.srv->port[CH_ORIGIN_SC]);
    ck_assert_ptr_null(ch_origin_by_url(r.srv, want)); /* the scheme is part of the origin */
    snprintf(host, sizeof host, "localhost:%d", r.t->faults[CH_FAULT_EXPIRED]->port);
    ck_assert_str_eq(ch_origin_by_host(r.srv, host)->name, "SF-expired");
    ch_runs_verdict(r.srv, r.t, json_pack("{s:s}", "status", "PASS"));
    for (int f = 0; f < CH_FAULTS; f++) ck_assert_ptr_null(r.t->faults[f]);
    ck_assert_ptr_null(ch_origin_by_host(r.srv, host));
    run_stop(&r);
}
END_TEST

/* Under --listen (README, "Remote browsers"): every origin listens on that address only and is named by its
 * site's name (A, B, SA, SB and the fault listeners a.test; C, SC c.test; D its own); the Host check knows
 * those names and no other name for the same port, the address included. 127.0.0.2: a loopback address that
 * is not the default one. */
START_TEST(remote_names)
{
    struct run r;
    run_start_on(&r, "127.0.0.2");
    static const struct {
        enum ch_origin o;
        const char *url;
    } WANT[] = {{CH_ORIGIN_A, "http://a.test"},   {CH_ORIGIN_B, "http://a.test"},   {CH_ORIGIN_C, "http://c.test"},
                {CH_ORIGIN_SA, "https://a.test"}, {CH_ORIGIN_SB, "https://a.test"}, {CH_ORIGIN_SC, "https://c.test"},
                {CH_ORIGIN_D, "http://insecure.test"}};
    json_t *o = ch_origins_json(r.srv, 0);
    char want[96], host[64];
    for (size_t i = 0; i < sizeof WANT / sizeof WANT[0]; i++) {
        const struct ch_listener *ls = &r.srv->listeners[WANT[i].o];
        snprintf(want, sizeof want, "%s:%d", WANT[i].url, r.srv->port[WANT[i].o]);
        ck_assert_str_eq(json_string_value(json_object_get(o, ch_origin_name(WANT[i].o))), want);
        struct sockaddr_in in;
        socklen_t len = sizeof in;
        ck_assert_int_eq(getsockname(evconnlistener_get_fd(ls->v4), (struct sockaddr *)&in, &len), 0);
        ck_assert_uint_eq(ntohl(in.sin_addr.s_addr), 0x7f000002u);
        ck_assert_ptr_null(ls->v6);
    }
    json_decref(o);
    snprintf(want, sizeof want, "https://a.test:%d/c/%s", r.t->faults[CH_FAULT_EXPIRED]->port, r.t->id);
    ck_assert_str_eq(json_string_value(json_object_get(r.t->vars, "SF-expired")), want);
    snprintf(host, sizeof host, "A.TEST:%d", r.srv->port[CH_ORIGIN_B]);
    ck_assert_str_eq(ch_origin_by_host(r.srv, host)->name, "B");
    snprintf(host, sizeof host, "c.test:%d", r.srv->port[CH_ORIGIN_C]);
    ck_assert_str_eq(ch_origin_by_host(r.srv, host)->name, "C");
    snprintf(host, sizeof host, "localhost:%d", r.srv->port[CH_ORIGIN_A]);
    ck_assert_ptr_null(ch_origin_by_host(r.srv, host));
    snprintf(host, sizeof host, "127.0.0.2:%d", r.srv->port[CH_ORIGIN_A]);
    ck_assert_ptr_null(ch_origin_by_host(r.srv, host));
    snprintf(host, sizeof host, "a.test:%d", r.srv->port[CH_ORIGIN_C]);
    ck_assert_ptr_null(ch_origin_by_host(r.srv, host));
    run_stop(&r);
}
END_TEST

int main(void)
{
    return ch_check_main("tls_origins", 30, CH_LOOPS(CH_LOOP(handshake_rows, ROWS), CH_LOOP(tool_rows, TOOLS)),
                         CH_TESTS(plain_http_on_a_tls_port, origins_and_placeholders, remote_names));
}
