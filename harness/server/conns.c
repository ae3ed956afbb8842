/* conns.c — the server's live connections, by id: each is closed at shutdown, and those still held or
 * streaming for a case are closed when that case is over. */
#include <stdio.h>

#include "server_int.h"

static void conn_key(const struct ch_conn *c, char key[32])
{
    snprintf(key, 32, "%llu", (unsigned long long)c->id);
}

void ch_conns_opened(struct ch_conn *c, void *arg)
{
    struct ch_server *srv = arg;
    char key[32];
    conn_key(c, key);
    ch_map_set(srv->conns, key, c);
}

void ch_conns_closed(struct ch_conn *c, void *arg)
{
    struct ch_server *srv = arg;
    char key[32];
    conn_key(c, key);
    ch_map_del(srv->conns, key);
    ch_waiters_cancel(srv, c);
    if (c->tls && !ch_tls_handshake_done(c->tls) && c->ntrs == 0 && *ch_tls_error(c->tls))
        ch_stray_tls(srv, c);
}

void ch_conns_release(struct ch_server *srv, const struct ch_token *t)
{
    size_t pos = 0;
    struct ch_conn *c;
    while ((c = ch_map_next(srv->conns, &pos, NULL))) {
        int busy = c->state == CH_CONN_HOLDING || c->state == CH_CONN_RESPONDING || c->state == CH_CONN_UPGRADED;
        if (c->tag != t || !busy) continue;
        ch_conn_close(c, "case-over"); /* removes itself from the map: walk it again */
        pos = 0;
    }
}

void ch_conns_close_all(struct ch_server *srv)
{
    size_t pos = 0;
    void *v;
    while ((v = ch_map_next(srv->conns, &pos, NULL))) {
        ch_conn_close(v, "shutdown"); /* removes itself from the map: restart the walk */
        pos = 0;
    }
}
