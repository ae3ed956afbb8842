/* server.c — `runner serve`: loads and compiles the cases, listens on the three loopback origins, routes each
 * request (control endpoints, a case's scripted reply, or 404), and shuts down cleanly on /_h/quit, SIGINT or
 * SIGTERM (every connection, token, run and case freed: valgrind-clean). */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case/case.h"
#include "state.h"
#include "core/core.h"

struct listen_arg {
    struct ch_server *srv;
    int origin;
};

static struct listen_arg listen_args[3];

/* ---- requests to /c/<token>/... ------------------------------------------------------------------------------- */

static void record_request(struct ch_token *t, struct ch_conn *c, struct ch_request *r, const char *path, int n,
                           const struct ch_route *route)
{
    size_t blen = evbuffer_get_length(r->body);
    struct ch_transcript_request rec = {
        .t_us = r->t_head_us ? r->t_head_us : r->t_end_us, .body_end_us = r->t_end_us, .conn = c->id, .n = n,
        .minor = r->minor, .route = route ? route->line : 0, .method = r->method, .target = r->target,
        .path = path, .headers = r->headers, .body = blen ? evbuffer_pullup(r->body, -1) : (const void *)"",
        .body_len = blen};
    ch_transcript_request(t->tr, &rec);
}

static void remember_stray(struct ch_server *srv, struct ch_conn *c, struct ch_request *r, const char *why)
{
    static const char *const names[] = {"A", "B", "C"};
    if (json_array_size(srv->stray) >= CH_STRAY_MAX) json_array_remove(srv->stray, 0);
    json_array_append_new(srv->stray, json_pack("{s:s, s:s, s:s, s:s, s:s}", "method", r->method, "target", r->target,
                                                "origin", names[c->origin], "peer", c->peer, "why", why));
}

/* The 404 for a request no server section matches: said in the reply and recorded as sent. */
static void no_script(struct ch_token *t, struct ch_conn *c, struct ch_request *r, const char *path, int reqno)
{
    char body[512], head[256];
    int bn = snprintf(body, sizeof body, "No server section of case %s matches %s %s (request %d of the case)\n",
                      t->kase->id, r->method, path, reqno);
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 404 No Script\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n",
                      bn);
    ch_transcript_sent(t->tr, ch_now_us(), c->id, reqno, head, (size_t)hn);
    ch_transcript_sent(t->tr, ch_now_us(), c->id, reqno, body, (size_t)bn);
    ch_conn_write(c, head, (size_t)hn);
    ch_conn_write(c, body, (size_t)bn);
    ch_conn_finish(c, r->keep_alive ? CH_END_KEEP : CH_END_CLOSE);
}

static void case_request(struct ch_server *srv, struct ch_conn *c, struct ch_request *r)
{
    char token[64], path[CH_MAX_TARGET + 2], key[CH_MAX_TARGET + 80];
    const char *p = r->target + 3;
    size_t tl = strcspn(p, "/?");
    if (tl == 0 || tl >= sizeof token) goto unknown;
    memcpy(token, p, tl);
    token[tl] = '\0';
    struct ch_token *t = ch_map_get(srv->tokens, token);
    if (!t) goto unknown;
    size_t pl = strcspn(p + tl, "?");
    if (pl) {
        memcpy(path, p + tl, pl); /* pl <= CH_MAX_TARGET: the request line was bounded */
        path[pl] = '\0';
    } else {
        strcpy(path, "/");
    }
    ch_conn_attach(c, t->tr);
    c->tag = t;
    size_t ml = strlen(r->method);
    memcpy(key, r->method, ml); /* method < 64 bytes, path <= CH_MAX_TARGET: fits */
    key[ml] = ' ';
    memcpy(key + ml + 1, path, (pl ? pl : 1) + 1);
    int nth = (int)json_integer_value(json_object_get(t->counts, key)) + 1;
    json_object_set_new(t->counts, key, json_integer(nth));
    int reqno = ++t->nreq;
    const struct ch_route *route = ch_case_match(t->kase, r->method, path, c->origin, nth);
    record_request(t, c, r, path, reqno, route);
    if (route) ch_exec_start(&srv->env, c, t->tr, t->vars, route, reqno);
    else no_script(t, c, r, path, reqno);
    return;
unknown:
    remember_stray(srv, c, r, "unknown token");
    ch_conn_reply(c, 404, "Unknown Token", "text/plain; charset=utf-8", NULL, "unknown token\n", 14);
}

static void on_request(struct ch_conn *c, struct ch_request *r, void *arg)
{
    struct ch_server *srv = arg;
    c->tag = NULL; /* set again below only for a case's request: a keep-alive connection moves on */
    if (strncmp(r->target, "/_h/", 4) == 0) {
        ch_control_dispatch(srv, c, r);
    } else if (strncmp(r->target, "/c/", 3) == 0) {
        case_request(srv, c, r);
    } else {
        /* Browsers ask for /favicon.ico on their own: answered, never logged as stray. */
        if (strcmp(r->target, "/favicon.ico") != 0) remember_stray(srv, c, r, "outside /c/ and /_h/");
        ch_conn_reply(c, 404, "Not Found", "text/plain; charset=utf-8", NULL, "not found\n", 10);
    }
}

static void on_conn_closed(struct ch_conn *c, void *arg)
{
    struct ch_server *srv = arg;
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)c->id);
    ch_map_del(srv->conns, key);
    ch_control_cancel_waiters(srv, c);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
    struct listen_arg *la = arg;
    struct ch_server *srv = la->srv;
    struct ch_conn *c = ch_conn_new(srv->base, fd, sa, salen, la->origin, ++srv->next_conn, &srv->owner);
    if (c) {
        char key[32];
        snprintf(key, sizeof key, "%llu", (unsigned long long)c->id);
        ch_map_set(srv->conns, key, c);
    }
}

void ch_server_release_token(struct ch_server *srv, struct ch_token *t)
{
    size_t pos = 0;
    struct ch_conn *c;
    while ((c = ch_map_next(srv->conns, &pos, NULL))) {
        int busy = c->state == CH_CONN_HOLDING || c->state == CH_CONN_RESPONDING || c->state == CH_CONN_UPGRADED;
        if (c->tag != t || !busy) continue;
        ch_conn_close(c, "case-over"); /* removes itself from the map: walk it again */
        pos = 0;
    }
}

/* ---- binding -------------------------------------------------------------------------------------------------- */

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
    listen_args[origin] = (struct listen_arg){srv, origin};
    return evconnlistener_new_bind(srv->base, on_accept, &listen_args[origin],
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
        const char *name = origin < 2 ? "localhost" : "127.0.0.1";
        snprintf(srv->host[origin], sizeof srv->host[origin], "%s:%d", name, port);
        snprintf(srv->origin[origin], sizeof srv->origin[origin], "http://%s:%d", name, port);
        return 0;
    }
    return ch_errf(err, "no free port pair for origin %c", 'A' + origin);
}

/* ---- cases ---------------------------------------------------------------------------------------------------- */

static int load_cases(struct ch_server *srv, const struct ch_serve_opts *o)
{
    char err[CH_ERR_LEN];
    json_t *errs = json_array();
    srv->cases_json = json_array();
    int nerr = ch_script_load(o->case_paths, o->ncase_paths, srv->cases_json, errs);
    if (nerr) {
        ch_script_print_errors(errs, stderr);
        fprintf(stderr, "runner serve: %d error%s in the cases; not serving\n", nerr, nerr == 1 ? "" : "s");
    }
    json_decref(errs);
    if (nerr) return -1;
    srv->ncases = json_array_size(srv->cases_json);
    srv->cases = calloc(srv->ncases ? srv->ncases : 1, sizeof *srv->cases);
    for (size_t i = 0; i < srv->ncases; i++) {
        if (ch_case_compile(&srv->cases[i], json_array_get(srv->cases_json, i), err) < 0) {
            fprintf(stderr, "runner serve: %s\n", err);
            return -1;
        }
        ch_map_set(srv->case_by_id, srv->cases[i].id, &srv->cases[i]);
    }
    return 0;
}

/* ---- lifecycle ------------------------------------------------------------------------------------------------ */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopexit(((struct ch_server *)arg)->base, NULL);
}

static void on_quit(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopexit(((struct ch_server *)arg)->base, NULL);
}

static void print_ready(struct ch_server *srv)
{
    json_t *j = json_pack("{s:b, s:{s:s, s:s, s:s}, s:{s:i, s:i, s:i}, s:s+, s:I, s:i, s:f}", "ready", 1, "origins", "A",
                          srv->origin[0], "B", srv->origin[1], "C", srv->origin[2], "ports", "A", srv->port[0], "B",
                          srv->port[1], "C", srv->port[2], "control", srv->origin[0], "/_h/", "cases",
                          (json_int_t)srv->ncases, "pid", (int)getpid(), "time_scale", srv->scale);
    json_dumpf(j, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

static void teardown(struct ch_server *srv)
{
    size_t pos = 0;
    void *v;
    while ((v = ch_map_next(srv->conns, &pos, NULL))) {
        ch_conn_close(v, "shutdown"); /* removes itself from the map: restart the walk */
        pos = 0;
    }
    while (srv->waiters) ch_control_cancel_waiters(srv, srv->waiters->conn);
    for (int i = 0; i < srv->nlisteners; i++) evconnlistener_free(srv->listeners[i]);
    pos = 0;
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
}

int ch_server_run(const struct ch_serve_opts *opts)
{
    struct ch_server srv = {.opts = opts, .scale = opts->time_scale};
    char err[CH_ERR_LEN];
    int rc = 1;
    signal(SIGPIPE, SIG_IGN); /* writing to a departed peer is routine here */
    srv.case_by_id = ch_map_new();
    srv.tokens = ch_map_new();
    srv.runs = ch_map_new();
    srv.conns = ch_map_new();
    srv.stray = json_array();
    srv.owner = (struct ch_conn_owner){on_request, on_conn_closed, &srv, opts->idle_timeout_ms};
    if (load_cases(&srv, opts) < 0) {
        rc = 2;
        goto done;
    }
    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER); /* sub-millisecond scripted waits */
    srv.base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    srv.env = (struct ch_exec_env){srv.base, srv.scale, opts->fixtures_dir};
    if (!srv.base) {
        fprintf(stderr, "runner serve: cannot create the event loop\n");
        goto done;
    }
    for (int i = 0; i < 3; i++) {
        if (bind_origin(&srv, i, opts->port[i], err) < 0) {
            fprintf(stderr, "runner serve: %s\n", err);
            goto done;
        }
    }
    srv.sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
    srv.sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
    srv.quit = evtimer_new(srv.base, on_quit, &srv);
    event_add(srv.sigint, NULL);
    event_add(srv.sigterm, NULL);
    print_ready(&srv);
    event_base_dispatch(srv.base);
    rc = 0;
done:
    teardown(&srv);
    return rc;
}
