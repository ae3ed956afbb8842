/* ws_handshake.c — the server's side of the opening handshake (RFC 6455 §4.2.1 reading the client's request,
 * §4.2.2 the accept value). Pure: a parsed request in, an offer out. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"
#include "core/core.h"
#include "ws.h"

#define MAX_OFFERS 64 /* subprotocols or extensions kept per request; more are ignored */

/* ---- small list helpers ---------------------------------------------------------------------------------- */

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Appends the comma-separated, trimmed, non-empty items of value to the NULL-terminated list *v (n items). */
static void split_into(const char *value, char ***v, size_t *n)
{
    const char *p = value;
    while (*p && *n < MAX_OFFERS) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && is_ows(*a)) a++;
        while (b > a && is_ows(b[-1])) b--;
        if (b > a) {
            *v = ch_xrealloc(*v, (*n + 2) * sizeof **v);
            (*v)[(*n)++] = ch_xstrndup(a, (size_t)(b - a));
            (*v)[*n] = NULL;
        }
        p = *end ? end + 1 : end;
    }
}

/* Every value of header `name` (all occurrences), split on commas. Never NULL. */
static char **header_list(const struct ch_request *r, const char *name)
{
    char **v = ch_xcalloc(1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < r->nfields; i++)
        if (strcasecmp(r->head + r->fields[i].name, name) == 0) split_into(r->head + r->fields[i].value, &v, &n);
    return v;
}

static void list_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

static int list_has_ci(char *const *v, const char *token)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcasecmp(v[i], token) == 0) return 1;
    return 0;
}

int ch_ws_offered(char *const *list, const char *name)
{
    for (size_t i = 0; list && list[i]; i++)
        if (strcmp(list[i], name) == 0) return 1;
    return 0;
}

static size_t header_count(const struct ch_request *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfields; i++) n += strcasecmp(r->head + r->fields[i].name, name) == 0;
    return n;
}

/* ---- the key and the accept value ------------------------------------------------------------------------- */

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* §4.1: "a nonce consisting of a randomly selected 16-byte value that has been base64-encoded": 22 characters
 * of the alphabet and "==". */
int ch_ws_key_valid(const char *key)
{
    if (!key || strlen(key) != 24 || strcmp(key + 22, "==") != 0) return 0;
    for (int i = 0; i < 22; i++)
        if (!b64_char(key[i])) return 0;
    return 1;
}

/* §4.2.2 item 5.4: the base64 of the SHA-1 of the key (as sent, trimmed) concatenated with the GUID. */
void ch_ws_accept_value(const char *key, char out[29])
{
    char buf[256];
    unsigned char sha[20];
    int n = snprintf(buf, sizeof buf, "%s%s", key, CH_WS_GUID);
    ch_sha1(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, sha);
    ch_base64(sha, sizeof sha, out);
}

/* ---- the offer ------------------------------------------------------------------------------------------- */

static void invalid(struct ch_ws_offer *o, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void invalid(struct ch_ws_offer *o, int status, const char *fmt, ...)
{
    if (!o->valid) return; /* the first reason wins */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->why, sizeof o->why, fmt, ap);
    va_end(ap);
    o->valid = 0;
    o->status = status;
}

/* §4.2.1 items 1-6, in the order the RFC lists them. */
static void validate(const struct ch_request *r, struct ch_ws_offer *o)
{
    char **upgrade = header_list(r, "Upgrade"), **connection = header_list(r, "Connection");
    if (strcmp(r->method, "GET") != 0) invalid(o, 400, "method %s, not GET (RFC 6455 §4.2.1 item 1)", r->method);
    if (r->major != 1 || r->minor < 1) invalid(o, 400, "HTTP/%d.%d, not 1.1 (RFC 6455 §4.2.1 item 1)", r->major, r->minor);
    if (!ch_request_header(r, "Host")) invalid(o, 400, "no Host header (RFC 6455 §4.2.1 item 2)");
    if (!list_has_ci(upgrade, "websocket"))
        invalid(o, 400, "no Upgrade: websocket (RFC 6455 §4.2.1 item 3)");
    if (!list_has_ci(connection, "Upgrade"))
        invalid(o, 400, "Connection does not contain Upgrade (RFC 6455 §4.2.1 item 4)");
    if (header_count(r, "Sec-WebSocket-Key") != 1 || !ch_ws_key_valid(o->key))
        invalid(o, 400, "Sec-WebSocket-Key is %s (RFC 6455 §4.2.1 item 5)",
                header_count(r, "Sec-WebSocket-Key") > 1 ? "repeated" : o->key ? "not 16 bytes in base64" : "absent");
    if (header_count(r, "Sec-WebSocket-Version") != 1 || !o->version || strcmp(o->version, "13") != 0)
        invalid(o, 426, "Sec-WebSocket-Version is %s, not 13 (RFC 6455 §4.2.1 item 6)",
                o->version ? o->version : "absent");
    list_free(upgrade);
    list_free(connection);
}

void ch_ws_offer_read(const struct ch_request *r, struct ch_ws_offer *o)
{
    memset(o, 0, sizeof *o);
    o->valid = 1;
    o->key = ch_request_header(r, "Sec-WebSocket-Key");
    o->version = ch_request_header(r, "Sec-WebSocket-Version");
    o->origin = ch_request_header(r, "Origin");
    o->protocols = header_list(r, "Sec-WebSocket-Protocol");
    o->extensions = header_list(r, "Sec-WebSocket-Extensions");
    validate(r, o);
}

void ch_ws_offer_free(struct ch_ws_offer *o)
{
    list_free(o->protocols);
    list_free(o->extensions);
    o->protocols = o->extensions = NULL;
}
