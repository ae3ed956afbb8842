/* exec.c — the executor (exec.h): one step loop for every step word of a route, before and after an upgrade.
 * Exactly the scripted bytes are written: nothing here adds a header, a length or a date. */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void exec_continue(struct ch_exec *x);

/* ---- lifetime ------------------------------------------------------------------------------------------- */

void ch_exec_free(struct ch_exec *x)
{
    if (x->up) x->up->free(x->engine);
    ch_zip_free(x);
    if (x->timer) event_free(x->timer);
    if (x->dry) evbuffer_free(x->dry);
    if (x->pending) evbuffer_free(x->pending);
    if (x->staged) evbuffer_free(x->staged);
    for (size_t i = 0; x->bodies && i < x->route->nsteps; i++)
        if (x->bodies[i]) evbuffer_free(x->bodies[i]);
    free(x->bodies);
    json_decref(x->local);
    free(x);
}

/* The connection went away under us (the client closed, a limit, shutdown): stop, touch nothing of it. */
static void exec_gone(void *arg)
{
    struct ch_exec *x = arg;
    if (x->up) x->up->gone(x);
    ch_exec_free(x);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct ch_exec *x = arg;
    if (x->up && x->up->resume(x) < 0) return; /* the engine ended the connection */
    exec_continue(x);
}

struct timeval ch_exec_tv(const struct ch_exec *x, int64_t ms)
{
    int64_t wall = ch_scale_ms(ms, x->env->scale);
    return (struct timeval){(time_t)(wall / 1000), (suseconds_t)(wall % 1000) * 1000};
}

struct event *ch_exec_timer(struct ch_exec *x)
{
    if (!x->timer) x->timer = evtimer_new(x->env->base, on_timer, x);
    return x->timer;
}

enum ch_step_result ch_exec_sleep(struct ch_exec *x, int64_t ms)
{
    ch_exec_flush(x);
    struct timeval tv = ch_exec_tv(x, ms);
    /* Timers count from the loop's cached time, which may be stale by the time an op runs: refresh it, or
     * a pause after a slow write would end early. */
    event_base_update_cache_time(x->env->base);
    evtimer_add(ch_exec_timer(x), &tv);
    return CH_STEP_YIELD;
}

void ch_exec_wake(struct ch_exec *x)
{
    event_active(ch_exec_timer(x), EV_TIMEOUT, 1);
}

/* ---- output --------------------------------------------------------------------------------------------- */

void ch_exec_write(struct ch_exec *x, const void *data, size_t n)
{
    if (x->dry) {
        evbuffer_add(x->dry, data, n);
        x->dry_writes++;
        return;
    }
    ch_conn_write(x->conn, data, n);
    ch_transcript_sent(x->tr, ch_now_us(), x->conn->id, x->reqno, data, n);
}

struct evbuffer *ch_exec_out(struct ch_exec *x) { return x->trickle_bytes ? x->pending : x->staged; }

void ch_exec_emit(struct ch_exec *x, const void *data, size_t n)
{
    if (n == 0) return;
    evbuffer_add(ch_exec_out(x), data, n);
}

void ch_exec_flush(struct ch_exec *x)
{
    size_t n = evbuffer_get_length(x->staged);
    if (n == 0) return;
    ch_exec_write(x, evbuffer_pullup(x->staged, -1), n);
    evbuffer_drain(x->staged, n);
}

/* Writes the next trickle slice, then pauses (FORMAT.md §4.3: N bytes, then the pause, every time). */
static void drip(struct ch_exec *x)
{
    size_t n = evbuffer_get_length(x->pending);
    if (n > x->trickle_bytes) n = x->trickle_bytes;
    ch_exec_write(x, evbuffer_pullup(x->pending, (ev_ssize_t)n), n);
    evbuffer_drain(x->pending, n);
    ch_exec_sleep(x, x->trickle_ms);
}

/* ---- the end of a response ------------------------------------------------------------------------------- */

static void on_drained(struct ch_conn *c, void *arg)
{
    struct ch_exec *x = arg;
    enum ch_conn_end end = x->end;
    ch_transcript_end(x->tr, ch_now_us(), c->id, x->reqno);
    ch_exec_free(x);
    ch_conn_finish(c, end); /* may free c */
}

/* The steps are over: a plain reply ends once its bytes are written; an engine decides for an upgraded one. */
static void exec_finish(struct ch_exec *x)
{
    x->finished = 1;
    ch_exec_flush(x);
    if (x->dry) return;
    if (x->up) {
        x->up->steps_over(x, x->end);
        return;
    }
    ch_conn_when_drained(x->conn, on_drained, x);
}

enum ch_step_result ch_exec_end(struct ch_exec *x, enum ch_conn_end how)
{
    x->end = how;
    x->over = 1;
    return CH_STEP_NEXT;
}

static void record_error(struct ch_exec *x, const char *why)
{
    ch_transcript_add(x->tr, ch_now_us(), "script-error", json_pack("{s:s}", "message", why));
}

/* A script that cannot run before anything was written (a fixture vanished, a placeholder failed at run time)
 * answers 500 and says why, in the reply and in the transcript. */
static void script_error(struct ch_exec *x, const char *why)
{
    char body[CH_ERR_LEN + 64];
    int n = snprintf(body, sizeof body, "script error: %s\n", why);
    record_error(x, why);
    struct ch_conn *c = x->conn;
    ch_conn_set_gone(c, NULL, NULL);
    ch_exec_free(x);
    ch_conn_reply(c, 500, "Script Error", "text/plain; charset=utf-8", NULL, body, (size_t)n);
}

/* A step that fails after the head may have gone out cannot answer 500 any more: it is recorded, and the
 * connection is closed (which frees the executor through exec_gone). */
enum ch_step_result ch_exec_fail(struct ch_exec *x, const struct ch_step *s, const char *why)
{
    if (x->dry) { /* rendering at load: the route is rendered for each request instead, and fails there */
        x->dry_failed = 1;
        return CH_STEP_OWNED;
    }
    if (x->up) {
        x->up->fail(x, s, why);
        return CH_STEP_OWNED;
    }
    record_error(x, why);
    ch_conn_close(x->conn, "error");
    return CH_STEP_OWNED;
}

/* ---- the step loop -------------------------------------------------------------------------------------- */

/* Each op says where it may run: on a plain reply, after the upgrade, or both (the parser refuses the rest;
 * a hand-written case JSON may not). Returns 0, or -1 after failing the step (the executor is freed). */
static int phase_ok(struct ch_exec *x, const struct ch_step *s)
{
    char why[128];
    if (s->op->flags & (x->up ? CH_OP_UPGRADED : CH_OP_PLAIN)) return 0;
    if (x->up) snprintf(why, sizeof why, "'%s' cannot follow ws-accept", s->op->name);
    else snprintf(why, sizeof why, "line %d: %s before ws-accept", s->line, s->op->name);
    ch_exec_fail(x, s, why);
    return -1;
}

static void exec_continue(struct ch_exec *x)
{
    while (!x->finished) {
        if (x->pending && evbuffer_get_length(x->pending) > 0) {
            ch_exec_flush(x);
            drip(x);
            return;
        }
        if (x->over || x->pc == x->route->nsteps) {
            if (x->head_open) {
                x->head_open = 0;
                ch_exec_emit(x, "\r\n", 2);
                continue; /* a trickle may hold the CRLF */
            }
            exec_finish(x);
            return;
        }
        const struct ch_step *s = &x->route->steps[x->pc++];
        if (phase_ok(x, s) < 0) return;
        unsigned flags = s->op->flags;
        if (x->head_open && !(flags & CH_OP_HEAD)) {
            x->head_open = 0;
            ch_exec_emit(x, "\r\n", 2);
        }
        if (flags & CH_OP_HEAD) x->head_open = 1;
        if (!(flags & CH_OP_STAGE)) ch_exec_flush(x);
        switch (s->op->run(x, s)) {
        case CH_STEP_NEXT:
            if (x->up) ch_exec_flush(x); /* after an upgrade, bytes leave at once, as frames do */
            break;
        case CH_STEP_YIELD: ch_exec_flush(x); return;
        case CH_STEP_OWNED: return; /* x is freed */
        }
    }
}

/* ---- placeholders and payloads ---------------------------------------------------------------------------- */

/* This request's headers as req:<lowercase name> (first occurrence wins), when the route mentions them. */
static void add_request_headers(json_t *v, const struct ch_request *r)
{
    for (size_t i = 0; i < r->nfields; i++) {
        const struct ch_header *f = &r->fields[i];
        char key[256];
        size_t k = (size_t)snprintf(key, sizeof key, "req:%s", r->head + f->name);
        for (size_t j = 4; j < k && j < sizeof key; j++)
            if (key[j] >= 'A' && key[j] <= 'Z') key[j] = (char)(key[j] + 32);
        /* The value as the transcript shows it (valid JSON whatever the bytes: core.h, ch_header_json). */
        if (!json_object_get(v, key)) json_object_set_new(v, key, ch_header_json(r->head + f->value, f->value_len));
    }
}

static void set_body_length(json_t *v, long long n)
{
    char len[32];
    snprintf(len, sizeof len, "%lld", n);
    json_object_set_new(v, "body-length", json_string(len));
}

const json_t *ch_exec_local(struct ch_exec *x)
{
    if (!x->local) {
        x->local = json_object();
        if (x->route->uses_req) add_request_headers(x->local, x->req);
        if (x->body_length >= 0) set_body_length(x->local, x->body_length);
    }
    return x->local;
}

int ch_exec_fill(struct ch_exec *x, const char *text, size_t n, struct evbuffer *out, char *err)
{
    size_t len;
    if (!ch_tmpl_has_braces(text, n)) { /* nothing to fill: the common case */
        evbuffer_add(out, text, n);
        return 0;
    }
    char *s = ch_tmpl_fill2(text, n, ch_exec_local(x), x->vars, x->env->scale, &len, err);
    if (!s) return -1;
    evbuffer_add(out, s, len);
    free(s);
    return 0;
}

int ch_exec_payload(struct ch_exec *x, const json_t *step, struct evbuffer *out, char *err)
{
    const json_t *text = json_object_get(step, "text");
    const char *hex = json_string_value(json_object_get(step, "hex"));
    if (text) return ch_exec_fill(x, json_string_value(text), json_string_length(text), out, err);
    if (!hex) return ch_errf(err, "line %d: no text or hex", (int)json_integer_value(json_object_get(step, "line")));
    size_t n;
    unsigned char *b = ch_hex_decode(hex, &n, err);
    if (!b) return -1;
    evbuffer_add(out, b, n);
    free(b);
    return 0;
}

/* ---- starting ------------------------------------------------------------------------------------------- */

/* Renders every body op now, so that {body-length} is known before the head is written. */
static int render_bodies(struct ch_exec *x, char *err)
{
    size_t total = 0;
    x->bodies = ch_xcalloc(x->route->nsteps, sizeof *x->bodies);
    for (size_t i = 0; i < x->route->nsteps; i++) {
        const struct ch_step *s = &x->route->steps[i];
        if (!s->op->render) continue;
        x->bodies[i] = evbuffer_new();
        if (s->op->render(x, s, x->bodies[i], err) < 0) return -1;
        if (s->op->flags & CH_OP_BODY) total += evbuffer_get_length(x->bodies[i]);
    }
    ch_zip_free(x); /* a stream whose data steps all rendered is ended already */
    x->body_length = (long long)total;
    if (x->local) set_body_length(x->local, x->body_length); /* built while rendering a body */
    return 0;
}

static struct ch_exec *exec_new(const struct ch_exec_env *env, struct ch_conn *c, struct ch_transcript *tr,
                                const json_t *vars, const struct ch_route *route, int reqno)
{
    struct ch_exec *x = ch_xcalloc(1, sizeof *x);
    x->env = env;
    x->conn = c;
    x->tr = tr;
    x->vars = vars;
    x->req = c ? c->req : NULL;
    x->route = route;
    x->reqno = reqno;
    x->end = CH_END_KEEP;
    x->staged = evbuffer_new();
    x->body_length = -1;
    return x;
}

/* A route rendered at load: its bytes in one write and one `sent` event, then `end` once they have left, as
 * the steps would have done (exec_finish, on_drained). Only when the socket does not take them at once does
 * the reply need an executor, to wait for the drain. */
static void fixed_reply(const struct ch_exec_env *env, struct ch_conn *c, struct ch_transcript *tr,
                        const json_t *vars, const struct ch_route *route, int reqno)
{
    int64_t now = 0;
    if (route->fixed_len) {
        ch_conn_write(c, route->fixed, route->fixed_len);
        ch_transcript_sent_kept(tr, now = ch_now_us(), c->id, reqno, route->fixed, route->fixed_len);
    }
    if (evbuffer_get_length(c->out) == 0) { /* written at once: `end` is the instant `sent` was */
        ch_transcript_end(tr, now ? now : ch_now_us(), c->id, reqno);
        ch_conn_finish(c, route->fixed_end);
        return;
    }
    struct ch_exec *x = exec_new(env, c, tr, vars, route, reqno);
    x->finished = 1;
    x->end = route->fixed_end;
    ch_conn_set_gone(c, exec_gone, x);
    ch_conn_when_drained(c, on_drained, x);
}

void ch_exec_start(const struct ch_exec_env *env, struct ch_conn *c, struct ch_transcript *tr, const json_t *vars,
                   const struct ch_route *route, int reqno)
{
    char err[CH_ERR_LEN];
    if (route->has_fixed) {
        fixed_reply(env, c, tr, vars, route, reqno);
        return;
    }
    struct ch_exec *x = exec_new(env, c, tr, vars, route, reqno);
    ch_conn_set_gone(c, exec_gone, x);
    if (render_bodies(x, err) < 0) {
        script_error(x, err);
        return;
    }
    exec_continue(x);
}

/* ---- routes rendered at load -------------------------------------------------------------------------------- */

/* Whether every step may be rendered at load: flagged CH_OP_FIXED, no `body file` (read when the reply runs),
 * no generated body past CH_FIXED_MAX, no {req:...}. Placeholders that need a token fail the dry run instead. */
static int fixable(const struct ch_route *r)
{
    if (r->uses_req) return 0;
    for (size_t i = 0; i < r->nsteps; i++) {
        const json_t *s = r->steps[i].json, *gen = json_object_get(s, "gen");
        if (!(r->steps[i].op->flags & CH_OP_FIXED) || json_object_get(s, "file")) return 0;
        if (gen && (!json_is_integer(gen) || json_integer_value(gen) > CH_FIXED_MAX)) return 0;
    }
    return 1;
}

void ch_route_prerender(struct ch_route *r, double scale)
{
    char err[CH_ERR_LEN];
    r->has_fixed = 0;
    if (!fixable(r)) return;
    /* No token's values: a {token}, {A}, {case}... fails the step, and the route stays rendered per request. */
    json_t *none = json_object();
    struct ch_exec_env env = {NULL, scale, NULL};
    struct ch_exec *x = exec_new(&env, NULL, NULL, none, r, 0);
    x->dry = evbuffer_new();
    if (render_bodies(x, err) == 0) {
        exec_continue(x);
        size_t n = evbuffer_get_length(x->dry);
        if (x->finished && !x->dry_failed && x->dry_writes <= 1 && n <= CH_FIXED_MAX) {
            r->fixed = ch_xmalloc(n ? n : 1);
            evbuffer_remove(x->dry, r->fixed, n);
            r->fixed_len = n;
            r->fixed_end = x->end;
            r->has_fixed = 1;
        }
    }
    ch_exec_free(x);
    json_decref(none);
}
