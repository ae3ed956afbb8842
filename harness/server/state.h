/* state.h — the server's state: compiled cases, tokens, runs, waiters. Shared by server.c (lifecycle),
 * control.c (the /_h/ endpoints), http.c (scripted replies) and the protocol engines. Single-threaded: all of
 * it lives on one libevent loop. */
#ifndef CH_STATE_H
#define CH_STATE_H

#include <event2/listener.h>
#include <jansson.h>
#include <stdint.h>

#include "net/net.h"
#include "core/core.h"
#include "server.h"

struct ch_exec;
struct ch_step;

/* What an op function tells the executor (http.c). */
enum ch_step_result {
    CH_STEP_NEXT,  /* done; run the next step */
    CH_STEP_YIELD, /* the op scheduled its own continuation; it will call ch_exec_resume() */
    CH_STEP_OWNED, /* the executor is the op's now (an upgrade took the connection) or already freed (the
                    * op closed the connection): the step loop stops and touches nothing */
};

/* One server step word (harness/MODEL.md §1.1). `head` marks ops that belong to the response head; any other
 * op first ends an open head with CRLF. `body` marks ops whose bytes count in {body-length}. */
struct ch_op_def {
    const char *name;
    enum ch_step_result (*run)(struct ch_exec *x, const struct ch_step *s);
    int head, body;
    /* Renders the bytes of a body op into out (NULL for other ops). Returns 0 or -1 with err. */
    int (*render)(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err);
    /* 1: the op only adds bytes through ch_exec_emit, so they may join the bytes staged before it into one
     * write. 0 (the default for engines' ops): staged bytes are written before the op runs, so an op that
     * writes to the connection itself, waits or hands over never reorders the stream. */
    int stage;
};

struct ch_step {
    const struct ch_op_def *def;
    const json_t *json; /* borrowed from the case JSON */
    int line;
};

struct ch_route {
    const char *method, *path; /* borrowed */
    int prefix, nth, nth_plus, origin; /* nth 0 = any; origin -1 = any */
    struct ch_step *steps;
    size_t nsteps;
    int line;
    int uses_req; /* some step text holds a {req:...} placeholder: the executor fills request headers */
};

struct ch_case {
    json_t *json; /* owned */
    const char *id;
    struct ch_route *routes;
    size_t nroutes;
    int timing; /* tagged `timing`: runs alone */
};

struct ch_run;

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

#define CH_MAX_LISTENERS 6
#define CH_STRAY_MAX 200

struct ch_server {
    struct event_base *base;
    const struct ch_serve_opts *opts;
    double scale;
    struct evconnlistener *listeners[CH_MAX_LISTENERS];
    int nlisteners, port[3];
    char origin[3][64], host[3][64];
    json_t *cases_json;         /* the expanded case set, as `runner list --json` */
    struct ch_case *cases;
    size_t ncases;
    struct ch_map *case_by_id, *tokens, *runs;
    uint64_t next_conn, next_token, next_run;
    struct ch_waiter *waiters;
    int inflight;               /* tokens handed out by `next` without a verdict yet */
    struct ch_token *timing;    /* a `timing` case in flight: nothing else is handed out */
    json_t *stray;              /* the last CH_STRAY_MAX requests that belonged to no case */
    struct ch_conn_owner owner;
    struct event *sigint, *sigterm, *quit;
    struct ch_map *conns;       /* live connections by id, to close them at shutdown */
};

/* Milliseconds of case time → milliseconds of wall time under the run's time scale. */
int64_t ch_scaled_ms(const struct ch_server *srv, int64_t ms);

/* route.c: compiles a case's server routes (refusing ops no engine knows) and matches requests. */
int ch_case_compile(struct ch_case *k, json_t *json, char *err);
void ch_case_release(struct ch_case *k);
const struct ch_route *ch_case_match(const struct ch_case *k, const char *method, const char *path, int origin,
                                     int nth);
const struct ch_op_def *ch_op_find(const char *name);

/* http.c: runs the matched route for a request on a connection. */
void ch_exec_start(struct ch_server *srv, struct ch_conn *c, struct ch_token *tok, const struct ch_route *route,
                   int reqno);

/* server.c: a case is over (its verdict is in): close the connections still held or streaming for it, so
 * that nothing a case left open (a `hold`, an endless stream, a socket a browser keeps) reaches the next. */
void ch_server_release_token(struct ch_server *srv, struct ch_token *t);

/* control.c */
void ch_control_dispatch(struct ch_server *srv, struct ch_conn *c, struct ch_request *req);
void ch_control_cancel_waiters(struct ch_server *srv, struct ch_conn *c);
struct ch_token *ch_token_new(struct ch_server *srv, struct ch_case *k, struct ch_run *run);
void ch_token_free(struct ch_token *t);
void ch_run_free(struct ch_run *r);

#endif
