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

/* One request on a fresh connection; returns the whole reply (malloc'd). */
static char *ask(struct rig *g, const char *req)
{
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
    return out;
}

static const struct {
    const char *req, *status, *phrase;
    const char *body; /* when set: sent with a computed Content-Length after the request head */
} rows[] = {
    {"GET /_h/health HTTP/1.1\r\n\r\n", "200", "\"ok\":true", NULL},
    {"GET /_h/nope HTTP/1.1\r\n\r\n", "404", "no such endpoint: /_h/nope", NULL},
    {"DELETE /_h/health HTTP/1.1\r\n\r\n", "404", "no such endpoint", NULL},
    {"OPTIONS /_h/result HTTP/1.1\r\n\r\n", "204", "Access-Control-Allow-Methods: GET, POST", NULL},
    {"GET /_h/program HTTP/1.1\r\n\r\n", "404", "unknown case '(none)'", NULL},
    {"GET /_h/program?case=xhr%2Fnope HTTP/1.1\r\n\r\n", "404", "unknown case 'xhr/nope'", NULL},
    {"GET /_h/next?run=r9 HTTP/1.1\r\n\r\n", "404", "unknown run 'r9'", NULL},
    {"GET /_h/verdict?token=t0-0000 HTTP/1.1\r\n\r\n", "404", "unknown token", NULL},
    {"POST /_h/runs HTTP/1.1\r\n", "400", "a JSON object with \\\"client\\\"", "{oops"},
    {"POST /_h/runs HTTP/1.1\r\n", "400", "unknown case id: xhr/other", "{\"client\":\"c\",\"cases\":[\"xhr/other\"]}"},
    {"POST /_h/runs HTTP/1.1\r\n", "400", "must be an array", "{\"client\":\"c\",\"cases\":\"all\"}"},
    {"POST /_h/runs/r9/close HTTP/1.1\r\n", "404", "unknown run 'r9'", ""},
    {"GET /_h/static/../Makefile HTTP/1.1\r\n\r\n", "404", "no such fixture", NULL},
    {"GET /_h/static/ HTTP/1.1\r\n\r\n", "404", "no such fixture", NULL},
    {"GET /_h/static/a\\b HTTP/1.1\r\n\r\n", "404", "no such fixture", NULL},
};

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
    char *out = ask(&g, "GET /_h/program?case=xhr%2Fc HTTP/1.1\r\n\r\n");
    json_t *p = json_loads(strstr(out, "\r\n\r\n") + 4, 0, NULL);
    ck_assert_ptr_nonnull(p);
    const char *tok = json_string_value(json_object_get(p, "token"));
    char url[128];
    snprintf(url, sizeof url, "%s/c/%s/x", g.srv->origin[2], tok);
    json_t *steps = json_object_get(p, "steps");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "url")), url);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(steps, 1), "ms")), 80);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "deadline_ms")), 2000);
    ck_assert_str_eq(json_string_value(json_object_get(p, "page")), g.srv->origin[1]);
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
    char *out = ask(&g, "GET /_h/program?case=xhr%2Fc HTTP/1.1\r\n\r\n");
    json_t *p = json_loads(strstr(out, "\r\n\r\n") + 4, 0, NULL);
    char req[1024];
    const char *obs = "{\"events\":[],\"final\":{\"xhr\":{\"status\":404}}}";
    snprintf(req, sizeof req, "POST /_h/result?token=%s HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
             json_string_value(json_object_get(p, "token")), strlen(obs), obs);
    free(out);
    out = ask(&g, req);
    ck_assert_msg(strstr(out, "\"status\":\"FAIL\"") != NULL, "%s", out);
    free(out);
    out = ask(&g, req);
    ck_assert_msg(strncmp(out, "HTTP/1.1 409", 12) == 0, "%s", out);
    free(out);
    snprintf(req, sizeof req, "POST /_h/cancel?token=%s HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"status\":\"BOGUS\"}",
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
                         CH_LOOPS(CH_LOOP(answers_table, rows)),
                         CH_TESTS(program_is_filled_and_scaled, result_then_cancel_then_result));
}
