/* cors.c — the request side of the CORS oracle (cors.h): methods, request headers, CORS-unsafe request-header
 * names, and ch_cors_evaluate(), which builds the request as XHR or fetch() would and walks main fetch, HTTP
 * fetch and CORS-preflight fetch. The response side (header lists, CORS check, preflight checks, exposure) is
 * cors_reply.c; the rule table is cors_rules.c. Section names below are the Fetch Standard's. */
#include "cors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cors_int.h"
#include "core/core.h"

/* ---- small helpers (cors_int.h) ------------------------------------------------------------------------ */

int cors_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int cors_token(const char *s, size_t n)
{
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!cors_tchar((unsigned char)s[i])) return 0;
    return 1;
}

int cors_http_ws(unsigned char c)
{
    return c == '\t' || c == '\n' || c == '\r' || c == ' ';
}

/* Header value "normalize": strips leading and trailing HTTP whitespace bytes. */
void cors_normalize_value(const char **v, size_t *n)
{
    while (*n && cors_http_ws((unsigned char)(*v)[0])) (*v)++, (*n)--;
    while (*n && cors_http_ws((unsigned char)(*v)[*n - 1])) (*n)--;
}

char *cors_lower(const char *s)
{
    char *r = ch_xstrdup(s);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    return r;
}

void cors_decide(struct ch_cors_decision *d, enum ch_cors_rule_id rule, const char *fmt, ...)
{
    va_list ap;
    d->rule = rule;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
}

void ch_cors_names_free(struct ch_cors_names *n)
{
    for (size_t i = 0; i < n->n; i++) free(n->v[i]);
    free(n->v);
    n->v = NULL;
    n->n = 0;
}

void cors_names_add(struct ch_cors_names *n, const char *s, size_t len)
{
    n->v = ch_xrealloc(n->v, (n->n + 1) * sizeof *n->v);
    n->v[n->n++] = ch_xstrndup(s, len);
}

int ch_cors_names_has(const struct ch_cors_names *n, const char *s, int nocase)
{
    for (size_t i = 0; i < n->n; i++)
        if (nocase ? strcasecmp(n->v[i], s) == 0 : strcmp(n->v[i], s) == 0) return 1;
    return 0;
}

/* ---- methods (Fetch "Methods") ------------------------------------------------------------------------- */

int ch_cors_is_method(const char *m)
{
    return cors_token(m, strlen(m));
}

int ch_cors_forbidden_method(const char *m)
{
    return strcasecmp(m, "CONNECT") == 0 || strcasecmp(m, "TRACE") == 0 || strcasecmp(m, "TRACK") == 0;
}

/* To normalize a method: a byte-case-insensitive match for DELETE, GET, HEAD, OPTIONS, POST or PUT is
 * byte-uppercased; any other method keeps its bytes (`patch` stays `patch`). */
char *ch_cors_normalize_method(const char *m)
{
    static const char *const normal[] = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"};
    for (size_t i = 0; i < sizeof normal / sizeof normal[0]; i++)
        if (strcasecmp(m, normal[i]) == 0) return ch_xstrdup(normal[i]);
    return ch_xstrdup(m);
}

/* A CORS-safelisted method is `GET`, `HEAD` or `POST`: a byte comparison, after normalization. */
int ch_cors_safelisted_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "POST") == 0;
}

/* ---- request headers (Fetch "Headers") ----------------------------------------------------------------- */

/* A CORS-unsafe request-header byte: a control other than HT, one of "():<>?@[\]{}, or DEL. */
int ch_cors_unsafe_byte(unsigned char b)
{
    if (b < 0x20) return b != 0x09;
    return b == 0x7f || strchr("\"():<>?@[\\]{}", b) != NULL;
}

int ch_cors_is_header_name(const char *name)
{
    return cors_token(name, strlen(name));
}

static int has_unsafe_byte(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ch_cors_unsafe_byte((unsigned char)v[i])) return 1;
    return 0;
}

/* Accept-Language and Content-Language: 0-9 A-Z a-z, space and *,-.;= only. */
static int language_value(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        int alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        if (!alnum && !strchr(" *,-.;=", c)) return 0;
    }
    return 1;
}

/* MIME Sniffing "parse a MIME type", as far as the essence: strip HTTP whitespace, a type of HTTP token code
 * points, '/', a subtype up to ';' with trailing HTTP whitespace removed, also all token code points.
 * Parameters never make parsing fail. */
int ch_cors_mime_essence(const char *value, size_t len, char *out, size_t n)
{
    const char *v = value;
    cors_normalize_value(&v, &len);
    const char *slash = memchr(v, '/', len);
    if (!slash) return -1;
    size_t tlen = (size_t)(slash - v);
    const char *sub = slash + 1;
    const char *semi = memchr(sub, ';', len - tlen - 1);
    size_t slen = semi ? (size_t)(semi - sub) : len - tlen - 1;
    while (slen && cors_http_ws((unsigned char)sub[slen - 1])) slen--;
    if (!cors_token(v, tlen) || !cors_token(sub, slen) || tlen + slen + 2 > n) return -1;
    for (size_t i = 0; i < tlen; i++) out[i] = (char)(v[i] >= 'A' && v[i] <= 'Z' ? v[i] + 32 : v[i]);
    out[tlen] = '/';
    for (size_t i = 0; i < slen; i++)
        out[tlen + 1 + i] = (char)(sub[i] >= 'A' && sub[i] <= 'Z' ? sub[i] + 32 : sub[i]);
    out[tlen + 1 + slen] = '\0';
    return 0;
}

static size_t digits(const char *v, size_t n, size_t i, long long *val)
{
    size_t j = i;
    *val = 0;
    for (; j < n && v[j] >= '0' && v[j] <= '9'; j++)
        *val = *val > (1LL << 53) ? *val : *val * 10 + (v[j] - '0');
    return j - i;
}

/* "Parse a single range header value" with allowWhitespace false: `bytes` (case-sensitive), `=`, optional
 * start digits, `-`, optional end digits, nothing after; not both omitted; start <= end. */
int ch_cors_parse_range(const char *v, size_t n, long long *start, long long *end)
{
    if (n < 6 || memcmp(v, "bytes", 5) != 0 || v[5] != '=') return 0;
    size_t i = 6, k;
    long long s, e;
    k = digits(v, n, i, &s);
    *start = k ? s : -1;
    i += k;
    if (i >= n || v[i] != '-') return 0;
    i++;
    k = digits(v, n, i, &e);
    *end = k ? e : -1;
    i += k;
    if (i != n || (*start < 0 && *end < 0)) return 0;
    return !(*start >= 0 && *end >= 0 && *start > *end);
}

/* CORS-safelisted request-header: the value at most 128 bytes, then a rule per name. */
int ch_cors_safelisted_request_header(const char *name, const char *v, size_t n)
{
    char essence[128];
    long long s, e;
    if (n > CH_CORS_SAFELISTED_VALUE_MAX) return 0;
    if (strcasecmp(name, "accept") == 0) return !has_unsafe_byte(v, n);
    if (strcasecmp(name, "accept-language") == 0 || strcasecmp(name, "content-language") == 0)
        return language_value(v, n);
    if (strcasecmp(name, "content-type") == 0) {
        if (has_unsafe_byte(v, n) || ch_cors_mime_essence(v, n, essence, sizeof essence) != 0) return 0;
        return strcmp(essence, "application/x-www-form-urlencoded") == 0 ||
               strcmp(essence, "multipart/form-data") == 0 || strcmp(essence, "text/plain") == 0;
    }
    if (strcasecmp(name, "range") == 0) return ch_cors_parse_range(v, n, &s, &e) && s >= 0;
    return 0;
}

/* "Get, decode, and split" of one value: commas outside quoted strings, tabs and spaces trimmed. Calls f on
 * each piece; returns 1 as soon as f does. */
static int any_split(const char *v, size_t n, int (*f)(const char *, size_t))
{
    size_t i = 0;
    for (;;) {
        size_t b = i;
        int quoted = 0;
        for (; i < n && (quoted || v[i] != ','); i++) {
            if (v[i] == '"') quoted = !quoted;
            else if (quoted && v[i] == '\\' && i + 1 < n) i++;
        }
        size_t e = i;
        while (b < e && (v[b] == ' ' || v[b] == '\t')) b++;
        while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (f(v + b, e - b)) return 1;
        if (i >= n) return 0;
        i++;
    }
}

static int forbidden_method_piece(const char *s, size_t n)
{
    char m[16];
    if (n >= sizeof m) return 0;
    memcpy(m, s, n);
    m[n] = '\0';
    return ch_cors_forbidden_method(m);
}

/* Forbidden request-header: a fixed list of names, `proxy-` / `sec-` prefixes, and the method-override headers
 * when one of their values is a forbidden method. */
int ch_cors_forbidden_request_header(const char *name, const char *value, size_t len)
{
    static const char *const names[] = {
        "accept-charset", "accept-encoding", "access-control-request-headers", "access-control-request-method",
        "connection", "content-length", "cookie", "cookie2", "date", "dnt", "expect", "host", "keep-alive",
        "origin", "referer", "set-cookie", "te", "trailer", "transfer-encoding", "upgrade", "via"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0) return 1;
    if (strncasecmp(name, "proxy-", 6) == 0 || strncasecmp(name, "sec-", 4) == 0) return 1;
    if (strcasecmp(name, "x-http-method") == 0 || strcasecmp(name, "x-http-method-override") == 0 ||
        strcasecmp(name, "x-method-override") == 0)
        return any_split(value, len, forbidden_method_piece);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "Convert header names to a sorted-lowercase set": lowercase, sort by bytes, drop repeats. */
static void sorted_set(struct ch_cors_names *n)
{
    if (n->n < 2) return;
    qsort(n->v, n->n, sizeof *n->v, cmp_str);
    size_t w = 1;
    for (size_t i = 1; i < n->n; i++) {
        if (strcmp(n->v[i], n->v[w - 1]) == 0) free(n->v[i]);
        else n->v[w++] = n->v[i];
    }
    n->n = w;
}

/* CORS-unsafe request-header names: every header that is not safelisted, and when the safelisted values
 * together exceed 1024 bytes, the safelisted ones too. */
void ch_cors_unsafe_names(const struct ch_cors_header *h, size_t n, struct ch_cors_names *out)
{
    struct ch_cors_names maybe = {0};
    size_t total = 0;
    out->v = NULL;
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        char *low = cors_lower(h[i].name);
        if (ch_cors_safelisted_request_header(h[i].name, h[i].value, h[i].len)) {
            cors_names_add(&maybe, low, strlen(low));
            total += h[i].len;
        } else {
            cors_names_add(out, low, strlen(low));
        }
        free(low);
    }
    for (size_t i = 0; total > CH_CORS_SAFELISTED_TOTAL_MAX && i < maybe.n; i++)
        cors_names_add(out, maybe.v[i], strlen(maybe.v[i]));
    ch_cors_names_free(&maybe);
    sorted_set(out);
}

char *ch_cors_join(const struct ch_cors_names *names)
{
    size_t len = 1;
    for (size_t i = 0; i < names->n; i++) len += strlen(names->v[i]) + 1;
    char *r = ch_xmalloc(len), *p = r;
    *p = '\0';
    for (size_t i = 0; i < names->n; i++) {
        if (i) *p++ = ',';
        size_t k = strlen(names->v[i]);
        memcpy(p, names->v[i], k + 1);
        p += k;
    }
    return r;
}
