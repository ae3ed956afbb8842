/* check_compress.c — the `compress` step word (harness/engines/compress.c) through the real executor on a
 * socketpair: what leaves is the body data content-coded as RFC 9110 §8.4.1 defines gzip (RFC 1952) and
 * deflate (the zlib format, RFC 1950), one stream per segment, each step's bytes decodable when they arrive,
 * chunk framing around the coded bytes, and {body-length} counting the coded bytes. Every expected text is
 * recovered with zlib's own inflate, not compared with bytes a run produced. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/core.h"
#include "reply_rig.h"
#include "testing/testing.h"

#define GET "GET /z HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
#define ROUTE(steps) "[{\"method\":\"GET\",\"path\":\"/z\",\"line\":1,\"steps\":[" steps "]}]"
#define ST(json) "{\"op\":" json "}"

/* Runs the route for one request and returns the whole reply the client read (until the server's FIN). */
static size_t fetch(struct reply_rig *g, const char *routes, unsigned char *got, size_t cap)
{
    size_t n = 0;
    reply_rig_open(g, "z/x", routes, 1.0, "fixtures");
    ck_assert_int_eq(write(g->fd, GET, strlen(GET)), (ssize_t)strlen(GET));
    for (int turns = 0; turns < 2000; turns++) {
        event_base_loop(g->env.base, EVLOOP_NONBLOCK);
        ssize_t k = read(g->fd, got + n, cap - n - 1);
        if (k > 0) n += (size_t)k;
        else if (k == 0) break;
        else if (errno != EAGAIN) break;
        else usleep(1000);
    }
    got[n] = '\0';
    return n;
}

/* Inflates `in` (windowBits: 15 + 16 gzip, 15 zlib); returns the text, *used the input bytes the stream took
 * (the rest follows it), *end whether the stream ended. */
static char *inflate_all(const unsigned char *in, size_t n, int window, size_t *used, int *end)
{
    static char out[65536];
    z_stream z = {0};
    ck_assert_int_eq(inflateInit2(&z, window), Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = (unsigned char *)out;
    z.avail_out = sizeof out - 1;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
    *end = rc == Z_STREAM_END;
    *used = n - z.avail_in;
    out[sizeof out - 1 - z.avail_out] = '\0';
    inflateEnd(&z);
    return out;
}

/* The body after the head, and the head's Content-Length (-1 without one). */
static const unsigned char *body_of(const unsigned char *got, size_t n, size_t *len, long *content_length)
{
    const unsigned char *b = memmem(got, n, "\r\n\r\n", 4);
    ck_assert_ptr_nonnull(b);
    const char *cl = strstr((const char *)got, "Content-Length: ");
    *content_length = cl && (const unsigned char *)cl < b ? strtol(cl + 16, NULL, 10) : -1;
    *len = n - (size_t)(b + 4 - got);
    return b + 4;
}

static const struct {
    const char *what, *steps;
    int window;          /* inflate windowBits */
    const char *text;    /* what the coded stream holds */
    const char *after;   /* the bytes that follow the stream, sent as they are */
    unsigned char magic; /* the coded body's first byte: 0x1f (gzip, RFC 1952 §2.3.1) or 0x78 (zlib, RFC 1950 §2.2) */
} rows[] = {
    {"gzip, one body", ST("\"compress\",\"coding\":\"gzip\"") "," ST("\"body\",\"text\":\"hello, hello, hello\""),
     15 + 16, "hello, hello, hello", "", 0x1f},
    {"deflate is the zlib format", ST("\"compress\",\"coding\":\"deflate\"") "," ST("\"body\",\"text\":\"abcabcabc\""), 15,
     "abcabcabc", "", 0x78},
    {"one stream over several steps", ST("\"compress\",\"coding\":\"gzip\"") "," ST("\"body\",\"text\":\"ab\"") ","
     ST("\"body\",\"hex\":\"6364\"") "," ST("\"echo\""), 15 + 16, "abcd{\"method\":\"GET\"", NULL, 0x1f},
    {"off ends the stream", ST("\"compress\",\"coding\":\"gzip\"") "," ST("\"body\",\"text\":\"x\"") ","
     ST("\"compress\",\"coding\":\"off\"") "," ST("\"body\",\"text\":\"y\""), 15 + 16, "x", "y", 0x1f},
    {"gen data", ST("\"compress\",\"coding\":\"deflate\"") "," ST("\"body\",\"gen\":70"), 15,
     "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqr\n01234", "", 0x78},
};

START_TEST(coded_bodies)
{
    struct reply_rig g;
    unsigned char got[65536];
    char routes[2048];
    snprintf(routes, sizeof routes, ROUTE("%s,%s,%s,%s"), ST("\"status\",\"code\":200,\"reason\":\"OK\""),
             ST("\"header\",\"name\":\"Content-Length\",\"value\":\"{body-length}\""), rows[_i].steps, ST("\"close\""));
    size_t n = fetch(&g, routes, got, sizeof got), len, used;
    long cl;
    int end;
    const unsigned char *body = body_of(got, n, &len, &cl);
    ck_assert_msg(cl == (long)len, "%s: Content-Length %ld, %zu body bytes", rows[_i].what, cl, len);
    ck_assert_uint_eq(body[0], rows[_i].magic);
    const char *text = inflate_all(body, len, rows[_i].window, &used, &end);
    ck_assert_msg(end, "%s: the stream does not end", rows[_i].what);
    ck_assert_msg(strncmp(text, rows[_i].text, strlen(rows[_i].text)) == 0, "%s: '%s'", rows[_i].what, text);
    if (rows[_i].after) {
        ck_assert_uint_eq(len - used, strlen(rows[_i].after));
        ck_assert(memcmp(body + used, rows[_i].after, len - used) == 0);
    }
    reply_rig_close(&g, 0);
}
END_TEST

/* Chunks frame the coded bytes (RFC 9112 §7.1): each chunk's data is its step's coded data. */
START_TEST(chunks_frame_coded_data)
{
    struct reply_rig g;
    unsigned char got[65536], coded[4096];
    size_t n = fetch(&g, ROUTE(ST("\"status\",\"code\":200,\"reason\":\"OK\"") "," ST("\"compress\",\"coding\":\"deflate\"")
                               "," ST("\"chunk\",\"text\":\"one \"") "," ST("\"chunk\",\"text\":\"two\"") ","
                               ST("\"chunk-end\"") "," ST("\"close\"")),
                     got, sizeof got), len, used = 0, k = 0;
    long cl;
    int end, chunks = 0;
    const unsigned char *body = body_of(got, n, &len, &cl);
    for (size_t at = 0; at < len;) {
        char *eol;
        size_t size = strtoul((const char *)body + at, &eol, 16);
        ck_assert(eol[0] == '\r' && eol[1] == '\n');
        at = (size_t)((const unsigned char *)eol + 2 - body);
        if (size == 0) break;
        memcpy(coded + k, body + at, size);
        k += size;
        at += size + 2;
        chunks++;
    }
    ck_assert_int_eq(chunks, 2);
    ck_assert_str_eq(inflate_all(coded, k, 15, &used, &end), "one two");
    ck_assert(end && used == k);
    ck_assert(memcmp(body + len - 5, "0\r\n\r\n", 5) == 0);
    reply_rig_close(&g, 0);
}
END_TEST

/* Each step's bytes decode when they arrive: the first `sent` run (before the wait) inflates to the first
 * body's data on its own (Z_SYNC_FLUSH). */
START_TEST(each_step_decodes_on_arrival)
{
    struct reply_rig g;
    unsigned char got[65536];
    fetch(&g, ROUTE(ST("\"status\",\"code\":200,\"reason\":\"OK\"") "," ST("\"compress\",\"coding\":\"gzip\"") ","
                    ST("\"body\",\"text\":\"first \"") "," ST("\"wait\",\"ms\":30") "," ST("\"body\",\"text\":\"second\"") ","
                    ST("\"close\"")),
          got, sizeof got);
    json_t *events = reply_rig_events(&g), *e;
    size_t i, nsent = 0, used;
    int end;
    json_array_foreach(events, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "type")), "sent") != 0 || nsent++ > 0) continue;
        size_t n;
        unsigned char *b = ch_hex_decode(json_string_value(json_object_get(e, "hex")), &n, NULL);
        ck_assert_ptr_nonnull(b);
        const unsigned char *body = memmem(b, n, "\r\n\r\n", 4) + 4;
        ck_assert_str_eq(inflate_all(body, n - (size_t)(body - b), 15 + 16, &used, &end), "first ");
        ck_assert(!end);
        free(b);
    }
    ck_assert_uint_eq(nsent, 2);
    json_decref(events);
    reply_rig_close(&g, 0);
}
END_TEST

/* A coding the parser refuses, in hand-written case JSON: the reply cannot be rendered, so it is a 500 before
 * the head, with the reason in the transcript. */
START_TEST(unknown_coding_is_a_script_error)
{
    struct reply_rig g;
    unsigned char got[4096];
    fetch(&g, ROUTE(ST("\"status\",\"code\":200,\"reason\":\"OK\"") "," ST("\"compress\",\"coding\":\"br\",\"line\":7") ","
                    ST("\"body\",\"text\":\"x\"")),
          got, sizeof got);
    ck_assert_msg(strncmp((const char *)got, "HTTP/1.1 500 Script Error", 25) == 0, "%s", got);
    ck_assert_ptr_nonnull(strstr((const char *)got, "line 7: compress: the coding is gzip, deflate or off"));
    reply_rig_close(&g, 0);
}
END_TEST

int main(void)
{
    return ch_check_main("compress", 20,
                         CH_LOOPS(CH_LOOP(coded_bodies, rows)),
                         CH_TESTS(chunks_frame_coded_data, each_step_decodes_on_arrival,
                                  unknown_coding_is_a_script_error));
}
