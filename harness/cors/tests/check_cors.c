/* check_cors.c — unit tests of the CORS oracle (harness/cors/), one table per rule family, each row citing
 * where its expectation comes from: `fetch#ANCHOR` is a section of the Fetch Standard
 * (https://fetch.spec.whatwg.org/#ANCHOR), `xhr#ANCHOR` of the XMLHttpRequest Standard, `wpt:PATH` a file of
 * web-platform-tests; a reading of the text, where one is needed, follows in parentheses.
 *
 * Header lists are written "Name: value\nName: value" (split at the first ": "); H() turns one into an array.
 * Values are C strings, so a row spells control bytes as \x01 and so on. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cors/cors.h"
#include "core/core.h"
#include "testing/testing.h"

#define D10 "0123456789"
#define D100 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10
#define D128 D100 D10 D10 "01234567"
#define D129 D128 "8"
#define O "http://a.test"
#define ACAO "Access-Control-Allow-Origin: "
#define ACAC "Access-Control-Allow-Credentials: "
#define ACAM "Access-Control-Allow-Methods: "
#define ACAH "Access-Control-Allow-Headers: "
#define ACEH "Access-Control-Expose-Headers: "
#define MAXAGE "Access-Control-Max-Age: "
#define MAXH 16

/* A header list from "Name: value\n..." (static storage: each Check test runs in its own process). */
struct hl {
    struct ch_cors_header v[MAXH];
    size_t n;
    char buf[4096];
};

static void H(struct hl *l, const char *spec)
{
    l->n = 0;
    if (!spec || !*spec) return;
    ck_assert_uint_lt(strlen(spec), sizeof l->buf);
    strcpy(l->buf, spec);
    for (char *line = l->buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        char *sep = strstr(line, ": ");
        ck_assert_msg(sep != NULL, "bad test header line \"%s\"", line);
        *sep = '\0';
        ck_assert_uint_lt(l->n, MAXH);
        l->v[l->n++] = (struct ch_cors_header){line, sep + 2, strlen(sep + 2)};
        line = nl ? nl + 1 : NULL;
    }
}

static const char *rule_id(enum ch_cors_rule_id r)
{
    return ch_cors_rule(r)->id;
}

/* ---- 1. methods ------------------------------------------------------------------------------------------ */

static const struct {
    const char *method;
    int is_method, forbidden;
    const char *normalized;
    int safelisted;
    const char *src;
} method_rows[] = {
    {"GET", 1, 0, "GET", 1, "fetch#cors-safelisted-method"},
    {"HEAD", 1, 0, "HEAD", 1, "fetch#cors-safelisted-method"},
    {"POST", 1, 0, "POST", 1, "fetch#cors-safelisted-method"},
    {"get", 1, 0, "GET", 1, "fetch#concept-method-normalize"},
    {"Get", 1, 0, "GET", 1, "fetch#concept-method-normalize"},
    {"head", 1, 0, "HEAD", 1, "fetch#concept-method-normalize"},
    {"post", 1, 0, "POST", 1, "fetch#concept-method-normalize"},
    {"PUT", 1, 0, "PUT", 0, "fetch#cors-safelisted-method; wpt:fetch/api/cors/cors-preflight.any.js"},
    {"put", 1, 0, "PUT", 0, "fetch#concept-method-normalize"},
    {"DELETE", 1, 0, "DELETE", 0, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"delete", 1, 0, "DELETE", 0, "fetch#concept-method-normalize"},
    {"OPTIONS", 1, 0, "OPTIONS", 0, "fetch#cors-safelisted-method"},
    {"options", 1, 0, "OPTIONS", 0, "fetch#concept-method-normalize"},
    {"PATCH", 1, 0, "PATCH", 0, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"patch", 1, 0, "patch", 0, "fetch#example-normalization (patch is not one of the six methods normalized: it keeps its case)"},
    {"Patch", 1, 0, "Patch", 0, "fetch#concept-method-normalize"},
    {"NEW", 1, 0, "NEW", 0, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"CHICKEN", 1, 0, "CHICKEN", 0, "fetch#concept-method (note)"},
    {"eGg", 1, 0, "eGg", 0, "fetch#concept-method (note)"},
    {"*", 1, 0, "*", 0, "wpt:fetch/api/cors/cors-preflight-star.any.js"},
    {"CONNECT", 1, 1, "CONNECT", 0, "fetch#forbidden-method"},
    {"trace", 1, 1, "trace", 0, "fetch#forbidden-method"},
    {"TrAcK", 1, 1, "TrAcK", 0, "fetch#forbidden-method"},
    {"GET ", 0, 0, "GET ", 0, "fetch#concept-method (token)"},
    {"", 0, 0, "", 0, "fetch#concept-method (token)"},
    {"Bad(method)", 0, 0, "Bad(method)", 0, "fetch#concept-method (token)"},
};

START_TEST(methods)
{
    const __typeof__(method_rows[0]) *r = &method_rows[_i];
    char *norm = ch_cors_normalize_method(r->method);
    ck_assert_msg(ch_cors_is_method(r->method) == r->is_method, "is_method(%s) [%s]", r->method, r->src);
    ck_assert_msg(ch_cors_forbidden_method(r->method) == r->forbidden, "forbidden(%s) [%s]", r->method, r->src);
    ck_assert_msg(strcmp(norm, r->normalized) == 0, "normalize(%s) = %s [%s]", r->method, norm, r->src);
    ck_assert_msg(ch_cors_safelisted_method(norm) == r->safelisted, "safelisted(%s) [%s]", norm, r->src);
    free(norm);
}
END_TEST

/* ---- 2. CORS-safelisted request-header (with edge values) ------------------------------------------------ */

static const struct {
    const char *name, *value;
    int safelisted;
    const char *src;
} header_rows[] = {
    {"Accept", "*/*", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"accept", "text/html,application/xhtml+xml;q=0.9", 1, "fetch#cors-safelisted-request-header"},
    {"accept", "\"", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"accept", D129, 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json (129 bytes)"},
    {"accept", D128, 1, "fetch#cors-safelisted-request-header (128 bytes is the limit)"},
    {"accept", "a\tb", 1, "fetch#cors-unsafe-request-header-byte (HT is not unsafe)"},
    {"accept", "a\x01" "b", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a\x1f" "b", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a\x7f" "b", 0, "fetch#cors-unsafe-request-header-byte (DEL)"},
    {"accept", "text/(x)", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a:b", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "<a>", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a?", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a@b", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "[a]", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "a\\b", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "{a}", 0, "fetch#cors-unsafe-request-header-byte"},
    {"accept", "caf\xc3\xa9", 1, "fetch#cors-unsafe-request-header-byte (bytes >= 0x80 are not unsafe)"},
    {"accept", "a,b;q=1 = /", 1, "fetch#cors-unsafe-request-header-byte (,;=/ are not unsafe)"},
    {"Accept-Language", "fr", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"accept-language", "en-US,en;q=0.9", 1, "fetch#cors-safelisted-request-header"},
    {"accept-language", "bzh", 1, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"accept-language", "*", 1, "fetch#cors-safelisted-request-header"},
    {"accept-language", "\x01", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"accept-language", "@", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"accept-language", "en_US", 0, "fetch#cors-safelisted-request-header (no '_')"},
    {"accept-language", "a\tb", 0, "fetch#cors-safelisted-request-header (no HT in languages)"},
    {"accept-language", "caf\xc3\xa9", 0, "fetch#cors-safelisted-request-header (ASCII only)"},
    {"accept-language", "en/US", 0, "fetch#cors-safelisted-request-header (no '/')"},
    {"Content-Language", "eu", 1, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"content-language", "fr", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-language", "de-DE, en", 1, "fetch#cors-safelisted-request-header"},
    {"content-language", "\x01", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"content-language", "@", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"content-language", D129, 0, "fetch#cors-safelisted-request-header (129 bytes)"},
    {"Content-Type", "application/x-www-form-urlencoded", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-type", "multipart/form-data", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-type", "text/plain", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-type", "text/plain;charset=utf-8", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-type", "Text/Plain;charset=utf-8", 1, "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"content-type", "multipart/form-data; boundary=x", 1, "fetch#cors-safelisted-request-header"},
    {"content-type", "text/plain ; charset=x", 1, "mimesniff parse a MIME type (subtype's trailing space)"},
    {"content-type", "application/x-www-form-urlencoded;", 1, "mimesniff parse a MIME type"},
    {"content-type", "text/html", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"content-type", "application/json", 0, "fetch#cors-safelisted-request-header"},
    {"content-type", "text/plain; long=" D100 "0123456789012", 0,
     "wpt:fetch/api/cors/resources/not-cors-safelisted.json (130 bytes)"},
    {"content-type", "text /plain", 0, "mimesniff parse a MIME type (type is not a token)"},
    {"content-type", "text/plain, text/plain", 0, "fetch#cors-safelisted-request-header (XHR's combined value)"},
    {"content-type", "text/plain;\"", 0, "fetch#cors-safelisted-request-header (unsafe byte)"},
    {"content-type", "text/plain;charset=\"utf-8\"", 0, "fetch#cors-safelisted-request-header (quote is unsafe)"},
    {"content-type", "textplain", 0, "mimesniff parse a MIME type (no '/')"},
    {"content-type", "text/", 0, "mimesniff parse a MIME type (empty subtype)"},
    {"content-type", "/plain", 0, "mimesniff parse a MIME type (empty type)"},
    {"Range", "bytes=0-", 1, "fetch#cors-safelisted-request-header (bytes=N- is a simple range header value)"},
    {"range", "bytes=0-499", 1, "fetch#simple-range-header-value"},
    {"range", "bytes=5-5", 1, "fetch#simple-range-header-value"},
    {"range", "bytes=-500", 0, "fetch#cors-safelisted-request-header (no start: not safelisted)"},
    {"range", "bytes 0-", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"range", "bytes=5-1", 0, "fetch#simple-range-header-value (start > end)"},
    {"range", "Bytes=0-", 0, "fetch#simple-range-header-value (\"bytes\" is case-sensitive)"},
    {"range", "bytes= 0-", 0, "fetch#simple-range-header-value (no whitespace)"},
    {"range", "bytes=0-1,2-3", 0, "fetch#simple-range-header-value (one range only)"},
    {"range", "bytes=", 0, "fetch#simple-range-header-value"},
    {"range", "bytes=-", 0, "fetch#simple-range-header-value (both omitted)"},
    {"authorization", "basics", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"last-event-id", "\"", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"test", "hi", 0, "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"X-Test", "1", 0, "fetch#cors-safelisted-request-header (Otherwise)"},
};

START_TEST(safelisted_headers)
{
    const __typeof__(header_rows[0]) *r = &header_rows[_i];
    ck_assert_msg(ch_cors_safelisted_request_header(r->name, r->value, strlen(r->value)) == r->safelisted,
                  "%s: \"%.40s\" should %sbe safelisted [%s]", r->name, r->value, r->safelisted ? "" : "not ",
                  r->src);
}
END_TEST

/* ---- 3. CORS-unsafe request-header names ---------------------------------------------------------------- */

#define A128 "Accept: " D128 "\n"
#define CL128 "Content-Language: " D128 "\n"

static const struct {
    const char *headers, *joined, *src;
} unsafe_rows[] = {
    {"", "", "fetch#cors-unsafe-request-header-names"},
    {"Accept: */*", "", "wpt:fetch/api/cors/cors-no-preflight.any.js"},
    {"X-Test: 1", "x-test", "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"X-B: 1\nx-a: 2", "x-a,x-b", "wpt:xhr/access-control-preflight-request-header-sorted"},
    {"X-TEST: 1", "x-test", "wpt:xhr/access-control-preflight-request-header-lowercase"},
    {"X-Test: 1\nx-test: 2", "x-test", "fetch#cors-unsafe-request-header-names (a set)"},
    {"x-test-header1: v\nx-test-header2: v\nx-test-header2: v\nX-test-header3: v\nx-test-header-b: v\n"
     "x-test-header-D: v\nx-test-header-C: v\nx-test-header-a: v\nContent-Type: allowedOrRefused\nAccept: *\n"
     "Accept-Language: bzh\nContent-Language: eu",
     "content-type,x-test-header-a,x-test-header-b,x-test-header-c,x-test-header-d,x-test-header1,x-test-header2,"
     "x-test-header3",
     "wpt:fetch/api/cors/cors-preflight.any.js (several headers)"},
    {"Content-Type: text/html", "content-type", "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"Authorization: x", "authorization", "wpt:fetch/api/cors/resources/not-cors-safelisted.json"},
    {"Range: bytes=0-", "", "fetch#cors-safelisted-request-header"},
    {"Range: bytes=-5", "range", "fetch#cors-safelisted-request-header"},
    {A128 A128 A128 A128 CL128 CL128 CL128 "Content-Language: " D128, "",
     "fetch#cors-unsafe-request-header-names (1024 bytes is not greater than 1024)"},
    {A128 A128 A128 A128 CL128 CL128 CL128 CL128 "Accept-Language: x", "accept,accept-language,content-language",
     "fetch#cors-unsafe-request-header-names (1025 bytes: every safelisted name too)"},
    {"X-A: 1\n" A128 A128 A128 A128 A128 A128 A128 A128 "Accept: 1", "accept,x-a",
     "fetch#cors-unsafe-request-header-names"},
    {"X-Big: " D100 D100 D100 D100 D100 D100 D100 D100 D100 D100 "\nAccept: x", "x-big",
     "fetch#cors-unsafe-request-header-names (unsafe values do not count toward 1024)"},
    {"Accept: " D129 "\n" A128 A128 A128 A128 A128 A128 "Accept: " D128, "accept",
     "fetch#cors-unsafe-request-header-names (a 129-byte value is unsafe and does not count)"},
};

START_TEST(unsafe_names)
{
    struct hl l;
    struct ch_cors_names names;
    H(&l, unsafe_rows[_i].headers);
    ch_cors_unsafe_names(l.v, l.n, &names);
    char *j = ch_cors_join(&names);
    ck_assert_msg(strcmp(j, unsafe_rows[_i].joined) == 0, "got \"%s\", want \"%s\" [%s]", j, unsafe_rows[_i].joined,
                  unsafe_rows[_i].src);
    free(j);
    ch_cors_names_free(&names);
}
END_TEST

/* ---- 4. CORS check -------------------------------------------------------------------------------------- */

static const struct {
    const char *reply;
    int include, pass;
    enum ch_cors_rule_id rule;
    const char *src;
} check_rows[] = {
    {"", 0, 0, CH_CORS_R_ACAO_MISSING, "fetch#concept-cors-check step 2"},
    {ACAO "*", 0, 1, CH_CORS_R_CHECK_PASS_STAR, "fetch#cors-protocol-and-credentials (omit, *, omitted)"},
    {ACAO "*\n" ACAC "true", 0, 1, CH_CORS_R_CHECK_PASS_STAR,
     "fetch#cors-protocol-and-credentials (ACAC ignored without include)"},
    {ACAO "*", 1, 0, CH_CORS_R_ACAO_STAR_CREDENTIALS, "fetch#concept-cors-check"},
    {ACAO "*\n" ACAC "true", 1, 0, CH_CORS_R_ACAO_STAR_CREDENTIALS,
     "fetch#cors-protocol-and-credentials (include, *, true)"},
    {ACAO O, 0, 1, CH_CORS_R_CHECK_PASS_ORIGIN, "fetch#cors-protocol-and-credentials"},
    {ACAO O "/", 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#cors-protocol-and-credentials (no trailing slash)"},
    {ACAO "HTTP://A.TEST", 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#concept-cors-check (byte for byte)"},
    {ACAO "http://b.test", 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#concept-cors-check"},
    {ACAO "null", 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#concept-cors-check (null is not `null`)"},
    {ACAO O "\n" ACAC "true", 1, 1, CH_CORS_R_CHECK_PASS_ORIGIN, "fetch#cors-protocol-and-credentials"},
    {ACAO O "\n" ACAC "True", 1, 0, CH_CORS_R_ACAC_NOT_TRUE,
     "fetch#cors-protocol-and-credentials (`true` is case-sensitive)"},
    {ACAO O, 1, 0, CH_CORS_R_ACAC_NOT_TRUE, "fetch#concept-cors-check step 8"},
    {ACAO O "\n" ACAC "true\n" ACAC "true", 1, 0, CH_CORS_R_ACAC_NOT_TRUE,
     "fetch#concept-cors-check (get combines to `true, true`)"},
    {ACAO O "\n" ACAO O, 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#concept-cors-check (a duplicated header)"},
    {ACAO "*\n" ACAO "*", 0, 0, CH_CORS_R_ACAO_MISMATCH, "fetch#concept-cors-check (two `*` get as `*, *`: neither `*` nor the origin)"},
    {ACAO O ", http://b.test", 0, 0, CH_CORS_R_ACAO_MISMATCH, "wpt:fetch/api/cors/cors-multiple-origins.sub.any.js"},
    {ACAO "  " O "  ", 0, 1, CH_CORS_R_CHECK_PASS_ORIGIN, "fetch#concept-header-value-normalize"},
    {"access-control-allow-origin: *", 0, 1, CH_CORS_R_CHECK_PASS_STAR, "fetch#concept-header-list-get"},
    {ACAO O "\n" ACAC "true", 0, 1, CH_CORS_R_CHECK_PASS_ORIGIN, "fetch#concept-cors-check step 5"},
};

START_TEST(cors_check)
{
    struct hl l;
    struct ch_cors_decision why;
    H(&l, check_rows[_i].reply);
    int pass = ch_cors_check(l.v, l.n, O, check_rows[_i].include, &why);
    ck_assert_msg(pass == check_rows[_i].pass && why.rule == check_rows[_i].rule, "got %d %s (%s), want %d %s [%s]",
                  pass, rule_id(why.rule), why.detail, check_rows[_i].pass, rule_id(check_rows[_i].rule),
                  check_rows[_i].src);
}
END_TEST

/* ---- 5. preflight success ------------------------------------------------------------------------------- */

#define STAR_SRC "wpt:fetch/api/cors/cors-preflight-star.any.js"
#define STATUS_SRC "wpt:fetch/api/cors/cors-preflight-status.any.js"
#define FP "x-force-preflight: \n"
#define FP_OK ACAO "*\n" ACAH "x-force-preflight"
#define CRED ACAO O "\n" ACAC "true\n"

static const struct {
    const char *method, *req;
    int include, upload, status;
    const char *reply;
    int ok;
    enum ch_cors_rule_id rule;
    const char *src;
} pre_rows[] = {
    {"GET", "X-Test: 1", 0, 0, 200, ACAO "*\n" ACAM "get\n" ACAH "x-test", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC},
    {"SUPER", "X-Test: 1", 0, 0, 200, ACAO "*\n" ACAM "*\n" ACAH "x-test", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC},
    {"OK", "X-Test: 1", 0, 0, 200, ACAO "*\n" ACAM "*\n" ACAH "*", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC},
    {"OK", "X-Test: 1", 1, 0, 200, CRED ACAM "*\n" ACAH "*", 0, CH_CORS_R_METHOD_STAR_CREDENTIALS, STAR_SRC},
    {"PUT", "", 1, 0, 200, CRED ACAM "*\n" ACAH "", 0, CH_CORS_R_METHOD_STAR_CREDENTIALS, STAR_SRC},
    {"PUT", "", 1, 0, 200, CRED ACAM "PUT\n" ACAH "*", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC},
    {"GET", "X-Test: 1", 1, 0, 200, CRED ACAM "get\n" ACAH "*", 0, CH_CORS_R_HEADER_STAR_CREDENTIALS, STAR_SRC},
    {"GET", "X-Test: 1", 1, 0, 200, CRED ACAM "*\n" ACAH "*", 0, CH_CORS_R_HEADER_STAR_CREDENTIALS, STAR_SRC},
    {"*", "*: 1", 1, 0, 200, CRED ACAM "*\n" ACAH "*", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC " (literal *)"},
    {"PUT", "", 1, 0, 200, CRED ACAM "put\n" ACAH "*", 0, CH_CORS_R_METHOD_NOT_ALLOWED, STAR_SRC},
    {"patch", "", 0, 0, 200, ACAO "*\n" ACAM "PATCH", 0, CH_CORS_R_METHOD_NOT_ALLOWED, "fetch#cors-preflight-fetch-0 (methods compare byte for byte: patch is not PATCH)"},
    {"PATCH", "", 0, 0, 200, ACAO "*\n" ACAM "patch", 0, CH_CORS_R_METHOD_NOT_ALLOWED, "fetch#cors-preflight-fetch-0"},
    {"patch", "", 0, 0, 200, ACAO "*\n" ACAM "patch", 1, CH_CORS_R_PREFLIGHT_OK, "fetch#cors-preflight-fetch-0"},
    {"DELETE", "", 0, 0, 200, ACAO "*\n" ACAM "PUT, DELETE", 1, CH_CORS_R_PREFLIGHT_OK,
     "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"DELETE", "", 0, 0, 200, ACAO "*\n" ACAM "PUT\n" ACAM "DELETE", 1, CH_CORS_R_PREFLIGHT_OK,
     "fetch#extract-header-list-values (two headers)"},
    {"DELETE", "", 0, 0, 200, ACAO "*", 0, CH_CORS_R_METHOD_NOT_ALLOWED, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {"PUT", "", 0, 1, 200, ACAO "*", 1, CH_CORS_R_PREFLIGHT_OK,
     "fetch#cors-preflight-fetch-0 (use-CORS-preflight: methods default to the request's)"},
    {"GET", "", 0, 1, 200, ACAO "*", 1, CH_CORS_R_PREFLIGHT_OK, "wpt:xhr/event-upload-progress-crossorigin.any.js"},
    {"POST", "X-Test: 1", 0, 0, 200, ACAO "*\n" ACAH "X-TEST", 1, CH_CORS_R_PREFLIGHT_OK,
     "fetch#cors-preflight-fetch-0 (header names case-insensitive)"},
    {"GET", "X-A: 1\nX-B: 2", 0, 0, 200, ACAO "*\n" ACAH "x-a", 0, CH_CORS_R_HEADER_NOT_ALLOWED,
     "fetch#cors-preflight-fetch-0"},
    {"GET", "X-A: 1\nX-B: 2", 0, 0, 200, ACAO "*\n" ACAH " x-a , x-b ", 1, CH_CORS_R_PREFLIGHT_OK,
     "wpt:fetch/api/cors/cors-preflight.any.js (allow_headers joined by ' ,')"},
    {"GET", "X-A: 1\nX-B: 2", 0, 0, 200, ACAO "*\n" ACAH "x-a,,x-b,", 1, CH_CORS_R_PREFLIGHT_OK,
     "RFC 9110 §5.6.1 (empty list elements)"},
    {"GET", "X-A: 1", 0, 0, 200, ACAO "*\n" ACAH "x-a;x-b", 0, CH_CORS_R_ACAH_UNPARSABLE,
     "fetch#extract-header-list-values"},
    {"GET", FP, 0, 0, 200, FP_OK ", header name with space", 0, CH_CORS_R_ACAH_UNPARSABLE,
     "wpt:fetch/api/cors/cors-preflight-response-validation.any.js"},
    {"GET", FP, 0, 0, 200, FP_OK "\n" ACAM "Bad method name", 0, CH_CORS_R_ACAM_UNPARSABLE,
     "wpt:fetch/api/cors/cors-preflight-response-validation.any.js"},
    {"GET", "Authorization: x", 0, 0, 200, ACAO "*\n" ACAH "*", 0, CH_CORS_R_AUTHORIZATION,
     "fetch#cors-non-wildcard-request-header-name"},
    {"GET", "Authorization: x", 0, 0, 200, ACAO "*\n" ACAH "authorization", 1, CH_CORS_R_PREFLIGHT_OK, STAR_SRC},
    {"GET", "Authorization: x\nX-Test: 1", 0, 0, 200, ACAO "*\n" ACAH "*, Authorization", 1, CH_CORS_R_PREFLIGHT_OK,
     "fetch#cors-preflight-fetch-0"},
    {"GET", "Authorization: x", 1, 0, 200, CRED ACAH "*", 0, CH_CORS_R_AUTHORIZATION,
     "fetch#cors-non-wildcard-request-header-name"},
    {"GET", FP, 0, 0, 200, ACAH "x-force-preflight", 0, CH_CORS_R_ACAO_MISSING, "fetch#cors-preflight-fetch-0"},
    {"GET", FP, 1, 0, 200, ACAO O "\n" ACAH "x-force-preflight", 0, CH_CORS_R_ACAC_NOT_TRUE,
     "fetch#cors-preflight-fetch-0 (CORS check under the request's credentials mode)"},
    {"GET", FP, 0, 0, 302, ACAH "x-force-preflight", 0, CH_CORS_R_ACAO_MISSING,
     "fetch#cors-preflight-fetch-0 (the CORS check comes first)"},
    {"GET", FP, 0, 0, 200, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 201, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 202, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 203, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 204, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 205, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 206, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, STATUS_SRC},
    {"GET", FP, 0, 0, 300, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 301, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 302, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 303, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 304, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 305, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 306, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 307, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 308, FP_OK, 0, CH_CORS_R_PREFLIGHT_REDIRECT, STATUS_SRC},
    {"GET", FP, 0, 0, 400, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 401, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 402, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 403, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 404, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 405, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 501, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 502, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 503, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 504, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 505, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, STATUS_SRC},
    {"GET", FP, 0, 0, 417, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, "wpt:cors/preflight-failure.htm"},
    {"GET", FP, 0, 0, 680, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, "wpt:cors/preflight-failure.htm"},
    {"GET", FP, 0, 0, 790, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, "wpt:cors/preflight-failure.htm"},
    {"GET", FP, 0, 0, 199, FP_OK, 0, CH_CORS_R_PREFLIGHT_STATUS, "fetch#ok-status"},
    {"GET", FP, 0, 0, 299, FP_OK, 1, CH_CORS_R_PREFLIGHT_OK, "fetch#ok-status"},
};

START_TEST(preflight)
{
    const __typeof__(pre_rows[0]) *r = &pre_rows[_i];
    struct hl req, rep;
    struct ch_cors_decision why;
    long age = -1;
    H(&req, r->req);
    H(&rep, r->reply);
    struct ch_cors_reply reply = {r->status, rep.v, rep.n};
    int ok = ch_cors_preflight_check(r->method, req.v, req.n, O, r->include, r->upload, &reply, &age, &why);
    ck_assert_msg(ok == r->ok && why.rule == r->rule, "%s: got %d %s (%s), want %d %s [%s]", r->method, ok,
                  rule_id(why.rule), why.detail, r->ok, rule_id(r->rule), r->src);
    if (ok) ck_assert_int_eq(age, CH_CORS_DEFAULT_MAX_AGE);
}
END_TEST

/* ---- 6. header list values and Access-Control-Max-Age --------------------------------------------------- */

static const struct {
    const char *headers, *name;
    enum ch_cors_abnf abnf;
    int rc;
    const char *joined, *src;
} extract_rows[] = {
    {"", "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD, 1, "", "fetch#extract-header-list-values (null)"},
    {ACAM "GET, PUT", "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD, 0, "GET,PUT",
     "fetch#extract-header-list-values"},
    {ACAM "GET,,PUT,", "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD, 0, "GET,PUT", "RFC 9110 §5.6.1"},
    {ACAM "", "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD, 0, "", "fetch#http-new-header-syntax (#method)"},
    {ACAM "GET PUT", "Access-Control-Allow-Methods", CH_CORS_LIST_METHOD, -1, "",
     "fetch#extract-header-list-values (failure)"},
    {ACAM "GET\n" ACAM "PUT", "access-control-allow-methods", CH_CORS_LIST_METHOD, 0, "GET,PUT",
     "fetch#extract-header-list-values (every header)"},
    {ACAH "\"x\"", "Access-Control-Allow-Headers", CH_CORS_LIST_FIELD_NAME, -1, "",
     "fetch#http-new-header-syntax (#field-name)"},
    {ACEH "*, set-cookie", "Access-Control-Expose-Headers", CH_CORS_LIST_FIELD_NAME, 0, "*,set-cookie",
     "wpt:fetch/api/cors/cors-expose-star.sub.any.js"},
    {MAXAGE "10\n" MAXAGE "10", "Access-Control-Max-Age", CH_CORS_DELTA_SECONDS, -1, "",
     "fetch#extract-header-list-values (one header allowed)"},
    {MAXAGE "10", "Access-Control-Max-Age", CH_CORS_DELTA_SECONDS, 0, "10", "fetch#http-new-header-syntax"},
};

START_TEST(extract)
{
    struct hl l;
    struct ch_cors_names v;
    H(&l, extract_rows[_i].headers);
    int rc = ch_cors_extract(l.v, l.n, extract_rows[_i].name, extract_rows[_i].abnf, &v);
    char *j = ch_cors_join(&v);
    ck_assert_msg(rc == extract_rows[_i].rc && strcmp(j, extract_rows[_i].joined) == 0, "got %d \"%s\" [%s]", rc, j,
                  extract_rows[_i].src);
    free(j);
    ch_cors_names_free(&v);
}
END_TEST

static const struct {
    const char *headers;
    long age;
    enum ch_cors_rule_id rule;
    const char *src;
} age_rows[] = {
    {"", 5, CH_CORS_R_MAX_AGE_DEFAULT, "fetch#cors-preflight-fetch-0 (null: 5)"},
    {MAXAGE "0", 0, CH_CORS_R_MAX_AGE, "fetch#http-access-control-max-age"},
    {MAXAGE "600", 600, CH_CORS_R_MAX_AGE, "fetch#http-access-control-max-age"},
    {MAXAGE "-1", 5, CH_CORS_R_MAX_AGE_DEFAULT, "fetch#cors-preflight-fetch-0 (-1 is not delta-seconds: the default 5; wpt:cors/preflight-cache.htm "
                                        "expects no caching)"},
    {MAXAGE "1.5", 5, CH_CORS_R_MAX_AGE_DEFAULT, "RFC 9111 delta-seconds"},
    {MAXAGE "", 5, CH_CORS_R_MAX_AGE_DEFAULT, "RFC 9111 delta-seconds (1*DIGIT)"},
    {MAXAGE "abc", 5, CH_CORS_R_MAX_AGE_DEFAULT, "fetch#cors-preflight-fetch-0 (failure: 5)"},
    {MAXAGE "+5", 5, CH_CORS_R_MAX_AGE_DEFAULT, "RFC 9111 delta-seconds"},
    {MAXAGE " 7 ", 7, CH_CORS_R_MAX_AGE, "fetch#concept-header-value-normalize"},
    {MAXAGE "10\n" MAXAGE "20", 5, CH_CORS_R_MAX_AGE_DEFAULT, "fetch#extract-header-list-values (two: failure)"},
    {MAXAGE "99999999999", 2147483648L, CH_CORS_R_MAX_AGE, "RFC 9111 §1.2.2 (overflow: 2^31)"},
};

START_TEST(max_age)
{
    struct hl l;
    struct ch_cors_decision why;
    H(&l, age_rows[_i].headers);
    long age = ch_cors_max_age(l.v, l.n, &why);
    ck_assert_msg(age == age_rows[_i].age && why.rule == age_rows[_i].rule, "got %ld %s [%s]", age, rule_id(why.rule),
                  age_rows[_i].src);
}
END_TEST

/* ---- 7. exposure ---------------------------------------------------------------------------------------- */

#define FILT_SRC "wpt:fetch/api/cors/cors-filtering.sub.any.js"
#define STAR_EXP_SRC "wpt:fetch/api/cors/cors-expose-star.sub.any.js"

static const struct {
    const char *reply;
    int include, basic;
    const char *name;
    int exposed;
    enum ch_cors_rule_id rule;
    const char *src;
} expose_rows[] = {
    {ACAO "*\nCache-Control: no-cache", 0, 0, "cache-control", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nContent-Language: fr", 0, 0, "content-language", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nContent-Type: text/html", 0, 0, "content-type", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nExpires: 04 May 1988 22:22:22 GMT", 0, 0, "expires", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nLast-Modified: x", 0, 0, "last-modified", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nPragma: no-cache", 0, 0, "pragma", 1, CH_CORS_R_EXPOSE_SAFELISTED, FILT_SRC},
    {ACAO "*\nContent-Length: 0", 0, 0, "content-length", 1, CH_CORS_R_EXPOSE_SAFELISTED,
     "fetch#cors-safelisted-response-header-name"},
    {ACAO "*\nAge: 27", 0, 0, "age", 0, CH_CORS_R_EXPOSE_NOT_LISTED, FILT_SRC},
    {ACAO "*\nServer: wptServe", 0, 0, "server", 0, CH_CORS_R_EXPOSE_NOT_LISTED, FILT_SRC},
    {ACAO "*\nWarning: Mind the gap", 0, 0, "warning", 0, CH_CORS_R_EXPOSE_NOT_LISTED, FILT_SRC},
    {ACAO "*\nSet-Cookie: name=value", 0, 0, "set-cookie", 0, CH_CORS_R_EXPOSE_FORBIDDEN, FILT_SRC},
    {ACAO "*\nSet-Cookie2: name=value", 0, 0, "set-cookie2", 0, CH_CORS_R_EXPOSE_FORBIDDEN, FILT_SRC},
    {ACAO "*", 0, 0, "access-control-allow-origin", 0, CH_CORS_R_EXPOSE_NOT_LISTED,
     "fetch#cors-safelisted-response-header-name"},
    {ACAO "*\nAge: 27\n" ACEH "Age", 0, 0, "age", 1, CH_CORS_R_EXPOSE_LISTED, FILT_SRC " (exposed)"},
    {ACAO "*\nServer: x\n" ACEH "Server", 0, 0, "server", 1, CH_CORS_R_EXPOSE_LISTED, FILT_SRC " (exposed)"},
    {ACAO "*\nSet-Cookie: a=b\n" ACEH "Set-Cookie", 0, 0, "set-cookie", 0, CH_CORS_R_EXPOSE_FORBIDDEN,
     FILT_SRC " (exposed, still forbidden)"},
    {ACAO "*\nX-Custom: 1\n" ACEH "X-CUSTOM", 0, 0, "x-custom", 1, CH_CORS_R_EXPOSE_LISTED,
     "fetch#cors-safelisted-response-header-name (case-insensitive)"},
    {ACAO "*\n" ACEH "*\nTest: X\nSet-Cookie: X\n*: whoa", 0, 0, "test", 1, CH_CORS_R_EXPOSE_STAR, STAR_EXP_SRC},
    {ACAO "*\n" ACEH "*\nTest: X\nSet-Cookie: X", 0, 0, "set-cookie", 0, CH_CORS_R_EXPOSE_FORBIDDEN, STAR_EXP_SRC},
    {ACAO O "\n" ACAC "true\n" ACEH "*\nTest: X\n*: whoa", 1, 0, "test", 0, CH_CORS_R_EXPOSE_STAR_LITERAL,
     STAR_EXP_SRC},
    {ACAO O "\n" ACAC "true\n" ACEH "*\nTest: X\n*: whoa", 1, 0, "*", 1, CH_CORS_R_EXPOSE_LISTED, STAR_EXP_SRC},
    {ACAO O "\n" ACAC "true\n" ACEH "*\nContent-Type: text/plain", 1, 0, "content-type", 1,
     CH_CORS_R_EXPOSE_SAFELISTED, STAR_EXP_SRC},
    {ACAO "*\n" ACEH "*\n" ACEH "set-cookie\nTest: X", 0, 0, "test", 1, CH_CORS_R_EXPOSE_STAR,
     STAR_EXP_SRC " (* among several values)"},
    {ACAO "*\n" ACEH "x-a x-b\nX-A: 1", 0, 0, "x-a", 0, CH_CORS_R_EXPOSE_UNPARSABLE, "fetch#main-fetch"},
    {ACAO "*\n" ACEH "x-a x-b\nContent-Type: a/b", 0, 0, "content-type", 1, CH_CORS_R_EXPOSE_SAFELISTED,
     "fetch#main-fetch"},
    {"X-Custom: 1", 0, 1, "x-custom", 1, CH_CORS_R_EXPOSE_BASIC, "fetch#concept-filtered-response-basic"},
    {"Set-Cookie: a=b", 0, 1, "set-cookie", 0, CH_CORS_R_EXPOSE_FORBIDDEN, "fetch#concept-filtered-response-basic"},
};

START_TEST(exposure)
{
    const __typeof__(expose_rows[0]) *r = &expose_rows[_i];
    struct hl l;
    struct ch_cors_outcome o = {0};
    H(&l, r->reply);
    struct ch_cors_reply reply = {200, l.v, l.n};
    ch_cors_exposure(&reply, r->include, r->basic, &o);
    const struct ch_cors_exposure *x = NULL;
    for (size_t i = 0; i < o.nheaders; i++)
        if (strcmp(o.headers[i].name, r->name) == 0) x = &o.headers[i];
    ck_assert_msg(x != NULL, "no entry for %s", r->name);
    ck_assert_msg(x->exposed == r->exposed && x->why.rule == r->rule, "%s: got %d %s, want %d %s [%s]", r->name,
                  x->exposed, rule_id(x->why.rule), r->exposed, rule_id(r->rule), r->src);
    ch_cors_outcome_free(&o);
}
END_TEST

/* ---- 8. the whole algorithm ----------------------------------------------------------------------------- */

#define X CH_CORS_XHR
#define FE CH_CORS_FETCH_API
#define OK200 ACAO "*"

static const struct {
    enum ch_cors_api api;
    const char *url_origin, *method, *req;
    enum ch_cors_creds creds;
    enum ch_cors_mode mode;
    int upload, body;
    const char *pre;   /* NULL: no preflight reply scripted */
    int pre_status;
    const char *act;
    int act_status;
    /* expected; acrh NULL = absent */
    int preflight;
    const char *acrm, *acrh;
    int sent, neterr, status;
    enum ch_cors_rule_id result;
    const char *src;
} eval_rows[] = {
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0, OK200, 200, 0, NULL, NULL, 1, 0, 200,
     CH_CORS_R_SHARED, "wpt:fetch/api/cors/cors-basic.any.js"},
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0, "", 200, 0, NULL, NULL, 1, 1, 0,
     CH_CORS_R_ACAO_MISSING, "fetch#http-fetch (CORS check of the actual response)"},
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0, OK200, 404, 0, NULL, NULL, 1, 0, 404,
     CH_CORS_R_SHARED, "fetch#cors-protocol (any status may be shared)"},
    {X, "http://b.test", "PUT", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAM "PUT", 200, OK200, 200, 1, "PUT",
     NULL, 1, 0, 200, CH_CORS_R_SHARED, "wpt:fetch/api/cors/cors-preflight.any.js"},
    {X, "http://b.test", "patch", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAM "PATCH", 200, OK200, 200, 1,
     "patch", NULL, 0, 1, 0, CH_CORS_R_METHOD_NOT_ALLOWED, "fetch#concept-method-normalize (patch stays patch)"},
    {X, "http://b.test", "delete", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAM "DELETE", 200, OK200, 200, 1,
     "DELETE", NULL, 1, 0, 200, CH_CORS_R_SHARED, "fetch#concept-method-normalize"},
    {X, "http://b.test", "GET", "X-B: 1\nx-a: 2", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAH "*", 200, OK200,
     200, 1, "GET", "x-a,x-b", 1, 0, 200, CH_CORS_R_SHARED, "wpt:xhr/access-control-preflight-request-header-sorted"},
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 1, 0, ACAO "*", 200, OK200, 200, 1, "GET", NULL, 1, 0,
     200, CH_CORS_R_SHARED, "xhr#the-send()-method (use-CORS-preflight flag)"},
    {FE, "http://b.test", "GET", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 1, 0, NULL, 0, OK200, 200, 0, NULL, NULL, 1, 0, 200,
     CH_CORS_R_SHARED, "fetch#main-fetch (fetch() has no upload listeners)"},
    {X, "http://b.test", "POST", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 1, NULL, 0, OK200, 200, 0, NULL, NULL, 1, 0, 200,
     CH_CORS_R_SHARED, "xhr#the-send()-method (text/plain;charset=UTF-8 is safelisted)"},
    {X, "http://b.test", "POST", "Content-Type: application/json", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 1,
     ACAO "*\n" ACAH "content-type", 200, OK200, 200, 1, "POST", "content-type", 1, 0, 200, CH_CORS_R_SHARED,
     "fetch#cors-safelisted-request-header"},
    {X, "http://b.test", "GET", "Content-Type: text/plain\nContent-Type: text/plain", CH_CORS_CREDS_SAME_ORIGIN, 0, 0,
     0, ACAO "*\n" ACAH "content-type", 200, OK200, 200, 1, "GET", "content-type", 1, 0, 200, CH_CORS_R_SHARED,
     "xhr#dom-xmlhttprequest-setrequestheader (combine: text/plain, text/plain)"},
    {FE, "http://b.test", "GET", "Content-Type: text/plain\nContent-Type: text/plain", CH_CORS_CREDS_SAME_ORIGIN, 0,
     0, 0, NULL, 0, OK200, 200, 0, NULL, NULL, 1, 0, 200, CH_CORS_R_SHARED,
     "fetch#concept-headers-append (two safelisted headers)"},
    {X, "http://b.test", "GET", "Cookie: a=b\nSec-Foo: 1\nOrigin: x", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0,
     OK200, 200, 0, NULL, NULL, 1, 0, 200, CH_CORS_R_SHARED, "fetch#forbidden-request-header (ignored)"},
    {X, "http://b.test", "GET", "X-HTTP-Method-Override: TRACE", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0, OK200,
     200, 0, NULL, NULL, 1, 0, 200, CH_CORS_R_SHARED, "fetch#forbidden-request-header (override to TRACE)"},
    {X, "http://b.test", "GET", "X-HTTP-Method-Override: PATCH", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAH "*",
     200, OK200, 200, 1, "GET", "x-http-method-override", 1, 0, 200, CH_CORS_R_SHARED, "fetch#forbidden-request-header"},
    {X, "http://b.test", "PUT", "", CH_CORS_CREDS_INCLUDE, 0, 0, 0, ACAO "*\n" ACAM "PUT", 200, OK200, 200, 1, "PUT",
     NULL, 0, 1, 0, CH_CORS_R_ACAO_STAR_CREDENTIALS, "wpt:fetch/api/cors/cors-cookies.any.js"},
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_INCLUDE, 0, 0, 0, NULL, 0, CRED, 200, 0, NULL, NULL, 1, 0, 200,
     CH_CORS_R_SHARED, "wpt:cors/credentials-flag.htm"},
    {X, "http://b.test", "GET", "", CH_CORS_CREDS_INCLUDE, 0, 0, 0, NULL, 0, ACAO O, 200, 0, NULL, NULL, 1, 1, 0,
     CH_CORS_R_ACAC_NOT_TRUE, "wpt:cors/credentials-flag.htm"},
    {X, O, "PUT", "X-Test: 1", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, NULL, 0, "", 201, 0, NULL, NULL, 1, 0, 201,
     CH_CORS_R_SAME_ORIGIN, "fetch#main-fetch (same origin: basic)"},
    {FE, "http://b.test", "GET", "X-Test: 1", CH_CORS_CREDS_OMIT, CH_CORS_MODE_NO_CORS, 0, 0, NULL, 0, OK200, 200, 0,
     NULL, NULL, 1, 0, 0, CH_CORS_R_OPAQUE, "fetch#main-fetch (no-cors; X-Test dropped by the guard)"},
    {FE, "http://b.test", "GET", "", CH_CORS_CREDS_OMIT, CH_CORS_MODE_SAME_ORIGIN, 0, 0, NULL, 0, OK200, 200, 0, NULL,
     NULL, 0, 1, 0, CH_CORS_R_SAME_ORIGIN_MODE, "fetch#main-fetch (same-origin mode)"},
    {X, "http://b.test", "PUT", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAM "PUT", 204, OK200, 200, 1, "PUT",
     NULL, 1, 0, 200, CH_CORS_R_SHARED, STATUS_SRC},
    {X, "http://b.test", "PUT", "", CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAM "PUT", 302, OK200, 200, 1, "PUT",
     NULL, 0, 1, 0, CH_CORS_R_PREFLIGHT_REDIRECT, "wpt:fetch/api/cors/cors-preflight-redirect.any.js"},
    {X, "http://b.test", "GET", "Accept: " D128 "\nAccept-Language: " D128 "\nContent-Language: " D128
     "\nContent-Type: text/plain;x=" D100 "\nRange: bytes=0-" D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10 D10,
     CH_CORS_CREDS_SAME_ORIGIN, 0, 0, 0, ACAO "*\n" ACAH "*", 200, OK200, 200, 0, NULL, NULL, 1, 0, 200,
     CH_CORS_R_SHARED, "fetch#cors-unsafe-request-header-names (5 values, 625 bytes)"},
};

START_TEST(evaluate)
{
    const __typeof__(eval_rows[0]) *r = &eval_rows[_i];
    struct hl req, pre, act;
    char err[CH_ERR_LEN] = "";
    H(&req, r->req);
    H(&pre, r->pre);
    H(&act, r->act);
    struct ch_cors_request rq = {r->api, O, r->url_origin, r->method, req.v, req.n, r->creds, r->mode, r->upload, r->body};
    struct ch_cors_reply prer = {r->pre_status, pre.v, pre.n}, actr = {r->act_status, act.v, act.n};
    struct ch_cors_outcome o;
    int rc = ch_cors_evaluate(&rq, r->pre ? &prer : NULL, &actr, &o, err);
    ck_assert_msg(rc == 0, "error: %s [%s]", err, r->src);
    ck_assert_msg(o.preflight == r->preflight, "preflight %d (%s) [%s]", o.preflight, rule_id(o.why_preflight.rule),
                  r->src);
    ck_assert_msg((o.acrm == NULL) == (r->acrm == NULL) && (!o.acrm || strcmp(o.acrm, r->acrm) == 0),
                  "ACRM %s [%s]", o.acrm ? o.acrm : "(absent)", r->src);
    ck_assert_msg((o.acrh == NULL) == (r->acrh == NULL) && (!o.acrh || strcmp(o.acrh, r->acrh) == 0),
                  "ACRH %s [%s]", o.acrh ? o.acrh : "(absent)", r->src);
    ck_assert_msg(o.actual_sent == r->sent && o.network_error == r->neterr && o.status == r->status &&
                      o.result.rule == r->result,
                  "sent %d neterr %d status %d %s (%s) [%s]", o.actual_sent, o.network_error, o.status,
                  rule_id(o.result.rule), o.result.detail, r->src);
    ch_cors_outcome_free(&o);
}
END_TEST

/* Inputs outside the model are refused, never guessed. */
static const struct {
    enum ch_cors_api api;
    const char *method, *req;
    int body;
    const char *pre, *act;
    int act_status;
    const char *phrase, *src;
} refuse_rows[] = {
    {X, "TRACE", "", 0, NULL, OK200, 200, "forbidden", "fetch#forbidden-method"},
    {X, "GE T", "", 0, NULL, OK200, 200, "not a token", "xhr#dom-xmlhttprequest-open"},
    {X, "GET", "X Y: 1", 0, NULL, OK200, 200, "SyntaxError", "xhr#dom-xmlhttprequest-setrequestheader"},
    {FE, "GET", "", 1, NULL, OK200, 200, "TypeError", "fetch#dom-request (GET with a body)"},
    {X, "PUT", "", 0, NULL, OK200, 200, "no preflight reply", "fetch#cors-preflight-fetch-0"},
    {X, "GET", "", 0, NULL, "Location: /x", 302, "redirect", "fetch#http-redirect-fetch"},
    {X, "POST", "Content-Type: text/plain;charset=latin1", 1, NULL, OK200, 200, "charset",
     "xhr#the-send()-method (charset rewrite)"},
};

START_TEST(refuse)
{
    const __typeof__(refuse_rows[0]) *r = &refuse_rows[_i];
    struct hl req, act;
    char err[CH_ERR_LEN] = "";
    H(&req, r->req);
    H(&act, r->act);
    struct ch_cors_request rq = {r->api, O, "http://b.test", r->method, req.v, req.n, CH_CORS_CREDS_SAME_ORIGIN,
                                 CH_CORS_MODE_CORS, 0, r->body};
    struct ch_cors_reply actr = {r->act_status, act.v, act.n};
    struct ch_cors_outcome o;
    ck_assert_int_eq(ch_cors_evaluate(&rq, NULL, &actr, &o, err), -1);
    ck_assert_msg(strstr(err, r->phrase) != NULL, "error \"%s\" lacks \"%s\" [%s]", err, r->phrase, r->src);
    ch_cors_outcome_free(&o);
}
END_TEST

/* Every rule has an id, a text and an absolute anchor. */
START_TEST(rule_table)
{
    for (int i = 0; i < CH_CORS_R_COUNT; i++) {
        const struct ch_cors_rule *r = ch_cors_rule((enum ch_cors_rule_id)i);
        ck_assert_msg(r->id && r->text && r->anchor && strncmp(r->anchor, "https://", 8) == 0, "rule %d", i);
        for (int j = 0; j < i; j++) ck_assert_str_ne(r->id, ch_cors_rule((enum ch_cors_rule_id)j)->id);
    }
}
END_TEST

int main(void)
{
    return ch_check_main("cors", 0,
                         CH_LOOPS(CH_LOOP(methods, method_rows), CH_LOOP(safelisted_headers, header_rows),
                                  CH_LOOP(unsafe_names, unsafe_rows), CH_LOOP(cors_check, check_rows),
                                  CH_LOOP(preflight, pre_rows), CH_LOOP(extract, extract_rows),
                                  CH_LOOP(max_age, age_rows), CH_LOOP(exposure, expose_rows),
                                  CH_LOOP(evaluate, eval_rows), CH_LOOP(refuse, refuse_rows)),
                         CH_TESTS(rule_table));
}
