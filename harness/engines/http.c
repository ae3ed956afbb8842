/* http.c — scripted HTTP replies: the executor (exec.h) and the HTTP step words (cases/FORMAT.md §4).
 * Exactly the scripted bytes are written: nothing here adds a header, a length or a date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "core/core.h"

static void exec_continue(struct ch_exec *x);

/* ---- lifetime ------------------------------------------------------------------------------------------- */

void ch_exec_free(struct ch_exec *x)
{
    if (x->timer) event_free(x->timer);
    if (x->pending) evbuffer_free(x->pending);
    if (x->staged) evbuffer_free(x->staged);
    for (size_t i = 0; x->bodies && i < x->route->nsteps; i++)
        if (x->bodies[i]) evbuffer_free(x->bodies[i]);
    free(x->bodies);
    json_decref(x->local);
    free(x);
}

/* The connection went away under us (the client closed, a limit): stop, touch nothing of it. */
static void exec_gone(void *arg)
{
    ch_exec_free(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    exec_continue(arg);
}

int64_t ch_scaled_ms(const struct ch_server *srv, int64_t ms)
{
    return (int64_t)(ms * srv->scale + 0.5);
}

enum ch_step_result ch_exec_sleep(struct ch_exec *x, int64_t ms)
{
    ch_exec_flush(x);
    int64_t wall = ch_scaled_ms(x->srv, ms);
    /* Timers count from the loop's cached time, which may be stale by the time an op runs: refresh it, or
     * a pause after a slow write would end early. */
    event_base_update_cache_time(x->srv->base);
    struct timeval tv = {(time_t)(wall / 1000), (suseconds_t)(wall % 1000) * 1000};
    evtimer_add(x->timer, &tv);
    return CH_STEP_YIELD;
}

void ch_exec_resume(struct ch_exec *x)
{
    exec_continue(x);
}

/* ---- output --------------------------------------------------------------------------------------------- */

static void write_recorded(struct ch_exec *x, const void *data, size_t n)
{
    ch_conn_write(x->conn, data, n);
    ch_transcript_sent(x->tok->tr, ch_now_us(), x->conn->id, x->reqno, data, n);
}

/* Where emitted bytes go: staged for the next write, or pending when they are trickled. */
static struct evbuffer *emit_target(struct ch_exec *x) { return x->trickle_bytes ? x->pending : x->staged; }

void ch_exec_emit(struct ch_exec *x, const void *data, size_t n)
{
    if (n == 0) return;
    evbuffer_add(emit_target(x), data, n);
}

void ch_exec_flush(struct ch_exec *x)
{
    size_t n = evbuffer_get_length(x->staged);
    if (n == 0) return;
    write_recorded(x, evbuffer_pullup(x->staged, -1), n);
    evbuffer_drain(x->staged, n);
}

static void emit_buffer(struct ch_exec *x, struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    if (n) ch_exec_emit(x, evbuffer_pullup(b, -1), n);
}

/* Writes the next trickle slice, then pauses (FORMAT.md §4.3: N bytes, then the pause, every time). */
static void drip(struct ch_exec *x)
{
    size_t n = evbuffer_get_length(x->pending);
    if (n > x->trickle_bytes) n = x->trickle_bytes;
    write_recorded(x, evbuffer_pullup(x->pending, (ev_ssize_t)n), n);
    evbuffer_drain(x->pending, n);
    ch_exec_sleep(x, x->trickle_ms);
}

/* ---- the end of a response ------------------------------------------------------------------------------- */

static void on_drained(struct ch_conn *c, void *arg)
{
    struct ch_exec *x = arg;
    enum ch_conn_end end = x->end;
    ch_transcript_end(x->tok->tr, ch_now_us(), c->id, x->reqno);
    ch_exec_free(x);
    ch_conn_finish(c, end); /* may free c */
}

static void exec_done(struct ch_exec *x)
{
    ch_exec_flush(x);
    ch_conn_when_drained(x->conn, on_drained, x);
}

/* A script that cannot run (a fixture vanished, a placeholder failed at run time) answers 500 and says why,
 * in the reply and in the transcript. */
static void script_error(struct ch_exec *x, const char *why)
{
    char body[CH_ERR_LEN + 64];
    int n = snprintf(body, sizeof body, "script error: %s\n", why);
    ch_transcript_add(x->tok->tr, ch_now_us(), "script-error", json_pack("{s:s}", "message", why));
    struct ch_conn *c = x->conn;
    ch_conn_set_gone(c, NULL, NULL);
    ch_exec_free(x);
    ch_conn_reply(c, 500, "Script Error", "text/plain; charset=utf-8", NULL, body, (size_t)n);
}

/* ---- the step loop -------------------------------------------------------------------------------------- */

static void exec_continue(struct ch_exec *x)
{
    for (;;) {
        if (x->pending && evbuffer_get_length(x->pending) > 0) {
            ch_exec_flush(x);
            drip(x);
            return;
        }
        if (x->pc == x->route->nsteps) {
            if (x->head_open) {
                x->head_open = 0;
                ch_exec_emit(x, "\r\n", 2);
                continue; /* a trickle may hold the CRLF */
            }
            exec_done(x);
            return;
        }
        const struct ch_step *s = &x->route->steps[x->pc++];
        if (x->head_open && !s->def->head) {
            x->head_open = 0;
            ch_exec_emit(x, "\r\n", 2);
        }
        if (s->def->head) x->head_open = 1;
        if (!s->def->stage) ch_exec_flush(x);
        switch (s->def->run(x, s)) {
        case CH_STEP_NEXT: break;
        case CH_STEP_YIELD: ch_exec_flush(x); return;
        case CH_STEP_OWNED: return; /* x belongs to the op now (or is gone) */
        }
    }
}

/* ---- payloads ----------------------------------------------------------------------------------------- */

static int fill_text(struct ch_exec *x, const char *text, size_t n, struct evbuffer *out, char *err)
{
    size_t len;
    if (!ch_tmpl_has_braces(text, n)) { /* nothing to fill: the common case */
        evbuffer_add(out, text, n);
        return 0;
    }
    char *s = ch_tmpl_fill2(text, n, ch_exec_local(x), x->tok->vars, x->srv->scale, &len, err);
    if (!s) return -1;
    evbuffer_add(out, s, len);
    free(s);
    return 0;
}

int ch_exec_payload(struct ch_exec *x, const json_t *step, struct evbuffer *out, char *err)
{
    const json_t *text = json_object_get(step, "text");
    const char *hex = json_string_value(json_object_get(step, "hex"));
    if (text) return fill_text(x, json_string_value(text), json_string_length(text), out, err);
    if (!hex) return ch_errf(err, "line %d: no text or hex", (int)json_integer_value(json_object_get(step, "line")));
    size_t n;
    unsigned char *b = ch_hex_decode(hex, &n, err);
    if (!b) return -1;
    evbuffer_add(out, b, n);
    free(b);
    return 0;
}

/* `gen N` (FORMAT.md §4.2): lines of 64 characters cycling through 0-9a-z, each followed by LF. */
static void gen_bytes(size_t n, struct evbuffer *out)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    char block[4096];
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof block && i < n; k++, i++) block[k] = i % 65 == 64 ? '\n' : alphabet[(i % 65) % 36];
        evbuffer_add(out, block, k);
    }
}

static int file_bytes(struct ch_exec *x, const char *rel, struct evbuffer *out, char *err)
{
    char path[4096];
    size_t n;
    if (strstr(rel, "..") || rel[0] == '/') return ch_errf(err, "fixture path '%s' leaves fixtures/", rel);
    snprintf(path, sizeof path, "%s/%s", x->srv->opts->fixtures_dir, rel);
    char *b = ch_read_file(path, &n, err);
    if (!b) return -1;
    evbuffer_add(out, b, n);
    free(b);
    return 0;
}

/* The data of a body/chunk step: text, hex, file or gen. */
static int step_data(struct ch_exec *x, const json_t *s, struct evbuffer *out, char *err)
{
    const json_t *gen = json_object_get(s, "gen");
    const char *file = json_string_value(json_object_get(s, "file"));
    if (json_is_integer(gen)) {
        gen_bytes((size_t)json_integer_value(gen), out);
        return 0;
    }
    if (file) return file_bytes(x, file, out, err);
    return ch_exec_payload(x, s, out, err);
}

static void add_chunk(struct evbuffer *out, struct evbuffer *data, size_t n)
{
    evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_remove_buffer(data, out, n);
    evbuffer_add(out, "\r\n", 2);
}

/* ---- HTTP ops ------------------------------------------------------------------------------------------- */

static enum ch_step_result op_status(struct ch_exec *x, const struct ch_step *s)
{
    const json_t *reason = json_object_get(s->json, "reason");
    char code[16];
    int n = snprintf(code, sizeof code, "%d ", (int)json_integer_value(json_object_get(s->json, "code")));
    ch_exec_emit(x, "HTTP/1.1 ", 9);
    ch_exec_emit(x, code, (size_t)n);
    if (reason) ch_exec_emit(x, json_string_value(reason), json_string_length(reason));
    ch_exec_emit(x, "\r\n", 2);
    return CH_STEP_NEXT;
}

/* A step that fails after the head may have gone out cannot answer 500 any more: it is recorded, and the
 * connection is closed (which frees the executor through exec_gone). */
static enum ch_step_result fail_mid(struct ch_exec *x, const char *why)
{
    ch_transcript_add(x->tok->tr, ch_now_us(), "script-error", json_pack("{s:s}", "message", why));
    ch_conn_close(x->conn, "error");
    return CH_STEP_OWNED;
}

static enum ch_step_result emit_rendered(struct ch_exec *x, struct evbuffer *b, const char *err)
{
    if (!b) return fail_mid(x, err);
    emit_buffer(x, b);
    return CH_STEP_NEXT;
}

static enum ch_step_result op_header(struct ch_exec *x, const struct ch_step *s)
{
    char err[CH_ERR_LEN];
    const json_t *name = json_object_get(s->json, "name"), *value = json_object_get(s->json, "value");
    /* The line is rendered into the staged bytes directly: header steps are stageable. */
    struct evbuffer *out = emit_target(x);
    evbuffer_add(out, json_string_value(name), json_string_length(name));
    evbuffer_add(out, ": ", 2);
    if (fill_text(x, json_string_value(value), json_string_length(value), out, err) < 0) return fail_mid(x, err);
    evbuffer_add(out, "\r\n", 2);
    return CH_STEP_NEXT;
}

static enum ch_step_result op_raw(struct ch_exec *x, const struct ch_step *s, const char *suffix)
{
    char err[CH_ERR_LEN];
    struct evbuffer *b = evbuffer_new();
    int rc = ch_exec_payload(x, s->json, b, err);
    evbuffer_add(b, suffix, strlen(suffix));
    enum ch_step_result r = emit_rendered(x, rc == 0 ? b : NULL, err);
    evbuffer_free(b);
    return r;
}

static enum ch_step_result op_header_raw(struct ch_exec *x, const struct ch_step *s) { return op_raw(x, s, "\r\n"); }
static enum ch_step_result op_send(struct ch_exec *x, const struct ch_step *s) { return op_raw(x, s, ""); }

static enum ch_step_result op_body(struct ch_exec *x, const struct ch_step *s)
{
    emit_buffer(x, x->bodies[s - x->route->steps]);
    return CH_STEP_NEXT;
}

static int render_body(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    const json_t *chunks = json_object_get(s->json, "chunks"), *c;
    size_t i;
    if (!json_is_array(chunks)) return step_data(x, s->json, out, err);
    struct evbuffer *data = evbuffer_new();
    int rc = step_data(x, s->json, data, err);
    json_array_foreach(chunks, i, c) {
        size_t want = (size_t)json_integer_value(c), have = evbuffer_get_length(data);
        if (rc < 0 || have == 0) break;
        add_chunk(out, data, want < have ? want : have);
    }
    if (rc == 0 && evbuffer_get_length(data) > 0) add_chunk(out, data, evbuffer_get_length(data));
    evbuffer_free(data);
    return rc;
}

static int render_chunk(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    struct evbuffer *data = evbuffer_new();
    int rc = step_data(x, s->json, data, err);
    if (rc == 0) add_chunk(out, data, evbuffer_get_length(data));
    evbuffer_free(data);
    return rc;
}

static int render_chunk_end(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    evbuffer_add(out, "0\r\n\r\n", 5);
    return 0;
}

/* `echo`: what the client sent, as JSON (FORMAT.md §4.2). */
static int render_echo(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    struct ch_request *r = x->req;
    size_t n = evbuffer_get_length(r->body);
    const unsigned char *body = n ? evbuffer_pullup(r->body, -1) : (const unsigned char *)"";
    char sha[65], version[8];
    ch_sha256_hex(body, n, sha);
    snprintf(version, sizeof version, "%d.%d", r->major, r->minor);
    json_t *j = json_pack("{s:s, s:s, s:s, s:O, s:I, s:s}", "method", r->method, "target", r->target, "version",
                          version, "headers", r->headers, "body_size", (json_int_t)n, "body_sha256", sha);
    json_t *bytes = json_object();
    ch_json_set_bytes(bytes, body, n);
    json_object_set(j, json_object_get(bytes, "text") ? "body_text" : "body_hex",
                    json_object_get(bytes, "text") ? json_object_get(bytes, "text") : json_object_get(bytes, "hex"));
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    evbuffer_add(out, text, strlen(text));
    free(text);
    json_decref(bytes);
    json_decref(j);
    return 0;
}

static enum ch_step_result op_wait(struct ch_exec *x, const struct ch_step *s)
{
    return ch_exec_sleep(x, json_integer_value(json_object_get(s->json, "ms")));
}

static enum ch_step_result op_trickle(struct ch_exec *x, const struct ch_step *s)
{
    x->trickle_bytes = (size_t)json_integer_value(json_object_get(s->json, "bytes"));
    if (!x->pending) x->pending = evbuffer_new(); /* only trickled replies need it */
    x->trickle_ms = json_integer_value(json_object_get(s->json, "ms"));
    return CH_STEP_NEXT;
}

static enum ch_step_result op_trickle_off(struct ch_exec *x, const struct ch_step *s)
{
    x->trickle_bytes = 0;
    return CH_STEP_NEXT;
}

/* close, reset, shutdown and hold end the steps: they take effect once everything before is written. */
static enum ch_step_result end_with(struct ch_exec *x, enum ch_conn_end how)
{
    x->end = how;
    x->pc = x->route->nsteps;
    return CH_STEP_NEXT;
}

static enum ch_step_result op_close(struct ch_exec *x, const struct ch_step *s) { return end_with(x, CH_END_CLOSE); }
static enum ch_step_result op_reset(struct ch_exec *x, const struct ch_step *s) { return end_with(x, CH_END_RESET); }
static enum ch_step_result op_shutdown(struct ch_exec *x, const struct ch_step *s) { return end_with(x, CH_END_SHUTDOWN); }
static enum ch_step_result op_hold(struct ch_exec *x, const struct ch_step *s) { return end_with(x, CH_END_HOLD); }

const struct ch_op_def ch_http_ops[] = {
    {"status", op_status, 1, 0, NULL, 1},
    {"header", op_header, 1, 0, NULL, 1},
    {"header-raw", op_header_raw, 1, 0, NULL, 1},
    {"body", op_body, 0, 1, render_body, 1},
    {"chunk", op_body, 0, 1, render_chunk, 1},
    {"chunk-end", op_body, 0, 1, render_chunk_end, 1},
    {"echo", op_body, 0, 1, render_echo, 1},
    {"send", op_send, 0, 0, NULL, 1},
    {"wait", op_wait, 0, 0, NULL, 0},
    {"trickle", op_trickle, 0, 0, NULL, 0},
    {"trickle-off", op_trickle_off, 0, 0, NULL, 0},
    {"close", op_close, 0, 0, NULL, 0},
    {"reset", op_reset, 0, 0, NULL, 0},
    {"shutdown", op_shutdown, 0, 0, NULL, 0},
    {"hold", op_hold, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, NULL, 0},
};

/* ---- starting ------------------------------------------------------------------------------------------- */

/* This request's headers as req:<lowercase name> (first occurrence wins), when the route mentions them. */
static void add_request_headers(json_t *v, const struct ch_request *r)
{
    json_t *h;
    size_t i;
    json_array_foreach(r->headers, i, h) {
        char key[256];
        const char *name = json_string_value(json_array_get(h, 0));
        size_t k = (size_t)snprintf(key, sizeof key, "req:%s", name);
        for (size_t j = 4; j < k && j < sizeof key; j++)
            if (key[j] >= 'A' && key[j] <= 'Z') key[j] = (char)(key[j] + 32);
        if (!json_object_get(v, key)) json_object_set(v, key, json_array_get(h, 1));
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

/* Renders every body op now, so that {body-length} is known before the head is written. */
static int render_bodies(struct ch_exec *x, char *err)
{
    size_t total = 0;
    x->bodies = calloc(x->route->nsteps ? x->route->nsteps : 1, sizeof *x->bodies);
    if (!x->bodies) return ch_errf(err, "out of memory");
    for (size_t i = 0; i < x->route->nsteps; i++) {
        const struct ch_step *s = &x->route->steps[i];
        if (!s->def->render) continue;
        x->bodies[i] = evbuffer_new();
        if (s->def->render(x, s, x->bodies[i], err) < 0) return -1;
        if (s->def->body) total += evbuffer_get_length(x->bodies[i]);
    }
    x->body_length = (long long)total;
    if (x->local) set_body_length(x->local, x->body_length); /* built while rendering a body */
    return 0;
}

void ch_exec_start(struct ch_server *srv, struct ch_conn *c, struct ch_token *tok, const struct ch_route *route,
                   int reqno)
{
    char err[CH_ERR_LEN];
    struct ch_exec *x = calloc(1, sizeof *x);
    if (!x) {
        ch_conn_close(c, "error");
        return;
    }
    x->srv = srv;
    x->conn = c;
    x->tok = tok;
    x->req = c->req;
    x->route = route;
    x->reqno = reqno;
    x->end = CH_END_KEEP;
    x->staged = evbuffer_new();
    x->timer = evtimer_new(srv->base, on_timer, x);
    x->body_length = -1;
    ch_conn_set_gone(c, exec_gone, x);
    if (render_bodies(x, err) < 0) {
        script_error(x, err);
        return;
    }
    exec_continue(x);
}
