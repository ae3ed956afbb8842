/* cors_expect.c — the expectations of an `expect cors` section (cors.h, cases/FORMAT.md §7.3): the CORS
 * oracle's outcome for one cell written as the judge's ordinary expectation kinds (harness/MODEL.md §1.3),
 * each with the rule that produced it and its spec anchor. Also the `cors` summary of the case JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "cors_case_int.h"
#include "core/core.h"

struct gen {
    const struct ch_cors_block *b;
    const struct cc_prepared *p;
    int line;
    const char *level, *note;
    json_t *out;
    int count;
};

/* Completes e (MODEL.md §1.3) with the rule text "[note — ][lead ]ID: TEXT (detail)" and appends it. */
static void emit(struct gen *g, json_t *e, const char *text, enum ch_cors_rule_id rule, const char *lead,
                 const char *detail)
{
    const struct ch_cors_rule *r = ch_cors_rule(rule);
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s%s%s: %s%s%s%s", g->note ? g->note : "", g->note ? " — " : "",
             lead ? lead : "", lead ? " " : "", r->id, r->text, detail && *detail ? " (" : "",
             detail && *detail ? detail : "", detail && *detail ? ")" : "");
    json_object_set_new(e, "line", json_integer(g->line));
    json_object_set_new(e, "text", json_string(text));
    json_object_set_new(e, "rule", json_string(buf));
    json_object_set_new(e, "spec", json_string(r->anchor));
    json_object_set_new(e, "level", json_string(g->level));
    json_array_append_new(g->out, e);
    g->count++;
}

static void emitd(struct gen *g, json_t *e, const char *text, const struct ch_cors_decision *d, const char *lead)
{
    emit(g, e, text, d->rule, lead, d->detail);
}

/* ---- patterns ----------------------------------------------------------------------------------------- */

static json_t *A(const char *type)
{
    return json_pack("{s:{s:s}}", "atom", "type", type);
}

static json_t *RS(int n)
{
    return json_pack("{s:{s:s, s:i}}", "atom", "type", "readystatechange", "arg", n);
}

static json_t *REP(json_t *p, int min)
{
    return json_pack("{s:o, s:i, s:n}", "repeat", p, "min", min, "max");
}

static json_t *ALT(json_t *a, json_t *b)
{
    return json_pack("{s:[o, o]}", "alt", a, b);
}

static json_t *SEQ(json_t *items)
{
    return json_pack("{s:o}", "seq", items);
}

static void push(json_t *seq, json_t *p)
{
    json_array_append_new(seq, p);
}

/* Upload events fire only with listeners and a body (XHR send(): no body, no upload events). */
static int upload_events(const struct gen *g)
{
    const char *m = g->p->out.method;
    return g->b->upload && g->b->has_body && strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0;
}

/* XHR: success is `1 loadstart [upload ok] 2 (3|progress)* 4 load loadend`; a network error follows the request
 * error steps (https://xhr.spec.whatwg.org/#request-error-steps: readyState 4, then, if the upload was not
 * complete and had listeners, the upload's error and loadend, then error and loadend; never load):
 * `1 loadstart [u.loadstart] 4 [u.error u.loadend] error loadend`, where a body already sent (the actual request
 * failed its CORS check) may instead have completed its upload. */
static json_t *xhr_pattern(const struct gen *g, char *text, size_t n)
{
    json_t *s = json_array();
    int up = upload_events(g);
    const struct ch_cors_outcome *o = &g->p->out;
    push(s, RS(1));
    push(s, A("loadstart"));
    if (!o->network_error) {
        if (up) {
            push(s, A("upload.loadstart"));
            push(s, REP(A("upload.progress"), 0));
            push(s, A("upload.load"));
            push(s, A("upload.loadend"));
        }
        push(s, RS(2));
        push(s, REP(ALT(RS(3), A("progress")), 0));
        push(s, RS(4));
        push(s, A("load"));
        snprintf(text, n, "events readystatechange(1) loadstart%s readystatechange(2) (readystatechange(3) | "
                 "progress)* readystatechange(4) load loadend", up ? " upload.loadstart upload.progress* upload.load "
                 "upload.loadend" : "");
    } else if (up && o->actual_sent) {
        json_t *done = json_array(), *failed = json_array();
        push(s, A("upload.loadstart"));
        push(done, REP(A("upload.progress"), 0));
        push(done, A("upload.load"));
        push(done, A("upload.loadend"));
        push(done, RS(4));
        push(failed, RS(4));
        push(failed, A("upload.error"));
        push(failed, A("upload.loadend"));
        push(s, ALT(SEQ(done), SEQ(failed)));
        push(s, A("error"));
        snprintf(text, n, "events readystatechange(1) loadstart upload.loadstart (upload.progress* upload.load "
                 "upload.loadend readystatechange(4) | readystatechange(4) upload.error upload.loadend) error loadend");
    } else {
        if (up) push(s, A("upload.loadstart"));
        push(s, RS(4));
        if (up) push(s, A("upload.error")), push(s, A("upload.loadend"));
        push(s, A("error"));
        snprintf(text, n, "events readystatechange(1) loadstart%s readystatechange(4)%s error loadend",
                 up ? " upload.loadstart" : "", up ? " upload.error upload.loadend" : "");
    }
    push(s, A("loadend"));
    return SEQ(s);
}

/* ---- client ------------------------------------------------------------------------------------------- */

static void client_xhr(struct gen *g)
{
    const struct ch_cors_outcome *o = &g->p->out;
    char text[512];
    json_t *pat = xhr_pattern(g, text, sizeof text);
    emitd(g, json_pack("{s:s, s:s, s:o}", "kind", "events", "obj", g->b->obj, "pattern", pat), text, &o->result, NULL);
    snprintf(text, sizeof text, "final readyState=4 status=%d", o->status);
    emitd(g, json_pack("{s:s, s:s, s:{s:i, s:i}}", "kind", "final", "obj", g->b->obj, "props", "readyState", 4,
                       "status", o->status), text, &o->result, NULL);
    for (size_t i = 0; i < g->p->nreads; i++) {
        const struct ch_cors_exposure *x = &g->p->reads[i];
        char prop[300];
        snprintf(prop, sizeof prop, "header:%s", x->name);
        json_t *v = x->exposed ? json_stringn(x->value, x->len) : json_null();
        if (x->exposed) snprintf(text, sizeof text, "at read#%zu %.200s=\"%.200s\"", i + 1, prop, x->value);
        else snprintf(text, sizeof text, "at read#%zu %.200s=null", i + 1, prop);
        json_t *e = json_pack("{s:s, s:s, s:{s:s}, s:i, s:{s:o}}", "kind", "at", "obj", g->b->obj, "atom", "type",
                              "read", "nth", (int)(i + 1), "props", prop, v);
        emitd(g, e, text, &x->why, x->exposed ? "getResponseHeader() shows it:" : "getResponseHeader() is null:");
    }
}

static void client_fetch(struct gen *g)
{
    const struct ch_cors_outcome *o = &g->p->out;
    char text[512];
    if (o->network_error) {
        json_t *pat = json_pack("{s:{s:s, s:s}}", "atom", "type", "reject", "arg", "TypeError");
        emitd(g, json_pack("{s:s, s:s, s:o}", "kind", "events", "obj", g->b->obj, "pattern", pat),
              "events reject(TypeError)", &o->result, NULL);
        return;
    }
    json_t *pat = SEQ(json_pack("[o, o]", A("resolve"), A("body")));
    emitd(g, json_pack("{s:s, s:s, s:o}", "kind", "events", "obj", g->b->obj, "pattern", pat), "events resolve body",
          &o->result, NULL);
    const char *type = o->opaque ? "opaque" : o->cross_origin ? "cors" : "basic";
    snprintf(text, sizeof text, "at resolve status=%d type=%s", o->status, type);
    emitd(g, json_pack("{s:s, s:s, s:{s:s}, s:n, s:{s:i, s:s}}", "kind", "at", "obj", g->b->obj, "atom", "type",
                       "resolve", "nth", "props", "status", o->status, "type", type), text, &o->result, NULL);
    json_t *pairs = json_array();
    char names[256] = "";
    for (size_t i = 0; i < g->p->nreads; i++) {
        const struct ch_cors_exposure *x = &g->p->reads[i];
        if (!x->exposed) continue;
        json_array_append_new(pairs, json_pack("[s, s%]", x->name, x->value, x->len));
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", *names ? "," : "", x->name);
    }
    snprintf(text, sizeof text, "at resolve headers=[%s]", names);
    struct ch_cors_decision d = {o->opaque ? CH_CORS_R_OPAQUE : CH_CORS_R_EXPOSE_NOT_LISTED, ""};
    snprintf(d.detail, sizeof d.detail, "readable: %.200s", *names ? names : "none");
    if (!o->opaque && !o->cross_origin) d.rule = CH_CORS_R_EXPOSE_BASIC;
    emitd(g, json_pack("{s:s, s:s, s:{s:s}, s:n, s:{s:o}}", "kind", "at", "obj", g->b->obj, "atom", "type", "resolve",
                       "nth", "props", "headers", pairs), text, &d, "Headers shows exactly the readable names:");
}

/* ---- server ------------------------------------------------------------------------------------------- */

static json_t *sel(const char *method, const char *path)
{
    return json_pack("{s:s, s:s, s:n}", "method", method, "path", path, "n");
}

static void count(struct gen *g, const char *method, int n, const struct ch_cors_decision *d, const char *lead)
{
    char text[320];
    snprintf(text, sizeof text, "count %s %s %d", method, g->p->path, n);
    emitd(g, json_pack("{s:s, s:s, s:s, s:i}", "kind", "request-count", "method", method, "path", g->p->path, "n", n),
          text, d, lead);
}

static void header(struct gen *g, const char *method, const char *name, const char *op, const char *value,
                   size_t len, enum ch_cors_rule_id rule, const char *detail)
{
    char text[512];
    json_t *e = json_pack("{s:s, s:o, s:s, s:s}", "kind", "request-header", "sel", sel(method, g->p->path), "name", name,
                          "op", op);
    if (value) json_object_set_new(e, "value", json_stringn(value, len));
    if (value) snprintf(text, sizeof text, "header %s %s %s %s %.*s", method, g->p->path, name,
                        !strcmp(op, "eq") ? "=" : "~", (int)(len > 200 ? 200 : len), value);
    else snprintf(text, sizeof text, "header %s %s %s %s", method, g->p->path, name, op);
    emit(g, e, text, rule, NULL, detail);
}

/* Names the preflight must not carry: the author's, except those a UA may add itself. */
static int ua_may_send(const char *name)
{
    return !strcasecmp(name, "accept") || !strcasecmp(name, "accept-language") || !strcasecmp(name, "user-agent");
}

static void preflight_headers(struct gen *g)
{
    const struct ch_cors_outcome *o = &g->p->out;
    char origin[32], detail[CH_CORS_DETAIL_LEN];
    snprintf(origin, sizeof origin, "{origin-%c}", g->b->page);
    header(g, "OPTIONS", "Origin", "eq", origin, strlen(origin), CH_CORS_R_PREFLIGHT_REQUEST, "the page's origin");
    snprintf(detail, sizeof detail, "the method %s as normalized", o->acrm);
    header(g, "OPTIONS", "Access-Control-Request-Method", "eq", o->acrm, strlen(o->acrm), CH_CORS_R_PREFLIGHT_REQUEST,
           detail);
    if (o->acrh)
        header(g, "OPTIONS", "Access-Control-Request-Headers", "eq", o->acrh, strlen(o->acrh), CH_CORS_R_PREFLIGHT_REQUEST,
               "lowercase, sorted, unique, comma-joined without spaces");
    else
        header(g, "OPTIONS", "Access-Control-Request-Headers", "absent", NULL, 0, CH_CORS_R_PREFLIGHT_REQUEST,
               "no CORS-unsafe request-header name");
    header(g, "OPTIONS", "Accept", "eq", "*/*", 3, CH_CORS_R_PREFLIGHT_REQUEST, "Accept: */*");
    /* Only where the case stored a cookie: without one the check could not fail (nothing could send a Cookie). */
    if (g->b->ncookies) header(g, "OPTIONS", "Cookie", "absent", NULL, 0, CH_CORS_R_PREFLIGHT_NO_CREDENTIALS, "");
    for (size_t i = 0; i < g->b->nheaders; i++) {
        const char *n = g->b->headers[i].name;
        if (ua_may_send(n) || ch_cors_names_has(&o->dropped, n, 1)) continue;
        int seen = 0;
        for (size_t j = 0; j < i; j++) seen |= !strcasecmp(g->b->headers[j].name, n);
        if (!seen)
            header(g, "OPTIONS", n, "absent", NULL, 0, CH_CORS_R_PREFLIGHT_REQUEST,
                   "an author header never goes out on the preflight");
    }
}

/* The actual request: Origin (CORS requests), and each author header sent once, as the API combined it. */
static void actual_headers(struct gen *g)
{
    const struct ch_cors_outcome *o = &g->p->out;
    const struct ch_cors_block *b = g->b;
    char origin[32];
    snprintf(origin, sizeof origin, "{origin-%c}", b->page);
    if (o->cross_origin && !o->opaque)
        header(g, o->method, "Origin", "eq", origin, strlen(origin), CH_CORS_R_ORIGIN_HEADER,
               "the page's origin");
    for (size_t i = 0; i < b->nheaders; i++) {
        const char *n = b->headers[i].name;
        size_t times = 0, first = i;
        for (size_t j = 0; j < b->nheaders; j++)
            if (!strcasecmp(b->headers[j].name, n)) times++, first = first < j ? first : j;
        if (first != i || ch_cors_names_has(&o->dropped, n, 1) || !strcasecmp(n, "content-type")) continue;
        if (times > 1 && b->api != CH_CORS_XHR) continue; /* fetch() appends: how a UA joins them is its own */
        size_t len;
        char *v = ch_cors_get(b->headers, b->nheaders, n, &len);
        if (v)
            header(g, o->method, n, "eq", v, len, CH_CORS_R_AUTHOR_HEADERS,
                   times > 1 ? "setRequestHeader() combines repeated names with \", \"" : "the author's header is sent");
        free(v);
    }
}

static void server(struct gen *g, int pure)
{
    const struct ch_cors_outcome *o = &g->p->out;
    const struct ch_cors_decision *sent_why = o->preflight ? &o->preflight_result : &o->why_preflight;
    count(g, "OPTIONS", o->preflight, &o->why_preflight, o->preflight ? "a preflight is sent:" : "no preflight:");
    if (o->actual_sent)
        count(g, o->method, 1, sent_why, "the actual request is sent:");
    else
        count(g, o->method, 0, o->preflight ? &o->preflight_result : &o->result,
              "a failed preflight never lets the actual request out:");
    if (pure) {
        json_t *list = json_array();
        char text[640];
        snprintf(text, sizeof text, "requests ");
        if (o->preflight) json_array_append_new(list, sel("OPTIONS", g->p->path));
        if (o->actual_sent) json_array_append_new(list, sel(o->method, g->p->path));
        if (o->preflight) snprintf(text + strlen(text), sizeof text - strlen(text), "OPTIONS %s", g->p->path);
        if (o->actual_sent)
            snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s %s", o->preflight ? ", " : "", o->method,
                     g->p->path);
        if (!o->preflight && !o->actual_sent) snprintf(text + strlen(text), sizeof text - strlen(text), "none");
        emitd(g, json_pack("{s:s, s:o}", "kind", "requests", "list", list), text,
              o->actual_sent ? sent_why : o->preflight ? &o->preflight_result : &o->result, "exactly these requests:");
    }
    if (o->preflight) preflight_headers(g);
    if (o->actual_sent) actual_headers(g);
}

/* ---- cookies ------------------------------------------------------------------------------------------ */

static void cookies(struct gen *g)
{
    const struct ch_cors_outcome *o = &g->p->out;
    for (size_t i = 0; i < g->b->ncookies && o->actual_sent; i++) {
        const struct ch_cors_cookie *c = &g->b->cookies[i];
        char re[300], detail[CH_CORS_DETAIL_LEN];
        const char *note = g->note;
        if (c->third_party && !note)
            g->note = "informational: third-party cookie rules decide whether a cross-site cookie is stored and "
                      "sent (the oracle assumes it is)";
        snprintf(detail, sizeof detail, "credentials mode %s, cookie %.60s",
                 g->b->credentials == CH_CORS_CREDS_INCLUDE ? "include" : g->b->credentials == CH_CORS_CREDS_OMIT
                 ? "omit" : "same-origin", c->name);
        snprintf(re, sizeof re, "(^|;[ ]*)%s=", c->name);
        const char *lvl = g->level;
        if (c->third_party) g->level = "should";
        if (o->credentials) header(g, o->method, "Cookie", "match", re, strlen(re), CH_CORS_R_CREDENTIALS, detail);
        else header(g, o->method, "Cookie", "absent", NULL, 0, CH_CORS_R_CREDENTIALS, detail);
        g->level = lvl;
        g->note = note;
    }
}

int ch_cors_block_expect(const struct ch_cors_block *b, enum ch_cors_family fam, int line, const char *level,
                         const char *note, int pure, json_t *expect, char *err)
{
    struct cc_prepared p;
    if (cc_prepare(b, &p, err) != 0) {
        cc_prepared_free(&p);
        return -1;
    }
    struct gen g = {b, &p, line, level, note, expect, 0};
    if (fam == CH_CORS_FAM_CLIENT && b->api == CH_CORS_XHR) client_xhr(&g);
    else if (fam == CH_CORS_FAM_CLIENT) client_fetch(&g);
    else if (fam == CH_CORS_FAM_SERVER) server(&g, pure);
    else if (fam == CH_CORS_FAM_COOKIES && !b->ncookies) g.count = ch_errf(err, "expect cors cookies: the cors "
                                                                           "section names no cookie");
    else cookies(&g);
    cc_prepared_free(&p);
    return g.count;
}
