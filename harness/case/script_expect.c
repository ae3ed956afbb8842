/* script_expect.c — expect sections (cases/FORMAT.md §6) into the expectations of harness/MODEL.md §1.3:
 * {"kind", "obj" (client), fields, "line", "text", "rule", "spec", "level"}. Expected values may hold
 * placeholders (checked in context "expect"). */
#include <stdlib.h>
#include <string.h>

#include "script_int.h"
#include "core/core.h"

#define MAX_COUNT 100000L

enum { EX_CLIENT = 1, EX_SERVER = 2, EX_CORS = 4 };

static int set_new(json_t *obj, const char *key, json_t *v)
{
    if (!v) return -1;
    json_object_set_new(obj, key, v);
    return 0;
}

/* ---- client expectations (§6.2) -------------------------------------------------------------------- */

typedef int (*expect_fn)(struct pctx *, const struct stmt *, const struct cobj *, json_t *);

static int ex_events(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing the pattern (write: events PATTERN)");
    if (set_new(e, "pattern", sc_pattern(c, st->ln, sc_off(st, 1), st->ln->len, o)) < 0) return -1;
    return sc_lint_pattern(c, st, json_object_get(e, "pattern"));
}

static int ex_never(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    json_t *atoms = json_array();
    json_object_set_new(e, "atoms", atoms);
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing events (write: never ATOM...)");
    for (size_t k = 1; k < sc_nwords(st); k++)
        if (json_array_append_new(atoms, sc_atom_word(c, st, k, o, "expect", NULL)) < 0) return -1;
    return 0;
}

/* `count ATOM N` / `count ATOM N+` */
static int ex_count(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t n;
    long v;
    if (sc_args(c, st, 2, 2, "count ATOM N | count ATOM N+") < 0) return -1;
    if (set_new(e, "atom", sc_atom_word(c, st, 1, o, "expect", NULL)) < 0) return -1;
    const char *w = sc_word(st, 2, &n);
    int plus = n > 1 && w[n - 1] == '+';
    if (ch_lex_int(w, plus ? n - 1 : n, 0, MAX_COUNT, &v) < 0)
        return sc_err_word(c, st, 2, "bad count '%.*s' (write N or N+)", (int)(n > 40 ? 40 : n), w);
    json_object_set_new(e, "n", json_integer(v));
    json_object_set_new(e, "at_least", json_boolean(plus));
    return sc_lint_count(c, st, v, plus);
}

/* `at ATOM[#n] PROP=VALUE...` */
static int ex_at(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    long nth = 0;
    if (sc_args(c, st, 2, 1000, "at ATOM[#n] PROP=VALUE...") < 0) return -1;
    if (set_new(e, "atom", sc_atom_word(c, st, 1, o, "expect", &nth)) < 0) return -1;
    json_object_set_new(e, "nth", nth ? json_integer(nth) : json_null());
    if (set_new(e, "props", sc_props(c, st, 2, "expect")) < 0) return -1;
    return sc_lint_prop_words(c, st, 2, o, json_string_value(json_object_get(json_object_get(e, "atom"), "type")));
}

static int ex_final(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    if (set_new(e, "props", sc_props(c, st, 1, "expect")) < 0) return -1;
    return sc_lint_prop_words(c, st, 1, o, NULL);
}

/* The time bound at words k.. (the last words of the line): `DURATION +- DURATION` (a window: ms and tol_ms), or
 * one-sided `>= DURATION` (no sooner: ms, bound "min") / `<= DURATION` (no later: ms, bound "max"). */
static int time_bound(struct pctx *c, const struct stmt *st, size_t k, json_t *e, const char *usage)
{
    long ms, tol;
    if (sc_is(st, k, ">=") || sc_is(st, k, "<=")) {
        if (sc_args(c, st, k + 1, k + 1, usage) < 0 || sc_duration(c, st, k + 1, &ms) < 0) return -1;
        json_object_set_new(e, "ms", json_integer(ms));
        json_object_set_new(e, "bound", json_string(sc_is(st, k, ">=") ? "min" : "max"));
        return 0;
    }
    if (sc_args(c, st, k + 2, k + 2, usage) < 0) return -1;
    if (sc_duration(c, st, k, &ms) < 0) return -1;
    if (!sc_is(st, k + 1, "+-")) return sc_err_word(c, st, k + 1, "'+-' expected (DURATION +- DURATION, >= DURATION or <= DURATION)");
    if (sc_duration(c, st, k + 2, &tol) < 0) return -1;
    json_object_set_new(e, "ms", json_integer(ms));
    json_object_set_new(e, "tol_ms", json_integer(tol));
    return 0;
}

/* `within ATOM ATOM DURATION +- DURATION | >= DURATION | <= DURATION` */
static int ex_within(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    const char *usage = "within ATOM ATOM DURATION +- DURATION | >= DURATION | <= DURATION";
    if (sc_args(c, st, 4, 5, usage) < 0) return -1;
    if (set_new(e, "from", sc_atom_word(c, st, 1, o, "expect", NULL)) < 0) return -1;
    if (set_new(e, "to", sc_atom_word(c, st, 2, o, "expect", NULL)) < 0) return -1;
    return time_bound(c, st, 3, e, usage);
}

/* ---- selectors and points (§6.3) ------------------------------------------------------------------- */

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* `#n` at text[i..end): n >= 1. */
static int index_number(struct pctx *c, const struct sline *ln, size_t i, size_t end, long *n)
{
    if (ch_lex_int(ln->text + i + 1, end - i - 1, 1, MAX_COUNT, n) < 0)
        return sc_err(c, ln, i, "a bad request number (write #n, n from 1)");
    return 0;
}

/* A selector in text[start..end): `#n` or `METHOD PATH[#n]` (FORMAT.md §6.3). "n" is null when no `#n` is
 * written: the 1st where one request is meant, any one in its place in a `requests` list. */
static json_t *selector(struct pctx *c, const struct sline *ln, size_t start, size_t end)
{
    const char *s = ln->text;
    size_t m = start, p, pe, hash;
    long n = 0;
    while (start < end && (s[start] == ' ' || s[start] == '\t')) start++;
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) end--;
    if (start == end) return sc_err(c, ln, start, "an empty request selector"), NULL;
    if (s[start] == '#') return index_number(c, ln, start, end, &n) < 0 ? NULL : json_pack("{s:I}", "index", (json_int_t)n);
    for (m = start; m < end && s[m] != ' ' && s[m] != '\t'; m++)
        if (!is_tchar(s[m])) return sc_err(c, ln, start, "a bad method in a selector (write METHOD PATH or #n)"), NULL;
    for (p = m; p < end && (s[p] == ' ' || s[p] == '\t'); p++) {}
    for (pe = p; pe < end && s[pe] != ' ' && s[pe] != '\t'; pe++) {}
    if (p == end || s[p] != '/') return sc_err(c, ln, p, "a selector is METHOD PATH[#n] or #n (PATH from '/')"), NULL;
    if (pe != end) return sc_err(c, ln, pe, "unexpected words after the selector"), NULL;
    for (hash = p; hash < pe && s[hash] != '#'; hash++)
        if (s[hash] == '?' || s[hash] == '"') return sc_err(c, ln, hash, "'%c' in a selector's path", s[hash]), NULL;
    if (hash < pe && index_number(c, ln, hash, pe, &n) < 0) return NULL;
    return json_pack("{s:s%, s:s%, s:o}", "method", s + start, m - start, "path", s + p, hash - p, "n",
                     n ? json_integer(n) : json_null());
}

/* The selector at word k: one word (`#n`) or two (METHOD PATH). *used gets the word count. */
static json_t *selector_words(struct pctx *c, const struct stmt *st, size_t k, size_t *used)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!w) return sc_err_word(c, st, k, "missing a request selector (METHOD PATH[#n] or #n)"), NULL;
    *used = w[0] == '#' ? 1 : 2;
    if (k + *used > sc_nwords(st)) return sc_err_word(c, st, k + 1, "missing the path of the selector"), NULL;
    size_t end = sc_off(st, k + *used - 1) + st->ln->tok[st->first + k + *used - 1].len;
    return selector(c, st->ln, sc_off(st, k), end);
}

/* `requests SELECTOR, SELECTOR...` or `requests none` */
static int ex_requests(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    json_t *list = json_array();
    size_t i = sc_off(st, 1), end = st->ln->len;
    json_object_set_new(e, "list", list);
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing selectors (write: requests SEL, SEL... | requests none)");
    if (sc_is(st, 1, "none")) return sc_args(c, st, 1, 1, "requests none");
    while (i <= end) {
        const char *comma = memchr(st->ln->text + i, ',', end - i);
        size_t stop = comma ? (size_t)(comma - st->ln->text) : end;
        if (json_array_append_new(list, selector(c, st->ln, i, stop)) < 0) return -1;
        i = stop + 1;
    }
    return 0;
}

/* `count METHOD PATH N`: every request to METHOD PATH. */
static int ex_request_count(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t used = 0;
    long n;
    json_t *sel = selector_words(c, st, 1, &used);
    if (!sel) return -1;
    if (json_object_get(sel, "index") || !json_is_null(json_object_get(sel, "n"))) {
        json_decref(sel);
        return sc_err_word(c, st, 1, "count takes METHOD PATH (every request to it), not one request");
    }
    json_object_set(e, "method", json_object_get(sel, "method"));
    json_object_set(e, "path", json_object_get(sel, "path"));
    json_decref(sel);
    if (sc_args(c, st, 3, 3, "count METHOD PATH N") < 0 || sc_int(c, st, 3, 0, MAX_COUNT, &n, "count") < 0) return -1;
    json_object_set_new(e, "n", json_integer(n));
    return 0;
}

/* The expected value from word k on: one string (a string expression or a block), or the rest of the line as
 * written. */
static json_t *rest_value(struct pctx *c, const struct stmt *st, size_t k)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!w) return sc_err_word(c, st, k, "missing the value"), NULL;
    if (sc_nwords(st) == k + 1 && (ch_lex_is_strexpr(w, n) || ch_lex_is_opener(w, n)))
        return sc_text(c, st, k, "expect");
    size_t off = sc_off(st, k);
    if (sc_tmpl(c, st->ln, off, st->ln->text + off, st->ln->len - off, "expect", 1) < 0) return NULL;
    return json_stringn(st->ln->text + off, st->ln->len - off);
}

/* `header SELECTOR NAME absent | present | = VALUE | ~ REGEX` */
static int ex_header(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t used = 0, n;
    const char *usage = "header SELECTOR NAME absent|present|= VALUE|~ REGEX";
    if (set_new(e, "sel", selector_words(c, st, 1, &used)) < 0) return -1;
    size_t k = 1 + used;
    const char *name = sc_word(st, k, &n);
    if (!name || sc_nwords(st) < k + 2) return sc_err_word(c, st, k, "write: %s", usage);
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(name[i])) return sc_err_word(c, st, k, "a bad header name");
    json_object_set_new(e, "name", json_stringn(name, n));
    if (sc_is(st, k + 1, "absent") || sc_is(st, k + 1, "present")) {
        json_object_set_new(e, "op", json_string(sc_is(st, k + 1, "absent") ? "absent" : "present"));
        if (sc_args(c, st, k + 1, k + 1, usage) < 0) return -1;
        return sc_is(st, k + 1, "absent") ? sc_lint_absent(c, st, k, json_string_value(json_object_get(e, "name"))) : 0;
    }
    if (!sc_is(st, k + 1, "=") && !sc_is(st, k + 1, "~")) return sc_err_word(c, st, k + 1, "write: %s", usage);
    json_object_set_new(e, "op", json_string(sc_is(st, k + 1, "=") ? "eq" : "match"));
    return set_new(e, "value", rest_value(c, st, k + 2));
}

/* `body SELECTOR = STRING | ~ REGEX | sha256 HEX | size N` */
static int ex_body(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t used = 0, n;
    long size;
    const char *usage = "body SELECTOR = STRING | ~ REGEX | sha256 HEX | size N";
    if (set_new(e, "sel", selector_words(c, st, 1, &used)) < 0) return -1;
    size_t k = 1 + used;
    if (sc_is(st, k, "~")) {
        json_object_set_new(e, "op", json_string("match"));
        if (sc_nwords(st) < k + 2) return sc_err_word(c, st, k + 1, "write: %s", usage);
        return set_new(e, "value", rest_value(c, st, k + 1));
    }
    if (sc_args(c, st, k + 1, k + 1, usage) < 0) return -1;
    if (sc_is(st, k, "=")) {
        json_object_set_new(e, "op", json_string("eq"));
        return set_new(e, "value", sc_text(c, st, k + 1, "expect"));
    }
    if (sc_is(st, k, "size")) {
        json_object_set_new(e, "op", json_string("size"));
        if (sc_int(c, st, k + 1, 0, 1L << 40, &size, "size") < 0) return -1;
        json_object_set_new(e, "value", json_integer(size));
        return 0;
    }
    if (!sc_is(st, k, "sha256")) return sc_err_word(c, st, k, "write: %s", usage);
    const char *w = sc_word(st, k + 1, &n);
    enum { DIGITS = CH_SHA256_HEX_SIZE - 1 };
    char hex[CH_SHA256_HEX_SIZE];
    for (size_t i = 0; i < n && i < DIGITS; i++) hex[i] = (char)(w[i] >= 'A' && w[i] <= 'F' ? w[i] + 32 : w[i]);
    hex[n < DIGITS ? n : DIGITS] = '\0';
    if (n != DIGITS || strspn(hex, "0123456789abcdef") < DIGITS)
        return sc_err_word(c, st, k + 1, "a SHA-256 is 64 hex digits");
    json_object_set_new(e, "op", json_string("sha256"));
    json_object_set_new(e, "value", json_string(hex));
    return 0;
}

/* `query SELECTOR absent | = VALUE | ~ REGEX`: the request-target's query as it arrived (after '?'). */
static int ex_query(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t used = 0;
    const char *usage = "query SELECTOR absent | = VALUE | ~ REGEX";
    if (set_new(e, "sel", selector_words(c, st, 1, &used)) < 0) return -1;
    size_t k = 1 + used;
    if (sc_is(st, k, "absent")) {
        json_object_set_new(e, "op", json_string("absent"));
        return sc_args(c, st, k, k, usage);
    }
    if ((!sc_is(st, k, "=") && !sc_is(st, k, "~")) || sc_nwords(st) < k + 2) return sc_err_word(c, st, k, "write: %s", usage);
    json_object_set_new(e, "op", json_string(sc_is(st, k, "=") ? "eq" : "match"));
    return set_new(e, "value", rest_value(c, st, k + 1));
}

/* `closed SELECTOR by client|server [fin|rst]` */
static int ex_closed(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    size_t used = 0;
    const char *usage = "closed SELECTOR by client|server [fin|rst]";
    if (set_new(e, "sel", selector_words(c, st, 1, &used)) < 0) return -1;
    size_t k = 1 + used;
    if (sc_args(c, st, k + 1, k + 2, usage) < 0) return -1;
    if (!sc_is(st, k, "by") || !(sc_is(st, k + 1, "client") || sc_is(st, k + 1, "server")))
        return sc_err_word(c, st, k, "write: %s", usage);
    json_object_set_new(e, "by", json_string(sc_is(st, k + 1, "client") ? "client" : "server"));
    if (sc_nwords(st) == k + 2) return 0;
    if (!sc_is(st, k + 2, "fin") && !sc_is(st, k + 2, "rst")) return sc_err_word(c, st, k + 2, "fin or rst");
    json_object_set_new(e, "how", json_string(sc_is(st, k + 2, "fin") ? "fin" : "rst"));
    return 0;
}

/* A point `request(SEL)`, `end(SEL)` or `closed(SEL)` at word k. */
static json_t *point(struct pctx *c, const struct stmt *st, size_t k)
{
    static const char *const kinds[] = {"request", "end", "closed"};
    size_t n, off = sc_off(st, k);
    const char *w = sc_word(st, k, &n), *open = w ? memchr(w, '(', n) : NULL;
    if (!open || w[n - 1] != ')') return sc_err_word(c, st, k, "a point is request(SEL), end(SEL) or closed(SEL)"), NULL;
    for (size_t i = 0; i < 3; i++) {
        if (strlen(kinds[i]) != (size_t)(open - w) || memcmp(w, kinds[i], strlen(kinds[i]))) continue;
        json_t *sel = selector(c, st->ln, off + (size_t)(open - w) + 1, off + n - 1);
        return sel ? json_pack("{s:s, s:o}", "at", kinds[i], "sel", sel) : NULL;
    }
    return sc_err_word(c, st, k, "a point is request(SEL), end(SEL) or closed(SEL)"), NULL;
}

/* `interval POINT POINT DURATION +- DURATION | >= DURATION | <= DURATION` */
static int ex_interval(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    const char *usage = "interval POINT POINT DURATION +- DURATION | >= DURATION | <= DURATION";
    if (sc_args(c, st, 4, 5, usage) < 0) return -1;
    if (set_new(e, "from", point(c, st, 1)) < 0 || set_new(e, "to", point(c, st, 2)) < 0) return -1;
    return time_bound(c, st, 3, e, usage);
}

/* `ws-close SELECTOR PROP=VALUE...`: PROPs are fields of the ws-close summary (MODEL.md §2), dotted inside
 * client, server and failed. */
static int ex_ws_close(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *e)
{
    static const char *const top[] = {"first", "code", "reason", "clean", "handshake_completed", "tcp", "frames_in",
                                      "frames_out", "messages_in", "steps_left", "client", "server", "failed"};
    static const char *const sub[] = {"client.code", "client.reason", "client.reason_hex", "client.payload_hex",
                                      "server.code", "server.reason", "server.reason_hex", "server.payload_hex",
                                      "failed.code", "failed.why"};
    size_t used = 0;
    const char *key;
    json_t *v;
    if (set_new(e, "sel", selector_words(c, st, 1, &used)) < 0) return -1;
    if (sc_nwords(st) < 2 + used) return sc_err_word(c, st, 1 + used, "write: ws-close SELECTOR PROP=VALUE...");
    if (set_new(e, "props", sc_props(c, st, 1 + used, "expect")) < 0) return -1;
    json_object_foreach(json_object_get(e, "props"), key, v) {
        int known = 0;
        for (size_t i = 0; i < sizeof top / sizeof *top; i++) known |= !strcmp(key, top[i]);
        for (size_t i = 0; i < sizeof sub / sizeof *sub; i++) known |= !strcmp(key, sub[i]);
        if (!known) return sc_err_word(c, st, 1 + used, "'%s' is not a field of the ws-close summary (first, code, reason, clean, handshake_completed, client.code, ...)", key);
    }
    return 0;
}

/* Expectations: one row per word and the section it belongs to (FORMAT.md §6.2, §6.3). To add one (issue 3's
 * `expect cors` lines), write an expect_fn that checks the words after word 0 and fills the fields of
 * MODEL.md §1.3 ("kind" and, for client checks, "obj" are set; "line", "text", "rule", "spec", "level" are
 * added after), then add a row: the word, the section (EX_*), and the kind it emits. A row without a kind
 * (the lines of expect cors) gets no object to fill: its function appends complete expectations itself. */
static const struct expect_row {
    const char *word;
    unsigned where;
    const char *kind;
    expect_fn parse;
} expect_rows[] = {
    {"events", EX_CLIENT, "events", ex_events},
    {"never", EX_CLIENT, "never", ex_never},
    {"count", EX_CLIENT, "count", ex_count},
    {"at", EX_CLIENT, "at", ex_at},
    {"final", EX_CLIENT, "final", ex_final},
    {"within", EX_CLIENT, "within", ex_within},
    {"requests", EX_SERVER, "requests", ex_requests},
    {"count", EX_SERVER, "request-count", ex_request_count},
    {"header", EX_SERVER, "request-header", ex_header},
    {"body", EX_SERVER, "request-body", ex_body},
    {"query", EX_SERVER, "request-query", ex_query},
    {"closed", EX_SERVER, "closed", ex_closed},
    {"interval", EX_SERVER, "interval", ex_interval},
    {"ws-close", EX_SERVER, "ws-close", ex_ws_close},
    {"client", EX_CORS, NULL, sc_cors_expect_line},
    {"server", EX_CORS, NULL, sc_cors_expect_line},
    {"cookies", EX_CORS, NULL, sc_cors_expect_line},
};

/* ---- attachments (§6) ------------------------------------------------------------------------------ */

static const char *const attachment_words[] = {"rule", "spec", "level"};

static int attachment(struct pctx *c, struct sline *ln, json_t *e, json_t *seen)
{
    struct stmt st = {.ln = ln};
    size_t n, a = 0;
    const char *w = sc_word(&st, 0, &n);
    char key[8];
    while (a < 3 && !sc_is(&st, 0, attachment_words[a])) a++;
    if (a == 3)
        return sc_err_word(c, &st, 0, "unknown attachment '%.*s' (rule, spec, level)", (int)(n > 40 ? 40 : n), w);
    snprintf(key, sizeof key, "%.*s", (int)n, w);
    if (json_object_get(seen, key)) return sc_err_word(c, &st, 0, "a second '%s' on one expectation", key);
    json_object_set_new(seen, key, json_true());
    if (key[0] == 'r') {
        size_t bl;
        char *b;
        if (sc_args(c, &st, 1, 1, "rule \"TEXT\"") < 0 || sc_string(c, &st, 1, &b, &bl) < 0) return -1;
        json_t *v = ch_utf8_text((const unsigned char *)b, bl) ? json_stringn(b, bl) : NULL;
        free(b);
        return v ? set_new(e, "rule", v) : sc_err_word(c, &st, 1, "a rule is UTF-8 text without NUL");
    }
    if (key[0] == 's') {
        const char *u = sc_word(&st, 1, &n);
        if (sc_args(c, &st, 1, 1, "spec URL") < 0) return -1;
        if (!((n > 8 && !memcmp(u, "https://", 8)) || (n > 7 && !memcmp(u, "http://", 7))))
            return sc_err_word(c, &st, 1, "a spec reference is an http(s) URL");
        return set_new(e, "spec", json_stringn(u, n));
    }
    if (sc_args(c, &st, 1, 1, "level must|should") < 0) return -1;
    if (!sc_is(&st, 1, "must") && !sc_is(&st, 1, "should")) return sc_err_word(c, &st, 1, "the level is must or should");
    return set_new(e, "level", json_string(sc_is(&st, 1, "must") ? "must" : "should"));
}

/* Adds line, text and the attachments (or their defaults) to a parsed expectation. */
static int finish(struct pctx *c, const struct stmt *st, json_t *e)
{
    json_t *seen = json_object(), *text = json_stringn(st->ln->text, st->ln->len);
    int rc = 0;
    json_object_set_new(e, "line", json_integer(st->ln->src->no));
    json_object_set_new(e, "text", json_incref(text));
    json_object_set_new(e, "rule", text);
    json_object_set(e, "spec", json_array_get(c->spec, 0));
    json_object_set_new(e, "level", json_string("must"));
    for (size_t i = 0; i < st->natt; i++)
        if (attachment(c, st->att[i], e, seen) < 0) rc = -1;
    json_decref(seen);
    return rc < 0 ? rc : sc_lint_level(c, st, e);
}

static void expectation(struct pctx *c, const struct stmt *st, unsigned where, const struct cobj *o)
{
    size_t n, r;
    int other = 0;
    const char *w = sc_word(st, 0, &n);
    for (r = 0; r < sizeof expect_rows / sizeof *expect_rows; r++) {
        if (!sc_is(st, 0, expect_rows[r].word)) continue;
        if (expect_rows[r].where & where) break;
        other = 1;
    }
    if (r == sizeof expect_rows / sizeof *expect_rows) {
        if (other) sc_err_word(c, st, 0, "'%.*s' is not an expectation of expect %s", (int)n, w,
                               where == EX_CLIENT ? "client" : where == EX_SERVER ? "server" : "cors");
        else sc_err_word(c, st, 0, "unknown expectation '%.*s'", (int)(n > 40 ? 40 : n), w);
        return;
    }
    if (!expect_rows[r].kind) { /* an expect cors line appends its own expectations (script_cors.c) */
        expect_rows[r].parse(c, st, o, NULL);
        return;
    }
    json_t *e = o ? json_pack("{s:s, s:s}", "kind", expect_rows[r].kind, "obj", o->name)
                  : json_pack("{s:s}", "kind", expect_rows[r].kind);
    if (expect_rows[r].parse(c, st, o, e) < 0 || finish(c, st, e) < 0) {
        json_decref(e);
        return;
    }
    json_array_append_new(c->expect, e);
}

/* Lines of any expect section that are not expectations (FORMAT.md §6): `informational "WHY"`. */
static const char *const section_words[] = {"informational"};

/* `informational "WHY"`: the section can never FAIL (every line SHOULD), and this says why (lint.c). */
static int informational(struct pctx *c, const struct stmt *st, const struct stmt **seen)
{
    char *b;
    size_t n;
    sc_no_attachments(c, st);
    if (*seen) return sc_err_word(c, st, 0, "a second 'informational' line in this section");
    *seen = st;
    if (sc_args(c, st, 1, 1, "informational \"WHY\"") < 0 || sc_string(c, st, 1, &b, &n) < 0) return -1;
    int empty = n == 0;
    free(b);
    return empty ? sc_err_word(c, st, 1, "say why the section is informational") : 0;
}

void sc_expect_words(json_t *vocab)
{
    for (size_t r = 0; r < sizeof section_words / sizeof *section_words; r++)
        sc_vocab_add(vocab, "expect section", section_words[r]);
    static const char *const groups[] = {[EX_CLIENT] = "expect client", [EX_SERVER] = "expect server",
                                         [EX_CORS] = "expect cors"};
    for (size_t r = 0; r < sizeof expect_rows / sizeof *expect_rows; r++)
        sc_vocab_add(vocab, groups[expect_rows[r].where], expect_rows[r].word);
    for (size_t a = 0; a < sizeof attachment_words / sizeof *attachment_words; a++)
        sc_vocab_add(vocab, "attachment", attachment_words[a]);
}

/* `expect client [NAME]`: the object, or the only one when NAME is left out. */
static int header_client(struct pctx *c, const struct stmt *h, const struct cobj **o)
{
    size_t n;
    const char *w = sc_word(h, 2, &n);
    *o = NULL;
    if (sc_args(c, h, 1, 2, "expect client [NAME]") < 0) return -1;
    if (!w) {
        if (c->nobj == 0) return sc_err_word(c, h, 1, "there is no client object to check");
        if (c->nobj != 1)
            return sc_err_word(c, h, 1, "name the object: expect client NAME (the case has %zu)", c->nobj);
        *o = &c->obj[0];
        return 0;
    }
    if (!(*o = sc_find_obj(c, w, n)))
        return sc_err_word(c, h, 2, "no client object named '%.*s'", (int)(n > 40 ? 40 : n), w);
    return 0;
}

static int header_server(struct pctx *c, const struct stmt *h, const struct cobj **o)
{
    *o = NULL;
    return sc_args(c, h, 1, 1, "expect server");
}

/* Expect sections: one row per kind. Issue 3 adds {"cors", EX_CORS, header_cors} and its rows above. */
static const struct {
    const char *word;
    unsigned where;
    int (*header)(struct pctx *, const struct stmt *, const struct cobj **);
} expect_kinds[] = {
    {"client", EX_CLIENT, header_client},
    {"server", EX_SERVER, header_server},
    {"cors", EX_CORS, sc_cors_expect_header},
};

void sc_expect_section(struct pctx *c, struct section *sec)
{
    const struct cobj *o = NULL;
    size_t k = 0, n;
    const char *w = sc_word(&sec->head, 1, &n);
    c->nexpect++;
    while (k < sizeof expect_kinds / sizeof *expect_kinds && !sc_is(&sec->head, 1, expect_kinds[k].word)) k++;
    if (k == sizeof expect_kinds / sizeof *expect_kinds) {
        sc_err_word(c, &sec->head, 1, w ? "unknown expect section '%.*s' (client, server, cors)" : "write: expect client [NAME] | expect server | expect cors [NAME]%.*s",
                    (int)(n > 40 ? 40 : n), w ? w : "");
        return;
    }
    /* A header in error still has its lines checked (without the object, their events are not). */
    int bad = expect_kinds[k].header(c, &sec->head, &o) < 0;
    json_t *keep = c->expect;
    const struct stmt *info = NULL;
    if (bad) c->expect = json_array();
    size_t first = json_array_size(c->expect);
    int before = c->errors;
    if (sec->nitems == 0) sc_err_word(c, &sec->head, 0, "an expect section needs at least one expectation");
    for (size_t i = 0; i < sec->nitems; i++) {
        if (sc_is(&sec->items[i], 0, section_words[0])) informational(c, &sec->items[i], &info);
        else expectation(c, &sec->items[i], expect_kinds[k].where, o);
    }
    if (c->errors == before) sc_lint_section(c, sec, first, info);
    if (bad) {
        json_decref(c->expect);
        c->expect = keep;
    }
}
