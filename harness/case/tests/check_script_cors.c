/* check_script_cors.c — table tests of the parser's cors sections and expect cors lines (harness/case/script_cors.c,
 * cases/FORMAT.md §7): good case texts and a JSON fragment each must yield (MODEL.md §1, §1.4), bad case texts
 * and the exact first error each must yield. The oracle's own rules are check_cors.c's; what a block compiles
 * to is check_cors_case.c's; here: the words, their checks, and how the parser places the result. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "testing/testing.h"

#define HEAD "case cors/t\ntitle T\nspec https://x.test/#a\n"
/* A preflighted PUT from line 4: preflight lines 6-8, actual lines 9-10. */
#define PUT "cors xhr\n  request PUT {B}/r\n  preflight status 204\n  preflight header Access-Control-Allow-Origin: *\n" \
            "  preflight header Access-Control-Allow-Methods: PUT\n  actual status 200 OK\n" \
            "  actual header Access-Control-Allow-Origin: *\n"
#define EXPECT "expect cors\n  client\n  server\n"

static const struct good {
    const char *text, *path, *json;
} good[] = {
    {HEAD PUT EXPECT, "", "{\"needs\":[\"xhr\"],\"client\":{\"objects\":[{\"name\":\"xhr\",\"kind\":\"xhr\"}],\"handlers\":[]},"
                          "\"cors\":[{\"obj\":\"xhr\",\"method\":\"PUT\",\"preflight\":true,\"acrm\":\"PUT\",\"acrh\":null,"
                          "\"preflight_ok\":true,\"actual_sent\":true,\"status\":200,\"max_age\":5}]}"},
    {HEAD PUT EXPECT, "server", "[{\"method\":\"OPTIONS\",\"path\":\"/r\",\"origin\":\"B\",\"line\":6,"
                                "\"steps\":[{\"op\":\"status\",\"code\":204,\"reason\":\"\"},{\"name\":\"Access-Control-Allow-Origin\"},"
                                "{\"name\":\"Access-Control-Allow-Methods\"}]},"
                                "{\"method\":\"PUT\",\"path\":\"/r\",\"origin\":\"B\",\"line\":9,\"steps\":[{\"reason\":\"OK\"},"
                                "{\"value\":\"*\"},{\"name\":\"Content-Length\",\"value\":\"0\"}]}]"},
    {HEAD PUT EXPECT, "expect.0", "{\"kind\":\"events\",\"obj\":\"xhr\",\"line\":12,\"level\":\"must\","
                                  "\"spec\":\"https://fetch.spec.whatwg.org/#http-fetch\"}"},
    {HEAD PUT EXPECT, "client.steps.1", "{\"obj\":\"xhr\",\"op\":\"open\",\"method\":\"PUT\",\"url\":\"{B}/r\",\"line\":5}"},
    /* fetch: every request option, in one step */
    {HEAD "cors fetch f\n  request patch {C}/x?q=1\n  header X-A \"1 2\"\n  mode cors\n  credentials include\n"
          "  body \"hi\"\n  preflight status 200\n  preflight header Access-Control-Allow-Origin: {origin-A}\n"
          "  preflight header Access-Control-Allow-Credentials: true\n  preflight header Access-Control-Allow-Methods: patch\n"
          "  preflight header Access-Control-Allow-Headers: x-a\n  actual status 201\n"
          "  actual header Access-Control-Allow-Origin: {origin-A}\n  actual header Access-Control-Allow-Credentials: true\n"
          "expect cors\n  client\n",
     "", "{\"needs\":[\"fetch\"],\"client\":{\"steps\":[{\"op\":\"new\"},{\"obj\":\"f\",\"op\":\"fetch\",\"method\":\"patch\","
         "\"url\":\"{C}/x?q=1\",\"mode\":\"cors\",\"credentials\":\"include\",\"headers\":[[\"X-A\",\"1 2\"]],\"body\":\"hi\"},"
         "{\"op\":\"await\",\"event\":{\"type\":\".\"}}]},\"server\":[{\"method\":\"OPTIONS\",\"path\":\"/x\",\"origin\":\"C\"},"
         "{\"method\":\"patch\"}],\"cors\":[{\"acrm\":\"patch\",\"acrh\":\"x-a\",\"status\":201,\"credentials\":true}]}"},
    /* listen upload and a cookie imply their capabilities */
    {HEAD "cors xhr\n  request POST {B}/r\n  listen upload\n  body \"x\"\n  cookie c1\n  preflight status 200\n"
          "  preflight header Access-Control-Allow-Origin: *\n  actual status 200\n  actual header Access-Control-Allow-Origin: *\n"
          "expect cors\n  cookies\n",
     "", "{\"needs\":[\"cookies\",\"xhr\",\"xhr-upload\"],\"cors\":[{\"why\":{\"rule\":\"preflight/needed-upload\"}}],"
         "\"expect\":[{\"kind\":\"request-header\",\"name\":\"Cookie\",\"op\":\"absent\",\"line\":14}]}"},
    /* expect cors lines take level and rule; a named section; expect client NAME checks its object too */
    {HEAD "cors xhr x1\n  request GET {B}/r\n  actual status 200\n  actual header Access-Control-Allow-Origin: *\n"
          "expect cors x1\n  informational \"a test of levels\"\n  server\n    level should\n    rule \"informational\"\n"
          "expect client x1\n  count load 1\n",
     "expect.0", "{\"kind\":\"request-count\",\"method\":\"OPTIONS\",\"n\":0,\"level\":\"should\","
                 "\"rule\":\"informational — no preflight: preflight/not-needed: a CORS-safelisted method with only "
                 "CORS-safelisted request-headers and no upload listener is sent without a preflight (method GET, no unsafe "
                 "header)\"}"},
    /* a page on B: the origin in the checks is B's */
    {"case cors/t\ntitle T\nspec https://x.test/#a\npage B\ncors xhr\n  request PUT {A}/r\n  preflight status 200\n"
     "  preflight header Access-Control-Allow-Origin: {origin-B}\n  preflight header Access-Control-Allow-Methods: PUT\n"
     "  actual status 200\n  actual header Access-Control-Allow-Origin: {origin-B}\nexpect cors\n  server\n",
     "", "{\"needs\":[\"page-b\",\"xhr\"],\"cors\":[{\"preflight_ok\":true}],"
         "\"expect\":[{},{},{},{\"kind\":\"request-header\",\"name\":\"Origin\",\"op\":\"eq\",\"value\":\"{origin-B}\"}]}"},
    /* a matrix varies the section; ids by axis labels */
    {"case cors/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis m get=\"GET\" lp=\"patch\"\ncors xhr\n  request $m {B}/r\n"
     "  preflight status 200\n  preflight header Access-Control-Allow-Origin: *\n  preflight header Access-Control-Allow-Methods: PATCH\n"
     "  actual status 200\n  actual header Access-Control-Allow-Origin: *\nexpect cors\n  server\n",
     "", "{\"id\":\"cors/m/get\",\"cors\":[{\"preflight\":false,\"actual_sent\":true}]}"},
    /* beside other sections: counts but no `requests` list */
    {HEAD "server GET /set\n  status 200\nclient xhr setter\n  open GET {A}/set\n  send\n  await loadend\n" PUT EXPECT,
     "", "{\"server\":[{\"path\":\"/set\"},{\"method\":\"OPTIONS\"},{\"method\":\"PUT\"}],"
         "\"client\":{\"objects\":[{\"name\":\"setter\"},{\"name\":\"xhr\",\"kind\":\"xhr\"}]}}"},
};

static const struct bad {
    const char *text, *error;
} bad[] = {
    {HEAD "cors ws\n  request GET {B}/r\n" EXPECT, "4:6: a cors section is xhr or fetch"},
    {HEAD "page A sandboxed\n" PUT EXPECT, "4:8: a sandboxed page has an opaque origin, which the cors sections' oracle does not "
                                        "model: write its server, client and expect sections out"},
    {HEAD "cors xhr 9x\n  request GET {B}/r\n" EXPECT, "4:10: a bad object name (write [A-Za-z][A-Za-z0-9_-]*)"},
    {HEAD "cors xhr\n  actual status 200\n" EXPECT, "4:1: a cors section needs a 'request METHOD URL' line"},
    {HEAD "cors xhr\n  request GET {B}/r\n" EXPECT, "4:1: a cors section needs an 'actual status CODE' line"},
    {HEAD "cors xhr\n  request GET http://x/r\n  actual status 200\n" EXPECT,
     "5:15: a cors request URL starts with {A}, {B} or {C} and a path: {B}/r"},
    {HEAD "cors xhr\n  request GET {B}/r\n  request GET {B}/s\n  actual status 200\n" EXPECT,
     "6:3: a second 'request' line in one cors section"},
    {HEAD "cors xhr\n  request GET {B}/r\n  send\n  actual status 200\n" EXPECT,
     "6:3: unknown cors line 'send' (request header credentials mode listen body preflight actual cookie)"},
    {HEAD "cors xhr\n  request GET {B}/r\n  actual status 101\n" EXPECT, "6:17: status code 101 is out of range 200-999"},
    {HEAD "cors xhr\n  request GET {B}/r\n  actual header X-A:b\n  actual status 200\n" EXPECT,
     "6:21: a space after the colon (write: NAME: VALUE)"},
    {HEAD "cors xhr\n  request GET {B}/r\n  actual header X-A: {req:origin}\n  actual status 200\n" EXPECT,
     "6:22: unknown placeholder {req:origin} in expect text"},
    {HEAD "cors xhr\n  request GET {B}/r\n  credentials maybe\n  actual status 200\n" EXPECT,
     "6:15: write: credentials omit|same-origin|include"},
    {HEAD "cors xhr\n  request PUT {B}/r\n  actual status 200\n" EXPECT,
     "4:1: the CORS oracle refuses this request: the oracle expects a preflight (preflight/needed-method) but the case "
     "scripts no preflight reply"},
    {HEAD "cors xhr\n  request GET {B}/r\n  mode no-cors\n  actual status 200\n" EXPECT, "4:1: an xhr request has no mode"},
    {HEAD "cors xhr\n  request OPTIONS {B}/r\n  actual status 200\n" EXPECT,
     "4:1: method OPTIONS would share the preflight's route: not in a cors section"},
    {HEAD "cors xhr\n  request GET {B}/r\n  header X \"{origin-A}\"\n  actual status 200\n" EXPECT,
     "4:1: request header X holds no placeholder or brace: the oracle reads its bytes"},
    {HEAD "cors xhr\n  request GET {B}/r\n  preflight status 200\n  preflight header Access-Control-Max-Age: {token}\n"
          "  actual status 200\n" EXPECT,
     "4:1: preflight header Access-Control-Max-Age holds no placeholder or brace: the oracle reads its bytes"},
    {HEAD "cors xhr\n  request TRACE {B}/r\n  actual status 200\n" EXPECT,
     "4:1: the CORS oracle refuses this request: method TRACE is forbidden: open() throws"},
    {HEAD PUT "expect cors\n  never load\n", "12:3: 'never' is not an expectation of expect cors"},
    {HEAD PUT "expect cors\n  client\n    spec https://x.test/\n",
     "13:5: an expect cors line takes level and rule (its spec comes from the oracle)"},
    {HEAD PUT "expect cors\n  cookies\n", "12:3: expect cors cookies: the cors section names no cookie"},
    {HEAD PUT "expect cors other\n  client\n", "11:13: no cors section named 'other'"},
    {HEAD "client xhr\n  open GET {A}/x\n  send\nexpect cors\n  client\n", "7:8: there is no cors section to check"},
    {HEAD "cors xhr\n  request GET {B}/r\n  actual status 200\n  actual header Access-Control-Allow-Origin: *\n"
          "cors xhr\n  request GET {B}/s\n  actual status 200\n" EXPECT, "8:6: a second object named 'xhr'"},
};

static void error_text(const json_t *errs, char *out, size_t n)
{
    size_t i, w = 0;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(errs, i, e) {
        int k = snprintf(out + w, n - w, "%d:%d: %s\n", (int)json_integer_value(json_object_get(e, "line")),
                         (int)json_integer_value(json_object_get(e, "col")), json_string_value(json_object_get(e, "message")));
        if (k < 0 || (size_t)k >= n - w) break;
        w += (size_t)k;
    }
}

START_TEST(good_table)
{
    const struct good *g = &good[_i];
    json_t *out = json_array(), *errs = json_array(), *want;
    json_error_t jerr;
    char text[4096];
    int n = ch_script_parse_text("t.case", g->text, strlen(g->text), "fixtures", out, errs);
    error_text(errs, text, sizeof text);
    ck_assert_msg(n == 0, "row %d: unexpected errors:\n%s", _i, text);
    want = json_loads(g->json, JSON_DECODE_ANY, &jerr);
    ck_assert_msg(want != NULL, "row %d: bad expected JSON: %s", _i, jerr.text);
    json_t *got = walk(json_array_get(out, 0), g->path);
    char *dump = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(nothing)");
    ck_assert_msg(subset_prefix(want, got), "row %d: at '%s' got %.400s", _i, g->path, dump);
    free(dump);
    json_decref(want);
    json_decref(out);
    json_decref(errs);
}
END_TEST

START_TEST(bad_table)
{
    const struct bad *b = &bad[_i];
    json_t *out = json_array(), *errs = json_array();
    char text[4096], first[4096];
    int n = ch_script_parse_text("t.case", b->text, strlen(b->text), "fixtures", out, errs);
    error_text(errs, text, sizeof text);
    ck_assert_msg(n > 0, "row %d: no error (wanted %s)", _i, b->error);
    ck_assert_int_eq(json_array_size(out), 0);
    snprintf(first, sizeof first, "%.*s", (int)strcspn(text, "\n"), text);
    ck_assert_msg(strcmp(first, b->error) == 0, "row %d:\n  want %s\n  got  %s", _i, b->error, text);
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* A pure cors case gets an exact `requests` list; beside other sections it gets none. */
START_TEST(requests_only_when_pure)
{
    const char *texts[] = {HEAD PUT EXPECT,
                           HEAD "server GET /set\n  status 200\nclient xhr setter\n  open GET {A}/set\n  send\n" PUT EXPECT};
    for (int i = 0; i < 2; i++) {
        json_t *out = json_array(), *errs = json_array(), *e;
        size_t k;
        int lists = 0;
        ck_assert_int_eq(ch_script_parse_text("t.case", texts[i], strlen(texts[i]), "fixtures", out, errs), 0);
        json_array_foreach(json_object_get(json_array_get(out, 0), "expect"), k, e)
            lists += !strcmp(json_string_value(json_object_get(e, "kind")), "requests");
        ck_assert_int_eq(lists, i == 0);
        json_decref(out);
        json_decref(errs);
    }
}
END_TEST

int main(void)
{
    return ch_check_main("script_cors", 0,
                         CH_LOOPS(CH_LOOP(good_table, good), CH_LOOP(bad_table, bad)),
                         CH_TESTS(requests_only_when_pure));
}
