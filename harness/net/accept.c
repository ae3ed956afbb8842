/* accept.c — making a connection (net.h ch_conn_new): conn.c's state machine, with the TLS filter of conn_tls.c
 * put between the socket and the buffers when the listener has a context. The one file that knows both. */
#include "conn_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

#include "core/core.h"

static void format_peer(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%d", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%d", host, ntohs(in6->sin6_port));
    } else {
        snprintf(out, n, "?");
    }
}

struct ch_conn *ch_conn_new(struct event_base *base, evutil_socket_t fd, const struct sockaddr *sa, int salen,
                            const struct ch_conn_listener *l, uint64_t id, const struct ch_conn_owner *owner)
{
    static const struct ch_conn_listener plain_a = {CH_ORIGIN_A, "A", NULL};
    char err[CH_ERR_LEN];
    (void)salen;
    if (!l) l = &plain_a;
    struct ch_conn *c = ch_conn_alloc(base, fd, l, id, owner);
    format_peer(sa, c->peer, sizeof c->peer);
    if (l->tls && ch_conn_tls_start(c, l->tls, err) < 0) {
        fprintf(stderr, "runner: connection %llu: %s\n", (unsigned long long)id, err);
        ch_conn_discard(c); /* nothing was told about it yet */
        return NULL;
    }
    ch_conn_begin(c);
    return c;
}
