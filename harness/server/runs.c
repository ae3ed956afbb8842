/* runs.c — the run scheduler (fixtures/PROTOCOL.md `runs`, `next`): each run is a client's queue of case ids;
 * `next` hands out its head as a new token (its timing cases tightest first, below).
 *
 * Cases tagged `timing` never run beside an ordinary case, across every run the server serves: a timing case
 * starts only when no ordinary case is in flight, no ordinary case starts while one is, and once a run waits to
 * start one, no other run starts an ordinary case until it has. Timing cases may share the server with each
 * other, as far as their precision allows (server.h, ch_case_precision_ms): each other case in flight is taken
 * to delay what a case measures by up to CH_SHARE_COST_MS, so a case of precision P (scaled by the run's time
 * scale) runs with at most P / CH_SHARE_COST_MS others, and a case joins only when every case in flight, and it,
 * allows the new count. Most timing cases wait for seconds and use no CPU meanwhile; a case whose precision is
 * below CH_SHARE_COST_MS still runs alone. README, "Speed", has the measurements behind the figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

/* What one other timing case in flight may cost a timing case's measurements, in ms (README, "Speed"). */
#define CH_SHARE_COST_MS 50

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

static struct ch_case *queued(struct ch_server *srv, struct ch_run *r, size_t i)
{
    return ch_map_get(srv->case_by_id, json_string_value(json_array_get(r->queue, i)));
}

static struct ch_case *run_head(struct ch_server *srv, struct ch_run *r)
{
    return r->next < json_array_size(r->queue) ? queued(srv, r, r->next) : NULL;
}

/* When the head is a timing case, the run's queued timing cases go tightest first: the one of smallest
 * precision (the first of equals) moves to the head, so that the cases that must share with few others run
 * before the loose ones fill the server. */
static void tightest_first(struct ch_server *srv, struct ch_run *r)
{
    struct ch_case *head = run_head(srv, r), *k;
    size_t best = r->next, n = json_array_size(r->queue);
    if (!head || !head->timing) return;
    for (size_t i = r->next + 1; i < n; i++)
        if ((k = queued(srv, r, i))->timing && k->precision_ms < queued(srv, r, best)->precision_ms) best = i;
    if (best == r->next) return;
    json_t *id = json_incref(json_array_get(r->queue, best));
    json_array_remove(r->queue, best);
    json_array_insert_new(r->queue, r->next, id);
}

/* How many timing cases, k included, may be in flight while k is: 1 + its scaled precision / the cost of one
 * other, at most CH_SHARE_MAX. */
int ch_case_share(const struct ch_server *srv, const struct ch_case *k)
{
    double n = 1 + (double)k->precision_ms * srv->scale / CH_SHARE_COST_MS;
    return n >= CH_SHARE_MAX ? CH_SHARE_MAX : (int)n;
}

/* Does a run other than `self` wait to start a `timing` case? Then no ordinary case starts, and no timing case
 * joins others (it would keep the waiting one from its turn). */
static int floor_wanted(struct ch_server *srv, struct ch_run *self)
{
    for (struct ch_waiter *w = srv->waiters; w; w = w->next) {
        struct ch_case *k = w->kind == CH_WAIT_NEXT && w->run != self ? run_head(srv, w->run) : NULL;
        if (k && k->timing) return 1;
    }
    return 0;
}

/* May case k start now (for run `run`)? */
static int may_start(struct ch_server *srv, struct ch_run *run, struct ch_case *k)
{
    if (!k->timing) return srv->ntiming == 0 && !floor_wanted(srv, run);
    if (srv->inflight == 0) return 1;
    int n = srv->ntiming + 1;
    if (srv->inflight > srv->ntiming || floor_wanted(srv, run) || n > ch_case_share(srv, k)) return 0;
    for (int i = 0; i < srv->ntiming; i++)
        if (n > ch_case_share(srv, srv->timing[i]->kase)) return 0;
    return 1;
}

json_t *ch_run_next(struct ch_server *srv, struct ch_run *run)
{
    char err[CH_ERR_LEN];
    tightest_first(srv, run);
    struct ch_case *k = run_head(srv, run);
    if (!k) return run->closed && run->next >= json_array_size(run->queue) ? json_pack("{s:b}", "done", 1) : NULL;
    if (!may_start(srv, run, k)) return NULL;
    struct ch_token *t = ch_token_new(srv, k, run);
    run->next++;
    t->inflight = 1;
    srv->inflight++;
    if (k->timing) srv->timing[srv->ntiming++] = t; /* may_start kept it within CH_SHARE_MAX */
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
    for (int i = 0; i < srv->ntiming; i++)
        if (srv->timing[i] == t) srv->timing[i--] = srv->timing[--srv->ntiming];
    if (!t->judged) t->judged = ch_transcript_json(t->tr); /* a cancelled case: as it stood then */
    ch_faults_close(t);
    ch_conns_release(srv, t);
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->kind == CH_WAIT_VERDICT && w->token == t) ch_waiter_reply(w, ch_token_verdict(t, w->full));
    }
    ch_runs_wake(srv);
}
