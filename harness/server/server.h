/* server.h — `runner serve`: the loopback origins (http A, B, C; https/wss SA, SB, SC; http D), scripted
 * replies, the control protocol. */
#ifndef CH_SERVER_H
#define CH_SERVER_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "core/core.h"
#include "engines/engines.h"

struct ch_serve_opts {
    char *const *case_paths;  /* files or directories of cases */
    int ncase_paths;
    const char *fixtures_dir; /* served under /_h/static/ and read by `body file` */
    const char *run_dir;      /* the run's folder: ca.pem is written there, and nothing else; NULL: no TLS
                               * origins (SA, SB, SC and the fault listeners are not served) */
    int port[CH_ORIGINS];     /* per origin (core.h's enum ch_origin); 0 = any free port */
    double time_scale;        /* multiplies every scripted duration */
    int idle_timeout_ms;      /* a connection idle this long (no request, nothing scripted) is closed */
    /* Remote browsers (README, "Remote browsers"): NULL, the default, binds 127.0.0.1 and ::1 under the names
     * localhost and 127.0.0.1. Else every origin listens on this one address (an IPv4 or IPv6 literal) and
     * is named by host_a (A, B, SA, SB, the fault listeners: one site) and host_c (C, SC: another site);
     * D keeps its name. The names are what the remote browser resolves to the address. */
    const char *listen, *host_a, *host_c;
};

/* Loads the cases, binds the origins (loopback, or opts->listen), prints the ready line (one JSON object) on stdout, and
 * serves until /_h/quit, SIGINT or SIGTERM. Returns the process exit code (0 clean, 2 bad cases, 1 other). */
int ch_server_run(const struct ch_serve_opts *opts);

struct ch_server;

/* A server over `cases` (case JSON as the parser makes it, stolen): the cases compiled, an event loop, the
 * origins bound (opts->port, 0 = any free port); nothing runs until the loop does. `opts` must outlive
 * it. Returns 0, or the exit code of ch_server_run with err (2: a case cannot be compiled; 1: the loop or a
 * port); *out is set either way and must be freed. */
int ch_server_new(const struct ch_serve_opts *opts, json_t *cases, struct ch_server **out, char *err);
void ch_server_free(struct ch_server *srv);

/* ---- a server driven by hand (Check tests, fuzz targets: no ch_server_run) ------------------------------- */

/* Its event loop, which the caller runs (event_base_loop). */
struct event_base *ch_server_base(const struct ch_server *srv);
/* Hands a connected socket to the server as if origin A (plain http) had accepted it. */
void ch_server_adopt(struct ch_server *srv, int fd);
/* The same, as if a TLS listener had accepted it: "SA" (the good context), or a fault listener "SF-NAME" (the
 * fault contexts of core.h's enum ch_tls_fault, named as in conn-open events "SF-adopted"). Returns 0, or -1
 * when the server serves no TLS (no run folder) or names no such listener. */
int ch_server_adopt_tls(struct ch_server *srv, int fd, const char *origin);
/* How many connections are open. */
size_t ch_server_nconns(const struct ch_server *srv);
/* The run's secret (README, "Security"); origin `name`'s "host:port" (NULL: not served). */
const char *ch_server_secret(const struct ch_server *srv);
const char *ch_server_hostport(const struct ch_server *srv, const char *name);
/* The id the next run created will get ("r7"), into out (n bytes). */
void ch_server_next_run_id(const struct ch_server *srv, char *out, size_t n);

/* ---- compiled cases (routes.c) ----------------------------------------------------------------------------- */

/* A case as the server runs it: its `server` routes compiled (each step's op from the case language's table,
 * case.h's ch_case_op). */
struct ch_case {
    json_t *json; /* owned */
    const char *id;
    struct ch_route *routes;
    size_t nroutes;
    int timing;       /* tagged `timing`: never beside an ordinary case (runs.c) */
    int precision_ms; /* the shortest span its verdict can depend on, unscaled (ch_case_precision_ms) */
    int uses_nth;     /* some route answers only the Nth request of its method and path */
    unsigned uses;    /* what its placeholders name (core.h's CH_USES_*): the fault listeners its tokens need */
};

/* A case's precision: the smallest tolerance of its `within` and `interval` checks and the smallest duration
 * scripted in its server and client steps (any step's `ms`: a wait, a trickle, a timeout), else its deadline.
 * The scheduler lets a `timing` case share the server with fewer other timing cases the smaller it is. */
int ch_case_precision_ms(const json_t *kase);

/* Compiles a case JSON's routes, refusing an op no word emits. Returns 0, or -1 with err (release k either
 * way). */
int ch_case_compile(struct ch_case *k, json_t *json, char *err);
/* Frees what ch_case_compile made: only after every transcript that recorded a reply of its routes (a reply
 * rendered at load is recorded from the route's bytes, ch_transcript_sent_kept). */
void ch_case_release(struct ch_case *k);

/* The route that answers a request (method, path after /c/<token>, the origin number of core.h, the request's rank among its
 * token's requests with this method and path, the request itself for `when` routes, NULL: it has no header
 * fields), the most specific that fits (FORMAT.md §4); NULL for none. */
const struct ch_route *ch_case_match(const struct ch_case *k, const char *method, const char *path, int origin,
                                     int nth, const struct ch_request *req);

#endif
