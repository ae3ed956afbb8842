/* stray.c — what reached the server but belongs to no case (GET /_h/stray): requests outside /c/ and /_h/, for
 * unknown tokens or other hosts, and TLS connections that failed before any request. The newest CH_STRAY_MAX are
 * kept, for a report that asks where a client went astray. */
#include <stdio.h>

#include "server_int.h"

static void keep(struct ch_server *srv, json_t *entry)
{
    if (json_array_size(srv->stray) >= CH_STRAY_MAX) json_array_remove(srv->stray, 0);
    json_array_append_new(srv->stray, entry);
}

void ch_stray_remember(struct ch_server *srv, struct ch_conn *c, struct ch_request *r, const char *why)
{
    keep(srv, json_pack("{s:s, s:s, s:s, s:s, s:s}", "method", r->method, "target", r->target, "origin",
                        c->origin_name, "peer", c->peer, "why", why));
}

void ch_stray_tls(struct ch_server *srv, struct ch_conn *c)
{
    char why[256];
    snprintf(why, sizeof why, "tls: %s", ch_tls_error(c->tls));
    keep(srv, json_pack("{s:n, s:n, s:s, s:s, s:s}", "method", "target", "origin", c->origin_name, "peer", c->peer,
                        "why", why));
}
