/* judge_causes.c — what made a client's program end early or throw (harness/MODEL.md §1.2 `exceptions`, §3.1):
 * the exceptions a case allows, and the clauses of a verdict's headline that name an exception a step threw
 * where the case allows none, and why the interpreter ended the program early (observations `stopped`,
 * fixtures/PROTOCOL.md §3). The interpreters only stop and say why; the grade is the judge's (judge.c). */
#include <string.h>

#include "judge.h"
#include "judge_int.h"

#define MAX_WALK_DEPTH 64 /* a deeper pattern is malformed; the events check reports it */

static void allow(json_t *out, const char *obj, const json_t *atom)
{
    if (!json_is_object(atom) || !json_is_string(json_object_get(atom, "type"))) return;
    if (strcmp(json_string_value(json_object_get(atom, "type")), "exception") != 0) return;
    const json_t *arg = json_object_get(atom, "arg");
    const char *name = json_is_string(arg) ? json_string_value(arg) : "*";
    json_t *names = json_object_get(out, obj);
    if (!names) json_object_set_new(out, obj, names = json_array());
    for (size_t i = 0; i < json_array_size(names); i++)
        if (!strcmp(json_string_value(json_array_get(names, i)), name)) return;
    json_array_append_new(names, json_string(name));
}

/* The atoms of a PATTERN tree (pattern.h), to a bounded depth. */
static void walk(json_t *out, const char *obj, const json_t *p, int depth)
{
    if (!json_is_object(p) || depth > MAX_WALK_DEPTH) return;
    allow(out, obj, json_object_get(p, "atom"));
    walk(out, obj, json_object_get(p, "repeat"), depth + 1);
    static const char *const lists[] = {"seq", "alt"};
    for (size_t k = 0; k < 2; k++) {
        const json_t *a = json_object_get(p, lists[k]);
        for (size_t i = 0; i < json_array_size(a); i++) walk(out, obj, json_array_get(a, i), depth + 1);
    }
}

json_t *ch_judge_allowed_exceptions(const json_t *kase)
{
    json_t *out = json_object();
    const json_t *expect = json_object_get(kase, "expect");
    const json_t *first = json_array_get(json_object_get(json_object_get(kase, "client"), "objects"), 0);
    const char *dflt = json_string_value(json_object_get(first, "name"));
    for (size_t i = 0; i < json_array_size(expect); i++) {
        const json_t *e = json_array_get(expect, i);
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *obj = json_string_value(json_object_get(e, "obj"));
        if (!obj) obj = dflt;
        if (!kind || !obj || !strcmp(kind, "never")) continue;
        walk(out, obj, json_object_get(e, "pattern"), 0);
        allow(out, obj, json_object_get(e, "atom"));
        allow(out, obj, json_object_get(e, "from"));
        allow(out, obj, json_object_get(e, "to"));
    }
    return out;
}

static int allowed(const json_t *allowed, const char *obj, const char *name)
{
    const json_t *names = json_object_get(allowed, obj);
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        if (!strcmp(n, "*") || (name && !strcmp(n, name))) return 1;
    }
    return 0;
}

/* The program step an event happened in: the handler's step when it was recorded inside one. */
static const json_t *step_of(const struct ch_jctx *cx, const json_t *ev)
{
    const json_t *client = json_object_get(cx->kase, "client"), *h = json_object_get(ev, "handler");
    if (json_is_integer(h))
        return json_object_get(json_array_get(json_object_get(client, "handlers"), (size_t)json_integer_value(h)),
                               "step");
    const json_t *s = json_object_get(ev, "step");
    return json_is_integer(s) ? json_array_get(json_object_get(client, "steps"), (size_t)json_integer_value(s)) : NULL;
}

/* "; xhr: send (line 20) threw TypeError: Cannot read ..." for the first exception the case does not allow;
 * returns it as the verdict's `thrown` ({obj, op, line, name, message}), or NULL. */
static json_t *thrown(struct ch_text *t, const struct ch_jctx *cx)
{
    json_t *ok = ch_judge_allowed_exceptions(cx->kase), *found = NULL;
    for (size_t i = 0; !found && i < json_array_size(cx->events); i++) {
        const json_t *ev = json_array_get(cx->events, i);
        if (strcmp(json_string_value(json_object_get(ev, "type")), "exception") != 0) continue;
        const char *obj = json_string_value(json_object_get(ev, "obj"));
        const json_t *st = json_object_get(ev, "state"), *arg = json_object_get(ev, "arg");
        const char *name = json_is_string(arg) ? json_string_value(arg) : json_string_value(json_object_get(st, "name"));
        if (allowed(ok, obj, name)) continue;
        const json_t *step = step_of(cx, ev), *msg = json_object_get(st, "message");
        ch_text_printf(t, "%s%s: ", t->len ? "; " : "", obj);
        if (json_is_string(json_object_get(step, "op"))) ch_text_puts(t, json_string_value(json_object_get(step, "op")));
        else ch_text_puts(t, "a step");
        if (json_is_integer(json_object_get(step, "line")))
            ch_text_printf(t, " (line %lld)", (long long)json_integer_value(json_object_get(step, "line")));
        ch_text_printf(t, " threw %s", name ? name : "an exception");
        if (json_is_string(msg) && json_string_length(msg)) {
            ch_text_puts(t, ": ");
            ch_text_raw(t, json_string_value(msg), json_string_length(msg), 2 * CH_VALUE_SHOWN);
        }
        found = json_pack("{s:s, s:s?, s:O?, s:s, s:O?}", "obj", obj, "op",
                          json_string_value(json_object_get(step, "op")), "line", json_object_get(step, "line"),
                          "name", name ? name : "", "message", json_is_string(msg) ? msg : NULL);
    }
    json_decref(ok);
    return found;
}

json_t *ch_jcauses(struct ch_text *t, const struct ch_jctx *cx)
{
    json_t *threw = thrown(t, cx);
    const json_t *s = cx->stopped;
    if (!s) return threw;
    const char *why = json_string_value(json_object_get(s, "reason"));
    if (threw && why && !strcmp(why, "exception")) {
        ch_text_puts(t, " — the client ended the program there");
        return threw;
    }
    const json_t *line = json_object_get(s, "line"), *msg = json_object_get(s, "message");
    ch_text_printf(t, "%sthe client ended the program", t->len ? "; " : "");
    if (json_is_integer(line)) ch_text_printf(t, " at line %lld", (long long)json_integer_value(line));
    ch_text_puts(t, ": ");
    ch_text_raw(t, json_string_value(msg), json_string_length(msg), 4 * CH_VALUE_SHOWN);
    return threw;
}
