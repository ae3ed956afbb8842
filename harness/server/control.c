/* control.c — the /_h/ endpoints (fixtures/PROTOCOL.md §1): runs and their queues, programs, observations,
 * verdicts, transcripts, static fixtures, the vocabulary, health and quit. Each endpoint reads its request and answers with
 * what tokens.c, runs.c, waiters.c and static.c decide; every reply is JSON (reply.c) or a fixture file, with
 * `Cache-Control: no-store`.
 *
 * Who may do what (README, "Security"; requests.c has already refused a Host that is not the run's): an
 * endpoint that changes the run's state (flag CHANGES: runs, next, program, result, cancel, quit) answers only a
 * request that carries the run's secret (X-Harness-Secret) or comes from a page of one of the run's origins
 * (its Origin header, which a page cannot forge); any other gets 403. Only /_h/result grants a page of another
 * of the run's origins the right to read its answer (the harness page on A posts a case's observations to the
 * case's page origin); no reply grants any other origin. */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "case/case.h"
#include "judge/judge.h"
#include "server_int.h"

#define CH_VERSION "0.1.0"
#define NEXT_WAIT_MS 5000
#define MAX_VERDICT_WAIT_MS 600000

struct ctx {
    struct ch_server *srv;
    struct ch_conn *conn;
    struct ch_request *req;
    char path[256];
    struct evkeyvalq query;
    const char *cors; /* the run's origin this endpoint's replies are readable by (CORS), or NULL */
};

static const char *param(struct ctx *x, const char *name) { return evhttp_find_header(&x->query, name); }

static void reply(struct ctx *x, int status, json_t *j) { ch_reply_json_cors(x->conn, status, j, x->cors); }

static void reply_error(struct ctx *x, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(struct ctx *x, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply(x, status, ch_error_jsonv(fmt, ap));
    va_end(ap);
}

/* ---- runs ---------------------------------------------------------------------------------------------- */

/* Validates a JSON array of case ids; returns the first unknown one, or NULL. */
static const char *unknown_case(struct ch_server *srv, const json_t *ids)
{
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
        if (!json_is_string(id) || !ch_map_get(srv->case_by_id, json_string_value(id)))
            return json_is_string(id) ? json_string_value(id) : "(not a string)";
    return NULL;
}

static json_t *body_json(struct ctx *x)
{
    size_t n;
    const char *b = ch_request_body(x->req, &n);
    /* Observations may hold U+0000 (a NUL in a response text, an SSE id a client failed to ignore). */
    return json_loadb(b, n, JSON_ALLOW_NUL, NULL);
}

static void ep_run_new(struct ctx *x)
{
    json_t *b = body_json(x), *cases;
    const char *client = json_string_value(json_object_get(b, "client")), *bad;
    if (!json_is_object(b) || !client) {
        json_decref(b);
        return reply_error(x, 400, "POST /_h/runs wants a JSON object with \"client\"");
    }
    cases = json_object_get(b, "cases");
    if (cases && !json_is_array(cases)) {
        json_decref(b);
        return reply_error(x, 400, "\"cases\" must be an array of case ids");
    }
    if (cases && (bad = unknown_case(x->srv, cases))) {
        reply_error(x, 400, "unknown case id: %s", bad);
        json_decref(b);
        return;
    }
    int concurrency = json_is_integer(json_object_get(b, "concurrency"))
                          ? (int)json_integer_value(json_object_get(b, "concurrency")) : 1;
    struct ch_run *r = ch_run_new(x->srv, client, cases, concurrency, json_object_get(b, "polyfill"));
    reply(x, 200, json_pack("{s:s, s:I, s:i}", "run", r->id, "cases", (json_int_t)json_array_size(r->queue),
                                       "concurrency", r->concurrency));
    json_decref(b);
}

static struct ch_run *find_run(struct ctx *x, const char *id)
{
    struct ch_run *r = id ? ch_map_get(x->srv->runs, id) : NULL;
    if (!r) reply_error(x, 404, "unknown run '%s'", id ? id : "(none)");
    return r;
}

/* POST /_h/runs/R/cases and /_h/runs/R/close */
static void ep_run_sub(struct ctx *x)
{
    char id[32] = "", what[16] = "";
    if (sscanf(x->path, "/_h/runs/%31[^/]/%15s", id, what) != 2) return reply_error(x, 404, "no such endpoint");
    struct ch_run *r = find_run(x, id);
    if (!r) return;
    if (strcmp(what, "close") == 0) {
        r->closed = 1;
        reply(x, 200, json_pack("{s:b}", "ok", 1));
        ch_runs_wake(x->srv);
        return;
    }
    if (strcmp(what, "cases") != 0) return reply_error(x, 404, "no such endpoint");
    json_t *b = body_json(x), *cases = json_object_get(b, "cases");
    const char *bad = json_is_array(cases) ? unknown_case(x->srv, cases) : "(\"cases\" is not an array)";
    if (bad) {
        reply_error(x, 400, "unknown case id: %s", bad);
    } else {
        json_array_extend(r->queue, cases);
        reply(x, 200, json_pack("{s:I}", "queued", (json_int_t)json_array_size(cases)));
        ch_runs_wake(x->srv);
    }
    json_decref(b);
}

static void ep_next(struct ctx *x)
{
    struct ch_run *r = find_run(x, param(x, "run"));
    if (!r) return;
    json_t *p = ch_run_next(x->srv, r);
    if (p) return reply(x, 200, p);
    ch_waiter_add(x->srv, x->conn, CH_WAIT_NEXT, r, NULL, NEXT_WAIT_MS, 0);
}

static void ep_program(struct ctx *x)
{
    char err[CH_ERR_LEN];
    const char *id = param(x, "case");
    struct ch_case *k = id ? ch_map_get(x->srv->case_by_id, id) : NULL;
    if (!k) return reply_error(x, 404, "unknown case '%s'", id ? id : "(none)");
    struct ch_token *t = ch_token_new(x->srv, k, NULL);
    json_t *p = ch_token_program(x->srv, t, err);
    if (!p) return reply_error(x, 500, "cannot build the program: %s", err);
    reply(x, 200, p);
}

/* A token by ?token=T, or by ?run=R&case=ID (the latest token of that case in that run). */
static struct ch_token *find_token(struct ctx *x)
{
    const char *id = param(x, "token"), *run = param(x, "run"), *kase = param(x, "case");
    if (!id && run && kase) {
        struct ch_run *r = ch_map_get(x->srv->runs, run);
        id = r ? json_string_value(json_object_get(r->by_case, kase)) : NULL;
    }
    struct ch_token *t = id ? ch_map_get(x->srv->tokens, id) : NULL;
    if (!t) reply_error(x, 404, "unknown token (not issued, or not yet issued for that run and case)");
    return t;
}

static void ep_result(struct ctx *x)
{
    struct ch_token *t = find_token(x);
    if (!t) return;
    json_t *obs = body_json(x);
    if (!json_is_object(obs)) {
        json_decref(obs);
        return reply_error(x, 400, "observations must be a JSON object (PROTOCOL.md §3)");
    }
    if (t->verdict) { /* e.g. pytest already cancelled it as TIMEOUT: the first verdict stands */
        json_decref(obs);
        return reply(x, 409, json_pack("{s:b, s:O}", "ok", 0, "status", json_object_get(t->verdict, "status")));
    }
    t->observations = obs;
    json_t *tr = ch_transcript_json(t->tr);
    json_t *v = ch_judge(t->kase->json, obs, tr, t->vars, x->srv->scale);
    t->judged = tr;
    const char *client = t->run ? t->run->client : json_string_value(json_object_get(json_object_get(obs, "client"), "name"));
    json_object_set_new(v, "token", json_string(t->id));
    json_object_set_new(v, "client", client ? json_string(client) : json_null());
    reply(x, 200, json_pack("{s:b, s:O}", "ok", 1, "status", json_object_get(v, "status")));
    ch_runs_verdict(x->srv, t, v);
}

static void ep_verdict(struct ctx *x)
{
    const char *run = param(x, "run"), *kase = param(x, "case");
    struct ch_run *r = run && !param(x, "token") ? ch_map_get(x->srv->runs, run) : NULL;
    if (r && kase && !json_object_get(r->by_case, kase)) /* queued (or not) but not handed out yet */
        return reply(x, 200, json_pack("{s:s, s:b}", "status", "PENDING", "issued", 0));
    struct ch_token *t = find_token(x);
    if (!t) return;
    const char *full = param(x, "full"), *wait = param(x, "wait");
    int is_full = full && strcmp(full, "1") == 0;
    if (t->verdict) return reply(x, 200, ch_token_verdict(t, is_full));
    long ms = wait ? strtol(wait, NULL, 10) : 0;
    if (ms <= 0) return reply(x, 200, ch_token_pending(t));
    ch_waiter_add(x->srv, x->conn, CH_WAIT_VERDICT, NULL, t, (int)(ms < MAX_VERDICT_WAIT_MS ? ms : MAX_VERDICT_WAIT_MS),
                  is_full);
}

/* GET /_h/inflight?run=R: the run's cases handed out and not yet judged, with their ages, so that a driver can
 * bound every case it is owed, not only the one it happens to wait for (fixtures/PROTOCOL.md `inflight`). */
static void ep_inflight(struct ctx *x)
{
    struct ch_run *r = find_run(x, param(x, "run"));
    if (!r) return;
    json_t *list = json_array(), *tok;
    const char *kase;
    json_object_foreach(r->by_case, kase, tok) {
        struct ch_token *t = ch_map_get(x->srv->tokens, json_string_value(tok));
        if (!t || t->verdict) continue;
        json_t *p = ch_token_pending(t);
        json_object_set_new(p, "case", json_string(kase));
        json_array_append_new(list, p);
    }
    reply(x, 200, json_pack("{s:s, s:o}", "run", r->id, "inflight", list));
}

static void ep_cancel(struct ctx *x)
{
    static const char *const allowed[] = {"TIMEOUT", "CRASH", "NOTRUN", "ERROR"};
    struct ch_token *t = find_token(x);
    if (!t) return;
    json_t *b = body_json(x);
    const char *status = json_string_value(json_object_get(b, "status"));
    const char *msg = json_string_value(json_object_get(b, "message"));
    int ok = 0;
    for (size_t i = 0; status && i < 4; i++) ok |= strcmp(status, allowed[i]) == 0;
    if (!ok) {
        json_decref(b);
        return reply_error(x, 400, "cancel wants {\"status\": TIMEOUT|CRASH|NOTRUN|ERROR, \"message\"}");
    }
    if (!t->verdict) {
        json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:[]}", "case", t->kase->id, "token", t->id, "status", status,
                              "message", msg ? msg : status, "checks");
        if (t->run) json_object_set_new(v, "client", json_string(t->run->client));
        ch_runs_verdict(x->srv, t, v);
    }
    reply(x, 200, json_pack("{s:b, s:O}", "ok", 1, "status", json_object_get(t->verdict, "status")));
    json_decref(b);
}

static void ep_transcript(struct ctx *x)
{
    struct ch_token *t = find_token(x);
    if (t) reply(x, 200, ch_transcript_json(t->tr));
}

static void ep_polyfill(struct ctx *x)
{
    struct ch_run *r = find_run(x, param(x, "run"));
    if (!r) return;
    ch_conn_reply(x->conn, 200, "OK", "text/javascript; charset=utf-8", CH_CONTROL_HEADERS, r->polyfill ? r->polyfill : "",
                  r->polyfill_len);
}

static void ep_health(struct ctx *x)
{
    struct ch_server *s = x->srv;
    reply(x, 200, json_pack("{s:b, s:s, s:o, s:f, s:I, s:i}", "ok", 1, "version", CH_VERSION, "origins",
                                       ch_origins_json(s, 0), "time_scale", s->scale, "cases", (json_int_t)s->ncases,
                                       "inflight", s->inflight));
}

/* The vocabulary of the case language (case.h ch_vocabulary), which the client interpreters load. */
static void ep_vocabulary(struct ctx *x) { reply(x, 200, ch_vocabulary()); }

static void ep_cases(struct ctx *x) { reply(x, 200, json_incref(x->srv->cases_json)); }
static void ep_stray(struct ctx *x) { reply(x, 200, json_incref(x->srv->stray)); }

static void ep_quit(struct ctx *x)
{
    struct timeval tv = {0, 20000}; /* let the reply leave first */
    reply(x, 200, json_pack("{s:b}", "ok", 1));
    evtimer_add(x->srv->quit, &tv);
}

static void ep_static(struct ctx *x)
{
    ch_static_reply(x->srv, x->conn, x->path + strlen("/_h/static/"), param(x, "charset"),
                    ch_request_header(x->req, "If-None-Match"));
}

/* ---- dispatch ------------------------------------------------------------------------------------------------ */

enum { PREFIX = 1, CHANGES = 2, CORS = 4 };

static const struct endpoint {
    const char *method, *path;
    void (*fn)(struct ctx *);
    int flags;
} endpoints[] = {
    {"GET", "/_h/health", ep_health, 0},              {"GET", "/_h/cases", ep_cases, 0},
    {"POST", "/_h/runs", ep_run_new, CHANGES},         {"POST", "/_h/runs/", ep_run_sub, PREFIX | CHANGES},
    {"GET", "/_h/next", ep_next, CHANGES},            {"GET", "/_h/program", ep_program, CHANGES},
    {"POST", "/_h/result", ep_result, CHANGES | CORS}, {"GET", "/_h/verdict", ep_verdict, 0},
    {"POST", "/_h/cancel", ep_cancel, CHANGES},        {"GET", "/_h/transcript", ep_transcript, 0},
    {"GET", "/_h/inflight", ep_inflight, 0},
    {"GET", "/_h/polyfill", ep_polyfill, 0},          {"GET", "/_h/stray", ep_stray, 0},
    {"GET", "/_h/quit", ep_quit, CHANGES},            {"POST", "/_h/quit", ep_quit, CHANGES},
    {"GET", "/_h/vocabulary", ep_vocabulary, 0},        {"GET", "/_h/static/", ep_static, PREFIX},
};

/* Does the request carry the run's secret? (compared in constant time: the answer says nothing of a prefix) */
static int has_secret(const struct ctx *x)
{
    const char *s = ch_request_header(x->req, "X-Harness-Secret");
    size_t n = strlen(x->srv->secret);
    if (!s || strlen(s) != n) return 0;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++) diff |= (unsigned char)(s[i] ^ x->srv->secret[i]);
    return diff == 0;
}

/* The run's origin a page sent this request from (its Origin header), or NULL. */
static const struct ch_run_origin *page_origin(const struct ctx *x)
{
    return ch_origin_by_url(x->srv, ch_request_header(x->req, "Origin"));
}

/* A CORS preflight (Fetch, "CORS-preflight fetch"): granted to a page of one of the run's origins for the
 * endpoints that answer it (CORS), for a POST with a Content-Type; refused (403, no grant) to any other. */
static void preflight(struct ctx *x, const struct endpoint *e)
{
    const struct ch_run_origin *o = page_origin(x);
    if (!o || !e || !(e->flags & CORS))
        return reply_error(x, 403, "no CORS grant for %s from this origin (README, Security)", x->path);
    char headers[512];
    snprintf(headers, sizeof headers,
             "%sAccess-Control-Allow-Origin: %s\r\nVary: Origin\r\nAccess-Control-Allow-Methods: POST\r\n"
             "Access-Control-Allow-Headers: Content-Type\r\nAccess-Control-Max-Age: 600\r\n",
             CH_CONTROL_HEADERS, o->url);
    ch_conn_reply(x->conn, 204, "No Content", "text/plain", headers, "", 0);
}

void ch_control_dispatch(struct ch_server *srv, struct ch_conn *c, struct ch_request *req)
{
    struct ctx x = {.srv = srv, .conn = c, .req = req};
    const char *q = strchr(req->target, '?');
    size_t plen = q ? (size_t)(q - req->target) : strlen(req->target);
    if (plen >= sizeof x.path) return ch_reply_error(c, 404, "no such endpoint");
    memcpy(x.path, req->target, plen);
    TAILQ_INIT(&x.query);
    if (q) evhttp_parse_query_str(q + 1, &x.query);
    int options = strcmp(req->method, "OPTIONS") == 0;
    const struct endpoint *e = NULL;
    for (size_t i = 0; !e && i < sizeof endpoints / sizeof endpoints[0]; i++) {
        const struct endpoint *d = &endpoints[i];
        int hit = d->flags & PREFIX ? strncmp(x.path, d->path, strlen(d->path)) == 0 : strcmp(x.path, d->path) == 0;
        if (hit && (options || strcmp(d->method, req->method) == 0 ||
                    (strcmp(req->method, "HEAD") == 0 && strcmp(d->method, "GET") == 0)))
            e = d;
    }
    if (options) {
        preflight(&x, e);
    } else if (!e) {
        reply_error(&x, 404, "no such endpoint: %s (fixtures/PROTOCOL.md lists them)", x.path);
    } else {
        const struct ch_run_origin *page = page_origin(&x);
        if (e->flags & CORS && page) x.cors = page->url;
        if (e->flags & CHANGES && !page && !has_secret(&x))
            reply_error(&x, 403, "%s %s changes the run's state: it needs the run's secret (the X-Harness-Secret "
                        "header) or a page of one of the run's origins (README, Security)", req->method, x.path);
        else
            e->fn(&x);
    }
    evhttp_clear_headers(&x.query);
}
