/* vocab.c — the client vocabulary, declared once (cases/FORMAT.md §5, fixtures/PROTOCOL.md §3): the client
 * kinds, the events each fires, the properties each records (per event and in `final`), the pseudo-events
 * every kind records, the capabilities a program implies, and the request headers a client may send on its
 * own (for the lint's `absent` rule). Everything else reads these tables:
 *
 *   - the parser checks event atoms and property names against them (script_pattern.c, script_expect.c,
 *     lint.c) and derives a case's `needs` with sc_program_caps();
 *   - sc_vocabulary() prints them, with the parser's words (ch_vocabulary() in script.c passes them), as one
 *     JSON document: `runner vocab --json` and `GET /_h/vocabulary`, which fixtures/client.js and the Python
 *     interpreter (fixtures/python/chclient) load instead of keeping their own lists (fixtures/PROTOCOL.md §4).
 *
 * To add an event, a property or a capability rule: one row here (and the interpreters record it). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "case.h"
#include "script_int.h"
#include "core/core.h"

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const *)NULL)

const char *const sc_cap_names[CAP_COUNT] = {
    "blob",    "cookies", "cors",    "document",  "eventsource", "fetch",     "formdata", "host-d",    "http",
    "img",     "page-b",  "page-c",  "page-d",      "page-opaque", "page-sa",   "page-sb",  "page-sc",   "script",
    "tls",     "user-prompts", "websocket", "websocket-api", "worker", "xhr", "xhr-sync", "xhr-upload",
};

/* ---- kinds, events, properties ---------------------------------------------------------------------- */

/* The fields progress events add (XHR "fire a progress event": loaded, total, lengthComputable). */
#define PROGRESS LIST("loaded", "total", "lengthComputable")
/* A body read in full (fetch `body`, http `body`): a binary value with its size and its text. */
#define BODY LIST("bytes", "hex", "sha256", "size", "text", "textTruncated")
/* A thrown or rejected error, as the interpreters describe it (`cause`: library clients' causes). */
#define ERROR LIST("name", "message", "constructor", "cause")

/* One event of a kind. `dom`: fired by the object itself, so it records the kind's `state` (read from the
 * object), its own `fields` (read from the event) and the object's watched properties; otherwise the
 * interpreter records it from a promise or a callback with its `fields` alone. `needs`: the step of the
 * object's own program that must run for it to be recorded at all (else an atom on it can never match). */
struct sc_event {
    const char *name;
    const char *arg;       /* its main argument, the value in `name(V)` (NULL: none) */
    const char *const *fields;
    int dom;
    struct sc_needs needs;
};

#define NO_STEP {NULL, NULL, NULL}
#define UPLOAD {"listen", "target", "listen upload"}
#define CALLBACK {"load", "callback", "load URL callback NAME"}
#define STEP(op, written) {op, NULL, written}

/* A function `set onEVENT handler NAME` or `add-listener EVENT NAME` made was called (xhr, websocket): NAME,
 * the event's type, its isTrusted, `this` (the object's name when it is the object). */
#define HANDLER_EVENT                                                                                              \
    {"handler", "name", LIST("type", "isTrusted", "this"), 0,                                                      \
     {"set|add-listener", "handler", "set onEVENT handler NAME' or 'add-listener EVENT NAME"}}
static const struct sc_event xhr_events[] = {
    {"readystatechange", "readyState", NONE, 1, NO_STEP},
    {"loadstart", NULL, PROGRESS, 1, NO_STEP},
    {"progress", NULL, PROGRESS, 1, NO_STEP},
    {"abort", NULL, PROGRESS, 1, NO_STEP},
    {"error", NULL, PROGRESS, 1, NO_STEP},
    {"load", NULL, PROGRESS, 1, NO_STEP},
    {"timeout", NULL, PROGRESS, 1, NO_STEP},
    {"loadend", NULL, PROGRESS, 1, NO_STEP},
    {"upload.loadstart", NULL, PROGRESS, 1, UPLOAD},
    {"upload.progress", NULL, PROGRESS, 1, UPLOAD},
    {"upload.abort", NULL, PROGRESS, 1, UPLOAD},
    {"upload.error", NULL, PROGRESS, 1, UPLOAD},
    {"upload.load", NULL, PROGRESS, 1, UPLOAD},
    {"upload.timeout", NULL, PROGRESS, 1, UPLOAD},
    {"upload.loadend", NULL, PROGRESS, 1, UPLOAD},
    HANDLER_EVENT,
    {NULL, NULL, NONE, 0, NO_STEP},
};
static const struct sc_event es_events[] = {
    {"open", NULL, NONE, 1, NO_STEP},
    {"message", "data", LIST("data", "lastEventId", "origin"), 1, NO_STEP},
    {"error", NULL, LIST("message", "code"), 1, NO_STEP},
    {NULL, NULL, NONE, 0, NO_STEP},
};
/* What a WebSocket event records of the event object itself (DOM "fire an event", the Event interface):
 * `interface` is its WebIDL class string (Object.prototype.toString: "[object MessageEvent]" -> "MessageEvent"),
 * `target` and `currentTarget` the name of the client object when they are the socket (the interpreters never
 * serialize the socket); a message's `ports.length` the length of its ports array. */
#define WS_EVENT "interface", "bubbles", "cancelable", "isTrusted", "eventPhase", "target", "currentTarget"
static const struct sc_event ws_events[] = {
    {"open", NULL, LIST(WS_EVENT), 1, NO_STEP},
    {"message", "data", LIST("data", "origin", "lastEventId", "source", "ports.length", WS_EVENT), 1, NO_STEP},
    {"error", NULL, LIST("message", "name", WS_EVENT), 1, NO_STEP},
    {"close", "code", LIST("code", "reason", "wasClean", WS_EVENT), 1, NO_STEP},
    HANDLER_EVENT,
    {NULL, NULL, NONE, 0, NO_STEP},
};
static const struct sc_event img_events[] = {
    {"load", NULL, NONE, 1, STEP("load", "load URL")},
    {"error", NULL, NONE, 1, STEP("load", "load URL")},
    {NULL, NULL, NONE, 0, NO_STEP},
};
static const struct sc_event script_events[] = {
    {"load", NULL, NONE, 1, STEP("load", "load URL")},
    {"error", NULL, NONE, 1, STEP("load", "load URL")},
    {"callback", "data", LIST("data"), 0, CALLBACK},
    {NULL, NULL, NONE, 0, NO_STEP},
};
static const struct sc_event fetch_events[] = {
    {"resolve", "status", LIST("status", "statusText", "type", "url", "redirected", "headers"), 0, STEP("fetch", "fetch")},
    {"reject", "name", ERROR, 0, STEP("fetch", "fetch")},
    {"body", "text", BODY, 0, STEP("fetch", "fetch")},
    {"error", "name", ERROR, 0, STEP("fetch", "fetch")}, /* reading the body failed (fixtures/PROTOCOL.md §3.1) */
    {NULL, NULL, NONE, 0, NO_STEP},
};
static const struct sc_event http_events[] = {
    {"response", "status", LIST("status", "reason", "headers", "fields"), 0, STEP("request", "request")},
    {"body", "text", BODY, 0, STEP("request", "request")},
    {"error", "kind", LIST("kind", "name", "message", "constructor", "cause"), 0, STEP("request", "request")},
    {NULL, NULL, NONE, 0, NO_STEP},
};

/* The pseudo-events every kind records (fixtures/PROTOCOL.md §3.1). `read`'s fields are the properties its
 * `read`, `get-header` and `all-headers` steps name: lint.c asks the program for them. */
static const struct sc_event pseudo_events[] = {
    {"exception", "name", ERROR, 0, NO_STEP},
    {"read", "label", NONE, 0, NO_STEP},
    {"skipped", "op", LIST("reason"), 0, NO_STEP},
    {NULL, NULL, NONE, 0, NO_STEP},
};

/* Client kinds: the capability each implies, whether its section starts with `new URL`, the properties its
 * DOM events record from the object, its events, its `final` properties, and (eventsource) the event whose
 * fields the events named by `listen` record. */
static const struct sc_kind_decl {
    const char *name;
    enum sc_cap cap;
    int new_step;
    const char *const *state;
    const struct sc_event *events;
    const char *const *final;
    const char *named_like;
} kinds[KIND_COUNT] = {
    [KIND_XHR] = {"xhr", CAP_XHR, 0, LIST("readyState", "status", "statusText", "responseURL"), xhr_events,
                  LIST("readyState", "status", "statusText", "responseURL", "responseType", "responseText", "response",
                       "allResponseHeaders", "timeout", "withCredentials"),
                  NULL},
    [KIND_EVENTSOURCE] = {"eventsource", CAP_EVENTSOURCE, 1, LIST("readyState", "url", "withCredentials"), es_events,
                          LIST("readyState", "url", "withCredentials"), "message"},
    [KIND_WEBSOCKET] = {"websocket", CAP_WEBSOCKET, 1,
                        LIST("readyState", "protocol", "extensions", "binaryType", "bufferedAmount"), ws_events,
                        LIST("readyState", "protocol", "extensions", "binaryType", "bufferedAmount", "url"), NULL},
    [KIND_IMG] = {"img", CAP_IMG, 0, LIST("naturalWidth", "naturalHeight", "complete"), img_events,
                  LIST("naturalWidth", "naturalHeight", "complete"), NULL},
    [KIND_SCRIPT] = {"script", CAP_SCRIPT, 0, LIST("src"), script_events, LIST("loads"), NULL},
    [KIND_FETCH] = {"fetch", CAP_FETCH, 0, NONE, fetch_events, LIST("requests"), NULL},
    [KIND_HTTP] = {"http", CAP_HTTP, 0, NONE, http_events, LIST("requests"), NULL},
};

const char *sc_kind_name(enum sc_kind k)
{
    return kinds[k].name;
}

int sc_kind_find(const char *w, size_t n)
{
    for (int k = 0; k < KIND_COUNT; k++)
        if (strlen(kinds[k].name) == n && memcmp(kinds[k].name, w, n) == 0) return k;
    return -1;
}

int sc_kind_new_step(enum sc_kind k)
{
    return kinds[k].new_step;
}

static int in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

static const struct sc_event *find_event(const struct sc_event *e, const char *type)
{
    for (; e->name; e++)
        if (strcmp(e->name, type) == 0) return e;
    return NULL;
}

/* The declared event of this type on objects like o (pseudo-events included); an eventsource's `listen` names
 * are declared as its `named_like` event. NULL when o never fires it. */
static const struct sc_event *event_of(const struct cobj *o, const char *type)
{
    const struct sc_event *e = find_event(pseudo_events, type);
    size_t i;
    json_t *v;
    if (e || (e = find_event(kinds[o->kind].events, type))) return e;
    json_array_foreach(o->listened, i, v)
        if (strcmp(json_string_value(v), type) == 0) return find_event(kinds[o->kind].events, kinds[o->kind].named_like);
    return NULL;
}

int sc_event_known(const struct cobj *o, const char *type)
{
    return strcmp(type, ".") == 0 || event_of(o, type) != NULL;
}

const struct sc_needs *sc_event_needs(const struct cobj *o, const char *type)
{
    const struct sc_event *e = event_of(o, type);
    return e && e->needs.op ? &e->needs : NULL;
}

/* The first segment of a property path: "response.bytes" -> "response" (a key naming the whole path is
 * tried first, as the judge's ch_value_path does). */
static int path_in(const char *const *list, const char *path)
{
    const char *dot = strchr(path, '.');
    if (in_list(list, path)) return 1;
    if (!dot) return 0;
    for (; list && *list; list++)
        if (strlen(*list) == (size_t)(dot - path) && memcmp(*list, path, (size_t)(dot - path)) == 0) return 1;
    return 0;
}

int sc_prop_recorded(const struct cobj *o, const char *type, const char *path, const json_t *extra)
{
    size_t i;
    json_t *v;
    json_array_foreach(extra, i, v) {
        const char *x[] = {json_string_value(v), NULL};
        if (path_in(x, path)) return 1;
    }
    if (type == NULL) return path_in(kinds[o->kind].final, path);
    if (strcmp(type, ".") == 0) {
        for (const struct sc_event *e = kinds[o->kind].events; e->name; e++)
            if (path_in(e->fields, path)) return 1;
        for (const struct sc_event *e = pseudo_events; e->name; e++)
            if (path_in(e->fields, path)) return 1;
        return path_in(kinds[o->kind].state, path);
    }
    const struct sc_event *e = event_of(o, type);
    if (!e) return 0;
    return path_in(e->fields, path) || (e->dom && path_in(kinds[o->kind].state, path));
}

int sc_event_is_dom(const struct cobj *o, const char *type)
{
    const struct sc_event *e = event_of(o, type);
    return e ? e->dom : strcmp(type, ".") == 0;
}

/* "readyState status statusText ..." — what an event (or, type NULL, `final`) records, for messages. */
void sc_props_hint(const struct cobj *o, const char *type, char *out, size_t len)
{
    size_t w = 0;
    const struct sc_event *e = type ? event_of(o, type) : NULL;
    const char *const *lists[] = {type ? (e && e->dom ? kinds[o->kind].state : NONE) : kinds[o->kind].final,
                                  e ? e->fields : NONE};
    out[0] = '\0';
    for (size_t l = 0; l < 2; l++)
        for (const char *const *p = lists[l]; p && *p && w < len; p++)
            w += (size_t)snprintf(out + w, len - w, "%s%s", w ? " " : "", *p);
}

/* ---- capabilities (FORMAT.md §5.6) ------------------------------------------------------------------ */

/* A step implies a capability when its op is `op`, its object's kind is one of `kinds` (a bit per enum sc_kind;
 * 0: any kind) and each condition holds: the value at `path` (dotted, `*` for every element of an array) equals
 * `equals` (JSON text), or, with equals NULL, is present. */
#define ANY_KIND 0u
#define WS_ONLY (1u << KIND_WEBSOCKET)
static const struct cap_rule {
    const char *op;
    unsigned kinds;
    struct { const char *path, *equals; } when[2];
    enum sc_cap cap;
    const char *written; /* the step as a case writes it (FORMAT.md §5.6) */
} cap_rules[] = {
    {"open", ANY_KIND, {{"async", "false"}}, CAP_XHR_SYNC, "open ... sync"},
    {"listen", ANY_KIND, {{"target", "\"upload\""}}, CAP_XHR_UPLOAD, "listen upload"},
    {"send", ANY_KIND, {{"body.type", "\"form\""}}, CAP_FORMDATA, "send form"},
    {"send", ANY_KIND, {{"body.type", "\"blob\""}}, CAP_BLOB, "send blob"},
    {"send", ANY_KIND, {{"body.fields.*.file", NULL}}, CAP_BLOB, "a file: field of send form"},
    {"send", ANY_KIND, {{"body.type", "\"formdata\""}}, CAP_FORMDATA, "send formdata"},
    {"formdata", ANY_KIND, {{"method", NULL}}, CAP_FORMDATA, "formdata ..."},
    {"formdata", ANY_KIND, {{"method", "\"form\""}}, CAP_DOCUMENT, "formdata form HTML"},
    {"formdata", ANY_KIND, {{"blob", NULL}}, CAP_BLOB, "formdata append|set NAME blob:... or file:..."},
    {"formdata", ANY_KIND, {{"then.blob", NULL}}, CAP_BLOB, "formdata entries ... after NAME append NAME blob:..."},
    {"send", ANY_KIND, {{"body.type", "\"document\""}}, CAP_DOCUMENT, "send document"},
    {"open", ANY_KIND, {{"blob", NULL}}, CAP_BLOB, "open METHOD blob STRING"},
    {"base", ANY_KIND, {{"url", NULL}}, CAP_DOCUMENT, "base URL"},
    {"document-domain", ANY_KIND, {{NULL, NULL}}, CAP_DOCUMENT, "document-domain"},
    {"set", ANY_KIND, {{"prop", "\"binaryType\""}, {"value", "\"blob\""}}, CAP_BLOB, "set binaryType blob"},
    /* A return value is the WebIDL interface's (websocket `send ... as LABEL`, `close ... as LABEL`). */
    {"send", WS_ONLY, {{"label", NULL}}, CAP_WEBSOCKET_API, "send ... as LABEL"},
    {"close", WS_ONLY, {{"label", NULL}}, CAP_WEBSOCKET_API, "close ... as LABEL"},
    /* Raw constructor arguments test the WebIDL constructor's argument handling (websocket `new value`). */
    {"new", WS_ONLY, {{"values", NULL}}, CAP_WEBSOCKET_API, "new value ..."},
    /* The event handler IDL attributes are the interface's (HTML "event handler IDL attributes"). */
    {"set", WS_ONLY, {{"prop", "\"onopen\""}}, CAP_WEBSOCKET_API, "set onopen ..."},
    {"set", WS_ONLY, {{"prop", "\"onmessage\""}}, CAP_WEBSOCKET_API, "set onmessage ..."},
    {"set", WS_ONLY, {{"prop", "\"onerror\""}}, CAP_WEBSOCKET_API, "set onerror ..."},
    {"set", WS_ONLY, {{"prop", "\"onclose\""}}, CAP_WEBSOCKET_API, "set onclose ..."},
    /* EventTarget's methods on the socket (DOM; `interface WebSocket : EventTarget`). */
    {"add-listener", WS_ONLY, {{"event", NULL}}, CAP_WEBSOCKET_API, "add-listener EVENT NAME"},
    {"remove-listener", WS_ONLY, {{"event", NULL}}, CAP_WEBSOCKET_API, "remove-listener EVENT NAME"},
    {"dispatch", WS_ONLY, {{"event", NULL}}, CAP_WEBSOCKET_API, "dispatch EVENT"},
};

/* 1 if the value at path (from v) satisfies equals (NULL: present). */
static int holds(const json_t *v, const char *path, const json_t *equals)
{
    const char *dot = strchr(path, '.');
    size_t seg = dot ? (size_t)(dot - path) : strlen(path);
    if (seg == 1 && path[0] == '*') {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
            if (dot ? holds(x, dot + 1, equals) : (!equals || json_equal(x, equals))) return 1;
        return 0;
    }
    const json_t *next = json_is_object(v) ? json_object_getn(v, path, seg) : NULL;
    if (!next) return 0;
    if (dot) return holds(next, dot + 1, equals);
    return !equals || json_equal(next, equals);
}

/* The kind (enum sc_kind) of the object the step names with "obj", or -1. */
static int step_kind(const json_t *objects, const json_t *step)
{
    const char *name = json_string_value(json_object_get(step, "obj"));
    size_t i;
    json_t *v;
    json_array_foreach(objects, i, v) {
        const char *n = json_string_value(json_object_get(v, "name")), *kind = json_string_value(json_object_get(v, "kind"));
        if (name && n && kind && strcmp(name, n) == 0) return sc_kind_find(kind, strlen(kind));
    }
    return -1;
}

/* The capabilities a step of an object of kind `kind` (-1: unknown, then only ANY_KIND rules apply) implies. */
static unsigned step_caps(const json_t *step, int kind)
{
    unsigned caps = 0;
    const char *op = json_string_value(json_object_get(step, "op"));
    for (size_t r = 0; op && r < sizeof cap_rules / sizeof *cap_rules; r++) {
        int ok = strcmp(op, cap_rules[r].op) == 0 &&
                 (cap_rules[r].kinds == ANY_KIND || (kind >= 0 && (cap_rules[r].kinds & (1u << kind))));
        for (size_t w = 0; ok && w < 2 && cap_rules[r].when[w].path; w++) {
            json_t *eq = cap_rules[r].when[w].equals ? json_loads(cap_rules[r].when[w].equals, JSON_DECODE_ANY, NULL) : NULL;
            ok = holds(step, cap_rules[r].when[w].path, eq);
            json_decref(eq);
        }
        if (ok) caps |= 1u << cap_rules[r].cap;
    }
    /* `send object ... calling STEP`: the nested step implies what it would imply on its own line. */
    const json_t *nested = json_object_get(json_object_get(step, "body"), "calling");
    if (nested) caps |= step_caps(nested, kind);
    return caps;
}

unsigned sc_program_caps(const json_t *objects, const json_t *steps, const json_t *handlers)
{
    unsigned caps = 0;
    size_t i;
    json_t *v;
    json_array_foreach(objects, i, v) {
        const char *kind = json_string_value(json_object_get(v, "kind"));
        int k = kind ? sc_kind_find(kind, strlen(kind)) : -1;
        if (k >= 0) caps |= 1u << kinds[k].cap;
    }
    json_array_foreach(steps, i, v) caps |= step_caps(v, step_kind(objects, v));
    json_array_foreach(handlers, i, v) {
        const json_t *hs = json_object_get(v, "step");
        caps |= step_caps(hs, step_kind(objects, hs));
    }
    return caps;
}

/* ---- request headers a client may send on its own (the lint's `absent` rule) ------------------------ */

/* Names a client (a browser's fetch, a library) may add to a request by itself, whatever the case does: an
 * `absent` check on one of them can fail. Prefixes end in '-'. Other names (Cookie, Authorization,
 * Last-Event-ID and every name of the case's own) are sent only when the case causes them (lint.c). */
static const char *const own_headers[] = {
    "Accept", "Accept-", "Access-Control-Request-", "Cache-Control", "Connection", "Content-Length", "Content-Type",
    "Content-Encoding", "Expect", "Host", "If-", "Keep-Alive", "Origin", "Pragma", "Priority", "Proxy-", "Range",
    "Referer", "Sec-", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "User-Agent", "Via", "DNT", NULL,
};

int sc_header_own(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *h = own_headers; *h; h++) {
        size_t hl = strlen(*h);
        if ((*h)[hl - 1] == '-' ? n > hl && strncasecmp(name, *h, hl) == 0 : strcasecmp(name, *h) == 0) return 1;
    }
    return 0;
}

/* ---- the declaration as JSON ------------------------------------------------------------------------- */

static json_t *list_json(const char *const *list)
{
    json_t *a = json_array();
    for (; list && *list; list++) json_array_append_new(a, json_string(*list));
    return a;
}

static json_t *events_json(const struct sc_event *e)
{
    json_t *o = json_object();
    for (; e->name; e++) {
        json_t *ev = json_pack("{s:o, s:b}", "fields", list_json(e->fields), "dom", e->dom);
        json_object_set_new(ev, "arg", e->arg ? json_string(e->arg) : json_null());
        if (e->needs.op) json_object_set_new(ev, "needs_step", json_string(e->needs.written));
        json_object_set_new(o, e->name, ev);
    }
    return o;
}

static json_t *kinds_json(const json_t *words)
{
    json_t *o = json_object();
    char group[SC_NAME_LEN];
    for (int k = 0; k < KIND_COUNT; k++) {
        json_t *steps = json_deep_copy(json_object_get(words, "client"));
        snprintf(group, sizeof group, "client %s", kinds[k].name);
        json_array_extend(steps, json_object_get(words, group) ? json_object_get(words, group) : json_array());
        json_t *kd = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}", "cap", sc_cap_names[kinds[k].cap], "new_step",
                               kinds[k].new_step, "steps", steps, "state", list_json(kinds[k].state), "events",
                               events_json(kinds[k].events), "final", list_json(kinds[k].final));
        json_object_set_new(kd, "named_like", kinds[k].named_like ? json_string(kinds[k].named_like) : json_null());
        json_object_set_new(o, kinds[k].name, kd);
    }
    return o;
}

static json_t *cap_rules_json(void)
{
    json_t *a = json_array();
    for (size_t r = 0; r < sizeof cap_rules / sizeof *cap_rules; r++) {
        json_t *when = json_object();
        for (size_t w = 0; w < 2 && cap_rules[r].when[w].path; w++)
            json_object_set_new(when, cap_rules[r].when[w].path,
                                cap_rules[r].when[w].equals ? json_loads(cap_rules[r].when[w].equals, JSON_DECODE_ANY, NULL)
                                                            : json_string("(present)"));
        json_t *ks = json_array(); /* empty: any kind */
        for (int k = 0; k < KIND_COUNT; k++)
            if (cap_rules[r].kinds & (1u << k)) json_array_append_new(ks, json_string(kinds[k].name));
        json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:s, s:s}", "op", cap_rules[r].op, "kinds", ks, "when", when,
                                           "cap", sc_cap_names[cap_rules[r].cap], "written", cap_rules[r].written));
    }
    return a;
}

/* The "kind" and "events KIND" groups of the parser's words (FORMAT.md's drift test reads them). */
void sc_kind_words(json_t *words)
{
    char group[SC_NAME_LEN];
    for (int k = 0; k < KIND_COUNT; k++) {
        sc_vocab_add(words, "kind", kinds[k].name);
        snprintf(group, sizeof group, "events %s", kinds[k].name);
        for (const struct sc_event *e = kinds[k].events; e->name; e++) sc_vocab_add(words, group, e->name);
    }
    for (const struct sc_event *e = pseudo_events; e->name; e++) sc_vocab_add(words, "pseudo-event", e->name);
    for (size_t r = 0; r < CAP_COUNT; r++) sc_vocab_add(words, "capability", sc_cap_names[r]);
}

json_t *sc_vocabulary(json_t *words)
{
    json_t *names = json_array();
    for (size_t r = 0; r < CAP_COUNT; r++) json_array_append_new(names, json_string(sc_cap_names[r]));
    return json_pack("{s:i, s:o, s:o, s:{s:o, s:o}, s:o}", "version", 1, "kinds", kinds_json(words), "pseudo_events",
                     events_json(pseudo_events), "capabilities", "names", names, "rules", cap_rules_json(), "words",
                     words);
}
