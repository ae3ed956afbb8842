/* http.c — the HTTP/1.1 step words (cases/FORMAT.md §4.1-§4.3): the head, bodies, chunks, raw bytes, pauses and
 * how a reply ends. Each writes exactly what the step says, through the executor (exec.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "exec.h"

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

/* `body file PATH`: checked again now (core.h's ch_path_within: the parser's rule), read whole. */
static int file_bytes(struct ch_exec *x, const char *rel, struct evbuffer *out, char *err)
{
    char path[PATH_MAX];
    size_t n;
    enum ch_path_fault f = ch_path_within(x->env->fixtures, rel, strlen(rel), path, NULL);
    if (f == CH_PATH_MISSING) return ch_errf(err, "no fixture file '%s' under %s/", rel, x->env->fixtures);
    if (f != CH_PATH_OK) return ch_errf(err, "fixture path '%s' leaves fixtures/", rel);
    char *b = ch_read_file(path, &n, err);
    if (!b) return -1;
    evbuffer_add(out, b, n);
    free(b);
    return 0;
}

/* The data of a body/chunk step: text, hex, file or gen (content-coded after `compress`: body_data). */
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

/* A data step's bytes as sent: its data, content-coded when a `compress` stream is on (compress.c). */
static int body_data(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    int rc = step_data(x, s->json, out, err);
    return rc == 0 ? ch_zip_code(x, s, out, err) : rc;
}

static void add_chunk(struct evbuffer *out, struct evbuffer *data, size_t n)
{
    evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_remove_buffer(data, out, n);
    evbuffer_add(out, "\r\n", 2);
}

/* ---- the head -------------------------------------------------------------------------------------------- */

enum ch_step_result ch_op_status(struct ch_exec *x, const struct ch_step *s)
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

enum ch_step_result ch_op_header(struct ch_exec *x, const struct ch_step *s)
{
    char err[CH_ERR_LEN];
    const json_t *name = json_object_get(s->json, "name"), *value = json_object_get(s->json, "value");
    /* The line is rendered into the staged bytes directly: header steps are stageable. */
    struct evbuffer *out = ch_exec_out(x);
    evbuffer_add(out, json_string_value(name), json_string_length(name));
    evbuffer_add(out, ": ", 2);
    if (ch_exec_fill(x, json_string_value(value), json_string_length(value), out, err) < 0)
        return ch_exec_fail(x, s, err);
    evbuffer_add(out, "\r\n", 2);
    return CH_STEP_NEXT;
}

/* A payload step's bytes and a suffix, emitted. */
static enum ch_step_result emit_payload(struct ch_exec *x, const struct ch_step *s, const char *suffix)
{
    char err[CH_ERR_LEN];
    struct evbuffer *b = evbuffer_new();
    int rc = ch_exec_payload(x, s->json, b, err);
    evbuffer_add(b, suffix, strlen(suffix));
    size_t n = evbuffer_get_length(b);
    if (rc == 0 && n) ch_exec_emit(x, evbuffer_pullup(b, -1), n);
    evbuffer_free(b);
    return rc == 0 ? CH_STEP_NEXT : ch_exec_fail(x, s, err);
}

enum ch_step_result ch_op_header_raw(struct ch_exec *x, const struct ch_step *s) { return emit_payload(x, s, "\r\n"); }

/* `send`: raw bytes, no framing, anywhere (before a head, instead of one, after a WebSocket upgrade). */
enum ch_step_result ch_op_send(struct ch_exec *x, const struct ch_step *s) { return emit_payload(x, s, ""); }

/* ---- bodies: rendered before the first step runs (exec.c), emitted when their step runs ------------------------ */

enum ch_step_result ch_op_body(struct ch_exec *x, const struct ch_step *s)
{
    struct evbuffer *b = x->bodies[s - x->route->steps];
    size_t n = evbuffer_get_length(b);
    if (n) ch_exec_emit(x, evbuffer_pullup(b, -1), n);
    return CH_STEP_NEXT;
}

int ch_render_body(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    const json_t *chunks = json_object_get(s->json, "chunks"), *c;
    size_t i;
    if (!json_is_array(chunks)) return body_data(x, s, out, err);
    struct evbuffer *data = evbuffer_new();
    int rc = body_data(x, s, data, err);
    json_array_foreach(chunks, i, c) {
        size_t want = (size_t)json_integer_value(c), have = evbuffer_get_length(data);
        if (rc < 0 || have == 0) break;
        add_chunk(out, data, want < have ? want : have);
    }
    if (rc == 0 && evbuffer_get_length(data) > 0) add_chunk(out, data, evbuffer_get_length(data));
    evbuffer_free(data);
    return rc;
}

int ch_render_chunk(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    struct evbuffer *data = evbuffer_new();
    int rc = body_data(x, s, data, err);
    if (rc == 0) add_chunk(out, data, evbuffer_get_length(data));
    evbuffer_free(data);
    return rc;
}

int ch_render_chunk_end(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    evbuffer_add(out, "0\r\n\r\n", 5);
    return 0;
}

/* `echo`: what the client sent, as JSON (FORMAT.md §4.2). */
int ch_render_echo(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    struct ch_request *r = x->req;
    size_t n;
    const unsigned char *body = ch_request_body(r, &n);
    char sha[CH_SHA256_HEX_SIZE], version[8];
    ch_sha256_hex(body, n, sha);
    snprintf(version, sizeof version, "%d.%d", r->major, r->minor);
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:I, s:s}", "method", r->method, "target", r->target, "version",
                          version, "headers", ch_request_headers_json(r), "body_size", (json_int_t)n, "body_sha256",
                          sha);
    json_t *bytes = json_object();
    ch_json_set_bytes(bytes, body, n);
    json_object_set(j, json_object_get(bytes, "text") ? "body_text" : "body_hex",
                    json_object_get(bytes, "text") ? json_object_get(bytes, "text") : json_object_get(bytes, "hex"));
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    evbuffer_add(out, text, strlen(text));
    free(text);
    json_decref(bytes);
    json_decref(j);
    return ch_zip_code(x, s, out, err);
}

/* ---- time and the end ------------------------------------------------------------------------------------ */

enum ch_step_result ch_op_wait(struct ch_exec *x, const struct ch_step *s)
{
    return ch_exec_sleep(x, json_integer_value(json_object_get(s->json, "ms")));
}

enum ch_step_result ch_op_trickle(struct ch_exec *x, const struct ch_step *s)
{
    x->trickle_bytes = (size_t)json_integer_value(json_object_get(s->json, "bytes"));
    if (!x->pending) x->pending = evbuffer_new(); /* only trickled replies need it */
    x->trickle_ms = json_integer_value(json_object_get(s->json, "ms"));
    return CH_STEP_NEXT;
}

enum ch_step_result ch_op_trickle_off(struct ch_exec *x, const struct ch_step *s)
{
    x->trickle_bytes = 0;
    return CH_STEP_NEXT;
}

/* close, reset, shutdown and hold end the steps: they take effect once everything before is written (after a
 * WebSocket upgrade the engine decides what they mean, ws.c). `close bare`: on TLS, FIN without close_notify. */
enum ch_step_result ch_op_close(struct ch_exec *x, const struct ch_step *s)
{
    return ch_exec_end(x, json_is_true(json_object_get(s->json, "bare")) ? CH_END_CLOSE_BARE : CH_END_CLOSE);
}
enum ch_step_result ch_op_reset(struct ch_exec *x, const struct ch_step *s) { return ch_exec_end(x, CH_END_RESET); }
enum ch_step_result ch_op_shutdown(struct ch_exec *x, const struct ch_step *s) { return ch_exec_end(x, CH_END_SHUTDOWN); }
enum ch_step_result ch_op_hold(struct ch_exec *x, const struct ch_step *s) { return ch_exec_end(x, CH_END_HOLD); }

/* `notify`: close_notify now (everything before it written first), TCP stays open; on a connection without
 * TLS a script error (the route answered an http origin). */
enum ch_step_result ch_op_notify(struct ch_exec *x, const struct ch_step *s)
{
    char err[CH_ERR_LEN], why[CH_ERR_LEN + 16];
    if (ch_conn_notify(x->conn, err) == 0) return CH_STEP_NEXT;
    snprintf(why, sizeof why, "line %d: %s", s->line, err);
    return ch_exec_fail(x, s, why);
}
