/* check_transcript.c — unit tests of harness/core/transcript.c: compact records, time order, the JSON they read
 * back as (harness/MODEL.md §2), bounds. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#include "testing/testing.h"

static json_t *events_of(struct ch_transcript *t)
{
    json_t *j = ch_transcript_json(t);
    json_t *ev = json_incref(json_object_get(j, "events"));
    json_decref(j);
    return ev;
}

static const char *type_at(json_t *ev, size_t i) { return json_string_value(json_object_get(json_array_get(ev, i), "type")); }

START_TEST(records_read_back_as_model_json)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 1000);
    static const char head[] = "Host\0h\0X-Bin\0\xe9t\xe9\0"; /* Latin-1 bytes, as a client may send them */
    struct ch_header fields[] = {{0, 4, 5, 1}, {7, 5, 13, 3}};
    struct ch_transcript_request r = {.t_us = 1200, .body_end_us = 1250, .conn = 7, .n = 1, .minor = 1, .route = 12,
                                      .method = "POST", .target = "/c/t1/x?q", .path = "/x", .head = head,
                                      .head_len = sizeof head - 1, .fields = fields, .nfields = 2, .body = "abc",
                                      .body_len = 3};
    ch_transcript_request(t, &r);
    ch_transcript_sent(t, 1300, 7, 1, "HTTP/1.1 200 OK\r\n", 17);
    ch_transcript_end(t, 1400, 7, 1);
    ch_transcript_conn_close(t, 1500, 7, "client", "fin");
    ch_transcript_conn_open(t, 1100, 7, "A", "127.0.0.1:5"); /* learnt late, stamped early */
    ch_transcript_add(t, 1450, "ws-close", json_pack("{s:i}", "code", 1000));
    json_t *ev = events_of(t);
    ck_assert_uint_eq(json_array_size(ev), 6);
    const char *want[] = {"conn-open", "request", "sent", "end", "ws-close", "conn-close"};
    for (size_t i = 0; i < 6; i++) ck_assert_str_eq(type_at(ev, i), want[i]);
    json_t *rq = json_array_get(ev, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(rq, "t_us")), 200);
    ck_assert_str_eq(json_string_value(json_object_get(rq, "method")), "POST");
    ck_assert_str_eq(json_string_value(json_object_get(rq, "target")), "/c/t1/x?q");
    ck_assert_str_eq(json_string_value(json_object_get(rq, "path")), "/x");
    ck_assert_str_eq(json_string_value(json_object_get(rq, "version")), "1.1");
    ck_assert_str_eq(json_string_value(json_object_get(rq, "body_text")), "abc");
    ck_assert_int_eq(json_integer_value(json_object_get(rq, "route")), 12);
    ck_assert_str_eq(json_string_value(json_object_get(rq, "body_sha256")),
                     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    json_t *hs = json_object_get(rq, "headers");
    ck_assert_uint_eq(json_array_size(hs), 2);
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(hs, 0), 0)), "Host");
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(hs, 0), 1)), "h");
    /* Not UTF-8: isomorphic-decoded (each byte one code point), so é is U+00E9 */
    ck_assert_str_eq(json_string_value(json_array_get(json_array_get(hs, 1), 1)), "\xc3\xa9t\xc3\xa9");
    json_t *sent = json_array_get(ev, 2);
    ck_assert_str_eq(json_string_value(json_object_get(sent, "text")), "HTTP/1.1 200 OK\r\n");
    ck_assert_int_eq(json_integer_value(json_object_get(sent, "bytes")), 17);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 5), "how")), "fin");
    json_decref(ev);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

START_TEST(unmatched_request_and_binary_bytes)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0);
    struct ch_transcript_request r = {.t_us = 5, .conn = 1, .n = 1, .method = "GET", .target = "/c/t1/z",
                                      .path = "/z", .body = "", .body_len = 0};
    ch_transcript_request(t, &r);
    ch_transcript_sent(t, 6, 1, 1, "\x00\xff", 2);
    json_t *ev = events_of(t);
    ck_assert(json_is_true(json_object_get(json_array_get(ev, 0), "unmatched")));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "target")), "/c/t1/z");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "path")), "/z");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "hex")), "00ff");
    json_decref(ev);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

/* A body past the preview keeps its first 64 KiB, its size and the digest of all of it. */
START_TEST(long_body_keeps_its_digest)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0);
    size_t n = 70000;
    char *body = malloc(n), sha[CH_SHA256_HEX_SIZE];
    memset(body, 'b', n);
    body[n - 1] = 'z'; /* past the preview: only the digest sees it */
    ch_sha256_hex(body, n, sha);
    struct ch_transcript_request r = {.t_us = 5, .conn = 1, .n = 1, .method = "POST", .target = "/c/t1/z",
                                      .path = "/z", .body = body, .body_len = n};
    ch_transcript_request(t, &r);
    free(body);
    json_t *ev = events_of(t), *rq = json_array_get(ev, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(rq, "body_size")), 70000);
    ck_assert_uint_eq(json_string_length(json_object_get(rq, "body_text")), 65536);
    ck_assert_str_eq(json_string_value(json_object_get(rq, "body_sha256")), sha);
    json_decref(ev);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

START_TEST(long_runs_keep_a_preview_and_the_count)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0);
    char big[CH_TRANSCRIPT_PREVIEW * 3];
    memset(big, 'a', sizeof big);
    ch_transcript_sent(t, 1, 1, 1, big, sizeof big);
    json_t *ev = events_of(t);
    json_t *e = json_array_get(ev, 0);
    ck_assert_uint_eq(json_string_length(json_object_get(e, "text")), CH_TRANSCRIPT_PREVIEW);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "bytes")), sizeof big);
    ck_assert(json_is_true(json_object_get(e, "truncated")));
    json_decref(ev);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

/* Bytes that outlive the transcript are pointed to, not copied: the event is the one ch_transcript_sent makes
 * of the same bytes (preview, count, truncation), read from the caller's buffer when the JSON is built. */
START_TEST(kept_bytes_make_the_same_event_without_a_copy)
{
    struct ch_arena *arena = ch_arena_new();
    static char reply[CH_TRANSCRIPT_PREVIEW + 10];
    memset(reply, 'b', sizeof reply);
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0), *copy = ch_transcript_new(arena, "t1", "x/y", 0);
    ch_transcript_sent_kept(t, 5, 2, 3, reply, 17);
    ch_transcript_sent_kept(t, 6, 2, 4, reply, sizeof reply);
    ch_transcript_sent(copy, 5, 2, 3, reply, 17);
    ch_transcript_sent(copy, 6, 2, 4, reply, sizeof reply);
    json_t *a = events_of(t), *b = events_of(copy);
    ck_assert(json_equal(a, b));
    ck_assert(json_is_true(json_object_get(json_array_get(a, 1), "truncated")));
    json_decref(a);
    reply[0] = 'c'; /* the kept event reads the caller's bytes; the copy does not */
    a = events_of(t);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(a, 0), "text")), "cbbbbbbbbbbbbbbbb");
    json_decref(a);
    json_decref(b);
    b = events_of(copy);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(b, 0), "text")), "bbbbbbbbbbbbbbbbb");
    json_decref(b);
    ch_transcript_free(t);
    ch_transcript_free(copy);
    ch_arena_free(arena);
}
END_TEST

/* Events stamped alike keep their recording order when the transcript is sorted (a conn-open learnt late), across
 * the arena's chunks (2,000 events of a kilobyte: three of them): the tie is broken by each event's rank, as
 * the events' addresses say nothing about it. */
START_TEST(same_time_events_keep_recording_order_across_chunks)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0);
    char text[1000];
    memset(text, '.', sizeof text);
    for (int i = 0; i < 2000; i++) {
        int k = snprintf(text, sizeof text, "run %d", i);
        text[k] = '.';
        ch_transcript_sent(t, 10, 1, 1, text, sizeof text);
    }
    ch_transcript_conn_open(t, 1, 1, "A", "127.0.0.1:1"); /* stamped earlier: the transcript is sorted */
    json_t *ev = events_of(t);
    ck_assert_uint_eq(json_array_size(ev), 2001);
    ck_assert_str_eq(type_at(ev, 0), "conn-open");
    for (int i = 0; i < 2000; i++) {
        char want[16];
        int k = snprintf(want, sizeof want, "run %d.", i);
        const char *got = json_string_value(json_object_get(json_array_get(ev, (size_t)i + 1), "text"));
        ck_assert_msg(got && strncmp(got, want, (size_t)k) == 0, "event %d: %.20s", i + 1, got ? got : "(none)");
    }
    json_decref(ev);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

/* Transcripts sharing an arena, recording in turns, each read back as their own events in their own order, with
 * an event over a quarter of a chunk (given a chunk of its own) among them. */
START_TEST(transcripts_in_one_arena_keep_their_own_events)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t[3];
    for (int k = 0; k < 3; k++) t[k] = ch_transcript_new(arena, k == 0 ? "t0" : k == 1 ? "t1" : "t2", "x/y", 0);
    size_t big_n = 400 * 1024;
    char *big = malloc(big_n + 1);
    memset(big, 'b', big_n);
    big[big_n] = '\0';
    for (int i = 0; i < 300; i++) {
        for (int k = 0; k < 3; k++) {
            char text[32];
            int n = snprintf(text, sizeof text, "t%d run %d", k, i);
            ch_transcript_sent(t[k], 10 + i, (uint64_t)k, i, text, (size_t)n);
        }
        if (i == 150) ch_transcript_add(t[1], 10 + i, "sse-event", json_pack("{s:s}", "data", big));
    }
    for (int k = 0; k < 3; k++) {
        json_t *ev = events_of(t[k]);
        ck_assert_uint_eq(json_array_size(ev), k == 1 ? 301 : 300);
        for (int i = 0, at = 0; i < 300; i++, at++) {
            char want[32];
            snprintf(want, sizeof want, "t%d run %d", k, i);
            ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, (size_t)at), "text")), want);
            if (k == 1 && i == 150)
                ck_assert_uint_eq(json_string_length(json_object_get(json_array_get(ev, (size_t)++at), "data")), big_n);
        }
        json_decref(ev);
        ch_transcript_free(t[k]);
    }
    free(big);
    ch_arena_free(arena);
}
END_TEST

START_TEST(bounded_and_counts_what_it_dropped)
{
    struct ch_arena *arena = ch_arena_new();
    struct ch_transcript *t = ch_transcript_new(arena, "t1", "x/y", 0);
    for (int i = 0; i < CH_TRANSCRIPT_MAX_EVENTS + 25; i++) {
        char text[32];
        int n = snprintf(text, sizeof text, "run %d", i);
        if (i % 2) ch_transcript_end(t, i, 1, i);
        else ch_transcript_sent(t, i, 1, i, text, (size_t)n);
    }
    json_t *j = ch_transcript_json(t), *ev = json_object_get(j, "events");
    ck_assert_uint_eq(json_array_size(ev), CH_TRANSCRIPT_MAX_EVENTS);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "dropped")), 25);
    /* the bytes of the first and the last kept event, read back after every block was added */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "text")), "run 0");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, CH_TRANSCRIPT_MAX_EVENTS - 2), "text")),
                     "run 19998");
    json_decref(j);
    ch_transcript_free(t);
    ch_arena_free(arena);
}
END_TEST

int main(void)
{
    return ch_check_main("transcript", 0,
                         NULL,
                         CH_TESTS(records_read_back_as_model_json, unmatched_request_and_binary_bytes, long_body_keeps_its_digest,
                                  long_runs_keep_a_preview_and_the_count, kept_bytes_make_the_same_event_without_a_copy,
                                  same_time_events_keep_recording_order_across_chunks, transcripts_in_one_arena_keep_their_own_events,
                                  bounded_and_counts_what_it_dropped));
}
