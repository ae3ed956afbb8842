/* check_pattern.c — unit tests of harness/judge/pattern.c (event-sequence patterns, MODEL.md §1.3, FORMAT.md §6.1).
 *
 * Rows are written in the pattern notation and turned into PATTERN trees by a small parser below (test-only:
 * the real one is harness/script.c), so each row reads like a case line. Events are written the same way:
 * `type`, `type(arg)`, `type[key=value,...]` (state), or as a JSON array when they need nested values. JSON
 * here uses single quotes for double quotes. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/pattern.h"
#include "core/core.h"
#include "testing/testing.h"

/* ---- helpers ---- */

/* Parses JSON written with ' for ". */

struct rd {
    const char *s;
};

static void skip(struct rd *r)
{
    while (*r->s == ' ') r->s++;
}

/* A value: number, true/false/null, "string", or a bare word (a string). */
static json_t *value(struct rd *r)
{
    skip(r);
    if (*r->s == '"') {
        const char *e = strchr(r->s + 1, '"');
        ck_assert_ptr_nonnull(e);
        json_t *v = json_stringn(r->s + 1, (size_t)(e - r->s - 1));
        r->s = e + 1;
        return v;
    }
    size_t n = strcspn(r->s, ",)] ");
    char buf[128];
    ck_assert_uint_lt(n, sizeof buf);
    memcpy(buf, r->s, n);
    buf[n] = '\0';
    r->s += n;
    if (!strcmp(buf, "true")) return json_true();
    if (!strcmp(buf, "false")) return json_false();
    if (!strcmp(buf, "null")) return json_null();
    char *end;
    long long i = strtoll(buf, &end, 10);
    if (n && !*end) return json_integer(i);
    double d = strtod(buf, &end);
    if (n && !*end) return json_real(d);
    return json_string(buf);
}

/* "k=v,k=v" into an object, up to `close`. */
static json_t *pairs(struct rd *r, char close)
{
    json_t *o = json_object();
    while (*r->s && *r->s != close) {
        size_t n = strcspn(r->s, "=");
        char key[64];
        ck_assert_uint_lt(n, sizeof key);
        memcpy(key, r->s, n);
        key[n] = '\0';
        r->s += n + 1;
        json_object_set_new(o, key, value(r));
        if (*r->s == ',') r->s++;
    }
    ck_assert_int_eq(*r->s, close);
    r->s++;
    return o;
}

static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == ':';
}

/* NAME or NAME(arg) or NAME(k=v,...) into an ATOM. */
static json_t *atom(struct rd *r)
{
    const char *b = r->s;
    while (name_char(*r->s)) r->s++;
    ck_assert_msg(r->s > b, "expected an atom at '%s'", b);
    json_t *a = json_object();
    json_object_set_new(a, "type", json_stringn(b, (size_t)(r->s - b)));
    if (*r->s != '(') return a;
    r->s++;
    const char *eq = strchr(r->s, '='), *cl = strchr(r->s, ')');
    if (eq && cl && eq < cl && *r->s != '"') {
        json_object_set_new(a, "props", pairs(r, ')'));
    } else {
        json_object_set_new(a, "arg", value(r));
        ck_assert_int_eq(*r->s, ')');
        r->s++;
    }
    return a;
}

static json_t *alt(struct rd *r);

static json_t *wrap(const char *key, json_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, key, v);
    return o;
}

static json_t *quantify(struct rd *r, json_t *p)
{
    for (;;) {
        long min, max;
        if (*r->s == '*') min = 0, max = -1, r->s++;
        else if (*r->s == '+') min = 1, max = -1, r->s++;
        else if (*r->s == '?') min = 0, max = 1, r->s++;
        else if (*r->s == '{') {
            char *e;
            min = strtol(r->s + 1, &e, 10);
            max = min;
            if (*e == ',') max = e[1] == '}' ? -1 : strtol(e + 1, &e, 10);
            if (*e == ',') e++;
            ck_assert_int_eq(*e, '}');
            r->s = e + 1;
        } else return p;
        json_t *q = wrap("repeat", p);
        json_object_set_new(q, "min", json_integer(min));
        json_object_set_new(q, "max", max < 0 ? json_null() : json_integer(max));
        p = q;
    }
}

static json_t *item(struct rd *r)
{
    json_t *p;
    if (*r->s == '(') {
        r->s++;
        p = alt(r);
        skip(r);
        ck_assert_int_eq(*r->s, ')');
        r->s++;
    } else {
        p = wrap("atom", atom(r));
    }
    return quantify(r, p);
}

/* A single-element seq or alt collapses to its element, so rendering gives the text back. */
static json_t *collapse(const char *key, json_t *arr)
{
    if (json_array_size(arr) == 1) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return one;
    }
    return wrap(key, arr);
}

static json_t *seq(struct rd *r)
{
    json_t *arr = json_array();
    for (skip(r); *r->s && *r->s != '|' && *r->s != ')'; skip(r)) json_array_append_new(arr, item(r));
    return collapse("seq", arr);
}

static json_t *alt(struct rd *r)
{
    json_t *arr = json_array();
    json_array_append_new(arr, seq(r));
    while (*r->s == '|') {
        r->s++;
        json_array_append_new(arr, seq(r));
    }
    return collapse("alt", arr);
}

/* The pattern notation into a PATTERN tree ("()" is the empty sequence). */
static json_t *P(const char *text)
{
    struct rd r = {text};
    json_t *p = alt(&r);
    ck_assert_msg(*r.s == '\0', "trailing text in pattern '%s': '%s'", text, r.s);
    return p;
}

/* Events: "a b(1) c[x=1,y=two]" or a JSON array; obj "x", t = 10 ms per event. Returns a JSON array. */
static json_t *E(const char *text)
{
    if (text[0] == '[') return J(text);
    json_t *arr = json_array();
    struct rd r = {text};
    for (skip(&r); *r.s; skip(&r)) {
        json_t *a = atom(&r), *ev = json_object();
        json_object_set_new(ev, "obj", json_string("x"));
        json_object_set(ev, "type", json_object_get(a, "type"));
        json_object_set_new(ev, "t", json_real(10.0 * (double)json_array_size(arr)));
        if (json_object_get(a, "arg")) json_object_set(ev, "arg", json_object_get(a, "arg"));
        if (json_object_get(a, "props")) json_object_set(ev, "state", json_object_get(a, "props"));
        if (*r.s == '[') {
            r.s++;
            json_object_set_new(ev, "state", pairs(&r, ']'));
        }
        json_array_append_new(arr, ev);
        json_decref(a);
    }
    return arr;
}

/* n copies of one event, as text. */
static char *repeat_text(const char *ev, int n, const char *tail)
{
    size_t cap = (strlen(ev) + 1) * (size_t)n + strlen(tail) + 2;
    char *s = malloc(cap);
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        strcat(s, ev);
        strcat(s, " ");
    }
    strcat(s, tail);
    return s;
}

struct matched {
    struct ch_pat *p;
    json_t *events;
    const json_t **v;
    size_t n;
    struct ch_pat_result r;
};

static void run(struct matched *m, json_t *tree, json_t *events, unsigned long budget)
{
    char err[CH_ERR_LEN];
    m->p = ch_pat_compile(tree, err);
    ck_assert_msg(m->p != NULL, "compile: %s", err);
    json_decref(tree);
    m->events = events;
    m->n = json_array_size(events);
    m->v = malloc((m->n + 1) * sizeof *m->v);
    for (size_t i = 0; i < m->n; i++) m->v[i] = json_array_get(events, i);
    ch_pat_match(m->p, m->v, m->n, budget, &m->r);
}

static void done(struct matched *m)
{
    ch_pat_free(m->p);
    json_decref(m->events);
    free(m->v);
}

/* "b|c|$": the allowed atoms at the first difference, rendered, with $ for "the end". */
static void allowed_text(const struct ch_pat_result *r, char *out, size_t cap)
{
    struct ch_text t = {0};
    for (size_t i = 0; i < r->nallowed; i++) {
        if (i) ch_text_puts(&t, "|");
        ch_atom_render(&t, r->allowed[i]);
    }
    if (r->end_allowed) ch_text_puts(&t, r->nallowed ? "|$" : "$");
    snprintf(out, cap, "%s", ch_text_str(&t));
    ch_text_free(&t);
}

/* ---- matching rows: pattern, events, first difference (-1: match), allowed there (NULL: not checked) ---- */

static const struct {
    const char *pattern, *events;
    long diff;
    const char *allowed;
} rows[] = {
    {"a b c", "a b c", -1, NULL},
    {"a b c", "a b", 2, "c"},
    {"a b c", "a x c", 1, "b"},
    {"a b c", "a b c d", 3, "$"},
    {"a b c", "", 0, "a"},
    {"a*", "", -1, NULL},
    {"a*", "a a a", -1, NULL},
    {"a*", "a a b", 2, "a|$"},
    {"a+", "", 0, "a"},
    {"a?", "a a", 1, "$"},
    {"a{2}", "a a", -1, NULL},
    {"a{2}", "a", 1, "a"},
    {"a{2,3}", "a a a", -1, NULL},
    {"a{2,3}", "a a a a", 3, "$"},
    {"a{2,}", "a a a a a", -1, NULL},
    {"a{0}", "", -1, NULL},
    {"a{0}", "a", 0, "$"},
    {"a (b | c)+ d", "a b c b d", -1, NULL},
    {"a (b | c)+ d", "a d", 1, "b|c"},
    {"a (b | c)+ d", "a b x", 2, "b|c|d"},
    {"a | b c", "b c", -1, NULL},
    {"a | b c", "a", -1, NULL},
    {"a | b c", "b", 1, "c"},
    {"a | b c", "c", 0, "a|b"},
    {".* x", "a b x", -1, NULL},
    {".* x", "a b", 2, ".|x"},
    {". . .", "x y z", -1, NULL},
    {"(a b)* c", "a b a b c", -1, NULL},
    {"(a b)* c", "a b a c", 3, "b"},
    {"(a | b){2} c", "a b c", -1, NULL},
    {"(a | b){2} c", "a b a", 2, "c"},
    {"a b? c", "a c", -1, NULL},
    {"x{3,5}", "x x", 2, "x"},
    {"()", "", -1, NULL},
    {"()", "a", 0, "$"},
    {"(a*)*", "a a a", -1, NULL},
    {"((a*)*)* b", "a a a b", -1, NULL},
    {"(a | a)* b", "a a a a c", 4, NULL},
    {"a* a* a* a* b", "a a a a a a a a a a a a a a a a a a a a c", 20, NULL},
    /* atoms: arguments and state properties */
    {"readystatechange(4)", "readystatechange(4.0)", -1, NULL},
    {"readystatechange(4)", "readystatechange(3)", 0, "readystatechange(4)"},
    {"message(\"4\")", "message(4)", 0, NULL},
    {"message(hi)", "message(\"hi\")", -1, NULL},
    {"exception(InvalidAccessError)", "exception(InvalidAccessError)", -1, NULL},
    {"exception(InvalidAccessError)", "exception(SyntaxError)", 0, NULL},
    {"callback(null)", "callback", -1, NULL},
    {"close(true)", "close(1)", 0, NULL},
    {"progress(loaded=12,total=12)", "progress[loaded=12,total=12,lengthComputable=true]", -1, NULL},
    {"progress(loaded=12)", "progress[loaded=10]", 0, "progress(loaded=12)"},
    {"progress(loaded=12)", "progress", 0, NULL},
    {"progress(lengthComputable=false)", "progress[lengthComputable=false]", -1, NULL},
    {"load(response.bytes=12)", "[{'obj':'x','type':'load','t':1,'state':{'response':{'bytes':12}}}]", -1, NULL},
    {"load(response.bytes=12)", "[{'obj':'x','type':'load','t':1,'state':{'response':{'bytes':13}}}]", 0, NULL},
    {"message(data=\"a b\")", "[{'obj':'x','type':'message','t':1,'state':{'data':'a b'}}]", -1, NULL},
    {"upload.progress+ upload.load", "upload.progress upload.progress upload.load", -1, NULL},
    /* XHR event orders: the request error steps on a timeout (https://xhr.spec.whatwg.org/#request-error-steps),
     * and a success with its readystatechange(3)/progress pairs (https://xhr.spec.whatwg.org/#the-send()-method) */
    {"readystatechange(1) loadstart readystatechange(4) timeout loadend",
     "readystatechange(1) loadstart readystatechange(4) timeout loadend", -1, NULL},
    {"readystatechange(1) loadstart readystatechange(4) timeout loadend",
     "readystatechange(1) loadstart readystatechange(4) load loadend", 3, "timeout"},
    {"readystatechange(1) loadstart readystatechange(2) (readystatechange(3) | progress)+ readystatechange(4) load "
     "loadend",
     "readystatechange(1) loadstart readystatechange(2) readystatechange(3) progress readystatechange(3) progress "
     "readystatechange(4) load loadend",
     -1, NULL},
    {"readystatechange(1) loadstart readystatechange(2) (readystatechange(3) | progress)+ readystatechange(4) load "
     "loadend",
     "readystatechange(1) loadstart readystatechange(2) readystatechange(3) progress load readystatechange(4) loadend",
     5, "readystatechange(3)|progress|readystatechange(4)"},
};

START_TEST(match_table)
{
    struct matched m;
    run(&m, P(rows[_i].pattern), E(rows[_i].events), CH_PAT_BUDGET);
    long diff = m.r.status == CH_PAT_MATCH ? -1 : m.r.status == CH_PAT_NOMATCH ? (long)m.r.diff : -2;
    ck_assert_msg(diff == rows[_i].diff, "row %d: %s over [%s]: first difference %ld, want %ld", _i,
                  rows[_i].pattern, rows[_i].events, diff, rows[_i].diff);
    if (rows[_i].allowed) {
        char got[512];
        allowed_text(&m.r, got, sizeof got);
        ck_assert_msg(!strcmp(got, rows[_i].allowed), "row %d: allowed %s, want %s", _i, got, rows[_i].allowed);
    }
    done(&m);
}
END_TEST

/* ---- compile errors: the tree, a phrase of the message ---- */

static const struct {
    const char *tree, *phrase;
} bad[] = {
    {"[]", "pattern: a pattern must be an object"},
    {"{}", "exactly one of seq, alt, atom, repeat"},
    {"{'seq':[],'alt':[]}", "exactly one"},
    {"{'alt':[]}", "at least one alternative"},
    {"{'seq':'x'}", "\"seq\" must be an array"},
    {"{'seq':[{'atom':{'type':'a'}}, 5]}", "pattern.seq[1]: a pattern must be an object"},
    {"{'atom':{'type':''}}", "non-empty string \"type\""},
    {"{'atom':{'type':7}}", "non-empty string \"type\""},
    {"{'atom':{'type':'a','props':3}}", "\"props\" must be an object"},
    {"{'repeat':{'atom':{'type':'a'}},'min':3,'max':2}", "\"max\" is less than \"min\""},
    {"{'repeat':{'atom':{'type':'a'}},'min':-1,'max':2}", "\"min\" must be an integer"},
    {"{'repeat':{'atom':{'type':'a'}},'max':2}", "\"min\" must be an integer"},
    {"{'repeat':{'atom':{'type':'a'}},'min':0,'max':'x'}", "\"max\" must be an integer"},
    {"{'repeat':{'atom':{'type':'a'}},'min':1e3,'max':null}", "\"min\" must be an integer"},
    {"{'alt':[{'seq':[]},{'repeat':7,'min':0}]}", "pattern.alt[1].repeat: a pattern must be an object"},
    {"{'repeat':{'repeat':{'atom':{'type':'a'}},'min':1000,'max':1000},'min':1000,'max':1000}", "too large"},
};

START_TEST(compile_errors)
{
    char err[CH_ERR_LEN] = "";
    json_t *tree = J(bad[_i].tree);
    struct ch_pat *p = ch_pat_compile(tree, err);
    ck_assert_msg(p == NULL, "row %d compiled", _i);
    ck_assert_msg(strstr(err, bad[_i].phrase) != NULL, "row %d: error '%s' lacks '%s'", _i, err, bad[_i].phrase);
    json_decref(tree);
}
END_TEST

START_TEST(deep_nesting_is_refused)
{
    char err[CH_ERR_LEN];
    json_t *tree = json_pack("{s:{s:s}}", "atom", "type", "a");
    for (int i = 0; i < 500; i++) tree = json_pack("{s:[o]}", "seq", tree);
    ck_assert_ptr_null(ch_pat_compile(tree, err));
    ck_assert_ptr_nonnull(strstr(err, "nested more than 64 levels"));
    json_decref(tree);
    ck_assert_ptr_null(ch_pat_compile(NULL, err));
}
END_TEST

START_TEST(too_many_nodes_is_refused)
{
    char err[CH_ERR_LEN];
    json_t *arr = json_array();
    for (int i = 0; i < CH_PAT_MAX_NODES + 5; i++) json_array_append_new(arr, json_pack("{s:{s:s}}", "atom", "type", "a"));
    json_t *tree = json_pack("{s:o}", "seq", arr);
    ck_assert_ptr_null(ch_pat_compile(tree, err));
    ck_assert_ptr_nonnull(strstr(err, "more than 10000 nodes"));
    json_decref(tree);
}
END_TEST

/* ---- rendering: text -> tree -> text ---- */

static const char *const texts[] = {
    "readystatechange(1) loadstart readystatechange(4) timeout loadend",
    "a (b | c)+ d",
    "a | b c",
    "(a b)* c?",
    "x{3} y{2,} z{1,4}",
    "progress(loaded=12,total=12,lengthComputable=true)",
    "message(\"hello world\") message(hi) close(1000) callback(null) message(\"4\")",
    "((a*)*)* b",
    ". .+",
    "()",
};

START_TEST(render_round_trip)
{
    char err[CH_ERR_LEN];
    json_t *tree = P(texts[_i]);
    struct ch_pat *p = ch_pat_compile(tree, err);
    ck_assert_msg(p != NULL, "%s", err);
    struct ch_text t = {0};
    ch_pat_render(p, &t);
    ck_assert_str_eq(ch_text_str(&t), texts[_i]);
    ch_text_free(&t);
    ch_pat_free(p);
    json_decref(tree);
}
END_TEST

START_TEST(render_events)
{
    json_t *ev = E("readystatechange(1) loadstart message(\"a b\") exception(InvalidStateError) progress[loaded=3]");
    const json_t *v[5];
    for (size_t i = 0; i < 5; i++) v[i] = json_array_get(ev, i);
    struct ch_text t = {0};
    ch_events_render(&t, v, 5, 100);
    ck_assert_str_eq(ch_text_str(&t),
                     "readystatechange(1) loadstart message(\"a b\") exception(InvalidStateError) progress");
    ch_text_free(&t);
    ch_events_render(&t, v, 5, 2);
    ck_assert_str_eq(ch_text_str(&t), "readystatechange(1) loadstart … and 3 more");
    ch_text_free(&t);
    const char *props[] = {"loaded", "total"};
    ch_event_render(&t, v[4], props, 2);
    ck_assert_str_eq(ch_text_str(&t), "progress(loaded=3,total=absent)");
    ch_text_free(&t);
    json_decref(ev);
}
END_TEST

/* ---- the budget ---- */

/* ((a*)*)*b over 30 a's: exponential for a plain backtracker; memoised here, so it ends quickly with the right
 * first difference (the end of the events, where b was still allowed). */
START_TEST(catastrophic_nesting_is_cheap)
{
    struct matched m;
    char *evs = repeat_text("a", 30, "");
    run(&m, P("((a*)*)* b"), E(evs), CH_PAT_BUDGET);
    ck_assert_int_eq(m.r.status, CH_PAT_NOMATCH);
    ck_assert_uint_eq(m.r.diff, 30);
    ck_assert_uint_lt(m.r.steps, 5000);
    done(&m);
    free(evs);
}
END_TEST

/* The same pattern with a budget smaller than the search gives up instead of answering. */
START_TEST(budget_small)
{
    struct matched m;
    char *evs = repeat_text("a", 30, "");
    run(&m, P("((a*)*)* b"), E(evs), 100);
    ck_assert_int_eq(m.r.status, CH_PAT_OVER_BUDGET);
    ck_assert_int_eq(ch_pat_first_diff(m.p, m.v, m.n, 100), -2);
    ck_assert_int_eq(ch_pat_first_diff(m.p, m.v, m.n, CH_PAT_BUDGET), 30);
    done(&m);
    free(evs);
}
END_TEST

/* A search whose distinct states outnumber the default budget: (.?){2000} b over 2001 events has about
 * 2000 × 2000 states; the budget stops it. */
START_TEST(budget_default_is_enforced)
{
    struct matched m;
    char *evs = repeat_text("a", 2001, "");
    run(&m, P("(.?){2000} b"), E(evs), CH_PAT_BUDGET);
    ck_assert_int_eq(m.r.status, CH_PAT_OVER_BUDGET);
    ck_assert_uint_eq(m.r.steps, CH_PAT_BUDGET + 1);
    done(&m);
    free(evs);
}
END_TEST

START_TEST(atoms_tolerate_junk)
{
    json_t *atom = J("{'type':'a','props':{'x.y':1}}");
    json_t *junk[] = {J("{}"), J("{'type':5}"), J("{'type':'a','state':7}"), J("{'type':'a','state':{'x':3}}"),
                      J("[1,2]")};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        ck_assert_int_eq(ch_atom_match(atom, junk[i]), 0);
        json_decref(junk[i]);
    }
    json_t *ok = J("{'type':'a','state':{'x':{'y':1.0}}}");
    ck_assert_int_eq(ch_atom_match(atom, ok), 1);
    json_decref(ok);
    json_decref(atom);
}
END_TEST

int main(void)
{
    return ch_check_main("pattern", 20,
                         CH_LOOPS(CH_LOOP(match_table, rows), CH_LOOP(compile_errors, bad),
                                  CH_LOOP(render_round_trip, texts)),
                         CH_TESTS(deep_nesting_is_refused, too_many_nodes_is_refused, render_events,
                                  catastrophic_nesting_is_cheap, budget_small, budget_default_is_enforced,
                                  atoms_tolerate_junk));
}
