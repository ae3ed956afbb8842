/* judge_client.c — client expectations (cases/FORMAT.md §6.2, harness/MODEL.md §1.3) over the observations
 * (fixtures/PROTOCOL.md §3): events, never, count, at, final, within. Each reads the events of one object
 * (`obj`, default the case's first client object), in the order the client recorded them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge_int.h"
#include "pattern.h"
#include "core/core.h"

#define MAX_HINT_PROPS 8

/* The events of one object, borrowed from the observations. */
struct evs {
    const json_t **v;
    size_t n;
};

/* Collects the object's events; `reads` keeps the `read` pseudo-events (FORMAT.md §6.2: only `events` drops
 * them). */
static void collect(const struct ch_jctx *cx, const char *obj, int reads, struct evs *e)
{
    size_t total = json_array_size(cx->events);
    e->n = 0;
    e->v = ch_xmalloc((total ? total : 1) * sizeof *e->v);
    for (size_t i = 0; i < total; i++) {
        const json_t *ev = json_array_get(cx->events, i);
        if (strcmp(json_string_value(json_object_get(ev, "obj")), obj) != 0) continue;
        if (!reads && !strcmp(json_string_value(json_object_get(ev, "type")), "read")) continue;
        e->v[e->n++] = ev;
    }
}

static double ev_t(const json_t *ev)
{
    return json_number_value(json_object_get(ev, "t"));
}

/* "event 4 (t=201.3 ms)" — numbered from 1 within the object's list. */
static void at_event(struct ch_text *t, const struct evs *e, size_t i)
{
    ch_text_printf(t, "event %zu (t=", i + 1);
    ch_jtime(t, ev_t(e->v[i]));
    ch_text_puts(t, ")");
}

/* The object an expectation reads: its `obj`, else the case's first client object; it must be declared. */
static const char *object_of(const struct ch_jctx *cx, const json_t *exp, char *err)
{
    const json_t *o = json_object_get(exp, "obj");
    if (o && !json_is_string(o) && !json_is_null(o)) {
        ch_errf(err, "\"obj\" must be a string");
        return NULL;
    }
    const char *name = json_is_string(o) ? json_string_value(o) : cx->default_obj;
    if (!name) {
        ch_errf(err, "the expectation names no client object and the case declares none");
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(cx->objects); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(cx->objects, i), "name")), name)) return name;
    if (cx->objects) {
        ch_errf(err, "the case declares no client object \"%s\"", name);
        return NULL;
    }
    return name;
}

/* Reads the object and its events for a check; -1 with the check's error set. */
static int setup(const struct ch_jctx *cx, struct ch_jcheck *c, int reads, struct evs *e)
{
    char err[CH_ERR_LEN];
    const char *obj = object_of(cx, c->exp, err);
    if (!obj) return ch_jerror(c, "%s", err), -1;
    collect(cx, obj, reads, e);
    return 0;
}

/* The expectation's atom under `key`, placeholders filled and checked. NULL with the check's error set. */
static json_t *atom_of(const struct ch_jctx *cx, struct ch_jcheck *c, const json_t *raw, const char *key)
{
    char err[CH_ERR_LEN];
    json_t *a = ch_jfill(cx, raw, err);
    if (!a) {
        ch_jerror(c, "%s: %s", key, err);
        return NULL;
    }
    if (ch_atom_check(a, err) < 0) {
        ch_jerror(c, "%s: %s", key, err);
        json_decref(a);
        return NULL;
    }
    return a;
}

/* ---- events ---- */

/* The state paths the allowed atoms of this event's type ask about, to show the event with those values. */
static size_t hint_props(const struct ch_pat_result *r, const json_t *ev, const char **out)
{
    size_t n = 0;
    const char *type = json_string_value(json_object_get(ev, "type")), *key;
    const json_t *v;
    for (size_t i = 0; i < r->nallowed; i++) {
        const char *at = json_string_value(json_object_get(r->allowed[i], "type"));
        if (strcmp(at, type) != 0 && strcmp(at, ".") != 0) continue;
        json_object_foreach((json_t *)json_object_get(r->allowed[i], "props"), key, v) {
            size_t k = 0;
            while (k < n && strcmp(out[k], key) != 0) k++;
            if (k == n && n < MAX_HINT_PROPS) out[n++] = key;
        }
    }
    return n;
}

/* "timeout", "timeout or load", "a, b or no more events" — distinct renderings of what the pattern allowed;
 * the wildcard `.` (FORMAT.md: it matches any event) reads "any event". */
static void allowed_list(struct ch_text *t, const struct ch_pat_result *r)
{
    struct ch_text item[CH_PAT_MAX_ALLOWED + 1];
    size_t n = 0;
    for (size_t i = 0; i < r->nallowed; i++) {
        item[n] = (struct ch_text){0};
        ch_atom_render(&item[n], r->allowed[i]);
        if (strcmp(ch_text_str(&item[n]), ".") == 0) {
            ch_text_free(&item[n]);
            ch_text_puts(&item[n], "any event");
        }
        size_t k = 0;
        while (k < n && strcmp(ch_text_str(&item[k]), ch_text_str(&item[n])) != 0) k++;
        if (k < n) ch_text_free(&item[n]);
        else n++;
    }
    if (r->more_allowed || r->end_allowed) {
        item[n] = (struct ch_text){0};
        ch_text_puts(&item[n++], r->more_allowed ? "others" : "no more events");
    }
    for (size_t i = 0; i < n; i++) {
        if (i) ch_text_puts(t, i + 1 == n ? " or " : ", ");
        ch_text_puts(t, ch_text_str(&item[i]));
        ch_text_free(&item[i]);
    }
}

/* The property of the event at the first difference that an allowed atom of its own type wanted otherwise
 * (an `error` with readyState 0 where error(readyState=2) was allowed: "readyState"), or NULL. */
static const char *differing_prop(const struct ch_pat_result *r, const json_t *ev)
{
    const char *type = json_string_value(json_object_get(ev, "type")), *key;
    const json_t *v;
    for (size_t i = 0; i < r->nallowed; i++) {
        if (strcmp(json_string_value(json_object_get(r->allowed[i], "type")), type) != 0) continue;
        json_object_foreach((json_t *)json_object_get(r->allowed[i], "props"), key, v)
            if (!ch_value_eq(v, ch_value_path(json_object_get(ev, "state"), key))) return key;
    }
    return NULL;
}

/* "at event 4 (t=201.3 ms): expected timeout, observed load" (FORMAT.md §6.2; MODEL.md §3 detail), and the
 * same as the check's first difference. */
static void describe_diff(struct ch_jcheck *c, const struct evs *e, const struct ch_pat_result *r)
{
    if (r->diff < e->n) {
        ch_text_puts(&c->at, "at ");
        at_event(&c->at, e, r->diff);
    } else if (e->n == 0) {
        ch_text_puts(&c->at, "at event 1");
    } else {
        ch_text_puts(&c->at, "after the last event, ");
        at_event(&c->at, e, e->n - 1);
    }
    allowed_list(&c->dexp, r);
    if (r->diff < e->n) {
        const char *props[MAX_HINT_PROPS];
        size_t np = hint_props(r, e->v[r->diff], props);
        ch_event_render(&c->dobs, e->v[r->diff], props, np);
        ch_event_render(&c->ev, e->v[r->diff], NULL, 0);
        const char *prop = differing_prop(r, e->v[r->diff]);
        if (prop) ch_text_puts(&c->prop, prop);
    } else {
        ch_text_puts(&c->dobs, e->n ? "no more events" : "no events");
    }
    ch_text_printf(&c->detail, "%s: expected %s, observed %s", ch_text_str(&c->at), ch_text_str(&c->dexp),
                   ch_text_str(&c->dobs));
}

static enum ch_jstatus match_events(struct ch_jcheck *c, const struct ch_pat *p, const struct evs *e)
{
    struct ch_pat_result r;
    ch_pat_render(p, &c->expected);
    ch_events_render(&c->observed, e->v, e->n, CH_JUDGE_SHOWN_EVENTS);
    switch (ch_pat_match(p, e->v, e->n, CH_PAT_BUDGET, &r)) {
    case CH_PAT_MATCH: return CH_J_PASS;
    case CH_PAT_NOMATCH: describe_diff(c, e, &r); return CH_J_FAIL;
    case CH_PAT_OVER_BUDGET:
        return ch_jerror(c, "matching the pattern against %zu events exceeded the step budget of %lu steps", e->n,
                         CH_PAT_BUDGET);
    case CH_PAT_TOO_MANY: return ch_jerror(c, "too many events to match");
    default: return ch_jerror(c, "out of memory while matching the pattern");
    }
}

enum ch_jstatus ch_jcheck_events(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    json_t *tree = ch_jfill(cx, json_object_get(c->exp, "pattern"), err);
    if (!tree) return ch_jerror(c, "pattern: %s", err);
    struct ch_pat *p = ch_pat_compile(tree, err);
    json_decref(tree);
    if (!p) return ch_jerror(c, "%s", err);
    struct evs e = {0};
    enum ch_jstatus st = setup(cx, c, 0, &e) < 0 ? CH_J_ERROR : match_events(c, p, &e);
    free(e.v);
    ch_pat_free(p);
    return st;
}

/* ---- never, count ---- */

/* Lists occurrences: "load at event 4 (t=201.3 ms), error at event 5 (…)", at most CH_JUDGE_SHOWN_ITEMS. */
static void list_hits(struct ch_text *t, const struct evs *e, const size_t *hit, size_t nhit)
{
    for (size_t i = 0; i < nhit && i < CH_JUDGE_SHOWN_ITEMS; i++) {
        if (i) ch_text_puts(t, ", ");
        ch_event_render(t, e->v[hit[i]], NULL, 0);
        ch_text_puts(t, " at ");
        at_event(t, e, hit[i]);
    }
    if (nhit > CH_JUDGE_SHOWN_ITEMS) ch_text_printf(t, " and %zu more", nhit - CH_JUDGE_SHOWN_ITEMS);
}

static enum ch_jstatus never_scan(struct ch_jcheck *c, const struct evs *e, json_t *const *atoms, size_t na)
{
    size_t *hit = ch_xmalloc((e->n ? e->n : 1) * sizeof *hit), nhit = 0, first_atom = 0;
    ch_text_puts(&c->expected, na == 1 ? "no " : "none of ");
    for (size_t k = 0; k < na && k < CH_JUDGE_SHOWN_EVENTS; k++) {
        if (k) ch_text_puts(&c->expected, " ");
        ch_atom_render(&c->expected, atoms[k]);
    }
    if (na > CH_JUDGE_SHOWN_EVENTS) ch_text_printf(&c->expected, " … and %zu more", na - CH_JUDGE_SHOWN_EVENTS);
    for (size_t i = 0; i < e->n; i++)
        for (size_t k = 0; k < na; k++)
            if (ch_atom_match(atoms[k], e->v[i])) {
                if (nhit == 0) first_atom = k;
                hit[nhit++] = i;
                break;
            }
    if (nhit == 0) ch_text_puts(&c->observed, "none");
    else list_hits(&c->observed, e, hit, nhit);
    if (nhit) {
        ch_text_printf(&c->detail, "%zu of the object's %zu events are forbidden", nhit, e->n);
        ch_text_puts(&c->at, "at ");
        at_event(&c->at, e, hit[0]);
        ch_text_puts(&c->dexp, "no ");
        ch_atom_render(&c->dexp, atoms[first_atom]);
        ch_event_render(&c->dobs, e->v[hit[0]], NULL, 0);
        ch_event_render(&c->ev, e->v[hit[0]], NULL, 0);
    }
    free(hit);
    return nhit ? CH_J_FAIL : CH_J_PASS;
}

enum ch_jstatus ch_jcheck_never(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    const json_t *raw = json_object_get(c->exp, "atoms");
    size_t na = json_array_size(raw);
    if (!json_is_array(raw) || na == 0) return ch_jerror(c, "\"atoms\" must be a non-empty array");
    json_t **atoms = ch_xcalloc(na, sizeof *atoms);
    struct evs e = {0};
    enum ch_jstatus st = CH_J_PASS;
    for (size_t k = 0; k < na && st == CH_J_PASS; k++)
        if (!(atoms[k] = atom_of(cx, c, json_array_get(raw, k), "atoms"))) st = CH_J_ERROR;
    if (st == CH_J_PASS && setup(cx, c, 1, &e) < 0) st = CH_J_ERROR;
    if (st == CH_J_PASS) st = never_scan(c, &e, atoms, na);
    for (size_t k = 0; k < na; k++) json_decref(atoms[k]);
    free(atoms);
    free(e.v);
    return st;
}

/* Indexes of the events matching `atom`, into a malloc'd array. */
static size_t *occurrences(const struct evs *e, const json_t *atom, size_t *n)
{
    size_t *hit = ch_xmalloc((e->n ? e->n : 1) * sizeof *hit);
    *n = 0;
    for (size_t i = 0; i < e->n; i++)
        if (ch_atom_match(atom, e->v[i])) hit[(*n)++] = i;
    return hit;
}

static enum ch_jstatus count_scan(struct ch_jcheck *c, const struct evs *e, const json_t *atom, long long want,
                                  int at_least)
{
    size_t nhit;
    size_t *hit = occurrences(e, atom, &nhit);
    ch_atom_render(&c->expected, atom);
    ch_text_printf(&c->expected, " × %lld%s", want, at_least ? " or more" : "");
    ch_atom_render(&c->observed, atom);
    ch_text_printf(&c->observed, " × %zu", nhit);
    if (nhit) {
        ch_text_puts(&c->detail, "occurrences: ");
        list_hits(&c->detail, e, hit, nhit);
    }
    free(hit);
    int ok = at_least ? (long long)nhit >= want : (long long)nhit == want;
    return ok ? CH_J_PASS : CH_J_FAIL;
}

enum ch_jstatus ch_jcheck_count(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    long long want;
    const json_t *al = json_object_get(c->exp, "at_least");
    if (ch_jint(c->exp, "n", 0, -1, &want, err) < 0) return ch_jerror(c, "%s", err);
    if (al && !json_is_boolean(al)) return ch_jerror(c, "\"at_least\" must be a boolean");
    json_t *atom = atom_of(cx, c, json_object_get(c->exp, "atom"), "atom");
    if (!atom) return CH_J_ERROR;
    struct evs e = {0};
    enum ch_jstatus st = setup(cx, c, 1, &e) < 0 ? CH_J_ERROR : count_scan(c, &e, atom, want, json_is_true(al));
    json_decref(atom);
    free(e.v);
    return st;
}

/* ---- at, final ---- */

/* "readyState=4 status=0" */
static void render_props(struct ch_text *t, const json_t *props, const json_t *state, int observed)
{
    const char *key;
    const json_t *v;
    int first = 1;
    json_object_foreach((json_t *)props, key, v) {
        ch_text_printf(t, "%s%s=", first ? "" : " ", key);
        ch_value_render(t, observed ? ch_value_path(state, key) : v);
        first = 0;
    }
}

/* Compares expected properties with a state; the first mismatch goes to det ("status: expected 0, observed
 * 200"). Returns the number of mismatches. */
static size_t compare_props(const json_t *props, const json_t *state, struct ch_text *det)
{
    const char *key;
    const json_t *v;
    size_t bad = 0;
    json_object_foreach((json_t *)props, key, v) {
        const json_t *got = ch_value_path(state, key);
        if (ch_value_eq(v, got)) continue;
        if (bad++ == 0) {
            ch_text_printf(det, "%s: expected ", key);
            ch_value_render(det, v);
            ch_text_puts(det, ", observed ");
            ch_value_render(det, got);
            ch_value_diff_hint(det, v, got);
        }
    }
    return bad;
}

/* The check's first difference: the first of `props` whose value `state` does not hold. */
static void diff_first_prop(struct ch_jcheck *c, const json_t *props, const json_t *state)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)props, key, v) {
        const json_t *got = ch_value_path(state, key);
        if (ch_value_eq(v, got)) continue;
        ch_jdiff_prop(c, key, v, got);
        return;
    }
}

static json_t *props_of(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    const json_t *raw = json_object_get(c->exp, "props");
    if (!json_is_object(raw) || json_object_size(raw) == 0) {
        ch_jerror(c, "\"props\" must be a non-empty object");
        return NULL;
    }
    json_t *props = ch_jfill(cx, raw, err);
    if (!props) ch_jerror(c, "props: %s", err);
    return props;
}

/* Checks the selected occurrences (all, or only the nth) and reports the first that differs. */
static enum ch_jstatus at_scan(struct ch_jcheck *c, const struct evs *e, const size_t *hit, size_t nhit,
                               long long nth, const json_t *props)
{
    size_t from = nth > 0 ? (size_t)nth - 1 : 0, to = nth > 0 ? (size_t)nth : nhit;
    for (size_t k = from; k < to; k++) {
        const json_t *state = json_object_get(e->v[hit[k]], "state");
        struct ch_text det = {0};
        if (compare_props(props, state, &det) == 0) {
            ch_text_free(&det);
            continue;
        }
        render_props(&c->observed, props, state, 1);
        ch_text_puts(&c->observed, " at ");
        at_event(&c->observed, e, hit[k]);
        ch_text_puts(&c->detail, "at ");
        at_event(&c->detail, e, hit[k]);
        ch_text_printf(&c->detail, ": %s", ch_text_str(&det));
        ch_text_free(&det);
        ch_text_puts(&c->at, "at ");
        ch_event_render(&c->at, e->v[hit[k]], NULL, 0);
        ch_event_render(&c->ev, e->v[hit[k]], NULL, 0);
        ch_text_puts(&c->at, ", ");
        at_event(&c->at, e, hit[k]);
        diff_first_prop(c, props, state);
        return CH_J_FAIL;
    }
    render_props(&c->observed, props, json_object_get(e->v[hit[from]], "state"), 1);
    if (to - from > 1) ch_text_printf(&c->observed, " (all %zu occurrences)", to - from);
    return CH_J_PASS;
}

static enum ch_jstatus at_check(struct ch_jcheck *c, const struct evs *e, const json_t *atom, long long nth,
                                const json_t *props)
{
    render_props(&c->expected, props, NULL, 0);
    ch_text_puts(&c->expected, nth > 0 ? " at " : " at every ");
    ch_atom_render(&c->expected, atom);
    if (nth > 0) ch_text_printf(&c->expected, " #%lld", nth);
    size_t nhit;
    size_t *hit = occurrences(e, atom, &nhit);
    enum ch_jstatus st;
    if (nhit == 0 || (nth > 0 && (size_t)nth > nhit)) {
        ch_atom_render(&c->observed, atom);
        ch_text_printf(&c->observed, " × %zu", nhit);
        ch_text_puts(&c->detail, nhit ? "fewer occurrences than the one named" : "the event never occurred");
        st = CH_J_FAIL;
    } else {
        st = at_scan(c, e, hit, nhit, nth, props);
    }
    free(hit);
    return st;
}

enum ch_jstatus ch_jcheck_at(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    long long nth = 0; /* absent or null: every occurrence */
    const json_t *nv = json_object_get(c->exp, "nth");
    if (nv && !json_is_null(nv) && ch_jint(c->exp, "nth", 1, 0, &nth, err) < 0) return ch_jerror(c, "%s", err);
    json_t *atom = atom_of(cx, c, json_object_get(c->exp, "atom"), "atom");
    if (!atom) return CH_J_ERROR;
    json_t *props = props_of(cx, c);
    struct evs e = {0};
    enum ch_jstatus st = CH_J_ERROR;
    if (props && setup(cx, c, 1, &e) == 0) st = at_check(c, &e, atom, nth, props);
    json_decref(atom);
    json_decref(props);
    free(e.v);
    return st;
}

enum ch_jstatus ch_jcheck_final(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    const char *obj = object_of(cx, c->exp, err);
    if (!obj) return ch_jerror(c, "%s", err);
    json_t *props = props_of(cx, c);
    if (!props) return CH_J_ERROR;
    const json_t *state = json_object_get(cx->final, obj);
    render_props(&c->expected, props, NULL, 0);
    render_props(&c->observed, props, state, 1);
    size_t bad = compare_props(props, state, &c->detail);
    if (bad && !json_is_object(state)) {
        ch_text_free(&c->detail);
        ch_text_printf(&c->detail, "no final state was recorded for %s", obj);
    }
    if (bad) {
        ch_text_puts(&c->at, "in the final state");
        diff_first_prop(c, props, state);
    }
    json_decref(props);
    return bad ? CH_J_FAIL : CH_J_PASS;
}

/* ---- within ---- */

static size_t first_match(const struct evs *e, const json_t *atom, size_t from)
{
    for (size_t i = from; i < e->n; i++)
        if (ch_atom_match(atom, e->v[i])) return i;
    return e->n;
}

static enum ch_jstatus within_scan(struct ch_jcheck *c, const struct evs *e, const json_t *from,
                                   const json_t *to, const struct ch_jbound *bound)
{
    ch_atom_render(&c->expected, to);
    ch_text_puts(&c->expected, " ");
    ch_jbound_render(&c->expected, bound);
    ch_text_puts(&c->expected, " after ");
    ch_atom_render(&c->expected, from);
    size_t i = first_match(e, from, 0), j = i < e->n ? first_match(e, to, i + 1) : e->n;
    if (i == e->n || j == e->n) {
        ch_text_puts(&c->observed, "no ");
        ch_atom_render(&c->observed, i == e->n ? from : to);
        if (i < e->n) {
            ch_text_puts(&c->observed, " after ");
            ch_atom_render(&c->observed, from);
        }
        return CH_J_FAIL;
    }
    double dt = ev_t(e->v[j]) - ev_t(e->v[i]);
    ch_jtime(&c->observed, dt);
    ch_atom_render(&c->detail, from);
    ch_text_puts(&c->detail, " at ");
    at_event(&c->detail, e, i);
    ch_text_puts(&c->detail, ", ");
    ch_atom_render(&c->detail, to);
    ch_text_puts(&c->detail, " at ");
    at_event(&c->detail, e, j);
    ch_text_puts(&c->detail, "; ");
    ch_jbound_allowed(&c->detail, bound);
    return ch_jbound_holds(bound, dt) ? CH_J_PASS : CH_J_FAIL;
}

enum ch_jstatus ch_jcheck_within(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    struct ch_jbound bound;
    if (ch_jbound_parse(cx, c->exp, &bound, err) < 0) return ch_jerror(c, "%s", err);
    json_t *from = atom_of(cx, c, json_object_get(c->exp, "from"), "from");
    json_t *to = from ? atom_of(cx, c, json_object_get(c->exp, "to"), "to") : NULL;
    struct evs e = {0};
    enum ch_jstatus st = CH_J_ERROR;
    if (to && setup(cx, c, 1, &e) == 0) st = within_scan(c, &e, from, to, &bound);
    json_decref(from);
    json_decref(to);
    free(e.v);
    return st;
}
