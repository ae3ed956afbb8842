/* judge_mutate_server.c — mutants of a transcript targeted at one server expectation (judge_mutate.c says what
 * a mutant may change and why). The request a selector picks is found as the check finds it (judge_server.c);
 * its header, body, query or close is changed, never the request itself, which is the check's subject. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "judge_int.h"
#include "core/core.h"

static const json_t *tev(const struct ch_jmut *m, size_t k)
{
    return json_array_get(m->cx.trevents, k);
}

static int is_request(const json_t *ev)
{
    const char *t = json_string_value(json_object_get(ev, "type"));
    return t && !strcmp(t, "request");
}

/* The index of a transcript event (borrowed from it) in the transcript, or SIZE_MAX. */
static size_t index_of(const struct ch_jmut *m, const json_t *ev)
{
    for (size_t k = 0; ev && k < json_array_size(m->cx.trevents); k++)
        if (tev(m, k) == ev) return k;
    return (size_t)-1;
}

/* "GET /x" */
static void describe(char *out, size_t n, const json_t *req)
{
    snprintf(out, n, "%s %s", json_string_value(json_object_get(req, "method")),
             json_string_value(json_object_get(req, "path")));
}

/* ---- requests, request-count ---- */

/* A request the vocabulary lists ([method, path], what real clients sent in this case or the case's routes
 * answer), as a transcript event after the last one; `method` NULL or "*": the listed method. NULL when the
 * vocabulary has none for that path (`path` NULL: any). */
static json_t *vocab_request(const struct ch_jmut *m, const char *method, const char *path)
{
    const json_t *v;
    size_t k;
    json_array_foreach(json_object_get(m->vocab, "requests"), k, v) {
        const char *vm = json_string_value(json_array_get(v, 0)), *vp = json_string_value(json_array_get(v, 1));
        if (!vm || !vp || (path && strcmp(path, vp) != 0)) continue;
        const char *use = method && strcmp(method, "*") != 0 ? method : vm;
        size_t n = json_array_size(m->cx.trevents);
        const json_t *last = n ? tev(m, n - 1) : NULL;
        json_t *t = last ? json_incref(json_object_get(last, "t_us")) : json_integer(0);
        return json_pack("{s:s, s:o, s:I, s:I, s:s, s:s, s:s, s:[], s:I, s:b}", "type", "request", "t_us", t, "conn",
                         (json_int_t)1000000, "n", (json_int_t)1, "method", use, "path", vp, "target", vp, "headers",
                         "body_size", (json_int_t)0, "unmatched", 0);
    }
    return NULL;
}

static void add_request(struct ch_jmut *m, const char *method, const char *path)
{
    json_t *req = vocab_request(m, method, path);
    char what[200];
    if (!req) return;
    describe(what, sizeof what, req);
    ch_jmut_tr(m, ch_jmut_inserted(m->cx.trevents, json_array_size(m->cx.trevents), req), "add a request %s", what);
}

void ch_jmut_requests(struct ch_jmut *m)
{
    size_t total = json_array_size(m->cx.trevents), n = 0, *ri = ch_xmalloc((total + 1) * sizeof *ri);
    char what[200], other[200];
    for (size_t k = 0; k < total; k++)
        if (is_request(tev(m, k))) ri[n++] = k;
    if (n == 0) add_request(m, NULL, NULL);
    for (size_t k = 0; k < n && !m->killed; k++) {
        describe(what, sizeof what, tev(m, ri[k]));
        ch_jmut_tr(m, ch_jmut_without(m->cx.trevents, ri[k]), "remove request %zu (%s)", k + 1, what);
        ch_jmut_tr(m, ch_jmut_inserted(m->cx.trevents, ri[k] + 1, json_incref((json_t *)tev(m, ri[k]))),
                   "repeat request %zu (%s)", k + 1, what);
        if (k + 1 == n) break;
        describe(other, sizeof other, tev(m, ri[k + 1]));
        if (strcmp(what, other) != 0)
            ch_jmut_tr(m, ch_jmut_swapped(m->cx.trevents, ri[k], ri[k + 1], "t_us"),
                       "swap requests %zu (%s) and %zu (%s)", k + 1, what, k + 2, other);
    }
    free(ri);
}

void ch_jmut_request_count(struct ch_jmut *m)
{
    const json_t *method = json_object_get(m->exp, "method"), *path = json_object_get(m->exp, "path");
    size_t last = (size_t)-1, n = 0;
    char what[200];
    for (size_t k = 0; k < json_array_size(m->cx.trevents); k++)
        if (is_request(tev(m, k)) && ch_jrequest_is(tev(m, k), method, path)) last = k, n++;
    if (n == 0) {
        add_request(m, json_string_value(method), json_string_value(path));
        return;
    }
    describe(what, sizeof what, tev(m, last));
    ch_jmut_tr(m, ch_jmut_without(m->cx.trevents, last), "remove the last %s of %zu", what, n);
    ch_jmut_tr(m, ch_jmut_inserted(m->cx.trevents, last + 1, json_incref((json_t *)tev(m, last))), "repeat the last %s",
               what);
}

/* ---- request-header ---- */

/* The selected request and its index in the transcript; 0 when the selector picks none. */
static int selected(const struct ch_jmut *m, const json_t **req, size_t *at)
{
    *req = ch_jselected(&m->cx, json_object_get(m->exp, "sel"));
    *at = index_of(m, *req);
    return *req && *at != (size_t)-1;
}

/* A copy of the request with its headers named `name` removed, and when `value` is given, the first of them
 * (or, with none, a new one at the end) set to it (taken). */
static json_t *with_header(const json_t *req, const char *name, json_t *value)
{
    json_t *copy = json_deep_copy(req), *headers = json_array(), *h;
    size_t k;
    json_array_foreach(json_object_get(copy, "headers"), k, h) {
        if (strcasecmp(json_string_value(json_array_get(h, 0)), name) != 0) {
            json_array_append(headers, h);
        } else if (value) {
            json_array_append_new(headers, json_pack("[O, o]", json_array_get(h, 0), value));
            value = NULL;
        }
    }
    if (value) json_array_append_new(headers, json_pack("[s, o]", name, value));
    json_object_set_new(copy, "headers", headers);
    return copy;
}

static const json_t *first_header(const json_t *req, const char *name)
{
    const json_t *h;
    size_t k;
    json_array_foreach(json_object_get(req, "headers"), k, h)
        if (!strcasecmp(json_string_value(json_array_get(h, 0)), name)) return json_array_get(h, 1);
    return NULL;
}

void ch_jmut_request_header(struct ch_jmut *m)
{
    const json_t *req, *v;
    size_t at, k;
    const char *name = json_string_value(json_object_get(m->exp, "name"));
    const char *op = json_string_value(json_object_get(m->exp, "op"));
    char what[200];
    if (!name || !op || !selected(m, &req, &at)) return;
    describe(what, sizeof what, req);
    if (!strcmp(op, "absent")) {
        json_array_foreach(json_object_get(m->vocab, "headers"), k, v) {
            if (strcasecmp(json_string_value(json_array_get(v, 0)), name) != 0) continue;
            json_t *with = with_header(req, name, json_incref(json_array_get(v, 1)));
            ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with), "add %s: %.80s to %s", name,
                       json_string_value(json_array_get(v, 1)), what);
            return;
        }
        return;
    }
    const json_t *first = first_header(req, name);
    if (first && strcmp(op, "present") != 0)
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_header(req, name, ch_jmut_other(first))),
                   "change the value of %s in %s", name, what);
    if (first && !strcmp(op, "match"))
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_header(req, name, json_string(""))),
                   "empty the value of %s in %s", name, what);
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_header(req, name, NULL)), "remove %s from %s", name, what);
}

/* ---- request-body, request-query ---- */

/* A copy of the request whose body is `text` (n bytes; NULL: the same size, but not kept as text — binary —
 * and another digest). */
static json_t *with_body(const json_t *req, const char *text, size_t n)
{
    json_t *copy = json_deep_copy(req);
    char hex[CH_SHA256_HEX_SIZE];
    if (text) {
        ch_sha256_hex(text, n, hex);
        json_object_set_new(copy, "body_text", json_stringn_nocheck(text, n));
        json_object_set_new(copy, "body_size", json_integer((json_int_t)n));
    } else {
        const char *sha = json_string_value(json_object_get(req, "body_sha256"));
        snprintf(hex, sizeof hex, "%s", sha && strlen(sha) == 64 ? sha : "");
        if (!hex[0]) ch_sha256_hex("", 0, hex);
        hex[0] = hex[0] == '0' ? '1' : '0';
        json_object_del(copy, "body_text");
    }
    json_object_set_new(copy, "body_sha256", json_string(hex));
    return copy;
}

void ch_jmut_request_body(struct ch_jmut *m)
{
    const json_t *req;
    size_t at;
    const char *op = json_string_value(json_object_get(m->exp, "op"));
    char what[200];
    if (!op || !selected(m, &req, &at)) return;
    describe(what, sizeof what, req);
    const json_t *text = json_object_get(req, "body_text");
    size_t n = json_string_length(text);
    char *b = ch_xmalloc(n + 2);
    memcpy(b, json_string_value(text) ? json_string_value(text) : "", n);
    if (json_is_string(text) && n > 0 && (unsigned char)b[n - 1] < 0x80) {
        b[n - 1] = b[n - 1] == 'x' ? 'y' : 'x';
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_body(req, b, n)), "change the last body byte of %s",
                   what);
        b[n - 1] = json_string_value(text)[n - 1];
    }
    if (json_is_string(text)) {
        b[n] = 'x';
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_body(req, b, n + 1)), "add a body byte to %s", what);
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_body(req, "", 0)), "empty the body of %s", what);
    }
    if (!json_is_string(text) && !strcmp(op, "size")) {
        json_t *copy = json_deep_copy(req);
        json_object_set_new(copy, "body_size", json_integer(json_integer_value(json_object_get(req, "body_size")) + 1));
        ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, copy), "add a body byte to %s", what);
    }
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_body(req, NULL, 0)), "make the body of %s other bytes",
               what);
    free(b);
}

/* A copy of the request whose target has the query `q` (NULL: none). */
static json_t *with_query(const json_t *req, const char *q)
{
    const char *t = json_string_value(json_object_get(req, "target"));
    size_t cut = strcspn(t, "?");
    char *s = ch_xmalloc(cut + (q ? strlen(q) + 2 : 1));
    memcpy(s, t, cut);
    s[cut] = '\0';
    if (q) sprintf(s + cut, "?%s", q);
    json_t *copy = json_deep_copy(req);
    json_object_set_new(copy, "target", json_string(s));
    free(s);
    return copy;
}

void ch_jmut_request_query(struct ch_jmut *m)
{
    const json_t *req;
    size_t at;
    const char *op = json_string_value(json_object_get(m->exp, "op"));
    char what[200];
    if (!op || !selected(m, &req, &at) || !json_is_string(json_object_get(req, "target"))) return;
    describe(what, sizeof what, req);
    const char *q = strchr(json_string_value(json_object_get(req, "target")), '?');
    if (!strcmp(op, "absent")) {
        const char *vq = json_string_value(json_array_get(json_object_get(m->vocab, "queries"), 0));
        if (vq)
            ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_query(req, vq)), "add the query ?%.80s to %s", vq,
                       what);
        return;
    }
    if (!q) return;
    json_t *longer = json_string(q + 1), *other = ch_jmut_other(longer);
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_query(req, json_string_value(other))),
               "change the query of %s", what);
    json_decref(longer);
    json_decref(other);
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_query(req, "")), "empty the query of %s", what);
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, with_query(req, NULL)), "remove the query of %s", what);
}

/* ---- closed, interval, ws-close ---- */

void ch_jmut_closed(struct ch_jmut *m)
{
    const json_t *req;
    size_t at;
    char what[200];
    if (!selected(m, &req, &at)) return;
    const json_t *close = ch_jclose_of(&m->cx, req);
    size_t ci = index_of(m, close);
    if (ci == (size_t)-1) return;
    describe(what, sizeof what, req);
    const char *by = json_string_value(json_object_get(close, "by"));
    const char *how = json_string_value(json_object_get(close, "how"));
    json_t *c = json_deep_copy(close);
    json_object_set_new(c, "by", json_string(by && !strcmp(by, "client") ? "server" : "client"));
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, ci, c), "the other side closes the connection of %s", what);
    c = json_deep_copy(close);
    json_object_set_new(c, "how", json_string(how && !strcmp(how, "fin") ? "rst" : "fin"));
    ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, ci, c), "close the connection of %s by %s", what,
               how && !strcmp(how, "fin") ? "rst" : "fin");
    ch_jmut_tr(m, ch_jmut_without(m->cx.trevents, ci), "leave the connection of %s open", what);
}

void ch_jmut_interval(struct ch_jmut *m)
{
    const json_t *from = ch_jpoint_event(&m->cx, json_object_get(m->exp, "from"));
    const json_t *to = ch_jpoint_event(&m->cx, json_object_get(m->exp, "to"));
    size_t j = index_of(m, to);
    if (!from || j == (size_t)-1 || from == to) return;
    ch_jmut_times(m, m->cx.trevents, j, "t_us", json_number_value(json_object_get(from, "t_us")), 1000, 1,
                  json_string_value(json_object_get(to, "type")));
}

void ch_jmut_ws_close(struct ch_jmut *m)
{
    const json_t *sum = ch_jws_summary(&m->cx, json_object_get(m->exp, "sel")), *v;
    size_t at = index_of(m, sum);
    const char *path;
    if (at == (size_t)-1) return;
    json_object_foreach((json_t *)json_object_get(m->exp, "props"), path, v) {
        json_t *c = ch_jmut_changed(sum, NULL, path);
        if (c) ch_jmut_tr(m, ch_jmut_replaced(m->cx.trevents, at, c), "change %s of the ws-close summary", path);
    }
}
