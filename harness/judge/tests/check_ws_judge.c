/* check_ws_judge.c — the `ws-close` server expectation (harness/judge/judge_ws.c) through ch_judge(): a transcript
 * with an upgraded connection's summary, expectations that hold and that fail, and the ways there can be no
 * summary to check. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "testing/testing.h"


#define REQ(conn, n, path) \
    "{'t_us':10,'type':'request','conn':" #conn ",'n':" #n ",'method':'GET','path':'" path "','headers':[]}"
#define SUMMARY(conn, n, rest) "{'t_us':90,'type':'ws-close','conn':" #conn ",'req':" #n "," rest "}"

/* Two upgrades: /a (the client closed first with 1000 "x", clean) and /b (we failed it with 1002). */
#define TRANSCRIPT                                                                                                 \
    "{'events':[" REQ(1, 1, "/a") "," REQ(2, 2, "/b") ","                                                          \
    SUMMARY(1, 1, "'first':'client','code':1000,'reason':'x','clean':true,'handshake_completed':true,"             \
                  "'client':{'code':1000,'reason':'x'},'server':{'code':1000,'reason':'x'},'messages_in':2") ","   \
    SUMMARY(2, 2, "'first':'server','code':1002,'reason':'','clean':false,'handshake_completed':true,"             \
                  "'client':null,'server':{'code':1002,'reason':''},'failed':{'code':1002,'why':'unmasked'}") "]}"

static const struct {
    const char *exp;    /* one expectation's kind-specific fields */
    const char *status;
    const char *phrase; /* in the message (failures) */
} rows[] = {
    {"'sel':{'method':'GET','path':'/a'},'props':{'first':'client','code':1000,'reason':'x','clean':true}", "PASS", ""},
    {"'sel':{'method':'GET','path':'/a'},'props':{'client.code':1000,'messages_in':2}", "PASS", ""},
    {"'sel':{'index':2},'props':{'failed.code':1002,'client':null,'clean':false}", "PASS", ""},
    {"'sel':{'method':'GET','path':'/a'},'props':{'code':1005}", "FAIL", "code: expected 1005, observed 1000"},
    {"'sel':{'method':'GET','path':'/b'},'props':{'first':'client'}", "FAIL", "first: expected client, observed server"},
    {"'sel':{'method':'GET','path':'/c'},'props':{'clean':true}", "FAIL", "no such request"},
    {"'sel':{'method':'GET','path':'/a','n':2},'props':{'clean':true}", "FAIL", "no such request"},
    {"'sel':{'index':3},'props':{'clean':true}", "FAIL", "no such request"},
    {"'sel':{'method':'GET','path':'/a'},'props':{}", "ERROR", "props"},
};

START_TEST(ws_close_table)
{
    char kase[2048];
    snprintf(kase, sizeof kase,
             "{'id':'ws/t','spec':['https://www.rfc-editor.org/rfc/rfc6455#section-7.1.5'],'expect':[{'kind':'ws-close',"
             "'line':9,'rule':'r','spec':'s','level':'must','text':'t',%s}]}",
             rows[_i].exp);
    json_t *k = J(kase), *t = J(TRANSCRIPT), *o = J("{'events':[]}");
    json_t *v = ch_judge(k, o, t, NULL, 1.0);
    const char *status = json_string_value(json_object_get(v, "status"));
    const char *detail = json_string_value(json_object_get(json_array_get(json_object_get(v, "checks"), 0), "detail"));
    const char *observed = json_string_value(json_object_get(json_array_get(json_object_get(v, "checks"), 0), "observed"));
    char all[1024];
    snprintf(all, sizeof all, "%s | %s | %s", json_string_value(json_object_get(v, "message")), detail ? detail : "",
             observed ? observed : "");
    ck_assert_msg(!strcmp(status, rows[_i].status), "row %d: %s (%s)", _i, status, all);
    ck_assert_msg(strstr(all, rows[_i].phrase) != NULL, "row %d: '%s' not in '%s'", _i, rows[_i].phrase, all);
    json_decref(v);
    json_decref(k);
    json_decref(t);
    json_decref(o);
}
END_TEST

START_TEST(not_upgraded)
{
    json_t *k = J("{'id':'ws/t','spec':['s'],'expect':[{'kind':'ws-close','line':1,'rule':'r','spec':'s','level':'must',"
                  "'text':'t','sel':{'method':'GET','path':'/a'},'props':{'clean':true}}]}");
    json_t *t = J("{'events':[" REQ(1, 1, "/a") "]}");
    json_t *v = ch_judge(k, NULL, t, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(json_object_get(v, "checks"), 0), "observed")),
                                 "no WebSocket close"));
    json_decref(v);
    json_decref(k);
    json_decref(t);
}
END_TEST

int main(void)
{
    return ch_check_main("ws_judge", 0, CH_LOOPS(CH_LOOP(ws_close_table, rows)), CH_TESTS(not_upgraded));
}
