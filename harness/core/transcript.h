/* transcript.h — what the server saw and sent for one token (harness/MODEL.md §2).
 *
 * Events are appended in time order with `t_us` = microseconds since the token was issued. A transcript is
 * bounded: past CH_TRANSCRIPT_MAX_EVENTS it only counts what it dropped (a benchmark or a runaway client cannot
 * exhaust memory), and a `sent` event keeps at most CH_TRANSCRIPT_PREVIEW bytes of what was written. */
#ifndef CH_TRANSCRIPT_H
#define CH_TRANSCRIPT_H

#include <jansson.h>
#include <stdint.h>

#define CH_TRANSCRIPT_MAX_EVENTS 20000
#define CH_TRANSCRIPT_PREVIEW 1024

struct ch_transcript;

struct ch_transcript *ch_transcript_new(const char *token, const char *case_id, int64_t t0_us);
void ch_transcript_free(struct ch_transcript *t);

/* Appends {"t_us", "type", ...fields} stamped at `now_us` (fields is stolen; may be NULL). For events an
 * engine describes itself (ws-frame-in, sse-event, script-error ...). */
void ch_transcript_add(struct ch_transcript *t, int64_t now_us, const char *type, json_t *fields);

/* Appends a `sent` event for n bytes written on connection `conn` for request `req` (0 = none). */
void ch_transcript_sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                        size_t n);

/* The frequent events, recorded without building JSON (ch_transcript_json builds it). */
void ch_transcript_end(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req);
/* `origin` ("A", "B", "C") must be a static string; peer is copied. */
void ch_transcript_conn_open(struct ch_transcript *t, int64_t opened_us, uint64_t conn, const char *origin,
                             const char *peer);
/* `by` and `how` must be static strings. */
void ch_transcript_conn_close(struct ch_transcript *t, int64_t now_us, uint64_t conn, const char *by,
                              const char *how);

/* A request as received: everything is copied except `headers`, which is shared (json_incref) and must not
 * change afterwards. `route` is the answering route's line, 0 when none matched. */
struct ch_transcript_request {
    int64_t t_us, body_end_us; /* monotonic: head received, body received */
    uint64_t conn;
    int n, minor, route;
    const char *method, *target, *path;
    json_t *headers;
    const void *body;
    size_t body_len;
};
void ch_transcript_request(struct ch_transcript *t, const struct ch_transcript_request *r);

/* Adds {"text": ...} when the bytes are UTF-8 without NUL, else {"hex": ...}, to obj. */
void ch_json_set_bytes(json_t *obj, const void *bytes, size_t n);

/* A snapshot: {"token", "case", "events": [...], "dropped": N}. New reference. */
json_t *ch_transcript_json(const struct ch_transcript *t);

#endif
