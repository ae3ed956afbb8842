/* engines.h — the one public header of harness/engines/: running a route's steps for one request (the scripted
 * reply, cases/FORMAT.md §4, harness/MODEL.md §1.1).
 *
 * One executor (exec.c) runs every step of a route in order, before and after a WebSocket upgrade. What a step
 * does is its op: a row of the case language's one table of server step words (harness/case/script_server.c)
 * names the op's functions below and its flags. Adding a step word = one row there + one op function here.
 *
 *   exec.c          the executor: the step loop, output (staged, trickled), payloads, the end of a reply
 *   http.c          HTTP/1.1 step words: status, header, body, chunk, send, wait, trickle, close, ...
 *   compress.c      content coding of body data (gzip, deflate; zlib)
 *   sse.c           event-stream step words (sse-*)
 *   ws.c            the WebSocket engine: ws-accept upgrades the connection; ws-* words run after it
 *   ws_frame.c, ws_handshake.c   the WebSocket codec (internal: ws.h)
 *
 * The engines know nothing of tokens, runs or the control protocol: the server starts a reply with the
 * transcript and the placeholder values of the request's token (ch_exec_start). */
#ifndef CH_ENGINES_H
#define CH_ENGINES_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "net/net.h"

struct ch_exec;
struct ch_step;
struct ch_transcript;

/* What an op function tells the executor. */
enum ch_step_result {
    CH_STEP_NEXT,  /* done; run the next step */
    CH_STEP_YIELD, /* the op scheduled the executor's resumption (a timer, an awaited frame) */
    CH_STEP_OWNED, /* the executor is freed (the op closed or failed the connection): the step loop stops and
                    * touches nothing */
};

/* What every op function is: it runs step s of the executor's route. */
typedef enum ch_step_result ch_op_run(struct ch_exec *x, const struct ch_step *s);
/* What a body op's render function is: it renders the step's bytes into out before the reply's first step
 * runs (so {body-length} is known before the head is written). Returns 0, or -1 with err. */
typedef int ch_op_render(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err);

/* Op flags. */
enum {
    CH_OP_HEAD = 1 << 0,     /* belongs to the response head; any other op first ends an open head with CRLF */
    CH_OP_BODY = 1 << 1,     /* its rendered bytes count in {body-length} */
    CH_OP_DATA = 1 << 2,     /* its rendered bytes are body data: after `compress`, they are content-coded */
    CH_OP_STAGE = 1 << 3,    /* only adds bytes through ch_exec_emit, so they may join the bytes staged before it
                              * in one write; without it, staged bytes are written before the op runs (an op that
                              * writes itself, waits or hands over never reorders the stream) */
    CH_OP_PLAIN = 1 << 4,    /* runs on a plain HTTP reply (before any upgrade) */
    CH_OP_UPGRADED = 1 << 5, /* runs after ws-accept upgraded the connection */
    CH_OP_FIXED = 1 << 6,    /* what it writes depends only on its own fields, placeholders aside: a route of such
                              * steps whose placeholders are known at load is rendered once (ch_route_prerender) */
};

/* A server op (MODEL.md §1.1): the name in case JSON and what runs it. `render` is set for body ops only. */
struct ch_op {
    const char *name;
    ch_op_run *run;
    ch_op_render *render;
    unsigned flags;
};

/* One step of a compiled route. */
struct ch_step {
    const struct ch_op *op;
    const json_t *json; /* borrowed from the case JSON */
    int line;
};

/* A compiled `server` section (the server compiles and matches them: harness/server/routes.c). */
struct ch_route {
    const char *method, *path; /* borrowed */
    int prefix, nth, nth_plus, origin; /* nth 0 = any; origin -1 = any */
    const char *when_name, *when_value; /* borrowed; NULL: any request (`when NAME VALUE`, FORMAT.md §4) */
    struct ch_step *steps;
    size_t nsteps;
    int line;
    int uses_req; /* some step text holds a {req:...} placeholder: the executor fills request headers */
    /* A reply fixed at load (ch_route_prerender): `fixed_len` bytes written as one run, then the reply ends as
     * `fixed_end` says. Without `has_fixed`, the steps run for each request. */
    int has_fixed;
    char *fixed;
    size_t fixed_len;
    enum ch_conn_end fixed_end;
};

/* What every reply of a server shares. */
struct ch_exec_env {
    struct event_base *base;
    double scale;          /* time scale: multiplies every scripted duration */
    const char *fixtures;  /* the directory `body file` paths are under */
};

/* Runs `route` for the request the connection holds (it is RESPONDING): records into `tr` (this request is
 * number `reqno` of its token), fills placeholders from `vars` (tmpl, core.h). tr and vars must outlive the
 * connection. The executor ends the response as the steps ask (ch_conn_finish) or closes the connection; if
 * the connection goes away first it stops and frees itself. */
void ch_exec_start(const struct ch_exec_env *env, struct ch_conn *c, struct ch_transcript *tr, const json_t *vars,
                   const struct ch_route *route, int reqno);

/* Renders a route once, at load, when its reply cannot differ between requests: every step is flagged
 * CH_OP_FIXED, no body reads a file, no text holds a placeholder other than {body-length} and {ms:N} (so no
 * {token}, no {req:...}), and the steps write their bytes in one run (nothing waits or trickles). The same op
 * functions render it, on no connection, under the time scale `scale`; the bytes are kept only if they fit in
 * CH_FIXED_MAX. Such a route is then answered by writing those bytes: the reply, its `sent` and `end` events
 * are the ones the steps would make. Sets r->has_fixed (free r->fixed with the route, and only after every
 * transcript that recorded a reply of it: ch_transcript_sent_kept); leaves it 0 otherwise. */
#define CH_FIXED_MAX (64 * 1024)
void ch_route_prerender(struct ch_route *r, double scale);

/* ---- the ops (their rows, with the words, are in harness/case/script_server.c) ------------------------------ */

/* http.c; body ops emit what their render function made */
ch_op_run ch_op_status, ch_op_header, ch_op_header_raw, ch_op_body, ch_op_send, ch_op_wait, ch_op_trickle,
    ch_op_trickle_off, ch_op_close, ch_op_reset, ch_op_shutdown, ch_op_hold, ch_op_notify;
ch_op_render ch_render_body, ch_render_chunk, ch_render_chunk_end, ch_render_echo;

/* compress.c: `compress gzip|deflate|off` codes the data of the body, chunk and echo steps after it */
ch_op_run ch_op_compress;
ch_op_render ch_render_compress;

/* sse.c: every sse-* word */
ch_op_run ch_op_sse;

/* ws.c */
ch_op_run ch_op_ws_accept, ch_op_ws_send, ch_op_ws_close, ch_op_ws_echo, ch_op_ws_await, ch_op_ws_on_close;

#endif
