/* requests.c — which part of the server answers a request: /_h/... the control endpoints, /c/<token>/PATH the
 * route of that token's case that fits PATH (its steps run by the executor), anything else a 404. Requests
 * that belong to no case are remembered (stray.c) for a report that asks where a client went astray. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

static void record_request(struct ch_token *t, struct ch_conn *c, struct ch_request *r, const char *path, int n,
                           const struct ch_route *route)
{
    struct ch_transcript_request rec = {
        .t_us = r->t_head_us ? r->t_head_us : r->t_end_us, .body_end_us = r->t_end_us, .conn = c->id, .n = n,
        .minor = r->minor, .route = route ? route->line : 0, .method = r->method, .target = r->target,
        .path = path, .head = r->head, .head_len = r->head_len, .fields = r->fields, .nfields = r->nfields};
    rec.body = ch_request_body(r, &rec.body_len);
    ch_transcript_request(t->tr, &rec);
}

/* The 404 for a request no server section matches: said in the reply and recorded as sent. */
static void no_script(struct ch_token *t, struct ch_conn *c, struct ch_request *r, const char *path, int reqno)
{
    char body[512], head[256];
    int bn = snprintf(body, sizeof body, "No server section of case %s matches %s %s (request %d of the case)\n",
                      t->kase->id, r->method, path, reqno);
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 404 No Script\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n",
                      bn);
    ch_transcript_sent(t->tr, ch_now_us(), c->id, reqno, head, (size_t)hn);
    ch_transcript_sent(t->tr, ch_now_us(), c->id, reqno, body, (size_t)bn);
    ch_conn_write(c, head, (size_t)hn);
    ch_conn_write(c, body, (size_t)bn);
    ch_conn_finish(c, r->keep_alive ? CH_END_KEEP : CH_END_CLOSE);
}

/* This request's rank among its token's requests with its method and path (FORMAT.md §4, `nth`). */
static int count_request(struct ch_token *t, const char *method, const char *path)
{
    char key[CH_MAX_TARGET + 80];
    snprintf(key, sizeof key, "%s %s", method, path); /* method < 64 bytes, path <= CH_MAX_TARGET: fits */
    int nth = (int)json_integer_value(json_object_get(t->counts, key)) + 1;
    json_object_set_new(t->counts, key, json_integer(nth));
    return nth;
}

static void case_request(struct ch_server *srv, struct ch_conn *c, struct ch_request *r)
{
    char token[64], path[CH_MAX_TARGET + 2];
    const char *p = r->target + 3;
    size_t tl = strcspn(p, "/?");
    if (tl == 0 || tl >= sizeof token) goto unknown;
    memcpy(token, p, tl);
    token[tl] = '\0';
    struct ch_token *t = ch_map_get(srv->tokens, token);
    if (!t) goto unknown;
    size_t pl = strcspn(p + tl, "?");
    if (pl) {
        memcpy(path, p + tl, pl); /* pl <= CH_MAX_TARGET: the request line was bounded */
        path[pl] = '\0';
    } else {
        strcpy(path, "/");
    }
    ch_conn_attach(c, t->tr);
    c->tag = t;
    int nth = t->kase->uses_nth ? count_request(t, r->method, path) : 0;
    int reqno = ++t->nreq;
    const struct ch_route *route = ch_case_match(t->kase, r->method, path, c->origin, nth, r);
    record_request(t, c, r, path, reqno, route);
    if (route) ch_exec_start(&srv->env, c, t->tr, t->vars, route, reqno);
    else no_script(t, c, r, path, reqno);
    return;
unknown:
    ch_stray_remember(srv, c, r, "unknown token");
    ch_conn_reply(c, 404, "Unknown Token", "text/plain; charset=utf-8", NULL, "unknown token\n", 14);
}

/* Is the request addressed to one of the run's origins (README, "Security")? A page of another site whose name
 * resolves to loopback (DNS rebinding) reaches our sockets, but its requests name that site in Host: they are
 * refused, whatever they ask for. RFC 9112 §3.2: a request without Host, or with more than one, is a 400. If
 * not, the refusal is answered (JSON, the connection closed) and 0 returned. */
static int for_the_run(struct ch_server *srv, struct ch_conn *c, struct ch_request *r)
{
    const char *host = NULL;
    int n = 0;
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->head + r->fields[i].name, "Host") == 0 && n++ == 0) host = r->head + r->fields[i].value;
    if (n == 1 && ch_origin_by_host(srv, host)) return 1;
    r->keep_alive = 0;
    if (n != 1) {
        ch_reply_error(c, 400, "a request needs exactly one Host header (RFC 9112 section 3.2); it had %d", n);
    } else {
        ch_stray_remember(srv, c, r, "Host is not one of the run's origins");
        ch_reply_error(c, 421, "Host '%.200s' is not one of this run's origins: refused (see /_h/health from the "
                       "run's own origin)", host);
    }
    return 0;
}

void ch_requests_dispatch(struct ch_conn *c, struct ch_request *r, void *arg)
{
    struct ch_server *srv = arg;
    c->tag = NULL; /* set again below only for a case's request: a keep-alive connection moves on */
    if (!for_the_run(srv, c, r)) return;
    if (strncmp(r->target, "/_h/", 4) == 0) {
        ch_control_dispatch(srv, c, r);
    } else if (strncmp(r->target, "/c/", 3) == 0) {
        case_request(srv, c, r);
    } else {
        /* Browsers ask for /favicon.ico on their own: answered, never logged as stray. */
        if (strcmp(r->target, "/favicon.ico") != 0) ch_stray_remember(srv, c, r, "outside /c/ and /_h/");
        ch_conn_reply(c, 404, "Not Found", "text/plain; charset=utf-8", NULL, "not found\n", 10);
    }
}
