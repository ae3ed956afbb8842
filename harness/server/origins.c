/* origins.c — every origin the runner serves, the listeners behind them, and the run's origins: the one list
 * that says which Host a request may name and which Origin a page of the run has (README, "Security").
 *
 * The origins: the http origins A, B, C; their TLS twins SA, SB, SC (https, and wss on the same ports); D, an
 * http origin under a name that is not potentially trustworthy; and, per token whose case names one, a TLS
 * fault listener of its own ({SF-expired} ...: cases/FORMAT.md §1.8). The names are core.h's enum ch_origin;
 * what each is bound to is ORIGINS below. The run's certificates (harness/tls/) are made at start when the
 * server has a run folder, where ca.pem is written and nothing else.
 *
 * The list: every listener registers its origin (ch_origin_add; a fault listener for as long as it is open)
 * and every check reads it: the Host check of every request (requests.c), the state-changing endpoints'
 * same-origin test and the one CORS answer (control.c), the placeholders {A}, {origin-SA}, {host-D} (tokens.c),
 * the ready line and /_h/health (server.c, control.c). A host is compared as RFC 9110 §4.2.3 normalizes it: the
 * name case-insensitively, an absent port as the scheme's default. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "server_int.h"

/* How each origin is served. `host` is the name in its URLs (under --listen, host_a for localhost and host_c
 * for 127.0.0.1: host_of); `v6`: also [::1] on the same port (a client may
 * resolve localhost to either); `tls`: https/wss with the run's good certificate. C and SC are 127.0.0.1, a
 * different site from localhost; D's name resolves to 127.0.0.1 only where a client is told so (the browsers'
 * per-profile host mapping, tests/harness/browsers), which is what makes it not potentially trustworthy. */
static const struct origin_def {
    const char *host;
    int v6, tls;
} ORIGINS[CH_ORIGINS] = {
    [CH_ORIGIN_A] = {"localhost", 1, 0},  [CH_ORIGIN_B] = {"localhost", 1, 0},  [CH_ORIGIN_C] = {"127.0.0.1", 0, 0},
    [CH_ORIGIN_SA] = {"localhost", 1, 1}, [CH_ORIGIN_SB] = {"localhost", 1, 1}, [CH_ORIGIN_SC] = {"127.0.0.1", 0, 1},
    [CH_ORIGIN_D] = {CH_INSECURE_HOST, 0, 0},
};

/* The name origin definition d's URLs use: its own, or under --listen the name of its site. */
static const char *host_of(const struct ch_server *srv, const char *host)
{
    if (!srv->opts->listen) return host;
    if (strcmp(host, "localhost") == 0) return srv->opts->host_a;
    if (strcmp(host, "127.0.0.1") == 0) return srv->opts->host_c;
    return host;
}

/* What each fault listener presents (core.h's enum ch_tls_fault); its URLs are https://localhost:PORT (under
 * --listen, host_a). */
static const struct fault_def {
    const char *origin; /* the name in conn-open events */
    enum ch_cert cert;
    enum ch_tls_refuse refuse;
    int max_version;
} FAULTS[CH_FAULTS] = {
    [CH_FAULT_EXPIRED] = {"SF-expired", CH_CERT_EXPIRED, CH_TLS_ACCEPT, 0},
    [CH_FAULT_WRONG_NAME] = {"SF-wrong-name", CH_CERT_WRONG_NAME, CH_TLS_ACCEPT, 0},
    [CH_FAULT_SELF_SIGNED] = {"SF-self-signed", CH_CERT_SELF_SIGNED, CH_TLS_ACCEPT, 0},
    [CH_FAULT_REFUSE_ALERT] = {"SF-refuse-alert", CH_CERT_GOOD, CH_TLS_REFUSE_ALERT, 0},
    [CH_FAULT_REFUSE_FIN] = {"SF-refuse-fin", CH_CERT_GOOD, CH_TLS_REFUSE_FIN, 0},
    [CH_FAULT_REFUSE_RST] = {"SF-refuse-rst", CH_CERT_GOOD, CH_TLS_REFUSE_RST, 0},
    [CH_FAULT_TLS12] = {"SF-tls12", CH_CERT_GOOD, CH_TLS_ACCEPT, TLS1_2_VERSION},
};

/* ---- the run's origins: the list -------------------------------------------------------------------------- */

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0 ? 443 : 80;
}

const struct ch_run_origin *ch_origin_add(struct ch_server *srv, const char *name, const char *scheme, const char *host,
                                      int port, const struct ch_token *token)
{
    if (srv->norigins == CH_MAX_ORIGINS || strlen(name) >= sizeof srv->origins[0].name ||
        strlen(scheme) >= sizeof srv->origins[0].scheme || strlen(host) >= sizeof srv->origins[0].host)
        return NULL;
    struct ch_run_origin o = {.port = port, .token = token};
    snprintf(o.name, sizeof o.name, "%s", name);
    snprintf(o.scheme, sizeof o.scheme, "%s", scheme);
    snprintf(o.host, sizeof o.host, "%s", host);
    if (port == default_port(scheme)) snprintf(o.hostport, sizeof o.hostport, "%s", host);
    else snprintf(o.hostport, sizeof o.hostport, "%s:%d", host, port);
    snprintf(o.url, sizeof o.url, "%s://%s", scheme, o.hostport);
    srv->origins[srv->norigins] = o;
    return &srv->origins[srv->norigins++];
}

void ch_origins_remove(struct ch_server *srv, const struct ch_token *token)
{
    int k = 0;
    for (int i = 0; i < srv->norigins; i++)
        if (srv->origins[i].token != token) srv->origins[k++] = srv->origins[i];
    srv->norigins = k;
}

const struct ch_run_origin *ch_origin_named(const struct ch_server *srv, const char *name)
{
    for (int i = 0; i < srv->norigins; i++)
        if (!srv->origins[i].token && strcmp(srv->origins[i].name, name) == 0) return &srv->origins[i];
    return NULL;
}

/* Does `hostport` (a Host value or an Origin's authority, n bytes: host [":" port]) name origin o? */
static int names(const struct ch_run_origin *o, const char *hostport, size_t n)
{
    const char *colon = NULL;
    if (n && hostport[0] == '[') { /* an IPv6 literal: the port follows "]" */
        const char *close = memchr(hostport, ']', n);
        if (close && (size_t)(close - hostport) + 1 < n && close[1] == ':') colon = close + 1;
    } else {
        colon = memchr(hostport, ':', n);
    }
    size_t hl = colon ? (size_t)(colon - hostport) : n;
    int port = default_port(o->scheme);
    if (colon) {
        const char *p = colon + 1, *end = hostport + n;
        if (p == end || end - p > 5) return 0;
        port = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') return 0;
            port = port * 10 + (*p - '0');
        }
    }
    return port == o->port && hl == strlen(o->host) && strncasecmp(hostport, o->host, hl) == 0;
}

const struct ch_run_origin *ch_origin_by_host(const struct ch_server *srv, const char *host)
{
    size_t n = host ? strlen(host) : 0;
    while (n && (host[n - 1] == ' ' || host[n - 1] == '\t')) n--; /* the parser keeps trailing whitespace */
    while (n && (*host == ' ' || *host == '\t')) host++, n--;
    for (int i = 0; n && i < srv->norigins; i++)
        if (names(&srv->origins[i], host, n)) return &srv->origins[i];
    return NULL;
}

const struct ch_run_origin *ch_origin_by_url(const struct ch_server *srv, const char *origin)
{
    const char *sep = origin ? strstr(origin, "://") : NULL;
    if (!sep) return NULL; /* "null" (an opaque origin) and anything else that is not scheme://host[:port] */
    size_t sl = (size_t)(sep - origin);
    const char *auth = sep + 3;
    for (int i = 0; i < srv->norigins; i++) {
        const struct ch_run_origin *o = &srv->origins[i];
        if (strlen(o->scheme) == sl && strncasecmp(origin, o->scheme, sl) == 0 && names(o, auth, strlen(auth)))
            return o;
    }
    return NULL;
}

/* ---- accepting and binding -------------------------------------------------------------------------------------- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct ch_listener *ls = arg;
    struct ch_server *srv = ls->srv;
    struct ch_conn *c = ch_conn_new(srv->base, fd, sa, salen, &ls->conn, ++srv->next_conn, &srv->owner);
    if (!c) return; /* the owner was told (`opened`): it knows the connection */
    if (ls->token) { /* a fault listener: everything on it belongs to its token's case, from the start */
        ch_conn_attach(c, ls->token->tr);
        c->tag = ls->token;
    }
}

/* Binds loopback (family AF_INET: 127.0.0.1, AF_INET6: ::1), or under --listen the one address given. */
static struct evconnlistener *listen_on(struct ch_listener *ls, int family, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    const char *addr = ls->srv->opts->listen;
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (addr) family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (addr && inet_pton(AF_INET, addr, &in->sin_addr) != 1) return errno = EINVAL, NULL;
        len = sizeof *in;
    } else {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        if (addr && inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1) return errno = EINVAL, NULL;
        len = sizeof *in6;
    }
    return evconnlistener_new_bind(ls->srv->base, on_accept, ls, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
                                   (struct sockaddr *)&ss, (int)len);
}

static int bound_port(struct evconnlistener *l)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &len);
    return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                          : ((struct sockaddr_in *)&ss)->sin_port);
}

/* 127.0.0.1 on `want` (0: a free port), and [::1] on the same port when `v6` (where IPv6 loopback exists);
 * under --listen its one address only. */
static int bind_listener(struct ch_listener *ls, int want, int v6, char *err)
{
    const char *addr = ls->srv->opts->listen;
    if (addr) v6 = 0;
    for (int attempt = 0; attempt < 20; attempt++) {
        ls->v4 = listen_on(ls, AF_INET, want);
        if (!ls->v4)
            return ch_errf(err, "cannot listen on %s port %d: %s", addr ? addr : "127.0.0.1", want, strerror(errno));
        ls->port = bound_port(ls->v4);
        if (!v6) return 0;
        ls->v6 = listen_on(ls, AF_INET6, ls->port);
        if (ls->v6 || errno != EADDRINUSE || want != 0) return 0; /* no IPv6 loopback at all is fine */
        evconnlistener_free(ls->v4); /* someone holds [::1]:port: pick another */
        ls->v4 = NULL;
    }
    return ch_errf(err, "no free port pair for %s", ls->conn.name);
}

static void unbind(struct ch_listener *ls)
{
    if (ls->v4) evconnlistener_free(ls->v4);
    if (ls->v6) evconnlistener_free(ls->v6);
    ls->v4 = ls->v6 = NULL;
}

/* ---- the run's certificates ------------------------------------------------------------------------------------- */

/* The CA and leaves in memory, ca.pem in the run folder, one context for the origins and one per fault. */
static int make_tls(struct ch_server *srv, const char *dir, char *err)
{
    const char *slash = strrchr(dir, '/');
    srv->pki = ch_pki_new(time(NULL), slash && slash[1] ? slash + 1 : dir, err);
    if (!srv->pki || ch_pki_write_ca(srv->pki, dir, srv->ca_path, sizeof srv->ca_path, err) < 0) return -1;
    if (ch_pki_spki_sha256(srv->pki, CH_CERT_GOOD, srv->spki_good, err) < 0) return -1;
    srv->good_ctx = ch_tls_server_ctx(srv->pki, CH_CERT_GOOD, CH_TLS_ACCEPT, 0, err);
    if (!srv->good_ctx) return -1;
    for (int f = 0; f < CH_FAULTS; f++) {
        srv->fault_ctx[f] = ch_tls_server_ctx(srv->pki, FAULTS[f].cert, FAULTS[f].refuse, FAULTS[f].max_version, err);
        if (!srv->fault_ctx[f]) return -1;
    }
    return 0;
}

/* ---- the origins -------------------------------------------------------------------------------------------------- */

int ch_origins_bind(struct ch_server *srv, char *err)
{
    int tls = srv->opts->run_dir != NULL;
    if (tls && make_tls(srv, srv->opts->run_dir, err) < 0) return -1;
    for (int o = 0; o < CH_ORIGINS; o++) {
        const struct origin_def *d = &ORIGINS[o];
        struct ch_listener *ls = &srv->listeners[o];
        if (d->tls && !tls) continue; /* no run folder, no CA: the TLS origins are not served */
        ls->srv = srv;
        ls->conn = (struct ch_conn_listener){o, ch_origin_name(o), d->tls ? srv->good_ctx : NULL};
        if (bind_listener(ls, srv->opts->port[o], d->v6, err) < 0) return -1;
        srv->port[o] = ls->port;
        if (!ch_origin_add(srv, ch_origin_name(o), d->tls ? "https" : "http", host_of(srv, d->host), ls->port, NULL))
            return ch_errf(err, "origin %s: the run's origin list is full", ch_origin_name(o));
    }
    return 0;
}

void ch_origins_free(struct ch_server *srv)
{
    for (int o = 0; o < CH_ORIGINS; o++) unbind(&srv->listeners[o]);
    SSL_CTX_free(srv->good_ctx);
    for (int f = 0; f < CH_FAULTS; f++) SSL_CTX_free(srv->fault_ctx[f]);
    ch_pki_free(srv->pki);
}

json_t *ch_origins_json(const struct ch_server *srv, int ports)
{
    json_t *j = json_object();
    for (int i = 0; i < srv->norigins; i++) {
        const struct ch_run_origin *o = &srv->origins[i];
        if (o->token || json_object_get(j, o->name)) continue; /* a fault listener; a second name */
        json_object_set_new(j, o->name, ports ? json_integer(o->port) : json_string(o->url));
    }
    return j;
}

/* ---- the fault listeners of a token ------------------------------------------------------------------------------- */

int ch_faults_open(struct ch_server *srv, struct ch_token *t, unsigned uses, char *err)
{
    for (int f = 0; f < CH_FAULTS; f++) {
        if (!(uses & 1u << (CH_USES_FAULT + f))) continue;
        if (!srv->pki) return ch_errf(err, "{SF-%s}: the runner serves no TLS (no run folder)", ch_fault_name(f));
        struct ch_listener *ls = ch_xcalloc(1, sizeof *ls);
        *ls = (struct ch_listener){.srv = srv, .token = t,
                                   .conn = {CH_ORIGINS + f, FAULTS[f].origin, srv->fault_ctx[f]}};
        t->faults[f] = ls;
        if (bind_listener(ls, 0, 1, err) < 0) return -1;
        /* Its requests name localhost:PORT in Host: one of the run's origins while the listener is open. */
        const struct ch_run_origin *o = ch_origin_add(srv, FAULTS[f].origin, "https", host_of(srv, "localhost"),
                                                      ls->port, t);
        if (!o) return ch_errf(err, "{%s}: the run's origin list is full", FAULTS[f].origin);
        char name[32], url[sizeof o->url];
        snprintf(name, sizeof name, "%s", FAULTS[f].origin);
        snprintf(url, sizeof url, "%s", o->url);
        json_object_set_new(t->vars, name, json_pack("s++", url, "/c/", t->id));
        snprintf(name, sizeof name, "origin-%s", FAULTS[f].origin);
        json_object_set_new(t->vars, name, json_string(url));
        snprintf(name, sizeof name, "host-%s", FAULTS[f].origin);
        json_object_set_new(t->vars, name, json_string(url + strlen("https://")));
        snprintf(name, sizeof name, "port-%s", FAULTS[f].origin);
        snprintf(url, sizeof url, "%d", ls->port);
        json_object_set_new(t->vars, name, json_string(url));
    }
    return 0;
}

void ch_faults_close(struct ch_token *t)
{
    for (int f = 0; f < CH_FAULTS; f++) {
        if (!t->faults[f]) continue;
        ch_origins_remove(t->faults[f]->srv, t); /* its Host is no longer the run's */
        unbind(t->faults[f]);
        free(t->faults[f]);
        t->faults[f] = NULL;
    }
}
