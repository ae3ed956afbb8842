/* transcript.c — see core.h.
 *
 * Recording is on every request's path, reading happens once per case: so the hot events (sent, request,
 * end, conn-open, conn-close) are kept as small C records whose bytes live in an arena, and the JSON of
 * harness/MODEL.md §2 is built only by ch_transcript_json(). Events an engine builds itself arrive as JSON
 * and are kept as compact JSON text in the arena (a jansson object costs several times its text: ten thousand
 * held event streams each record their events — bench/sse_streams.py). */
#include "core.h"

#include <stdlib.h>
#include <string.h>


enum kind { K_JSON, K_SENT, K_REQUEST, K_END, K_OPEN, K_CLOSE };

/* A request, kept in the arena with its fields, strings and bytes right after it, in one reservation (every
 * request is recorded: each byte it takes is fresh memory, page faults included). The body's SHA-256 is
 * computed here only for a body longer than its preview (the rest of the bytes are not kept; `sha` then points
 * to it, after the body); otherwise when the JSON is built, from the preview, which is the whole body. */
struct request_rec {
    const char *method, *target, *path, *head, *body, *sha;
    const struct ch_header *fields;
    size_t head_len, nfields, body_preview, body_size;
    int64_t body_end_us;
    int minor, route; /* route line, 0 = unmatched */
};

#define BODY_PREVIEW 65536

/* Three of these a request (request, sent, end), each of its bytes fresh memory. Entries of one transcript are
 * chained backwards (`prev`): appending one touches the transcript and the arena's end, never the token's
 * earlier events. */
struct entry {
    int64_t t_us;
    uint64_t conn;
    const struct entry *prev; /* the transcript's event recorded before this one; NULL for its first */
    const void *p;          /* sent preview, K_JSON text, request record (in the arena or kept by the caller);
                             * conn-open: the peer (arena); conn-close: `by` (static) */
    union {
        size_t total;       /* K_SENT: the run's full count */
        const char *s;      /* K_OPEN: origin; K_CLOSE: how (static strings) */
    } u;
    uint32_t len;           /* bytes at p (sent preview, K_JSON text) */
    int req;
    unsigned char kind;     /* enum kind */
};
_Static_assert(sizeof(struct entry) <= 56, "an entry is fresh memory on every request's path");

/* The arena several transcripts record into (the server's one, core.h): chunks that never move, filled front to
 * back whichever transcript records, so that recording writes where the last event was written (memory in cache,
 * pages faulted in order) instead of at the end of each token's own blocks, cold when 2,000 tokens take turns
 * (README, Benchmarks: 0.88 against 0.96 of nginx's CPU per request). A reservation over a quarter of a chunk
 * gets a chunk of its own, and the one being filled stays. Nothing is freed before the arena is. */
#define CHUNK (1024 * 1024)

struct chunk {
    struct chunk *next; /* the one made before */
    size_t len, cap;
    _Alignas(max_align_t) unsigned char data[];
};

struct ch_arena {
    struct chunk *chunks; /* every chunk, newest first */
    struct chunk *fill;   /* the one being filled */
};

struct ch_transcript {
    json_t *token, *case_id;
    struct ch_arena *arena;
    int64_t t0_us;
    long dropped;
    int unsorted; /* an event was stamped earlier than the one before it: sort when read */
    int64_t last_t_us;
    size_t n;     /* events */
    const struct entry *last;
};

struct ch_arena *ch_arena_new(void) { return ch_xcalloc(1, sizeof(struct ch_arena)); }

void ch_arena_free(struct ch_arena *a)
{
    if (!a) return;
    while (a->chunks) {
        struct chunk *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
    free(a);
}

struct ch_transcript *ch_transcript_new(struct ch_arena *arena, const char *token, const char *case_id,
                                        int64_t t0_us)
{
    struct ch_transcript *t = ch_xcalloc(1, sizeof *t);
    t->token = json_string(token);
    t->case_id = json_string(case_id);
    t->arena = arena;
    t->t0_us = t0_us;
    return t;
}

void ch_transcript_free(struct ch_transcript *t)
{
    if (!t) return;
    json_decref(t->token);
    json_decref(t->case_id);
    free(t);
}

/* n bytes of room at the arena's end, aligned to `align` (a power of two, at most max_align_t's), or NULL when
 * out of memory. Recording degrades on purpose (core.h, memory): an event that finds no memory is dropped and
 * counted, like one past the limit, and the judge gives ERROR for a transcript with drops. */
static void *room(struct ch_arena *a, size_t n, size_t align)
{
    struct chunk *c = a->fill;
    size_t at = c ? (c->len + align - 1) & ~(align - 1) : 0;
    if (c && at <= c->cap && n <= c->cap - at) {
        c->len = at + n;
        return c->data + at;
    }
    int own = n > CHUNK / 4; /* a chunk of its own: the one being filled stays */
    size_t cap = own ? n : CHUNK;
    if (cap > SIZE_MAX - sizeof *c) return NULL;
    c = malloc(sizeof *c + cap);
    if (!c) return NULL;
    *c = (struct chunk){.next = a->chunks, .len = n, .cap = cap};
    a->chunks = c;
    if (!own) a->fill = c;
    return c->data;
}

/* Copies n bytes into the arena (unaligned); returns where they are, or NULL when out of memory. */
static const void *keep(struct ch_transcript *t, const void *p, size_t n)
{
    void *at = room(t->arena, n ? n : 1, 1);
    if (at && n) memcpy(at, p, n);
    return at;
}

static const char *keep_str(struct ch_transcript *t, const char *s) { return keep(t, s, strlen(s) + 1); }

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
    struct entry *e = room(t->arena, sizeof *e, _Alignof(struct entry));
    if (!e) {
        t->dropped++;
        return NULL;
    }
    int64_t t_us = now_us - t->t0_us;
    if (t->n && t->last_t_us > t_us) t->unsorted = 1;
    t->last_t_us = t_us;
    t->n++;
    *e = (struct entry){.t_us = t_us, .prev = t->last, .kind = (unsigned char)kind};
    t->last = e;
    return e;
}

/* Takes back the entry add_entry just made (its bytes found no memory): counted as dropped. Its room in the
 * arena stays unused. */
static void drop_last(struct ch_transcript *t)
{
    t->last = t->last->prev;
    t->n--;
    t->dropped++;
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
    size_t n = text ? strlen(text) : 0;
    e->p = text && n <= UINT32_MAX ? keep(t, text, n) : NULL;
    if (e->p) e->len = (uint32_t)n;
    else drop_last(t); /* out of memory (or an event of 4 GiB) */
    free(text);
}

/* An event of a connection: its id, a pointer and a static string (struct entry). NULL when it was dropped. */
static struct entry *conn_entry(struct ch_transcript *t, int64_t us, enum kind kind, uint64_t conn, const void *p,
                                const char *s)
{
    struct entry *e = add_entry(t, us, kind);
    if (e) {
        e->conn = conn;
        e->p = p;
        e->u.s = s;
    }
    return e;
}

/* A `sent` event for n bytes: its preview copied into the arena, or pointed to when `copy` is 0. */
static void sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes, size_t n,
                 int copy)
{
    size_t keep_n = n < CH_TRANSCRIPT_PREVIEW ? n : CH_TRANSCRIPT_PREVIEW;
    struct entry *e = conn_entry(t, now_us, K_SENT, conn, NULL, NULL);
    if (!e) return;
    e->req = req;
    e->u.total = n;
    e->p = copy ? keep(t, bytes, keep_n) : bytes;
    e->len = e->p ? (uint32_t)keep_n : 0;
}

void ch_transcript_sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                        size_t n)
{
    sent(t, now_us, conn, req, bytes, n, 1);
}

void ch_transcript_sent_kept(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                             size_t n)
{
    sent(t, now_us, conn, req, bytes, n, 0);
}

void ch_transcript_end(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req)
{
    struct entry *e = conn_entry(t, now_us, K_END, conn, NULL, NULL);
    if (e) e->req = req;
}

void ch_transcript_conn_open(struct ch_transcript *t, int64_t opened_us, uint64_t conn, const char *origin,
                             const char *peer)
{
    struct entry *e = conn_entry(t, opened_us, K_OPEN, conn, NULL, origin);
    if (e && !(e->p = keep_str(t, peer))) drop_last(t);
}

void ch_transcript_conn_close(struct ch_transcript *t, int64_t now_us, uint64_t conn, const char *by,
                              const char *how)
{
    conn_entry(t, now_us, K_CLOSE, conn, by, how);
}

/* Copies n bytes to *at and advances it past them; returns where they went. */
static const char *put(unsigned char **at, const void *p, size_t n)
{
    unsigned char *to = *at;
    if (n) memcpy(to, p, n);
    *at = to + n;
    return (const char *)to;
}

void ch_transcript_request(struct ch_transcript *t, const struct ch_transcript_request *r)
{
    struct entry *e = add_entry(t, r->t_us, K_REQUEST);
    if (!e) return;
    _Static_assert(sizeof(struct request_rec) % _Alignof(struct ch_header) == 0, "the fields follow the record");
    size_t preview = r->body_len < BODY_PREVIEW ? r->body_len : BODY_PREVIEW;
    size_t sha_n = preview < r->body_len ? CH_SHA256_HEX_SIZE : 0; /* the digest, when the preview is not all */
    size_t lm = strlen(r->method) + 1, lt = strlen(r->target) + 1, lp = strlen(r->path) + 1;
    size_t nf = r->nfields * sizeof *r->fields, n = sizeof(struct request_rec) + nf + lm + lt + lp + r->head_len;
    struct request_rec *q = room(t->arena, n + preview + sha_n, _Alignof(struct request_rec));
    if (!q) {
        drop_last(t); /* no memory */
        return;
    }
    unsigned char *at = (unsigned char *)(q + 1);
    *q = (struct request_rec){.head_len = r->head_len, .nfields = r->nfields, .body_size = r->body_len,
                              .body_preview = preview, .body_end_us = r->body_end_us - t->t0_us, .minor = r->minor,
                              .route = r->route};
    q->fields = (const struct ch_header *)put(&at, r->fields, nf);
    q->method = put(&at, r->method, lm);
    q->target = put(&at, r->target, lt);
    q->path = put(&at, r->path, lp);
    q->head = put(&at, r->head, r->head_len);
    q->body = put(&at, r->body, preview);
    if (sha_n) {
        ch_sha256_hex(r->body, r->body_len, (char *)at);
        q->sha = (const char *)at;
    }
    e->p = q;
    e->conn = r->conn;
    e->req = r->n;
}

json_t *ch_header_json(const char *bytes, size_t n)
{
    const unsigned char *s = (const unsigned char *)bytes;
    if (ch_utf8_text(s, n)) return json_stringn(n ? bytes : "", n);
    char *u = ch_xmalloc(2 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            u[k++] = (char)s[i];
        } else {
            u[k++] = (char)(0xc0 | s[i] >> 6);
            u[k++] = (char)(0x80 | (s[i] & 0x3f));
        }
    }
    json_t *j = json_stringn_nocheck(u, k); /* U+0000 included: jansson keeps the length */
    free(u);
    return j;
}

json_t *ch_headers_json(const char *bytes, const struct ch_header *fields, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct ch_header *f = &fields[i];
        json_array_append_new(a, json_pack("[o, o]", ch_header_json(bytes + f->name, f->name_len),
                                           ch_header_json(bytes + f->value, f->value_len)));
    }
    return a;
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

static json_t *request_json(const struct entry *e)
{
    struct request_rec q = *(const struct request_rec *)e->p;
    char version[8], digest[CH_SHA256_HEX_SIZE];
    snprintf(version, sizeof version, "1.%d", q.minor);
    const char *sha = q.sha; /* stored only for a body longer than its preview; else the preview is the body */
    if (!sha) {
        ch_sha256_hex(q.body, q.body_size, digest);
        sha = digest;
    }
    json_t *j = json_pack("{s:I, s:i, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:I}", "conn", (json_int_t)e->conn, "n",
                          e->req, "method", q.method, "target", q.target, "path", q.path, "version", version,
                          "headers", ch_headers_json(q.head, q.fields, q.nfields), "body_size",
                          (json_int_t)q.body_size, "body_sha256", sha, "body_end_us", (json_int_t)q.body_end_us);
    json_t *b = json_object();
    ch_json_set_bytes(b, q.body, q.body_preview);
    json_object_set(j, json_object_get(b, "text") ? "body_text" : "body_hex",
                    json_object_get(b, "text") ? json_object_get(b, "text") : json_object_get(b, "hex"));
    json_decref(b);
    if (q.route) json_object_set_new(j, "route", json_integer(q.route));
    else json_object_set_new(j, "unmatched", json_true());
    return j;
}

static json_t *entry_json(const struct entry *e)
{
    json_t *j;
    switch (e->kind) {
    case K_JSON: j = json_loadb(e->p, e->len, JSON_ALLOW_NUL, NULL); break;
    case K_SENT:
        j = json_pack("{s:s, s:I, s:I}", "type", "sent", "conn", (json_int_t)e->conn, "bytes", (json_int_t)e->u.total);
        if (e->req) json_object_set_new(j, "req", json_integer(e->req));
        /* A preview cut inside a UTF-8 sequence falls back to hex; that is still exact about the bytes. */
        ch_json_set_bytes(j, e->len ? e->p : "", e->len);
        if (e->len < e->u.total) json_object_set_new(j, "truncated", json_true());
        break;
    case K_REQUEST:
        j = request_json(e);
        json_object_set_new(j, "type", json_string("request"));
        break;
    case K_END: j = json_pack("{s:s, s:I, s:i}", "type", "end", "conn", (json_int_t)e->conn, "req", e->req); break;
    case K_OPEN:
        j = json_pack("{s:s, s:I, s:s, s:s}", "type", "conn-open", "conn", (json_int_t)e->conn, "origin", e->u.s,
                      "peer", (const char *)e->p);
        break;
    case K_CLOSE:
        j = json_pack("{s:s, s:I, s:s, s:s}", "type", "conn-close", "conn", (json_int_t)e->conn, "by",
                      (const char *)e->p, "how", e->u.s);
        break;
    default: return NULL;
    }
    if (j) json_object_set_new(j, "t_us", json_integer((json_int_t)e->t_us));
    return j;
}

/* An event and its rank in recording order. */
struct ranked {
    const struct entry *e;
    size_t seq;
};

/* Time order, and recording order among events stamped alike (qsort is not stable, and the addresses of events
 * say nothing about which was recorded first: a later chunk may sit lower in memory). */
static int by_time(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->e->t_us != y->e->t_us) return x->e->t_us < y->e->t_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

json_t *ch_transcript_json(const struct ch_transcript *t)
{
    json_t *events = json_array();
    struct ranked *order = malloc((t->n ? t->n : 1) * sizeof *order);
    if (!order) /* out of memory: every event counts as dropped, so no verdict rests on this snapshot */
        return json_pack("{s:O, s:O, s:o, s:I}", "token", t->token, "case", t->case_id, "events", events,
                         "dropped", (json_int_t)(t->dropped + (long)t->n));
    size_t k = t->n;
    for (const struct entry *e = t->last; e && k > 0; e = e->prev) { /* newest first: ranked from the end */
        k--;
        order[k] = (struct ranked){e, k};
    }
    if (t->unsorted) qsort(order, t->n, sizeof *order, by_time);
    for (size_t i = 0; i < t->n; i++) {
        json_t *j = entry_json(order[i].e);
        if (j) json_array_append_new(events, j);
    }
    free(order);
    return json_pack("{s:O, s:O, s:o, s:I}", "token", t->token, "case", t->case_id, "events", events, "dropped",
                     (json_int_t)t->dropped);
}
