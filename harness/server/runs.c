/* runs.c — the run scheduler (fixtures/PROTOCOL.md `runs`, `next`): each run is a client's queue of case ids;
 * `next` hands out its head as a new token. A case tagged `timing` runs alone on the whole server: it starts
 * only when nothing is in flight, nothing else starts while it runs, and once a run waits to start one, no
 * other run starts anything until it has (so timing measurements are not disturbed by other cases). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

struct ch_run *ch_run_new(struct ch_server *srv, const char *client, const json_t *cases, int concurrency,
                          const json_t *polyfill)
{
    struct ch_run *r = ch_xcalloc(1, sizeof *r);
    snprintf(r->id, sizeof r->id, "r%llu", (unsigned long long)++srv->next_run);
    r->client = ch_xstrdup(client);
    r->queue = json_array();
    r->by_case = json_object();
    r->concurrency = concurrency;
    if (cases) {
        json_array_extend(r->queue, (json_t *)cases);
    } else {
        for (size_t i = 0; i < srv->ncases; i++) json_array_append_new(r->queue, json_string(srv->cases[i].id));
    }
    if (json_is_string(polyfill)) {
        r->polyfill_len = json_string_length(polyfill);
        r->polyfill = ch_xstrndup(json_string_value(polyfill), r->polyfill_len);
    }
    ch_map_set(srv->runs, r->id, r);
    return r;
}

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

json_t *ch_run_next(struct ch_server *srv, struct ch_run *run)
{
    char err[CH_ERR_LEN];
    struct ch_case *k = run_head(srv, run);
    if (!k) return run->closed && run->next >= json_array_size(run->queue) ? json_pack("{s:b}", "done", 1) : NULL;
    if (srv->timing) return NULL;
    if (k->timing ? srv->inflight > 0 : floor_wanted(srv, run)) return NULL;
    struct ch_token *t = ch_token_new(srv, k, run);
    run->next++;
    t->inflight = 1;
    srv->inflight++;
    if (k->timing) srv->timing = t;
    json_object_set_new(run->by_case, k->id, json_string(t->id));
    json_t *p = ch_token_program(srv, t, err);
    return p ? p : json_pack("{s:s}", "error", err);
}

void ch_runs_wake(struct ch_server *srv)
{
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind != CH_WAIT_NEXT) continue;
        json_t *p = ch_run_next(srv, w->run);
        if (p) {
            ch_waiter_reply(w, p);
            next = srv->waiters; /* the list changed under us; waiters already answered are gone from it */
        }
    }
}

void ch_runs_verdict(struct ch_server *srv, struct ch_token *t, json_t *verdict)
{
    t->verdict = verdict;
    if (t->inflight) {
        t->inflight = 0;
        srv->inflight--;
    }
    if (srv->timing == t) srv->timing = NULL;
    if (!t->judged) t->judged = ch_transcript_json(t->tr); /* a cancelled case: as it stood then */
    ch_faults_close(t);
    ch_conns_release(srv, t);
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind == CH_WAIT_VERDICT && w->token == t) ch_waiter_reply(w, ch_token_verdict(t, w->full));
    }
    ch_runs_wake(srv);
}
