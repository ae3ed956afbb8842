/* judge_mutate.c — mutants of a recorded run, targeted at one expectation (judge.h, ch_judge_mutants; harness/
 * mutate/ drives it over every record). A check that PASSed on a record is judged alone on copies of that
 * record changed in exactly what the check reads; it is proven able to fail when one of them makes it FAIL.
 *
 * What a mutant may change, by what the check reads (MODEL.md §1.3):
 * - a sequence (events, requests): drop, duplicate, or swap two adjacent items; events that read alike for
 *   this check (same type, argument and asserted properties) form one run, and only a run's first and last
 *   item are mutated, since any other gives the same verdict;
 * - an asserted value (an event's argument or state property, a final property, a ws-close summary field, a
 *   header, a body, a query, who closed a connection and how): a different value;
 * - a time (within, interval): the second point moved just past the upper bound, and past the lower one when
 *   that leaves it after the first;
 * - what is absent (never, count N when none occurred, header absent, query absent, requests none): only what
 *   a real client recorded in this situation, as `vocab` lists it. A mutant never invents an event the client
 *   program does not listen to, or a header no client of the case sent: a check is not proven by a run no
 *   client could produce.
 * The selector of a server check and the occurrence an `at` names are its subject, not what it asserts: they
 * are kept, so `header OPTIONS /r Cookie absent` is not "proven" by removing the OPTIONS request. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"
#include "judge_int.h"
#include "pattern.h"
#include "core/core.h"

/* ---- judging a mutant ---- */

/* Judges the check alone on the observations and transcript given (NULL: the record's own); stops the run at
 * the first mutant that makes it FAIL, keeping its description. Returns 1 when it failed. */
__attribute__((format(printf, 4, 0)))
static int judge_mutant(struct ch_jmut *m, json_t *obs, json_t *tr, const char *fmt, va_list ap)
{
    json_t *v = ch_judge(m->kase1, obs ? obs : m->obs, tr ? tr : m->tr, m->cx.vars, m->cx.scale);
    const json_t *chk = json_array_get(json_object_get(v, "checks"), 0);
    const char *status = json_string_value(json_object_get(chk, "status"));
    int failed = status && !strcmp(status, "FAIL");
    m->tried++;
    if (failed) {
        m->killed = 1;
        vsnprintf(m->how, m->howlen, fmt, ap);
    }
    json_decref(v);
    return failed;
}

int ch_jmut_obs(struct ch_jmut *m, json_t *events, json_t *final, const char *fmt, ...)
{
    if (m->killed) {
        json_decref(events);
        json_decref(final);
        return 1;
    }
    json_t *obs = json_is_object(m->obs) ? json_copy((json_t *)m->obs) : json_object();
    if (events) json_object_set_new(obs, "events", events);
    if (final) json_object_set_new(obs, "final", final);
    va_list ap;
    va_start(ap, fmt);
    int failed = judge_mutant(m, obs, NULL, fmt, ap);
    va_end(ap);
    json_decref(obs);
    return failed;
}

int ch_jmut_tr(struct ch_jmut *m, json_t *trevents, const char *fmt, ...)
{
    if (m->killed) {
        json_decref(trevents);
        return 1;
    }
    json_t *tr = json_is_object(m->tr) ? json_copy((json_t *)m->tr) : json_object();
    json_object_set_new(tr, "events", trevents);
    va_list ap;
    va_start(ap, fmt);
    int failed = judge_mutant(m, NULL, tr, fmt, ap);
    va_end(ap);
    json_decref(tr);
    return failed;
}

/* ---- arrays and values ---- */

json_t *ch_jmut_without(const json_t *a, size_t i)
{
    json_t *c = json_array();
    for (size_t k = 0; k < json_array_size(a); k++)
        if (k != i) json_array_append(c, json_array_get(a, k));
    return c;
}

json_t *ch_jmut_inserted(const json_t *a, size_t at, json_t *item)
{
    json_t *c = json_array();
    for (size_t k = 0; k <= json_array_size(a); k++) {
        if (k == at) json_array_append(c, item);
        if (k < json_array_size(a)) json_array_append(c, json_array_get(a, k));
    }
    json_decref(item);
    return c;
}

json_t *ch_jmut_replaced(const json_t *a, size_t i, json_t *item)
{
    json_t *c = json_array();
    for (size_t k = 0; k < json_array_size(a); k++) json_array_append(c, k == i ? item : json_array_get(a, k));
    json_decref(item);
    return c;
}

json_t *ch_jmut_swapped(const json_t *a, size_t i, size_t j, const char *tkey)
{
    json_t *x = json_deep_copy(json_array_get(a, j)), *y = json_deep_copy(json_array_get(a, i));
    json_object_set(x, tkey, json_object_get(json_array_get(a, i), tkey));
    json_object_set(y, tkey, json_object_get(json_array_get(a, j), tkey));
    json_t *c = ch_jmut_replaced(a, i, x), *d = ch_jmut_replaced(c, j, y);
    json_decref(c);
    return d;
}

json_t *ch_jmut_other(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER: return json_integer(json_integer_value(v) + 1);
    case JSON_REAL: return json_real(json_real_value(v) + 1);
    case JSON_STRING: {
        size_t n = json_string_length(v);
        char *s = ch_xmalloc(n + 1);
        memcpy(s, json_string_value(v), n);
        s[n] = 'x';
        json_t *o = json_stringn_nocheck(s, n + 1);
        free(s);
        return o;
    }
    case JSON_TRUE: return json_false();
    case JSON_FALSE: return json_true();
    case JSON_NULL: return json_integer(0);
    default: return json_null();
    }
}

/* A copy of the event with the value at `path` of its `key` object ("state", or the event itself when key is
 * NULL) changed; NULL when the event has no value there. */
json_t *ch_jmut_changed(const json_t *ev, const char *key, const char *path)
{
    const json_t *in = key ? json_object_get(ev, key) : ev, *old = ch_value_path(in, path);
    if (!old) return NULL;
    json_t *copy = json_deep_copy(ev);
    json_t *target = key ? json_object_get(copy, key) : copy;
    if (ch_value_path_set(target, path, ch_jmut_other(old)) < 0) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

/* "load", "readystatechange(4)" */
static void describe(char *out, size_t n, const json_t *ev)
{
    struct ch_text t = {0};
    ch_event_render(&t, ev, NULL, 0);
    snprintf(out, n, "%s", ch_text_str(&t));
    ch_text_free(&t);
}

/* ---- the object's events ---- */

/* Indexes into the observations' events of one object's events (`reads`: with the `read` pseudo-events); -1
 * when the expectation names no object (o->i is then NULL; else free it). */
struct oevs {
    const char *obj;
    size_t *i, n;
};

static int object_events(const struct ch_jmut *m, int reads, struct oevs *o)
{
    const json_t *name = json_object_get(m->exp, "obj");
    o->obj = json_is_string(name) ? json_string_value(name) : m->cx.default_obj;
    o->n = 0;
    o->i = NULL;
    if (!o->obj) return -1;
    o->i = ch_xmalloc((json_array_size(m->cx.events) + 1) * sizeof *o->i);
    for (size_t k = 0; k < json_array_size(m->cx.events); k++) {
        const json_t *ev = json_array_get(m->cx.events, k);
        if (strcmp(json_string_value(json_object_get(ev, "obj")), o->obj) != 0) continue;
        if (!reads && !strcmp(json_string_value(json_object_get(ev, "type")), "read")) continue;
        o->i[o->n++] = k;
    }
    return 0;
}

static const json_t *oev(const struct ch_jmut *m, const struct oevs *o, size_t k)
{
    return json_array_get(m->cx.events, o->i[k]);
}

/* How an event reads for this check: its type, argument and the values at the asserted paths. */
static char *signature(const json_t *ev, const json_t *paths)
{
    json_t *a = json_array();
    json_array_append(a, json_object_get(ev, "type"));
    json_array_append_new(a, json_object_get(ev, "arg") ? json_incref(json_object_get(ev, "arg")) : json_null());
    for (size_t k = 0; k < json_array_size(paths); k++) {
        const json_t *v = ch_value_path(json_object_get(ev, "state"), json_string_value(json_array_get(paths, k)));
        json_array_append_new(a, v ? json_incref((json_t *)v) : json_string("(absent)"));
    }
    char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(a);
    return s;
}

/* Marks the first and last item of every run of items that read alike (sig[k] equal). */
static unsigned char *run_ends(char **sig, size_t n)
{
    unsigned char *rep = ch_xcalloc(n + 1, 1);
    for (size_t k = 0; k < n; k++)
        rep[k] = k == 0 || k + 1 == n || strcmp(sig[k], sig[k - 1]) != 0 || strcmp(sig[k], sig[k + 1]) != 0;
    return rep;
}

static void free_sigs(char **sig, size_t n)
{
    for (size_t k = 0; k < n; k++) free(sig[k]);
    free(sig);
}

/* An event matching the atom, of a type the vocabulary says the object can record (what real clients
 * recorded on an object of its kind listening as it does), or NULL: {"obj", "type", "arg"?, "t", "state"},
 * at the time and with the state of the object's last event, the atom's argument and properties set. */
static json_t *vocab_event(const struct ch_jmut *m, const struct oevs *o, const json_t *atom)
{
    const json_t *known = json_object_get(json_object_get(m->vocab, "events"), o->obj), *v, *pv;
    const char *type = json_string_value(json_object_get(atom, "type")), *hit = NULL, *key;
    size_t k;
    json_array_foreach(known, k, v) {
        const char *vt = json_string_value(v);
        if (vt && (!strcmp(type, ".") || !strcmp(type, vt))) {
            hit = vt;
            break;
        }
    }
    if (!hit) return NULL;
    const json_t *last = o->n ? oev(m, o, o->n - 1) : NULL, *arg = json_object_get(atom, "arg");
    json_t *state = json_deep_copy(json_object_get(last, "state"));
    if (!json_is_object(state)) {
        json_decref(state);
        state = json_object();
    }
    json_object_foreach((json_t *)json_object_get(atom, "props"), key, pv)
        if (ch_value_path_set(state, key, json_incref((json_t *)pv)) < 0) json_object_set(state, key, (json_t *)pv);
    json_t *t = last ? json_incref(json_object_get(last, "t")) : json_integer(0);
    json_t *ev = json_pack("{s:s, s:s, s:o, s:o}", "obj", o->obj, "type", hit, "t", t, "state", state);
    if (arg) json_object_set(ev, "arg", (json_t *)arg);
    return ev;
}

/* Adds, after the object's last event, an event matching the atom that the vocabulary allows. */
static void add_event(struct ch_jmut *m, const struct oevs *o, const json_t *atom)
{
    json_t *ev = vocab_event(m, o, atom);
    if (!ev) return;
    char what[200];
    describe(what, sizeof what, ev);
    size_t at = o->n ? o->i[o->n - 1] + 1 : json_array_size(m->cx.events);
    ch_jmut_obs(m, ch_jmut_inserted(m->cx.events, at, ev), NULL, "add %s event %s", o->obj, what);
}

/* ---- events ---- */

/* The atoms of a PATTERN tree, borrowed, into `out` (a JSON array). */
static void pattern_atoms(const json_t *p, json_t *out, int depth)
{
    if (!json_is_object(p) || depth > CH_PAT_MAX_DEPTH) return;
    const json_t *atom = json_object_get(p, "atom"), *v;
    if (atom) json_array_append(out, (json_t *)atom);
    const char *lists[] = {"seq", "alt"};
    for (int l = 0; l < 2; l++) {
        size_t k;
        json_array_foreach(json_object_get(p, lists[l]), k, v) pattern_atoms(v, out, depth + 1);
    }
    pattern_atoms(json_object_get(p, "repeat"), out, depth + 1);
}

/* The distinct property paths the atoms assert, as a JSON array of strings. */
static json_t *atom_paths(const json_t *atoms)
{
    json_t *paths = json_array(), *seen = json_object(), *v;
    const char *key;
    size_t k;
    const json_t *a;
    json_array_foreach(atoms, k, a) {
        json_object_foreach(json_object_get(a, "props"), key, v) {
            if (json_object_get(seen, key)) continue;
            json_object_set_new(seen, key, json_true());
            json_array_append_new(paths, json_string(key));
        }
    }
    json_decref(seen);
    return paths;
}

static int atom_with_arg(const json_t *atoms, const json_t *ev)
{
    size_t k;
    const json_t *a;
    json_array_foreach(atoms, k, a) {
        const char *t = json_string_value(json_object_get(a, "type"));
        const char *et = json_string_value(json_object_get(ev, "type"));
        if (json_object_get(a, "arg") && t && et && (!strcmp(t, ".") || !strcmp(t, et))) return 1;
    }
    return 0;
}

static void events_sequence(struct ch_jmut *m, const struct oevs *o, const unsigned char *rep, char **sig)
{
    char what[200];
    for (size_t k = 0; k < o->n && !m->killed; k++) {
        if (!rep[k]) continue;
        describe(what, sizeof what, oev(m, o, k));
        ch_jmut_obs(m, ch_jmut_without(m->cx.events, o->i[k]), NULL, "drop %s event %zu (%s)", o->obj, k + 1, what);
    }
    for (size_t k = 0; k < o->n && !m->killed; k++) {
        if (!rep[k]) continue;
        describe(what, sizeof what, oev(m, o, k));
        ch_jmut_obs(m, ch_jmut_inserted(m->cx.events, o->i[k] + 1, json_incref((json_t *)oev(m, o, k))), NULL,
                    "duplicate %s event %zu (%s)", o->obj, k + 1, what);
    }
    for (size_t k = 0; k + 1 < o->n && !m->killed; k++) {
        if (!rep[k] || !strcmp(sig[k], sig[k + 1])) continue;
        describe(what, sizeof what, oev(m, o, k));
        ch_jmut_obs(m, ch_jmut_swapped(m->cx.events, o->i[k], o->i[k + 1], "t"), NULL,
                    "swap %s events %zu (%s) and %zu", o->obj, k + 1, what, k + 2);
    }
}

static void events_values(struct ch_jmut *m, const struct oevs *o, const unsigned char *rep, const json_t *atoms,
                          const json_t *paths)
{
    char what[200];
    for (size_t k = 0; k < o->n && !m->killed; k++) {
        const json_t *ev = oev(m, o, k);
        if (!rep[k]) continue;
        describe(what, sizeof what, ev);
        if (atom_with_arg(atoms, ev)) {
            json_t *c = json_deep_copy(ev);
            const json_t *arg = json_object_get(ev, "arg");
            json_object_set_new(c, "arg", ch_jmut_other(arg ? arg : json_null()));
            ch_jmut_obs(m, ch_jmut_replaced(m->cx.events, o->i[k], c), NULL, "change the argument of %s event %zu (%s)",
                        o->obj, k + 1, what);
        }
        for (size_t p = 0; p < json_array_size(paths) && !m->killed; p++) {
            const char *path = json_string_value(json_array_get(paths, p));
            json_t *c = ch_jmut_changed(ev, "state", path);
            if (c)
                ch_jmut_obs(m, ch_jmut_replaced(m->cx.events, o->i[k], c), NULL, "change %s of %s event %zu (%s)", path,
                            o->obj, k + 1, what);
        }
    }
}

static void mutate_events(struct ch_jmut *m)
{
    struct oevs o;
    json_t *atoms = json_array();
    pattern_atoms(json_object_get(m->exp, "pattern"), atoms, 0);
    json_t *paths = atom_paths(atoms);
    if (object_events(m, 0, &o) == 0) {
        char **sig = ch_xmalloc((o.n + 1) * sizeof *sig);
        for (size_t k = 0; k < o.n; k++) sig[k] = signature(oev(m, &o, k), paths);
        unsigned char *rep = run_ends(sig, o.n);
        for (size_t k = 0; k < json_array_size(atoms) && o.n == 0 && !m->killed; k++)
            add_event(m, &o, json_array_get(atoms, k));
        events_sequence(m, &o, rep, sig);
        events_values(m, &o, rep, atoms, paths);
        free(rep);
        free_sigs(sig, o.n);
    }
    free(o.i);
    json_decref(paths);
    json_decref(atoms);
}

/* ---- never, count ---- */

/* The expectation's atom under `key`, placeholders filled (NULL when it cannot be: the check would be an ERROR,
 * not a PASS, so this does not happen on a record where it passed). */
static json_t *filled(const struct ch_jmut *m, const json_t *raw)
{
    char err[CH_ERR_LEN];
    return raw ? ch_jfill(&m->cx, raw, err) : NULL;
}

static void mutate_never(struct ch_jmut *m)
{
    struct oevs o;
    if (object_events(m, 1, &o) == 0) {
        const json_t *atoms = json_object_get(m->exp, "atoms");
        for (size_t k = 0; k < json_array_size(atoms) && !m->killed; k++) {
            json_t *a = filled(m, json_array_get(atoms, k));
            if (a) add_event(m, &o, a);
            json_decref(a);
        }
    }
    free(o.i);
}

/* Drops the last `count` of the object's events matching the atom. */
static void drop_last(struct ch_jmut *m, const struct oevs *o, const size_t *hit, size_t nhit, size_t count)
{
    json_t *evs = json_incref((json_t *)m->cx.events);
    for (size_t k = 0; k < count && k < nhit; k++) {
        json_t *next = ch_jmut_without(evs, o->i[hit[nhit - 1 - k]]);
        json_decref(evs);
        evs = next;
    }
    ch_jmut_obs(m, evs, NULL, "drop the last %zu of the %zu %s events matching", count, nhit, o->obj);
}

static void mutate_count(struct ch_jmut *m)
{
    struct oevs o;
    json_t *atom = filled(m, json_object_get(m->exp, "atom"));
    long long want = json_integer_value(json_object_get(m->exp, "n"));
    int at_least = json_is_true(json_object_get(m->exp, "at_least"));
    if (atom && object_events(m, 1, &o) == 0) {
        size_t *hit = ch_xmalloc((o.n + 1) * sizeof *hit), nhit = 0;
        for (size_t k = 0; k < o.n; k++)
            if (ch_atom_match(atom, oev(m, &o, k))) hit[nhit++] = k;
        if (at_least && want > 0) drop_last(m, &o, hit, nhit, nhit - (size_t)want + 1);
        if (!at_least && nhit > 0) {
            drop_last(m, &o, hit, nhit, 1);
            ch_jmut_obs(m, ch_jmut_inserted(m->cx.events, o.i[hit[nhit - 1]] + 1,
                                            json_incref((json_t *)oev(m, &o, hit[nhit - 1]))),
                        NULL, "duplicate the last matching %s event", o.obj);
        }
        if (!at_least && nhit == 0) add_event(m, &o, atom);
        free(hit);
        free(o.i);
    }
    json_decref(atom);
}

/* ---- at, final, within ---- */

static void mutate_at(struct ch_jmut *m)
{
    struct oevs o;
    json_t *atom = filled(m, json_object_get(m->exp, "atom"));
    long long nth = json_integer_value(json_object_get(m->exp, "nth"));
    if (atom && object_events(m, 1, &o) == 0) {
        size_t seen = 0, k;
        for (k = 0; k < o.n; k++)
            if (ch_atom_match(atom, oev(m, &o, k)) && ++seen >= (size_t)(nth > 0 ? nth : 1)) break;
        const char *path;
        const json_t *v;
        char what[200];
        if (k < o.n) describe(what, sizeof what, oev(m, &o, k));
        json_object_foreach(k < o.n ? json_object_get(m->exp, "props") : NULL, path, v) {
            json_t *c = ch_jmut_changed(oev(m, &o, k), "state", path);
            if (c)
                ch_jmut_obs(m, ch_jmut_replaced(m->cx.events, o.i[k], c), NULL, "change %s at %s event %zu (%s)", path,
                            o.obj, k + 1, what);
        }
        free(o.i);
    }
    json_decref(atom);
}

static void mutate_final(struct ch_jmut *m)
{
    const json_t *name = json_object_get(m->exp, "obj"), *v;
    const char *obj = json_is_string(name) ? json_string_value(name) : m->cx.default_obj, *path;
    const json_t *state = obj ? json_object_get(m->cx.final, obj) : NULL;
    json_object_foreach((json_t *)json_object_get(m->exp, "props"), path, v) {
        json_t *c = state ? ch_jmut_changed(state, NULL, path) : NULL;
        if (!c) continue;
        json_t *final = json_copy((json_t *)m->cx.final);
        json_object_set_new(final, obj, c);
        ch_jmut_obs(m, NULL, final, "change the final %s of %s", path, obj);
    }
}

/* Judges the mutant where events[j]'s time `tkey` is t0 + ms * unit (unit: time units per ms). */
static void move(struct ch_jmut *m, const json_t *events, size_t j, const char *tkey, double t0, double ms, double unit,
                 int transcript, const char *what)
{
    json_t *c = json_deep_copy(json_array_get(events, j));
    json_object_set_new(c, tkey, json_real(t0 + ms * unit));
    json_t *evs = ch_jmut_replaced(events, j, c);
    if (transcript) ch_jmut_tr(m, evs, "move %s to %.1f ms after its start point", what, ms);
    else ch_jmut_obs(m, evs, NULL, "move %s to %.1f ms after its start point", what, ms);
}

void ch_jmut_times(struct ch_jmut *m, const json_t *events, size_t j, const char *tkey, double t0, double unit,
                   int transcript, const char *what)
{
    char err[CH_ERR_LEN];
    double ms, tol = 0;
    if (ch_jms(&m->cx, m->exp, "ms", &ms, err) < 0) return;
    if (json_object_get(m->exp, "tol_ms") && ch_jms(&m->cx, m->exp, "tol_ms", &tol, err) < 0) return;
    if (ms - tol - 1 >= 0) move(m, events, j, tkey, t0, ms - tol - 1, unit, transcript, what);
    move(m, events, j, tkey, t0, ms + tol + 1, unit, transcript, what);
}

static void mutate_within(struct ch_jmut *m)
{
    struct oevs o;
    char what[200];
    json_t *from = filled(m, json_object_get(m->exp, "from")), *to = filled(m, json_object_get(m->exp, "to"));
    if (from && to && object_events(m, 1, &o) == 0) {
        size_t i = 0, j;
        while (i < o.n && !ch_atom_match(from, oev(m, &o, i))) i++;
        for (j = i + 1; j < o.n && !ch_atom_match(to, oev(m, &o, j));) j++;
        if (j < o.n) {
            describe(what, sizeof what, oev(m, &o, j));
            double t0 = json_number_value(json_object_get(oev(m, &o, i), "t"));
            ch_jmut_times(m, m->cx.events, o.i[j], "t", t0, 1, 0, what);
        }
        free(o.i);
    }
    json_decref(from);
    json_decref(to);
}

/* ---- the entry point ---- */

static const struct {
    const char *kind;
    void (*fn)(struct ch_jmut *m);
} mutators[] = {
    {"events", mutate_events},
    {"never", mutate_never},
    {"count", mutate_count},
    {"at", mutate_at},
    {"final", mutate_final},
    {"within", mutate_within},
    {"requests", ch_jmut_requests},
    {"request-count", ch_jmut_request_count},
    {"request-header", ch_jmut_request_header},
    {"request-body", ch_jmut_request_body},
    {"request-query", ch_jmut_request_query},
    {"closed", ch_jmut_closed},
    {"interval", ch_jmut_interval},
    {"ws-close", ch_jmut_ws_close},
};

int ch_judge_mutants(const json_t *kase, size_t i, const json_t *observations, const json_t *transcript,
                     const json_t *vars, double time_scale, const json_t *vocab, char *how, size_t howlen,
                     size_t *tried)
{
    const json_t *exp = json_array_get(json_object_get(kase, "expect"), i);
    const char *kind = json_string_value(json_object_get(exp, "kind"));
    const json_t *objects = json_object_get(json_object_get(kase, "client"), "objects");
    struct ch_jmut m = {
        .cx = {.kase = kase, .vars = vars, .scale = time_scale, .objects = objects,
               .default_obj = json_string_value(json_object_get(json_array_get(objects, 0), "name"))},
        .exp = exp, .obs = observations, .tr = transcript, .vocab = vocab, .how = how, .howlen = howlen};
    const json_t *events = json_object_get(observations, "events"), *final = json_object_get(observations, "final");
    m.cx.events = json_is_array(events) ? events : NULL;
    m.cx.final = json_is_object(final) ? final : NULL;
    m.cx.trevents = json_is_array(json_object_get(transcript, "events")) ? json_object_get(transcript, "events") : NULL;
    if (howlen) how[0] = '\0';
    m.kase1 = json_copy((json_t *)kase);
    json_object_set_new(m.kase1, "expect", json_pack("[O]", exp));
    for (size_t k = 0; kind && k < sizeof mutators / sizeof mutators[0]; k++)
        if (!strcmp(kind, mutators[k].kind)) mutators[k].fn(&m);
    json_decref(m.kase1);
    if (tried) *tried = m.tried;
    return m.killed;
}
