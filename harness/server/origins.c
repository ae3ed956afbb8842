/* origins.c — the run's origins: the one list that says which Host a request may name and which Origin a page
 * of the run has (README, "Security"). Every listener registers its origin here (ch_origin_add) and every check
 * reads this list: the Host check of every request (requests.c), the state-changing endpoints' same-origin
 * test and the one CORS answer (control.c), the placeholders {A}, {origin-A}, {host-A} (tokens.c), the ready
 * line and /_h/health (server.c, control.c).
 *
 * A host is compared as RFC 9110 §4.2.3 normalizes it: the name case-insensitively, an absent port as the
 * scheme's default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server_int.h"

static int default_port(const char *scheme)
{
    return strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0 ? 443 : 80;
}

const struct ch_origin *ch_origin_add(struct ch_server *srv, const char *name, const char *scheme, const char *host,
                                      int port)
{
    if (srv->norigins == CH_MAX_ORIGINS || strlen(name) >= sizeof srv->origins[0].name ||
        strlen(scheme) >= sizeof srv->origins[0].scheme || strlen(host) >= sizeof srv->origins[0].host)
        return NULL;
    struct ch_origin o = {.port = port};
    snprintf(o.name, sizeof o.name, "%s", name);
    snprintf(o.scheme, sizeof o.scheme, "%s", scheme);
    snprintf(o.host, sizeof o.host, "%s", host);
    if (port == default_port(scheme)) snprintf(o.hostport, sizeof o.hostport, "%s", host);
    else snprintf(o.hostport, sizeof o.hostport, "%s:%d", host, port);
    snprintf(o.url, sizeof o.url, "%s://%s", scheme, o.hostport);
    srv->origins[srv->norigins] = o;
    return &srv->origins[srv->norigins++];
}

const struct ch_origin *ch_origin_named(const struct ch_server *srv, const char *name)
{
    for (int i = 0; i < srv->norigins; i++)
        if (strcmp(srv->origins[i].name, name) == 0) return &srv->origins[i];
    return NULL;
}

/* Does `hostport` (a Host value or an Origin's authority, n bytes: host [":" port]) name origin o? */
static int names(const struct ch_origin *o, const char *hostport, size_t n)
{
    const char *colon = NULL;
    if (n && hostport[0] == '[') { /* an IPv6 literal: the port follows "]" */
        const char *close = memchr(hostport, ']', n);
        if (close && (size_t)(close - hostport) + 1 < n && close[1] == ':') colon = close + 1;
    } else {
        colon = memchr(hostport, ':', n);
    }
    size_t hl = colon ? (size_t)(colon - hostport) : n;
    int port = default_port(o->scheme);
    if (colon) {
        const char *p = colon + 1, *end = hostport + n;
        if (p == end || end - p > 5) return 0;
        port = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') return 0;
            port = port * 10 + (*p - '0');
        }
    }
    return port == o->port && hl == strlen(o->host) && strncasecmp(hostport, o->host, hl) == 0;
}

const struct ch_origin *ch_origin_by_host(const struct ch_server *srv, const char *host)
{
    size_t n = host ? strlen(host) : 0;
    while (n && (host[n - 1] == ' ' || host[n - 1] == '\t')) n--; /* the parser keeps trailing whitespace */
    while (n && (*host == ' ' || *host == '\t')) host++, n--;
    for (int i = 0; n && i < srv->norigins; i++)
        if (names(&srv->origins[i], host, n)) return &srv->origins[i];
    return NULL;
}

const struct ch_origin *ch_origin_by_url(const struct ch_server *srv, const char *origin)
{
    const char *sep = origin ? strstr(origin, "://") : NULL;
    if (!sep) return NULL; /* "null" (an opaque origin) and anything else that is not scheme://host[:port] */
    size_t sl = (size_t)(sep - origin);
    const char *auth = sep + 3;
    for (int i = 0; i < srv->norigins; i++) {
        const struct ch_origin *o = &srv->origins[i];
        if (strlen(o->scheme) == sl && strncasecmp(origin, o->scheme, sl) == 0 && names(o, auth, strlen(auth)))
            return o;
    }
    return NULL;
}

json_t *ch_origins_json(const struct ch_server *srv)
{
    json_t *j = json_object();
    for (int i = 0; i < srv->norigins; i++)
        if (!json_object_get(j, srv->origins[i].name))
            json_object_set_new(j, srv->origins[i].name, json_string(srv->origins[i].url));
    return j;
}
