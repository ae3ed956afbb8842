/* reply_rig.h — what the executor tests share (check_http, check_sse, check_ws_engine): routes compiled from
 * JSON by the server's own compiler, one server-side connection on a socketpair whose requests the executor
 * answers (the route for the request's method and target), a transcript and placeholder values. The client
 * end is the test's: it writes requests and reads replies on g->fd. Header-only, test code. */
#ifndef CH_TESTS_REPLY_RIG_H
#define CH_TESTS_REPLY_RIG_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "engines/engines.h"
#include "server/server.h"

struct reply_rig {
    struct ch_exec_env env;
    struct ch_case kase;
    struct ch_arena *arena;
    struct ch_transcript *tr;
    json_t *vars;
    int nreq;
    int fd;                     /* the client end, non-blocking */
    int conn_closed;            /* the server's connection is gone */
    struct ch_conn_owner owner; /* must outlive the connection */
};

static void reply_rig_dispatch(struct ch_conn *c, struct ch_request *r, void *arg)
{
    struct reply_rig *g = arg;
    char path[256];
    snprintf(path, sizeof path, "%.*s", (int)strcspn(r->target, "?"), r->target);
    ch_conn_attach(c, g->tr);
    const struct ch_route *route = ch_case_match(&g->kase, r->method, path, 0, ++g->nreq, r);
    ck_assert_msg(route != NULL, "no route for %s %s", r->method, path);
    ch_exec_start(&g->env, c, g->tr, g->vars, route, g->nreq);
}

static void reply_rig_closed(struct ch_conn *c, void *arg) { ((struct reply_rig *)arg)->conn_closed = 1; }

/* Compiles `routes` (a JSON array of MODEL.md §1.1 routes) as case `id`, with a new event loop, the time scale
 * and the fixtures directory, and opens the connection. */
static inline void reply_rig_open(struct reply_rig *g, const char *id, const char *routes, double scale,
                                  const char *fixtures)
{
    char err[CH_ERR_LEN];
    json_error_t jerr;
    int sv[2];
    memset(g, 0, sizeof *g);
    json_t *rj = json_loads(routes, 0, &jerr);
    ck_assert_msg(rj != NULL, "%s", jerr.text);
    json_t *k = json_pack("{s:s, s:o}", "id", id, "server", rj);
    ck_assert_msg(ch_case_compile(&g->kase, k, err) == 0, "%s", err);
    json_decref(k);
    g->env = (struct ch_exec_env){event_base_new(), scale, fixtures};
    g->arena = ch_arena_new();
    g->tr = ch_transcript_new(g->arena, "t1", id, ch_now_us());
    g->vars = json_pack("{s:s}", "token", "t1");
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    g->fd = sv[1];
    g->owner = (struct ch_conn_owner){reply_rig_dispatch, reply_rig_closed, g, 5000, NULL};
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ck_assert_ptr_nonnull(ch_conn_new(g->env.base, sv[0], &sa, sizeof sa, NULL, 1, &g->owner));
}

/* Renders at load every route that can be (engines.h, ch_route_prerender), as the server does. */
static inline void reply_rig_prerender(struct reply_rig *g, double scale)
{
    for (size_t i = 0; i < g->kase.nroutes; i++) ch_route_prerender(&g->kase.routes[i], scale);
}

/* Runs the loop until it breaks or `ms` pass. */
static inline void reply_rig_run(struct reply_rig *g, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_loopexit(g->env.base, &tv);
    event_base_dispatch(g->env.base);
}

/* The transcript's events so far (a new reference). */
static inline json_t *reply_rig_events(const struct reply_rig *g)
{
    json_t *t = ch_transcript_json(g->tr);
    json_t *e = json_incref(json_object_get(t, "events"));
    json_decref(t);
    return e;
}

/* Closes the client end (if still open), lets the server see it and free the connection for `ms`, frees
 * everything. */
static inline void reply_rig_close(struct reply_rig *g, int ms)
{
    if (g->fd >= 0) close(g->fd);
    g->fd = -1;
    reply_rig_run(g, ms);
    event_base_free(g->env.base);
    ch_transcript_free(g->tr); /* before the case: it may point to a route's bytes */
    ch_arena_free(g->arena);
    ch_case_release(&g->kase);
    json_decref(g->vars);
}

#endif
