/* control.c — the /_h/ endpoints (fixtures/PROTOCOL.md §1): runs and their queues, programs, observations,
 * verdicts, transcripts, static fixtures, health and quit. Every reply is JSON (or a fixture file) with
 * `Access-Control-Allow-Origin: *` and `Cache-Control: no-store`, so pages on any origin can use them. */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "judge/judge.h"
#include "state.h"
#include "core/core.h"

#define CH_VERSION "0.1.0"
#define NEXT_WAIT_MS 5000
#define MAX_VERDICT_WAIT_MS 600000
#define CONTROL_HEADERS "Access-Control-Allow-Origin: *\r\nCache-Control: no-store\r\n"

struct ctx {
    struct ch_server *srv;
    struct ch_conn *conn;
    struct ch_request *req;
    char path[256];
    struct evkeyvalq query;
};

static const char *param(struct ctx *x, const char *name) { return evhttp_find_header(&x->query, name); }

/* ---- replies (each ends the request; the connection may be gone afterwards) ----------------------------- */

static void reply_json(struct ch_conn *c, int status, json_t *j)
{
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 409 ? "Conflict" : "Internal Server Error";
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    ch_conn_reply(c, status, reason, "application/json", CONTROL_HEADERS, text, text ? strlen(text) : 0);
    free(text);
    json_decref(j);
}

static void reply_error(struct ctx *x, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reply_error(struct ctx *x, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(x->conn, status, json_pack("{s:s}", "error", msg));
}

/* ---- tokens ------------------------------------------------------------------------------------------------ */

static void set_origin_vars(struct ch_server *srv, json_t *vars, const char *token)
{
    static const char *const names[] = {"A", "B", "C"};
    for (int i = 0; i < 3; i++) {
        char key[16], url[160];
        snprintf(url, sizeof url, "%s/c/%s", srv->origin[i], token);
        json_object_set_new(vars, names[i], json_string(url));
        snprintf(key, sizeof key, "origin-%s", names[i]);
        json_object_set_new(vars, key, json_string(srv->origin[i]));
        snprintf(key, sizeof key, "host-%s", names[i]);
        json_object_set_new(vars, key, json_string(srv->host[i]));
    }
}

struct ch_token *ch_token_new(struct ch_server *srv, struct ch_case *k, struct ch_run *run)
{
    struct ch_token *t = calloc(1, sizeof *t);
    unsigned short rnd;
    if (!t) return NULL;
    evutil_secure_rng_get_bytes(&rnd, sizeof rnd);
    snprintf(t->id, sizeof t->id, "t%llu-%04x", (unsigned long long)++srv->next_token, rnd);
    t->kase = k;
    t->run = run;
    t->t0_us = ch_now_us();
    t->tr = ch_transcript_new(t->id, k->id, t->t0_us);
    t->counts = json_object();
    t->vars = json_pack("{s:s, s:s}", "token", t->id, "case", k->id);
    set_origin_vars(srv, t->vars, t->id);
    if (ch_map_set(srv->tokens, t->id, t) < 0) {
        ch_token_free(t);
        return NULL;
    }
    return t;
}

void ch_token_free(struct ch_token *t)
{
    if (!t) return;
    ch_transcript_free(t->tr);
    json_decref(t->vars);
    json_decref(t->counts);
    json_decref(t->observations);
    json_decref(t->verdict);
    json_decref(t->judged);
    free(t);
}

/* Multiplies every integer field named `ms` (a duration, MODEL.md §1.2) by the time scale. */
static void scale_ms_fields(struct ch_server *srv, json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) scale_ms_fields(srv, x);
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, x) {
            if (strcmp(key, "ms") == 0 && json_is_integer(x))
                json_integer_set(x, ch_scale_ms(json_integer_value(x), srv->scale));
            else
                scale_ms_fields(srv, x);
        }
    }
}

/* The program a client runs (PROTOCOL.md §2), or NULL with err. */
static json_t *program_json(struct ch_server *srv, struct ch_token *t, char *err)
{
    const json_t *k = t->kase->json;
    json_t *p = ch_tmpl_fill_json(json_object_get(k, "client"), t->vars, srv->scale, err);
    if (!p) return NULL;
    scale_ms_fields(srv, p);
    const char *page = json_string_value(json_object_get(k, "page"));
    int pi = page && page[0] >= 'A' && page[0] <= 'C' ? page[0] - 'A' : 0;
    char result[256];
    snprintf(result, sizeof result, "%s/_h/result?token=%s", srv->origin[pi], t->id);
    json_object_set_new(p, "token", json_string(t->id));
    json_object_set(p, "case", json_object_get(k, "id"));
    json_object_set(p, "title", json_object_get(k, "title"));
    json_object_set(p, "tags", json_object_get(k, "tags"));
    json_object_set(p, "needs", json_object_get(k, "needs"));
    json_object_set_new(p, "page", json_string(srv->origin[pi]));
    json_object_set_new(p, "origins", json_pack("{s:s, s:s, s:s}", "A", srv->origin[0], "B", srv->origin[1], "C",
                                                srv->origin[2]));
    json_object_set_new(p, "deadline_ms",
                        json_integer(ch_scale_ms(json_integer_value(json_object_get(k, "deadline_ms")), srv->scale)));
    json_object_set_new(p, "settle_ms",
                        json_integer(ch_scale_ms(json_integer_value(json_object_get(k, "settle_ms")), srv->scale)));
    json_object_set_new(p, "result", json_string(result));
    return p;
}

/* ---- verdicts and waiters ---------------------------------------------------------------------------------- */

static void waiter_free(struct ch_waiter *w)
{
    struct ch_waiter **pp = &w->srv->waiters;
    while (*pp && *pp != w) pp = &(*pp)->next;
    if (*pp) *pp = w->next;
    if (w->timer) event_free(w->timer);
    free(w);
}

static void waiter_gone(void *arg) { waiter_free(arg); }

/* Ends a wait with a reply. */
static void waiter_reply(struct ch_waiter *w, json_t *j)
{
    struct ch_conn *c = w->conn;
    ch_conn_set_gone(c, NULL, NULL);
    waiter_free(w);
    reply_json(c, 200, j);
}

static json_t *verdict_out(struct ch_server *srv, struct ch_token *t, int full)
{
    json_t *v = json_deep_copy(t->verdict);
    if (full) {
        json_object_set_new(v, "observations", t->observations ? json_incref(t->observations) : json_null());
        json_object_set_new(v, "transcript", t->judged ? json_incref(t->judged) : ch_transcript_json(t->tr));
        json_object_set(v, "vars", t->vars);
    }
    return v;
}

static json_t *try_next(struct ch_server *srv, struct ch_run *run);
static void wake_next_waiters(struct ch_server *srv);

static void set_verdict(struct ch_server *srv, struct ch_token *t, json_t *verdict)
{
    t->verdict = verdict;
    if (t->inflight) {
        t->inflight = 0;
        srv->inflight--;
    }
    if (srv->timing == t) srv->timing = NULL;
    if (!t->judged) t->judged = ch_transcript_json(t->tr); /* a cancelled case: as it stood then */
    ch_server_release_token(srv, t);
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind == CH_WAIT_VERDICT && w->token == t) waiter_reply(w, verdict_out(srv, t, w->full));
    }
    wake_next_waiters(srv);
}

/* A verdict not yet known: the case was handed out `age_ms` ago (pytest bounds a case from that moment). */
static json_t *pending(const struct ch_token *t)
{
    return json_pack("{s:s, s:b, s:s, s:I}", "status", "PENDING", "issued", 1, "token", t->id, "age_ms",
                     (json_int_t)((ch_now_us() - t->t0_us) / 1000));
}

static void on_waiter_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct ch_waiter *w = arg;
    waiter_reply(w, w->kind == CH_WAIT_NEXT ? json_pack("{s:b}", "idle", 1) : pending(w->token));
}

static void add_waiter(struct ctx *x, enum ch_wait_kind kind, struct ch_run *run, struct ch_token *t, int ms,
                       int full)
{
    struct ch_waiter *w = calloc(1, sizeof *w);
    if (!w) {
        reply_error(x, 500, "out of memory");
        return;
    }
    *w = (struct ch_waiter){x->srv, x->conn, kind, run, t, full, NULL, x->srv->waiters};
    w->timer = evtimer_new(x->srv->base, on_waiter_timeout, w);
    x->srv->waiters = w;
    ch_conn_set_gone(x->conn, waiter_gone, w);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(w->timer, &tv);
}

void ch_control_cancel_waiters(struct ch_server *srv, struct ch_conn *c)
{
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->conn == c) waiter_free(w);
    }
}

/* ---- runs ------------------------------------------------------------------------------------------------- */

void ch_run_free(struct ch_run *r)
{
    if (!r) return;
    free(r->client);
    free(r->polyfill);
    json_decref(r->queue);
    json_decref(r->by_case);
    free(r);
}

static struct ch_case *run_head(struct ch_server *srv, struct ch_run *r)
{
    if (r->next >= json_array_size(r->queue)) return NULL;
    return ch_map_get(srv->case_by_id, json_string_value(json_array_get(r->queue, r->next)));
}

/* Does a run other than `self` wait to start a `timing` case? Then nothing else starts (it needs the floor). */
static int floor_wanted(struct ch_server *srv, struct ch_run *self)
{
    for (struct ch_waiter *w = srv->waiters; w; w = w->next) {
        struct ch_case *k = w->kind == CH_WAIT_NEXT && w->run != self ? run_head(srv, w->run) : NULL;
        if (k && k->timing) return 1;
    }
    return 0;
}

/* The next program of a run, {"done": true}, or NULL when the caller must wait (PROTOCOL.md `next`). */
static json_t *try_next(struct ch_server *srv, struct ch_run *run)
{
    char err[CH_ERR_LEN];
    struct ch_case *k = run_head(srv, run);
    if (!k) return run->closed && run->next >= json_array_size(run->queue) ? json_pack("{s:b}", "done", 1) : NULL;
    if (srv->timing) return NULL;
    if (k->timing ? srv->inflight > 0 : floor_wanted(srv, run)) return NULL;
    struct ch_token *t = ch_token_new(srv, k, run);
    if (!t) return json_pack("{s:s}", "error", "out of memory");
    run->next++;
    t->inflight = 1;
    srv->inflight++;
    if (k->timing) srv->timing = t;
    json_object_set_new(run->by_case, k->id, json_string(t->id));
    json_t *p = program_json(srv, t, err);
    return p ? p : json_pack("{s:s}", "error", err);
}

static void wake_next_waiters(struct ch_server *srv)
{
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind != CH_WAIT_NEXT) continue;
        json_t *p = try_next(srv, w->run);
        if (p) {
            waiter_reply(w, p);
            next = srv->waiters; /* the list changed under us; waiters already answered are gone from it */
        }
    }
}

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
    size_t n = evbuffer_get_length(x->req->body);
    /* Observations may hold U+0000 (a NUL in a response text, an SSE id a client failed to ignore). */
    return json_loadb(n ? (const char *)evbuffer_pullup(x->req->body, -1) : "", n, JSON_ALLOW_NUL, NULL);
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
    struct ch_run *r = calloc(1, sizeof *r);
    snprintf(r->id, sizeof r->id, "r%llu", (unsigned long long)++x->srv->next_run);
    r->client = strdup(client);
    r->queue = json_array();
    r->by_case = json_object();
    r->concurrency = json_is_integer(json_object_get(b, "concurrency"))
                         ? (int)json_integer_value(json_object_get(b, "concurrency")) : 1;
    if (cases) {
        json_array_extend(r->queue, cases);
    } else {
        for (size_t i = 0; i < x->srv->ncases; i++) json_array_append_new(r->queue, json_string(x->srv->cases[i].id));
    }
    const json_t *poly = json_object_get(b, "polyfill");
    if (json_is_string(poly)) {
        r->polyfill_len = json_string_length(poly);
        r->polyfill = malloc(r->polyfill_len + 1);
        memcpy(r->polyfill, json_string_value(poly), r->polyfill_len + 1);
    }
    ch_map_set(x->srv->runs, r->id, r);
    reply_json(x->conn, 200, json_pack("{s:s, s:I, s:i}", "run", r->id, "cases", (json_int_t)json_array_size(r->queue),
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
        reply_json(x->conn, 200, json_pack("{s:b}", "ok", 1));
        wake_next_waiters(x->srv);
        return;
    }
    if (strcmp(what, "cases") != 0) return reply_error(x, 404, "no such endpoint");
    json_t *b = body_json(x), *cases = json_object_get(b, "cases");
    const char *bad = json_is_array(cases) ? unknown_case(x->srv, cases) : "(\"cases\" is not an array)";
    if (bad) {
        reply_error(x, 400, "unknown case id: %s", bad);
    } else {
        json_array_extend(r->queue, cases);
        reply_json(x->conn, 200, json_pack("{s:I}", "queued", (json_int_t)json_array_size(cases)));
        wake_next_waiters(x->srv);
    }
    json_decref(b);
}

static void ep_next(struct ctx *x)
{
    struct ch_run *r = find_run(x, param(x, "run"));
    if (!r) return;
    json_t *p = try_next(x->srv, r);
    if (p) return reply_json(x->conn, 200, p);
    add_waiter(x, CH_WAIT_NEXT, r, NULL, NEXT_WAIT_MS, 0);
}

static void ep_program(struct ctx *x)
{
    char err[CH_ERR_LEN];
    const char *id = param(x, "case");
    struct ch_case *k = id ? ch_map_get(x->srv->case_by_id, id) : NULL;
    if (!k) return reply_error(x, 404, "unknown case '%s'", id ? id : "(none)");
    struct ch_token *t = ch_token_new(x->srv, k, NULL);
    json_t *p = t ? program_json(x->srv, t, err) : NULL;
    if (!p) return reply_error(x, 500, "cannot build the program: %s", t ? err : "out of memory");
    reply_json(x->conn, 200, p);
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
        return reply_json(x->conn, 409, json_pack("{s:b, s:O}", "ok", 0, "status", json_object_get(t->verdict, "status")));
    }
    t->observations = obs;
    json_t *tr = ch_transcript_json(t->tr);
    json_t *v = ch_judge(t->kase->json, obs, tr, t->vars, x->srv->scale);
    t->judged = tr;
    const char *client = t->run ? t->run->client : json_string_value(json_object_get(json_object_get(obs, "client"), "name"));
    json_object_set_new(v, "token", json_string(t->id));
    json_object_set_new(v, "client", client ? json_string(client) : json_null());
    reply_json(x->conn, 200, json_pack("{s:b, s:O}", "ok", 1, "status", json_object_get(v, "status")));
    set_verdict(x->srv, t, v);
}

static void ep_verdict(struct ctx *x)
{
    const char *run = param(x, "run"), *kase = param(x, "case");
    struct ch_run *r = run && !param(x, "token") ? ch_map_get(x->srv->runs, run) : NULL;
    if (r && kase && !json_object_get(r->by_case, kase)) /* queued (or not) but not handed out yet */
        return reply_json(x->conn, 200, json_pack("{s:s, s:b}", "status", "PENDING", "issued", 0));
    struct ch_token *t = find_token(x);
    if (!t) return;
    const char *full = param(x, "full"), *wait = param(x, "wait");
    int is_full = full && strcmp(full, "1") == 0;
    if (t->verdict) return reply_json(x->conn, 200, verdict_out(x->srv, t, is_full));
    long ms = wait ? strtol(wait, NULL, 10) : 0;
    if (ms <= 0) return reply_json(x->conn, 200, pending(t));
    add_waiter(x, CH_WAIT_VERDICT, NULL, t, (int)(ms < MAX_VERDICT_WAIT_MS ? ms : MAX_VERDICT_WAIT_MS), is_full);
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
        set_verdict(x->srv, t, v);
    }
    reply_json(x->conn, 200, json_pack("{s:b, s:O}", "ok", 1, "status", json_object_get(t->verdict, "status")));
    json_decref(b);
}

static void ep_transcript(struct ctx *x)
{
    struct ch_token *t = find_token(x);
    if (t) reply_json(x->conn, 200, ch_transcript_json(t->tr));
}

static void ep_polyfill(struct ctx *x)
{
    struct ch_run *r = find_run(x, param(x, "run"));
    if (!r) return;
    ch_conn_reply(x->conn, 200, "OK", "text/javascript; charset=utf-8", CONTROL_HEADERS, r->polyfill ? r->polyfill : "",
                  r->polyfill_len);
}

static void ep_health(struct ctx *x)
{
    struct ch_server *s = x->srv;
    reply_json(x->conn, 200, json_pack("{s:b, s:s, s:{s:s, s:s, s:s}, s:f, s:I, s:i}", "ok", 1, "version", CH_VERSION,
                                       "origins", "A", s->origin[0], "B", s->origin[1], "C", s->origin[2],
                                       "time_scale", s->scale, "cases", (json_int_t)s->ncases, "inflight", s->inflight));
}

static void ep_cases(struct ctx *x) { reply_json(x->conn, 200, json_incref(x->srv->cases_json)); }
static void ep_stray(struct ctx *x) { reply_json(x->conn, 200, json_incref(x->srv->stray)); }

static void ep_quit(struct ctx *x)
{
    struct timeval tv = {0, 20000}; /* let the reply leave first */
    reply_json(x->conn, 200, json_pack("{s:b}", "ok", 1));
    evtimer_add(x->srv->quit, &tv);
}

/* ---- static fixtures ---------------------------------------------------------------------------------------- */

static const char *mime_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".json", "application/json"}, {".css", "text/css"},
        {".txt", "text/plain; charset=utf-8"}, {".xml", "application/xml"}, {".png", "image/png"},
        {".gif", "image/gif"}, {".jpg", "image/jpeg"}, {".svg", "image/svg+xml"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

/* GET /_h/static/PATH: a file under the fixtures directory; anything that resolves outside it is 404. */
static void ep_static(struct ctx *x)
{
    char root[PATH_MAX], want[PATH_MAX * 2], real[PATH_MAX], err[CH_ERR_LEN];
    const char *rel = x->path + strlen("/_h/static/");
    size_t n;
    if (!*rel || strstr(rel, "..") || strchr(rel, '\\') || !realpath(x->srv->opts->fixtures_dir, root))
        return reply_error(x, 404, "no such fixture");
    snprintf(want, sizeof want, "%s/%s", root, rel);
    if (!realpath(want, real) || strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/')
        return reply_error(x, 404, "no such fixture");
    char *body = ch_read_file(real, &n, err);
    if (!body) return reply_error(x, 404, "no such fixture");
    ch_conn_reply(x->conn, 200, "OK", mime_type(real), CONTROL_HEADERS, body, n);
    free(body);
}

/* ---- dispatch ------------------------------------------------------------------------------------------------ */

static const struct endpoint {
    const char *method, *path;
    void (*fn)(struct ctx *);
    int prefix;
} endpoints[] = {
    {"GET", "/_h/health", ep_health, 0},       {"GET", "/_h/cases", ep_cases, 0},
    {"POST", "/_h/runs", ep_run_new, 0},        {"POST", "/_h/runs/", ep_run_sub, 1},
    {"GET", "/_h/next", ep_next, 0},           {"GET", "/_h/program", ep_program, 0},
    {"POST", "/_h/result", ep_result, 0},       {"GET", "/_h/verdict", ep_verdict, 0},
    {"POST", "/_h/cancel", ep_cancel, 0},       {"GET", "/_h/transcript", ep_transcript, 0},
    {"GET", "/_h/polyfill", ep_polyfill, 0},   {"GET", "/_h/stray", ep_stray, 0},
    {"GET", "/_h/quit", ep_quit, 0},           {"POST", "/_h/quit", ep_quit, 0},
    {"GET", "/_h/static/", ep_static, 1},
};

void ch_control_dispatch(struct ch_server *srv, struct ch_conn *c, struct ch_request *req)
{
    struct ctx x = {.srv = srv, .conn = c, .req = req};
    const char *q = strchr(req->target, '?');
    size_t plen = q ? (size_t)(q - req->target) : strlen(req->target);
    if (plen >= sizeof x.path) return reply_error(&x, 404, "no such endpoint");
    memcpy(x.path, req->target, plen);
    TAILQ_INIT(&x.query);
    if (q) evhttp_parse_query_str(q + 1, &x.query);
    if (strcmp(req->method, "OPTIONS") == 0) { /* CORS preflight for pages on other origins */
        ch_conn_reply(c, 204, "No Content", "text/plain", CONTROL_HEADERS
                      "Access-Control-Allow-Methods: GET, POST\r\nAccess-Control-Allow-Headers: *\r\n"
                      "Access-Control-Max-Age: 600\r\n", "", 0);
    } else {
        const struct endpoint *e = NULL;
        for (size_t i = 0; !e && i < sizeof endpoints / sizeof endpoints[0]; i++) {
            const struct endpoint *d = &endpoints[i];
            int hit = d->prefix ? strncmp(x.path, d->path, strlen(d->path)) == 0 : strcmp(x.path, d->path) == 0;
            if (hit && (strcmp(d->method, req->method) == 0 || (strcmp(req->method, "HEAD") == 0 &&
                                                                strcmp(d->method, "GET") == 0)))
                e = d;
        }
        if (e) e->fn(&x);
        else reply_error(&x, 404, "no such endpoint: %s (fixtures/PROTOCOL.md lists them)", x.path);
    }
    evhttp_clear_headers(&x.query);
}
