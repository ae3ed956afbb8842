/* seen.c — what real clients recorded and what a case puts in play: the only source a mutant that adds
 * something may draw on (judge.h, ch_judge_mutants; README, "Mutation testing"). A check that must see
 * something absent is proven only by a run a client could produce.
 *
 * Events: an object records the events its kind's interpreter listens to, and `listen` steps add more
 * (fixtures/client.js: xhr.upload's events only after `listen upload`; an EventSource's named events). So the
 * event types a mutant may add to an object are those recorded, in any fresh record of any case, on an object
 * of the same kind whose `listen` steps are among its own, and the names its `listen` steps give. The
 * argument and state of an added event are the check's own: they are values, which any client may get wrong.
 *
 * Requests: those any client sent in this case, the routes the case scripts, the URLs its program opens.
 *
 * Headers: those any client sent in this case; those its program sets (an implementation that forgot to drop
 * a forbidden author header sends it); and those clients add by themselves (Origin, Content-Type, Last-Event-ID,
 * Access-Control-Request-Headers...), learnt from every case whose program did not set them — except the
 * credentials (Fetch, "credentials": cookies and authentication entries), which a client sends only where the
 * case created them: a Cookie where some client sent one in this case or its server sets one, Authorization
 * where some client sent it, the program sets it, or the program's open() gives a user or password (URL
 * credentials, which a client that sends them too early or to the wrong origin puts in an Authorization). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mutate_int.h"
#include "core/core.h"

/* Request headers that carry credentials (https://fetch.spec.whatwg.org/#credentials). */
static const char *const credential_headers[] = {"cookie", "authorization", "proxy-authorization"};

void ch_seen_init(struct ch_seen *v)
{
    v->events = json_object();
    v->headers = json_object();
    v->cases = json_object();
}

void ch_seen_free(struct ch_seen *v)
{
    json_decref(v->events);
    json_decref(v->headers);
    json_decref(v->cases);
}

static const char *str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const json_t *client_steps(const json_t *kase)
{
    return json_object_get(json_object_get(kase, "client"), "steps");
}

static const json_t *client_objects(const json_t *kase)
{
    return json_object_get(json_object_get(kase, "client"), "objects");
}

static int step_is(const json_t *s, const char *op, const char *obj)
{
    const char *sop = json_string_value(json_object_get(s, "op")), *sobj = json_string_value(json_object_get(s, "obj"));
    return sop && !strcmp(sop, op) && (!obj || (sobj && !strcmp(sobj, obj)));
}

/* ---- events ---- */

/* How an object listens: {"kind", "listen": [each `listen` step of it, without where it is, as canonical JSON
 * text, sorted]}; NULL for an object the case does not declare. */
static json_t *listening(const json_t *kase, const char *obj)
{
    const json_t *o, *s, *kind = NULL;
    size_t i;
    json_array_foreach(client_objects(kase), i, o)
        if (obj && !strcmp(json_string_value(json_object_get(o, "name")), obj)) kind = json_object_get(o, "kind");
    if (!json_is_string(kind)) return NULL;
    json_t *steps = json_object();
    json_array_foreach(client_steps(kase), i, s) {
        if (!step_is(s, "listen", obj)) continue;
        json_t *c = json_copy((json_t *)s);
        json_object_del(c, "line");
        json_object_del(c, "obj");
        char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
        json_object_set_new(steps, text, json_true());
        free(text);
        json_decref(c);
    }
    return json_pack("{s:O, s:o}", "kind", kind, "listen", steps);
}

/* The entry of v->events for how an object listens: {"kind", "listen": {step: true}, "types": {type: true}}. */
static json_t *listening_entry(struct ch_seen *v, json_t *how)
{
    char *text = json_dumps(how, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *e = json_object_get(v->events, text);
    if (!e) {
        e = json_pack("{s:O, s:O, s:{}}", "kind", json_object_get(how, "kind"), "listen", json_object_get(how, "listen"),
                      "types");
        json_object_set_new(v->events, text, e);
    }
    free(text);
    return e;
}

static void learn_events(struct ch_seen *v, const json_t *kase, const json_t *rec)
{
    const json_t *ev, *o, *s, *name;
    size_t i, k, n;
    json_array_foreach(json_object_get(json_object_get(rec, "observations"), "events"), i, ev) {
        json_t *how = listening(kase, str(ev, "obj"));
        const char *type = str(ev, "type");
        if (how && type) json_object_set_new(json_object_get(listening_entry(v, how), "types"), type, json_true());
        json_decref(how);
    }
    json_array_foreach(client_objects(kase), i, o) {
        const char *obj = str(o, "name");
        json_t *how = listening(kase, obj);
        json_array_foreach(client_steps(kase), k, s) {
            if (!how || !step_is(s, "listen", obj)) continue;
            json_array_foreach(json_object_get(s, "events"), n, name)
                if (json_is_string(name))
                    json_object_set_new(json_object_get(listening_entry(v, how), "types"), json_string_value(name),
                                        json_true());
        }
        json_decref(how);
    }
}

/* Whether every listen step of `sub` is one of `of`'s. */
static int listens_within(const json_t *sub, const json_t *of)
{
    const char *step;
    json_t *x;
    json_object_foreach((json_t *)sub, step, x) if (!json_object_get(of, step)) return 0;
    return 1;
}

/* The event types an object listening as `how` does can record: those recorded on objects of its kind whose
 * listen steps are among its own (a `listen` only adds events). */
static json_t *recordable(const struct ch_seen *v, const json_t *how)
{
    json_t *types = json_object(), *e, *x, *out = json_array();
    const char *key, *type;
    json_object_foreach(v->events, key, e) {
        if (!json_equal(json_object_get(e, "kind"), json_object_get(how, "kind")) ||
            !listens_within(json_object_get(e, "listen"), json_object_get(how, "listen")))
            continue;
        json_object_foreach(json_object_get(e, "types"), type, x) json_object_set(types, type, json_true());
    }
    json_object_foreach(types, type, x) json_array_append_new(out, json_string(type));
    json_decref(types);
    return out;
}

/* ---- requests, headers, queries ---- */

static json_t *case_entry(struct ch_seen *v, const char *id)
{
    json_t *c = json_object_get(v->cases, id);
    if (!c) {
        c = json_pack("{s:{}, s:{}, s:{}}", "headers", "queries", "requests");
        json_object_set_new(v->cases, id, c);
    }
    return c;
}

static void add_request(json_t *c, const char *method, const char *path)
{
    char key[2048];
    snprintf(key, sizeof key, "%s %s", method, path);
    if (!json_object_get(json_object_get(c, "requests"), key))
        json_object_set_new(json_object_get(c, "requests"), key, json_pack("[s, s]", method, path));
}

/* Adds [name, value] under the lowercase name, once. */
static void add_header(json_t *headers, const char *name, const json_t *value)
{
    char *lower = ch_xstrdup(name);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    if (!json_object_get(headers, lower)) json_object_set_new(headers, lower, json_pack("[s, O]", name, value));
    free(lower);
}

static int is_credential(const char *name)
{
    for (size_t i = 0; i < sizeof credential_headers / sizeof credential_headers[0]; i++)
        if (!strcasecmp(name, credential_headers[i])) return 1;
    return 0;
}

/* The author headers the program sets (xhr `header`; fetch and http `headers`), as {lowercase: [name, value]}. */
static json_t *program_headers(const json_t *kase)
{
    json_t *out = json_object();
    const json_t *s, *h;
    size_t i, k;
    json_array_foreach(client_steps(kase), i, s) {
        const char *name = json_string_value(json_object_get(s, "name"));
        if (step_is(s, "header", NULL) && name && json_is_string(json_object_get(s, "value")))
            add_header(out, name, json_object_get(s, "value"));
        json_array_foreach(json_object_get(s, "headers"), k, h)
            if (json_is_string(json_array_get(h, 0)) && json_is_string(json_array_get(h, 1)))
                add_header(out, json_string_value(json_array_get(h, 0)), json_array_get(h, 1));
    }
    return out;
}

/* URL credentials an xhr open() sets, as the Basic Authorization a client would make of them (RFC 7617 §2). */
static void learn_userinfo(json_t *c, const json_t *open)
{
    const char *user = str(open, "user"), *password = str(open, "password");
    size_t n = strlen(user ? user : "") + 1 + strlen(password ? password : "");
    char *pair = ch_xmalloc(n + 1), *b64 = ch_xmalloc(6 + 4 * (n / 3 + 1) + 1);
    snprintf(pair, n + 1, "%s:%s", user ? user : "", password ? password : "");
    memcpy(b64, "Basic ", 6);
    ch_base64((const unsigned char *)pair, n, b64 + 6);
    json_t *value = json_string(b64);
    if (value) add_header(json_object_get(c, "headers"), "Authorization", value);
    json_decref(value);
    free(pair);
    free(b64);
}

/* What the case itself puts in play: its routes, the URLs its program opens ({A}/x: /x), its author headers,
 * and a Cookie where its server sets one. */
static void learn_program(json_t *c, const json_t *kase, const json_t *authored)
{
    const json_t *s, *r, *v;
    const char *key;
    size_t i, k;
    json_array_foreach(json_object_get(kase, "server"), i, r) {
        const char *method = str(r, "method"), *path = str(r, "path");
        if (method && path) add_request(c, strcmp(method, "*") ? method : "GET", path);
        json_array_foreach(json_object_get(r, "steps"), k, s) {
            const char *name = str(s, "name"), *value = str(s, "value");
            if (!step_is(s, "header", NULL) || !name || strcasecmp(name, "Set-Cookie") || !value) continue;
            json_t *cookie = json_stringn(value, strcspn(value, ";"));
            if (cookie) add_header(json_object_get(c, "headers"), "Cookie", cookie);
            json_decref(cookie);
        }
    }
    json_array_foreach(client_steps(kase), i, s) {
        const char *url = str(s, "url"), *method = str(s, "method");
        if (step_is(s, "open", NULL) && (str(s, "user") || str(s, "password"))) learn_userinfo(c, s);
        if (!url || strlen(url) < 4 || url[0] != '{' || url[2] != '}' || url[3] != '/') continue;
        char *path = ch_xstrndup(url + 3, strcspn(url + 3, "?#"));
        add_request(c, method ? method : "GET", path);
        free(path);
    }
    json_object_foreach((json_t *)authored, key, v)
        add_header(json_object_get(c, "headers"), json_string_value(json_array_get(v, 0)), json_array_get(v, 1));
}

static void learn_request(struct ch_seen *v, json_t *c, const json_t *req, const json_t *authored)
{
    const json_t *h;
    size_t i;
    const char *method = json_string_value(json_object_get(req, "method"));
    const char *path = json_string_value(json_object_get(req, "path"));
    const char *target = json_string_value(json_object_get(req, "target"));
    if (method && path) add_request(c, method, path);
    if (target && strchr(target, '?'))
        json_object_set_new(json_object_get(c, "queries"), strchr(target, '?') + 1, json_true());
    json_array_foreach(json_object_get(req, "headers"), i, h) {
        const char *name = json_string_value(json_array_get(h, 0));
        if (!name || !json_is_string(json_array_get(h, 1))) continue;
        add_header(json_object_get(c, "headers"), name, json_array_get(h, 1));
        char *lower = ch_xstrdup(name);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        if (!is_credential(name) && !json_object_get(authored, lower))
            add_header(v->headers, name, json_array_get(h, 1));
        free(lower);
    }
}

void ch_seen_learn(struct ch_seen *v, const json_t *kase, const json_t *rec)
{
    const json_t *ev;
    size_t i;
    learn_events(v, kase, rec);
    json_t *c = case_entry(v, json_string_value(json_object_get(kase, "id"))), *authored = program_headers(kase);
    json_array_foreach(json_object_get(json_object_get(rec, "transcript"), "events"), i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (type && !strcmp(type, "request")) learn_request(v, c, ev, authored);
    }
    learn_program(c, kase, authored);
    json_decref(authored);
}

/* ---- one case's vocabulary ---- */

static json_t *values(const json_t *obj)
{
    json_t *out = json_array(), *v;
    const char *key;
    json_object_foreach((json_t *)obj, key, v) json_array_append(out, v);
    return out;
}

static json_t *keys(const json_t *obj)
{
    json_t *out = json_array(), *v;
    const char *key;
    json_object_foreach((json_t *)obj, key, v) json_array_append_new(out, json_string(key));
    return out;
}

json_t *ch_seen_for(const struct ch_seen *v, const json_t *kase)
{
    json_t *events = json_object(), *headers = json_object(), *x;
    const json_t *o, *c = json_object_get(v->cases, json_string_value(json_object_get(kase, "id")));
    const char *key;
    size_t i;
    json_array_foreach(client_objects(kase), i, o) {
        json_t *how = listening(kase, str(o, "name"));
        if (how) json_object_set_new(events, str(o, "name"), recordable(v, how));
        json_decref(how);
    }
    json_object_foreach(json_object_get(c, "headers"), key, x) json_object_set(headers, key, x);
    json_object_foreach(v->headers, key, x) if (!json_object_get(headers, key)) json_object_set(headers, key, x);
    json_t *out = json_pack("{s:o, s:o, s:o, s:o}", "events", events, "headers", values(headers), "queries",
                            keys(json_object_get(c, "queries")), "requests", values(json_object_get(c, "requests")));
    json_decref(headers);
    return out;
}
