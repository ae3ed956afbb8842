/* script_sse.c — the event-stream steps of server sections (cases/FORMAT.md §4.5) into the ops of
 * harness/MODEL.md §1.1: sse-event, sse-field, sse-comment, sse-line, sse-dispatch. Their rows are in
 * script_server.c's step table; they stand where body steps do. Values are words or strings with placeholders
 * (context "server"); U+0000 is allowed, a line end only inside `data` values (the server splits those). */
#include <string.h>

#include "script_int.h"

/* A trailing `eol lf|cr|crlf` sets "eol"; *end gets the number of words before it. */
static int trailing_eol(struct pctx *c, const struct stmt *st, json_t *step, size_t *end)
{
    static const char *const eols[] = {"lf", "cr", "crlf"};
    size_t n = sc_nwords(st);
    *end = n;
    if (n < 3 || !sc_is(st, n - 2, "eol")) return 0;
    for (size_t i = 0; i < 3; i++) {
        if (!sc_is(st, n - 1, eols[i])) continue;
        json_object_set_new(step, "eol", json_string(eols[i]));
        *end = n - 2;
        return 0;
    }
    return sc_err_word(c, st, n - 1, "eol takes lf, cr or crlf");
}

/* Word k as a value written on one line: no CR or LF in it. */
static json_t *line_value(struct pctx *c, const struct stmt *st, size_t k)
{
    json_t *v = sc_text(c, st, k, "server");
    if (v && (memchr(json_string_value(v), '\r', json_string_length(v)) ||
              memchr(json_string_value(v), '\n', json_string_length(v)))) {
        json_decref(v);
        return sc_err_word(c, st, k, "a line end in a value written on one line (use send)"), NULL;
    }
    return v;
}

static int add_field(json_t *fields, const char *name, json_t *v)
{
    if (!v) return -1;
    json_array_append_new(fields, json_pack("[s, o]", name, v));
    return 0;
}

/* `retry R`: a DURATION (an integer of unscaled ms) or a STRING written as is. */
static int retry_field(struct pctx *c, const struct stmt *st, size_t k, json_t *fields)
{
    size_t n;
    long ms;
    const char *w = sc_word(st, k, &n);
    if (w && sc_string_start(w, n)) return add_field(fields, "retry", line_value(c, st, k));
    if (sc_duration(c, st, k, &ms) < 0) return -1;
    return add_field(fields, "retry", json_integer(ms));
}

/* `sse-event [id V] [event V] [retry R] [data V...] [eol E]`: `data` takes every value after it. */
int sc_sse_event(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t end, k = 1;
    json_t *fields = json_array();
    json_object_set_new(step, "fields", fields);
    if (trailing_eol(c, st, step, &end) < 0) return -1;
    while (k < end) {
        int once = sc_is(st, k, "id") || sc_is(st, k, "event") || sc_is(st, k, "retry");
        size_t n;
        const char *w = sc_word(st, k, &n);
        char name[8];
        if (sc_is(st, k, "data")) {
            if (++k == end) return sc_err_word(c, st, k, "data takes at least one value");
            for (; k < end; k++)
                if (add_field(fields, "data", sc_text(c, st, k, "server")) < 0) return -1;
            break;
        }
        if (!once) return sc_err_word(c, st, k, "unknown sse-event field '%.*s' (id, event, retry, data)", (int)(n > 40 ? 40 : n), w);
        snprintf(name, sizeof name, "%.*s", (int)n, w);
        for (size_t i = 0; i < json_array_size(fields); i++)
            if (!strcmp(json_string_value(json_array_get(json_array_get(fields, i), 0)), name))
                return sc_err_word(c, st, k, "'%s' given twice (write duplicates with sse-field)", name);
        if (k + 1 >= end) return sc_err_word(c, st, k + 1, "'%s' takes a value", name);
        if (strcmp(name, "retry") == 0 ? retry_field(c, st, k + 1, fields) < 0
                                       : add_field(fields, name, line_value(c, st, k + 1)) < 0)
            return -1;
        k += 2;
    }
    if (json_array_size(fields) == 0) return sc_err_word(c, st, 1, "sse-event takes at least one field (id, event, retry, data)");
    return 0;
}

/* `sse-field NAME [VALUE] [eol E]` */
int sc_sse_field(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t end;
    if (trailing_eol(c, st, step, &end) < 0) return -1;
    if (end < 2 || end > 3) return sc_err_word(c, st, end < 2 ? 1 : 3, "write: sse-field NAME [VALUE] [eol E]");
    json_t *name = line_value(c, st, 1);
    if (!name) return -1;
    json_object_set_new(step, "name", name);
    if (json_string_length(name) == 0) return sc_err_word(c, st, 1, "an empty field name (write sse-line for a bare ':')");
    if (end == 3) {
        json_t *v = line_value(c, st, 2);
        if (!v) return -1;
        json_object_set_new(step, "value", v);
    }
    return 0;
}

/* `sse-comment [TEXT] [eol E]` and `sse-line STRING [eol E]` (need_value). */
static int one_value(struct pctx *c, const struct stmt *st, json_t *step, int need_value, const char *usage)
{
    size_t end;
    if (trailing_eol(c, st, step, &end) < 0) return -1;
    if (end > 2 || (need_value && end < 2)) return sc_err_word(c, st, end > 2 ? 2 : 1, "write: %s", usage);
    if (end < 2) return 0;
    json_t *v = line_value(c, st, 1);
    if (!v) return -1;
    json_object_set_new(step, "value", v);
    return 0;
}

int sc_sse_comment(struct pctx *c, const struct stmt *st, json_t *step)
{
    return one_value(c, st, step, 0, "sse-comment [TEXT] [eol E]");
}

int sc_sse_line(struct pctx *c, const struct stmt *st, json_t *step)
{
    return one_value(c, st, step, 1, "sse-line STRING [eol E]");
}

/* `sse-dispatch [eol E]` */
int sc_sse_dispatch(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t end;
    if (trailing_eol(c, st, step, &end) < 0) return -1;
    return end == 1 ? 0 : sc_err_word(c, st, 1, "write: sse-dispatch [eol E]");
}
