/* judge_ws.c — the server expectation over a WebSocket connection's `ws-close` summary (cases/FORMAT.md §6.3,
 * harness/MODEL.md §1.3 and §2): `ws-close SELECTOR PROP=VALUE...`.
 *
 * The selector picks the upgrade request (as every server check does: `GET /echo`, `GET /echo#2`, `#3`); the
 * summary is the `ws-close` event of that request's connection. PROPs are the summary's fields, dotted for the
 * nested ones: `first=client code=1000 reason="x" clean=true client.code=null handshake_completed=false
 * failed.code=1002 messages_in=2`. What only the server can see — the code and reason the client put in its
 * Close, who closed first, an empty Close from a bare close() — is checked here. */
#include <string.h>

#include "judge_int.h"
#include "core/core.h"

static int type_is(const json_t *ev, const char *type)
{
    const char *t = json_string_value(json_object_get(ev, "type"));
    return t && !strcmp(t, type);
}

static int str_eq(const json_t *a, const char *b)
{
    return json_is_string(a) && !strcmp(json_string_value(a), b);
}

/* The request a selector names ({"index": n} or {"method", "path", "n"}), or NULL. */
static const json_t *pick_request(const struct ch_jctx *cx, const json_t *sel)
{
    long long index = json_integer_value(json_object_get(sel, "index"));
    const char *method = json_string_value(json_object_get(sel, "method"));
    const char *path = json_string_value(json_object_get(sel, "path"));
    const json_t *nj = json_object_get(sel, "n");
    long long want = json_is_integer(nj) ? json_integer_value(nj) : 1, seen = 0, k = 0;
    size_t i;
    const json_t *ev;
    json_array_foreach(cx->trevents, i, ev) {
        if (!type_is(ev, "request")) continue;
        k++;
        if (index > 0) {
            if (k == index) return ev;
            continue;
        }
        if (!method || !path) return NULL;
        if ((strcmp(method, "*") == 0 || str_eq(json_object_get(ev, "method"), method)) &&
            str_eq(json_object_get(ev, "path"), path) && ++seen == want)
            return ev;
    }
    return NULL;
}

/* The ws-close summary of that request's connection (and of that request, when the summary says which). */
static const json_t *summary_of(const struct ch_jctx *cx, const json_t *req)
{
    const json_t *conn = json_object_get(req, "conn"), *n = json_object_get(req, "n"), *ev;
    size_t i;
    json_array_foreach(cx->trevents, i, ev) {
        if (!type_is(ev, "ws-close") || !json_equal((json_t *)json_object_get(ev, "conn"), (json_t *)conn)) continue;
        const json_t *r = json_object_get(ev, "req");
        if (!r || !n || json_equal((json_t *)r, (json_t *)n)) return ev;
    }
    return NULL;
}

static void render(struct ch_text *t, const json_t *props, const json_t *state)
{
    const char *key;
    const json_t *v;
    int first = 1;
    json_object_foreach((json_t *)props, key, v) {
        ch_text_printf(t, "%s%s=", first ? "" : " ", key);
        ch_value_render(t, state ? ch_value_path(state, key) : v);
        first = 0;
    }
}

enum ch_jstatus ch_jcheck_ws_close(const struct ch_jctx *cx, struct ch_jcheck *c)
{
    char err[CH_ERR_LEN];
    const json_t *sel = json_object_get(c->exp, "sel"), *raw = json_object_get(c->exp, "props");
    if (!json_is_object(sel)) return ch_jerror(c, "\"sel\" must be a selector object");
    if (!json_is_object(raw) || json_object_size(raw) == 0) return ch_jerror(c, "\"props\" must be a non-empty object");
    json_t *props = ch_jfill(cx, raw, err);
    if (!props) return ch_jerror(c, "props: %s", err);
    render(&c->expected, props, NULL);
    const json_t *req = pick_request(cx, sel), *sum = req ? summary_of(cx, req) : NULL;
    enum ch_jstatus st = CH_J_FAIL;
    if (!req) {
        ch_text_puts(&c->observed, "no such request");
    } else if (!sum) {
        ch_text_puts(&c->observed, "no WebSocket close recorded for that request");
        ch_text_puts(&c->detail, "the request was not upgraded (no ws-accept, or the handshake was refused), or its "
                                 "connection was still open when the verdict was taken");
    } else {
        render(&c->observed, props, sum);
        const char *key;
        const json_t *v;
        st = CH_J_PASS;
        json_object_foreach(props, key, v) {
            const json_t *got = ch_value_path(sum, key);
            if (ch_value_eq(v, got)) continue;
            ch_text_printf(&c->detail, "%s: expected ", key);
            ch_value_render(&c->detail, v);
            ch_text_puts(&c->detail, ", observed ");
            ch_value_render(&c->detail, got);
            ch_jdiff_prop(c, key, v, got);
            st = CH_J_FAIL;
            break;
        }
    }
    json_decref(props);
    return st;
}

const json_t *ch_jws_summary(const struct ch_jctx *cx, const json_t *sel)
{
    const json_t *req = json_is_object(sel) ? pick_request(cx, sel) : NULL;
    return req ? summary_of(cx, req) : NULL;
}
