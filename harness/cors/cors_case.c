/* cors_case.c — a `cors` section into routes, a client program and the oracle's summary (cors.h, cases/FORMAT.md
 * §7, MODEL.md §1.4). The expectations are cors_expect.c, which uses the prepared block from here. The oracle's input is built here: the page's origin and the URL's origin as
 * templates, the replies as the client will receive them (a Content-Length the section did not write is added
 * to both the route and the oracle's copy, so the client and the oracle see the same headers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "cors_case_int.h"
#include "core/core.h"

/* ---- the URL ------------------------------------------------------------------------------------------ */

int ch_cors_url_path(const char *url, char *path, size_t n, char *origin, char *err)
{
    if (strlen(url) < 4 || url[0] != '{' || !strchr("ABC", url[1]) || url[2] != '}' || url[3] != '/')
        return ch_errf(err, "a cors request URL starts with {A}, {B} or {C} and a path: {B}/r");
    size_t len = strcspn(url + 3, "?#");
    if (len >= n) return ch_errf(err, "the URL's path is too long");
    memcpy(path, url + 3, len);
    path[len] = '\0';
    if (strpbrk(path, "{}*")) return ch_errf(err, "the URL's path holds no placeholder and no '*'");
    *origin = url[1];
    return 0;
}

/* ---- checks on what the section wrote --------------------------------------------------------------- */

/* The reply headers the oracle reads byte for byte: no placeholder in their values. */
static int oracle_reads(const char *name)
{
    static const char *const names[] = {"access-control-allow-methods", "access-control-allow-headers",
                                        "access-control-expose-headers", "access-control-allow-credentials",
                                        "access-control-max-age", "content-length"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return 1;
    return 0;
}

static int check_reply_header(const char *which, const struct ch_cors_header *h, char *err)
{
    size_t at;
    char e2[CH_ERR_LEN];
    if (!ch_cors_is_header_name(h->name)) return ch_errf(err, "%s header name \"%.60s\" is not a token", which, h->name);
    if (memchr(h->value, '\0', h->len) || memchr(h->value, '\r', h->len) || memchr(h->value, '\n', h->len))
        return ch_errf(err, "%s header %.60s: a NUL, CR or LF in the value", which, h->name);
    if (oracle_reads(h->name) && (memchr(h->value, '{', h->len) || memchr(h->value, '}', h->len)))
        return ch_errf(err, "%s header %.60s holds no placeholder or brace: the oracle reads its bytes", which, h->name);
    if (ch_tmpl_check(h->value, h->len, "expect", &at, e2) != 0)
        return ch_errf(err, "%s header %.60s: %s", which, h->name, e2);
    return 0;
}

/* A body's length once its `{{` / `}}` escapes are filled; -1 when it holds a real placeholder. */
static long body_length(const char *b, size_t n)
{
    long len = 0;
    for (size_t i = 0; i < n; i++, len++) {
        if (b[i] != '{' && b[i] != '}') continue;
        if (i + 1 < n && b[i + 1] == b[i]) i++;
        else return -1;
    }
    return len;
}

static int null_body_status(int st)
{
    return st == 204 || st == 205 || st == 304;
}

static int check_reply(const char *which, const struct ch_cors_reply_spec *r, char *err)
{
    if (r->status < 200 || r->status > 999) return ch_errf(err, "%s status %d: a cors reply is 200-999", which, r->status);
    for (size_t i = 0; i < r->nheaders; i++)
        if (check_reply_header(which, &r->headers[i], err) != 0) return -1;
    if (r->body && body_length(r->body, r->body_len) < 0)
        return ch_errf(err, "%s body holds a placeholder (write {{ and }} for braces)", which);
    if (r->body && r->body_len && null_body_status(r->status))
        return ch_errf(err, "%s status %d has no body", which, r->status);
    return 0;
}

static int check_request(const struct ch_cors_block *b, char *err)
{
    if (b->api == CH_CORS_XHR && b->mode != CH_CORS_MODE_CORS) return ch_errf(err, "an xhr request has no mode");
    if (b->api == CH_CORS_XHR && b->credentials == CH_CORS_CREDS_OMIT)
        return ch_errf(err, "xhr credentials are include or same-origin (withCredentials true or false)");
    if (b->api != CH_CORS_XHR && b->upload) return ch_errf(err, "listen upload is an xhr step");
    for (size_t i = 0; i < b->nheaders; i++)
        if (memchr(b->headers[i].value, '{', b->headers[i].len) || memchr(b->headers[i].value, '}', b->headers[i].len))
            return ch_errf(err, "request header %.60s holds no placeholder or brace: the oracle reads its bytes",
                           b->headers[i].name);
    if (b->has_body && (memchr(b->body, '{', b->body_len) || memchr(b->body, '}', b->body_len)))
        return ch_errf(err, "the request body holds no placeholder or brace");
    for (size_t i = 0; i < b->ncookies; i++) {
        const char *c = b->cookies[i].name;
        size_t at;
        char e2[CH_ERR_LEN];
        if (!*c || strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-{}:") != strlen(c) ||
            ch_tmpl_check(c, strlen(c), "expect", &at, e2) != 0)
            return ch_errf(err, "cookie name \"%.60s\": letters, digits, '_', '-' and placeholders", c);
    }
    char *m = ch_cors_normalize_method(b->method);
    int options = strcmp(m, "OPTIONS") == 0;
    free(m);
    if (options) return ch_errf(err, "method OPTIONS would share the preflight's route: not in a cors section");
    return 0;
}

/* ---- the oracle's input -------------------------------------------------------------------------------- */

/* An Access-Control-Allow-Origin template as bytes comparable with the page's origin: {origin-X} is
 * http://{host-X}, {X} is http://{host-X}/c/{token}. */
static char *canonical_origin(const char *v, size_t n)
{
    char *r = ch_xmalloc(n * 14 + 1), *w = r; /* each 3-byte {X} grows to at most 25 bytes */
    for (size_t i = 0; i < n;) {
        if (n - i >= 10 && !memcmp(v + i, "{origin-", 8) && strchr("ABC", v[i + 8]) && v[i + 9] == '}') {
            w += sprintf(w, "http://{host-%c}", v[i + 8]);
            i += 10;
        } else if (n - i >= 3 && v[i] == '{' && strchr("ABC", v[i + 1]) && v[i + 2] == '}') {
            w += sprintf(w, "http://{host-%c}/c/{token}", v[i + 1]);
            i += 3;
        } else {
            *w++ = v[i++];
        }
    }
    *w = '\0';
    return r;
}

void cc_prepared_free(struct cc_prepared *p)
{
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < p->r[k].n; i++) free(p->r[k].owned[i]);
        free(p->r[k].owned);
        free(p->r[k].oracle);
        free(p->r[k].wire);
    }
    ch_cors_outcome_free(&p->out);
    ch_cors_outcome_free(&p->scratch);
}

/* One reply as the client gets it: the wire list (as written, plus Content-Length when the section wrote none
 * and the status has a body) and the oracle's copy (ACAO canonical). */
static void prepare_reply(const struct ch_cors_reply_spec *s, struct cc_reply *r)
{
    long blen = s->body ? body_length(s->body, s->body_len) : 0;
    int add_cl = !null_body_status(s->status);
    for (size_t i = 0; i < s->nheaders; i++)
        if (!strcasecmp(s->headers[i].name, "Content-Length") || !strcasecmp(s->headers[i].name, "Transfer-Encoding"))
            add_cl = 0;
    size_t n = s->nheaders + (size_t)add_cl;
    r->wire = ch_xcalloc(n, sizeof *r->wire);
    r->oracle = ch_xcalloc(n, sizeof *r->oracle);
    r->owned = ch_xcalloc(n, sizeof *r->owned);
    for (size_t i = 0; i < s->nheaders; i++) {
        r->wire[i] = r->oracle[i] = s->headers[i];
        if (strcasecmp(s->headers[i].name, "Access-Control-Allow-Origin") != 0) continue;
        r->owned[r->n++] = canonical_origin(s->headers[i].value, s->headers[i].len);
        r->oracle[i].value = r->owned[r->n - 1];
        r->oracle[i].len = strlen(r->owned[r->n - 1]);
    }
    if (add_cl) {
        snprintf(r->cl, sizeof r->cl, "%ld", blen);
        r->wire[n - 1] = r->oracle[n - 1] = (struct ch_cors_header){"Content-Length", r->cl, strlen(r->cl)};
    }
    r->count = n;
    r->reply = (struct ch_cors_reply){s->status, r->oracle, n};
}

/* The names script reads back: every distinct name of the actual reply. On a network error or an opaque
 * response none is readable; the oracle's exposure list is then empty, so the names come from a scratch run of
 * the exposure rules and are all marked hidden. */
static void reads(struct cc_prepared *p)
{
    if (!p->out.network_error && !p->out.opaque) {
        p->reads = p->out.headers;
        p->nreads = p->out.nheaders;
        return;
    }
    ch_cors_exposure(&p->r[1].reply, 0, 0, &p->scratch);
    for (size_t i = 0; i < p->scratch.nheaders; i++) {
        struct ch_cors_exposure *x = &p->scratch.headers[i];
        x->exposed = 0;
        x->why = p->out.result;
        x->why.rule = p->out.opaque ? CH_CORS_R_OPAQUE : CH_CORS_R_EXPOSE_NETWORK_ERROR;
    }
    p->reads = p->scratch.headers;
    p->nreads = p->scratch.nheaders;
}

int cc_prepare(const struct ch_cors_block *b, struct cc_prepared *p, char *err)
{
    memset(p, 0, sizeof *p);
    p->out.max_age = p->scratch.max_age = -1;
    if (ch_cors_url_path(b->url, p->path, sizeof p->path, &p->target, err) != 0) return -1;
    if (!strchr("ABC", b->page)) return ch_errf(err, "the page is A, B or C");
    if (check_request(b, err) != 0) return -1;
    if (!b->act.present) return ch_errf(err, "a cors section scripts the actual reply (actual status ...)");
    if (check_reply("actual", &b->act, err) != 0) return -1;
    if (b->pre.present && check_reply("preflight", &b->pre, err) != 0) return -1;
    snprintf(p->origin, sizeof p->origin, "http://{host-%c}", b->page);
    snprintf(p->url_origin, sizeof p->url_origin, "http://{host-%c}", p->target);
    prepare_reply(&b->act, &p->r[1]);
    if (b->pre.present) prepare_reply(&b->pre, &p->r[0]);
    struct ch_cors_request rq = {b->api, p->origin, p->url_origin, b->method, b->headers, b->nheaders,
                                 b->credentials, b->mode, b->upload, b->has_body};
    char e2[CH_ERR_LEN];
    if (ch_cors_evaluate(&rq, b->pre.present ? &p->r[0].reply : NULL, &p->r[1].reply, &p->out, e2) != 0)
        return ch_errf(err, "the CORS oracle refuses this request: %s", e2);
    reads(p);
    return 0;
}

int ch_cors_block_check(const struct ch_cors_block *b, struct ch_cors_outcome *out, char *err)
{
    struct cc_prepared p;
    int rc = cc_prepare(b, &p, err);
    *out = p.out;
    memset(&p.out, 0, sizeof p.out);
    cc_prepared_free(&p);
    return rc;
}

/* ---- routes ------------------------------------------------------------------------------------------- */

static json_t *text_or_hex(const char *s, size_t n)
{
    json_t *j = json_object();
    ch_json_set_bytes(j, s, n);
    return j;
}

static json_t *route(const char *method, const char *path, char origin, const struct ch_cors_reply_spec *s,
                     const struct cc_reply *r, int head)
{
    json_t *steps = json_array();
    json_array_append_new(steps, json_pack("{s:s, s:i, s:s, s:i}", "op", "status", "code", s->status, "reason",
                                           s->reason ? s->reason : "", "line", s->line));
    for (size_t i = 0; i < r->count; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s, s:s%, s:i}", "op", "header", "name", r->wire[i].name,
                                               "value", r->wire[i].value, r->wire[i].len, "line", s->line));
    if (s->body && s->body_len && !head) {
        json_t *body = text_or_hex(s->body, s->body_len);
        if (!body) return json_decref(steps), NULL;
        json_object_set_new(body, "op", json_string("body"));
        json_object_set_new(body, "line", json_integer(s->line));
        json_array_append_new(steps, body);
    }
    char o[2] = {origin, 0};
    return json_pack("{s:s, s:s, s:b, s:n, s:b, s:s, s:i, s:o}", "method", method, "path", path, "prefix", 0, "nth",
                     "nth_plus", 0, "origin", o, "line", s->line, "steps", steps);
}

/* ---- the client program ----------------------------------------------------------------------------------- */

static json_t *xhr_steps(const struct ch_cors_block *b, const struct cc_prepared *p)
{
    json_t *s = json_array();
    int l = b->request_line;
    json_array_append_new(s, json_pack("{s:s, s:s, s:i}", "obj", b->obj, "op", "new", "line", l));
    json_array_append_new(s, json_pack("{s:s, s:s, s:s, s:s, s:b, s:i}", "obj", b->obj, "op", "open", "method",
                                       b->method, "url", b->url, "async", 1, "line", l));
    for (size_t i = 0; i < b->nheaders; i++)
        json_array_append_new(s, json_pack("{s:s, s:s, s:s, s:s%, s:i}", "obj", b->obj, "op", "header", "name",
                                           b->headers[i].name, "value", b->headers[i].value, b->headers[i].len,
                                           "line", l));
    if (b->credentials == CH_CORS_CREDS_INCLUDE)
        json_array_append_new(s, json_pack("{s:s, s:s, s:s, s:b, s:i}", "obj", b->obj, "op", "set", "prop",
                                           "withCredentials", "value", 1, "line", l));
    if (b->upload)
        json_array_append_new(s, json_pack("{s:s, s:s, s:s, s:i}", "obj", b->obj, "op", "listen", "target", "upload",
                                           "line", l));
    json_t *send = json_pack("{s:s, s:s, s:i}", "obj", b->obj, "op", "send", "line", l);
    if (b->has_body)
        json_object_set_new(send, "body", json_pack("{s:s, s:s%}", "type", "text", "value", b->body, b->body_len));
    json_array_append_new(s, send);
    json_array_append_new(s, json_pack("{s:s, s:s, s:{s:s}, s:i, s:i}", "obj", b->obj, "op", "await", "event",
                                       "type", "loadend", "count", 1, "line", l));
    for (size_t i = 0; i < p->nreads; i++)
        json_array_append_new(s, json_pack("{s:s, s:s, s:s, s:i}", "obj", b->obj, "op", "get-header", "name",
                                           p->reads[i].name, "line", l));
    return s;
}

static const char *const mode_names[] = {"cors", "no-cors", "same-origin"};
static const char *const cred_names[] = {"omit", "same-origin", "include"};

static json_t *fetch_steps(const struct ch_cors_block *b)
{
    json_t *s = json_array(), *headers = json_array();
    int l = b->request_line;
    json_array_append_new(s, json_pack("{s:s, s:s, s:i}", "obj", b->obj, "op", "new", "line", l));
    for (size_t i = 0; i < b->nheaders; i++)
        json_array_append_new(headers, json_pack("[s, s%]", b->headers[i].name, b->headers[i].value, b->headers[i].len));
    json_t *f = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:i}", "obj", b->obj, "op", "fetch", "method", b->method,
                          "url", b->url, "mode", mode_names[b->mode], "credentials", cred_names[b->credentials],
                          "headers", headers, "line", l);
    if (b->has_body) json_object_set_new(f, "body", json_stringn(b->body, b->body_len));
    json_array_append_new(s, f);
    /* The fetch is over at its last event: the body, the body's error, or the rejection (a resolve has one of the
     * first two after it). The program waits for that, not for the settle time after the resolve: a busy page
     * may read a two-byte body hundreds of milliseconds after the resolve (Chromium did, 2026-12-06). */
    json_array_append_new(s, json_pack("{s:s, s:s, s:{s:s}, s:[sss], s:i, s:i}", "obj", b->obj, "op", "await",
                                       "event", "type", ".", "any_of", "body", "error", "reject", "count", 1,
                                       "line", l));
    return s;
}


/* ---- the summary ---------------------------------------------------------------------------------------- */

static json_t *decision(const struct ch_cors_decision *d)
{
    const struct ch_cors_rule *r = ch_cors_rule(d->rule);
    return json_pack("{s:s, s:s, s:s, s:s}", "rule", r->id, "text", r->text, "spec", r->anchor, "detail", d->detail);
}

/* The `cors` object of the case JSON (MODEL.md §1.4): what the oracle decided for the block. */
static json_t *outcome_json(const struct ch_cors_block *b, const struct cc_prepared *p)
{
    const struct ch_cors_outcome *o = &p->out;
    json_t *exposed = json_array(), *hidden = json_array(), *dropped = json_array();
    for (size_t i = 0; i < p->nreads; i++)
        json_array_append_new(p->reads[i].exposed ? exposed : hidden, json_string(p->reads[i].name));
    for (size_t i = 0; i < o->dropped.n; i++) json_array_append_new(dropped, json_string(o->dropped.v[i]));
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:b, s:b, s:b, s:b, s:i, s:o, s:o, s:o, s:o}",
                          "obj", b->obj, "api", b->api == CH_CORS_XHR ? "xhr" : "fetch", "url", b->url, "path", p->path,
                          "method", o->method, "preflight", o->preflight, "why", decision(&o->why_preflight),
                          "actual_sent", o->actual_sent, "credentials", o->credentials, "network_error",
                          o->network_error, "opaque", o->opaque, "status", o->status, "result", decision(&o->result),
                          "exposed", exposed, "hidden", hidden, "dropped", dropped);
    json_object_set_new(s, "acrm", o->acrm ? json_string(o->acrm) : json_null());
    json_object_set_new(s, "acrh", o->acrh ? json_string(o->acrh) : json_null());
    json_object_set_new(s, "preflight_ok", o->preflight ? json_boolean(o->preflight_ok) : json_null());
    json_object_set_new(s, "preflight_result", o->preflight ? decision(&o->preflight_result) : json_null());
    json_object_set_new(s, "max_age", o->preflight && o->preflight_ok ? json_integer(o->max_age) : json_null());
    return s;
}

int ch_cors_block_compile(const struct ch_cors_block *b, json_t *routes, json_t *objects, json_t *steps,
                          json_t *caps, json_t **summary, char *err)
{
    struct cc_prepared p;
    *summary = NULL;
    if (cc_prepare(b, &p, err) != 0) {
        cc_prepared_free(&p);
        return -1;
    }
    int head = strcmp(p.out.method, "HEAD") == 0;
    json_t *rs = json_array();
    if (b->pre.present) json_array_append_new(rs, route("OPTIONS", p.path, p.target, &b->pre, &p.r[0], 0));
    json_array_append_new(rs, route(p.out.method, p.path, p.target, &b->act, &p.r[1], head));
    json_t *st = b->api == CH_CORS_XHR ? xhr_steps(b, &p) : fetch_steps(b);
    json_array_extend(routes, rs);
    json_array_extend(steps, st);
    json_decref(rs);
    json_decref(st);
    json_array_append_new(objects, json_pack("{s:s, s:s}", "name", b->obj, "kind", b->api == CH_CORS_XHR ? "xhr" : "fetch"));
    json_array_append_new(caps, json_string(b->api == CH_CORS_XHR ? "xhr" : "fetch"));
    if (b->upload) json_array_append_new(caps, json_string("xhr-upload"));
    if (b->ncookies) json_array_append_new(caps, json_string("cookies"));
    *summary = outcome_json(b, &p);
    cc_prepared_free(&p);
    return 0;
}
