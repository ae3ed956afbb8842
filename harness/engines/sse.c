/* sse.c — see sse.h. Section references are to the HTML Standard §9.2 "Server-sent events"
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
#include "sse.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "core/core.h"

/* ---- line ends, fields, data -------------------------------------------------------------------------- */

int ch_sse_eol_parse(const char *name, enum ch_sse_eol *eol)
{
    static const char *const names[] = {"lf", "cr", "crlf"};
    if (!name) {
        *eol = CH_SSE_LF;
        return 0;
    }
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *eol = (enum ch_sse_eol)i;
            return 0;
        }
    return -1;
}

const char *ch_sse_eol_bytes(enum ch_sse_eol eol)
{
    return eol == CH_SSE_CRLF ? "\r\n" : eol == CH_SSE_CR ? "\r" : "\n";
}

static void put_eol(struct evbuffer *out, enum ch_sse_eol eol)
{
    const char *e = ch_sse_eol_bytes(eol);
    evbuffer_add(out, e, strlen(e));
}

void ch_sse_put_field(struct evbuffer *out, const char *name, size_t nlen, const char *value, size_t vlen,
                      enum ch_sse_eol eol)
{
    evbuffer_add(out, name, nlen);
    if (value) {
        evbuffer_add(out, ": ", 2);
        evbuffer_add(out, value, vlen);
    }
    put_eol(out, eol);
}

/* The next line of s[*pos..n): its start and length; *pos moves past its line end (§9.2.5: CRLF, LF or CR).
 * Returns 0 when there is no next line. A value ending in a line end has an empty last line. */
static int next_line(const char *s, size_t n, size_t *pos, int *more, size_t *start, size_t *len)
{
    if (!*more) return 0;
    size_t i = *pos;
    *start = i;
    while (i < n && s[i] != '\r' && s[i] != '\n') i++;
    *len = i - *start;
    if (i == n) {
        *more = 0;
    } else {
        i += (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') ? 2 : 1;
    }
    *pos = i;
    return 1;
}

size_t ch_sse_put_data(struct evbuffer *out, const char *value, size_t n, enum ch_sse_eol eol)
{
    size_t pos = 0, start, len, lines = 0;
    int more = 1;
    while (next_line(value, n, &pos, &more, &start, &len)) {
        ch_sse_put_field(out, "data", 4, value + start, len, eol);
        lines++;
    }
    return lines;
}

/* Appends what a client's data buffer gets from one data value: each line and an LF (§9.2.6 "data"). */
static void data_as_dispatched(struct evbuffer *acc, const char *value, size_t n)
{
    size_t pos = 0, start, len;
    int more = 1;
    while (next_line(value, n, &pos, &more, &start, &len)) {
        evbuffer_add(acc, value + start, len);
        evbuffer_add(acc, "\n", 1);
    }
}

/* ---- rendering one step ------------------------------------------------------------------------------- */

struct fill {
    const struct ch_sse_vars *v; /* NULL: no placeholder values */
    double scale;
    int line; /* the step's line, for errors */
};

/* A string of the step with placeholders filled: malloc'd into *s (NUL-terminated; may hold NUL bytes). */
static int fill_string(const struct fill *f, const json_t *v, const char *what, char **s, size_t *n, char *err)
{
    char why[CH_ERR_LEN];
    if (!json_is_string(v)) return ch_errf(err, "line %d: %s must be a string", f->line, what);
    const char *text = json_string_value(v);
    size_t len = json_string_length(v);
    /* Only a string with a brace needs the request's own values (building them costs memory per stream). */
    const json_t *local = f->v && f->v->local && ch_tmpl_has_braces(text, len) ? f->v->local(f->v->arg) : NULL;
    *s = ch_tmpl_fill2(text, len, local, f->v ? f->v->vars : NULL, f->scale, n, why);
    if (!*s) return ch_errf(err, "line %d: %s: %s", f->line, what, why);
    return 0;
}

/* Fields, comments and raw lines are one line each: a CR or LF inside would end it early (§9.2.5). */
static int one_line(const struct fill *f, const char *s, size_t n, const char *what, char *err)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n')
            return ch_errf(err, "line %d: %s holds a line end (write raw line ends with `send`)", f->line, what);
    return 0;
}

/* A filled, one-line string; absent (and allowed to be) gives *s = NULL. */
static int fill_line(const struct fill *f, const json_t *v, const char *what, char **s, size_t *n, char *err)
{
    *s = NULL;
    *n = 0;
    if (!v) return 0;
    if (fill_string(f, v, what, s, n, err) < 0) return -1;
    if (one_line(f, *s, *n, what, err) == 0) return 0;
    free(*s);
    *s = NULL;
    return -1;
}

static int step_eol(const struct fill *f, const json_t *step, enum ch_sse_eol *eol, char *err)
{
    const json_t *v = json_object_get(step, "eol");
    if (v && !json_is_string(v)) return ch_errf(err, "line %d: eol must be a string", f->line);
    if (ch_sse_eol_parse(json_string_value(v), eol) < 0)
        return ch_errf(err, "line %d: eol '%s' is not lf, cr or crlf", f->line, json_string_value(v));
    return 0;
}

/* `retry` (§9.2.6): an integer is milliseconds of case time, written scaled as ASCII digits; a string is
 * written as given (`"0{ms:400}"`, `"1000x"`, `""` — the values a client must parse or ignore). */
static int retry_text(const struct fill *f, const json_t *v, char **s, size_t *n, char *err)
{
    if (json_is_integer(v)) {
        json_int_t ms = json_integer_value(v);
        if (ms < 0) return ch_errf(err, "line %d: retry must not be negative", f->line);
        char buf[32];
        *n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)llround((double)ms * f->scale));
        *s = ch_xstrdup(buf);
        return 0;
    }
    return fill_line(f, v, "retry", s, n, err);
}

/* Sets summary[key] to a string of n bytes (text with NUL allowed: jansson keeps U+0000). */
static void summary_set(json_t *summary, const char *key, const char *s, size_t n)
{
    if (summary) json_object_set_new(summary, key, json_stringn(s, n));
}

/* Finishes the summary's data: the buffer without its last LF, as dispatched (§9.2.6 "dispatch the event"). */
static void summary_data(json_t *summary, struct evbuffer *acc, size_t lines)
{
    if (!summary) return;
    json_object_set_new(summary, "lines", json_integer((json_int_t)lines));
    size_t n = evbuffer_get_length(acc);
    if (!lines) return;
    n--; /* the last LF */
    size_t keep = n < CH_SSE_DATA_PREVIEW ? n : CH_SSE_DATA_PREVIEW;
    const char *d = keep ? (const char *)evbuffer_pullup(acc, (ev_ssize_t)keep) : "";
    /* A preview cut inside a UTF-8 sequence is shortened to the sequence's start, so it stays a string. */
    while (keep < n && keep > 0 && ((unsigned char)d[keep] & 0xc0) == 0x80) keep--;
    summary_set(summary, "data", d, keep);
    if (keep < n) json_object_set_new(summary, "data_truncated", json_true());
}

/* One [name, value] of an sse-event. */
static int event_field(const struct fill *f, const json_t *pair, enum ch_sse_eol eol, struct evbuffer *out,
                       struct evbuffer *acc, size_t *lines, json_t *summary, char *err)
{
    const char *name = json_string_value(json_array_get(pair, 0));
    const json_t *v = json_array_get(pair, 1);
    char *s = NULL;
    size_t n = 0;
    int rc;
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !name)
        return ch_errf(err, "line %d: sse-event fields are [name, value] pairs", f->line);
    if (strcmp(name, "data") == 0) {
        rc = fill_string(f, v, "data", &s, &n, err);
        if (rc == 0) {
            *lines += ch_sse_put_data(out, s, n, eol);
            data_as_dispatched(acc, s, n);
        }
    } else if (strcmp(name, "id") == 0 || strcmp(name, "event") == 0 || strcmp(name, "retry") == 0) {
        rc = strcmp(name, "retry") == 0 ? retry_text(f, v, &s, &n, err) : fill_line(f, v, name, &s, &n, err);
        if (rc == 0 && !s) rc = ch_errf(err, "line %d: %s has no value", f->line, name);
        if (rc == 0) {
            ch_sse_put_field(out, name, strlen(name), s, n, eol);
            summary_set(summary, name, s, n);
        }
    } else {
        rc = ch_errf(err, "line %d: sse-event has no field '%s' (id, event, retry, data)", f->line, name);
    }
    free(s);
    return rc;
}

/* `sse-event`: its fields in the order written, then the blank line that dispatches (§9.2.6). */
static int render_event(const struct fill *f, const json_t *step, enum ch_sse_eol eol, struct evbuffer *out,
                        json_t *summary, char *err)
{
    const json_t *fields = json_object_get(step, "fields"), *pair;
    size_t i, lines = 0;
    int rc = 0;
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return ch_errf(err, "line %d: sse-event needs at least one field", f->line);
    struct evbuffer *acc = evbuffer_new();
    json_array_foreach(fields, i, pair)
        if ((rc = event_field(f, pair, eol, out, acc, &lines, summary, err)) < 0) break;
    if (rc == 0) {
        put_eol(out, eol);
        summary_data(summary, acc, lines);
    }
    evbuffer_free(acc);
    return rc;
}

/* `sse-field NAME [VALUE]`: one line; without a value, the bare name. */
static int render_field(const struct fill *f, const json_t *step, enum ch_sse_eol eol, struct evbuffer *out,
                        json_t *summary, char *err)
{
    char *name = NULL, *value = NULL;
    size_t nn = 0, vn = 0;
    int rc = fill_line(f, json_object_get(step, "name"), "name", &name, &nn, err);
    if (rc == 0 && !name) rc = ch_errf(err, "line %d: sse-field needs a name", f->line);
    if (rc == 0) rc = fill_line(f, json_object_get(step, "value"), "value", &value, &vn, err);
    if (rc == 0) ch_sse_put_field(out, name, nn, value, vn, eol);
    free(name);
    free(value);
    return rc;
}

/* `sse-comment [TEXT]`: `: TEXT`, or a lone `:` (§9.2.6: a line starting with a colon is ignored). */
static int render_comment(const struct fill *f, const json_t *step, enum ch_sse_eol eol, struct evbuffer *out,
                          json_t *summary, char *err)
{
    char *text = NULL;
    size_t n = 0;
    if (fill_line(f, json_object_get(step, "value"), "comment", &text, &n, err) < 0) return -1;
    evbuffer_add(out, ":", 1);
    if (text) {
        evbuffer_add(out, " ", 1);
        evbuffer_add(out, text, n);
    }
    put_eol(out, eol);
    free(text);
    return 0;
}

/* `sse-line TEXT`: the text exactly, then the line end (`data:x` without the space, `data:\tx`, a BOM-prefixed
 * name...). */
static int render_line(const struct fill *f, const json_t *step, enum ch_sse_eol eol, struct evbuffer *out,
                       json_t *summary, char *err)
{
    char *text = NULL;
    size_t n = 0;
    if (fill_line(f, json_object_get(step, "value"), "line", &text, &n, err) < 0) return -1;
    if (!text) return ch_errf(err, "line %d: sse-line needs a value", f->line);
    evbuffer_add(out, text, n);
    put_eol(out, eol);
    free(text);
    return 0;
}

/* `sse-dispatch`: the blank line alone (§9.2.6: an empty line dispatches the event). */
static int render_dispatch(const struct fill *f, const json_t *step, enum ch_sse_eol eol, struct evbuffer *out,
                           json_t *summary, char *err)
{
    put_eol(out, eol);
    return 0;
}

typedef int (*render_fn)(const struct fill *, const json_t *, enum ch_sse_eol, struct evbuffer *, json_t *,
                         char *);

static const struct {
    const char *op;
    render_fn render;
} renderers[] = {
    {"sse-event", render_event},     {"sse-field", render_field},       {"sse-comment", render_comment},
    {"sse-line", render_line},       {"sse-dispatch", render_dispatch},
};

int ch_sse_render(const json_t *step, const struct ch_sse_vars *v, double time_scale, struct evbuffer *out,
                  json_t *summary, char *err)
{
    const char *op = json_string_value(json_object_get(step, "op"));
    struct fill f = {v, time_scale, (int)json_integer_value(json_object_get(step, "line"))};
    enum ch_sse_eol eol = CH_SSE_LF;
    if (step_eol(&f, step, &eol, err) < 0) return -1;
    for (size_t i = 0; op && i < sizeof renderers / sizeof renderers[0]; i++)
        if (strcmp(op, renderers[i].op) == 0) return renderers[i].render(&f, step, eol, out, summary, err);
    return ch_errf(err, "line %d: '%s' is not an sse step", f.line, op ? op : "(none)");
}

/* ---- running ------------------------------------------------------------------------------------------- */

/* Runs an sse step: renders it now (a stream's steps are not pre-rendered: the executor would keep every
 * one of them, at least a 1 KiB evbuffer chain each, until the reply ends — bench/sse_streams.py), emits the
 * bytes, and for `sse-event` records the `sse-event` transcript event (MODEL.md §2): what a conforming client
 * makes of them — id, event type, retry text and the dispatched data. The event is stamped when the step
 * runs; its bytes are in the next `sent` event (staged until the next wait, pause or end). A step that
 * cannot render (possible only for JSON the parser did not check) ends the stream: recorded as a script
 * error, then closed (FIN) after what was already emitted.
 *
 * The words are not `head`, not `body` (their bytes do not count in {body-length}; a framed event stream is
 * a `body` step), nothing pre-rendered, and stageable: they only add bytes through ch_exec_emit, so
 * consecutive steps (and a `send` before them) leave in one write, up to the next wait, pause or end. */
static const json_t *local_of(void *x) { return ch_exec_local(x); }

enum ch_step_result ch_op_sse(struct ch_exec *x, const struct ch_step *s)
{
    char err[CH_ERR_LEN];
    int event = strcmp(s->op->name, "sse-event") == 0;
    struct evbuffer *b = evbuffer_new();
    json_t *sum = event ? json_pack("{s:I, s:i}", "conn", (json_int_t)x->conn->id, "req", x->reqno) : NULL;
    struct ch_sse_vars v = {local_of, x, x->vars};
    if (ch_sse_render(s->json, &v, x->env->scale, b, sum, err) < 0) {
        evbuffer_free(b);
        json_decref(sum);
        ch_transcript_add(x->tr, ch_now_us(), "script-error", json_pack("{s:s}", "message", err));
        /* End like a `close` step: what was written before still goes out (closing now would discard it). */
        return ch_exec_end(x, CH_END_CLOSE);
    }
    size_t n = evbuffer_get_length(b);
    ch_exec_emit(x, evbuffer_pullup(b, -1), n);
    evbuffer_free(b);
    if (sum) {
        json_object_set_new(sum, "bytes", json_integer((json_int_t)n));
        ch_transcript_add(x->tr, ch_now_us(), "sse-event", sum);
    }
    return CH_STEP_NEXT;
}
