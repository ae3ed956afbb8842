/* check_sse.c — unit tests of harness/engines/sse.c: the event-stream bytes of every sse-* step (HTML Standard
 * §9.2.5 "Parsing an event stream", §9.2.6 "Interpreting an event stream"), their transcript summaries, and the
 * words run through the real executor on a socketpair (exact wire bytes, {body-length}, waits, the
 * `sse-event` transcript events, a bad step answered 500 before the head).
 *
 * Step JSON is written with ' for " (see J()); expected bytes are C literals with their exact length. */
#include <check.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "engines/sse.h"
#include "reply_rig.h"
#include "testing/testing.h"

#define B(s) s, sizeof(s) - 1


/* ---- rendering: one row per step ---- */

static const struct {
    const char *what, *step;
    double scale;
    const char *bytes;
    size_t len;
    const char *error; /* a substring of the error, or NULL when the step must render */
} render_rows[] = {
    {"one data line", "{'op':'sse-event','fields':[['data','one']]}", 1, B("data: one\n\n"), NULL},
    {"fields in the order written", "{'op':'sse-event','fields':[['id','7'],['event','ping'],['retry',400],['data','x']]}",
     1, B("id: 7\nevent: ping\nretry: 400\ndata: x\n\n"), NULL},
    {"data order kept after id", "{'op':'sse-event','fields':[['data','x'],['id','2']]}", 1, B("data: x\nid: 2\n\n"), NULL},
    {"multi-line data, LF", "{'op':'sse-event','fields':[['data','a\\nb']]}", 1, B("data: a\ndata: b\n\n"), NULL},
    {"data split at CRLF and CR", "{'op':'sse-event','fields':[['data','a\\r\\nb\\rc']]}", 1,
     B("data: a\ndata: b\ndata: c\n\n"), NULL},
    {"data ending in LF: an empty last line", "{'op':'sse-event','fields':[['data','a\\n']]}", 1,
     B("data: a\ndata: \n\n"), NULL},
    {"empty data: one empty data line", "{'op':'sse-event','fields':[['data','']]}", 1, B("data: \n\n"), NULL},
    {"two data strings", "{'op':'sse-event','fields':[['data','a'],['data','b']]}", 1, B("data: a\ndata: b\n\n"), NULL},
    {"NUL kept in data", "{'op':'sse-event','fields':[['data','a\\u0000b']]}", 1, B("data: a\0b\n\n"), NULL},
    {"CRLF line ends", "{'op':'sse-event','eol':'crlf','fields':[['id','1'],['data','x\\ny']]}", 1,
     B("id: 1\r\ndata: x\r\ndata: y\r\n\r\n"), NULL},
    {"CR line ends", "{'op':'sse-event','eol':'cr','fields':[['id','1'],['data','x']]}", 1, B("id: 1\rdata: x\r\r"), NULL},
    {"explicit LF", "{'op':'sse-event','eol':'lf','fields':[['data','x']]}", 1, B("data: x\n\n"), NULL},
    {"retry in ms, scaled", "{'op':'sse-event','fields':[['retry',400]]}", 2.5, B("retry: 1000\n\n"), NULL},
    {"retry 0 stays 0", "{'op':'sse-event','fields':[['retry',0]]}", 3, B("retry: 0\n\n"), NULL},
    {"retry text with a leading zero", "{'op':'sse-event','fields':[['retry','0{ms:400}']]}", 1, B("retry: 0400\n\n"), NULL},
    {"retry text scaled by {ms:}", "{'op':'sse-event','fields':[['retry','0{ms:400}']]}", 2, B("retry: 0800\n\n"), NULL},
    {"bogus retry verbatim", "{'op':'sse-event','fields':[['retry','1000x'],['data','x']]}", 1,
     B("retry: 1000x\ndata: x\n\n"), NULL},
    {"empty retry", "{'op':'sse-event','fields':[['retry','']]}", 1, B("retry: \n\n"), NULL},
    {"empty id", "{'op':'sse-event','fields':[['id',''],['data','x']]}", 1, B("id: \ndata: x\n\n"), NULL},
    {"id holding NUL", "{'op':'sse-event','fields':[['id','a\\u0000b'],['data','x']]}", 1, B("id: a\0b\ndata: x\n\n"), NULL},
    {"non-ASCII id", "{'op':'sse-event','fields':[['id','\\u2026'],['data','x']]}", 1,
     B("id: \xe2\x80\xa6\ndata: x\n\n"), NULL},
    {"empty event type", "{'op':'sse-event','fields':[['event',''],['data','x']]}", 1, B("event: \ndata: x\n\n"), NULL},
    {"placeholder in data", "{'op':'sse-event','fields':[['data','t={token}']]}", 1, B("data: t=tok1\n\n"), NULL},
    {"request header echoed", "{'op':'sse-event','fields':[['data','{req:last-event-id}']]}", 1, B("data: 41\n\n"), NULL},
    {"field with a value", "{'op':'sse-field','name':'data','value':'x','eol':'crlf'}", 1, B("data: x\r\n"), NULL},
    {"field without a value: the bare name", "{'op':'sse-field','name':'id'}", 1, B("id\n"), NULL},
    {"field with an empty value", "{'op':'sse-field','name':'id','value':''}", 1, B("id: \n"), NULL},
    {"unknown field name written anyway", "{'op':'sse-field','name':'Data','value':'x'}", 1, B("Data: x\n"), NULL},
    {"retry field via {ms:}", "{'op':'sse-field','name':'retry','value':'{ms:250}'}", 2, B("retry: 500\n"), NULL},
    {"comment", "{'op':'sse-comment','value':'keep-alive'}", 1, B(": keep-alive\n"), NULL},
    {"bare comment", "{'op':'sse-comment','eol':'cr'}", 1, B(":\r"), NULL},
    {"comment holding NUL", "{'op':'sse-comment','value':'a\\u0000'}", 1, B(": a\0\n"), NULL},
    {"raw line without the space", "{'op':'sse-line','value':'data:test'}", 1, B("data:test\n"), NULL},
    {"raw line with a TAB", "{'op':'sse-line','value':'data:\\ttest'}", 1, B("data:\ttest\n"), NULL},
    {"raw line starting with a BOM", "{'op':'sse-line','value':'\\ufeffdata: 2','eol':'crlf'}", 1,
     B("\xef\xbb\xbf" "data: 2\r\n"), NULL},
    {"dispatch", "{'op':'sse-dispatch'}", 1, B("\n"), NULL},
    {"dispatch CRLF", "{'op':'sse-dispatch','eol':'crlf'}", 1, B("\r\n"), NULL},
    /* refused */
    {"event without fields", "{'op':'sse-event','fields':[]}", 1, B(""), "at least one field"},
    {"event with an unknown field", "{'op':'sse-event','fields':[['foo','x']]}", 1, B(""), "no field 'foo'"},
    {"field pair malformed", "{'op':'sse-event','fields':[['id']]}", 1, B(""), "[name, value] pairs"},
    {"id holding LF", "{'op':'sse-event','fields':[['id','1\\n2']]}", 1, B(""), "line end"},
    {"event type holding CR", "{'op':'sse-event','fields':[['event','a\\rb']]}", 1, B(""), "line end"},
    {"negative retry", "{'op':'sse-event','fields':[['retry',-1]]}", 1, B(""), "negative"},
    {"retry neither integer nor string", "{'op':'sse-event','fields':[['retry',1.5]]}", 1, B(""), "must be a string"},
    {"unknown line end", "{'op':'sse-dispatch','eol':'lfcr'}", 1, B(""), "not lf, cr or crlf"},
    {"raw line holding CR", "{'op':'sse-line','value':'a\\rb'}", 1, B(""), "line end"},
    {"raw line without value", "{'op':'sse-line'}", 1, B(""), "needs a value"},
    {"field without name", "{'op':'sse-field','value':'x'}", 1, B(""), "needs a name"},
    {"field value holding LF", "{'op':'sse-field','name':'data','value':'a\\nb'}", 1, B(""), "line end"},
    {"unknown placeholder", "{'op':'sse-event','fields':[['data','{nope}']]}", 1, B(""), "nope"},
    {"not an sse op", "{'op':'sse-nope'}", 1, B(""), "not an sse step"},
};

/* The request's own values, layered over the token's as the executor does; counts how often it is asked. */
static json_t *local_values;
static int local_asked;
static const json_t *local_fn(void *arg)
{
    (void)arg;
    local_asked++;
    return local_values;
}

START_TEST(render_table)
{
    char err[CH_ERR_LEN] = "";
    json_t *step = J(render_rows[_i].step);
    json_t *vars = json_pack("{s:s}", "token", "tok1");
    local_values = json_pack("{s:s}", "req:last-event-id", "41");
    struct ch_sse_vars v = {local_fn, NULL, vars};
    struct evbuffer *out = evbuffer_new();
    int rc = ch_sse_render(step, &v, render_rows[_i].scale, out, NULL, err);
    if (render_rows[_i].error) {
        ck_assert_msg(rc == -1, "%s: rendered, expected an error", render_rows[_i].what);
        ck_assert_msg(strstr(err, render_rows[_i].error), "%s: error '%s' lacks '%s'", render_rows[_i].what, err,
                      render_rows[_i].error);
    } else {
        ck_assert_msg(rc == 0, "%s: %s", render_rows[_i].what, err);
        size_t n = evbuffer_get_length(out);
        ck_assert_msg(n == render_rows[_i].len && memcmp(evbuffer_pullup(out, -1), render_rows[_i].bytes, n) == 0,
                      "%s: wrong bytes (%zu, expected %zu)", render_rows[_i].what, n, render_rows[_i].len);
    }
    evbuffer_free(out);
    json_decref(local_values);
    json_decref(vars);
    json_decref(step);
}
END_TEST

/* A step without braces never builds the request's values (each held stream would pay for them). */
START_TEST(local_values_only_for_braces)
{
    char err[CH_ERR_LEN] = "";
    json_t *plain = J("{'op':'sse-event','fields':[['id','1'],['data','hello']]}");
    json_t *filled = J("{'op':'sse-event','fields':[['data','{req:last-event-id}/{token}']]}");
    json_t *vars = json_pack("{s:s}", "token", "tok1");
    local_values = json_pack("{s:s}", "req:last-event-id", "41");
    struct ch_sse_vars v = {local_fn, NULL, vars};
    struct evbuffer *out = evbuffer_new();
    local_asked = 0;
    ck_assert_int_eq(ch_sse_render(plain, &v, 1, out, NULL, err), 0);
    ck_assert_int_eq(local_asked, 0);
    ck_assert_int_eq(ch_sse_render(filled, &v, 1, out, NULL, err), 0);
    ck_assert_int_eq(local_asked, 1);
    const char want[] = "id: 1\ndata: hello\n\ndata: 41/tok1\n\n";
    ck_assert_uint_eq(evbuffer_get_length(out), sizeof want - 1);
    ck_assert(memcmp(evbuffer_pullup(out, -1), want, sizeof want - 1) == 0);
    evbuffer_free(out);
    json_decref(local_values);
    json_decref(vars);
    json_decref(plain);
    json_decref(filled);
}
END_TEST

/* ---- the transcript summary of an sse-event ---- */

static const struct {
    const char *step, *summary;
} summary_rows[] = {
    {"{'op':'sse-event','fields':[['id','7'],['event','ping'],['retry',400],['data','a\\r\\nb']]}",
     "{'id':'7','event':'ping','retry':'400','data':'a\\nb','lines':2}"},
    {"{'op':'sse-event','fields':[['retry','1000x']]}", "{'retry':'1000x','lines':0}"},
    {"{'op':'sse-event','fields':[['data','']]}", "{'data':'','lines':1}"},
    {"{'op':'sse-event','fields':[['data','a\\n']]}", "{'data':'a\\n','lines':2}"},
    {"{'op':'sse-event','fields':[['data','a'],['data','b'],['id','1'],['id','2']]}",
     "{'data':'a\\nb','id':'2','lines':2}"},
    {"{'op':'sse-event','fields':[['id','a\\u0000b'],['data','x']]}", "{'id':'a\\u0000b','data':'x','lines':1}"},
};

START_TEST(summary_table)
{
    char err[CH_ERR_LEN] = "";
    json_t *step = J(summary_rows[_i].step), *want = J(summary_rows[_i].summary), *got = json_object();
    struct evbuffer *out = evbuffer_new();
    ck_assert_msg(ch_sse_render(step, NULL, 1, out, got, err) == 0, "%s", err);
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT), *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
    ck_assert_msg(json_equal(got, want), "summary %s, expected %s", g, w);
    free(g);
    free(w);
    evbuffer_free(out);
    json_decref(got);
    json_decref(want);
    json_decref(step);
}
END_TEST

START_TEST(summary_preview_is_bounded)
{
    char err[CH_ERR_LEN], data[600];
    memset(data, 'x', sizeof data);
    memcpy(data + CH_SSE_DATA_PREVIEW - 1, "\xe2\x80\xa6", 3); /* a 3-byte character across the cut */
    json_t *step = json_pack("{s:s, s:[[s, s#]]}", "op", "sse-event", "fields", "data", data, sizeof data);
    json_t *sum = json_object();
    struct evbuffer *out = evbuffer_new();
    ck_assert_int_eq(ch_sse_render(step, NULL, 1, out, sum, err), 0);
    ck_assert_uint_eq(json_string_length(json_object_get(sum, "data")), CH_SSE_DATA_PREVIEW - 1);
    ck_assert(json_is_true(json_object_get(sum, "data_truncated")));
    ck_assert_uint_eq(evbuffer_get_length(out), sizeof data + 8); /* "data: " + data + "\n\n" */
    evbuffer_free(out);
    json_decref(sum);
    json_decref(step);
}
END_TEST

START_TEST(eol_names)
{
    enum ch_sse_eol e;
    ck_assert_int_eq(ch_sse_eol_parse(NULL, &e), 0);
    ck_assert_int_eq(e, CH_SSE_LF);
    ck_assert_int_eq(ch_sse_eol_parse("crlf", &e), 0);
    ck_assert_str_eq(ch_sse_eol_bytes(e), "\r\n");
    ck_assert_int_eq(ch_sse_eol_parse("cr", &e), 0);
    ck_assert_str_eq(ch_sse_eol_bytes(e), "\r");
    ck_assert_int_eq(ch_sse_eol_parse("CRLF", &e), -1);
}
END_TEST

/* ---- through the executor: a real connection on a socketpair ---- */

struct rig {
    struct reply_rig g;
    struct event *reader;
    struct evbuffer *got;
    int64_t arrivals_us[16]; /* when each read returned data */
    size_t narrivals;
};

/* The client side: read until EOF, then close, which lets the server's lingering close finish. */
static void on_client_read(evutil_socket_t fd, short what, void *arg)
{
    struct rig *r = arg;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
        evbuffer_add(r->got, buf, (size_t)n);
        if (r->narrivals < 16) r->arrivals_us[r->narrivals++] = ch_now_us();
        return;
    }
    event_del(r->reader);
    close(fd);
    r->g.fd = -1;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* Runs one request against a route whose steps are given as JSON (' for "); returns when the server's
 * connection is gone and the client has read to EOF (or after 5 s). */
static void rig_run(struct rig *r, const char *steps)
{
    char routes[4096];
    memset(r, 0, sizeof *r);
    snprintf(routes, sizeof routes, "[{'method':'GET','path':'/s','line':1,'steps':%s}]", steps);
    for (char *p = routes; *p; p++)
        if (*p == '\'') *p = '"';
    reply_rig_open(&r->g, "sse/unit", routes, 1, ".");
    struct event_base *base = r->g.env.base;
    r->got = evbuffer_new();
    r->reader = event_new(base, r->g.fd, EV_READ | EV_PERSIST, on_client_read, r);
    event_add(r->reader, NULL);
    static const char req[] = "GET /s HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\nConnection: close\r\n\r\n";
    ck_assert_int_eq(write(r->g.fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
    struct event *deadline = evtimer_new(base, on_deadline, base);
    struct timeval tv = {5, 0};
    evtimer_add(deadline, &tv);
    while ((!r->g.conn_closed || r->g.fd >= 0) && event_base_loop(base, EVLOOP_ONCE) == 0 &&
           !event_base_got_break(base)) {
    }
    event_free(deadline);
}

static void rig_free(struct rig *r)
{
    event_free(r->reader);
    evbuffer_free(r->got);
    reply_rig_close(&r->g, 0);
}

static void assert_wire(struct rig *r, const char *bytes, size_t len)
{
    size_t n = evbuffer_get_length(r->got);
    char *got = strndup((const char *)evbuffer_pullup(r->got, -1), n);
    ck_assert_msg(n == len && memcmp(got, bytes, n) == 0, "wire bytes (%zu): [%s]", n, got);
    free(got);
}

static const struct {
    const char *what, *steps, *bytes;
    size_t len;
} wire_rows[] = {
    {"a stream ended by FIN",
     "[{'op':'status','code':200,'reason':'OK'},{'op':'header','name':'Content-Type','value':'text/event-stream'},"
     "{'op':'sse-event','fields':[['id','1'],['data','one']]},{'op':'sse-comment','value':'k'},"
     "{'op':'sse-event','fields':[['data','{req:last-event-id}']]},{'op':'close'}]",
     B("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\nid: 1\ndata: one\n\n: k\ndata: 41\n\n")},
    {"sse bytes do not count in {body-length}; body bytes do",
     "[{'op':'status','code':200,'reason':'OK'},{'op':'header','name':'Content-Length','value':'{body-length}'},"
     "{'op':'body','text':'data: x\\n\\n'},{'op':'sse-event','fields':[['data','abc']]},{'op':'sse-dispatch'},{'op':'close'}]",
     B("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ndata: x\n\ndata: abc\n\n\n")},
    {"raw bytes between sse words: a BOM, CR line ends",
     "[{'op':'status','code':200,'reason':'OK'},{'op':'send','hex':'efbbbf'},"
     "{'op':'sse-line','value':'data:x','eol':'cr'},{'op':'sse-dispatch','eol':'cr'},{'op':'close'}]",
     B("HTTP/1.1 200 OK\r\n\r\n\xef\xbb\xbf" "data:x\r\r")},
    {"a bad step ends the stream where it stands (the parser refuses it; hand-written JSON only)",
     "[{'op':'status','code':200,'reason':'OK'},{'op':'sse-event','fields':[['data','ok']]},"
     "{'op':'sse-field','name':'data','value':'a\\nb','line':3},{'op':'sse-event','fields':[['data','never']]},{'op':'close'}]",
     B("HTTP/1.1 200 OK\r\n\r\ndata: ok\n\n")},
};

START_TEST(wire_table)
{
    struct rig r;
    rig_run(&r, wire_rows[_i].steps);
    ck_assert_msg(r.g.conn_closed, "%s: the connection did not end", wire_rows[_i].what);
    assert_wire(&r, wire_rows[_i].bytes, wire_rows[_i].len);
    rig_free(&r);
}
END_TEST

/* The transcript of a stream: one sse-event per sse-event step, with the executor's conn/req; steps without a
 * pause between them are staged and leave in one write, recorded as one `sent` after them. */
START_TEST(transcript_events)
{
    struct rig r;
    rig_run(&r, "[{'op':'status','code':200,'reason':'OK'},{'op':'sse-event','fields':[['id','1'],['retry',400],['data','a\\nb']]},"
                "{'op':'sse-comment'},{'op':'sse-event','fields':[['event','e'],['data','{req:last-event-id}']]},{'op':'close'}]");
    json_t *t = ch_transcript_json(r.g.tr), *ev, *sse = json_array();
    size_t i;
    char types[512] = "";
    json_array_foreach(json_object_get(t, "events"), i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (strcmp(type, "sent") != 0 || !strstr(types, "sent ")) {
            strncat(types, type, sizeof types - strlen(types) - 2);
            strcat(types, " ");
        }
        if (strcmp(type, "sse-event") == 0) json_array_append(sse, ev);
    }
    ck_assert_str_eq(types, "conn-open sse-event sse-event sent end conn-close ");
    json_t *first = json_array_get(sse, 0), *second = json_array_get(sse, 1);
    ck_assert_str_eq(json_string_value(json_object_get(first, "id")), "1");
    ck_assert_str_eq(json_string_value(json_object_get(first, "retry")), "400");
    ck_assert_str_eq(json_string_value(json_object_get(first, "data")), "a\nb");
    ck_assert_int_eq(json_integer_value(json_object_get(first, "bytes")), 34);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "conn")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "req")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(second, "event")), "e");
    ck_assert_str_eq(json_string_value(json_object_get(second, "data")), "41");
    ck_assert_ptr_null(json_object_get(second, "id"));
    json_decref(sse);
    json_decref(t);
    rig_free(&r);
}
END_TEST

/* A step that cannot render is recorded as a script error; the stream then ends with FIN, not RST. */
START_TEST(bad_step_recorded)
{
    struct rig r;
    rig_run(&r, "[{'op':'status','code':200,'reason':'OK'},{'op':'sse-event','fields':[['data','ok']]},"
                "{'op':'sse-event','fields':[['nope','x']],'line':9},{'op':'hold'}]");
    json_t *t = ch_transcript_json(r.g.tr), *ev, *err = NULL, *close = NULL;
    size_t i;
    json_array_foreach(json_object_get(t, "events"), i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (!strcmp(type, "script-error")) err = ev;
        if (!strcmp(type, "conn-close")) close = ev;
    }
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(json_string_value(json_object_get(err, "message")), "line 9: sse-event has no field 'nope'"),
                  "%s", json_string_value(json_object_get(err, "message")));
    ck_assert_ptr_nonnull(close);
    ck_assert_str_eq(json_string_value(json_object_get(close, "by")), "server");
    ck_assert_str_eq(json_string_value(json_object_get(close, "how")), "fin");
    assert_wire(&r, B("HTTP/1.1 200 OK\r\n\r\ndata: ok\n\n"));
    json_decref(t);
    rig_free(&r);
}
END_TEST

/* A `wait` between two events shows at the client socket (generous bounds: a unit test, not a benchmark). */
START_TEST(wait_between_events)
{
    struct rig r;
    rig_run(&r, "[{'op':'status','code':200,'reason':'OK'},{'op':'sse-event','fields':[['data','a']]},"
                "{'op':'wait','ms':150},{'op':'sse-event','fields':[['data','b']]},{'op':'close'}]");
    ck_assert_uint_ge(r.narrivals, 2);
    int64_t gap = r.arrivals_us[r.narrivals - 1] - r.arrivals_us[0];
    ck_assert_msg(gap >= 145000 && gap < 400000, "gap %lld us", (long long)gap);
    assert_wire(&r, B("HTTP/1.1 200 OK\r\n\r\ndata: a\n\ndata: b\n\n"));
    rig_free(&r);
}
END_TEST

int main(void)
{
    return ch_check_main("sse", 10,
                         CH_LOOPS(CH_LOOP(render_table, render_rows), CH_LOOP(summary_table, summary_rows),
                                  CH_LOOP(wire_table, wire_rows)),
                         CH_TESTS(summary_preview_is_bounded, local_values_only_for_braces, eol_names,
                                  transcript_events, bad_step_recorded, wait_between_events));
}
