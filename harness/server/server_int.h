/* server_int.h — the server's state and what its files share (internal to harness/server/; nothing outside
 * includes it). Single-threaded: all of it lives on one libevent loop.
 *
 *   server.c    lifecycle: the constructor, signals, the ready line, teardown
 *   origins.c   the origins and their listeners (one table), the run's certificates, per-token fault listeners;
 *               the run's origins: which Host a request may name, which Origin is a page of the run
 *   requests.c  which part answers a request: /_h/ control, /c/<token>/ a case's route, else 404 (and strays)
 *   routes.c    compiling a case's routes and choosing the route for a request (server.h)
 *   conns.c     the live connections: closed at shutdown, or when their case is over
 *   control.c   the /_h/ endpoints (fixtures/PROTOCOL.md §1)
 *   tokens.c    tokens: one run of a case, its transcript and placeholder values, the program it hands out
 *   runs.c      the run scheduler: queues, what `next` hands out (timing cases apart), verdicts
 *   waiters.c   long-polls: connections waiting for a case to hand out or for a verdict
 *   static.c    /_h/static/: files under the fixtures directory
 *   reply.c     the control protocol's JSON replies */
#ifndef CH_SERVER_INT_H
#define CH_SERVER_INT_H

#include <event2/listener.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>

#include "core/core.h"
#include "engines/engines.h"
#include "net/net.h"
#include "server.h"
#include "tls/tls.h"

struct ch_run;
struct ch_listener;

struct ch_token {
    char id[32];
    struct ch_case *kase;
    struct ch_run *run;  /* NULL for /_h/program tokens */
    int64_t t0_us;
    struct ch_transcript *tr;
    json_t *vars;        /* placeholders of this run of the case (core.h, tmpl.c) */
    json_t *counts;      /* "METHOD path" -> requests so far, for `nth` */
    int nreq;
    int inflight;        /* counted in the server's in-flight total until its verdict */
    json_t *observations, *verdict;
    json_t *judged;      /* the transcript as the judge saw it (what a full verdict returns, for re-judging) */
    struct ch_listener *faults[CH_FAULTS]; /* the TLS fault listeners its case names, until its verdict */
    char error[CH_ERR_LEN]; /* why its program cannot be made (a fault listener could not be bound), or "" */
};

struct ch_run {
    char id[16];
    char *client;
    json_t *queue;       /* case ids */
    size_t next;
    int closed, concurrency, wants_floor;
    char *polyfill;
    size_t polyfill_len;
    json_t *by_case;     /* case id -> the latest token id */
};

enum ch_wait_kind { CH_WAIT_NEXT, CH_WAIT_VERDICT };

/* A long-poll: a connection waiting for a case to hand out or for a verdict. */
struct ch_waiter {
    struct ch_server *srv;
    struct ch_conn *conn;
    enum ch_wait_kind kind;
    struct ch_run *run;      /* NEXT */
    struct ch_token *token;  /* VERDICT */
    int full;
    struct event *timer;
    struct ch_waiter *next;
};

/* Timing cases in flight at once, at most (runs.c): the page's default concurrency. WebKitGTK once left timing
 * cases without a result when they shared: the cause was a case opening a synchronous request beside them (its
 * send() blocks the page process the others share), and such a case now has precision 0 and runs alone
 * (routes.c ch_case_precision_ms; README, "Speed", has the runs that checked it). */
#define CH_SHARE_MAX 4
#define CH_STRAY_MAX 200
#define CH_MAX_ORIGINS 64      /* the 7 origins and the fault listeners of the tokens in flight */
#define CH_INSECURE_HOST "insecure.test" /* origin D's name: .test is reserved (RFC 6761 §6.2), never resolvable */

/* One origin of the run (origins.c): a listener as a URL names it. */
struct ch_run_origin {
    char name[24];      /* "A" ... "D", "SF-expired": the placeholders {A}, {origin-SA}, {host-D} */
    char scheme[8];     /* "http", "https" */
    char host[256];     /* as a URL writes it: "localhost", "127.0.0.1", "insecure.test", "[::1]" */
    int port;
    char hostport[272]; /* the Host a request names it by ("localhost:41001"; no port when the default) */
    char url[288];      /* its serialization (RFC 6454 §6.2), as an Origin header sends it */
    const struct ch_token *token; /* a token's fault listener (in the list while it is open); NULL: the run's */
};

/* One bound origin (or a token's fault listener): its sockets and what its connections share. */
struct ch_listener {
    struct ch_server *srv;
    struct ch_conn_listener conn; /* origin number, name, TLS context */
    struct ch_token *token;       /* a fault listener's token: its connections are attached at accept */
    struct evconnlistener *v4, *v6;
    int port;
};

struct ch_server {
    struct event_base *base;
    const struct ch_serve_opts *opts;
    double scale;
    struct ch_exec_env env;     /* what every scripted reply shares: the loop, the time scale, the fixtures */
    struct ch_listener listeners[CH_ORIGINS];
    int port[CH_ORIGINS];      /* 0: not served (the TLS origins without a run folder) */
    struct ch_run_origin origins[CH_MAX_ORIGINS]; /* the run's origins: origins.c is the only writer */
    int norigins;
    char secret[65];            /* the run's secret (README, "Security"): hex of 32 random bytes */
    struct ch_pki *pki;        /* the run's certificates (NULL: no TLS) */
    SSL_CTX *good_ctx, *fault_ctx[CH_FAULTS];
    struct ch_conn_listener adopted[CH_FAULTS]; /* ch_server_adopt_tls's listeners of the fault contexts */
    char ca_path[4096], spki_good[CH_PKI_SPKI_B64_LEN];
    json_t *cases_json;         /* the expanded case set, as `runner list --json` */
    struct ch_case *cases;
    size_t ncases;
    struct ch_map *case_by_id, *tokens, *runs;
    struct ch_arena *arena;     /* where every token's transcript records (core.h); freed after the tokens */
    uint64_t next_conn, next_token, next_run;
    struct ch_waiter *waiters;
    int inflight;               /* tokens handed out by `next` without a verdict yet */
    struct ch_token *timing[CH_SHARE_MAX]; /* the `timing` cases in flight (runs.c: they share, or run alone) */
    int ntiming;
    json_t *stray;              /* the last CH_STRAY_MAX requests that belonged to no case */
    struct ch_conn_owner owner;
    struct event *sigint, *sigterm, *quit;
    struct ch_map *conns;       /* live connections by id, to close them at shutdown */
};

/* ---- origins.c ---- */

/* Binds every origin of the table (the TLS ones, with the run's certificates, when opts->run_dir is set). */
int ch_origins_bind(struct ch_server *srv, char *err);
void ch_origins_free(struct ch_server *srv);
/* {NAME: URL} (or {NAME: PORT} with `ports`) of the origins served: each name's first origin, no fault
 * listener. New reference. */
json_t *ch_origins_json(const struct ch_server *srv, int ports);
/* Binds a listener per fault the case uses (`uses`: CH_USES_* bits) for token t, and sets its placeholders
 * {SF-NAME}, {origin-SF-NAME}, {host-SF-NAME} in t->vars. Returns 0, or -1 with err. */
int ch_faults_open(struct ch_server *srv, struct ch_token *t, unsigned uses, char *err);
/* Closes them (their connections live on until they end or the case is over). */
void ch_faults_close(struct ch_token *t);
/* Registers an origin of the run: from now on a request naming host:port in its Host, and a page whose Origin
 * is scheme://host:port, belong to the run. Call it for every listener, and again with another host for each
 * other name the same listener is reached by; a token's fault listener with its token. Several entries may share a name; the first one registered is
 * the one placeholders, the ready line and programs use. NULL when the table is full or a field too long. */
const struct ch_run_origin *ch_origin_add(struct ch_server *srv, const char *name, const char *scheme, const char *host,
                                      int port, const struct ch_token *token);
/* Forgets the origins registered for `token` (its fault listeners, closed). */
void ch_origins_remove(struct ch_server *srv, const struct ch_token *token);
/* The first origin registered under `name` (never a fault listener's), or NULL. */
const struct ch_run_origin *ch_origin_named(const struct ch_server *srv, const char *name);
/* The origin a Host header value names (host [":" port]), or NULL: then the request is not the run's. */
const struct ch_run_origin *ch_origin_by_host(const struct ch_server *srv, const char *host);
/* The origin an Origin header value serializes, or NULL ("null", another site, another port). */
const struct ch_run_origin *ch_origin_by_url(const struct ch_server *srv, const char *origin);

/* ---- requests.c ---- */

/* The connection owner's dispatch: every complete request comes here. */
void ch_requests_dispatch(struct ch_conn *c, struct ch_request *r, void *srv);

/* ---- conns.c ---- */

/* The connection owner's `opened`: every live connection is known by id. */
void ch_conns_opened(struct ch_conn *c, void *srv);
/* The connection owner's `closed`: forgets the connection and any long-poll it held. */
void ch_conns_closed(struct ch_conn *c, void *srv);
/* A case is over (its verdict is in): close the connections still held or streaming for it, so that nothing a
 * case left open (a `hold`, an endless stream, a socket a browser keeps) reaches the next. */
void ch_conns_release(struct ch_server *srv, const struct ch_token *t);
/* Shutdown: closes every connection. */
void ch_conns_close_all(struct ch_server *srv);

/* ---- control.c ---- */

void ch_control_dispatch(struct ch_server *srv, struct ch_conn *c, struct ch_request *req);

/* ---- tokens.c ---- */

/* A new token for a run of case k (run NULL for /_h/program), registered in srv->tokens. Never NULL. */
struct ch_token *ch_token_new(struct ch_server *srv, struct ch_case *k, struct ch_run *run);
void ch_token_free(struct ch_token *t);
/* The program a client runs for the token (PROTOCOL.md §2), or NULL with err. */
json_t *ch_token_program(struct ch_server *srv, struct ch_token *t, char *err);
/* The token's verdict as `GET /_h/verdict` returns it; with `full`, its observations, transcript and vars. */
json_t *ch_token_verdict(const struct ch_token *t, int full);
/* A verdict not yet known: {"status": "PENDING", "issued": true, "token", "age_ms"}. */
json_t *ch_token_pending(const struct ch_token *t);

/* ---- runs.c ---- */

/* A new run of `client` over `cases` (case ids, all known; NULL: every case), registered in srv->runs. */
struct ch_run *ch_run_new(struct ch_server *srv, const char *client, const json_t *cases, int concurrency,
                          const json_t *polyfill);
void ch_run_free(struct ch_run *r);
/* How many timing cases, k included, may be in flight while timing case k is (runs.c). */
int ch_case_share(const struct ch_server *srv, const struct ch_case *k);
/* The next program of a run, {"done": true}, or NULL when the caller must wait (PROTOCOL.md `next`). */
json_t *ch_run_next(struct ch_server *srv, struct ch_run *run);
/* Something changed (cases queued, a run closed, a verdict came): answers the `next` long-polls that can be. */
void ch_runs_wake(struct ch_server *srv);
/* A verdict for t (stolen): the token leaves the in-flight count, its connections close, its long-polls get
 * the verdict, and waiting runs move on. */
void ch_runs_verdict(struct ch_server *srv, struct ch_token *t, json_t *verdict);

/* ---- waiters.c ---- */

/* Holds the connection until reply (ch_waiter_reply) or `ms` pass (then {"idle": true} for NEXT, the pending
 * verdict for VERDICT). */
void ch_waiter_add(struct ch_server *srv, struct ch_conn *c, enum ch_wait_kind kind, struct ch_run *run,
                   struct ch_token *t, int ms, int full);
/* Ends a wait with a reply (j stolen); the waiter is freed. */
void ch_waiter_reply(struct ch_waiter *w, json_t *j);
/* Forgets the long-polls of a connection that went away. */
void ch_waiters_cancel(struct ch_server *srv, struct ch_conn *c);

/* ---- stray.c ---- */

/* A request that belongs to no case, and why. */
void ch_stray_remember(struct ch_server *srv, struct ch_conn *c, struct ch_request *r, const char *why);
/* A TLS connection that ended before its handshake completed and before any token claimed it (a client that
 * refused the certificate of a shared origin): "tls: WHY". */
void ch_stray_tls(struct ch_server *srv, struct ch_conn *c);

/* ---- static.c ---- */

/* GET /_h/static/REL: the file REL under the fixtures directory, or 404. */
void ch_static_reply(struct ch_server *srv, struct ch_conn *c, const char *rel, const char *charset,
                     const char *if_none_match);

/* ---- reply.c ---- */

/* Every /_h/ reply carries these: nothing caches it. No page of another origin may read it, unless the reply
 * grants that origin (ch_reply_json_cors): README, "Security". */
#define CH_CONTROL_HEADERS "Cache-Control: no-store\r\n"

/* A JSON reply (j stolen) with the control headers; the request ends (the connection may be gone after). */
void ch_reply_json(struct ch_conn *c, int status, json_t *j);
/* The same, readable by a page of `allow_origin` (one of the run's origins; NULL: none): ACAO and Vary: Origin. */
void ch_reply_json_cors(struct ch_conn *c, int status, json_t *j, const char *allow_origin);
/* {"error": MESSAGE} with the status. */
void ch_reply_error(struct ch_conn *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"error": MESSAGE} (at most 511 bytes of it), for a reply of the caller's. */
json_t *ch_error_jsonv(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
