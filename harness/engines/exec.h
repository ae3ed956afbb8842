/* exec.h — running one route's steps for one request (the scripted reply), shared by the engines that add
 * step words (http.c, and issue 3's sse.c / ws.c).
 *
 * The executor runs steps in order until one yields (a wait, a trickle pause) and resumes on a timer. Bytes go
 * through ch_exec_emit(), which writes at once (or queues them for a trickle) and records a `sent` event in the
 * token's transcript. When the steps end and output has drained, the executor records `end` and finishes the
 * connection as the steps asked (keep-alive, close, reset, shutdown, hold). If the connection goes away first,
 * the executor stops and frees itself; nothing is written after that. */
#ifndef CH_EXEC_H
#define CH_EXEC_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "server/state.h"

struct ch_exec {
    struct ch_server *srv;
    struct ch_conn *conn;
    struct ch_token *tok;
    struct ch_request *req;    /* borrowed from the connection until the response ends */
    const struct ch_route *route;
    int reqno;                 /* the request's number within its token */
    size_t pc;                 /* next step */
    int head_open;             /* a status/header was written and the head's CRLF is not */
    size_t trickle_bytes;      /* 0 = full speed */
    int64_t trickle_ms;
    struct evbuffer *staged;   /* bytes emitted since the last write: written as one run at the next pause */
    struct evbuffer *pending;  /* bytes waiting to be trickled */
    struct evbuffer **bodies;  /* pre-rendered bytes of body ops, by step index (NULL for others) */
    struct event *timer;
    json_t *local;             /* this request's own placeholder values: body-length, req:* (on first use) */
    long long body_length;     /* -1 until the body ops are rendered */
    enum ch_conn_end end;
};

/* Adds bytes to the step output: staged, and written (one socket write, one `sent` transcript event) at the
 * next pause, hand-over or the end of the steps; through the trickle instead, if one is on. */
void ch_exec_emit(struct ch_exec *x, const void *data, size_t n);

/* Writes the staged bytes now (one run). Ops that write to the connection themselves call it first. */
void ch_exec_flush(struct ch_exec *x);

/* Sleeps `ms` of case time (scaled), then resumes the steps. Returns CH_STEP_YIELD for the op to return. */
enum ch_step_result ch_exec_sleep(struct ch_exec *x, int64_t ms);

/* Frees an executor (an op that returned CH_STEP_OWNED after taking the connection over calls it). */
void ch_exec_free(struct ch_exec *x);

/* Resumes the steps after an op returned CH_STEP_YIELD. */
void ch_exec_resume(struct ch_exec *x);

/* This request's own placeholder values (body-length, req:*), which shadow its token's (core.h's
 * ch_tmpl_fill2): built on first use, since most steps hold no placeholder. */
const json_t *ch_exec_local(struct ch_exec *x);

/* Fills placeholders of a step payload ({"text"} or {"hex"}) into out. Returns 0 or -1 with err. */
int ch_exec_payload(struct ch_exec *x, const json_t *step, struct evbuffer *out, char *err);

#endif
