/* transcript.c — see core.h.
 *
 * Recording is on every request's path, reading happens once per case: so the hot events (sent, request,
 * end, conn-open, conn-close) are kept as small C records whose bytes live in one arena, and the JSON of
 * harness/MODEL.md §2 is built only by ch_transcript_json(). Events an engine builds itself arrive as JSON
 * and are kept as compact JSON text in the arena (a jansson object costs several times its text: ten thousand
 * held event streams each record their events — bench/sse_streams.py). */
#include "core.h"

#include <stdlib.h>
#include <string.h>


enum kind { K_JSON, K_SENT, K_REQUEST, K_END, K_OPEN, K_CLOSE };

struct request_rec {
    json_t *headers; /* shared with the request (incref), never mutated after parsing */
    size_t method, target, path, body; /* arena offsets of NUL-terminated strings / the body preview */
    size_t body_preview, body_size;
    int64_t body_end_us;
    int minor, route; /* route line, 0 = unmatched */
    char sha[65];
};

struct entry {
    int64_t t_us;
    enum kind kind;
    int req;
    uint64_t conn;
    size_t off, len, total; /* arena bytes (sent preview, peer, K_JSON text) and the full count of a sent run */
    const char *a, *b;      /* static strings: close by/how, open origin */
    struct request_rec *rq;
};

struct ch_transcript {
    json_t *token, *case_id;
    int64_t t0_us;
    long dropped;
    int unsorted; /* an event was stamped earlier than the one before it: sort when read */
    struct entry *ev;
    size_t n, cap;
    char *arena;
    size_t alen, acap;
};

struct ch_transcript *ch_transcript_new(const char *token, const char *case_id, int64_t t0_us)
{
    struct ch_transcript *t = ch_xcalloc(1, sizeof *t);
    t->token = json_string(token);
    t->case_id = json_string(case_id);
    t->t0_us = t0_us;
    return t;
}

static void entry_release(struct entry *e)
{
    if (e->rq) {
        json_decref(e->rq->headers);
        free(e->rq);
    }
}

void ch_transcript_free(struct ch_transcript *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) entry_release(&t->ev[i]);
    free(t->ev);
    free(t->arena);
    json_decref(t->token);
    json_decref(t->case_id);
    free(t);
}

/* Copies bytes into the arena; returns their offset, or (size_t)-1 when out of memory. Recording degrades on
 * purpose (core.h, memory): an event that finds no memory is dropped and counted, like one past the limit, and
 * the judge gives ERROR for a transcript with drops. */
static size_t keep(struct ch_transcript *t, const void *p, size_t n)
{
    if (t->alen + n > t->acap) {
        size_t cap = t->acap ? t->acap : 1024;
        while (cap < t->alen + n) cap *= 2;
        char *a = realloc(t->arena, cap);
        if (!a) return (size_t)-1;
        t->arena = a;
        t->acap = cap;
    }
    if (n) memcpy(t->arena + t->alen, p, n);
    t->alen += n;
    return t->alen - n;
}

static size_t keep_str(struct ch_transcript *t, const char *s) { return keep(t, s, strlen(s) + 1); }

/* A new entry stamped now_us, appended (recording is on every request's path: O(1)). An event stamped in the
 * past — a conn-open learnt at the connection's first request for this token — marks the transcript for a
 * sort by time when it is read. NULL when the transcript is full or memory is out: the event is counted as
 * dropped. */
static struct entry *add_entry(struct ch_transcript *t, int64_t now_us, enum kind kind)
{
    if (!t) return NULL;
    if (t->n >= CH_TRANSCRIPT_MAX_EVENTS) {
        t->dropped++;
        return NULL;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct entry *ev = realloc(t->ev, cap * sizeof *ev);
        if (!ev) {
            t->dropped++;
            return NULL;
        }
        t->ev = ev;
        t->cap = cap;
    }
    int64_t t_us = now_us - t->t0_us;
    if (t->n > 0 && t->ev[t->n - 1].t_us > t_us) t->unsorted = 1;
    struct entry *e = &t->ev[t->n++];
    memset(e, 0, sizeof *e);
    e->t_us = t_us;
    e->kind = kind;
    return e;
}

void ch_transcript_add(struct ch_transcript *t, int64_t now_us, const char *type, json_t *fields)
{
    struct entry *e = add_entry(t, now_us, K_JSON); /* counts a refusal itself: then nothing is serialized */
    if (!e) {
        json_decref(fields);
        return;
    }
    json_t *j = fields ? fields : json_object();
    json_object_set_new(j, "type", json_string(type));
    char *text = json_dumps(j, JSON_COMPACT); /* keys stay in insertion order */
    json_decref(j);
    e->len = text ? strlen(text) : 0;
    e->off = text ? keep(t, text, e->len) : (size_t)-1;
    if (e->off == (size_t)-1) { /* out of memory: take back the entry just appended, counted as dropped */
        t->n--;
        t->dropped++;
    }
    free(text);
}

void ch_transcript_sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                        size_t n)
{
    size_t keep_n = n < CH_TRANSCRIPT_PREVIEW ? n : CH_TRANSCRIPT_PREVIEW;
    struct entry *e = add_entry(t, now_us, K_SENT);
    if (!e) return;
    e->conn = conn;
    e->req = req;
    e->total = n;
    e->off = keep(t, bytes, keep_n);
    e->len = e->off == (size_t)-1 ? 0 : keep_n;
}

/* An event of a connection: its id and up to two static strings. NULL when it was dropped. */
static struct entry *conn_entry(struct ch_transcript *t, int64_t us, enum kind kind, uint64_t conn, const char *a,
                                const char *b)
{
    struct entry *e = add_entry(t, us, kind);
    if (e) {
        e->conn = conn;
        e->a = a;
        e->b = b;
    }
    return e;
}

void ch_transcript_end(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req)
{
    struct entry *e = conn_entry(t, now_us, K_END, conn, NULL, NULL);
    if (e) e->req = req;
}

void ch_transcript_conn_open(struct ch_transcript *t, int64_t opened_us, uint64_t conn, const char *origin,
                             const char *peer)
{
    struct entry *e = conn_entry(t, opened_us, K_OPEN, conn, origin, NULL);
    if (e) e->off = keep_str(t, peer);
}

void ch_transcript_conn_close(struct ch_transcript *t, int64_t now_us, uint64_t conn, const char *by,
                              const char *how)
{
    conn_entry(t, now_us, K_CLOSE, conn, by, how);
}

void ch_transcript_request(struct ch_transcript *t, const struct ch_transcript_request *r)
{
    struct entry *e = add_entry(t, r->t_us, K_REQUEST);
    struct request_rec *q = e ? calloc(1, sizeof *q) : NULL;
    if (!q) return; /* dropped (counted) or out of memory: the entry stays a bare K_REQUEST */
    e->rq = q;
    e->conn = r->conn;
    e->req = r->n;
    q->headers = json_incref(r->headers);
    q->method = keep_str(t, r->method);
    q->target = keep_str(t, r->target);
    q->path = keep_str(t, r->path);
    q->body_size = r->body_len;
    q->body_preview = r->body_len < 65536 ? r->body_len : 65536;
    q->body = keep(t, r->body, q->body_preview);
    q->body_end_us = r->body_end_us - t->t0_us;
    q->minor = r->minor;
    q->route = r->route;
    ch_sha256_hex(r->body, r->body_len, q->sha);
}

void ch_json_set_bytes(json_t *obj, const void *bytes, size_t n)
{
    if (ch_utf8_text(bytes, n)) {
        json_object_set_new(obj, "text", json_stringn(n ? bytes : "", n));
        return;
    }
    json_object_set_new(obj, "hex", ch_hex_json(bytes, n));
}

/* ---- JSON, built on demand ----------------------------------------------------------------------------- */

static const char *arena_str(const struct ch_transcript *t, size_t off)
{
    return off == (size_t)-1 ? "" : t->arena + off;
}

static json_t *request_json(const struct ch_transcript *t, const struct entry *e)
{
    const struct request_rec *q = e->rq;
    char version[8];
    snprintf(version, sizeof version, "1.%d", q->minor);
    json_t *j = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:I}", "conn", (json_int_t)e->conn, "n",
                          e->req, "method", arena_str(t, q->method), "target", arena_str(t, q->target), "path",
                          arena_str(t, q->path), "version", version, "headers", q->headers, "body_size",
                          (json_int_t)q->body_size, "body_sha256", q->sha, "body_end_us", (json_int_t)q->body_end_us);
    json_t *b = json_object();
    ch_json_set_bytes(b, q->body == (size_t)-1 ? "" : t->arena + q->body, q->body == (size_t)-1 ? 0 : q->body_preview);
    json_object_set(j, json_object_get(b, "text") ? "body_text" : "body_hex",
                    json_object_get(b, "text") ? json_object_get(b, "text") : json_object_get(b, "hex"));
    json_decref(b);
    if (q->route) json_object_set_new(j, "route", json_integer(q->route));
    else json_object_set_new(j, "unmatched", json_true());
    return j;
}

static json_t *entry_json(const struct ch_transcript *t, const struct entry *e)
{
    json_t *j;
    switch (e->kind) {
    case K_JSON: j = json_loadb(t->arena + e->off, e->len, JSON_ALLOW_NUL, NULL); break;
    case K_SENT:
        j = json_pack("{s:s, s:I, s:I}", "type", "sent", "conn", (json_int_t)e->conn, "bytes", (json_int_t)e->total);
        if (e->req) json_object_set_new(j, "req", json_integer(e->req));
        /* A preview cut inside a UTF-8 sequence falls back to hex; that is still exact about the bytes. */
        ch_json_set_bytes(j, e->len ? t->arena + e->off : "", e->len);
        if (e->len < e->total) json_object_set_new(j, "truncated", json_true());
        break;
    case K_REQUEST:
        if (!e->rq) return NULL;
        j = request_json(t, e);
        json_object_set_new(j, "type", json_string("request"));
        break;
    case K_END: j = json_pack("{s:s, s:I, s:i}", "type", "end", "conn", (json_int_t)e->conn, "req", e->req); break;
    case K_OPEN:
        j = json_pack("{s:s, s:I, s:s, s:s}", "type", "conn-open", "conn", (json_int_t)e->conn, "origin", e->a, "peer",
                      arena_str(t, e->off));
        break;
    case K_CLOSE:
        j = json_pack("{s:s, s:I, s:s, s:s}", "type", "conn-close", "conn", (json_int_t)e->conn, "by", e->a, "how",
                      e->b);
        break;
    default: return NULL;
    }
    if (j) json_object_set_new(j, "t_us", json_integer((json_int_t)e->t_us));
    return j;
}

/* Time order, and recording order among events stamped alike. */
static int by_time(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    if (x->t_us != y->t_us) return x->t_us < y->t_us ? -1 : 1;
    return x < y ? -1 : x > y;
}

json_t *ch_transcript_json(const struct ch_transcript *t)
{
    json_t *events = json_array();
    const struct entry **order = malloc((t->n ? t->n : 1) * sizeof *order);
    if (!order) /* out of memory: every event counts as dropped, so no verdict rests on this snapshot */
        return json_pack("{s:O, s:O, s:o, s:I}", "token", t->token, "case", t->case_id, "events", events,
                         "dropped", (json_int_t)(t->dropped + (long)t->n));
    for (size_t i = 0; i < t->n; i++) order[i] = &t->ev[i];
    if (t->unsorted) qsort(order, t->n, sizeof *order, by_time);
    for (size_t i = 0; i < t->n; i++) {
        json_t *j = entry_json(t, order[i]);
        if (j) json_array_append_new(events, j);
    }
    free(order);
    return json_pack("{s:O, s:O, s:o, s:I}", "token", t->token, "case", t->case_id, "events", events, "dropped",
                     (json_int_t)t->dropped);
}
