/* lint.c — checks that cannot fail, caught by `runner check` (cases/FORMAT.md §9). Each rule is an error with
 * file:line:col, like any other error of the parser, and says what to write instead:
 *
 *   unknown-property   a property an object of that kind never records (at, final, an atom's key=value)
 *   unheard-event      an atom on an event the program never makes recordable (upload.* without `listen upload`)
 *   matches-anything   a pattern every sequence matches (`events .*`), a `count ATOM 0+`
 *   cannot-fail        an expect section whose every line is SHOULD, without `informational "WHY"`
 *   exclusive          two lines of the case that cannot both hold (two different `requests` lists, ...)
 *   absent-vacuous     `header SEL NAME absent` for a header nothing in the case could make a client send
 *   unquoted-level     a `level should` line, or a MUST time bound, whose rule quotes no normative word
 *
 * What objects record and which events need which step come from the one vocabulary (vocab.c); what the
 * program does comes from the client JSON the parser built (c->steps, c->handlers): expectations are parsed
 * after every client section, so they see the whole program; an `await` or `on` atom sees the steps before
 * it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script_int.h"
#include "core/core.h"

/* ---- what the object's program does ---------------------------------------------------------------- */

struct facts {
    json_t *watched; /* props of its `watch` steps */
    json_t *read;    /* props its `read`, `get-header`, `all-headers` steps record */
    json_t *steps;   /* its steps (handlers' included) */
};

static void add_strings(json_t *to, const json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) json_array_append(to, v);
}

static void one_step(struct facts *f, json_t *s)
{
    const char *op = json_string_value(json_object_get(s, "op"));
    if (!op) return;
    json_array_append(f->steps, s);
    if (!strcmp(op, "watch")) add_strings(f->watched, json_object_get(s, "props"));
    if (!strcmp(op, "read")) add_strings(f->read, json_object_get(s, "props"));
    if (!strcmp(op, "get-header") && json_object_get(s, "label")) json_array_append_new(f->read, json_string("header"));
    else if (!strcmp(op, "get-header"))
        json_array_append_new(f->read, json_sprintf("header:%s", json_string_value(json_object_get(s, "name"))));
    if (!strcmp(op, "all-headers")) json_array_append_new(f->read, json_string("allResponseHeaders"));
    if (!strcmp(op, "same")) json_array_append_new(f->read, json_string("same"));
    if (!strcmp(op, "shape") || !strcmp(op, "construct")) { /* read(LABEL): `interface`, then each member or prop */
        json_array_append_new(f->read, json_string("interface"));
        static const char *const whole[] = {"inherits", "class-string", "prototype", "constructor", "global", NULL};
        for (size_t i = 0; whole[i] && !strcmp(op, "shape"); i++) json_array_append_new(f->read, json_string(whole[i]));
        add_strings(f->read, json_object_get(s, !strcmp(op, "shape") ? "members" : "props"));
    }
    if (!strcmp(op, "formdata") && json_object_get(s, "label")) { /* read(LABEL): value, and count for a list */
        json_array_append_new(f->read, json_string("value"));
        json_array_append_new(f->read, json_string("count"));
    }
    if (!strcmp(op, "open") && json_object_get(s, "objects")) { /* each conversion: read(open.ARG) */
        json_array_append_new(f->read, json_string("order"));
        json_array_append_new(f->read, json_string("readyState"));
    }
    if (json_object_get(s, "label") && (!strcmp(op, "send") || !strcmp(op, "close")))
        json_array_append_new(f->read, json_string("returnType"));
}

static void facts_of(const struct pctx *c, const struct cobj *o, struct facts *f)
{
    size_t i;
    json_t *v;
    *f = (struct facts){.watched = json_array(), .read = json_array(), .steps = json_array()};
    json_array_foreach(c->steps, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "obj")), o->name)) one_step(f, v);
    json_array_foreach(c->handlers, i, v)
        if (!strcmp(json_string_value(json_object_get(v, "obj")), o->name)) one_step(f, json_object_get(v, "step"));
}

static void facts_free(struct facts *f)
{
    json_decref(f->watched);
    json_decref(f->read);
    json_decref(f->steps);
}

/* 1 if op is one of the '|'-separated ops of list ("set|add-listener"). */
static int op_in(const char *list, const char *op)
{
    size_t n = strlen(op);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, "|");
        if (k == n && memcmp(p, op, n) == 0) return 1;
        p += k + (p[k] == '|');
    }
    return 0;
}

/* 1 if one of the object's steps is what `n` asks for. */
static int has_step(const struct facts *f, const struct sc_needs *n)
{
    size_t i;
    json_t *s;
    json_array_foreach(f->steps, i, s)
        if (op_in(n->op, json_string_value(json_object_get(s, "op"))) && (!n->field || json_object_get(s, n->field)))
            return 1;
    return 0;
}

/* ---- unheard-event, unknown-property ------------------------------------------------------------------ */

int sc_lint_event(struct pctx *c, const struct sline *ln, size_t at, const struct cobj *o, const char *type)
{
    const struct sc_needs *n = sc_event_needs(o, type);
    struct facts f;
    if (!n) return 0;
    facts_of(c, o, &f);
    int ok = has_step(&f, n);
    facts_free(&f);
    if (ok) return 0;
    return sc_err(c, ln, at, "%s '%s' never records '%s': its program has no '%s' step (add it, before the step that "
                  "can fire the event, or drop this atom: a check on it can never fail)", sc_kind_name(o->kind), o->name,
                  type, n->written);
}

/* A candidate of `hint` (space-separated) equal to key but for case: "did you mean X?" material. */
static int near_miss(const char *hint, const char *key, char *out, size_t len)
{
    size_t kl = strcspn(key, ".");
    for (const char *p = hint; *p;) {
        size_t n = strcspn(p, " ");
        if (n == kl && strncasecmp(p, key, n) == 0 && strncmp(p, key, n) != 0) {
            snprintf(out, len, "%.*s", (int)n, p);
            return 1;
        }
        p += n;
        while (*p == ' ') p++;
    }
    return 0;
}

int sc_lint_prop(struct pctx *c, const struct sline *ln, size_t at, const struct cobj *o, const char *type,
                 const char *key)
{
    struct facts f;
    char hint[512], near[SC_NAME_LEN], where[2 * SC_NAME_LEN];
    facts_of(c, o, &f);
    const json_t *extra = type && !strcmp(type, "read") ? f.read : type && sc_event_is_dom(o, type) ? f.watched : NULL;
    int ok = sc_prop_recorded(o, type, key, extra);
    facts_free(&f);
    if (ok) return 0;
    sc_props_hint(o, type, hint, sizeof hint);
    snprintf(where, sizeof where, type ? "at '%s'" : "in its final state", type);
    if (near_miss(hint, key, near, sizeof near))
        return sc_err(c, ln, at, "%s '%s' records no property '%s' %s: did you mean '%s'?", sc_kind_name(o->kind),
                      o->name, key, where, near);
    if (type && !strcmp(type, "read"))
        return sc_err(c, ln, at, "%s '%s' records no property '%s' at 'read': name it in a 'read' step first",
                      sc_kind_name(o->kind), o->name, key);
    return sc_err(c, ln, at, "%s '%s' records no property '%s' %s (it records: %s%s)", sc_kind_name(o->kind), o->name,
                  key, where, hint[0] ? hint : "nothing of its own",
                  type && sc_event_is_dom(o, type) ? "; `watch PROP` records another property at its events" : "");
}

int sc_lint_prop_words(struct pctx *c, const struct stmt *st, size_t k, const struct cobj *o, const char *type)
{
    int rc = 0;
    for (; o && k < sc_nwords(st); k++) {
        size_t n, kl;
        const char *w = sc_word(st, k, &n);
        char key[SC_NAME_LEN];
        for (kl = 0; kl < n && w[kl] != '='; kl++) {}
        snprintf(key, sizeof key, "%.*s", (int)kl, w);
        if (sc_lint_prop(c, st->ln, sc_off(st, k), o, type, key) < 0) rc = -1;
    }
    return rc;
}

/* ---- matches-anything ------------------------------------------------------------------------------- */

static int nullable(const json_t *p);
static int any_one(const json_t *p);

/* 1 if every event sequence matches the pattern (a sound test: patterns it calls universal are). */
static int universal(const json_t *p)
{
    size_t i, nu = 0, nn = 0;
    json_t *x, *l;
    if ((l = json_object_get(p, "alt"))) {
        json_array_foreach(l, i, x) if (universal(x)) return 1;
        return 0;
    }
    if ((l = json_object_get(p, "seq"))) {
        json_array_foreach(l, i, x) nu += universal(x), nn += nullable(x);
        return nu > 0 && nn == json_array_size(l);
    }
    if ((x = json_object_get(p, "repeat"))) {
        const json_t *max = json_object_get(p, "max");
        if (universal(x)) return json_is_null(max) || json_integer_value(max) > 0;
        return json_integer_value(json_object_get(p, "min")) == 0 && json_is_null(max) && any_one(x);
    }
    return 0;
}

static int nullable(const json_t *p)
{
    size_t i;
    json_t *x, *l;
    if ((l = json_object_get(p, "alt"))) {
        json_array_foreach(l, i, x) if (nullable(x)) return 1;
        return 0;
    }
    if ((l = json_object_get(p, "seq"))) {
        json_array_foreach(l, i, x) if (!nullable(x)) return 0;
        return 1;
    }
    if ((x = json_object_get(p, "repeat"))) return json_integer_value(json_object_get(p, "min")) == 0 || nullable(x);
    return 0;
}

/* 1 if the pattern matches every one-event sequence. */
static int any_one(const json_t *p)
{
    size_t i;
    json_t *x, *l;
    const json_t *atom = json_object_get(p, "atom");
    if (atom) return !strcmp(json_string_value(json_object_get(atom, "type")), ".") && json_object_size(atom) == 1;
    if ((l = json_object_get(p, "alt"))) {
        json_array_foreach(l, i, x) if (any_one(x)) return 1;
        return 0;
    }
    return universal(p);
}

int sc_lint_pattern(struct pctx *c, const struct stmt *st, const json_t *pattern)
{
    if (!pattern || !universal(pattern)) return 0;
    return sc_err_word(c, st, 1, "this pattern matches every event sequence, so the check can never fail: write the "
                       "events it must see (`.*` only around them)");
}

int sc_lint_count(struct pctx *c, const struct stmt *st, long n, int at_least)
{
    if (n > 0 || !at_least) return 0;
    return sc_err_word(c, st, 2, "'0+' holds for every sequence, so the check can never fail: write N+ with N >= 1, "
                       "or an exact count");
}

/* ---- unquoted-level ------------------------------------------------------------------------------------- */

/* The normative words a rule may rest on (RFC 2119 and the WHATWG specs' lowercase use), as whole words. */
static const char *const normative[] = {"must", "should", "may", "shall", "required", "recommended", "optional",
                                        "optionally", NULL};

static int quotes_normative(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (p > s && (isalnum((unsigned char)p[-1]) || p[-1] == '-')) continue;
        for (const char *const *w = normative; *w; w++) {
            size_t n = strlen(*w);
            if (strncasecmp(p, *w, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '-') return 1;
        }
    }
    return 0;
}

static const struct sline *attachment_line(const struct stmt *st, const char *word)
{
    for (size_t i = 0; i < st->natt; i++) {
        struct stmt a = {.ln = st->att[i]};
        if (sc_is(&a, 0, word)) return st->att[i];
    }
    return NULL;
}

int sc_lint_level(struct pctx *c, const struct stmt *st, const json_t *e)
{
    const char *kind = json_string_value(json_object_get(e, "kind")), *level = json_string_value(json_object_get(e, "level"));
    const char *rule = json_string_value(json_object_get(e, "rule"));
    int timing = !strcmp(kind, "within") || !strcmp(kind, "interval");
    int should = !strcmp(level, "should");
    if ((!should && !timing) || quotes_normative(rule)) return 0;
    const struct sline *at = attachment_line(st, "rule");
    if (!at) at = attachment_line(st, should ? "level" : "rule");
    if (should)
        return sc_err(c, at ? at : st->ln, 0, "a SHOULD line quotes the normative word it rests on in its rule (the "
                      "spec's \"should\", \"may\", \"optionally\"...): add a rule \"...\" that does");
    const char *bound = json_string_value(json_object_get(e, "bound"));
    return sc_err(c, at ? at : st->ln, 0, "a MUST time bound%s quotes the normative word it rests on in its rule "
                  "(\"must\", ...); a spec that sets no %s limit is at most `level should`%s",
                  bound && !strcmp(bound, "min") ? "" : " with an upper end", bound && !strcmp(bound, "min") ? "such" : "upper",
                  bound ? "" : ", and a lower bound alone is `>= DURATION`");
}

/* ---- absent-vacuous ----------------------------------------------------------------------------------- */

/* 1 if some client step of the case sets the header `name` itself (xhr header, fetch/http header options). */
static int client_sets(const struct pctx *c, const char *name)
{
    size_t i, j;
    json_t *s, *h;
    const json_t *lists[] = {c->steps, c->handlers};
    for (size_t l = 0; l < 2; l++)
        json_array_foreach(lists[l], i, s) {
            const json_t *step = l ? json_object_get(s, "step") : s;
            const char *op = json_string_value(json_object_get(step, "op"));
            if (op && !strcmp(op, "header") && !strcasecmp(json_string_value(json_object_get(step, "name")), name)) return 1;
            json_array_foreach(json_object_get(step, "headers"), j, h)
                if (!strcasecmp(json_string_value(json_array_get(h, 0)), name)) return 1;
        }
    return 0;
}

/* 1 if some server step of the case sends a header named `name` (`header NAME: V`, or within `header-raw`). */
static int server_sends(const struct pctx *c, const char *name)
{
    size_t i, j;
    json_t *r, *s;
    json_array_foreach(c->routes, i, r)
        json_array_foreach(json_object_get(r, "steps"), j, s) {
            const char *op = json_string_value(json_object_get(s, "op"));
            const char *n = json_string_value(json_object_get(s, "name"));
            const char *raw = json_string_value(json_object_get(s, "text"));
            if (op && !strcmp(op, "header") && n && !strcasecmp(n, name)) return 1;
            if (op && !strcmp(op, "header-raw") && raw && strcasestr(raw, name)) return 1;
        }
    return 0;
}

static int any_step(const struct pctx *c, const char *op, const char *field)
{
    size_t i;
    json_t *s;
    json_array_foreach(c->steps, i, s)
        if (!strcmp(json_string_value(json_object_get(s, "op")), op) && json_object_get(s, field)) return 1;
    return 0;
}

static int has_kind(const struct pctx *c, enum sc_kind k)
{
    for (size_t i = 0; i < c->nobj; i++)
        if (c->obj[i].kind == k) return 1;
    return 0;
}

/* What would make a client send `name`: NULL if the case does it, else what the case lacks. */
static const char *absent_missing(const struct pctx *c, const char *name)
{
    if (sc_header_own(name) || client_sets(c, name)) return NULL;
    if (!strcasecmp(name, "Cookie"))
        return (c->caps & 1u << CAP_COOKIES) || server_sends(c, "Set-Cookie") ? NULL : "no cookie is stored (no Set-Cookie, no cors `cookie` line)";
    if (!strcasecmp(name, "Authorization"))
        return any_step(c, "open", "user") || any_step(c, "open", "password") || server_sends(c, "WWW-Authenticate")
                   ? NULL : "no credentials are given (no `open ... user U password P`, no WWW-Authenticate challenge)";
    if (!strcasecmp(name, "Last-Event-ID")) return has_kind(c, KIND_EVENTSOURCE) ? NULL : "the case has no eventsource";
    return "no step of the case sets it, and it is not a header a client adds by itself";
}

int sc_lint_absent(struct pctx *c, const struct stmt *st, size_t k, const char *name)
{
    const char *why = absent_missing(c, name);
    if (!why) return 0;
    return sc_err_word(c, st, k, "'%s absent' can never fail: %s (check it where the case gives the client a reason "
                       "to send it, or drop the line)", name, why);
}

/* ---- cannot-fail (a section of SHOULD lines) ------------------------------------------------------------ */

void sc_lint_section(struct pctx *c, const struct section *sec, size_t first, const struct stmt *informational)
{
    size_t i, must = 0, n = json_array_size(c->expect) - first;
    int must_line = 0;
    for (i = first; i < json_array_size(c->expect); i++) {
        const json_t *e = json_array_get(c->expect, i);
        if (!strcmp(json_string_value(json_object_get(e, "level")), "must")) {
            if (!must++) must_line = (int)json_integer_value(json_object_get(e, "line"));
        }
    }
    if (n == 0) return;
    if (informational && must)
        sc_err_word(c, informational, 0, "'informational' marks a section that can never FAIL, but line %d is MUST "
                    "(drop 'informational')", must_line);
    else if (!informational && !must)
        sc_err_word(c, &sec->head, 0, "every line of this section is SHOULD, so it can never FAIL: grade the line the "
                    "spec requires MUST, or say why it is informational (a line `informational \"WHY\"` in the "
                    "section)");
}

/* ---- exclusive ----------------------------------------------------------------------------------------- */

static const char *str(const json_t *e, const char *k)
{
    const char *s = json_string_value(json_object_get(e, k));
    return s ? s : "";
}

/* 1 if two `requests` lists cannot both be the case's requests (each names the exact list). */
static int requests_clash(const json_t *a, const json_t *b)
{
    const json_t *la = json_object_get(a, "list"), *lb = json_object_get(b, "list");
    if (json_array_size(la) != json_array_size(lb)) return 1;
    for (size_t i = 0; i < json_array_size(la); i++) {
        const json_t *x = json_array_get(la, i), *y = json_array_get(lb, i);
        if (!json_object_get(x, "method") || !json_object_get(y, "method")) continue;
        if (strcmp(str(x, "method"), str(y, "method")) || strcmp(str(x, "path"), str(y, "path"))) return 1;
    }
    return 0;
}

/* Requests a `requests` list names for METHOD PATH (-1: it names some by #n only, so the count is open). */
static long listed(const json_t *list, const char *method, const char *path)
{
    long n = 0;
    size_t i;
    json_t *s;
    json_array_foreach(list, i, s) {
        if (!json_object_get(s, "method")) return -1;
        n += !strcmp(str(s, "method"), method) && !strcmp(str(s, "path"), path);
    }
    return n;
}

static int count_clash(const json_t *a, const json_t *b)
{
    long na = (long)json_integer_value(json_object_get(a, "n")), nb = (long)json_integer_value(json_object_get(b, "n"));
    int pa = json_is_true(json_object_get(a, "at_least")), pb = json_is_true(json_object_get(b, "at_least"));
    if (pa && pb) return 0;
    if (!pa && !pb) return na != nb;
    return pa ? nb < na : na < nb;
}

/* Why two expectations cannot both hold, or NULL. */
static const char *clash(const json_t *a, const json_t *b)
{
    const char *ka = str(a, "kind"), *kb = str(b, "kind");
    if (strcmp(ka, kb) == 0 && !strcmp(ka, "requests") && requests_clash(a, b)) return "two different exact request lists";
    if (!strcmp(ka, "request-count") && !strcmp(kb, "request-count") && !strcmp(str(a, "method"), str(b, "method")) &&
        !strcmp(str(a, "path"), str(b, "path")) && json_integer_value(json_object_get(a, "n")) != json_integer_value(json_object_get(b, "n")))
        return "two different counts of one METHOD PATH";
    if ((!strcmp(ka, "requests") && !strcmp(kb, "request-count")) || (!strcmp(kb, "requests") && !strcmp(ka, "request-count"))) {
        const json_t *r = !strcmp(ka, "requests") ? a : b, *n = r == a ? b : a;
        long l = listed(json_object_get(r, "list"), str(n, "method"), str(n, "path"));
        if (l >= 0 && l != json_integer_value(json_object_get(n, "n"))) return "a request list and a count that disagree";
    }
    if (strcmp(str(a, "obj"), str(b, "obj")) != 0 || strcmp(ka, kb) != 0) return NULL;
    if (!strcmp(ka, "count") && json_equal(json_object_get(a, "atom"), json_object_get(b, "atom")) && count_clash(a, b))
        return "two counts of one event that disagree";
    if (!strcmp(ka, "final")) {
        const char *key;
        json_t *v, *w;
        json_object_foreach(json_object_get(a, "props"), key, v)
            if ((w = json_object_get(json_object_get(b, "props"), key)) && !json_equal(v, w)) return "two final values of one property";
    }
    return NULL;
}

/* The column of the line's first word (expectations built from JSON have their line, not a word). */
static int line_col(const struct pctx *c, int line, const struct ch_line **out)
{
    for (size_t i = 0; i < c->f->nlines; i++)
        if (c->f->lines[i].no == line) {
            *out = &c->f->lines[i];
            return ch_lex_col(c->f->lines[i].text, c->f->lines[i].len, c->f->lines[i].indent);
        }
    return 1;
}

void sc_lint_case(struct pctx *c)
{
    size_t n = json_array_size(c->expect);
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++) {
            const json_t *a = json_array_get(c->expect, i), *b = json_array_get(c->expect, j);
            const char *why = clash(a, b);
            if (!why) continue;
            int la = (int)json_integer_value(json_object_get(a, "line")), lb = (int)json_integer_value(json_object_get(b, "line"));
            const struct ch_line *l = NULL;
            int col = line_col(c, lb, &l);
            sc_err_at(c, lb, col, "this line and line %d cannot both hold (%s): one always fails, so the case can "
                      "never PASS; keep the one the spec requires (readings it allows alike go in one line: `|`, N+)",
                      la, why);
            break;
        }
}
