/* state.h — the server's state: tokens, runs, waiters, listeners. Shared by server.c (lifecycle) and control.c
 * (the /_h/ endpoints). Single-threaded: all of it lives on one libevent loop. */
#ifndef CH_STATE_H
#define CH_STATE_H

#include <event2/listener.h>
#include <jansson.h>
#include <stdint.h>

#include "core/core.h"
#include "engines/engines.h"
#include "net/net.h"
#include "server.h"

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
    struct ch_exec_env env;     /* what every scripted reply shares: the loop, the time scale, the fixtures */
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
