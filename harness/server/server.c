/* server.c — `runner serve`: the server's lifecycle. The constructor compiles the cases, creates the event
 * loop and binds the three loopback origins; ch_server_run loads the cases, prints the ready line and serves
 * until /_h/quit, SIGINT or SIGTERM; ch_server_free closes and frees everything (valgrind-clean). What a
 * request gets is requests.c's business. */
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

/* ---- binding -------------------------------------------------------------------------------------------------- */

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct ch_listen_arg *la = arg;
    struct ch_server *srv = la->srv;
    ch_conns_add(srv, ch_conn_new(srv->base, fd, sa, salen, la->origin, ++srv->next_conn, &srv->owner));
}

static struct evconnlistener *listen_on(struct ch_server *srv, int family, int port, int origin)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        in6->sin6_addr = in6addr_loopback;
        len = sizeof *in6;
    }
    srv->listen_args[origin] = (struct ch_listen_arg){srv, origin};
    return evconnlistener_new_bind(srv->base, on_accept, &srv->listen_args[origin],
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024, (struct sockaddr *)&ss, (int)len);
}

static int bound_port(struct evconnlistener *l)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&in, &len);
    return ntohs(in.sin_port);
}

/* A and B are `localhost` (browsers may try ::1 first, so ::1 gets the same port when it exists); C is
 * `127.0.0.1` only — a different site. */
static int bind_origin(struct ch_server *srv, int origin, int want, char *err)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        struct evconnlistener *v4 = listen_on(srv, AF_INET, want, origin), *v6 = NULL;
        if (!v4) return ch_errf(err, "cannot listen on 127.0.0.1:%d: %s", want, strerror(errno));
        int port = bound_port(v4);
        if (origin < 2) {
            v6 = listen_on(srv, AF_INET6, port, origin);
            if (!v6 && errno == EADDRINUSE && want == 0) { /* someone holds [::1]:port: pick another */
                evconnlistener_free(v4);
                continue;
            }
        }
        srv->listeners[srv->nlisteners++] = v4;
        if (v6) srv->listeners[srv->nlisteners++] = v6;
        srv->port[origin] = port;
        static const char *const names[] = {"A", "B", "C"};
        ch_origin_add(srv, names[origin], "http", origin < 2 ? "localhost" : "127.0.0.1", port);
        return 0;
    }
    return ch_errf(err, "no free port pair for origin %c", 'A' + origin);
}

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
    srv->runs = ch_map_new();
    srv->conns = ch_map_new();
    srv->stray = json_array();
    srv->cases_json = cases;
    srv->owner = (struct ch_conn_owner){ch_requests_dispatch, ch_conns_closed, srv, opts->idle_timeout_ms};
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
    for (int i = 0; i < 3; i++)
        if (bind_origin(srv, i, opts->port[i], err) < 0) return 1;
    return 0;
}

void ch_server_free(struct ch_server *srv)
{
    size_t pos = 0;
    void *v;
    if (!srv) return;
    ch_conns_close_all(srv);
    while (srv->waiters) ch_waiters_cancel(srv, srv->waiters->conn);
    for (int i = 0; i < srv->nlisteners; i++) evconnlistener_free(srv->listeners[i]);
    while ((v = ch_map_next(srv->tokens, &pos, NULL))) ch_token_free(v);
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

static void print_ready(struct ch_server *srv)
{
    json_t *j = json_pack("{s:b, s:o, s:{s:i, s:i, s:i}, s:s+, s:I, s:i, s:f, s:s}", "ready", 1, "origins",
                          ch_origins_json(srv), "ports", "A", srv->port[0], "B", srv->port[1], "C", srv->port[2],
                          "control", ch_origin_named(srv, "A")->url, "/_h/", "cases", (json_int_t)srv->ncases,
                          "pid", (int)getpid(), "time_scale", srv->scale, "secret", srv->secret);
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
