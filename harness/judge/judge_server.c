/* judge_server.c — server expectations (cases/FORMAT.md §6.3, harness/MODEL.md §1.3) over the transcript of
 * the case's token (MODEL.md §2): requests, request-count, request-header, request-body, closed, interval.
 *
 * A SELECTOR {"method", "path", "n"} picks the n-th request (default the 1st) with that method and path, in
 * transcript order; {"index": n} the n-th request of the case. Unmatched requests (404 No Script) count like
 * any other, so an unexpected request can never pass silently. */
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "core/core.h"

/* The request events of the transcript, in order (borrowed), and each one's rank among the requests with its
 * method and path (1 for the first). */
struct reqs {
    const json_t **v;
    size_t *rank;
    size_t n;
};

struct sel {
    long long index; /* > 0: {"index": n} */
    const json_t *method, *path;
    long long n;     /* the n-th of method + path */
    int n_given;     /* "n" was present and not null */
};

static int is_type(const json_t *ev, const char *type)
{
    return !strcmp(json_string_value(json_object_get(ev, "type")), type);
}

static int same(const json_t *a, const json_t *b)
{
    return json_string_length(a) == json_string_length(b) &&
           memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
}

static int cmp_string(const json_t *a, const json_t *b)
{
    size_t la = json_string_length(a), lb = json_string_length(b);
    int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

struct rank_key {
    const json_t *method, *path;
    size_t i;
};

static int cmp_rank_key(const void *x, const void *y)
{
    const struct rank_key *a = x, *b = y;
    int c = cmp_string(a->method, b->method);
    if (!c) c = cmp_string(a->path, b->path);
    return c ? c : (a->i > b->i) - (a->i < b->i);
}

/* Ranks by sorting on (method, path, position): O(n log n) however many requests a transcript holds. */
static void rank_requests(struct reqs *r)
{
    struct rank_key *k = ch_xmalloc((r->n ? r->n : 1) * sizeof *k);
    for (size_t i = 0; i < r->n; i++)
        k[i] = (struct rank_key){json_object_get(r->v[i], "method"), json_object_get(r->v[i], "path"), i};
    qsort(k, r->n, sizeof *k, cmp_rank_key);
    for (size_t i = 0, rank = 1; i < r->n; i++) {
        rank = i > 0 && same(k[i].method, k[i - 1].method) && same(k[i].path, k[i - 1].path) ? rank + 1 : 1;
        r->rank[k[i].i] = rank;
    }
    free(k);
}

static void reqs_free(struct reqs *r)
{
    free(r->v);
    free(r->rank);
    *r = (struct reqs){0};
}

/* Collects the requests (free with reqs_free). */
static void collect_requests(const struct ch_jctx *cx, struct reqs *r)
{
    size_t total = json_array_size(cx->trevents);
    *r = (struct reqs){0};
    r->v = ch_xmalloc((total ? total : 1) * sizeof *r->v);
    r->rank = ch_xmalloc((total ? total : 1) * sizeof *r->rank);
    for (size_t i = 0; i < total; i++)
        if (is_type(json_array_get(cx->trevents, i), "request")) r->v[r->n++] = json_array_get(cx->trevents, i);
    rank_requests(r);
}

static int method_is(const json_t *req, const json_t *method)
{
    return !strcmp(json_string_value(method), "*") || same(json_object_get(req, "method"), method);
}

static size_t rank_of(const struct reqs *r, size_t i)
{
    return r->rank[i];
}

/* "GET /slow", "GET /slow#2", "GET /nope (unmatched)" */
static void render_request(struct ch_text *t, const struct reqs *r, size_t i)
{
    const json_t *m = json_object_get(r->v[i], "method"), *p = json_object_get(r->v[i], "path");
    ch_text_raw(t, json_string_value(m), json_string_length(m), CH_VALUE_SHOWN);
    ch_text_puts(t, " ");
    ch_text_raw(t, json_string_value(p), json_string_length(p), CH_VALUE_SHOWN);
    size_t k = rank_of(r, i);
    if (k > 1) ch_text_printf(t, "#%zu", k);
    if (json_is_true(json_object_get(r->v[i], "unmatched"))) ch_text_puts(t, " (unmatched)");
}

static void render_requests(struct ch_text *t, const struct reqs *r)
{
    if (r->n == 0) ch_text_puts(t, "none");
    for (size_t i = 0; i < r->n && i < CH_JUDGE_SHOWN_EVENTS; i++) {
        if (i) ch_text_puts(t, ", ");
        render_request(t, r, i);
    }
    if (r->n > CH_JUDGE_SHOWN_EVENTS) ch_text_printf(t, " … and %zu more", r->n - CH_JUDGE_SHOWN_EVENTS);
}

static int sel_parse(const json_t *j, struct sel *s, char *err)
{
    *s = (struct sel){0};
    if (!json_is_object(j)) return ch_errf(err, "a selector must be an object");
    if (json_object_get(j, "index")) return ch_jint(j, "index", 1, 0, &s->index, err);
    s->method = json_object_get(j, "method");
    s->path = json_object_get(j, "path");
    if (!json_is_string(s->method) || !json_is_string(s->path))
        return ch_errf(err, "a selector needs a string \"method\" and \"path\", or an \"index\"");
    const json_t *n = json_object_get(j, "n");
    s->n_given = n && !json_is_null(n);
    return ch_jint(j, "n", 1, 1, &s->n, err);
}

/* "GET /slow", "GET /slow#2", "#3" */
static void render_sel(struct ch_text *t, const struct sel *s)
{
    if (s->index > 0) {
        ch_text_printf(t, "#%lld", s->index);
        return;
    }
    ch_text_raw(t, json_string_value(s->method), json_string_length(s->method), CH_VALUE_SHOWN);
    ch_text_puts(t, " ");
    ch_text_raw(t, json_string_value(s->path), json_string_length(s->path), CH_VALUE_SHOWN);
    if (s->n > 1) ch_text_printf(t, "#%lld", s->n);
}

/* Whether request i is the one the selector names. In a `requests` list (strict_n 0) the position decides: any
 * request with that method and path fits, and only an n other than 1 (the default, which the parser writes for
 * `GET /x`) must also be its rank — so `requests GET /poll, GET /poll` means two of them (MODEL.md §3.1). */
static int sel_fits(const struct reqs *r, size_t i, const struct sel *s, int strict_n)
{
    if (s->index > 0) return (long long)i + 1 == s->index;
    if (!method_is(r->v[i], s->method) || !same(json_object_get(r->v[i], "path"), s->path)) return 0;
    if (!strict_n && (!s->n_given || s->n == 1)) return 1;
    return (long long)rank_of(r, i) == s->n;
}

/* The index of the request the selector picks, or r->n when there is none. */
static size_t sel_find(const struct reqs *r, const struct sel *s)
{
    for (size_t i = 0; i < r->n; i++)
        if (sel_fits(r, i, s, 1)) return i;
    return r->n;
}

/* Parses the expectation's "sel" and finds its request. Returns the index (r->n: none, and the check's
 * observed text says so), or -1 with the check's error set. */
static long find_request(struct ch_jcheck *c, const json_t *sel_json, const struct reqs *r, struct sel *s)
{
    char err[CH_ERR_LEN];
    if (sel_parse(sel_json, s, err) < 0) return ch_jerror(c, "sel: %s", err), -1;
    size_t i = sel_find(r, s);
    if (i == r->n) {
        ch_text_puts(&c->observed, "no request ");
        render_sel(&c->observed, s);
        ch_text_puts(&c->observed, " (requests: ");
        render_requests(&c->observed, r);
        ch_text_puts(&c->observed, ")");
    }
    return (long)i;
}

/* ---- requests, request-count ---- */

/* The first position where the list and the requests part, into c->detail. */
static enum ch_jstatus requests_diff(struct ch_jcheck *c, const struct reqs *r, const struct sel *s, size_t ns)
{
    for (size_t i = 0; i < ns; i++) {
        if (i >= r->n) {
            ch_text_printf(&c->detail, "request %zu is missing: expected ", i + 1);
            render_sel(&c->detail, &s[i]);
            return CH_J_FAIL;
        }
        if (sel_fits(r, i, &s[i], 0)) continue;
        ch_text_printf(&c->detail, "request %zu: expected ", i + 1);
        render_sel(&c->detail, &s[i]);
        ch_text_puts(&c->detail, ", observed ");
        render_request(&c->detail, r, i);
        return CH_J_FAIL;
    }
    if (r->n > ns) {
        ch_text_printf(&c->detail, "request %zu was not expected: ", ns + 1);
        render_request(&c->detail, r, ns);
        return CH_J_FAIL;
    }
    return CH_J_PASS;
}

enum ch_jstatus ch_jcheck_requests(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    const json_t *list = json_object_get(c->exp, "list");
    if (!json_is_array(list)) return ch_jerror(c, "\"list\" must be an array");
    size_t ns = json_array_size(list);
    struct sel *s = ch_xcalloc(ns, sizeof *s);
    struct reqs r;
    enum ch_jstatus st = CH_J_PASS;
    collect_requests(cx, &r);
    for (size_t i = 0; st == CH_J_PASS && i < ns; i++)
        if (sel_parse(json_array_get(list, i), &s[i], err) < 0) st = ch_jerror(c, "list[%zu]: %s", i, err);
    if (st == CH_J_PASS) {
        for (size_t i = 0; i < ns; i++) {
            if (i) ch_text_puts(&c->expected, ", ");
            render_sel(&c->expected, &s[i]);
        }
        if (ns == 0) ch_text_puts(&c->expected, "none");
        render_requests(&c->observed, &r);
        st = requests_diff(c, &r, s, ns);
    }
    free(s);
    reqs_free(&r);
    return st;
}

enum ch_jstatus ch_jcheck_request_count(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    long long want;
    struct sel s = {.method = json_object_get(c->exp, "method"), .path = json_object_get(c->exp, "path")};
    if (!json_is_string(s.method) || !json_is_string(s.path))
        return ch_jerror(c, "request-count needs a string \"method\" and \"path\"");
    if (ch_jint(c->exp, "n", 0, -1, &want, err) < 0) return ch_jerror(c, "%s", err);
    struct reqs r;
    collect_requests(cx, &r);
    size_t n = 0;
    for (size_t i = 0; i < r.n; i++) n += sel_fits(&r, i, &s, 0);
    render_sel(&c->expected, &s);
    ch_text_printf(&c->expected, " × %lld", want);
    render_sel(&c->observed, &s);
    ch_text_printf(&c->observed, " × %zu", n);
    ch_text_puts(&c->detail, "requests: ");
    render_requests(&c->detail, &r);
    reqs_free(&r);
    return (long long)n == want ? CH_J_PASS : CH_J_FAIL;
}

/* ---- request-header ---- */

/* The first header with this name (ASCII case-insensitive), and how many there are. */
static const json_t *header_of(const json_t *req, const json_t *name, size_t *count)
{
    const json_t *headers = json_object_get(req, "headers"), *first = NULL;
    *count = 0;
    for (size_t i = 0; i < json_array_size(headers); i++) {
        const json_t *h = json_array_get(headers, i), *n = json_array_get(h, 0);
        if (json_string_length(n) != json_string_length(name) ||
            strncasecmp(json_string_value(n), json_string_value(name), json_string_length(n)) != 0)
            continue;
        if (!first) first = h;
        ++*count;
    }
    return first;
}

static void render_header(struct ch_text *t, const json_t *h, size_t count)
{
    const json_t *n = json_array_get(h, 0), *v = json_array_get(h, 1);
    ch_text_raw(t, json_string_value(n), json_string_length(n), CH_VALUE_SHOWN);
    ch_text_puts(t, ": ");
    ch_text_raw(t, json_string_value(v), json_string_length(v), 4 * CH_VALUE_SHOWN);
    if (count > 1) ch_text_printf(t, " (and %zu more %s)", count - 1, count == 2 ? "header" : "headers");
}

static void render_expected_header(struct ch_text *t, const char *op, const json_t *name, const json_t *value)
{
    const char *n = json_string_value(name);
    if (!strcmp(op, "absent")) ch_text_printf(t, "no %s header", n);
    else if (!strcmp(op, "present")) ch_text_printf(t, "%s: (any value)", n);
    else {
        ch_text_printf(t, "%s%s", n, !strcmp(op, "eq") ? ": " : " ~ ");
        ch_text_raw(t, json_string_value(value), json_string_length(value), 4 * CH_VALUE_SHOWN);
    }
}

/* A POSIX extended regex searched (not anchored) in text: 1 hit, 0 none, -1 after an ERROR check. */
static int regex_search(struct ch_jcheck *c, const char *text, const json_t *re_text)
{
    regex_t re;
    int rc = regcomp(&re, json_string_value(re_text), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[160];
        regerror(rc, &re, why, sizeof why);
        ch_jerror(c, "bad regular expression \"%.200s\": %s", json_string_value(re_text), why);
        return -1;
    }
    int hit = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

/* `~ REGEX`: a POSIX extended regex searched in the first occurrence (MODEL.md §1.3). */
static enum ch_jstatus header_match(struct ch_jcheck *c, const json_t *h, const json_t *re_text)
{
    int hit = h ? regex_search(c, json_string_value(json_array_get(h, 1)), re_text) : 0;
    if (hit < 0) return CH_J_ERROR;
    if (h && !hit) ch_text_puts(&c->detail, "the first occurrence does not match the regular expression");
    return hit ? CH_J_PASS : CH_J_FAIL;
}

static enum ch_jstatus header_judge(struct ch_jcheck *c, const json_t *req, const char *op, const json_t *name,
                                    const json_t *value)
{
    size_t count;
    const json_t *h = header_of(req, name, &count);
    if (h) render_header(&c->observed, h, count);
    else ch_text_printf(&c->observed, "no %s header", json_string_value(name));
    if (!strcmp(op, "absent")) return h ? CH_J_FAIL : CH_J_PASS;
    if (!strcmp(op, "present")) return h ? CH_J_PASS : CH_J_FAIL;
    if (!strcmp(op, "match")) return header_match(c, h, value);
    if (h && same(json_array_get(h, 1), value)) return CH_J_PASS;
    if (h) ch_value_diff_hint(&c->detail, value, json_array_get(h, 1));
    return CH_J_FAIL;
}

/* `value` with placeholders filled, a regex too (as `runner check` reads it: an interval is written `{{2,}}`). */
static json_t *header_value(const struct ch_jctx *cx, struct ch_jcheck *c, const char *op)
{
    char err[CH_ERR_LEN];
    const json_t *raw = json_object_get(c->exp, "value");
    if (!json_is_string(raw)) {
        ch_jerror(c, "\"value\" must be a string for op \"%s\"", op);
        return NULL;
    }
    json_t *v = ch_jfill(cx, raw, err);
    if (!v) ch_jerror(c, "value: %s", err);
    return v;
}

/* How one selected request is judged: the expectation's op and its expected value (NULL for absent/present). */
typedef enum ch_jstatus (*req_judge_fn)(struct ch_jcheck *c, const json_t *req, const char *op, const json_t *want);

/* Judges the request the expectation's selector picks: a selector that picks none fails, one that cannot be
 * read is an error. Takes `want` (may be NULL). */
static enum ch_jstatus judge_selected(const struct ch_jctx *cx, struct ch_jcheck *c, const char *op, json_t *want,
                                      req_judge_fn judge)
{
    struct reqs r;
    struct sel s;
    enum ch_jstatus st = CH_J_ERROR;
    collect_requests(cx, &r);
    long i = find_request(c, json_object_get(c->exp, "sel"), &r, &s);
    if (i >= 0) st = (size_t)i < r.n ? judge(c, r.v[i], op, want) : CH_J_FAIL;
    json_decref(want);
    reqs_free(&r);
    return st;
}

static enum ch_jstatus header_judge_named(struct ch_jcheck *c, const json_t *req, const char *op, const json_t *want)
{
    return header_judge(c, req, op, json_object_get(c->exp, "name"), want);
}

enum ch_jstatus ch_jcheck_request_header(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    const json_t *name = json_object_get(c->exp, "name");
    const char *op = json_string_value(json_object_get(c->exp, "op"));
    if (!json_is_string(name) || json_string_length(name) == 0) return ch_jerror(c, "\"name\" must be a string");
    if (!op || (strcmp(op, "absent") && strcmp(op, "present") && strcmp(op, "eq") && strcmp(op, "match")))
        return ch_jerror(c, "\"op\" must be absent, present, eq or match");
    json_t *value = NULL;
    if ((!strcmp(op, "eq") || !strcmp(op, "match")) && !(value = header_value(cx, c, op))) return CH_J_ERROR;
    render_expected_header(&c->expected, op, name, value);
    return judge_selected(cx, c, op, value, header_judge_named);
}

/* ---- request-body ---- */

/* "\"hello\" (5 bytes)" when the transcript kept the text, else "5 bytes, sha256 2cf24dba…". */
static void render_body(struct ch_text *t, const json_t *req)
{
    const json_t *text = json_object_get(req, "body_text"), *sha = json_object_get(req, "body_sha256");
    long long size = json_integer_value(json_object_get(req, "body_size"));
    if (json_is_string(text)) {
        ch_text_quoted(t, json_string_value(text), json_string_length(text), 2 * CH_VALUE_SHOWN);
        ch_text_printf(t, " (%lld bytes)", size);
    } else {
        ch_text_printf(t, "%lld bytes", size);
        if (sha) ch_text_printf(t, ", sha256 %.16s…", json_string_value(sha));
    }
}

/* The expected value: a size for `size`, a string otherwise (placeholders filled for `eq`). NULL + error. */
static json_t *body_want(const struct ch_jctx *cx, struct ch_jcheck *c, const char *op)
{
    char err[CH_ERR_LEN];
    const json_t *value = json_object_get(c->exp, "value");
    json_t *want = NULL;
    if (!strcmp(op, "size")) {
        if (json_is_integer(value) && json_integer_value(value) >= 0) return json_incref((json_t *)value);
        ch_jerror(c, "\"value\" must be an integer size for op size");
    } else if (!json_is_string(value)) {
        ch_jerror(c, "\"value\" must be a string for op %s", op);
    } else if (!strcmp(op, "sha256")) {
        return json_incref((json_t *)value);
    } else if (!(want = ch_jfill(cx, value, err))) {
        ch_jerror(c, "value: %s", err);
    }
    return want;
}

static void render_body_want(struct ch_text *t, const char *op, const json_t *want)
{
    if (!strcmp(op, "size")) ch_text_printf(t, "%lld bytes", (long long)json_integer_value(want));
    else if (!strcmp(op, "sha256")) ch_text_printf(t, "sha256 %s", json_string_value(want));
    else if (!strcmp(op, "match")) {
        ch_text_puts(t, "a body ~ ");
        ch_text_quoted(t, json_string_value(want), json_string_length(want), 2 * CH_VALUE_SHOWN);
    } else {
        ch_text_quoted(t, json_string_value(want), json_string_length(want), 2 * CH_VALUE_SHOWN);
        ch_text_printf(t, " (%zu bytes)", json_string_length(want));
    }
}

/* `= STRING` compares the bytes when the transcript kept all of them as body_text (it keeps a preview of large
 * bodies), else their SHA-256. */
static enum ch_jstatus body_eq(struct ch_jcheck *c, const json_t *req, const json_t *want)
{
    const json_t *text = json_object_get(req, "body_text"), *sha = json_object_get(req, "body_sha256");
    const json_t *size = json_object_get(req, "body_size");
    if (json_is_string(text) && (!size || (json_int_t)json_string_length(text) == json_integer_value(size))) {
        if (same(text, want)) return CH_J_PASS;
        ch_value_diff_hint(&c->detail, want, text);
        return CH_J_FAIL;
    }
    if (!sha) return ch_jerror(c, "the transcript's request has neither body_text nor body_sha256");
    char hex[CH_SHA256_HEX_SIZE];
    ch_sha256_hex(json_string_value(want), json_string_length(want), hex);
    if (strcasecmp(hex, json_string_value(sha)) == 0) return CH_J_PASS;
    ch_text_printf(&c->detail, "expected sha256 %s", hex);
    return CH_J_FAIL;
}

/* `~ REGEX` searches the body's text: the whole body must be UTF-8 text the transcript kept (a NUL ends the
 * text the regex sees). */
static enum ch_jstatus body_match(struct ch_jcheck *c, const json_t *req, const json_t *re_text)
{
    const json_t *text = json_object_get(req, "body_text"), *size = json_object_get(req, "body_size");
    if (!json_is_string(text) || (size && (json_int_t)json_string_length(text) != json_integer_value(size))) {
        ch_text_puts(&c->detail, "the body is not text the transcript kept whole (binary, or over 64 KiB)");
        return CH_J_FAIL;
    }
    int hit = regex_search(c, json_string_value(text), re_text);
    if (hit < 0) return CH_J_ERROR;
    if (!hit) ch_text_puts(&c->detail, "the body does not match the regular expression");
    return hit ? CH_J_PASS : CH_J_FAIL;
}

static enum ch_jstatus body_judge(struct ch_jcheck *c, const json_t *req, const char *op, const json_t *want)
{
    const json_t *sha = json_object_get(req, "body_sha256"), *size = json_object_get(req, "body_size");
    render_body(&c->observed, req);
    if (!strcmp(op, "match")) return body_match(c, req, want);
    if (!strcmp(op, "size")) {
        if (!size) return ch_jerror(c, "the transcript's request has no body_size");
        return json_integer_value(size) == json_integer_value(want) ? CH_J_PASS : CH_J_FAIL;
    }
    if (!strcmp(op, "sha256")) {
        if (!sha) return ch_jerror(c, "the transcript's request has no body_sha256");
        return strcasecmp(json_string_value(sha), json_string_value(want)) == 0 ? CH_J_PASS : CH_J_FAIL;
    }
    return body_eq(c, req, want);
}

enum ch_jstatus ch_jcheck_request_body(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    const char *op = json_string_value(json_object_get(c->exp, "op"));
    if (!op || (strcmp(op, "eq") && strcmp(op, "match") && strcmp(op, "sha256") && strcmp(op, "size")))
        return ch_jerror(c, "\"op\" must be eq, match, sha256 or size");
    json_t *want = body_want(cx, c, op);
    if (!want) return CH_J_ERROR;
    render_body_want(&c->expected, op, want);
    return judge_selected(cx, c, op, want, body_judge);
}

/* ---- request-query ---- */

/* The query of the request-target as it arrived (the bytes after the first '?', percent-encoding untouched), or
 * NULL when the target has no '?'. */
static const char *query_of(const json_t *req, size_t *len)
{
    const char *t = json_string_value(json_object_get(req, "target"));
    size_t n = json_string_length(json_object_get(req, "target"));
    const char *q = t ? memchr(t, '?', n) : NULL;
    if (!q) return NULL;
    *len = n - (size_t)(q + 1 - t);
    return q + 1;
}

static enum ch_jstatus query_judge(struct ch_jcheck *c, const json_t *req, const char *op, const json_t *want)
{
    size_t n = 0;
    if (!json_is_string(json_object_get(req, "target"))) return ch_jerror(c, "the transcript's request has no target");
    const char *q = query_of(req, &n);
    if (q) {
        ch_text_puts(&c->observed, "?");
        ch_text_raw(&c->observed, q, n, 4 * CH_VALUE_SHOWN);
    } else {
        ch_text_puts(&c->observed, "no query");
    }
    if (!strcmp(op, "absent")) return q ? CH_J_FAIL : CH_J_PASS;
    if (!q) return CH_J_FAIL;
    if (!strcmp(op, "match")) {
        char *z = ch_xstrndup(q, n);
        int hit = regex_search(c, z, want);
        free(z);
        if (hit < 0) return CH_J_ERROR;
        if (!hit) ch_text_puts(&c->detail, "the query does not match the regular expression");
        return hit ? CH_J_PASS : CH_J_FAIL;
    }
    if (n == json_string_length(want) && memcmp(q, json_string_value(want), n) == 0) return CH_J_PASS;
    json_t *got = json_stringn(q, n);
    if (got) ch_value_diff_hint(&c->detail, want, got);
    json_decref(got);
    return CH_J_FAIL;
}

enum ch_jstatus ch_jcheck_request_query(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    const char *op = json_string_value(json_object_get(c->exp, "op"));
    if (!op || (strcmp(op, "absent") && strcmp(op, "eq") && strcmp(op, "match")))
        return ch_jerror(c, "\"op\" must be absent, eq or match");
    json_t *want = NULL;
    if (strcmp(op, "absent") && !(want = header_value(cx, c, op))) return CH_J_ERROR;
    if (!want) ch_text_puts(&c->expected, "no query");
    else {
        ch_text_puts(&c->expected, !strcmp(op, "eq") ? "?" : "a query ~ ");
        ch_text_raw(&c->expected, json_string_value(want), json_string_length(want), 4 * CH_VALUE_SHOWN);
    }
    return judge_selected(cx, c, op, want, query_judge);
}

/* ---- closed, interval ---- */

/* The first conn-close of the request's connection, or NULL. */
static const json_t *close_of(const struct ch_jctx *cx, const json_t *req)
{
    json_int_t conn = json_integer_value(json_object_get(req, "conn"));
    for (size_t i = 0; i < json_array_size(cx->trevents); i++) {
        const json_t *ev = json_array_get(cx->trevents, i);
        if (is_type(ev, "conn-close") && json_integer_value(json_object_get(ev, "conn")) == conn) return ev;
    }
    return NULL;
}

/* The `end` event of the reply to this request: same connection, and `req` equal to the request's `n` when both
 * are recorded (else the first end on that connection after the request). */
static const json_t *end_of(const struct ch_jctx *cx, const json_t *req)
{
    json_int_t conn = json_integer_value(json_object_get(req, "conn"));
    const json_t *n = json_object_get(req, "n");
    double t0 = json_number_value(json_object_get(req, "t_us"));
    for (size_t i = 0; i < json_array_size(cx->trevents); i++) {
        const json_t *ev = json_array_get(cx->trevents, i), *rq = json_object_get(ev, "req");
        if (!is_type(ev, "end") || json_integer_value(json_object_get(ev, "conn")) != conn) continue;
        if (n && rq ? json_integer_value(rq) == json_integer_value(n) : json_number_value(json_object_get(ev, "t_us")) >= t0)
            return ev;
    }
    return NULL;
}

static void render_close(struct ch_text *t, const json_t *ev)
{
    const json_t *how = json_object_get(ev, "how");
    ch_text_printf(t, "closed by %s", json_string_value(json_object_get(ev, "by")));
    if (how) ch_text_printf(t, " (%s)", json_string_value(how));
}

enum ch_jstatus ch_jcheck_closed(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    const char *by = json_string_value(json_object_get(c->exp, "by"));
    const json_t *how = json_object_get(c->exp, "how");
    if (!by || (strcmp(by, "client") && strcmp(by, "server"))) return ch_jerror(c, "\"by\" must be client or server");
    if (how && !json_is_null(how) && !json_is_string(how)) return ch_jerror(c, "\"how\" must be a string");
    const char *h = json_string_value(how);
    ch_text_printf(&c->expected, "closed by %s", by);
    if (h) ch_text_printf(&c->expected, " (%s)", h);
    struct reqs r;
    struct sel s;
    collect_requests(cx, &r);
    long i = find_request(c, json_object_get(c->exp, "sel"), &r, &s);
    enum ch_jstatus st = i < 0 ? CH_J_ERROR : CH_J_FAIL;
    if (i >= 0 && (size_t)i < r.n) {
        const json_t *ev = close_of(cx, r.v[i]);
        long long conn = json_integer_value(json_object_get(r.v[i], "conn"));
        if (!ev) {
            ch_text_puts(&c->observed, "still open at the end of the transcript");
            ch_text_printf(&c->detail, "connection %lld", conn);
        } else {
            render_close(&c->observed, ev);
            ch_text_printf(&c->detail, "connection %lld closed at ", conn);
            ch_jtime(&c->detail, json_number_value(json_object_get(ev, "t_us")) / 1000.0);
            const char *got_how = json_string_value(json_object_get(ev, "how"));
            int ok = !strcmp(json_string_value(json_object_get(ev, "by")), by) && (!h || (got_how && !strcmp(got_how, h)));
            st = ok ? CH_J_PASS : CH_J_FAIL;
        }
    }
    reqs_free(&r);
    return st;
}

struct point {
    const char *at;
    struct sel sel;
    double t_ms;
};

/* "request(GET /slow)" */
static void render_point(struct ch_text *t, const struct point *p)
{
    ch_text_printf(t, "%s(", p->at);
    render_sel(t, &p->sel);
    ch_text_puts(t, ")");
}

static int point_parse(const json_t *j, struct point *p, char *err)
{
    p->at = json_string_value(json_object_get(j, "at"));
    if (!p->at || (strcmp(p->at, "request") && strcmp(p->at, "end") && strcmp(p->at, "closed")))
        return ch_errf(err, "a point's \"at\" must be request, end or closed");
    return sel_parse(json_object_get(j, "sel"), &p->sel, err);
}

/* Finds the point's time; 0 and a reason in `why` when the transcript has no such point. */
static int point_time(const struct ch_jctx *cx, const struct reqs *r, struct point *p, struct ch_text *why)
{
    size_t i = sel_find(r, &p->sel);
    const json_t *ev = i < r->n ? r->v[i] : NULL;
    if (ev && !strcmp(p->at, "end")) ev = end_of(cx, ev);
    else if (ev && !strcmp(p->at, "closed")) ev = close_of(cx, ev);
    if (!ev) {
        ch_text_puts(why, "no ");
        render_point(why, p);
        ch_text_puts(why, i < r->n ? " in the transcript" : " (no such request)");
        return 0;
    }
    p->t_ms = json_number_value(json_object_get(ev, "t_us")) / 1000.0;
    return 1;
}

static enum ch_jstatus interval_judge(const struct ch_jctx *cx, struct ch_jcheck *c, struct point *a,
                                      struct point *b, const struct ch_jbound *bound)
{
    struct reqs r;
    collect_requests(cx, &r);
    render_point(&c->expected, b);
    ch_text_puts(&c->expected, " ");
    ch_jbound_render(&c->expected, bound);
    ch_text_puts(&c->expected, " after ");
    render_point(&c->expected, a);
    int found = point_time(cx, &r, a, &c->observed) && point_time(cx, &r, b, &c->observed);
    reqs_free(&r);
    if (!found) return CH_J_FAIL;
    double dt = b->t_ms - a->t_ms;
    ch_jtime(&c->observed, dt);
    render_point(&c->detail, a);
    ch_text_puts(&c->detail, " at ");
    ch_jtime(&c->detail, a->t_ms);
    ch_text_puts(&c->detail, ", ");
    render_point(&c->detail, b);
    ch_text_puts(&c->detail, " at ");
    ch_jtime(&c->detail, b->t_ms);
    ch_text_puts(&c->detail, "; ");
    ch_jbound_allowed(&c->detail, bound);
    return ch_jbound_holds(bound, dt) ? CH_J_PASS : CH_J_FAIL;
}

enum ch_jstatus ch_jcheck_interval(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    struct ch_jbound bound;
    struct point a, b;
    if (ch_jbound_parse(cx, c->exp, &bound, err) < 0) return ch_jerror(c, "%s", err);
    if (point_parse(json_object_get(c->exp, "from"), &a, err) < 0) return ch_jerror(c, "from: %s", err);
    if (point_parse(json_object_get(c->exp, "to"), &b, err) < 0) return ch_jerror(c, "to: %s", err);
    return interval_judge(cx, c, &a, &b, &bound);
}

/* ---- the same readings, for the mutants (judge_mutate_server.c) ---- */

const json_t *ch_jselected(const struct ch_jctx *cx, const json_t *sel)
{
    char err[CH_ERR_LEN];
    struct reqs r;
    struct sel s;
    const json_t *ev = NULL;
    collect_requests(cx, &r);
    if (sel_parse(sel, &s, err) == 0) {
        size_t i = sel_find(&r, &s);
        if (i < r.n) ev = r.v[i];
    }
    reqs_free(&r);
    return ev;
}

int ch_jrequest_is(const json_t *req, const json_t *method, const json_t *path)
{
    return json_is_string(method) && json_is_string(path) && method_is(req, method) &&
           same(json_object_get(req, "path"), path);
}

const json_t *ch_jpoint_event(const struct ch_jctx *cx, const json_t *point)
{
    char err[CH_ERR_LEN];
    struct point p;
    if (point_parse(point, &p, err) < 0) return NULL;
    const json_t *req = ch_jselected(cx, json_object_get(point, "sel"));
    if (req && !strcmp(p.at, "end")) return end_of(cx, req);
    if (req && !strcmp(p.at, "closed")) return close_of(cx, req);
    return req;
}

const json_t *ch_jclose_of(const struct ch_jctx *cx, const json_t *req)
{
    return close_of(cx, req);
}
