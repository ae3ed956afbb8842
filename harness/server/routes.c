/* routes.c — compiling a case's `server` routes and choosing the route for a request
 * (cases/FORMAT.md §4, harness/MODEL.md §1.1). */
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "core/core.h"
#include "server.h"

static int origin_index(const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? ch_origin_by_name(s, strlen(s)) : -1;
}

/* Does any string in v hold `{req:`? Then request headers must be offered to the placeholder filler. */
static int mentions_req(const json_t *v)
{
    const json_t *x;
    const char *k;
    size_t i;
    if (json_is_string(v)) return strstr(json_string_value(v), "{req:") != NULL;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) if (mentions_req(x)) return 1;
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) if (mentions_req(x)) return 1;
    }
    return 0;
}

static int compile_route(struct ch_route *r, const json_t *j, const char *id, char *err)
{
    const json_t *steps = json_object_get(j, "steps"), *s;
    size_t i;
    r->method = json_string_value(json_object_get(j, "method"));
    r->path = json_string_value(json_object_get(j, "path"));
    r->line = (int)json_integer_value(json_object_get(j, "line"));
    if (!r->method || !r->path || !json_is_array(steps))
        return ch_errf(err, "%s: route at line %d lacks method, path or steps", id, r->line);
    r->prefix = json_is_true(json_object_get(j, "prefix"));
    r->nth = (int)json_integer_value(json_object_get(j, "nth"));
    r->nth_plus = json_is_true(json_object_get(j, "nth_plus"));
    r->origin = origin_index(json_object_get(j, "origin"));
    const json_t *when = json_object_get(j, "when");
    r->when_name = json_string_value(json_object_get(when, "name"));
    r->when_value = json_string_value(json_object_get(when, "value"));
    if (when && (!r->when_name || !r->when_value))
        return ch_errf(err, "%s: route at line %d: `when` lacks its name or value", id, r->line);
    r->uses_req = mentions_req(steps);
    r->nsteps = json_array_size(steps);
    r->steps = ch_xcalloc(r->nsteps, sizeof *r->steps);
    json_array_foreach(steps, i, s) {
        const char *op = json_string_value(json_object_get(s, "op"));
        r->steps[i].json = s;
        r->steps[i].line = (int)json_integer_value(json_object_get(s, "line"));
        r->steps[i].op = op ? ch_case_op(op) : NULL;
        if (!r->steps[i].op)
            return ch_errf(err, "%s: line %d: no engine runs the server step '%s'", id, r->steps[i].line,
                           op ? op : "(none)");
    }
    return 0;
}

/* The smallest positive `ms` of any step (an object with an `op`), into *(int *)arg. */
static void min_step_ms(json_t *obj, json_t *ms, void *arg)
{
    int *min = arg;
    if (json_object_get(obj, "op") && json_integer_value(ms) > 0 && json_integer_value(ms) < *min)
        *min = (int)json_integer_value(ms);
}

/* Does the client program open a synchronous request (`open ... sync`)? */
static int opens_sync(const json_t *kase)
{
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(kase, "client"), "steps"), i, s)
        if (json_is_false(json_object_get(s, "async"))) return 1;
    return 0;
}

static int has_tag(const json_t *kase, const char *name)
{
    json_t *tag;
    size_t i;
    json_array_foreach(json_object_get(kase, "tags"), i, tag)
        if (json_is_string(tag) && strcmp(json_string_value(tag), name) == 0) return 1;
    return 0;
}

/* A case that opens a synchronous request has precision 0, so it runs alone: its send() blocks the event loop
 * of its page's process, which the pages of every case beside it share (README, "Speed"). So has a case tagged
 * `alone` (cases/FORMAT.md `tags`). */
int ch_case_precision_ms(const json_t *kase)
{
    if (opens_sync(kase) || has_tag(kase, "alone")) return 0;
    json_t *deadline = json_object_get(kase, "deadline_ms"), *e;
    int min = json_is_integer(deadline) && json_integer_value(deadline) > 0 ? (int)json_integer_value(deadline)
                                                                             : 10000;
    size_t i;
    json_array_foreach(json_object_get(kase, "expect"), i, e) {
        const char *kind = json_string_value(json_object_get(e, "kind"));
        json_t *tol = json_object_get(e, "tol_ms");
        if (kind && (strcmp(kind, "within") == 0 || strcmp(kind, "interval") == 0) && json_is_integer(tol) &&
            json_integer_value(tol) < min)
            min = (int)json_integer_value(tol);
    }
    ch_json_each_ms((json_t *)json_object_get(kase, "server"), min_step_ms, &min);
    ch_json_each_ms((json_t *)json_object_get(kase, "client"), min_step_ms, &min);
    return min;
}

int ch_case_compile(struct ch_case *k, json_t *json, char *err)
{
    const json_t *routes = json_object_get(json, "server"), *r;
    size_t i;
    memset(k, 0, sizeof *k);
    k->json = json_incref(json);
    k->id = json_string_value(json_object_get(json, "id"));
    if (!k->id) return ch_errf(err, "a case without an id");
    k->timing = has_tag(json, "timing");
    k->uses = ch_tmpl_json_uses(json_object_get(json, "client")) | ch_tmpl_json_uses(routes) | ch_tmpl_json_uses(json_object_get(json, "expect"));
    k->precision_ms = ch_case_precision_ms(json);
    k->nroutes = json_array_size(routes);
    k->routes = ch_xcalloc(k->nroutes, sizeof *k->routes);
    json_array_foreach(routes, i, r) {
        if (compile_route(&k->routes[i], r, k->id, err) < 0) return -1;
        k->uses_nth |= k->routes[i].nth != 0;
    }
    return 0;
}

void ch_case_release(struct ch_case *k)
{
    for (size_t i = 0; k->routes && i < k->nroutes; i++) {
        free(k->routes[i].steps);
        free(k->routes[i].fixed);
    }
    free(k->routes);
    json_decref(k->json);
    memset(k, 0, sizeof *k);
}

/* Does the request hold header NAME (its first field of that name) with exactly VALUE? */
static int when_holds(const struct ch_route *r, const struct ch_request *req)
{
    const char *v = req ? ch_request_header(req, r->when_name) : NULL;
    return v && strcmp(v, r->when_value) == 0;
}

/* How well a route fits a request: -1 = not at all; higher = more specific (FORMAT.md §4: a `when` beats none;
 * then an exact nth beats nth N+, which beats none; then an origin beats none; then an exact method beats `*`;
 * then an exact path beats a prefix, and a longer prefix a shorter one). */
static long fit(const struct ch_route *r, const char *method, const char *path, int origin, int nth,
                const struct ch_request *req)
{
    size_t plen = strlen(r->path);
    long score = 0;
    if (strcmp(r->method, "*") != 0 && strcmp(r->method, method) != 0) return -1;
    if (r->prefix ? strncmp(r->path, path, plen) != 0 : strcmp(r->path, path) != 0) return -1;
    if (r->origin >= 0 && r->origin != origin) return -1;
    if (r->nth && (r->nth_plus ? nth < r->nth : nth != r->nth)) return -1;
    if (r->when_name && !when_holds(r, req)) return -1;
    score += r->when_name ? 4 : 0;
    score = score * 4 + (r->nth ? (r->nth_plus ? 2 : 3) : 1);
    score = score * 2 + (r->origin >= 0);
    score = score * 2 + (strcmp(r->method, "*") != 0);
    score = score * 2 + !r->prefix;
    return score * 100000 + (long)plen;
}

const struct ch_route *ch_case_match(const struct ch_case *k, const char *method, const char *path, int origin,
                                     int nth, const struct ch_request *req)
{
    const struct ch_route *best = NULL;
    long best_fit = -1;
    for (size_t i = 0; i < k->nroutes; i++) {
        long f = fit(&k->routes[i], method, path, origin, nth, req);
        if (f > best_fit) {
            best_fit = f;
            best = &k->routes[i];
        }
    }
    return best;
}
