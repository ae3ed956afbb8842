/* check_mutants.c — unit tests of ch_judge_mutants() (judge_mutate.c, judge_mutate_server.c): every kind of
 * expectation is proven able to fail on a record where it passed, a check no client could make fail survives
 * (a `never` on an event the program does not listen to, a Cookie that must be absent where none exists), the
 * subject of a check is not what proves it, and the record itself is never changed.
 *
 * Rows are JSON written with ' for " (testing.h, J()). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "core/core.h"
#include "testing/testing.h"

/* An XHR whose request timed out (https://xhr.spec.whatwg.org/#request-error-steps). */
#define EV(type, arg, t, extra) "{'obj':'xhr','type':'" type "'" arg ",'t':" #t ",'state':{'readyState':4,'status':0" extra "}}"
#define OBS_TIMEOUT                                                                                                  \
    "{'events':[" EV("readystatechange", ",'arg':1", 0.4, "") "," EV("loadstart", "", 0.9, ",'loaded':0") ","          \
    EV("readystatechange", ",'arg':4", 201.3, "") "," EV("timeout", "", 201.5, ",'loaded':0") ","                      \
    EV("loadend", "", 201.6, ",'loaded':0") "],'final':{'xhr':{'readyState':4,'status':0,'responseText':''}}}"
/* What real clients record on an xhr without `listen upload`. */
#define VOCAB_XHR "'events':{'xhr':['readystatechange','loadstart','progress','load','error','abort','timeout','loadend']}"

#define REQ(n, t, method, path, headers, extra)                                                                      \
    "{'type':'request','t_us':" #t ",'conn':" #n ",'n':1,'method':'" method "','path':'" path "','target':'/c/t1" path \
    "','headers':" headers ",'body_size':0" extra "}"
#define CLOSE(n, t, by, how) "{'type':'conn-close','t_us':" #t ",'conn':" #n ",'by':'" by "','how':'" how "'}"
#define END(n, t) "{'type':'end','t_us':" #t ",'conn':" #n ",'req':1}"
#define TR(events) "{'events':[" events "]}"
/* A preflight and the PUT it allowed, neither with a cookie. */
#define TR_PREFLIGHT                                                                                                 \
    TR(REQ(1, 100, "OPTIONS", "/r", "[['Origin','http://a'],['Access-Control-Request-Method','PUT']]", "") ","         \
       END(1, 200) "," REQ(2, 300, "PUT", "/r", "[['Origin','http://a']]", "") "," END(2, 400))

static const struct row {
    const char *name, *expect, *obs, *tr, *vocab;
    int killed;           /* 1: a mutant made it FAIL */
    const char *how;      /* a phrase of the mutant's description */
} rows[] = {
    /* ---- client checks ---- */
    {"events: a dropped event", "{'kind':'events','obj':'xhr','pattern':{'seq':[{'atom':{'type':'readystatechange','arg':1}},"
     "{'atom':{'type':'loadstart'}},{'atom':{'type':'readystatechange','arg':4}},{'atom':{'type':'timeout'}},{'atom':{'type':'loadend'}}]}}",
     OBS_TIMEOUT, NULL, "{" VOCAB_XHR "}", 1, "drop xhr event 1 (readystatechange(1))"},
    {"events: a pattern every sequence matches survives", "{'kind':'events','obj':'xhr','pattern':{'repeat':{'atom':{'type':'.'}},'min':0,'max':null}}",
     OBS_TIMEOUT, NULL, "{" VOCAB_XHR "}", 0, ""},
    {"events: an argument", "{'kind':'events','obj':'xhr','pattern':{'repeat':{'alt':[{'atom':{'type':'readystatechange','arg':1}},"
     "{'atom':{'type':'readystatechange','arg':4}},{'atom':{'type':'loadstart'}},{'atom':{'type':'timeout'}},"
     "{'atom':{'type':'loadend'}}]},'min':0,'max':null}}",
     OBS_TIMEOUT, NULL, "{" VOCAB_XHR "}", 1, "change the argument of xhr event 1"},
    {"never: an event the object records", "{'kind':'never','obj':'xhr','atoms':[{'type':'load'},{'type':'error'}]}", OBS_TIMEOUT,
     NULL, "{" VOCAB_XHR "}", 1, "add xhr event load"},
    {"never: an event the program does not listen to survives", "{'kind':'never','obj':'xhr','atoms':[{'type':'upload.loadstart'}]}",
     OBS_TIMEOUT, NULL, "{" VOCAB_XHR "}", 0, ""},
    {"never: no vocabulary, no mutant", "{'kind':'never','obj':'xhr','atoms':[{'type':'load'}]}", OBS_TIMEOUT, NULL, NULL, 0, ""},
    {"never: the atom's argument", "{'kind':'never','obj':'xhr','atoms':[{'type':'readystatechange','arg':0}]}", OBS_TIMEOUT, NULL,
     "{" VOCAB_XHR "}", 1, "add xhr event readystatechange(0)"},
    {"count exact: one more", "{'kind':'count','obj':'xhr','atom':{'type':'readystatechange'},'n':2,'at_least':false}",
     OBS_TIMEOUT, NULL, NULL, 1, "drop the last 1 of the 2"},
    {"count N+: down to N-1", "{'kind':'count','obj':'xhr','atom':{'type':'.'},'n':2,'at_least':true}", OBS_TIMEOUT, NULL, NULL, 1,
     "drop the last 4 of the 5"},
    {"count 0+ survives", "{'kind':'count','obj':'xhr','atom':{'type':'progress'},'n':0,'at_least':true}", OBS_TIMEOUT, NULL,
     "{" VOCAB_XHR "}", 0, ""},
    {"count 0: one occurrence", "{'kind':'count','obj':'xhr','atom':{'type':'progress'},'n':0,'at_least':false}", OBS_TIMEOUT, NULL,
     "{" VOCAB_XHR "}", 1, "add xhr event progress"},
    {"at: the asserted property", "{'kind':'at','obj':'xhr','atom':{'type':'timeout'},'nth':null,'props':{'status':0}}", OBS_TIMEOUT,
     NULL, NULL, 1, "change status at xhr event 4 (timeout)"},
    {"at #n: that occurrence", "{'kind':'at','obj':'xhr','atom':{'type':'readystatechange'},'nth':2,'props':{'readyState':4}}",
     OBS_TIMEOUT, NULL, NULL, 1, "change readyState at xhr event 3"},
    {"final: a property", "{'kind':'final','obj':'xhr','props':{'responseText':''}}", OBS_TIMEOUT, NULL, NULL, 1,
     "change the final responseText of xhr"},
    {"within: past the tolerance", "{'kind':'within','obj':'xhr','from':{'type':'loadstart'},'to':{'type':'timeout'},'ms':200,'tol_ms':50}",
     OBS_TIMEOUT, NULL, NULL, 1, "move timeout to 149.0 ms"},
    /* ---- server checks ---- */
    {"requests: one removed", "{'kind':'requests','list':[{'method':'OPTIONS','path':'/r','n':null},{'method':'PUT','path':'/r','n':null}]}",
     NULL, TR_PREFLIGHT, NULL, 1, "remove request 1 (OPTIONS /r)"},
    {"requests none: a request the case scripts", "{'kind':'requests','list':[]}", NULL, TR(""), "{'requests':[['GET','/x']]}", 1,
     "add a request GET /x"},
    {"requests none: nothing in play survives", "{'kind':'requests','list':[]}", NULL, TR(""), "{}", 0, ""},
    {"count: a preflight too many", "{'kind':'request-count','method':'OPTIONS','path':'/r','n':1}", NULL, TR_PREFLIGHT, NULL, 1,
     "remove the last OPTIONS /r"},
    {"count 0: a preflight to a path in play", "{'kind':'request-count','method':'OPTIONS','path':'/r','n':0}", NULL,
     TR(REQ(2, 300, "PUT", "/r", "[]", "")), "{'requests':[['PUT','/r']]}", 1, "add a request OPTIONS /r"},
    {"header absent: a Cookie where none exists survives", "{'kind':'request-header','sel':{'method':'OPTIONS','path':'/r'},'name':'Cookie','op':'absent'}",
     NULL, TR_PREFLIGHT, "{'headers':[['Origin','http://a']]}", 0, ""},
    {"header absent: a Cookie the case stored", "{'kind':'request-header','sel':{'method':'OPTIONS','path':'/r'},'name':'cookie','op':'absent'}",
     NULL, TR_PREFLIGHT, "{'headers':[['Cookie','ch=m']]}", 1, "add cookie: ch=m to OPTIONS /r"},
    {"header =: another value", "{'kind':'request-header','sel':{'method':'PUT','path':'/r'},'name':'Origin','op':'eq','value':'http://a'}",
     NULL, TR_PREFLIGHT, NULL, 1, "change the value of Origin in PUT /r"},
    {"header ~ matching anything: removed", "{'kind':'request-header','sel':{'index':1},'name':'Origin','op':'match','value':'.*'}",
     NULL, TR_PREFLIGHT, NULL, 1, "remove Origin from OPTIONS /r"},
    {"header present: removed", "{'kind':'request-header','sel':{'index':1},'name':'access-control-request-method','op':'present'}",
     NULL, TR_PREFLIGHT, NULL, 1, "remove access-control-request-method"},
    {"body =: a byte", "{'kind':'request-body','sel':{'method':'POST','path':'/p'},'op':'eq','value':'hello'}", NULL,
     TR(REQ(1, 100, "POST", "/p", "[]", ",'body_text':'hello','body_size':5")), NULL, 1, "change the last body byte of POST /p"},
    {"body size", "{'kind':'request-body','sel':{'method':'POST','path':'/p'},'op':'size','value':5}", NULL,
     TR(REQ(1, 100, "POST", "/p", "[]", ",'body_text':'hello','body_size':5")), NULL, 1, "add a body byte"},
    {"body ~ anything", "{'kind':'request-body','sel':{'method':'POST','path':'/p'},'op':'match','value':'.*'}", NULL,
     TR(REQ(1, 100, "POST", "/p", "[]", ",'body_text':'hello','body_size':5")), NULL, 1, "make the body of POST /p other bytes"},
    {"query absent with none in play survives", "{'kind':'request-query','sel':{'method':'GET','path':'/p'},'op':'absent'}", NULL,
     TR(REQ(1, 100, "GET", "/p", "[]", "")), "{}", 0, ""},
    {"query ~", "{'kind':'request-query','sel':{'method':'GET','path':'/p'},'op':'match','value':'(^|&)cb='}", NULL,
     "{'events':[{'type':'request','t_us':1,'conn':1,'n':1,'method':'GET','path':'/p','target':'/c/t1/p?cb=f','headers':[]}]}", NULL, 1,
     "empty the query of GET /p"},
    {"closed: the other side", "{'kind':'closed','sel':{'method':'GET','path':'/x'},'by':'server','how':'fin'}", NULL,
     TR(REQ(1, 100, "GET", "/x", "[]", "") "," CLOSE(1, 500, "server", "fin")), NULL, 1, "the other side closes"},
    {"interval: past the tolerance", "{'kind':'interval','from':{'at':'request','sel':{'method':'GET','path':'/x'}},"
     "'to':{'at':'end','sel':{'method':'GET','path':'/x'}},'ms':2000,'tol_ms':100}", NULL,
     TR(REQ(1, 1000, "GET", "/x", "[]", "") "," END(1, 2001000)), NULL, 1, "move end to 1899.0 ms"},
    {"ws-close: a field", "{'kind':'ws-close','sel':{'method':'GET','path':'/echo'},'props':{'first':'client','client.code':null}}",
     NULL, TR(REQ(1, 100, "GET", "/echo", "[]", "") ",{'type':'ws-close','t_us':900,'conn':1,'req':1,'first':'client',"
     "'client':{'code':null},'server':{'code':null},'clean':true}"), NULL, 1, "change first of the ws-close summary"},
};

static json_t *one_case(const char *expect)
{
    json_t *k = J("{'id':'t/mutants','spec':['https://example.test/'],'client':{'objects':[{'name':'xhr','kind':'xhr'}]},"
                  "'expect':[]}");
    json_t *e = J(expect);
    json_object_set_new(e, "line", json_integer(9));
    json_object_set_new(e, "level", json_string("must"));
    json_array_append_new(json_object_get(k, "expect"), e);
    return k;
}

START_TEST(row)
{
    const struct row *r = &rows[_i];
    json_t *kase = one_case(r->expect), *obs = r->obs ? J(r->obs) : NULL, *tr = r->tr ? J(r->tr) : NULL;
    json_t *vocab = r->vocab ? J(r->vocab) : NULL, *obs0 = json_deep_copy(obs), *tr0 = json_deep_copy(tr);
    json_t *v = ch_judge(kase, obs, tr, NULL, 1.0);
    ck_assert_msg(!strcmp(json_string_value(json_object_get(v, "status")), "PASS"), "%s: the original must pass: %s", r->name,
                  json_string_value(json_object_get(v, "message")));
    char how[300];
    size_t tried = 0;
    int killed = ch_judge_mutants(kase, 0, obs, tr, NULL, 1.0, vocab, how, sizeof how, &tried);
    ck_assert_msg(killed == r->killed, "%s: killed %d after %zu mutants (%s), want %d", r->name, killed, tried, how, r->killed);
    ck_assert_msg(strstr(how, r->how), "%s: the mutant is \"%s\", want \"%s\"", r->name, how, r->how);
    ck_assert_msg(json_equal(obs, obs0) || (!obs && !obs0), "%s: the observations were changed", r->name);
    ck_assert_msg(json_equal(tr, tr0) || (!tr && !tr0), "%s: the transcript was changed", r->name);
    json_decref(v);
    json_decref(kase);
    json_decref(obs);
    json_decref(tr);
    json_decref(obs0);
    json_decref(tr0);
    json_decref(vocab);
}
END_TEST

/* judge/tests/data: kinds.case holds one expectation of every kind the judge knew when it was written, and
 * records.jsonl a run on which all of them pass (k1-pass). Each is proven able to fail there. */
static void data_path(char *out, size_t cap, const char *name)
{
    const char *src = __FILE__, *slash = strrchr(src, '/');
    snprintf(out, cap, "%.*s/data/%s", slash ? (int)(slash - src) : 1, slash ? src : ".", name);
}

START_TEST(every_kind_of_the_kinds_case)
{
    char path[512], err[CH_ERR_LEN], how[300];
    json_error_t e;
    data_path(path, sizeof path, "kinds.case.json");
    json_t *kase = json_load_file(path, 0, &e), *rec = NULL;
    ck_assert_msg(kase != NULL, "%s: %s", path, e.text);
    data_path(path, sizeof path, "records.jsonl");
    size_t len;
    char *text = ch_read_file(path, &len, err);
    ck_assert_msg(text != NULL, "%s", err);
    for (char *line = strtok(text, "\n"); line && !rec; line = strtok(NULL, "\n")) {
        json_t *r = json_loads(line, 0, &e);
        if (r && !strcmp(json_string_value(json_object_get(r, "token")) ? json_string_value(json_object_get(r, "token")) : "", "k1-pass"))
            rec = r;
        else json_decref(r);
    }
    free(text);
    ck_assert_ptr_nonnull(rec);
    json_t *vocab = J("{" VOCAB_XHR ",'headers':[['Origin','http://localhost:1']]}");
    const json_t *expect = json_object_get(kase, "expect");
    for (size_t i = 0; i < json_array_size(expect); i++) {
        int killed = ch_judge_mutants(kase, i, json_object_get(rec, "observations"), json_object_get(rec, "transcript"),
                                      json_object_get(rec, "vars"), 1.0, vocab, how, sizeof how, NULL);
        ck_assert_msg(killed, "line %lld (%s) survived",
                      (long long)json_integer_value(json_object_get(json_array_get(expect, i), "line")),
                      json_string_value(json_object_get(json_array_get(expect, i), "text")));
    }
    json_decref(vocab);
    json_decref(rec);
    json_decref(kase);
}
END_TEST

int main(void)
{
    return ch_check_main("mutants", 60, CH_LOOPS(CH_LOOP(row, rows)), CH_TESTS(every_kind_of_the_kinds_case));
}
