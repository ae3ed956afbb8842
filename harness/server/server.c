/* server.c — `runner serve`: the server's lifecycle. The constructor compiles the cases, creates the event
 * loop and binds the origins (origins.c: loopback, or --listen's address); ch_server_run loads the cases,
 * prints the ready line and serves until /_h/quit, SIGINT or SIGTERM; ch_server_free closes and frees everything
 * (valgrind-clean). What a request gets is requests.c's business. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case/case.h"
#include "server_int.h"

/* ---- the server ----------------------------------------------------------------------------------------------- */

static int compile_cases(struct ch_server *srv, char *err)
{
    srv->ncases = json_array_size(srv->cases_json);
    srv->cases = ch_xcalloc(srv->ncases, sizeof *srv->cases);
    for (size_t i = 0; i < srv->ncases; i++) {
        if (ch_case_compile(&srv->cases[i], json_array_get(srv->cases_json, i), err) < 0) return -1;
        for (size_t j = 0; j < srv->cases[i].nroutes; j++) ch_route_prerender(&srv->cases[i].routes[j], srv->scale);
        ch_map_set(srv->case_by_id, srv->cases[i].id, &srv->cases[i]);
    }
    return 0;
}

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopexit(((struct ch_server *)arg)->base, NULL);
}

int ch_server_new(const struct ch_serve_opts *opts, json_t *cases, struct ch_server **out, char *err)
{
    struct ch_server *srv = ch_xcalloc(1, sizeof *srv);
    *out = srv;
    srv->opts = opts;
    srv->scale = opts->time_scale;
    srv->case_by_id = ch_map_new();
    srv->tokens = ch_map_new();
    srv->arena = ch_arena_new();
    srv->runs = ch_map_new();
    srv->conns = ch_map_new();
    srv->stray = json_array();
    srv->cases_json = cases;
    srv->owner = (struct ch_conn_owner){ch_requests_dispatch, ch_conns_closed, srv, opts->idle_timeout_ms, ch_conns_opened};
    unsigned char key[32];
    evutil_secure_rng_get_bytes(key, sizeof key);
    ch_hex_encode(key, sizeof key, srv->secret);
    if (compile_cases(srv, err) < 0) return 2;
    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER); /* sub-millisecond scripted waits */
    srv->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!srv->base) {
        ch_errf(err, "cannot create the event loop");
        return 1;
    }
    srv->env = (struct ch_exec_env){srv->base, srv->scale, opts->fixtures_dir};
    srv->quit = evtimer_new(srv->base, on_quit, srv);
    if (ch_origins_bind(srv, err) < 0) return 1;
    return 0;
}

void ch_server_free(struct ch_server *srv)
{
    size_t pos = 0;
    void *v;
    if (!srv) return;
    ch_conns_close_all(srv);
    while (srv->waiters) ch_waiters_cancel(srv, srv->waiters->conn);
    while ((v = ch_map_next(srv->tokens, &pos, NULL))) ch_token_free(v);
    ch_arena_free(srv->arena);
    ch_origins_free(srv);
    pos = 0;
    while ((v = ch_map_next(srv->runs, &pos, NULL))) ch_run_free(v);
    for (size_t i = 0; srv->cases && i < srv->ncases; i++) ch_case_release(&srv->cases[i]);
    free(srv->cases);
    ch_map_free(srv->case_by_id);
    ch_map_free(srv->tokens);
    ch_map_free(srv->runs);
    ch_map_free(srv->conns);
    json_decref(srv->cases_json);
    json_decref(srv->stray);
    if (srv->sigint) event_free(srv->sigint);
    if (srv->sigterm) event_free(srv->sigterm);
    if (srv->quit) event_free(srv->quit);
    if (srv->base) event_base_free(srv->base);
    free(srv);
}

/* ---- a server driven by hand ---------------------------------------------------------------------------------- */

struct event_base *ch_server_base(const struct ch_server *srv) { return srv->base; }

void ch_server_adopt(struct ch_server *srv, int fd)
{
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ch_conn_new(srv->base, fd, &sa, sizeof sa, NULL, ++srv->next_conn, &srv->owner); /* `opened` registers it */
}

int ch_server_adopt_tls(struct ch_server *srv, int fd, const char *origin)
{
    const struct ch_conn_listener *l = NULL;
    if (!srv->good_ctx) return -1;
    if (!strcmp(origin, "SA")) l = &srv->listeners[CH_ORIGIN_SA].conn;
    for (int f = 0; f < CH_FAULTS && !l; f++) {
        if (strncmp(origin, "SF-", 3) || strcmp(origin + 3, ch_fault_name(f))) continue;
        srv->adopted[f] = (struct ch_conn_listener){CH_ORIGINS + f, "SF-adopted", srv->fault_ctx[f]};
        l = &srv->adopted[f];
    }
    if (!l) return -1;
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ch_conn_new(srv->base, fd, &sa, sizeof sa, l, ++srv->next_conn, &srv->owner); /* `opened` registers it */
    return 0;
}

size_t ch_server_nconns(const struct ch_server *srv) { return ch_map_count(srv->conns); }

const char *ch_server_secret(const struct ch_server *srv) { return srv->secret; }

const char *ch_server_hostport(const struct ch_server *srv, const char *name)
{
    const struct ch_run_origin *o = ch_origin_named(srv, name);
    return o ? o->hostport : NULL;
}

void ch_server_next_run_id(const struct ch_server *srv, char *out, size_t n)
{
    snprintf(out, n, "r%llu", (unsigned long long)srv->next_run + 1);
}

/* ---- runner serve ----------------------------------------------------------------------------------------------- */

/* The cases under the paths as case JSON, or NULL after printing their errors. */
static json_t *load_cases(const struct ch_serve_opts *o)
{
    json_t *errs = json_array(), *cases = json_array();
    int nerr = ch_script_load(o->case_paths, o->ncase_paths, o->fixtures_dir, cases, errs);
    if (nerr) {
        ch_script_print_errors(errs, stderr);
        fprintf(stderr, "runner serve: %d error%s in the cases; not serving\n", nerr, nerr == 1 ? "" : "s");
        json_decref(cases);
        cases = NULL;
    }
    json_decref(errs);
    return cases;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopexit(((struct ch_server *)arg)->base, NULL);
}

/* The ready line (README, `runner serve`): every origin and port; with TLS the CA file clients must trust, the
 * good certificate's SPKI hash, and the name D's clients must map to loopback; under --listen, the address. */
static void print_ready(struct ch_server *srv)
{
    json_t *j = json_pack("{s:b, s:o, s:o, s:s+, s:I, s:i, s:f, s:s, s:s}", "ready", 1, "origins",
                          ch_origins_json(srv, 0), "ports", ch_origins_json(srv, 1), "control",
                          ch_origin_named(srv, "A")->url, "/_h/", "cases", (json_int_t)srv->ncases, "pid",
                          (int)getpid(), "time_scale", srv->scale, "insecure_host", CH_INSECURE_HOST, "secret",
                          srv->secret);
    if (srv->opts->listen) json_object_set_new(j, "listen", json_string(srv->opts->listen)); /* README, remote */
    if (srv->pki) {
        json_object_set_new(j, "ca", json_string(srv->ca_path));
        json_object_set_new(j, "spki_sha256", json_string(srv->spki_good));
    }
    json_dumpf(j, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

int ch_server_run(const struct ch_serve_opts *opts)
{
    char err[CH_ERR_LEN];
    struct ch_server *srv;
    signal(SIGPIPE, SIG_IGN); /* writing to a departed peer is routine here */
    json_t *cases = load_cases(opts);
    if (!cases) return 2;
    int rc = ch_server_new(opts, cases, &srv, err);
    if (rc) {
        fprintf(stderr, "runner serve: %s\n", err);
        ch_server_free(srv);
        return rc;
    }
    srv->sigint = evsignal_new(srv->base, SIGINT, on_signal, srv);
    srv->sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    event_add(srv->sigint, NULL);
    event_add(srv->sigterm, NULL);
    print_ready(srv);
    event_base_dispatch(srv->base);
    ch_server_free(srv);
    return 0;
}
