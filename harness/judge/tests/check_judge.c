/* check_judge.c — unit tests of ch_judge() (harness/judge/): verdict statuses and their precedence, each
 * expectation kind, messages, and hostile input (harness/MODEL.md §1.3, §2, §3; fixtures/PROTOCOL.md §3).
 *
 * Each row gives expectations, observations and a transcript as JSON (single quotes for double quotes) and
 * wants a status and a phrase of the message. The case around the expectations is CASE() below. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "core/core.h"
#include "testing/testing.h"

#define SPEC "https://xhr.spec.whatwg.org/#request-error-steps"

/* Parses JSON written with ' for " (a literal ' inside a string is written \u0027). */

/* ---- observations ---- */

/* A check on the transcript: two GET /stream requests. */
#define RC_STREAM_ONE "{'kind':'request-count','line':13,'method':'GET','path':'/stream','n':2}"
#define RC_STREAM "[" RC_STREAM_ONE "]"
#define RS(n, t, st) "{'obj':'xhr','type':'readystatechange','arg':" #n ",'t':" #t ",'state':{'readyState':" #n ",'status':" #st "}}"
#define PEV(type, t, rs, st, loaded) \
    "{'obj':'xhr','type':'" type "','t':" #t ",'state':{'readyState':" #rs ",'status':" #st ",'loaded':" #loaded \
    ",'total':0,'lengthComputable':false}}"

/* A timeout of 200 ms against a server that answers after 1 s: the request error steps
 * (https://xhr.spec.whatwg.org/#request-error-steps) give readystatechange(4), timeout, loadend, never load. */
#define EV_TIMEOUT                                                                                                  \
    RS(1, 0.4, 0) "," PEV("loadstart", 0.9, 1, 0, 0) "," RS(4, 201.3, 0) "," PEV("timeout", 201.5, 4, 0, 0) "," \
    PEV("loadend", 201.6, 4, 0, 0)
#define FINAL_TIMEOUT \
    "'final':{'xhr':{'readyState':4,'status':0,'statusText':'','responseText':'','responseURL':'','response':{'bytes':12}}}"
#define OBS_TIMEOUT "{'events':[" EV_TIMEOUT "]," FINAL_TIMEOUT ",'timed_out':false,'unsupported':null,'error':null}"

/* The same run, but `load` where `timeout` belongs. */
#define OBS_LOAD                                                                                                    \
    "{'events':[" RS(1, 0.4, 0) "," PEV("loadstart", 0.9, 1, 0, 0) "," RS(4, 201.3, 0) "," PEV("load", 201.5, 4, 0, 0) \
    "," PEV("loadend", 201.6, 4, 0, 0) "]," FINAL_TIMEOUT "}"

/* A success whose `load` comes before readystatechange(4). */
#define OBS_LOAD_EARLY                                                                                              \
    "{'events':[" RS(1, 0.4, 0) "," PEV("loadstart", 0.9, 1, 0, 0) "," RS(2, 10.0, 200) "," RS(3, 11.0, 200) ","   \
    PEV("progress", 11.2, 3, 200, 12) "," PEV("load", 11.4, 3, 200, 12) "," RS(4, 11.5, 200) ","                   \
    PEV("loadend", 11.6, 4, 200, 12) "]}"

#define SUCCESS_PATTERN                                                                                             \
    "{'seq':[{'atom':{'type':'readystatechange','arg':1}},{'atom':{'type':'loadstart'}},"                          \
    "{'atom':{'type':'readystatechange','arg':2}},{'repeat':{'alt':[{'atom':{'type':'readystatechange','arg':3}}," \
    "{'atom':{'type':'progress'}}]},'min':1,'max':null},{'atom':{'type':'readystatechange','arg':4}},"              \
    "{'atom':{'type':'load'}},{'atom':{'type':'loadend'}}]}"

#define TIMEOUT_PATTERN                                                                                             \
    "{'seq':[{'atom':{'type':'readystatechange','arg':1}},{'atom':{'type':'loadstart'}},"                          \
    "{'atom':{'type':'readystatechange','arg':4}},{'atom':{'type':'timeout'}},{'atom':{'type':'loadend'}}]}"

#define EVENTS(line, pat, extra) "{'kind':'events','line':" #line ",'obj':'xhr','pattern':" pat extra "}"
#define RULE ",'rule':'request error steps: readyState 4, then timeout, then loadend'"

/* ---- transcripts ---- */

#define REQ(t, conn, n, method, path, headers, extra)                                                              \
    "{'t_us':" #t ",'type':'request','conn':" #conn ",'n':" #n ",'method':'" method "','target':'/c/tok" path       \
    "','path':'" path "','version':'1.1','headers':" headers ",'body_size':0,'body_sha256':"                       \
    "'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855','route':8" extra "}"
#define END(t, conn, req) "{'t_us':" #t ",'type':'end','conn':" #conn ",'req':" #req "}"
#define CLOSE(t, conn, by, how) "{'t_us':" #t ",'type':'conn-close','conn':" #conn ",'by':'" by "','how':'" how "'}"

/* The timeout case's server side: the reply after 2 s, the client gone at 0.2 s. */
#define TR_SLOW                                                                                                     \
    "{'token':'tok','events':[{'t_us':100,'type':'conn-open','conn':1,'origin':'A','peer':'127.0.0.1:1'},"        \
    REQ(310, 1, 1, "GET", "/slow", "[['Host','localhost:41001'],['Accept','*/*']]", "") "," CLOSE(201900, 1,      \
    "client", "fin") "," END(2000600, 1, 1) "]}"

/* SSE reconnect: the second request carries Last-Event-ID, the last event ID the stream set
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#sse-processing-model). */
#define TR_SSE(second_headers)                                                                                      \
    "{'events':[" REQ(300, 1, 1, "GET", "/stream", "[['Accept','text/event-stream']]", "") ","                    \
    "{'t_us':400,'type':'sent','conn':1,'req':1,'bytes':20,'text':'HTTP/1.1 200 OK'}," END(300500, 1, 1) ","      \
    CLOSE(300600, 1, "server", "fin") "," REQ(560000, 2, 2, "GET", "/stream", second_headers, "") ","             \
    END(560900, 2, 2) "," CLOSE(561000, 2, "server", "rst") "]}"
#define TR_SSE_OK TR_SSE("[['Accept','text/event-stream'],['Last-Event-ID','2'],['Origin','http://localhost:41001']]")
#define TR_SSE_NO_ID TR_SSE("[['Accept','text/event-stream']]")

#define TR_POST                                                                                                     \
    "{'events':[{'t_us':300,'type':'request','conn':1,'n':1,'method':'POST','path':'/echo','headers':[],"         \
    "'body_size':5,'body_sha256':'2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',"             \
    "'body_text':'hello'}]}"
#define TR_QUERY                                                                                                    \
    "{'events':[" REQ(300, 1, 1, "GET", "/ping?a=1&b=%20x", "[]", "") "," REQ(400, 1, 2, "GET", "/ping", "[]", "") \
    "]}"
#define TR_POST_HEX                                                                                                 \
    "{'events':[{'t_us':300,'type':'request','conn':1,'n':1,'method':'POST','path':'/echo','headers':[],"         \
    "'body_size':5,'body_sha256':'2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',"             \
    "'body_hex':'68656c6c6f'}]}"

#define TR_UNMATCHED "{'events':[" REQ(300, 1, 1, "GET", "/favicon.ico", "[]", ",'unmatched':true") "]}"

#define SEL(m, p, n) "{'method':'" m "','path':'" p "','n':" #n "}"
#define HDR(line, sel, name, op, value) \
    "{'kind':'request-header','line':" #line ",'sel':" sel ",'name':'" name "','op':'" op "'" value "}"

/* Two objects: an EventSource beside the xhr. */
#define OBS_TWO                                                                                                     \
    "{'events':[{'obj':'es','type':'open','t':1},{'obj':'xhr','type':'loadstart','t':2},"                         \
    "{'obj':'es','type':'message','arg':'one','t':3,'state':{'lastEventId':'1','data':'one'}},"                    \
    "{'obj':'es','type':'read','arg':'after','t':4,'state':{'readyState':1}},"                                      \
    "{'obj':'es','type':'error','t':5,'state':{'readyState':0}},{'obj':'xhr','type':'callback','t':6}]}"

static const struct row {
    const char *name, *expect, *obs, *tr;
    double scale;
    const char *status, *phrase;
} rows[] = {
    /* client: events */
    {"timeout sequence passes", "[" EVENTS(24, TIMEOUT_PATTERN, RULE) "]", OBS_TIMEOUT, TR_SLOW, 1, "PASS", ""},
    {"load instead of timeout fails naming the rule", "[" EVENTS(24, TIMEOUT_PATTERN, RULE) "]", OBS_LOAD, TR_SLOW,
     1, "FAIL",
     "line 24: at event 4 (t=201.5 ms): expected timeout, observed load — request error steps: readyState 4, "
     "then timeout, then loadend (" SPEC ")"},
    {"load before readystatechange(4) fails", "[" EVENTS(30, SUCCESS_PATTERN, ",'rule':'load follows 4'") "]",
     OBS_LOAD_EARLY, NULL, 1, "FAIL", "line 30: at event 6 (t=11.4 ms): expected readystatechange(3), progress or "
     "readystatechange(4), observed load — load follows 4"},
    {"success pattern over the timeout run fails", "[" EVENTS(30, SUCCESS_PATTERN, "") "]", OBS_TIMEOUT, NULL, 1,
     "FAIL", "at event 3 (t=201.3 ms): expected readystatechange(2), observed readystatechange(4)"},
    {"no events at all", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]", "{'events':[]}", NULL, 1, "FAIL",
     "line 3: at event 1: expected readystatechange(1), observed no events"},
    {"NULL observations count as empty", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]", NULL, NULL, 1, "FAIL",
     "observed no events"},
    {"events default to the first object", "[{'kind':'events','line':3,'pattern':" TIMEOUT_PATTERN "}]",
     OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"read pseudo-events are not in events",
     "[{'kind':'events','line':3,'obj':'es','pattern':{'seq':[{'atom':{'type':'open'}},{'atom':{'type':'message',"
     "'arg':'one'}},{'atom':{'type':'error'}}]}}]",
     OBS_TWO, NULL, 1, "PASS", ""},
    {"events of another object are not seen",
     "[{'kind':'events','line':3,'obj':'xhr','pattern':{'seq':[{'atom':{'type':'loadstart'}},"
     "{'atom':{'type':'callback','arg':null}}]}}]",
     OBS_TWO, NULL, 1, "PASS", ""},
    {"nested stars over ten events are judged, not hung",
     "[{'kind':'events','line':3,'pattern':{'seq':[{'repeat':{'repeat':{'repeat':{'atom':{'type':'.'}},"
     "'min':0,'max':null},'min':0,'max':null},'min':0,'max':null},{'atom':{'type':'nope'}}]}}]",
     "{'events':[" RS(1, 1, 0) "," RS(1, 2, 0) "," RS(1, 3, 0) "," RS(1, 4, 0) "," RS(1, 5, 0) "," RS(1, 6, 0) ","
     RS(1, 7, 0) "," RS(1, 8, 0) "," RS(1, 9, 0) "," RS(1, 10, 0) "]}",
     NULL, 1, "FAIL", "after the last event, event 10 (t=10.0 ms): expected any event or nope, observed no more events"},
    {"bad pattern is an ERROR naming the place",
     "[{'kind':'events','line':7,'pattern':{'seq':[{'alt':[]}]}}]", OBS_TIMEOUT, NULL, 1, "ERROR",
     "line 7: events — cannot judge: pattern.seq[0]: \"alt\" needs at least one alternative"},
    /* client: never, count */
    {"never holds", "[{'kind':'never','line':4,'atoms':[{'type':'load'},{'type':'error'},{'type':'abort'},"
     "{'type':'progress'}]}]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"never broken by load", "[{'kind':'never','line':4,'atoms':[{'type':'load'},{'type':'error'}]}]", OBS_LOAD,
     NULL, 1, "FAIL", "at event 4 (t=201.5 ms): expected no load, observed load — never"},
    {"count exact", "[{'kind':'count','line':5,'atom':{'type':'readystatechange'},'n':2,'at_least':false}]",
     OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"count wrong", "[{'kind':'count','line':5,'atom':{'type':'readystatechange','arg':4},'n':2}]", OBS_TIMEOUT,
     NULL, 1, "FAIL", "expected readystatechange(4) × 2, observed readystatechange(4) × 1"},
    {"count at least", "[{'kind':'count','line':5,'atom':{'type':'.'},'n':3,'at_least':true}]", OBS_TIMEOUT, NULL,
     1, "PASS", ""},
    {"count n missing", "[{'kind':'count','line':5,'atom':{'type':'load'}}]", OBS_TIMEOUT, NULL, 1, "ERROR",
     "\"n\" must be an integer"},
    /* client: at */
    {"at every timeout", "[{'kind':'at','line':6,'atom':{'type':'timeout'},'nth':null,'props':{'readyState':4,"
     "'status':0}}]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"at with a wrong value", "[{'kind':'at','line':6,'atom':{'type':'readystatechange'},'props':{'status':0,"
     "'readyState':1}}]", OBS_TIMEOUT, NULL, 1, "FAIL",
     "at readystatechange(4), event 3 (t=201.3 ms): readyState: expected 1, observed 4"},
    {"at nth beyond the occurrences", "[{'kind':'at','line':6,'atom':{'type':'timeout'},'nth':2,'props':{"
     "'readyState':4}}]", OBS_TIMEOUT, NULL, 1, "FAIL", "observed timeout × 1"},
    {"at an event that never came", "[{'kind':'at','line':6,'atom':{'type':'abort'},'props':{'readyState':4}}]",
     OBS_TIMEOUT, NULL, 1, "FAIL", "observed abort × 0"},
    {"at a read pseudo-event", "[{'kind':'at','line':6,'obj':'es','atom':{'type':'read','arg':'after'},'nth':1,"
     "'props':{'readyState':1}}]", OBS_TWO, NULL, 1, "PASS", ""},
    /* client: final */
    {"final holds", "[{'kind':'final','line':7,'props':{'readyState':4,'status':0,'statusText':'',"
     "'responseText':''}}]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"final differs", "[{'kind':'final','line':7,'props':{'readyState':4,'status':200,'statusText':'OK'}}]",
     OBS_TIMEOUT, NULL, 1, "FAIL", "in the final state: status: expected 200, observed 0"},
    {"final numbers compare numerically", "[{'kind':'final','line':7,'props':{'readyState':4.0,'status':0.0}}]",
     OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"final dotted path", "[{'kind':'final','line':7,'props':{'response.bytes':12}}]", OBS_TIMEOUT, NULL, 1, "PASS",
     ""},
    {"final of an object with no final state", "[{'kind':'final','line':7,'obj':'es','props':{'readyState':2}}]",
     OBS_TWO, NULL, 1, "FAIL", "in the final state: readyState: expected 2, observed absent"},
    {"final string is not a number", "[{'kind':'final','line':7,'props':{'status':'0'}}]", OBS_TIMEOUT, NULL, 1,
     "FAIL", "status: expected \"0\", observed 0"},
    /* client: within (durations scale with time_scale) */
    {"within tolerance", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},'ms':200,"
     "'tol_ms':50}]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"within out of tolerance", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':300,'tol_ms':50}]", OBS_TIMEOUT, NULL, 1, "FAIL",
     "expected timeout 300.0 ms ± 50.0 ms after loadstart, observed 200.6 ms"},
    {"within scaled by time_scale", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':100,'tol_ms':10}]", OBS_TIMEOUT, NULL, 2, "PASS", ""},
    {"within with a missing event", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'load'},"
     "'ms':100,'tol_ms':10}]", OBS_TIMEOUT, NULL, 1, "FAIL", "observed no load after loadstart"},
    /* one-sided bounds: `>= D` (bound min), `<= D` (bound max), scaled too */
    {"within at least", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},'ms':150,"
     "'bound':'min'}]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    {"within at least, too early", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':250,'bound':'min'}]", OBS_TIMEOUT, NULL, 1, "FAIL",
     "expected timeout ≥ 250.0 ms after loadstart, observed 200.6 ms"},
    {"within at most, too late", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':150,'bound':'max'}]", OBS_TIMEOUT, NULL, 1, "FAIL",
     "expected timeout ≤ 150.0 ms after loadstart, observed 200.6 ms"},
    {"within at most, scaled", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':150,'bound':'max'}]", OBS_TIMEOUT, NULL, 2, "PASS", ""},
    {"within with a bad bound", "[{'kind':'within','line':8,'from':{'type':'loadstart'},'to':{'type':'timeout'},"
     "'ms':150,'bound':'about'}]", OBS_TIMEOUT, NULL, 1, "ERROR", "\"bound\" must be \"min\" or \"max\""},
    /* grading */
    {"should failure is NON-STRICT", "[" EVENTS(3, TIMEOUT_PATTERN, "") ",{'kind':'final','line':9,'level':'should',"
     "'props':{'responseURL':'x'}}]", OBS_TIMEOUT, NULL, 1, "NON-STRICT", "line 9: in the final state: responseURL: expected x"},
    {"must failure beats should failure", "[{'kind':'final','line':9,'level':'should','props':{'responseURL':'x'}},"
     "{'kind':'final','line':10,'props':{'status':7}}]", OBS_TIMEOUT, NULL, 1, "FAIL", "line 10:"},
    {"unsupported is N/A", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]",
     "{'events':[],'unsupported':'no xhr-upload','error':'also broken'}", NULL, 1, "N/A", "unsupported: no xhr-upload"},
    {"adapter error is ERROR", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]", "{'events':[],'error':'page crashed'}", NULL,
     1, "ERROR", "adapter error: page crashed"},
    {"timed out with passing checks", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]",
     "{'events':[" EV_TIMEOUT "],'timed_out':true}", NULL, 1, "TIMEOUT",
     "the client's deadline passed before its steps finished"},
    {"timed out with a failing check still runs it", "[" EVENTS(3, TIMEOUT_PATTERN, "") "]",
     "{'events':[" RS(1, 0.4, 0) "],'timed_out':true}", NULL, 1, "TIMEOUT",
     "finished; line 3: after the last event, event 1 (t=0.4 ms): expected loadstart"},
    {"no expectations pass", "[]", OBS_TIMEOUT, NULL, 1, "PASS", ""},
    /* malformed inputs */
    {"events not an array", "[]", "{'events':{}}", NULL, 1, "ERROR", "malformed observations: \"events\""},
    {"event without a type", "[]", "{'events':[" RS(1, 0.4, 0) ",{'obj':'xhr','t':1}]}", NULL, 1, "ERROR",
     "malformed observations: events[1] has no string \"type\""},
    {"event without t", "[]", "{'events':[{'obj':'xhr','type':'load'}]}", NULL, 1, "ERROR", "no number \"t\""},
    {"observations an array", "[]", "[1,2]", NULL, 1, "ERROR", "malformed observations: not a JSON object"},
    {"timed_out not a boolean", "[]", "{'timed_out':'yes'}", NULL, 1, "ERROR", "timed_out"},
    {"unknown kind", "[{'kind':'sometimes','line':3}]", OBS_TIMEOUT, NULL, 1, "ERROR",
     "unknown expectation kind \"sometimes\""},
    {"expectation not an object", "[7]", OBS_TIMEOUT, NULL, 1, "ERROR", "expect[0] is not an object"},
    {"bad level", "[{'kind':'final','line':3,'level':'may','props':{'status':0}}]", OBS_TIMEOUT, NULL, 1, "ERROR",
     "\"level\" must be"},
    {"undeclared object", "[{'kind':'final','line':3,'obj':'ws','props':{'status':0}}]", OBS_TIMEOUT, NULL, 1,
     "ERROR", "declares no client object \"ws\""},
    {"unknown placeholder", "[{'kind':'final','line':3,'props':{'responseURL':'{nope}/x'}}]", OBS_TIMEOUT, NULL, 1,
     "ERROR", "unknown placeholder {nope}"},
    {"transcript request without method", "[]", OBS_TIMEOUT, "{'events':[{'t_us':1,'type':'request','conn':1,"
     "'path':'/x','headers':[]}]}", 1, "ERROR", "malformed transcript: events[0] (request): \"method\" must be a string"},
    {"transcript events not an array", "[]", OBS_TIMEOUT, "{'events':7}", 1, "ERROR", "malformed transcript"},
    /* A transcript the server stopped recording past its limit: no check on it is judged (ERROR); checks on
     * the client's observations still are, and a case with none on the transcript needs it not. */
    {"transcript with dropped events", RC_STREAM, OBS_TIMEOUT, "{'events':[],'dropped':3}", 1, "ERROR",
     "transcript incomplete: the server dropped 3 events"},
    {"transcript with dropped events, no server check", "[]", OBS_TIMEOUT, "{'events':[],'dropped':3}", 1, "PASS",
     ""},
    /* A runaway client that also missed its deadline: its own observation decides, whatever was recorded. */
    {"transcript with dropped events, client timed out", RC_STREAM, "{'events':[" RS(1, 0.4, 0) "],'timed_out':true}",
     "{'events':[],'dropped':3045}", 1, "TIMEOUT", "deadline passed before its steps finished; line 13: "},
    {"dropped events, client timed out, a client check errors",
     "[" RC_STREAM_ONE ",{'kind':'final','line':3,'obj':'ws','props':{'status':0}}]",
     "{'events':[" RS(1, 0.4, 0) "],'timed_out':true}", "{'events':[],'dropped':3045}", 1, "ERROR",
     "declares no client object \"ws\""},
    {"malformed transcript, client timed out", "[]", "{'events':[" RS(1, 0.4, 0) "],'timed_out':true}",
     "{'events':7,'dropped':3}", 1, "ERROR", "malformed transcript"},
    {"transcript dropped not a number", "[]", OBS_TIMEOUT, "{'events':[],'dropped':'no'}", 1, "ERROR",
     "\"dropped\" is not an integer"},
    {"transcript dropped nothing", "[]", OBS_TIMEOUT, "{'events':[],'dropped':0}", 1, "PASS", ""},
    {"headers not pairs", "[]", OBS_TIMEOUT, "{'events':[{'t_us':1,'type':'request','conn':1,'method':'GET',"
     "'path':'/x','headers':[['a']]}]}", 1, "ERROR", "\"headers\" must be an array of [name, value]"},
    /* server: requests, request-count */
    {"requests in order", "[{'kind':'requests','line':12,'list':[" SEL("GET", "/stream", 1) ","
     SEL("GET", "/stream", 2) "]}]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"requests with an extra one", "[{'kind':'requests','line':12,'list':[" SEL("GET", "/stream", 1) "]}]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL", "expected GET /stream, observed GET /stream, GET /stream#2"},
    {"requests none", "[{'kind':'requests','line':12,'list':[]}]", OBS_TIMEOUT, "{'events':[]}", 1, "PASS", ""},
    {"requests none, an unmatched one came", "[{'kind':'requests','line':12,'list':[]}]", OBS_TIMEOUT, TR_UNMATCHED,
     1, "FAIL", "expected none, observed GET /favicon.ico (unmatched)"},
    {"requests by index", "[{'kind':'requests','line':12,'list':[{'index':1},{'index':2}]}]", OBS_TIMEOUT,
     TR_SSE_OK, 1, "PASS", ""},
    {"requests without n take any at their place", "[{'kind':'requests','line':12,'list':[{'method':'GET',"
     "'path':'/stream'},{'method':'GET','path':'/stream','n':null}]}]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"requests with the default n twice", "[{'kind':'requests','line':12,'list':[" SEL("GET", "/stream", 1) ","
     SEL("GET", "/stream", 1) "]}]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"requests with ranks out of order", "[{'kind':'requests','line':12,'list':[" SEL("GET", "/stream", 2) ","
     SEL("GET", "/stream", 1) "]}]", OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL", "expected GET /stream#2, GET /stream"},
    {"request-count", "[{'kind':'request-count','line':13,'method':'GET','path':'/stream','n':2}]", OBS_TIMEOUT,
     TR_SSE_OK, 1, "PASS", ""},
    {"request-count wrong", "[{'kind':'request-count','line':13,'method':'GET','path':'/stream','n':3}]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL", "expected GET /stream × 3, observed GET /stream × 2"},
    /* server: request-header */
    {"Last-Event-ID sent", "[" HDR(14, SEL("GET", "/stream", 2), "Last-Event-ID", "eq", ",'value':'2'") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"Last-Event-ID missing", "[" HDR(14, SEL("GET", "/stream", 2), "Last-Event-ID", "eq", ",'value':'2'") "]",
     OBS_TIMEOUT, TR_SSE_NO_ID, 1, "FAIL", "expected Last-Event-ID: 2, observed no Last-Event-ID header"},
    {"header absent on the first request", "[" HDR(14, SEL("GET", "/stream", 1), "last-event-id", "absent", "") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header present, name case-insensitive", "[" HDR(14, "{'index':2}", "LAST-EVENT-ID", "present", "") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header absent but present", "[" HDR(14, "{'index':2}", "Last-Event-ID", "absent", "") "]", OBS_TIMEOUT,
     TR_SSE_OK, 1, "FAIL", "expected no Last-Event-ID header, observed Last-Event-ID: 2"},
    {"header regex", "[" HDR(14, SEL("GET", "/stream", 1), "Accept", "match", ",'value':'^text/event-stream$'") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header regex with an interval", "[" HDR(14, SEL("GET", "/stream", 2), "Last-Event-ID", "match",
     ",'value':'^[0-9]{{1,3}}$'") "]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header regex with a placeholder", "[" HDR(14, SEL("GET", "/stream", 2), "Origin", "match",
     ",'value':'^{origin-A}$'") "]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header regex fails", "[" HDR(14, SEL("GET", "/stream", 1), "Accept", "match", ",'value':'json'") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL", "expected Accept ~ json, observed Accept: text/event-stream"},
    {"bad regex is an ERROR", "[" HDR(14, SEL("GET", "/stream", 1), "Accept", "match", ",'value':'(['") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "ERROR", "bad regular expression \"([\""},
    {"header value with a placeholder", "[" HDR(14, SEL("GET", "/stream", 2), "Origin", "eq",
     ",'value':'{origin-A}'") "]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"header of a request that never came", "[" HDR(14, SEL("GET", "/other", 1), "Origin", "present", "") "]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL", "observed no request GET /other (requests: GET /stream, GET /stream#2)"},
    {"bad op", "[" HDR(14, SEL("GET", "/stream", 1), "Accept", "like", "") "]", OBS_TIMEOUT, TR_SSE_OK, 1,
     "ERROR", "\"op\" must be"},
    {"bad selector", "[" HDR(14, "{'method':'GET'}", "Accept", "present", "") "]", OBS_TIMEOUT, TR_SSE_OK, 1,
     "ERROR", "sel: a selector needs"},
    /* server: request-body */
    {"body equals (text kept)", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'eq','value':'hello'}]", OBS_TIMEOUT, TR_POST, 1, "PASS", ""},
    {"body differs", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'eq','value':'hullo'}]", OBS_TIMEOUT, TR_POST, 1, "FAIL",
     "expected \"hullo\" (5 bytes), observed \"hello\" (5 bytes)"},
    {"body equals (by sha256)", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'eq','value':'hello'}]", OBS_TIMEOUT, TR_POST_HEX, 1, "PASS", ""},
    {"body sha256", "[{'kind':'request-body','line':15,'sel':{'index':1},'op':'sha256','value':"
     "'2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824'}]", OBS_TIMEOUT, TR_POST, 1, "PASS", ""},
    {"body size wrong", "[{'kind':'request-body','line':15,'sel':{'index':1},'op':'size','value':6}]", OBS_TIMEOUT,
     TR_POST, 1, "FAIL", "expected 6 bytes, observed \"hello\" (5 bytes)"},
    {"body matches a regex", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'match','value':'^h.l+o$'}]", OBS_TIMEOUT, TR_POST, 1, "PASS", ""},
    {"body does not match a regex", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'match','value':'^world'}]", OBS_TIMEOUT, TR_POST, 1, "FAIL",
     "expected a body ~ \"^world\", observed \"hello\" (5 bytes)"},
    {"body regex on a binary body", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'match','value':'h'}]", OBS_TIMEOUT, TR_POST_HEX, 1, "FAIL", "expected a body ~ \"h\", observed 5 bytes"},
    {"body bad regex", "[{'kind':'request-body','line':15,'sel':" SEL("POST", "/echo", 1)
     ",'op':'match','value':'('}]", OBS_TIMEOUT, TR_POST, 1, "ERROR", "bad regular expression"},
    /* server: request-query */
    {"query equals", "[{'kind':'request-query','line':16,'sel':{'index':1},'op':'eq','value':'a=1&b=%20x'}]",
     OBS_TIMEOUT, TR_QUERY, 1, "PASS", ""},
    {"query differs", "[{'kind':'request-query','line':16,'sel':{'index':1},'op':'eq','value':'a=1&b= x'}]",
     OBS_TIMEOUT, TR_QUERY, 1, "FAIL", "expected ?a=1&b= x, observed ?a=1&b=%20x"},
    {"query matches", "[{'kind':'request-query','line':16,'sel':{'index':1},'op':'match','value':'(^|&)b=%20'}]",
     OBS_TIMEOUT, TR_QUERY, 1, "PASS", ""},
    {"query absent", "[{'kind':'request-query','line':16,'sel':{'index':2},'op':'absent'}]", OBS_TIMEOUT, TR_QUERY,
     1, "PASS", ""},
    {"query absent but present", "[{'kind':'request-query','line':16,'sel':{'index':1},'op':'absent'}]",
     OBS_TIMEOUT, TR_QUERY, 1, "FAIL", "expected no query, observed ?a=1"},
    {"query expected, none came", "[{'kind':'request-query','line':16,'sel':{'index':2},'op':'eq','value':'a'}]",
     OBS_TIMEOUT, TR_QUERY, 1, "FAIL", "expected ?a, observed no query"},
    {"query bad op", "[{'kind':'request-query','line':16,'sel':{'index':2},'op':'present'}]", OBS_TIMEOUT, TR_QUERY,
     1, "ERROR", "\"op\" must be"},
    /* server: closed, interval */
    {"closed by server", "[{'kind':'closed','line':16,'sel':" SEL("GET", "/stream", 1) ",'by':'server','how':'fin'}]",
     OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"closed by the other side", "[{'kind':'closed','line':16,'sel':" SEL("GET", "/stream", 2)
     ",'by':'server','how':'fin'}]", OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL",
     "expected closed by server (fin), observed closed by server (rst)"},
    {"closed by client", "[{'kind':'closed','line':16,'sel':" SEL("GET", "/slow", 1) ",'by':'client'}]",
     OBS_TIMEOUT, TR_SLOW, 1, "PASS", ""},
    {"still open", "[{'kind':'closed','line':16,'sel':{'index':1},'by':'client'}]", OBS_TIMEOUT,
     "{'events':[" REQ(300, 1, 1, "GET", "/x", "[]", "") "]}", 1, "FAIL", "observed still open"},
    {"interval request to end", "[{'kind':'interval','line':17,'from':{'at':'request','sel':" SEL("GET", "/slow", 1)
     "},'to':{'at':'end','sel':" SEL("GET", "/slow", 1) "},'ms':2000,'tol_ms':100}]", OBS_TIMEOUT, TR_SLOW, 1,
     "PASS", ""},
    {"interval between reconnects", "[{'kind':'interval','line':17,'from':{'at':'closed','sel':{'index':1}},"
     "'to':{'at':'request','sel':{'index':2}},'ms':250,'tol_ms':5}]", OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL",
     "expected request(#2) 250.0 ms ± 5.0 ms after closed(#1), observed 259.4 ms"},
    {"interval scaled", "[{'kind':'interval','line':17,'from':{'at':'closed','sel':{'index':1}},"
     "'to':{'at':'request','sel':{'index':2}},'ms':125,'tol_ms':10}]", OBS_TIMEOUT, TR_SSE_OK, 2, "PASS", ""},
    {"interval at least", "[{'kind':'interval','line':17,'from':{'at':'closed','sel':{'index':1}},"
     "'to':{'at':'request','sel':{'index':2}},'ms':250,'bound':'min'}]", OBS_TIMEOUT, TR_SSE_OK, 1, "PASS", ""},
    {"interval at least, too early", "[{'kind':'interval','line':17,'from':{'at':'closed','sel':{'index':1}},"
     "'to':{'at':'request','sel':{'index':2}},'ms':300,'bound':'min'}]", OBS_TIMEOUT, TR_SSE_OK, 1, "FAIL",
     "expected request(#2) ≥ 300.0 ms after closed(#1), observed 259.4 ms"},
    {"interval to a point that never came", "[{'kind':'interval','line':17,'from':{'at':'request','sel':{'index':1}},"
     "'to':{'at':'end','sel':{'index':1}},'ms':10,'tol_ms':10}]", OBS_TIMEOUT,
     "{'events':[" REQ(300, 1, 1, "GET", "/x", "[]", "") "]}", 1, "FAIL", "observed no end(#1) in the transcript"},
    {"interval with a bad point", "[{'kind':'interval','line':17,'from':{'at':'start','sel':{'index':1}},"
     "'to':{'at':'end','sel':{'index':1}},'ms':10,'tol_ms':10}]", OBS_TIMEOUT, TR_SLOW, 1, "ERROR",
     "from: a point's \"at\" must be"},
};

static json_t *vars(void)
{
    return J("{'A':'http://localhost:41001/c/tok','origin-A':'http://localhost:41001','host-A':'localhost:41001',"
             "'token':'tok','case':'t/case'}");
}

/* The case around a row's expectations. */
static json_t *make_case(const char *expect)
{
    json_t *k = J("{'id':'t/case','title':'a test case','spec':['" SPEC "'],'client':{'objects':[{'name':'xhr',"
                  "'kind':'xhr'},{'name':'es','kind':'eventsource'}]},'server':[]}");
    json_object_set_new(k, "expect", J(expect));
    return k;
}

static json_t *judge_row(const struct row *r)
{
    json_t *k = make_case(r->expect), *o = r->obs ? J(r->obs) : NULL, *t = r->tr ? J(r->tr) : NULL, *v = vars();
    json_t *verdict = ch_judge(k, o, t, v, r->scale);
    json_decref(k);
    json_decref(o);
    json_decref(t);
    json_decref(v);
    return verdict;
}

START_TEST(judge_table)
{
    const struct row *r = &rows[_i];
    json_t *v = judge_row(r);
    const char *status = json_string_value(json_object_get(v, "status"));
    const char *msg = json_string_value(json_object_get(v, "message"));
    if (getenv("CH_TEST_VERBOSE")) printf("%-50s %-10s %s\n", r->name, status, msg);
    ck_assert_msg(status && !strcmp(status, r->status), "row %d (%s): status %s, want %s; message: %s", _i, r->name,
                  status, r->status, msg);
    ck_assert_msg(msg && strstr(msg, r->phrase), "row %d (%s): message lacks \"%s\": %s", _i, r->name, r->phrase,
                  msg);
    if (!strcmp(r->status, "PASS")) ck_assert_str_eq(msg, "");
    ck_assert_str_eq(json_string_value(json_object_get(v, "case")), "t/case");
    json_decref(v);
}
END_TEST

/* The row "catastrophic pattern" above names an undeclared object on purpose; this is the real one: ((.*)*)*
 * then an atom that never comes, over 30 events, answered with a FAIL at once. */
START_TEST(catastrophic_pattern_fails_fast)
{
    json_t *events = json_array();
    for (int i = 0; i < 30; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:i, s:f}", "obj", "xhr", "type", "a", "arg", i, "t",
                                                (double)i));
    json_t *obs = json_pack("{s:o}", "events", events);
    json_t *k = make_case("[{'kind':'events','line':3,'pattern':{'seq':[{'repeat':{'repeat':{'repeat':{'atom':{"
                          "'type':'a'}},'min':0,'max':null},'min':0,'max':null},'min':0,'max':null},{'atom':{'type':"
                          "'b'}}]}}]");
    json_t *v = ch_judge(k, obs, NULL, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    json_t *chk = json_array_get(json_object_get(v, "checks"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(chk, "detail")),
                     "after the last event, event 30 (t=29.0 ms): expected a or b, observed no more events");
    ck_assert_str_eq(json_string_value(json_object_get(chk, "expected")), "((a*)*)* b");
    json_decref(v);
    json_decref(k);
    json_decref(obs);
}
END_TEST

/* A pattern whose search really is too big: (.?){2000} b over 2001 events → ERROR naming the budget. */
START_TEST(budget_is_an_error)
{
    json_t *events = json_array();
    for (int i = 0; i < 2001; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:f}", "obj", "xhr", "type", "a", "t", (double)i));
    json_t *obs = json_pack("{s:o}", "events", events);
    json_t *k = make_case("[{'kind':'events','line':3,'pattern':{'seq':[{'repeat':{'repeat':{'atom':{'type':'.'}},"
                          "'min':0,'max':1},'min':2000,'max':2000},{'atom':{'type':'b'}}]}}]");
    json_t *v = ch_judge(k, obs, NULL, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ERROR");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(v, "message")),
                                 "line 3: events — cannot judge: matching the pattern against 2001 events exceeded "
                                 "the step budget of 1000000 steps"));
    json_decref(v);
    json_decref(k);
    json_decref(obs);
}
END_TEST

/* The check object of MODEL.md §3, field by field, for the headline failure. */
START_TEST(check_fields)
{
    struct row r = {"", "[" EVENTS(24, TIMEOUT_PATTERN, RULE) "]", OBS_LOAD, NULL, 1, "", ""};
    json_t *v = judge_row(&r);
    json_t *c = json_array_get(json_object_get(v, "checks"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "line")), 24);
    ck_assert_str_eq(json_string_value(json_object_get(c, "kind")), "events");
    ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(c, "level")), "must");
    ck_assert_str_eq(json_string_value(json_object_get(c, "rule")),
                     "request error steps: readyState 4, then timeout, then loadend");
    ck_assert_str_eq(json_string_value(json_object_get(c, "spec")), SPEC);
    ck_assert_str_eq(json_string_value(json_object_get(c, "expected")),
                     "readystatechange(1) loadstart readystatechange(4) timeout loadend");
    ck_assert_str_eq(json_string_value(json_object_get(c, "observed")),
                     "readystatechange(1) loadstart readystatechange(4) load loadend");
    ck_assert_str_eq(json_string_value(json_object_get(c, "detail")),
                     "at event 4 (t=201.5 ms): expected timeout, observed load");
    json_decref(v);
}
END_TEST

/* The first difference shows the state values the pattern asked about. */
START_TEST(detail_shows_props)
{
    struct row r = {"", "[{'kind':'events','line':3,'pattern':{'seq':[{'atom':{'type':'readystatechange'}},"
                        "{'atom':{'type':'loadstart','props':{'loaded':0,'total':5}}}]}}]",
                    OBS_TIMEOUT, NULL, 1, "", ""};
    json_t *v = judge_row(&r);
    json_t *c = json_array_get(json_object_get(v, "checks"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c, "detail")),
                     "at event 2 (t=0.9 ms): expected loadstart(loaded=0,total=5), observed loadstart(loaded=0,"
                     "total=0)");
    json_decref(v);
}
END_TEST

/* Every check appears in checks[], passing ones included, in expectation order. */
START_TEST(all_checks_listed)
{
    struct row r = {"", "[" EVENTS(3, TIMEOUT_PATTERN, "") ",{'kind':'never','line':4,'atoms':[{'type':'load'}]},"
                        "{'kind':'final','line':5,'level':'should','props':{'status':1}}]",
                    OBS_TIMEOUT, NULL, 1, "", ""};
    json_t *v = judge_row(&r);
    json_t *checks = json_object_get(v, "checks");
    ck_assert_uint_eq(json_array_size(checks), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(checks, 0), "status")), "PASS");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(checks, 1), "observed")), "none");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(checks, 2), "status")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "NON-STRICT");
    json_decref(v);
}
END_TEST

/* Hostile values in every place a check reads must give a verdict, never a crash. */
static const char *const junk_values[] = {"null", "7", "'x'", "[]", "{}", "[[[]]]", "{'a':{'b':{}}}", "true", "-1",
                                          "1e300"};
static const char *const kinds[] = {"events", "never", "count", "at", "final", "within", "requests",
                                    "request-count", "request-header", "request-body", "request-query", "closed",
                                    "interval"};
static const char *const fields[] = {"pattern", "atoms", "atom", "n", "at_least", "nth", "props", "from", "to",
                                     "ms", "tol_ms", "list", "method", "path", "sel", "name", "op", "value", "by",
                                     "how", "obj", "level", "line", "rule", "spec"};

START_TEST(hostile_fields)
{
    const char *kind = kinds[_i];
    json_t *obs = J(OBS_TWO), *tr = J(TR_SSE_OK);
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (size_t j = 0; j < sizeof junk_values / sizeof junk_values[0]; j++) {
            json_t *exp = json_pack("{s:s, s:i}", "kind", kind, "line", 1);
            json_object_set_new(exp, fields[f], J(junk_values[j]));
            json_t *k = make_case("[]");
            json_array_append_new(json_object_get(k, "expect"), exp);
            json_t *v = ch_judge(k, obs, tr, NULL, 1.0);
            const char *st = json_string_value(json_object_get(v, "status"));
            ck_assert_msg(st && (!strcmp(st, "ERROR") || !strcmp(st, "FAIL") || !strcmp(st, "PASS")),
                          "%s.%s = %s: %s", kind, fields[f], junk_values[j], st);
            json_decref(v);
            json_decref(k);
        }
    json_decref(obs);
    json_decref(tr);
}
END_TEST

START_TEST(hostile_top_level)
{
    json_t *k = make_case("[]"), *junk = J("[1]"), *v;
    v = ch_judge(NULL, NULL, NULL, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ERROR");
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")), "malformed case: not a JSON object");
    json_decref(v);
    v = ch_judge(junk, junk, junk, junk, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ERROR");
    json_decref(v);
    v = ch_judge(k, NULL, junk, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")), "malformed transcript: not a JSON object");
    json_decref(v);
    v = ch_judge(k, NULL, NULL, junk, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")), "malformed vars: not a JSON object");
    json_decref(v);
    v = ch_judge(k, NULL, NULL, NULL, 0.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ERROR");
    json_decref(v);
    v = ch_judge(k, NULL, NULL, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "PASS");
    json_decref(v);
    json_decref(k);
    json_decref(junk);
}
END_TEST


/* harness/judge/tests/data: the recorded runs `runner judge` is tested with, judged here against the hand-made
 * case JSON, each with the status it names. The directory is found beside this source file (make runs the tests
 * from the repository root) or in $CH_JUDGE_DATA. */
static void data_path(char *out, size_t cap, const char *name)
{
    const char *dir = getenv("CH_JUDGE_DATA");
    if (dir) {
        snprintf(out, cap, "%s/%s", dir, name);
        return;
    }
    const char *src = __FILE__, *slash = strrchr(src, '/');
    snprintf(out, cap, "%.*s/data/%s", slash ? (int)(slash - src) : 1, slash ? src : ".", name);
}

START_TEST(records_file)
{
    static const char *const case_files[] = {"timeout.case.json", "kinds.case.json"};
    char path[512], err[CH_ERR_LEN];
    json_error_t e;
    json_t *cases = json_object();
    for (size_t i = 0; i < 2; i++) {
        data_path(path, sizeof path, case_files[i]);
        json_t *kase = json_load_file(path, 0, &e);
        ck_assert_msg(kase != NULL, "%s: %s", path, e.text);
        json_object_set_new(cases, json_string_value(json_object_get(kase, "id")), kase);
    }
    data_path(path, sizeof path, "records.jsonl");
    size_t len;
    char *text = ch_read_file(path, &len, err);
    ck_assert_msg(text != NULL, "%s", err);
    int judged = 0, broken = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *rec = json_loads(line, 0, &e);
        if (!rec) {
            broken++;
            continue;
        }
        json_t *kase = json_object_get(cases, json_string_value(json_object_get(rec, "case")));
        ck_assert_ptr_nonnull(kase);
        json_t *v = ch_judge(kase, json_object_get(rec, "observations"), json_object_get(rec, "transcript"),
                             json_object_get(rec, "vars"), 1.0);
        const char *want = json_string_value(json_object_get(rec, "expect_status"));
        const char *got = json_string_value(json_object_get(v, "status"));
        if (getenv("CH_TEST_VERBOSE"))
            printf("%s %-10s %s\n", json_string_value(json_object_get(rec, "token")), got,
                   json_string_value(json_object_get(v, "message")));
        ck_assert_msg(want && got && !strcmp(want, got), "record %s: %s, want %s: %s",
                      json_string_value(json_object_get(rec, "token")), got, want,
                      json_string_value(json_object_get(v, "message")));
        judged++;
        json_decref(v);
        json_decref(rec);
    }
    ck_assert_int_eq(judged, 9);
    ck_assert_int_eq(broken, 1);
    free(text);
    json_decref(cases);
}
END_TEST

/* Large inputs stay linear: 150,000 events and 50,000 requests are judged well within the test timeout; past the
 * judge's limit (200,000 events) the verdict is an ERROR that says so. */
static json_t *many_events(int n)
{
    json_t *events = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(events, json_pack("{s:s, s:s, s:f, s:{s:i}}", "obj", "xhr", "type",
                                                i % 2 ? "progress" : "readystatechange", "t", (double)i, "state",
                                                "loaded", i));
    return json_pack("{s:o}", "events", events);
}

START_TEST(large_inputs)
{
    json_t *obs = many_events(150000), *reqs = json_array();
    for (int i = 0; i < 50000; i++)
        json_array_append_new(reqs, json_pack("{s:i, s:s, s:i, s:i, s:s, s:s, s:[[ss]]}", "t_us", i, "type",
                                              "request", "conn", i, "n", i + 1, "method", "GET", "path", "/p",
                                              "headers", "X-N", i == 49999 ? "last" : "x"));
    json_t *tr = json_pack("{s:o}", "events", reqs);
    json_t *k = make_case("[{'kind':'events','line':3,'pattern':{'repeat':{'alt':[{'atom':{'type':'readystatechange'}},"
                          "{'atom':{'type':'progress'}}]},'min':0,'max':null}},"
                          "{'kind':'never','line':4,'atoms':[{'type':'load'}]},"
                          "{'kind':'count','line':5,'atom':{'type':'progress'},'n':75000},"
                          "{'kind':'request-count','line':6,'method':'GET','path':'/p','n':50000},"
                          "{'kind':'request-header','line':7,'sel':{'method':'GET','path':'/p','n':50000},"
                          "'name':'x-n','op':'eq','value':'last'},"
                          "{'kind':'requests','line':8,'list':[{'index':1}]}]");
    json_t *v = ch_judge(k, obs, tr, NULL, 1.0);
    json_t *checks = json_object_get(v, "checks");
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(!strcmp(json_string_value(json_object_get(json_array_get(checks, i), "status")), "PASS"),
                      "check %zu: %s", i, json_string_value(json_object_get(json_array_get(checks, i), "detail")));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(v, "message")), "GET /p#199, GET /p#200 … and 49800 more"));
    json_decref(v);
    json_decref(obs);
    obs = many_events(200001);
    v = ch_judge(k, obs, NULL, NULL, 1.0);
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")),
                     "malformed observations: 200001 events, more than the judge accepts (200000)");
    json_decref(v);
    json_decref(obs);
    json_decref(tr);
    json_decref(k);
}
END_TEST

/* ---- causes first: the first difference, a thrown exception, a program the client ended early ---- */

/* An EventSource case: `new`, `await error(readyState=2)` (line 9); the observations given per test. */
#define ES_CASE(expect)                                                                                             \
    "{'id':'t/es','title':'t','spec':['" SPEC "'],'client':{'objects':[{'name':'es','kind':'eventsource'}],"        \
    "'steps':[{'obj':'es','op':'new','url':'x','line':8},{'obj':'es','op':'await','event':{'type':'error',"         \
    "'props':{'readyState':2}},'line':9}],'handlers':[]},'expect':" expect "}"
#define ES_EVENTS                                                                                                   \
    "[{'kind':'events','line':12,'obj':'es','pattern':{'seq':[{'atom':{'type':'open'}},{'atom':{'type':'error',"    \
    "'props':{'readyState':0}}},{'atom':{'type':'error','props':{'readyState':2}}}]}}]"
#define ES_OBS(extra)                                                                                               \
    "{'events':[{'obj':'es','type':'open','t':1,'step':1,'state':{'readyState':1}},"                               \
    "{'obj':'es','type':'error','t':5,'step':1,'state':{'readyState':0}},"                                         \
    "{'obj':'es','type':'error','t':9,'step':1,'state':{'readyState':0}}]" extra "}"

static json_t *judge_json(const char *kase, const char *obs)
{
    json_t *k = J(kase), *o = J(obs);
    json_t *v = ch_judge(k, o, NULL, NULL, 1.0);
    json_decref(k);
    json_decref(o);
    return v;
}

/* The event at the first difference has the awaited type: the property that differs is named. */
START_TEST(first_diff_names_the_property)
{
    json_t *v = judge_json(ES_CASE(ES_EVENTS), ES_OBS(""));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")),
                     "line 12: at event 3 (t=9.0 ms): expected error(readyState=2), observed error(readyState=0) — "
                     "events (" SPEC ")");
    json_t *d = json_object_get(json_array_get(json_object_get(v, "checks"), 0), "first_diff");
    ck_assert_str_eq(json_string_value(json_object_get(d, "at")), "at event 3 (t=9.0 ms)");
    ck_assert_str_eq(json_string_value(json_object_get(d, "property")), "readyState");
    ck_assert_str_eq(json_string_value(json_object_get(d, "expected")), "error(readyState=2)");
    ck_assert_str_eq(json_string_value(json_object_get(d, "observed")), "error(readyState=0)");
    ck_assert_str_eq(json_string_value(json_object_get(d, "event")), "error");
    ck_assert(json_is_false(json_object_get(d, "values")));
    json_decref(v);
}
END_TEST

/* The interpreter ended the wait (the awaited state came without its event): FAIL at once, the stop named. */
START_TEST(stopped_await_is_a_fail)
{
    json_t *v = judge_json(ES_CASE(ES_EVENTS),
                           ES_OBS(",'stopped':{'reason':'await','step':1,'line':9,'message':'await error(readyState=2):"
                                  " error fired with readyState=0, and readyState was 2 right after it'}"));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(v, "message")),
                                 "observed error(readyState=0) — events (" SPEC "); the client ended the program at "
                                 "line 9: await error(readyState=2): error fired with readyState=0"));
    json_decref(v);
    /* Every check held, but the program did not run to its end: still FAIL, the stop is the headline. */
    v = judge_json(ES_CASE("[]"), ES_OBS(",'stopped':{'reason':'await','line':9,'message':'why'}"));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")), "the client ended the program at line 9: why");
    json_decref(v);
    /* A malformed `stopped` cannot be judged. */
    v = judge_json(ES_CASE("[]"), ES_OBS(",'stopped':{'reason':'await'}"));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "ERROR");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(v, "message")), "\"stopped\" must be an object"));
    json_decref(v);
}
END_TEST

/* An xhr case whose `send` (line 5) throws. */
#define XHR_THROW_CASE(expect)                                                                                      \
    "{'id':'t/x','title':'t','spec':['" SPEC "'],'client':{'objects':[{'name':'xhr','kind':'xhr'}],"                \
    "'steps':[{'obj':'xhr','op':'open','line':4},{'obj':'xhr','op':'send','line':5},{'obj':'xhr','op':'await',"     \
    "'event':{'type':'loadend'},'line':6}],'handlers':[]},'expect':" expect "}"
#define XHR_THROW_OBS(extra)                                                                                        \
    "{'events':[" RS(1, 0.4, 0) ",{'obj':'xhr','type':'exception','arg':'TypeError','t':0.6,'step':1,"             \
    "'state':{'name':'TypeError','message':'data.byteLength is not a function'}}]" extra "}"

START_TEST(thrown_exception_in_the_headline)
{
    /* Not allowed by the case, the program ended there: FAIL naming the step, its line and the exception. */
    json_t *v = judge_json(XHR_THROW_CASE("[{'kind':'count','line':9,'obj':'xhr','atom':{'type':'load'},'n':1}]"),
                           XHR_THROW_OBS(",'stopped':{'reason':'exception','step':1,'line':5,'message':'m'}"));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "FAIL");
    ck_assert_str_eq(json_string_value(json_object_get(v, "message")),
                     "line 9: expected load × 1, observed load × 0 — count (" SPEC "); xhr: send (line 5) threw "
                     "TypeError: data.byteLength is not a function — the client ended the program there");
    char *thrown = json_dumps(json_object_get(v, "thrown"), JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(thrown, "{\"line\":5,\"message\":\"data.byteLength is not a function\",\"name\":\"TypeError\","
                             "\"obj\":\"xhr\",\"op\":\"send\"}");
    free(thrown);
    json_decref(v);
    /* Allowed by name (an `events` pattern names it): no clause; the checks decide. */
    v = judge_json(XHR_THROW_CASE("[{'kind':'events','line':9,'obj':'xhr','pattern':{'seq':[{'atom':{'type':"
                                  "'readystatechange','arg':1}},{'atom':{'type':'exception','arg':'TypeError'}}]}}]"),
                   XHR_THROW_OBS(""));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "PASS");
    json_decref(v);
    /* Another name is allowed: a timed-out run still names the exception. */
    v = judge_json(XHR_THROW_CASE("[{'kind':'count','line':9,'obj':'xhr','atom':{'type':'exception','arg':"
                                  "'InvalidStateError'},'n':0}]"),
                   XHR_THROW_OBS(",'timed_out':true"));
    ck_assert_str_eq(json_string_value(json_object_get(v, "status")), "TIMEOUT");
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(v, "message")),
                                 "the client's deadline passed before its steps finished; xhr: send (line 5) threw "
                                 "TypeError"));
    json_decref(v);
}
END_TEST

/* What the interpreters are told (the program's `exceptions`): from every expectation but `never`. */
START_TEST(allowed_exceptions)
{
    json_t *k = J("{'client':{'objects':[{'name':'a'},{'name':'b'},{'name':'c'}]},'expect':["
                  "{'kind':'events','pattern':{'seq':[{'repeat':{'alt':[{'atom':{'type':'exception','arg':'X'}}]}}]}},"
                  "{'kind':'count','obj':'a','atom':{'type':'exception','arg':'Y'},'n':1},"
                  "{'kind':'count','obj':'a','atom':{'type':'exception','arg':'X'},'n':1},"
                  "{'kind':'at','obj':'b','atom':{'type':'exception'},'props':{'name':'Z'}},"
                  "{'kind':'never','obj':'c','atoms':[{'type':'exception'}]},"
                  "{'kind':'within','obj':'c','from':{'type':'open'},'to':{'type':'load'},'ms':1,'tol_ms':1}]}");
    json_t *a = ch_judge_allowed_exceptions(k);
    char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);
    ck_assert_str_eq(s, "{\"a\":[\"X\",\"Y\"],\"b\":[\"*\"]}");
    free(s);
    json_decref(a);
    json_decref(k);
    a = ch_judge_allowed_exceptions(NULL);
    ck_assert_int_eq(json_object_size(a), 0);
    json_decref(a);
}
END_TEST

int main(void)
{
    return ch_check_main("judge", 30,
                         CH_LOOPS(CH_LOOP(judge_table, rows), CH_LOOP(hostile_fields, kinds)),
                         CH_TESTS(catastrophic_pattern_fails_fast, budget_is_an_error, check_fields,
                                  detail_shows_props, all_checks_listed, hostile_top_level, records_file,
                                  large_inputs, first_diff_names_the_property, stopped_await_is_a_fail,
                                  thrown_exception_in_the_headline, allowed_exceptions));
}
