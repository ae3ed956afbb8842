/* transcript.c — see transcript.h. */
#include "transcript.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ch_transcript {
    json_t *token, *case_id;
    json_t *events; /* array; events are never mutated after they are appended */
    int64_t t0_us;
    long dropped;
};

struct ch_transcript *ch_transcript_new(const char *token, const char *case_id, int64_t t0_us)
{
    struct ch_transcript *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->token = json_string(token);
    t->case_id = json_string(case_id);
    t->events = json_array();
    t->t0_us = t0_us;
    return t;
}

void ch_transcript_free(struct ch_transcript *t)
{
    if (!t) return;
    json_decref(t->token);
    json_decref(t->case_id);
    json_decref(t->events);
    free(t);
}

void ch_transcript_add(struct ch_transcript *t, int64_t now_us, const char *type, json_t *fields)
{
    if (!t) {
        json_decref(fields);
        return;
    }
    if (json_array_size(t->events) >= CH_TRANSCRIPT_MAX_EVENTS) {
        t->dropped++;
        json_decref(fields);
        return;
    }
    json_int_t t_us = (json_int_t)(now_us - t->t0_us);
    json_t *ev = fields ? fields : json_object(); /* the fields object becomes the event: no copy */
    json_object_set_new(ev, "t_us", json_integer(t_us));
    json_object_set_new(ev, "type", json_string(type));
    /* Keep time order: an event stamped in the past (a conn-open learnt at its first request) goes back. */
    size_t at = json_array_size(t->events);
    while (at > 0 && json_integer_value(json_object_get(json_array_get(t->events, at - 1), "t_us")) > t_us) at--;
    json_array_insert_new(t->events, at, ev);
}

void ch_json_set_bytes(json_t *obj, const void *bytes, size_t n)
{
    if (ch_utf8_text(bytes, n)) {
        json_object_set_new(obj, "text", json_stringn(bytes, n));
        return;
    }
    char *hex = malloc(2 * n + 1);
    if (!hex) return;
    ch_hex_encode(bytes, n, hex);
    json_object_set_new(obj, "hex", json_string(hex));
    free(hex);
}

void ch_transcript_sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                        size_t n)
{
    if (!t) return;
    size_t keep = n < CH_TRANSCRIPT_PREVIEW ? n : CH_TRANSCRIPT_PREVIEW;
    json_t *f = json_pack("{s:I, s:I}", "conn", (json_int_t)conn, "bytes", (json_int_t)n);
    if (req) json_object_set_new(f, "req", json_integer(req));
    /* A preview cut inside a UTF-8 sequence falls back to hex; that is still exact about the bytes. */
    ch_json_set_bytes(f, bytes, keep);
    if (keep < n) json_object_set_new(f, "truncated", json_true());
    ch_transcript_add(t, now_us, "sent", f);
}

json_t *ch_transcript_json(const struct ch_transcript *t)
{
    return json_pack("{s:O, s:O, s:o, s:I}", "token", t->token, "case", t->case_id, "events",
                     json_copy(t->events), "dropped", (json_int_t)t->dropped);
}
