/* check_cors_case.c — unit tests of the cors section compiler (harness/cors/cors_case.c, cors_expect.c): the routes
 * and program a block becomes, the oracle's summary, refusals, and the generated expectations judged by the
 * real judge (judge.h) against hand-written runs of a conforming and of non-conforming clients. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cors/cors.h"
#include "judge/judge.h"
#include "core/core.h"
#include "testing/testing.h"

#define OA "http://localhost:41001"

/* Parses JSON written with ' for ". */

static const struct ch_cors_header put_headers[] = {{"X-Test", "1", 1}};
static const struct ch_cors_header pre_ok[] = {{"Access-Control-Allow-Origin", "{origin-A}", 10},
                                               {"Access-Control-Allow-Methods", "PUT", 3},
                                               {"Access-Control-Allow-Headers", "x-test", 6}};
static const struct ch_cors_header pre_no_acam[] = {{"Access-Control-Allow-Origin", "*", 1},
                                                    {"Access-Control-Allow-Headers", "x-test", 6}};
static const struct ch_cors_header act_h[] = {{"Access-Control-Allow-Origin", "{origin-A}", 10},
                                              {"X-Custom", "1", 1},
                                              {"Set-Cookie", "a=b", 3}};

/* xhr PUT {B}/r with X-Test: 1; the preflight reply is pre (3 headers or 2). */
static struct ch_cors_block put_block(const struct ch_cors_header *pre, size_t npre)
{
    struct ch_cors_block b = {0};
    b.obj = "xhr";
    b.api = CH_CORS_XHR;
    b.page = 'A';
    b.line = 10;
    b.request_line = 11;
    b.method = "PUT";
    b.url = "{B}/r";
    b.headers = put_headers;
    b.nheaders = 1;
    b.credentials = CH_CORS_CREDS_SAME_ORIGIN;
    b.pre = (struct ch_cors_reply_spec){1, 12, 204, "No Content", pre, npre, NULL, 0};
    b.act = (struct ch_cors_reply_spec){1, 15, 200, "OK", act_h, CH_NROWS(act_h), "hi", 2};
    return b;
}

START_TEST(compile_routes_and_program)
{
    struct ch_cors_block b = put_block(pre_ok, CH_NROWS(pre_ok));
    json_t *routes = json_array(), *objects = json_array(), *steps = json_array(), *caps = json_array(), *sum;
    char err[CH_ERR_LEN] = "";
    ck_assert_msg(ch_cors_block_compile(&b, routes, objects, steps, caps, &sum, err) == 0, "%s", err);
    ck_assert_uint_eq(json_array_size(routes), 2);
    json_t *want = J("[{'method':'OPTIONS','path':'/r','prefix':false,'nth':null,'nth_plus':false,'origin':'B','line':12,"
                     "'steps':[{'op':'status','code':204,'reason':'No Content','line':12},"
                     "{'op':'header','name':'Access-Control-Allow-Origin','value':'{origin-A}','line':12},"
                     "{'op':'header','name':'Access-Control-Allow-Methods','value':'PUT','line':12},"
                     "{'op':'header','name':'Access-Control-Allow-Headers','value':'x-test','line':12}]},"
                     "{'method':'PUT','path':'/r','prefix':false,'nth':null,'nth_plus':false,'origin':'B','line':15,"
                     "'steps':[{'op':'status','code':200,'reason':'OK','line':15},"
                     "{'op':'header','name':'Access-Control-Allow-Origin','value':'{origin-A}','line':15},"
                     "{'op':'header','name':'X-Custom','value':'1','line':15},"
                     "{'op':'header','name':'Set-Cookie','value':'a=b','line':15},"
                     "{'op':'header','name':'Content-Length','value':'2','line':15},"
                     "{'op':'body','text':'hi','line':15}]}]");
    ck_assert_msg(json_equal(routes, want), "routes: %s", json_dumps(routes, JSON_COMPACT));
    json_decref(want);
    want = J("[{'obj':'xhr','op':'new','line':11},{'obj':'xhr','op':'open','method':'PUT','url':'{B}/r','async':true,"
             "'line':11},{'obj':'xhr','op':'header','name':'X-Test','value':'1','line':11},"
             "{'obj':'xhr','op':'send','line':11},{'obj':'xhr','op':'await','event':{'type':'loadend'},'count':1,'line':11},"
             "{'obj':'xhr','op':'get-header','name':'access-control-allow-origin','line':11},"
             "{'obj':'xhr','op':'get-header','name':'content-length','line':11},"
             "{'obj':'xhr','op':'get-header','name':'set-cookie','line':11},"
             "{'obj':'xhr','op':'get-header','name':'x-custom','line':11}]");
    ck_assert_msg(json_equal(steps, want), "steps: %s", json_dumps(steps, JSON_COMPACT));
    json_decref(want);
    ck_assert_str_eq(json_string_value(json_object_get(sum, "acrm")), "PUT");
    ck_assert_str_eq(json_string_value(json_object_get(sum, "acrh")), "x-test");
    ck_assert(json_is_true(json_object_get(sum, "preflight_ok")));
    ck_assert_int_eq(json_integer_value(json_object_get(sum, "max_age")), 5);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(sum, "exposed"), 0)), "content-length");
    ck_assert_uint_eq(json_array_size(json_object_get(sum, "hidden")), 3);
    ck_assert_str_eq(json_string_value(json_array_get(caps, 0)), "xhr");
    json_decref(routes), json_decref(objects), json_decref(steps), json_decref(caps), json_decref(sum);
}
END_TEST

/* fetch(): the program waits for the fetch's last event (body, body error or rejection), not for the settle time. */
START_TEST(compile_fetch_program_awaits_the_last_event)
{
    struct ch_cors_block b = put_block(pre_ok, CH_NROWS(pre_ok));
    b.obj = "fetch";
    b.api = CH_CORS_FETCH_API;
    json_t *routes = json_array(), *objects = json_array(), *steps = json_array(), *caps = json_array(), *sum;
    char err[CH_ERR_LEN] = "";
    ck_assert_msg(ch_cors_block_compile(&b, routes, objects, steps, caps, &sum, err) == 0, "%s", err);
    json_t *want = J("{'obj':'fetch','op':'await','event':{'type':'.'},'any_of':['body','error','reject'],'count':1,"
                     "'line':11}");
    json_t *last = json_array_get(steps, json_array_size(steps) - 1);
    ck_assert_msg(json_equal(last, want), "last step: %s", json_dumps(last, JSON_COMPACT));
    json_decref(want);
    json_decref(routes), json_decref(objects), json_decref(steps), json_decref(caps), json_decref(sum);
}
END_TEST

/* ---- generated expectations × the judge ---- */

#define VARS "{'A':'" OA "/c/t1','B':'http://localhost:41002/c/t1','C':'http://127.0.0.1:41003/c/t1'," \
    "'origin-A':'" OA "','origin-B':'http://localhost:41002','origin-C':'http://127.0.0.1:41003'," \
    "'host-A':'localhost:41001','host-B':'localhost:41002','host-C':'127.0.0.1:41003','token':'t1','case':'c'}"

#define REQ(n, m, hs) "{'t_us':" #n "00,'type':'request','conn':1,'n':" #n ",'method':'" m "','path':'/r','headers':[" hs "]}"
#define PRE_OK_HS "['Origin','" OA "'],['Access-Control-Request-Method','PUT'],['Access-Control-Request-Headers','x-test'],['Accept','*/*']"
#define PUT_HS "['Origin','" OA "'],['X-Test','1']"
#define EV(type, rest) "{'obj':'xhr','type':'" type "','t':1" rest "}"
#define RS(n, st) "{'obj':'xhr','type':'readystatechange','arg':" #n ",'t':1,'state':{'readyState':" #n ",'status':" #st "}}"
#define READ(name, v) "{'obj':'xhr','type':'read','t':2,'state':{'header:" name "':" v "}}"
#define OK_EVENTS RS(1, 0) "," EV("loadstart", "") "," RS(2, 200) "," RS(3, 200) "," EV("progress", "") "," RS(4, 200) "," \
    EV("load", "") "," EV("loadend", "")
#define ERR_EVENTS RS(1, 0) "," EV("loadstart", "") "," RS(4, 0) "," EV("error", "") "," EV("loadend", "")
#define OK_READS READ("access-control-allow-origin", "null") "," READ("content-length", "'2'") "," \
    READ("set-cookie", "null") "," READ("x-custom", "null")
#define NULL_READS READ("access-control-allow-origin", "null") "," READ("content-length", "null") "," \
    READ("set-cookie", "null") "," READ("x-custom", "null")

static const struct {
    int acam; /* 1: the preflight passes (pre_ok), 0: it fails (no ACAM) */
    const char *transcript, *events, *final, *status, *phrase, *why;
} judge_rows[] = {
    {1, REQ(1, "OPTIONS", PRE_OK_HS) "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," OK_READS, "{'readyState':4,'status':200}",
     "PASS", "", "a conforming client"},
    {0, REQ(1, "OPTIONS", "['Origin','" OA "'],['Access-Control-Request-Method','PUT'],['Access-Control-Request-Headers',"
        "'x-test'],['Accept','*/*']"), ERR_EVENTS "," NULL_READS, "{'readyState':4,'status':0}", "PASS", "",
     "a conforming client, failed preflight"},
    {0, REQ(1, "OPTIONS", PRE_OK_HS) "," REQ(2, "PUT", PUT_HS), ERR_EVENTS "," NULL_READS, "{'readyState':4,'status':0}",
     "FAIL", "preflight/method-not-allowed", "the actual request sent after a failed preflight"},
    {1, REQ(1, "OPTIONS", "['Origin','" OA "'],['Access-Control-Request-Method','PUT'],['Access-Control-Request-Headers',"
        "'X-Test'],['Accept','*/*']") "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," OK_READS, "{'readyState':4,'status':200}",
     "FAIL", "preflight/request", "ACRH not lowercased"},
    {1, REQ(1, "PUT", PUT_HS), OK_EVENTS "," OK_READS, "{'readyState':4,'status':200}", "FAIL",
     "preflight/needed-method", "no preflight"},
    {1, REQ(1, "OPTIONS", PRE_OK_HS ",['Cookie','a=b']") "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," OK_READS,
     "{'readyState':4,'status':200}", "PASS", "",
     "a Cookie on the preflight of a case that stored none: not judged (no client could send one; cookie_block)"},
    {1, REQ(1, "OPTIONS", PRE_OK_HS ",['X-Test','1']") "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," OK_READS,
     "{'readyState':4,'status':200}", "FAIL", "preflight/request", "an author header on the preflight"},
    {1, REQ(1, "OPTIONS", PRE_OK_HS) "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," READ("access-control-allow-origin", "null")
     "," READ("content-length", "'2'") "," READ("set-cookie", "null") "," READ("x-custom", "'1'"),
     "{'readyState':4,'status':200}", "FAIL", "expose/not-listed", "a hidden header shown"},
    {1, REQ(1, "OPTIONS", PRE_OK_HS) "," REQ(2, "PUT", PUT_HS), OK_EVENTS "," READ("access-control-allow-origin", "null")
     "," READ("content-length", "'2'") "," READ("set-cookie", "'a=b'") "," READ("x-custom", "null"),
     "{'readyState':4,'status':200}", "FAIL", "expose/forbidden", "Set-Cookie shown"},
    {1, REQ(1, "OPTIONS", PRE_OK_HS) "," REQ(2, "PUT", PUT_HS), ERR_EVENTS "," NULL_READS, "{'readyState':4,'status':0}",
     "FAIL", "response/shared", "a network error where the response is shared"},
    {0, REQ(1, "OPTIONS", PRE_OK_HS), OK_EVENTS "," NULL_READS, "{'readyState':4,'status':200}", "FAIL",
     "preflight/method-not-allowed", "load after a failed preflight"},
};

START_TEST(judged)
{
    const __typeof__(judge_rows[0]) *r = &judge_rows[_i];
    struct ch_cors_block b = r->acam ? put_block(pre_ok, CH_NROWS(pre_ok)) : put_block(pre_no_acam, CH_NROWS(pre_no_acam));
    json_t *routes = json_array(), *objects = json_array(), *steps = json_array(), *caps = json_array(), *sum;
    json_t *expect = json_array();
    char err[CH_ERR_LEN] = "";
    ck_assert_msg(ch_cors_block_compile(&b, routes, objects, steps, caps, &sum, err) == 0, "%s", err);
    ck_assert_int_gt(ch_cors_block_expect(&b, CH_CORS_FAM_CLIENT, 20, "must", NULL, 1, expect, err), 0);
    ck_assert_int_gt(ch_cors_block_expect(&b, CH_CORS_FAM_SERVER, 21, "must", NULL, 1, expect, err), 0);
    json_t *kase = json_pack("{s:s, s:[s], s:o, s:{s:o, s:o, s:[]}, s:o}", "id", "cors/t", "spec", "https://x/",
                             "server", routes, "client", "objects", objects, "steps", steps, "handlers", "expect", expect);
    char obs[8192], tr[4096];
    snprintf(obs, sizeof obs, "{'events':[%s],'final':{'xhr':%s}}", r->events, r->final);
    snprintf(tr, sizeof tr, "{'events':[%s]}", r->transcript);
    json_t *o = J(obs), *t = J(tr), *vars = J(VARS);
    json_t *v = ch_judge(kase, o, t, vars, 1.0);
    const char *status = json_string_value(json_object_get(v, "status"));
    const char *msg = json_string_value(json_object_get(v, "message"));
    ck_assert_msg(strcmp(status, r->status) == 0 && strstr(msg, r->phrase), "%s: %s — %s", r->why, status, msg);
    json_decref(v), json_decref(o), json_decref(t), json_decref(vars), json_decref(kase), json_decref(caps),
        json_decref(sum);
}
END_TEST

/* A preflight's `Cookie absent` is generated only where the case stored a cookie (else it could not fail). */
static int preflight_cookie_checks(const struct ch_cors_block *b)
{
    json_t *routes = json_array(), *objects = json_array(), *steps = json_array(), *caps = json_array(), *sum = NULL;
    json_t *expect = json_array(), *e;
    char err[CH_ERR_LEN] = "";
    size_t i;
    int n = 0;
    ck_assert_msg(ch_cors_block_compile(b, routes, objects, steps, caps, &sum, err) == 0, "%s", err);
    ck_assert_int_gt(ch_cors_block_expect(b, CH_CORS_FAM_SERVER, 21, "must", NULL, 1, expect, err), 0);
    json_array_foreach(expect, i, e) {
        const char *m = json_string_value(json_object_get(json_object_get(e, "sel"), "method"));
        const char *h = json_string_value(json_object_get(e, "name"));
        n += m && h && !strcmp(m, "OPTIONS") && !strcasecmp(h, "Cookie");
    }
    json_decref(routes), json_decref(objects), json_decref(steps), json_decref(caps), json_decref(sum);
    json_decref(expect);
    return n;
}

START_TEST(cookie_block)
{
    static const struct ch_cors_cookie jar[] = {{"sid", 0}};
    struct ch_cors_block b = put_block(pre_ok, CH_NROWS(pre_ok));
    ck_assert_int_eq(preflight_cookie_checks(&b), 0);
    b.cookies = jar;
    b.ncookies = 1;
    ck_assert_int_eq(preflight_cookie_checks(&b), 1);
}
END_TEST

/* ---- refusals ---- */

static const struct ch_cors_header acam_tmpl[] = {{"Access-Control-Allow-Origin", "*", 1},
                                                  {"Access-Control-Allow-Methods", "{token}", 7}};
static const struct ch_cors_header bad_tmpl[] = {{"X-Echo", "{req:origin}", 12}};
static const struct ch_cors_header req_tmpl[] = {{"X-Origin", "{origin-A}", 10}};

static const struct {
    int what;
    const char *phrase;
} refuse_rows[] = {
    {0, "starts with {A}, {B} or {C}"},
    {1, "OPTIONS"},
    {2, "oracle reads its bytes"},
    {3, "unknown placeholder"},
    {4, "oracle reads its bytes"},
    {5, "no preflight reply"},
    {6, "has no body"},
    {7, "holds a placeholder"},
    {8, "xhr request has no mode"},
};

START_TEST(refused)
{
    struct ch_cors_block b = put_block(pre_ok, CH_NROWS(pre_ok));
    switch (refuse_rows[_i].what) {
    case 0: b.url = "http://localhost/r"; break;
    case 1: b.method = "options"; break;
    case 2: b.pre.headers = acam_tmpl, b.pre.nheaders = CH_NROWS(acam_tmpl); break;
    case 3: b.act.headers = bad_tmpl, b.act.nheaders = CH_NROWS(bad_tmpl); break;
    case 4: b.headers = req_tmpl; break;
    case 5: b.pre.present = 0; break;
    case 6: b.act.status = 204; break;
    case 7: b.act.body = "{token}", b.act.body_len = 7; break;
    case 8: b.mode = CH_CORS_MODE_NO_CORS; break;
    }
    json_t *routes = json_array(), *objects = json_array(), *steps = json_array(), *caps = json_array(), *sum;
    char err[CH_ERR_LEN] = "";
    ck_assert_int_eq(ch_cors_block_compile(&b, routes, objects, steps, caps, &sum, err), -1);
    ck_assert_msg(strstr(err, refuse_rows[_i].phrase), "error \"%s\" lacks \"%s\"", err, refuse_rows[_i].phrase);
    ck_assert_uint_eq(json_array_size(routes) + json_array_size(steps), 0);
    json_decref(routes), json_decref(objects), json_decref(steps), json_decref(caps);
}
END_TEST

/* The ACAO template {origin-A} and http://{host-A} are one origin; {origin-C} is another. */
START_TEST(origin_templates)
{
    static const struct ch_cors_header h1[] = {{"Access-Control-Allow-Origin", "http://{host-A}", 15}};
    static const struct ch_cors_header h2[] = {{"Access-Control-Allow-Origin", "{origin-C}", 10}};
    struct ch_cors_block b = put_block(pre_ok, CH_NROWS(pre_ok));
    struct ch_cors_outcome o;
    char err[CH_ERR_LEN] = "";
    b.method = "GET", b.nheaders = 0, b.pre.present = 0;
    b.act.headers = h1, b.act.nheaders = 1;
    ck_assert_int_eq(ch_cors_block_check(&b, &o, err), 0);
    ck_assert_int_eq(o.network_error, 0);
    ch_cors_outcome_free(&o);
    b.act.headers = h2;
    ck_assert_int_eq(ch_cors_block_check(&b, &o, err), 0);
    ck_assert_int_eq(o.network_error, 1);
    ck_assert_int_eq(o.result.rule, CH_CORS_R_ACAO_MISMATCH);
    ch_cors_outcome_free(&o);
}
END_TEST

int main(void)
{
    return ch_check_main("cors_case", 0,
                         CH_LOOPS(CH_LOOP(refused, refuse_rows), CH_LOOP(judged, judge_rows)),
                         CH_TESTS(compile_routes_and_program, compile_fetch_program_awaits_the_last_event, origin_templates,
                                  cookie_block));
}
