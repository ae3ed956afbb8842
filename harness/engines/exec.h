/* exec.h — the executor as op functions see it (internal to harness/engines/).
 *
 * The executor runs a route's steps in order until one yields (a wait, a trickle pause, an await) and resumes
 * on its timer. Bytes go through ch_exec_emit(): staged, and written as one run (one socket write, one `sent`
 * transcript event) at the next pause, hand-over or the end of the steps; through the trickle instead, if one is
 * on. When the steps end and output has drained, the executor records `end` and finishes the connection as the
 * steps asked (keep-alive, close, reset, shutdown, hold). If the connection goes away first, the executor stops
 * and frees itself; nothing is written after that.
 *
 * An op may upgrade the connection (ws-accept): it sets `up` and `engine`, and from then on a protocol engine
 * owns the connection's input while the same executor keeps running the route's remaining steps — only ops
 * flagged CH_OP_UPGRADED; bytes are written after each op, as the engine writes its frames. The engine's hooks
 * say what a resumption, the end of the steps, a failed step and a departed client mean for its protocol. */
#ifndef CH_EXEC_H
#define CH_EXEC_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "engines.h"

struct ch_zip;

/* A protocol engine that took the connection over (ws.c). Every hook gets the executor; `engine` is its state. */
struct ch_upgrade_ops {
    /* The executor's timer fired (a wait ended, an await was met, the first turn after the upgrade): the
     * engine reads what it deferred. 0 to run the steps on; -1 when the engine ended (the executor is freed). */
    int (*resume)(struct ch_exec *x);
    /* The steps are over: `how` is what a close, reset or hold step asked for, CH_END_KEEP when they ran out
     * (or the engine ended them). The engine may free the executor. */
    void (*steps_over)(struct ch_exec *x, enum ch_conn_end how);
    /* A step cannot run (`why`, without the line): the engine ends the connection its way and frees the
     * executor. */
    void (*fail)(struct ch_exec *x, const struct ch_step *s, const char *why);
    /* The connection went away (the client left, the server shut down): record it; the executor is freed
     * right after. Touch nothing of the connection. */
    void (*gone)(struct ch_exec *x);
    void (*free)(void *engine);
};

struct ch_exec {
    const struct ch_exec_env *env;
    struct ch_conn *conn;
    struct ch_transcript *tr;
    const json_t *vars;        /* the token's placeholder values */
    struct ch_request *req;    /* borrowed from the connection until the response ends */
    const struct ch_route *route;
    int reqno;                 /* the request's number within its token */
    size_t pc;                 /* next step */
    int over;                  /* the steps are over before their end (close, reset, shutdown, hold; an engine) */
    int finished;              /* the end of the steps was handled: the executor never steps again */
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
    struct ch_zip *zip;        /* while the bodies are rendered: the content coding of body data (compress.c) */
    const struct ch_upgrade_ops *up; /* after an upgrade: the engine that owns the connection's input */
    void *engine;
    /* Rendering a route at load (ch_route_prerender): no connection, no transcript; writes are collected here
     * and counted, and a failed step only sets dry_failed. */
    struct evbuffer *dry;
    int dry_writes, dry_failed;
};

/* Adds bytes to the step output (see above). */
void ch_exec_emit(struct ch_exec *x, const void *data, size_t n);

/* Where emitted bytes go now: staged for the next write, or pending when they are trickled. An op that renders
 * straight into it (header) saves a copy. */
struct evbuffer *ch_exec_out(struct ch_exec *x);

/* Writes the staged bytes now (one run). Ops that write to the connection themselves call it first. */
void ch_exec_flush(struct ch_exec *x);

/* Writes n bytes to the connection now and records them as a `sent` event of this request. */
void ch_exec_write(struct ch_exec *x, const void *data, size_t n);

/* The executor's timer (created on first use: most replies never wait). */
struct event *ch_exec_timer(struct ch_exec *x);

/* Sleeps `ms` of case time (scaled), then resumes the steps. Returns CH_STEP_YIELD for the op to return. */
enum ch_step_result ch_exec_sleep(struct ch_exec *x, int64_t ms);

/* Resumes the steps on the next loop turn (after the engine hook `resume`). */
void ch_exec_wake(struct ch_exec *x);

/* Ends the steps the way a close/reset/shutdown/hold step does: they take effect once everything before is
 * written. Returns CH_STEP_NEXT for the op to return. */
enum ch_step_result ch_exec_end(struct ch_exec *x, enum ch_conn_end how);

/* A step that cannot run: before an upgrade it is recorded as a `script-error` (the message `why` as given)
 * and the connection closes; after one, the engine ends it its way. The executor is freed: returns
 * CH_STEP_OWNED for the op to return. */
enum ch_step_result ch_exec_fail(struct ch_exec *x, const struct ch_step *s, const char *why);

/* Frees an executor (and its engine). The connection is not touched. */
void ch_exec_free(struct ch_exec *x);

/* This request's own placeholder values (body-length, req:*), which shadow its token's (core.h's
 * ch_tmpl_fill2): built on first use, since most steps hold no placeholder. */
const json_t *ch_exec_local(struct ch_exec *x);

/* Fills placeholders of a text (n bytes) into out. Returns 0 or -1 with err. */
int ch_exec_fill(struct ch_exec *x, const char *text, size_t n, struct evbuffer *out, char *err);

/* Fills placeholders of a step payload ({"text"} or {"hex"}) into out. Returns 0 or -1 with err. */
int ch_exec_payload(struct ch_exec *x, const json_t *step, struct evbuffer *out, char *err);

/* Content-codes a data step's bytes in place when a `compress` stream is on (compress.c); the segment's last
 * data step ends the stream. Returns 0 or -1 with err. */
int ch_zip_code(struct ch_exec *x, const struct ch_step *s, struct evbuffer *data, char *err);
/* Ends a `compress` stream still open (the end of rendering, or the executor's end). */
void ch_zip_free(struct ch_exec *x);

/* Milliseconds of case time → a timeval of wall time under the server's time scale. */
struct timeval ch_exec_tv(const struct ch_exec *x, int64_t ms);

#endif
