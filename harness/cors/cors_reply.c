/* cors_reply.c — the response side of the CORS oracle (cors.h): "get" and "extract header list values", the
 * CORS check, the CORS-preflight fetch's checks on its reply, Access-Control-Max-Age, and which response
 * headers script may read (main fetch's CORS-exposed header-name list and the CORS filtered response). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "cors.h"
#include "cors_int.h"

/* ---- header lists --------------------------------------------------------------------------------------- */

/* "Get": the values of every header named `name`, normalized (an HTTP parser strips surrounding whitespace),
 * joined by 0x2C 0x20, in order; NULL when there is none. */
char *ch_cors_get(const struct ch_cors_header *h, size_t n, const char *name, size_t *len)
{
    size_t total = 0, count = 0;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0) total += h[i].len + 2, count++;
    if (!count) return NULL;
    char *r = ch_xmalloc(total + 1), *p = r;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) != 0) continue;
        const char *v = h[i].value;
        size_t k = h[i].len;
        cors_normalize_value(&v, &k);
        if (p != r) *p++ = ',', *p++ = ' ';
        memcpy(p, v, k);
        p += k;
    }
    *p = '\0';
    *len = (size_t)(p - r);
    return r;
}

static size_t count_named(const struct ch_cors_header *h, size_t n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += strcasecmp(h[i].name, name) == 0;
    return c;
}

/* One header value as `#token` (RFC 9110 §5.6.1: elements separated by commas with optional spaces and tabs
 * around them; empty elements are ignored). Returns 0, or -1 when an element is not a token. */
static int split_tokens(const char *v, size_t n, struct ch_cors_names *out)
{
    size_t i = 0;
    while (i <= n) {
        size_t b = i;
        while (i < n && v[i] != ',') i++;
        size_t e = i;
        while (b < e && (v[b] == ' ' || v[b] == '\t')) b++;
        while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e > b) {
            if (!cors_token(v + b, e - b)) return -1;
            cors_names_add(out, v + b, e - b);
        }
        i++;
    }
    return 0;
}

static int delta_seconds(const char *v, size_t n, struct ch_cors_names *out)
{
    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9') return -1;
    cors_names_add(out, v, n);
    return 0;
}

/* Extract header list values: null without the header; failure when the ABNF allows one header and there are
 * several, or when a value does not parse. */
int ch_cors_extract(const struct ch_cors_header *h, size_t n, const char *name, enum ch_cors_abnf abnf,
                    struct ch_cors_names *out)
{
    out->v = NULL;
    out->n = 0;
    size_t count = count_named(h, n, name);
    if (count == 0) return 1;
    if (abnf == CH_CORS_DELTA_SECONDS && count > 1) return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) != 0) continue;
        const char *v = h[i].value;
        size_t k = h[i].len;
        cors_normalize_value(&v, &k);
        int rc = abnf == CH_CORS_DELTA_SECONDS ? delta_seconds(v, k, out) : split_tokens(v, k, out);
        if (rc != 0) {
            ch_cors_names_free(out);
            return -1;
        }
    }
    return 0;
}

/* ---- CORS check ----------------------------------------------------------------------------------------- */

static void mismatch(struct ch_cors_decision *why, const char *acao, size_t count, const char *origin)
{
    if (count > 1)
        cors_decide(why, CH_CORS_R_ACAO_MISMATCH, "%zu Access-Control-Allow-Origin headers combine to \"%.80s\", "
                    "not \"%.60s\"", count, acao, origin);
    else if (strchr(acao, ',') || strchr(acao, ' '))
        cors_decide(why, CH_CORS_R_ACAO_MISMATCH, "Access-Control-Allow-Origin \"%.80s\" is a list, not "
                    "\"%.60s\"", acao, origin);
    else
        cors_decide(why, CH_CORS_R_ACAO_MISMATCH, "Access-Control-Allow-Origin \"%.80s\" is not \"%.60s\"",
                    acao, origin);
}

/* CORS check: ACAO missing → failure; `*` without credentials → success; otherwise ACAO must be the
 * byte-serialized origin; with credentials ACAC must then be `true`. */
int ch_cors_check(const struct ch_cors_header *h, size_t n, const char *origin, int include,
                  struct ch_cors_decision *why)
{
    size_t len, clen;
    char *acao = ch_cors_get(h, n, "Access-Control-Allow-Origin", &len);
    int ok = 0;
    if (!acao) {
        cors_decide(why, CH_CORS_R_ACAO_MISSING, "no Access-Control-Allow-Origin header");
        return 0;
    }
    if (!include && strcmp(acao, "*") == 0) {
        cors_decide(why, CH_CORS_R_CHECK_PASS_STAR, "Access-Control-Allow-Origin: *, credentials not included");
        ok = 1;
    } else if (strlen(acao) != len || strcmp(acao, origin) != 0) {
        if (strcmp(acao, "*") == 0)
            cors_decide(why, CH_CORS_R_ACAO_STAR_CREDENTIALS, "Access-Control-Allow-Origin: * with credentials "
                        "mode \"include\"");
        else
            mismatch(why, acao, count_named(h, n, "Access-Control-Allow-Origin"), origin);
    } else if (!include) {
        cors_decide(why, CH_CORS_R_CHECK_PASS_ORIGIN, "Access-Control-Allow-Origin is the origin");
        ok = 1;
    } else {
        char *acac = ch_cors_get(h, n, "Access-Control-Allow-Credentials", &clen);
        ok = acac && clen == 4 && memcmp(acac, "true", 4) == 0;
        if (ok)
            cors_decide(why, CH_CORS_R_CHECK_PASS_ORIGIN, "Access-Control-Allow-Origin is the origin and "
                        "Access-Control-Allow-Credentials is true");
        else if (acac)
            cors_decide(why, CH_CORS_R_ACAC_NOT_TRUE, "Access-Control-Allow-Credentials is \"%.80s\", not "
                        "\"true\"", acac);
        else
            cors_decide(why, CH_CORS_R_ACAC_NOT_TRUE, "no Access-Control-Allow-Credentials header");
        free(acac);
    }
    free(acao);
    return ok;
}

/* ---- Access-Control-Max-Age ----------------------------------------------------------------------------- */

long ch_cors_max_age(const struct ch_cors_header *h, size_t n, struct ch_cors_decision *why)
{
    struct ch_cors_names v;
    int rc = ch_cors_extract(h, n, "Access-Control-Max-Age", CH_CORS_DELTA_SECONDS, &v);
    if (rc == 1) {
        cors_decide(why, CH_CORS_R_MAX_AGE_DEFAULT, "no Access-Control-Max-Age: 5 s");
        return CH_CORS_DEFAULT_MAX_AGE;
    }
    if (rc < 0) {
        size_t len;
        char *raw = ch_cors_get(h, n, "Access-Control-Max-Age", &len);
        cors_decide(why, CH_CORS_R_MAX_AGE_DEFAULT, "Access-Control-Max-Age \"%.60s\" is not delta-seconds: 5 s",
                    raw ? raw : "");
        free(raw);
        return CH_CORS_DEFAULT_MAX_AGE;
    }
    /* RFC 9111 §1.2.2: a delta-seconds too large to hold is 2^31. */
    long s = strlen(v.v[0]) > 10 ? 2147483648L : strtol(v.v[0], NULL, 10);
    if (s > 2147483648L) s = 2147483648L;
    cors_decide(why, CH_CORS_R_MAX_AGE, "Access-Control-Max-Age: %ld s (before any cap of the UA)", s);
    ch_cors_names_free(&v);
    return s;
}

/* ---- CORS-preflight fetch, step 7 ----------------------------------------------------------------------- */

static int methods_allow(const char *method, const struct ch_cors_names *methods, int include,
                         struct ch_cors_decision *why)
{
    if (ch_cors_names_has(methods, method, 0) || ch_cors_safelisted_method(method)) return 1;
    if (!include && ch_cors_names_has(methods, "*", 0)) return 1;
    if (ch_cors_names_has(methods, "*", 0))
        cors_decide(why, CH_CORS_R_METHOD_STAR_CREDENTIALS, "method %.40s: Access-Control-Allow-Methods * does "
                    "not apply with credentials", method);
    else if (ch_cors_names_has(methods, method, 1))
        cors_decide(why, CH_CORS_R_METHOD_NOT_ALLOWED, "method %.40s is listed only in another case (methods "
                    "compare byte for byte)", method);
    else
        cors_decide(why, CH_CORS_R_METHOD_NOT_ALLOWED, "method %.40s is not in Access-Control-Allow-Methods",
                    method);
    return 0;
}

static int headers_allow(const struct ch_cors_header *req, size_t nreq, const struct ch_cors_names *allowed,
                         int include, struct ch_cors_decision *why)
{
    for (size_t i = 0; i < nreq; i++)
        if (strcasecmp(req[i].name, "authorization") == 0 && !ch_cors_names_has(allowed, "authorization", 1)) {
            cors_decide(why, CH_CORS_R_AUTHORIZATION, "Authorization is not named in Access-Control-Allow-Headers%s",
                        ch_cors_names_has(allowed, "*", 0) ? " (`*` does not cover it)" : "");
            return 0;
        }
    struct ch_cors_names unsafe;
    ch_cors_unsafe_names(req, nreq, &unsafe);
    int ok = 1;
    for (size_t i = 0; ok && i < unsafe.n; i++) {
        if (ch_cors_names_has(allowed, unsafe.v[i], 1)) continue;
        if (!include && ch_cors_names_has(allowed, "*", 0)) continue;
        ok = 0;
        if (ch_cors_names_has(allowed, "*", 0))
            cors_decide(why, CH_CORS_R_HEADER_STAR_CREDENTIALS, "header %.60s: Access-Control-Allow-Headers * does "
                        "not apply with credentials", unsafe.v[i]);
        else
            cors_decide(why, CH_CORS_R_HEADER_NOT_ALLOWED, "header %.60s is not in Access-Control-Allow-Headers",
                        unsafe.v[i]);
    }
    ch_cors_names_free(&unsafe);
    return ok;
}

/* The CORS check under the request's credentials mode and an ok status, then the allow lists. */
int ch_cors_preflight_check(const char *method, const struct ch_cors_header *req, size_t nreq,
                            const char *origin, int include, int use_preflight_flag,
                            const struct ch_cors_reply *reply, long *max_age, struct ch_cors_decision *why)
{
    struct ch_cors_names methods, names;
    if (!ch_cors_check(reply->headers, reply->nheaders, origin, include, why)) return 0;
    if (reply->status < 200 || reply->status > 299) {
        if (reply->status >= 300 && reply->status <= 399)
            cors_decide(why, CH_CORS_R_PREFLIGHT_REDIRECT, "preflight status %d (redirects are not followed)",
                        reply->status);
        else
            cors_decide(why, CH_CORS_R_PREFLIGHT_STATUS, "preflight status %d is not an ok status", reply->status);
        return 0;
    }
    int rm = ch_cors_extract(reply->headers, reply->nheaders, "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD,
                             &methods);
    int rh = ch_cors_extract(reply->headers, reply->nheaders, "Access-Control-Allow-Headers",
                             CH_CORS_LIST_FIELD_NAME, &names);
    int ok = 0;
    if (rm < 0)
        cors_decide(why, CH_CORS_R_ACAM_UNPARSABLE, "Access-Control-Allow-Methods does not parse as #method");
    else if (rh < 0)
        cors_decide(why, CH_CORS_R_ACAH_UNPARSABLE, "Access-Control-Allow-Headers does not parse as #field-name");
    else {
        if (rm == 1 && use_preflight_flag) cors_names_add(&methods, method, strlen(method));
        if (methods_allow(method, &methods, include, why) && (ok = headers_allow(req, nreq, &names, include, why))) {
            struct ch_cors_decision age;
            *max_age = ch_cors_max_age(reply->headers, reply->nheaders, &age);
            cors_decide(why, CH_CORS_R_PREFLIGHT_OK, "preflight status %d; method %.40s and the request headers "
                        "allowed", reply->status, method);
        }
    }
    ch_cors_names_free(&methods);
    ch_cors_names_free(&names);
    return ok;
}

/* ---- exposure ------------------------------------------------------------------------------------------- */

static int safelisted_response_name(const char *name)
{
    static const char *const names[] = {"cache-control", "content-language", "content-length", "content-type",
                                        "expires", "last-modified", "pragma"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return 1;
    return 0;
}

static int forbidden_response_name(const char *name)
{
    return strcasecmp(name, "set-cookie") == 0 || strcasecmp(name, "set-cookie2") == 0;
}

/* Whether one name is readable, given the ACEH outcome (aceh: 1 null, 0 list, -1 failure). */
static void expose_one(struct ch_cors_exposure *x, int basic, int include, int aceh,
                       const struct ch_cors_names *list)
{
    int star = aceh == 0 && ch_cors_names_has(list, "*", 0);
    x->exposed = 0;
    if (forbidden_response_name(x->name))
        cors_decide(&x->why, CH_CORS_R_EXPOSE_FORBIDDEN, "%s is a forbidden response-header name", x->name);
    else if ((x->exposed = basic))
        cors_decide(&x->why, CH_CORS_R_EXPOSE_BASIC, "same-origin response");
    else if ((x->exposed = safelisted_response_name(x->name)))
        cors_decide(&x->why, CH_CORS_R_EXPOSE_SAFELISTED, "%s is a CORS-safelisted response-header name", x->name);
    else if ((x->exposed = star && !include))
        cors_decide(&x->why, CH_CORS_R_EXPOSE_STAR, "Access-Control-Expose-Headers: * without credentials");
    else if ((x->exposed = aceh == 0 && ch_cors_names_has(list, x->name, 1)))
        cors_decide(&x->why, CH_CORS_R_EXPOSE_LISTED, "%s is named in Access-Control-Expose-Headers", x->name);
    else if (aceh < 0)
        cors_decide(&x->why, CH_CORS_R_EXPOSE_UNPARSABLE, "Access-Control-Expose-Headers does not parse");
    else if (star)
        cors_decide(&x->why, CH_CORS_R_EXPOSE_STAR_LITERAL, "Access-Control-Expose-Headers: * with credentials "
                    "does not name %s", x->name);
    else
        cors_decide(&x->why, CH_CORS_R_EXPOSE_NOT_LISTED, "%s is not named in Access-Control-Expose-Headers",
                    x->name);
}

static int cmp_exposure(const void *a, const void *b)
{
    return strcmp(((const struct ch_cors_exposure *)a)->name, ((const struct ch_cors_exposure *)b)->name);
}

/* One entry per distinct name of the reply (lowercase, sorted), with its combined value. */
static void distinct_names(const struct ch_cors_reply *r, struct ch_cors_outcome *out)
{
    out->headers = ch_xcalloc(r->nheaders, sizeof *out->headers);
    for (size_t i = 0; i < r->nheaders; i++) {
        int seen = 0;
        for (size_t j = 0; j < out->nheaders && !seen; j++) seen = strcasecmp(out->headers[j].name, r->headers[i].name) == 0;
        if (seen) continue;
        struct ch_cors_exposure *x = &out->headers[out->nheaders];
        x->name = cors_lower(r->headers[i].name);
        out->nheaders++;
        x->value = ch_cors_get(r->headers, r->nheaders, x->name, &x->len); /* the name is there: never NULL */
    }
    qsort(out->headers, out->nheaders, sizeof *out->headers, cmp_exposure);
}

void ch_cors_exposure(const struct ch_cors_reply *reply, int include, int basic, struct ch_cors_outcome *out)
{
    struct ch_cors_names list = {0};
    distinct_names(reply, out);
    int aceh = basic ? 1 : ch_cors_extract(reply->headers, reply->nheaders, "Access-Control-Expose-Headers",
                                           CH_CORS_LIST_FIELD_NAME, &list);
    for (size_t i = 0; i < out->nheaders; i++) expose_one(&out->headers[i], basic, include, aceh, &list);
    ch_cors_names_free(&list);
}
