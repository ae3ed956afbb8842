/* cors_eval.c — ch_cors_evaluate(): one request from an author's calls to what the client shows.
 *
 *   1. the request as the API builds it: open()/Request() validate and normalize the method;
 *      setRequestHeader() combines repeated names (fetch's Headers append them); forbidden request-headers
 *      are ignored; send()/Request() add the body's Content-Type; fetch adds `Accept: * / *`   (XHR, Fetch)
 *   2. main fetch: same origin, no-cors, same-origin mode, or CORS with or without a preflight
 *   3. HTTP fetch: the CORS-preflight fetch and its checks, then the actual request and its CORS check
 *   4. main fetch again: the CORS-exposed header-name list and the filtered response
 * The preflight cache is assumed empty: every case runs on URLs of its own token. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors.h"
#include "cors_int.h"
#include "core/core.h"

#define TEXT_PLAIN_UTF8 "text/plain;charset=UTF-8"

/* The request's header list, owning its strings. */
struct hlist {
    struct ch_cors_header *v;
    size_t n;
};

static void hlist_free(struct hlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->v[i].name);
        free((char *)l->v[i].value);
    }
    free(l->v);
}

static void hlist_append(struct hlist *l, const char *name, const char *value, size_t len)
{
    l->v = ch_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n].name = ch_xstrdup(name);
    l->v[l->n].value = ch_xstrndup(value, len);
    l->v[l->n].len = len;
    l->n++;
}

static struct ch_cors_header *hlist_find(struct hlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->v[i].name, name) == 0) return &l->v[i];
    return NULL;
}

/* Header list "combine" (XHR setRequestHeader): the first header of that name gets ", " and the value. */
static void hlist_combine(struct hlist *l, const char *name, const char *value, size_t len)
{
    struct ch_cors_header *h = hlist_find(l, name);
    if (!h) return hlist_append(l, name, value, len);
    char *v = ch_xmalloc(h->len + 2 + len + 1);
    memcpy(v, h->value, h->len);
    memcpy(v + h->len, ", ", 2);
    memcpy(v + h->len + 2, value, len);
    v[h->len + 2 + len] = '\0';
    free((char *)h->value);
    h->value = v;
    h->len += 2 + len;
}

/* Header list "append" (fetch's Headers): a repeated name takes the casing of the first. */
static void hlist_add(struct hlist *l, const char *name, const char *value, size_t len)
{
    struct ch_cors_header *h = hlist_find(l, name);
    hlist_append(l, h ? h->name : name, value, len);
}

/* ---- step 1: the request ------------------------------------------------------------------------------- */

static int valid_value(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == '\0' || v[i] == '\r' || v[i] == '\n') return 0;
    return 1;
}

/* Headers with guard "request-no-cors" keep only no-CORS-safelisted request-headers, judged on the value the
 * list would then hold for that name. */
static int no_cors_keeps(struct hlist *l, const char *name, const char *v, size_t n)
{
    static const char *const names[] = {"accept", "accept-language", "content-language", "content-type"};
    int listed = 0;
    for (size_t i = 0; i < 4; i++) listed |= strcasecmp(name, names[i]) == 0;
    if (!listed) return 0;
    size_t len;
    char *cur = ch_cors_get(l->v, l->n, name, &len);
    if (!cur) return ch_cors_safelisted_request_header(name, v, n);
    char *tmp = ch_xmalloc(len + 2 + n + 1);
    memcpy(tmp, cur, len);
    memcpy(tmp + len, ", ", 2);
    memcpy(tmp + len + 2, v, n);
    int ok = ch_cors_safelisted_request_header(name, tmp, len + 2 + n);
    free(tmp);
    free(cur);
    return ok;
}

static int author_header(const struct ch_cors_request *rq, const struct ch_cors_header *h, struct hlist *l,
                         struct ch_cors_outcome *out, char *err)
{
    const char *v = h->value;
    size_t n = h->len;
    cors_normalize_value(&v, &n);
    const char *who = rq->api == CH_CORS_XHR ? "setRequestHeader() throws SyntaxError" : "Headers throws TypeError";
    if (!ch_cors_is_header_name(h->name)) return ch_errf(err, "header name \"%.60s\": %s", h->name, who);
    if (!valid_value(v, n)) return ch_errf(err, "header %.60s: a NUL, CR or LF in the value: %s", h->name, who);
    int keep = !ch_cors_forbidden_request_header(h->name, v, n);
    if (keep && rq->mode == CH_CORS_MODE_NO_CORS) keep = no_cors_keeps(l, h->name, v, n);
    if (!keep) cors_names_add(&out->dropped, h->name, strlen(h->name));
    else if (rq->api == CH_CORS_XHR) hlist_combine(l, h->name, v, n);
    else hlist_add(l, h->name, v, n);
    return 0;
}

/* A charset parameter other than UTF-8 in an author Content-Type: XHR's send() would rewrite it. */
static int foreign_charset(const char *v, size_t n)
{
    const char *semi = memchr(v, ';', n);
    while (semi) {
        const char *p = semi + 1, *end = v + n;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if ((size_t)(end - p) >= 8 && strncasecmp(p, "charset=", 8) == 0) {
            p += 8;
            if (p < end && *p == '"') p++;
            return !((size_t)(end - p) >= 5 && strncasecmp(p, "utf-8", 5) == 0 &&
                     (p + 5 == end || p[5] == ';' || p[5] == '"' || p[5] == ' '));
        }
        semi = memchr(p, ';', (size_t)(end - p));
    }
    return 0;
}

/* send() / Request(): GET and HEAD carry no body (fetch throws); a string body extracts to
 * text/plain;charset=UTF-8 when the author set no Content-Type; then fetch adds `Accept: * / *`. */
static int body_and_accept(const struct ch_cors_request *rq, const char *method, struct hlist *l, char *err)
{
    int nobody = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (rq->body && nobody && rq->api == CH_CORS_FETCH_API)
        return ch_errf(err, "a body with %s: Request() throws TypeError", method);
    if (rq->body && !nobody) {
        struct ch_cors_header *ct = hlist_find(l, "Content-Type");
        if (ct && rq->api == CH_CORS_XHR && foreign_charset(ct->value, ct->len))
            return ch_errf(err, "send() would rewrite the charset of \"%.60s\": not modelled", ct->value);
        if (!ct) hlist_append(l, "Content-Type", TEXT_PLAIN_UTF8, strlen(TEXT_PLAIN_UTF8));
    }
    if (!hlist_find(l, "Accept")) hlist_append(l, "Accept", "*/*", 3);
    return 0;
}

static int build_request(const struct ch_cors_request *rq, struct hlist *l, struct ch_cors_outcome *out, char *err)
{
    const char *who = rq->api == CH_CORS_XHR ? "open()" : "Request()";
    if (!ch_cors_is_method(rq->method))
        return ch_errf(err, "method \"%.40s\" is not a token: %s throws", rq->method, who);
    if (ch_cors_forbidden_method(rq->method))
        return ch_errf(err, "method %.40s is forbidden: %s throws", rq->method, who);
    out->method = ch_cors_normalize_method(rq->method);
    if (rq->mode == CH_CORS_MODE_NO_CORS && !ch_cors_safelisted_method(out->method))
        return ch_errf(err, "mode no-cors with method %.40s: Request() throws TypeError", out->method);
    for (size_t i = 0; i < rq->nheaders; i++)
        if (author_header(rq, &rq->headers[i], l, out, err) != 0) return -1;
    return body_and_accept(rq, out->method, l, err);
}

/* ---- steps 2-4 ------------------------------------------------------------------------------------------ */

static int redirect_with_location(const struct ch_cors_reply *r)
{
    int st = r->status;
    if (st != 301 && st != 302 && st != 303 && st != 307 && st != 308) return 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, "Location") == 0) return 1;
    return 0;
}

/* Is a preflight needed (main fetch's CORS-with-preflight branch; HTTP fetch with an empty cache)? */
static void needs_preflight(const struct ch_cors_request *rq, const struct hlist *l, struct ch_cors_outcome *out)
{
    struct ch_cors_names unsafe;
    ch_cors_unsafe_names(l->v, l->n, &unsafe);
    char *joined = ch_cors_join(&unsafe);
    int upload = rq->api == CH_CORS_XHR && rq->upload_listeners;
    out->preflight = 1;
    if (!ch_cors_safelisted_method(out->method))
        cors_decide(&out->why_preflight, CH_CORS_R_NEEDS_METHOD, "method %.40s", out->method);
    else if (unsafe.n)
        cors_decide(&out->why_preflight, CH_CORS_R_NEEDS_HEADERS, "CORS-unsafe request-header names: %.120s", joined);
    else if (upload)
        cors_decide(&out->why_preflight, CH_CORS_R_NEEDS_UPLOAD, "listeners on xhr.upload");
    else
        out->preflight = 0, cors_decide(&out->why_preflight, CH_CORS_R_SIMPLE, "method %.40s, no unsafe header",
                                        out->method);
    if (out->preflight && unsafe.n) {
        out->acrh = joined; /* the preflight's Access-Control-Request-Headers */
        joined = NULL;
    }
    free(joined);
    ch_cors_names_free(&unsafe);
    if (out->preflight) out->acrm = ch_xstrdup(out->method);
}

static void shared(const struct ch_cors_request *rq, const struct ch_cors_reply *act, int basic,
                   struct ch_cors_outcome *out)
{
    out->actual_sent = 1;
    out->status = act->status;
    if (!basic) cors_decide(&out->result, CH_CORS_R_SHARED, "status %d reaches the page", act->status);
    ch_cors_exposure(act, rq->credentials == CH_CORS_CREDS_INCLUDE, basic, out);
}

static void network_error(struct ch_cors_outcome *out)
{
    out->network_error = 1;
    out->status = 0;
}

static int cors_request(const struct ch_cors_request *rq, const struct hlist *l, const struct ch_cors_reply *pre,
                        const struct ch_cors_reply *act, struct ch_cors_outcome *out, char *err)
{
    int include = rq->credentials == CH_CORS_CREDS_INCLUDE;
    needs_preflight(rq, l, out);
    if (out->preflight) {
        if (!pre) return ch_errf(err, "the oracle expects a preflight (%s) but the case scripts no preflight reply",
                                 ch_cors_rule(out->why_preflight.rule)->id);
        int upload = rq->api == CH_CORS_XHR && rq->upload_listeners;
        int ok = ch_cors_preflight_check(out->method, l->v, l->n, rq->origin, include, upload, pre, &out->max_age,
                                         &out->preflight_result);
        out->preflight_ok = ok;
        if (ok) ch_cors_max_age(pre->headers, pre->nheaders, &out->max_age_rule);
        if (!ok) {
            out->result = out->preflight_result;
            network_error(out);
            return 0;
        }
    }
    out->credentials = include;
    if (!ch_cors_check(act->headers, act->nheaders, rq->origin, include, &out->result)) {
        out->actual_sent = 1;
        network_error(out);
        return 0;
    }
    shared(rq, act, 0, out);
    return 0;
}

int ch_cors_evaluate(const struct ch_cors_request *rq, const struct ch_cors_reply *pre, const struct ch_cors_reply *act,
                     struct ch_cors_outcome *out, char *err)
{
    struct hlist l = {0};
    int rc = 0;
    memset(out, 0, sizeof *out);
    out->max_age = -1;
    if (build_request(rq, &l, out, err) != 0) rc = -1;
    else if (redirect_with_location(act)) rc = ch_errf(err, "a redirect of the actual request is not modelled");
    else if (!(out->cross_origin = strcmp(rq->origin, rq->url_origin) != 0)) {
        cors_decide(&out->why_preflight, CH_CORS_R_SAME_ORIGIN, "the URL's origin is the page's");
        cors_decide(&out->result, CH_CORS_R_SAME_ORIGIN, "same-origin response");
        out->credentials = rq->credentials != CH_CORS_CREDS_OMIT;
        shared(rq, act, 1, out);
    } else if (rq->mode == CH_CORS_MODE_SAME_ORIGIN) {
        cors_decide(&out->why_preflight, CH_CORS_R_SAME_ORIGIN_MODE, "mode same-origin, another origin");
        out->result = out->why_preflight;
        network_error(out);
    } else if (rq->mode == CH_CORS_MODE_NO_CORS) {
        cors_decide(&out->why_preflight, CH_CORS_R_NO_CORS_MODE, "mode no-cors");
        cors_decide(&out->result, CH_CORS_R_OPAQUE, "opaque response");
        out->actual_sent = out->opaque = 1;
        out->credentials = rq->credentials == CH_CORS_CREDS_INCLUDE;
    } else {
        rc = cors_request(rq, &l, pre, act, out, err);
    }
    hlist_free(&l);
    return rc;
}

void ch_cors_outcome_free(struct ch_cors_outcome *o)
{
    free(o->method);
    free(o->acrm);
    free(o->acrh);
    ch_cors_names_free(&o->dropped);
    for (size_t i = 0; i < o->nheaders; i++) {
        free(o->headers[i].name);
        free(o->headers[i].value);
    }
    free(o->headers);
    memset(o, 0, sizeof *o);
    o->max_age = -1;
}
