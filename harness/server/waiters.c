/* waiters.c — long-polls (fixtures/PROTOCOL.md `next` and `verdict?wait=`): a connection held until there is
 * something to answer, or until its time is up. */
#include <stdlib.h>

#include "server_int.h"

static void waiter_free(struct ch_waiter *w)
{
    struct ch_waiter **pp = &w->srv->waiters;
    while (*pp && *pp != w) pp = &(*pp)->next;
    if (*pp) *pp = w->next;
    if (w->timer) event_free(w->timer);
    free(w);
}

static void waiter_gone(void *arg) { waiter_free(arg); }

void ch_waiter_reply(struct ch_waiter *w, json_t *j)
{
    struct ch_conn *c = w->conn;
    ch_conn_set_gone(c, NULL, NULL);
    waiter_free(w);
    ch_reply_json(c, 200, j);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct ch_waiter *w = arg;
    ch_waiter_reply(w, w->kind == CH_WAIT_NEXT ? json_pack("{s:b}", "idle", 1) : ch_token_pending(w->token));
}

void ch_waiter_add(struct ch_server *srv, struct ch_conn *c, enum ch_wait_kind kind, struct ch_run *run,
                   struct ch_token *t, int ms, int full)
{
    struct ch_waiter *w = ch_xmalloc(sizeof *w);
    *w = (struct ch_waiter){srv, c, kind, run, t, full, NULL, srv->waiters};
    w->timer = evtimer_new(srv->base, on_timeout, w);
    srv->waiters = w;
    ch_conn_set_gone(c, waiter_gone, w);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(w->timer, &tv);
}

void ch_waiters_cancel(struct ch_server *srv, struct ch_conn *c)
{
    for (struct ch_waiter *w = srv->waiters, *next; w; w = next) {
        next = w->next;
        if (w->conn == c) waiter_free(w);
    }
}
