/* script_pattern.c — values, event atoms and event patterns (cases/FORMAT.md §6.1) into the ATOM and PATTERN
 * JSON of harness/MODEL.md §1.2-§1.3. Everything reads a line's text from an offset and reports errors at the
 * offending character. */
#include <stdlib.h>
#include <string.h>

#include "script_int.h"
#include "core/core.h"

#define MAX_REPEAT 10000 /* the largest n or m of {n} / {n,m} */
#define MAX_NUMBER 40    /* characters of a numeric value */

static int is_alpha(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* 1 if ch is one of set (never for NUL, which strchr would find). */
static int in_set(char ch, const char *set)
{
    return ch != '\0' && strchr(set, ch) != NULL;
}

static size_t skip_blanks(const char *s, size_t i, size_t end)
{
    while (i < end && is_blank(s[i])) i++;
    return i;
}

/* Length of a JSON number at s[0..n) if the whole range is one, else 0. *is_int: no fraction or exponent. */
static size_t json_number(const char *s, size_t n, int *is_int)
{
    size_t i = 0;
    *is_int = 1;
    if (i < n && s[i] == '-') i++;
    if (i >= n || !is_digit(s[i])) return 0;
    if (s[i] == '0') i++;
    else while (i < n && is_digit(s[i])) i++;
    if (i < n && s[i] == '.') {
        *is_int = 0;
        if (++i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *is_int = 0;
        if (++i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !is_digit(s[i])) return 0;
        while (i < n && is_digit(s[i])) i++;
    }
    return i == n ? n : 0;
}

/* A bare word s[0..n) as a JSON value: true, false, null, a number, else a string. */
static json_t *bare_value(const char *s, size_t n)
{
    char buf[MAX_NUMBER + 1];
    int is_int;
    if (n == 4 && memcmp(s, "true", 4) == 0) return json_true();
    if (n == 5 && memcmp(s, "false", 5) == 0) return json_false();
    if (n == 4 && memcmp(s, "null", 4) == 0) return json_null();
    if (n <= MAX_NUMBER && json_number(s, n, &is_int)) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (is_int && n <= 18) return json_integer(strtoll(buf, NULL, 10));
        return json_real(strtod(buf, NULL));
    }
    return json_stringn(s, n);
}

/* A string value at text[*i] (a string expression or a block, FORMAT.md §1.4-§1.5): the decoded string. */
static json_t *string_value(struct pctx *c, const struct sline *ln, size_t *i, size_t end, const char *tmpl)
{
    char *b;
    size_t blen;
    long used = sc_decode(c, ln, *i, end, &b, &blen);
    json_t *v = NULL;
    if (used < 0) return NULL;
    if (!sc_utf8(b, blen)) sc_err(c, ln, *i, "the string is not UTF-8 text");
    else if (sc_tmpl(c, ln, *i, b, blen, tmpl, 0) == 0) v = json_stringn(b, blen);
    free(b);
    *i += (size_t)used;
    return v;
}

json_t *sc_value(struct pctx *c, const struct sline *ln, size_t *i, size_t end, const char *tmpl)
{
    const char *s = ln->text;
    size_t j = *i;
    if (sc_string_start(s + j, end - j)) return string_value(c, ln, i, end, tmpl);
    while (j < end && !is_blank(s[j]) && s[j] != ',' && s[j] != ')') j++;
    if (j == *i) return sc_err(c, ln, *i, "a value expected (a number, true, false, null, a string or a word)"), NULL;
    for (size_t k = *i; k < j; k++)
        if (s[k] == '"' || s[k] == '(') return sc_err(c, ln, k, "a stray '%c' in a value (quote the value)", s[k]), NULL;
    json_t *v = bare_value(s + *i, j - *i);
    if (json_is_string(v) && sc_tmpl(c, ln, *i, s + *i, j - *i, tmpl, 1) < 0) {
        json_decref(v);
        return NULL;
    }
    *i = j;
    return v;
}

/* Length of a property key at s[0..n): [A-Za-z_][A-Za-z0-9_.:-]* (dotted paths, header:NAME). */
static size_t key_len(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !(is_alpha(s[0]) || s[0] == '_')) return 0;
    while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || in_set(s[i], "_.:-"))) i++;
    return i;
}

/* `key=value` at text[*i] into obj; duplicate keys are an error. */
static int one_prop(struct pctx *c, const struct sline *ln, size_t *i, size_t end, json_t *obj, const char *tmpl)
{
    const char *s = ln->text;
    size_t kl = key_len(s + *i, end - *i);
    char key[SC_NAME_LEN];
    if (kl == 0 || *i + kl >= end || s[*i + kl] != '=')
        return sc_err(c, ln, *i + kl, kl ? "'=' expected after the property name" : "a property name expected");
    if (kl >= sizeof key) return sc_err(c, ln, *i, "a property name longer than %d characters", SC_NAME_LEN - 1);
    memcpy(key, s + *i, kl);
    key[kl] = '\0';
    if (json_object_get(obj, key)) return sc_err(c, ln, *i, "property '%s' named twice", key);
    size_t vstart = *i + kl + 1;
    *i = vstart;
    json_t *v = sc_value(c, ln, i, end, tmpl);
    if (!v) return -1;
    json_object_set_new(obj, key, v);
    return 0;
}

/* 1 if text[i..end) starts with `key=` (an atom's argument is then a property list). */
static int starts_prop(const char *s, size_t i, size_t end)
{
    size_t kl = key_len(s + i, end - i);
    return kl > 0 && i + kl < end && s[i + kl] == '=';
}

/* An atom's parenthesised argument at text[*i] == '(': one value, or key=value pairs (each key one the event
 * records on objects like o, when o is given: lint.c). */
static int atom_args(struct pctx *c, const struct sline *ln, size_t *i, size_t end, json_t *atom, const char *tmpl,
                     const struct cobj *o)
{
    const char *s = ln->text;
    size_t open = *i, j = skip_blanks(s, *i + 1, end);
    json_t *props = NULL, *v;
    if (j < end && s[j] == ')') return sc_err(c, ln, open, "empty parentheses after an event name");
    if (starts_prop(s, j, end)) {
        props = json_object();
        for (;;) {
            size_t key_at = j, kl = key_len(s + j, end - j);
            char key[SC_NAME_LEN];
            if (one_prop(c, ln, &j, end, props, tmpl) < 0) goto fail;
            snprintf(key, sizeof key, "%.*s", (int)kl, s + key_at);
            if (o && sc_lint_prop(c, ln, key_at, o, json_string_value(json_object_get(atom, "type")), key) < 0) goto fail;
            j = skip_blanks(s, j, end);
            if (j >= end || s[j] != ',') break;
            j = skip_blanks(s, j + 1, end);
        }
        json_object_set_new(atom, "props", props);
    } else {
        if (!(v = sc_value(c, ln, &j, end, tmpl))) return -1;
        json_object_set_new(atom, "arg", v);
        j = skip_blanks(s, j, end);
    }
    if (j >= end || s[j] != ')') return sc_err(c, ln, j, j < end ? "')' expected" : "an unbalanced '(' (no matching ')')");
    *i = j + 1;
    return 0;
fail:
    json_decref(props);
    return -1;
}

/* readystatechange's argument is a readyState, 0 to 4. */
static int check_arg(struct pctx *c, const struct sline *ln, size_t at, const json_t *atom)
{
    const json_t *arg = json_object_get(atom, "arg");
    if (!arg || strcmp(json_string_value(json_object_get(atom, "type")), "readystatechange") != 0) return 0;
    if (json_is_integer(arg) && json_integer_value(arg) >= 0 && json_integer_value(arg) <= 4) return 0;
    return sc_err(c, ln, at, "readystatechange takes a readyState, 0 to 4");
}

/* Length of an event type at s[0..n): NAME or NAME.NAME, NAME = [A-Za-z][A-Za-z0-9_-]*. */
static size_t type_len(const char *s, size_t n)
{
    size_t i = 0;
    for (int part = 0; part < 2; part++) {
        if (i >= n || !is_alpha(s[i])) return part ? i - 1 : 0;
        while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '-')) i++;
        if (part == 1 || !(i + 1 < n && s[i] == '.' && is_alpha(s[i + 1]))) return i;
        i++; /* the dot */
    }
    return i;
}

static int unknown_event(struct pctx *c, const struct sline *ln, size_t at, const struct cobj *o, size_t n)
{
    const char *t = ln->text + at;
    if (o->kind == KIND_EVENTSOURCE)
        return sc_err(c, ln, at, "eventsource '%s' never fires '%.*s' (name it in 'listen' first)", o->name, (int)n, t);
    return sc_err(c, ln, at, "%s objects never fire '%.*s'", sc_kind_name(o->kind), (int)n, t);
}

json_t *sc_atom(struct pctx *c, const struct sline *ln, size_t *i, size_t end, const struct cobj *o,
                const char *tmpl)
{
    const char *s = ln->text;
    size_t start = *i, n;
    char type[2 * SC_NAME_LEN];
    if (start < end && s[start] == '.' && (start + 1 >= end || !is_alpha(s[start + 1]))) {
        if (start + 1 < end && s[start + 1] == '(') return sc_err(c, ln, start, "'.' (any event) takes no argument"), NULL;
        *i = start + 1;
        return json_pack("{s:s}", "type", ".");
    }
    n = type_len(s + start, end - start);
    if (n == 0) return sc_err(c, ln, start, "a bad event atom (an event name like load or upload.progress, or '.')"), NULL;
    if (n >= sizeof type) return sc_err(c, ln, start, "an event name longer than %d characters", SC_NAME_LEN), NULL;
    memcpy(type, s + start, n);
    type[n] = '\0';
    if (o && !sc_event_known(o, type)) return unknown_event(c, ln, start, o, n), NULL;
    if (o && sc_lint_event(c, ln, start, o, type) < 0) return NULL;
    json_t *atom = json_pack("{s:s}", "type", type);
    *i = start + n;
    if (*i < end && s[*i] == '(' && (atom_args(c, ln, i, end, atom, tmpl, o) < 0 || check_arg(c, ln, start, atom) < 0)) {
        json_decref(atom);
        return NULL;
    }
    return atom;
}

/* The `#n` suffix of an atom word w[0..n): its offset, or n if there is none (the '#' must follow the atom's
 * closing parenthesis, if any, and digits must follow it). */
static size_t nth_suffix(const char *w, size_t n)
{
    size_t h = n;
    while (h > 0 && is_digit(w[h - 1])) h--;
    if (h == 0 || h == n || w[h - 1] != '#') return n;
    return h - 1;
}

json_t *sc_atom_word(struct pctx *c, const struct stmt *st, size_t k, const struct cobj *o, const char *tmpl,
                     long *nth)
{
    size_t n, off = sc_off(st, k), end, i = off;
    const char *w = sc_word(st, k, &n);
    if (!w) return sc_err_word(c, st, k, "missing an event atom"), NULL;
    end = off + (nth ? nth_suffix(w, n) : n);
    if (nth) *nth = 0;
    if (nth && end < off + n && ch_lex_int(w + (end - off) + 1, n - (end - off) - 1, 1, 100000, nth) < 0)
        return sc_err(c, st->ln, end + 1, "a bad occurrence number after '#' (1 or more)"), NULL;
    json_t *atom = sc_atom(c, st->ln, &i, end, o, tmpl);
    if (atom && i < end) {
        json_decref(atom);
        return sc_err(c, st->ln, i, "unexpected '%c' after the event atom", st->ln->text[i]), NULL;
    }
    return atom;
}

json_t *sc_props(struct pctx *c, const struct stmt *st, size_t k, const char *tmpl)
{
    json_t *obj = json_object();
    if (k >= sc_nwords(st)) {
        json_decref(obj);
        return sc_err_word(c, st, k, "missing PROP=VALUE pairs"), NULL;
    }
    for (; k < sc_nwords(st); k++) {
        size_t n, i = sc_off(st, k);
        sc_word(st, k, &n);
        if (one_prop(c, st->ln, &i, sc_off(st, k) + n, obj, tmpl) < 0) goto fail;
        if (i < sc_off(st, k) + n) {
            sc_err(c, st->ln, i, "unexpected '%c' after the value", st->ln->text[i]);
            goto fail;
        }
    }
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

/* ---- patterns -------------------------------------------------------------------------------------- */

struct pcur {
    struct pctx *c;
    const struct sline *ln;
    size_t i, end;
    const struct cobj *o;
    int depth;
};

static json_t *p_alt(struct pcur *p);

static int p_fail(struct pcur *p, size_t at, const char *msg)
{
    return sc_err(p->c, p->ln, at, "%s", msg);
}

/* `{n}` or `{n,m}` at text[p->i] == '{'. */
static int p_braces(struct pcur *p, long *min, long *max)
{
    const char *s = p->ln->text;
    size_t open = p->i, j = open + 1, a = j;
    while (j < p->end && is_digit(s[j])) j++;
    if (ch_lex_int(s + a, j - a, 0, MAX_REPEAT, min) < 0) return p_fail(p, open, "a bad repeat (write {n} or {n,m})");
    *max = *min;
    if (j < p->end && s[j] == ',') {
        size_t b = ++j;
        while (j < p->end && is_digit(s[j])) j++;
        if (ch_lex_int(s + b, j - b, 0, MAX_REPEAT, max) < 0) return p_fail(p, open, "a bad repeat (write {n} or {n,m})");
        if (*max < *min) return p_fail(p, open, "a bad repeat: {n,m} needs m >= n");
    }
    if (j >= p->end || s[j] != '}') return p_fail(p, open, "a bad repeat (write {n} or {n,m})");
    p->i = j + 1;
    return 0;
}

/* An optional quantifier after an item: wraps it into a repeat. */
static json_t *p_quantify(struct pcur *p, json_t *item)
{
    const char *s = p->ln->text;
    long min = 0, max = -1;
    if (p->i >= p->end || !in_set(s[p->i], "*+?{")) return item;
    if (s[p->i] == '{') {
        if (p_braces(p, &min, &max) < 0) goto fail;
    } else {
        min = s[p->i] == '+';
        max = s[p->i] == '?' ? 1 : -1;
        p->i++;
    }
    if (p->i < p->end && in_set(s[p->i], "*+?{")) {
        p_fail(p, p->i, "a second quantifier (group the item first)");
        goto fail;
    }
    return json_pack("{s:o, s:I, s:o}", "repeat", item, "min", (json_int_t)min, "max",
                     max < 0 ? json_null() : json_integer(max));
fail:
    json_decref(item);
    return NULL;
}

static json_t *p_group(struct pcur *p)
{
    size_t open = p->i;
    if (++p->depth > 32) return p_fail(p, open, "groups nested too deep"), NULL;
    p->i++;
    json_t *inner = p_alt(p);
    p->depth--;
    if (!inner) return NULL;
    p->i = skip_blanks(p->ln->text, p->i, p->end);
    if (p->i >= p->end || p->ln->text[p->i] != ')') {
        json_decref(inner);
        return p_fail(p, open, "an unbalanced '(' in the pattern"), NULL;
    }
    p->i++;
    return inner;
}

static json_t *p_item(struct pcur *p)
{
    const char *s = p->ln->text;
    json_t *item;
    if (in_set(s[p->i], "*+?{")) return p_fail(p, p->i, "a quantifier with nothing before it"), NULL;
    if (s[p->i] == '(') {
        item = p_group(p);
    } else {
        json_t *atom = sc_atom(p->c, p->ln, &p->i, p->end, p->o, "expect");
        item = atom ? json_pack("{s:o}", "atom", atom) : NULL;
    }
    if (!item || !(item = p_quantify(p, item))) return NULL;
    if (p->i < p->end && !is_blank(s[p->i]) && !in_set(s[p->i], "|)(")) {
        json_decref(item);
        return p_fail(p, p->i, "a blank expected between pattern items"), NULL;
    }
    return item;
}

/* Wraps a list: its only element, or {key: list}. */
static json_t *p_wrap(json_t *list, const char *key)
{
    if (json_array_size(list) == 1) {
        json_t *only = json_incref(json_array_get(list, 0));
        json_decref(list);
        return only;
    }
    return json_pack("{s:o}", key, list);
}

static json_t *p_seq(struct pcur *p)
{
    json_t *seq = json_array();
    for (;;) {
        p->i = skip_blanks(p->ln->text, p->i, p->end);
        if (p->i >= p->end || in_set(p->ln->text[p->i], "|)")) break;
        json_t *item = p_item(p);
        if (!item) {
            json_decref(seq);
            return NULL;
        }
        json_array_append_new(seq, item);
    }
    if (json_array_size(seq) == 0) {
        json_decref(seq);
        return p_fail(p, p->i, "an empty pattern or alternative"), NULL;
    }
    return p_wrap(seq, "seq");
}

static json_t *p_alt(struct pcur *p)
{
    json_t *alt = json_array(), *seq;
    for (;;) {
        if (!(seq = p_seq(p))) {
            json_decref(alt);
            return NULL;
        }
        json_array_append_new(alt, seq);
        if (p->i >= p->end || p->ln->text[p->i] != '|') break;
        p->i++;
    }
    return p_wrap(alt, "alt");
}

json_t *sc_pattern(struct pctx *c, const struct sline *ln, size_t i, size_t end, const struct cobj *o)
{
    struct pcur p = {.c = c, .ln = ln, .i = i, .end = end, .o = o};
    json_t *pat = p_alt(&p);
    if (pat && p.i < end) {
        json_decref(pat);
        return sc_err(c, ln, p.i, "an unbalanced ')' in the pattern"), NULL;
    }
    return pat;
}
