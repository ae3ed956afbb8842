/* judge.c — ch_judge(): a verdict (harness/MODEL.md §3) from a case's expectations (MODEL.md §1.3,
 * cases/FORMAT.md §6) × a client's observations (fixtures/PROTOCOL.md §3) × the server's transcript (MODEL.md
 * §2). This file checks the inputs, runs one function per expectation kind (judge_client.c, judge_server.c) and
 * grades: N/A > ERROR > TIMEOUT > FAIL > NON-STRICT > PASS. Nothing here trusts its input: every field is
 * checked before use, and a malformed case or observation is an ERROR verdict that says what is wrong. */
#include "judge.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "judge_int.h"
#include "core/core.h"

/* `server`: the check reads the server's transcript (judge_server.c, judge_ws.c), not the client's observations. */
static const struct {
    const char *kind;
    ch_jcheck_fn fn;
    int server;
} kinds[] = {
    {"events", ch_jcheck_events, 0},
    {"never", ch_jcheck_never, 0},
    {"count", ch_jcheck_count, 0},
    {"at", ch_jcheck_at, 0},
    {"final", ch_jcheck_final, 0},
    {"within", ch_jcheck_within, 0},
    {"requests", ch_jcheck_requests, 1},
    {"request-count", ch_jcheck_request_count, 1},
    {"request-header", ch_jcheck_request_header, 1},
    {"request-body", ch_jcheck_request_body, 1},
    {"request-query", ch_jcheck_request_query, 1},
    {"closed", ch_jcheck_closed, 1},
    {"interval", ch_jcheck_interval, 1},
    {"ws-close", ch_jcheck_ws_close, 1},
};

/* ---- helpers shared with the check files (judge_int.h) ---- */

enum ch_jstatus ch_jerror(struct ch_jcheck *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ch_text_free(&c->detail);
    ch_text_puts(&c->detail, buf);
    return CH_J_ERROR;
}

json_t *ch_jfill(const struct ch_jctx *cx, const json_t *v, char *err)
{
    if (!v) {
        ch_errf(err, "missing");
        return NULL;
    }
    return ch_tmpl_fill_json(v, cx->vars, cx->scale, err);
}

int ch_jint(const json_t *exp, const char *key, long long min, long long dflt, long long *out, char *err)
{
    const json_t *v = json_object_get(exp, key);
    if ((!v || json_is_null(v)) && dflt >= min) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return ch_errf(err, "\"%s\" must be an integer of at least %lld", key, min);
    *out = json_integer_value(v);
    return 0;
}

int ch_jms(const struct ch_jctx *cx, const json_t *exp, const char *key, double *out, char *err)
{
    const json_t *v = json_object_get(exp, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
        return ch_errf(err, "\"%s\" must be a number of milliseconds, at least 0", key);
    *out = json_number_value(v) * cx->scale;
    return 0;
}

void ch_jtime(struct ch_text *t, double ms)
{
    ch_text_printf(t, "%.1f ms", ms);
}

void ch_jdiff_prop(struct ch_jcheck *c, const char *key, const json_t *want, const json_t *got)
{
    ch_text_free(&c->prop);
    ch_text_free(&c->dexp);
    ch_text_free(&c->dobs);
    ch_text_puts(&c->prop, key);
    ch_value_render(&c->dexp, want);
    ch_value_render(&c->dobs, got);
    c->diff_is_value = 1;
}

int ch_jbound_parse(const struct ch_jctx *cx, const json_t *exp, struct ch_jbound *b, char *err)
{
    const json_t *bound = json_object_get(exp, "bound");
    *b = (struct ch_jbound){.bound = 'w'};
    if (ch_jms(cx, exp, "ms", &b->ms, err) < 0) return -1;
    if (!bound) return ch_jms(cx, exp, "tol_ms", &b->tol, err);
    if (json_is_string(bound) && !strcmp(json_string_value(bound), "min")) b->bound = '>';
    else if (json_is_string(bound) && !strcmp(json_string_value(bound), "max")) b->bound = '<';
    else return ch_errf(err, "\"bound\" must be \"min\" or \"max\"");
    return 0;
}

int ch_jbound_holds(const struct ch_jbound *b, double dt)
{
    if (b->bound == '>') return dt >= b->ms;
    if (b->bound == '<') return dt <= b->ms;
    return fabs(dt - b->ms) <= b->tol;
}

void ch_jbound_render(struct ch_text *t, const struct ch_jbound *b)
{
    if (b->bound != 'w') ch_text_puts(t, b->bound == '>' ? "≥ " : "≤ ");
    ch_jtime(t, b->ms);
    if (b->bound != 'w') return;
    ch_text_puts(t, " ± ");
    ch_jtime(t, b->tol);
}

void ch_jbound_allowed(struct ch_text *t, const struct ch_jbound *b)
{
    if (b->bound == 'w') ch_text_printf(t, "allowed %.1f to %.1f ms", b->ms - b->tol, b->ms + b->tol);
    else ch_text_printf(t, "allowed %.1f ms or %s", b->ms, b->bound == '>' ? "more" : "less");
}

/* ---- input checks ---- */

static int check_obs_event(const json_t *e, size_t i, char *err)
{
    const json_t *state = json_object_get(e, "state");
    if (!json_is_object(e)) return ch_errf(err, "events[%zu] is not an object", i);
    if (!json_is_string(json_object_get(e, "obj"))) return ch_errf(err, "events[%zu] has no string \"obj\"", i);
    if (!json_is_string(json_object_get(e, "type"))) return ch_errf(err, "events[%zu] has no string \"type\"", i);
    if (!json_is_number(json_object_get(e, "t"))) return ch_errf(err, "events[%zu] has no number \"t\"", i);
    if (state && !json_is_object(state) && !json_is_null(state))
        return ch_errf(err, "events[%zu].state is not an object", i);
    return 0;
}

/* Fills cx->events and cx->final from the observations (NULL: none). */
static int check_observations(const json_t *obs, struct ch_jctx *cx, char *err)
{
    const json_t *events = json_object_get(obs, "events"), *final = json_object_get(obs, "final");
    if (events && !json_is_array(events) && !json_is_null(events))
        return ch_errf(err, "malformed observations: \"events\" is not an array");
    if (final && !json_is_object(final) && !json_is_null(final))
        return ch_errf(err, "malformed observations: \"final\" is not an object");
    if (json_array_size(events) > CH_JUDGE_MAX_EVENTS)
        return ch_errf(err, "malformed observations: %zu events, more than the judge accepts (%d)",
                       json_array_size(events), CH_JUDGE_MAX_EVENTS);
    char why[CH_ERR_LEN];
    for (size_t i = 0; i < json_array_size(events); i++)
        if (check_obs_event(json_array_get(events, i), i, why) < 0)
            return ch_errf(err, "malformed observations: %s", why);
    const json_t *stopped = json_object_get(obs, "stopped");
    if (stopped && !json_is_null(stopped)) {
        const json_t *reason = json_object_get(stopped, "reason"), *line = json_object_get(stopped, "line");
        if (!json_is_object(stopped) || !json_is_string(json_object_get(stopped, "message")) ||
            (reason && !json_is_string(reason)) || (line && !json_is_integer(line)))
            return ch_errf(err, "malformed observations: \"stopped\" must be an object with a string \"message\" "
                                "(and a string \"reason\", an integer \"line\")");
        cx->stopped = stopped;
    }
    cx->events = json_is_array(events) ? events : NULL;
    cx->final = json_is_object(final) ? final : NULL;
    return 0;
}

static int is_string(const json_t *v) { return json_is_string(v); }
static int is_integer(const json_t *v) { return json_is_integer(v); }
static int is_bool(const json_t *v) { return json_is_boolean(v); }

/* "headers": [[name, value], ...], both strings. */
static int is_headers(const json_t *h)
{
    if (!json_is_array(h)) return 0;
    for (size_t i = 0; i < json_array_size(h); i++) {
        const json_t *p = json_array_get(h, i);
        if (json_array_size(p) != 2 || !json_is_string(json_array_get(p, 0)) || !json_is_string(json_array_get(p, 1)))
            return 0;
    }
    return 1;
}

/* The transcript fields the server checks read (MODEL.md §2), by event type. */
static const struct {
    const char *type, *key, *what;
    int (*is)(const json_t *);
    int optional;
} tr_fields[] = {
    {"request", "conn", "an integer", is_integer, 0},
    {"request", "method", "a string", is_string, 0},
    {"request", "path", "a string", is_string, 0},
    {"request", "target", "a string", is_string, 1},
    {"request", "headers", "an array of [name, value] strings", is_headers, 0},
    {"request", "n", "an integer", is_integer, 1},
    {"request", "unmatched", "a boolean", is_bool, 1},
    {"request", "body_size", "an integer", is_integer, 1},
    {"request", "body_sha256", "a string", is_string, 1},
    {"request", "body_text", "a string", is_string, 1},
    {"end", "conn", "an integer", is_integer, 0},
    {"end", "req", "an integer", is_integer, 1},
    {"conn-close", "conn", "an integer", is_integer, 0},
    {"conn-close", "by", "a string", is_string, 0},
    {"conn-close", "how", "a string", is_string, 1},
};

static int check_transcript_event(const json_t *e, size_t i, char *err)
{
    const char *type = json_string_value(json_object_get(e, "type"));
    if (!json_is_object(e) || !type) return ch_errf(err, "events[%zu] has no string \"type\"", i);
    if (!json_is_number(json_object_get(e, "t_us"))) return ch_errf(err, "events[%zu] has no number \"t_us\"", i);
    for (size_t k = 0; k < sizeof tr_fields / sizeof tr_fields[0]; k++) {
        if (strcmp(tr_fields[k].type, type) != 0) continue;
        const json_t *v = json_object_get(e, tr_fields[k].key);
        if ((!v && !tr_fields[k].optional) || (v && !tr_fields[k].is(v)))
            return ch_errf(err, "events[%zu] (%s): \"%s\" must be %s", i, type, tr_fields[k].key, tr_fields[k].what);
    }
    return 0;
}

enum { CH_TRANSCRIPT_TRUNCATED = -2 }; /* check_transcript: well formed, but the server recorded only part */

/* 0, or -1 with a message for a malformed transcript, or CH_TRANSCRIPT_TRUNCATED with a message. */
static int check_transcript(const json_t *tr, struct ch_jctx *cx, char *err)
{
    if (tr && !json_is_object(tr) && !json_is_null(tr))
        return ch_errf(err, "malformed transcript: not a JSON object");
    const json_t *events = json_object_get(tr, "events");
    if (events && !json_is_array(events)) return ch_errf(err, "malformed transcript: \"events\" is not an array");
    if (json_array_size(events) > CH_JUDGE_MAX_TRANSCRIPT)
        return ch_errf(err, "malformed transcript: more than %d events", CH_JUDGE_MAX_TRANSCRIPT);
    /* The server stops recording past its limit and counts what it dropped (core.h): a check on what
     * the client sent, or did not send, cannot be judged on part of it. */
    const json_t *dropped = json_object_get(tr, "dropped");
    if (dropped && !json_is_integer(dropped)) return ch_errf(err, "malformed transcript: \"dropped\" is not an integer");
    if (json_integer_value(dropped) > 0) {
        ch_errf(err, "transcript incomplete: the server dropped %" JSON_INTEGER_FORMAT " events past its limit, so "
                "no check on it can be judged", json_integer_value(dropped));
        return CH_TRANSCRIPT_TRUNCATED;
    }
    char why[CH_ERR_LEN];
    for (size_t i = 0; i < json_array_size(events); i++)
        if (check_transcript_event(json_array_get(events, i), i, why) < 0)
            return ch_errf(err, "malformed transcript: %s", why);
    cx->trevents = events;
    return 0;
}

static int check_case(const json_t *kase, struct ch_jctx *cx, char *err)
{
    if (!json_is_object(kase)) return ch_errf(err, "malformed case: not a JSON object");
    const json_t *expect = json_object_get(kase, "expect"), *client = json_object_get(kase, "client");
    if (!json_is_array(expect)) return ch_errf(err, "malformed case: no \"expect\" array");
    if (json_array_size(expect) > CH_JUDGE_MAX_EXPECT)
        return ch_errf(err, "malformed case: more than %d expectations", CH_JUDGE_MAX_EXPECT);
    const json_t *objects = json_object_get(client, "objects");
    if (client && !json_is_object(client)) return ch_errf(err, "malformed case: \"client\" is not an object");
    if (objects && !json_is_array(objects)) return ch_errf(err, "malformed case: client.objects is not an array");
    for (size_t i = 0; i < json_array_size(objects); i++)
        if (!json_is_string(json_object_get(json_array_get(objects, i), "name")))
            return ch_errf(err, "malformed case: client.objects[%zu] has no string \"name\"", i);
    cx->kase = kase;
    cx->objects = objects;
    cx->default_obj = json_string_value(json_object_get(json_array_get(objects, 0), "name"));
    return 0;
}

/* ---- one check ---- */

static const char *str_or(const json_t *v, const char *dflt)
{
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The check function of `kind` (NULL: unknown); *server says whether it reads the transcript. */
static ch_jcheck_fn find_kind(const char *kind, int *server)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) {
            *server = kinds[i].server;
            return kinds[i].fn;
        }
    return NULL;
}

static const char *const status_names[] = {"PASS", "FAIL", "ERROR"};

/* The check's first difference (MODEL.md §3 `first_diff`): where, which property, expected and observed there;
 * the check's own expected and observed texts when it named nothing more precise. Frees the texts. */
static json_t *first_diff(struct ch_jcheck *c)
{
    if (!c->dexp.len && !c->dobs.len) {
        ch_text_puts(&c->dexp, ch_text_str(&c->expected));
        ch_text_puts(&c->dobs, ch_text_str(&c->observed));
    }
    json_t *d = json_object();
    json_object_set_new(d, "at", ch_text_json(&c->at));
    if (c->prop.len) json_object_set_new(d, "property", ch_text_json(&c->prop));
    else ch_text_free(&c->prop);
    json_object_set_new(d, "expected", ch_text_json(&c->dexp));
    json_object_set_new(d, "observed", ch_text_json(&c->dobs));
    if (c->ev.len) json_object_set_new(d, "event", ch_text_json(&c->ev));
    else ch_text_free(&c->ev);
    json_object_set_new(d, "values", json_boolean(c->diff_is_value));
    return d;
}

static void free_diff(struct ch_jcheck *c)
{
    ch_text_free(&c->at);
    ch_text_free(&c->prop);
    ch_text_free(&c->dexp);
    ch_text_free(&c->dobs);
    ch_text_free(&c->ev);
}

/* Runs one expectation and returns its check object (MODEL.md §3 checks[]). */
/* Runs expectation i. *unjudged is set when it is a check on a transcript that holds only part of what was
 * sent (status ERROR, the reason in its detail): grade() tells that from an ERROR of the case or the client. */
static json_t *run_check(const struct ch_jctx *cx, const json_t *exp, size_t i, enum ch_jstatus *st, int *unjudged)
{
    struct ch_jcheck c = {.exp = exp};
    const char *kind = str_or(json_object_get(exp, "kind"), NULL);
    const json_t *lv = json_object_get(exp, "level");
    const char *level = json_is_null(lv) ? "must" : str_or(lv, lv ? "?" : "must");
    const json_t *spec0 = json_array_get(json_object_get(cx->kase, "spec"), 0);
    int server = 0;
    ch_jcheck_fn fn = find_kind(kind, &server);
    *unjudged = 0;
    if (!json_is_object(exp)) *st = ch_jerror(&c, "expect[%zu] is not an object", i);
    else if (!fn) *st = ch_jerror(&c, "unknown expectation kind \"%s\"", kind ? kind : "(none)");
    else if (strcmp(level, "must") != 0 && strcmp(level, "should") != 0)
        *st = ch_jerror(&c, "\"level\" must be \"must\" or \"should\"");
    else if (server && cx->tr_incomplete[0]) *st = ch_jerror(&c, "%s", cx->tr_incomplete), *unjudged = 1;
    else *st = fn(cx, &c);
    json_t *diff = *st == CH_J_FAIL ? first_diff(&c) : NULL;
    free_diff(&c);
    const json_t *line = json_object_get(exp, "line");
    json_t *chk = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "line",
                            (json_int_t)(json_is_integer(line) ? json_integer_value(line) : 0), "kind",
                            kind ? kind : "?", "status", status_names[*st], "level", level, "rule",
                            str_or(json_object_get(exp, "rule"), str_or(json_object_get(exp, "text"), kind ? kind : "?")),
                            "spec", str_or(json_object_get(exp, "spec"), str_or(spec0, "")), "expected",
                            ch_text_json(&c.expected), "observed", ch_text_json(&c.observed), "detail",
                            ch_text_json(&c.detail));
    if (diff) json_object_set_new(chk, "first_diff", diff);
    return chk;
}

/* The headline of a failed check, causes first (MODEL.md §3.1): `line N: [WHERE: ][PROPERTY: ]expected E,
 * observed O — RULE (SPEC)`; `line N: RULE — cannot judge: WHY` for an ERROR check. */
static void check_message(struct ch_text *t, const json_t *chk)
{
    const char *spec = str_or(json_object_get(chk, "spec"), "");
    const char *rule = str_or(json_object_get(chk, "rule"), "");
    const json_t *d = json_object_get(chk, "first_diff");
    ch_text_printf(t, "line %lld: ", (long long)json_integer_value(json_object_get(chk, "line")));
    if (!d) {
        ch_text_printf(t, "%s — cannot judge: %s", rule, str_or(json_object_get(chk, "detail"), ""));
        return;
    }
    const char *at = str_or(json_object_get(d, "at"), ""), *prop = str_or(json_object_get(d, "property"), "");
    if (*at) ch_text_printf(t, "%s: ", at);
    if (*prop && json_is_true(json_object_get(d, "values"))) ch_text_printf(t, "%s: ", prop);
    ch_text_printf(t, "expected %s, observed %s — %s", str_or(json_object_get(d, "expected"), ""),
                   str_or(json_object_get(d, "observed"), ""), rule);
    if (*spec) ch_text_printf(t, " (%s)", spec);
}

/* ---- the verdict ---- */

static json_t *verdict(const json_t *kase, const char *status, struct ch_text *msg, json_t *checks)
{
    json_t *v = json_object();
    json_object_set(v, "case", json_is_object(kase) && json_object_get(kase, "id") ? json_object_get(kase, "id")
                                                                                    : json_null());
    json_object_set_new(v, "status", json_string(status));
    json_object_set_new(v, "message", ch_text_json(msg));
    json_object_set_new(v, "checks", checks ? checks : json_array());
    return v;
}

static json_t *verdict_str(const json_t *kase, const char *status, const char *msg)
{
    struct ch_text t = {0};
    ch_text_puts(&t, msg);
    return verdict(kase, status, &t, NULL);
}

/* A non-null, non-false field of the observations, as text ("unsupported", "error"). */
static int reason(const json_t *obs, const char *key, struct ch_text *t)
{
    const json_t *v = json_object_get(obs, key);
    if (!v || json_is_null(v) || json_is_false(v)) return 0;
    if (json_is_string(v)) ch_text_raw(t, json_string_value(v), json_string_length(v), 1000);
    else ch_value_render(t, v);
    return 1;
}

/* Runs every expectation; grades ERROR > TIMEOUT > FAIL > NON-STRICT > PASS (MODEL.md §3). A program the client
 * ended early (a step threw what the case does not allow, or an awaited event came with another state) did
 * not run to its end: FAIL even when every check held. A check on an incomplete transcript (cx->tr_incomplete)
 * is not judged: ERROR, unless the client's deadline passed, which is its own observation and needs no
 * transcript (a runaway client, a redirect loop followed without end, fills the transcript and then misses
 * its deadline): TIMEOUT then, so the verdict does not depend on how many requests a machine's speed let
 * through before the limit. An ERROR of the case or the client's observations stays first. */
static json_t *grade(const struct ch_jctx *cx, int timed_out)
{
    json_t *checks = json_array(), *first[3] = {NULL, NULL, NULL}; /* error, must failure, should failure */
    json_t *unjudged_first = NULL;
    const json_t *expect = json_object_get(cx->kase, "expect");
    for (size_t i = 0; i < json_array_size(expect); i++) {
        enum ch_jstatus st;
        int unjudged;
        json_t *chk = run_check(cx, json_array_get(expect, i), i, &st, &unjudged);
        int should = !strcmp(str_or(json_object_get(chk, "level"), ""), "should");
        int slot = unjudged ? -1 : st == CH_J_ERROR ? 0 : st == CH_J_FAIL ? (should ? 2 : 1) : -1;
        if (slot >= 0 && !first[slot]) first[slot] = chk;
        if (unjudged && !unjudged_first) unjudged_first = chk;
        json_array_append_new(checks, chk);
    }
    if (unjudged_first && !timed_out && !first[0]) first[0] = unjudged_first;
    static const char *const names[] = {"ERROR", "FAIL", "NON-STRICT"};
    struct ch_text msg = {0};
    int slot = first[0] ? 0 : first[1] ? 1 : first[2] ? 2 : -1;
    if (timed_out && slot != 0) {
        ch_text_puts(&msg, "the client's deadline passed before its steps finished");
        if (slot > 0 || unjudged_first) ch_text_puts(&msg, "; ");
    }
    if (slot >= 0) check_message(&msg, first[slot]);
    else if (timed_out && unjudged_first) check_message(&msg, unjudged_first);
    json_t *threw = slot != 0 && (slot > 0 || timed_out || cx->stopped) ? ch_jcauses(&msg, cx) : NULL;
    const char *status = slot == 0   ? "ERROR"
                         : timed_out ? "TIMEOUT"
                         : cx->stopped ? "FAIL"
                         : slot > 0  ? names[slot]
                                     : "PASS";
    json_t *v = verdict(cx->kase, status, &msg, checks);
    if (threw) json_object_set_new(v, "thrown", threw);
    return v;
}

json_t *ch_judge(const json_t *kase, const json_t *observations, const json_t *transcript, const json_t *vars,
                 double time_scale)
{
    struct ch_jctx cx = {.vars = vars, .scale = time_scale};
    char err[CH_ERR_LEN];
    struct ch_text why = {0};
    if (observations && !json_is_object(observations) && !json_is_null(observations))
        return verdict_str(kase, "ERROR", "malformed observations: not a JSON object");
    ch_text_puts(&why, "unsupported: ");
    if (reason(observations, "unsupported", &why)) return verdict(kase, "N/A", &why, NULL);
    ch_text_free(&why);
    ch_text_puts(&why, "adapter error: ");
    if (reason(observations, "error", &why)) return verdict(kase, "ERROR", &why, NULL);
    ch_text_free(&why);
    if (!isfinite(time_scale) || time_scale <= 0) return verdict_str(kase, "ERROR", "time_scale must be above 0");
    if (vars && !json_is_object(vars)) return verdict_str(kase, "ERROR", "malformed vars: not a JSON object");
    const json_t *timed_out = json_object_get(observations, "timed_out");
    if (timed_out && !json_is_boolean(timed_out) && !json_is_null(timed_out))
        return verdict_str(kase, "ERROR", "malformed observations: \"timed_out\" is not a boolean");
    if (check_case(kase, &cx, err) < 0 || check_observations(observations, &cx, err) < 0)
        return verdict_str(kase, "ERROR", err);
    int tr = check_transcript(transcript, &cx, err);
    if (tr == CH_TRANSCRIPT_TRUNCATED) snprintf(cx.tr_incomplete, sizeof cx.tr_incomplete, "%s", err);
    else if (tr < 0) return verdict_str(kase, "ERROR", err);
    return grade(&cx, json_is_true(timed_out));
}
