/* check_control.c — unit tests of harness/server/control.c: the /_h/ endpoints over a real connection (socketpair),
 * with a small in-memory server state. Table rows: request → the status and a phrase of the body. The happy
 * paths with a running runner are in tests/self/test_runner.py. */
#include <check.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server_int.h"
#include "core/core.h"
#include "testing/testing.h"

static const char *CASE_JSON =
    "{\"id\":\"xhr/c\",\"title\":\"t\",\"spec\":[\"s\"],\"tags\":[],\"needs\":[\"xhr\"],\"deadline_ms\":1000,"
    "\"settle_ms\":50,\"page\":\"B\",\"server\":[],\"client\":{\"objects\":[{\"name\":\"xhr\",\"kind\":\"xhr\"}],"
    "\"steps\":[{\"obj\":\"xhr\",\"op\":\"open\",\"method\":\"GET\",\"url\":\"{C}/x\",\"async\":true},"
    "{\"obj\":\"xhr\",\"op\":\"wait\",\"ms\":40}],\"handlers\":[]},"
    "\"expect\":[{\"kind\":\"final\",\"obj\":\"xhr\",\"props\":{\"status\":200},\"line\":9,\"rule\":\"r\","
    "\"spec\":\"s\",\"level\":\"must\",\"text\":\"final status=200\"}]}";

struct rig {
    struct ch_serve_opts opts;
    struct ch_server *srv;
};

/* A real server (its constructor: the case compiled, the origins bound on free ports) at time scale 2. */
static void setup(struct rig *g)
{
    char err[CH_ERR_LEN];
    memset(g, 0, sizeof *g);
    g->opts = (struct ch_serve_opts){.fixtures_dir = "fixtures", .time_scale = 2.0, .idle_timeout_ms = 5000};
    int rc = ch_server_new(&g->opts, json_pack("[o]", json_loads(CASE_JSON, 0, NULL)), &g->srv, err);
    ck_assert_msg(rc == 0, "%s", err);
}

static void teardown_rig(struct rig *g) { ch_server_free(g->srv); }

/* `req` with {host} and {secret} replaced by origin A's Host and the run's secret. malloc'd. */
static char *expand(struct rig *g, const char *req)
{
    const char *names[] = {"{host}", "{secret}"}, *values[] = {ch_origin_named(g->srv, "A")->hostport, g->srv->secret};
    char *out = calloc(1, strlen(req) * 4 + 1024), *o = out;
    while (*req) {
        int hit = 0;
        for (int i = 0; i < 2 && !hit; i++) {
            if (strncmp(req, names[i], strlen(names[i])) == 0) {
                o += sprintf(o, "%s", values[i]);
                req += strlen(names[i]);
                hit = 1;
            }
        }
        if (!hit) *o++ = *req++;
    }
    return out;
}

#define H "Host: {host}\r\n"
#define S "X-Harness-Secret: {secret}\r\n"

/* One request on a fresh connection ({host}, {secret} expanded); returns the whole reply (malloc'd). */
static char *ask(struct rig *g, const char *request)
{
    char *req = expand(g, request);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ch_conn_new(g->srv->base, sv[0], &sa, sizeof sa, NULL, 1, &g->srv->owner);
    ck_assert_int_eq(write(sv[1], req, strlen(req)), (ssize_t)strlen(req));
    shutdown(sv[1], SHUT_WR);
    struct timeval tv = {0, 200000};
    event_base_loopexit(g->srv->base, &tv);
    event_base_dispatch(g->srv->base);
    char *out = calloc(1, 65536);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    ssize_t n = read(sv[1], out, 65535);
    out[n > 0 ? n : 0] = '\0';
    close(sv[1]);
    event_base_loopexit(g->srv->base, NULL);
    event_base_dispatch(g->srv->base);
    free(req);
    return out;
}

static const struct {
    const char *req, *status, *phrase;
    const char *body; /* when set: sent with a computed Content-Length after the request head */
} rows[] = {
    {"GET /_h/health HTTP/1.1\r\n" H "\r\n", "200", "\"ok\":true", NULL},
    {"GET /_h/nope HTTP/1.1\r\n" H "\r\n", "404", "no such endpoint: /_h/nope", NULL},
    {"DELETE /_h/health HTTP/1.1\r\n" H "\r\n", "404", "no such endpoint", NULL},
    {"GET /_h/program HTTP/1.1\r\n" H S "\r\n", "404", "unknown case '(none)'", NULL},
    {"GET /_h/program?case=xhr%2Fnope HTTP/1.1\r\n" H S "\r\n", "404", "unknown case 'xhr/nope'", NULL},
    {"GET /_h/next?run=r9 HTTP/1.1\r\n" H S "\r\n", "404", "unknown run 'r9'", NULL},
    {"GET /_h/verdict?token=t0-0000 HTTP/1.1\r\n" H "\r\n", "404", "unknown token", NULL},
    {"POST /_h/runs HTTP/1.1\r\n" H S, "400", "a JSON object with \\\"client\\\"", "{oops"},
    {"POST /_h/runs HTTP/1.1\r\n" H S, "400", "unknown case id: xhr/other", "{\"client\":\"c\",\"cases\":[\"xhr/other\"]}"},
    {"POST /_h/runs HTTP/1.1\r\n" H S, "400", "must be an array", "{\"client\":\"c\",\"cases\":\"all\"}"},
    {"POST /_h/runs/r9/close HTTP/1.1\r\n" H S, "404", "unknown run 'r9'", ""},
    {"GET /_h/static/../Makefile HTTP/1.1\r\n" H "\r\n", "404", "no such fixture", NULL},
    {"GET /_h/static/ HTTP/1.1\r\n" H "\r\n", "404", "no such fixture", NULL},
    {"GET /_h/static/a\\b HTTP/1.1\r\n" H "\r\n", "404", "no such fixture", NULL},
    /* The Host must be one of the run's origins (README, Security): every endpoint, cases' URLs alike. */
    {"GET /_h/health HTTP/1.1\r\nHost: evil.example:1\r\n\r\n", "421", "is not one of this run's origins", NULL},
    {"GET /c/t1-0000/x HTTP/1.1\r\nHost: evil.example\r\n\r\n", "421", "Connection: close", NULL},
    {"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n", "421", "'localhost' is not one", NULL},
    {"GET /_h/health HTTP/1.1\r\n\r\n", "400", "exactly one Host header", NULL},
    {"GET /_h/health HTTP/1.1\r\n" H H "\r\n", "400", "it had 2", NULL},
    /* A state change needs the secret or a page of the run: 403 otherwise. */
    {"POST /_h/runs HTTP/1.1\r\n" H, "403", "needs the run's secret", "{\"client\":\"c\"}"},
    {"POST /_h/runs HTTP/1.1\r\n" H "X-Harness-Secret: 00\r\n", "403", "needs the run's secret", "{\"client\":\"c\"}"},
    {"POST /_h/runs HTTP/1.1\r\n" H "Origin: http://evil.example\r\n", "403", "changes the run's state", "{\"client\":\"c\"}"},
    {"POST /_h/runs HTTP/1.1\r\n" H "Origin: null\r\n", "403", "changes the run's state", "{\"client\":\"c\"}"},
    {"POST /_h/runs HTTP/1.1\r\n" H S, "200", "\"run\":\"r1\"", "{\"client\":\"c\"}"},
    {"POST /_h/runs HTTP/1.1\r\n" H "Origin: http://{host}\r\n", "200", "\"run\":\"r1\"", "{\"client\":\"c\"}"},
    {"GET /_h/quit HTTP/1.1\r\n" H "\r\n", "403", "GET /_h/quit changes the run's state", NULL},
    {"GET /_h/next?run=r1 HTTP/1.1\r\n" H "\r\n", "403", "needs the run's secret", NULL},
    {"GET /_h/program?case=xhr%2Fc HTTP/1.1\r\n" H "\r\n", "403", "needs the run's secret", NULL},
    {"POST /_h/cancel?token=t1-0000 HTTP/1.1\r\n" H, "403", "needs the run's secret", "{\"status\":\"ERROR\"}"},
    {"POST /_h/result?token=t1-0000 HTTP/1.1\r\n" H, "403", "needs the run's secret", "{}"},
    /* CORS: granted to a page of the run on /_h/result only; no reply grants anyone else. */
    {"OPTIONS /_h/result HTTP/1.1\r\n" H "Origin: http://{host}\r\n\r\n", "204", "Access-Control-Allow-Origin: http://localhost:", NULL},
    {"OPTIONS /_h/result HTTP/1.1\r\n" H "Origin: http://evil.example\r\n\r\n", "403", "no CORS grant", NULL},
    {"OPTIONS /_h/runs HTTP/1.1\r\n" H "Origin: http://{host}\r\n\r\n", "403", "no CORS grant", NULL},
    {"POST /_h/result?token=t0-0000 HTTP/1.1\r\n" H "Origin: http://{host}\r\n", "404", "Access-Control-Allow-Origin: http://localhost:", "{}"},
};

/* No reply but a granted one names an allowed origin: a wildcard nowhere. */
static const char *const no_grant[] = {
    "GET /_h/health HTTP/1.1\r\n" H "Origin: http://evil.example\r\n\r\n",
    "GET /_h/cases HTTP/1.1\r\n" H "Origin: http://{host}\r\n\r\n",
    "GET /_h/static/page.html HTTP/1.1\r\n" H "Origin: http://evil.example\r\n\r\n",
    "GET /_h/polyfill?run=r9 HTTP/1.1\r\n" H "\r\n",
    "POST /_h/result?token=t0-0000 HTTP/1.1\r\n" H S "Origin: http://evil.example\r\nContent-Length: 2\r\n\r\n{}",
};

START_TEST(no_grant_elsewhere)
{
    struct rig g;
    setup(&g);
    char *out = ask(&g, no_grant[_i]);
    ck_assert_msg(strncmp(out, "HTTP/1.1 ", 9) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Access-Control-Allow-Origin") == NULL, "%s -> %s", no_grant[_i], out);
    free(out);
    teardown_rig(&g);
}
END_TEST

START_TEST(answers_table)
{
    struct rig g;
    setup(&g);
    char req[1024];
    if (rows[_i].body)
        snprintf(req, sizeof req, "%sContent-Length: %zu\r\n\r\n%s", rows[_i].req, strlen(rows[_i].body), rows[_i].body);
    else
        snprintf(req, sizeof req, "%s", rows[_i].req);
    char *out = ask(&g, req);
    char want[32];
    snprintf(want, sizeof want, "HTTP/1.1 %s ", rows[_i].status);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s → %.80s", rows[_i].req, out);
    ck_assert_msg(strstr(out, rows[_i].phrase) != NULL, "%s → no '%s' in %s", rows[_i].req, rows[_i].phrase, out);
    free(out);
    teardown_rig(&g);
}
END_TEST

/* The program: placeholders filled for the token, durations scaled, the page's origin. */
START_TEST(program_is_filled_and_scaled)
{
    struct rig g;
    setup(&g);
    char *out = ask(&g, "GET /_h/program?case=xhr%2Fc HTTP/1.1\r\n" H S "\r\n");
    json_t *p = json_loads(strstr(out, "\r\n\r\n") + 4, 0, NULL);
    ck_assert_ptr_nonnull(p);
    const char *tok = json_string_value(json_object_get(p, "token"));
    char url[512];
    snprintf(url, sizeof url, "%s/c/%s/x", ch_origin_named(g.srv, "C")->url, tok);
    json_t *steps = json_object_get(p, "steps");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "url")), url);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(steps, 1), "ms")), 80);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "deadline_ms")), 2000);
    ck_assert_str_eq(json_string_value(json_object_get(p, "page")), ch_origin_named(g.srv, "B")->url);
    json_decref(p);
    free(out);
    teardown_rig(&g);
}
END_TEST

/* A posted result is judged at once; a late cancel does not replace it; a second result is a conflict. */
START_TEST(result_then_cancel_then_result)
{
    struct rig g;
    setup(&g);
    char *out = ask(&g, "GET /_h/program?case=xhr%2Fc HTTP/1.1\r\n" H S "\r\n");
    json_t *p = json_loads(strstr(out, "\r\n\r\n") + 4, 0, NULL);
    char req[1024];
    const char *obs = "{\"events\":[],\"final\":{\"xhr\":{\"status\":404}}}";
    snprintf(req, sizeof req, "POST /_h/result?token=%s HTTP/1.1\r\n" H S "Content-Length: %zu\r\n\r\n%s",
             json_string_value(json_object_get(p, "token")), strlen(obs), obs);
    free(out);
    out = ask(&g, req);
    ck_assert_msg(strstr(out, "\"status\":\"FAIL\"") != NULL, "%s", out);
    free(out);
    out = ask(&g, req);
    ck_assert_msg(strncmp(out, "HTTP/1.1 409", 12) == 0, "%s", out);
    free(out);
    snprintf(req, sizeof req, "POST /_h/cancel?token=%s HTTP/1.1\r\n" H S "Content-Length: 18\r\n\r\n{\"status\":\"BOGUS\"}",
             json_string_value(json_object_get(p, "token")));
    out = ask(&g, req);
    ck_assert_msg(strncmp(out, "HTTP/1.1 400", 12) == 0, "%s", out);
    free(out);
    json_decref(p);
    teardown_rig(&g);
}
END_TEST

int main(void)
{
    return ch_check_main("control", 20,
                         CH_LOOPS(CH_LOOP(answers_table, rows), CH_LOOP(no_grant_elsewhere, no_grant)),
                         CH_TESTS(program_is_filled_and_scaled, result_then_cancel_then_result));
}
