/* check_ws.c — unit tests of the pure WebSocket codec (harness/engines/ws_frame.c) and handshake (ws_handshake.c):
 * tables for close codes, header bytes at the 125/126/65535/65536 boundaries, masking, the reader's rules
 * (fragmentation, control frames, UTF-8, limits, invalid input), Close payloads and the upgrade request. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "core/core.h"
#include "engines/ws.h"
#include "testing/testing.h"

/* ---- close codes (RFC 6455 §7.4.1-7.4.2 and the IANA registry: see harness/engines/ws_frame.c) ------------- */

static const struct {
    long code;
    int from_client, from_server, api;
} code_rows[] = {
    {0, 0, 0, 0},        {999, 0, 0, 0},      {1000, 1, 1, 1},     {1001, 1, 1, 0},     {1002, 1, 1, 0},
    {1003, 1, 1, 0},     {1004, 0, 0, 0},     {1005, 0, 0, 0},     {1006, 0, 0, 0},     {1007, 1, 1, 0},
    {1008, 1, 1, 0},     {1009, 1, 1, 0},     {1010, 1, 0, 0},     {1011, 1, 1, 0},     {1012, 1, 1, 0},
    {1013, 1, 1, 0},     {1014, 1, 1, 0},     {1015, 0, 0, 0},     {1016, 0, 0, 0},     {1100, 0, 0, 0},
    {2000, 0, 0, 0},     {2999, 0, 0, 0},     {3000, 1, 1, 1},     {3999, 1, 1, 1},     {4000, 1, 1, 1},
    {4999, 1, 1, 1},     {5000, 0, 0, 0},     {65535, 0, 0, 0},    {-1, 0, 0, 0},       {65536 + 1000, 0, 0, 0},
};

START_TEST(close_code_table)
{
    long c = code_rows[_i].code;
    ck_assert_msg(ch_ws_close_code_valid(c, CH_WS_FROM_CLIENT) == code_rows[_i].from_client, "%ld from client", c);
    ck_assert_msg(ch_ws_close_code_valid(c, CH_WS_FROM_SERVER) == code_rows[_i].from_server, "%ld from server", c);
    ck_assert_msg(ch_ws_close_code_api(c) == code_rows[_i].api, "%ld in close()", c);
}
END_TEST

/* ---- header bytes ------------------------------------------------------------------------------------------ */

static const struct {
    uint64_t len;
    int masked;
    const char *hex; /* header bytes, FIN + text */
} header_rows[] = {
    {0, 0, "8100"},
    {1, 0, "8101"},
    {125, 0, "817d"},
    {126, 0, "817e007e"},
    {127, 0, "817e007f"},
    {65535, 0, "817effff"},
    {65536, 0, "817f0000000000010000"},
    {(uint64_t)1 << 32, 0, "817f0000000100000000"},
    {((uint64_t)1 << 63) - 1, 0, "817f7fffffffffffffff"},
    {125, 1, "81fd37fa213d"},
    {126, 1, "81fe007e37fa213d"},
    {65536, 1, "81ff000000000001000037fa213d"},
};

START_TEST(header_encode_and_parse)
{
    struct ch_ws_header h = {.fin = 1, .opcode = CH_WS_OP_TEXT, .len = header_rows[_i].len,
                             .masked = header_rows[_i].masked, .key = {0x37, 0xfa, 0x21, 0x3d}};
    unsigned char out[CH_WS_MAX_HEADER];
    char hex[2 * CH_WS_MAX_HEADER + 1];
    size_t n = ch_ws_header_encode(&h, out);
    ch_hex_encode(out, n, hex);
    ck_assert_str_eq(hex, header_rows[_i].hex);
    ck_assert_uint_eq(h.hlen, n);
    /* every prefix is NEED; the whole header parses back */
    struct ch_ws_header back;
    for (size_t k = 0; k < n; k++) ck_assert_int_eq(ch_ws_header_parse(out, k, &back, NULL), CH_WS_NEED);
    ck_assert_int_eq(ch_ws_header_parse(out, n, &back, NULL), CH_WS_DONE);
    ck_assert_uint_eq(back.len, header_rows[_i].len);
    ck_assert_int_eq(back.masked, header_rows[_i].masked);
    ck_assert_int_eq(back.fin, 1);
    ck_assert_uint_eq(back.opcode, CH_WS_OP_TEXT);
    ck_assert_uint_eq(back.hlen, n);
    if (back.masked) ck_assert_int_eq(memcmp(back.key, h.key, 4), 0);
}
END_TEST

static const char *const bad_header_rows[] = {
    "817e007d",             /* 125 in 16 bits: not minimal */
    "817e0000",             /* 0 in 16 bits */
    "817f000000000000ffff", /* 65535 in 64 bits */
    "817f0000000000000001", /* 1 in 64 bits */
    "817f8000000000000000", /* most significant bit set */
    "817fffffffffffffffff",
};

START_TEST(header_invalid)
{
    char why[CH_WS_WHY_LEN] = "";
    size_t n;
    struct ch_ws_header h;
    unsigned char *b = ch_hex_decode(bad_header_rows[_i], &n, NULL);
    ck_assert_int_eq(ch_ws_header_parse(b, n, &h, why), CH_WS_FAIL);
    ck_assert_msg(strstr(why, "§5.2") != NULL, "%s", why);
    free(b);
}
END_TEST

START_TEST(header_bits)
{
    /* RSV1-3 and every opcode round-trip; fin false */
    for (unsigned rsv = 0; rsv < 8; rsv++)
        for (unsigned op = 0; op < 16; op++) {
            struct ch_ws_header h = {.fin = 0, .rsv = rsv, .opcode = op, .len = 3}, back;
            unsigned char out[CH_WS_MAX_HEADER];
            size_t n = ch_ws_header_encode(&h, out);
            ck_assert_uint_eq(n, 2);
            ck_assert_uint_eq(out[0], rsv << 4 | op);
            ck_assert_int_eq(ch_ws_header_parse(out, n, &back, NULL), CH_WS_DONE);
            ck_assert_uint_eq(back.rsv, rsv);
            ck_assert_uint_eq(back.opcode, op);
            ck_assert_int_eq(back.fin, 0);
        }
}
END_TEST

/* RFC 6455 §5.7's examples, byte for byte. */
START_TEST(rfc_examples)
{
    unsigned char p[5] = {'H', 'e', 'l', 'l', 'o'}, out[CH_WS_MAX_HEADER];
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    const unsigned char masked[5] = {0x7f, 0x9f, 0x4d, 0x51, 0x58};
    ch_ws_mask(p, 5, key, 0);
    ck_assert_int_eq(memcmp(p, masked, 5), 0);
    ch_ws_mask(p, 5, key, 0);
    ck_assert_int_eq(memcmp(p, "Hello", 5), 0);
    struct ch_ws_header h = {.fin = 1, .opcode = CH_WS_OP_BINARY, .len = 256};
    ck_assert_uint_eq(ch_ws_header_encode(&h, out), 4);
    ck_assert_int_eq(memcmp(out, "\x82\x7e\x01\x00", 4), 0);
    h.len = 65536;
    ck_assert_uint_eq(ch_ws_header_encode(&h, out), 10);
    ck_assert_int_eq(memcmp(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10), 0);
}
END_TEST

/* Masking at any offset and length equals the byte-by-byte definition (the 8-byte fast path included). */
START_TEST(mask_offsets)
{
    const unsigned char key[4] = {0x01, 0x80, 0xff, 0x5a};
    unsigned char a[67], b[67];
    for (size_t n = 0; n <= sizeof a; n++)
        for (uint64_t off = 0; off < 9; off++) {
            for (size_t i = 0; i < n; i++) a[i] = b[i] = (unsigned char)(i * 37 + 11);
            ch_ws_mask(a, n, key, off);
            for (size_t i = 0; i < n; i++) b[i] ^= key[(off + i) % 4];
            ck_assert_int_eq(memcmp(a, b, n), 0);
        }
}
END_TEST

/* ---- the reader -------------------------------------------------------------------------------------------- */

struct fr {
    int fin;
    unsigned rsv, opcode;
    int unmasked;
    const char *data; /* payload; NULL = empty, or `len` bytes when len > 0 */
    size_t len;
};

#define F(op, d) {1, 0, op, 0, d, 0}
#define FRAG(op, d) {0, 0, op, 0, d, 0}
#define END {-1, 0, 0, 0, NULL, 0}

#define S10 "0123456789"
#define P125 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "01234"
static const char reason123[] = S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 S10 "0123"; /* 124 bytes: 123 + one */

static const struct {
    const char *name;
    struct fr frames[5];
    const char *raw;  /* hex bytes instead of frames */
    size_t max;       /* max_frame and max_message (0: defaults) */
    const char *want; /* events: text(..) binary(hex) ping(..) pong(..) close(code,reason) frag; FAIL n */
} read_rows[] = {
    {"masked text", {F(1, "Hello"), END}, NULL, 0, "text(Hello)"},
    {"empty text", {F(1, NULL), END}, NULL, 0, "text()"},
    {"binary", {{1, 0, 2, 0, "\x00\xff", 2}, END}, NULL, 0, "binary(00ff)"},
    {"two messages", {F(1, "a"), F(2, "b"), END}, NULL, 0, "text(a) binary(62)"},
    {"fragmented text", {FRAG(1, "Hel"), {1, 0, 0, 0, "lo", 0}, END}, NULL, 0, "frag text(Hello)"},
    {"three fragments", {FRAG(2, "a"), FRAG(0, "b"), F(0, "c"), END}, NULL, 0, "frag frag binary(616263)"},
    {"ping inside a fragmented message", {FRAG(1, "He"), F(9, "x"), F(0, "llo"), END}, NULL, 0, "frag ping(x) text(Hello)"},
    {"a code point split across fragments", {FRAG(1, "\xce"), F(0, "\xba"), END}, NULL, 0, "frag text(\xce\xba)"},
    {"NUL is text", {{1, 0, 1, 0, "a\0b", 3}, END}, NULL, 0, "text(a)"},
    {"ping 125 bytes", {F(9, P125), END}, NULL, 0, "ping(" P125 ")"},
    {"pong", {F(10, "p"), END}, NULL, 0, "pong(p)"},
    {"close empty", {F(8, NULL), END}, NULL, 0, "close(none)"},
    {"close 1000 bye", {F(8, "\x03\xe8" "bye"), END}, NULL, 0, "close(1000,bye)"},
    {"close code only", {{1, 0, 8, 0, "\x0f\xa0", 2}, END}, NULL, 0, "close(4000,)"},
    {"close 1010 from a client", {F(8, "\x03\xf2"), END}, NULL, 0, "close(1010,)"},
    {"close 3000", {F(8, "\x0b\xb8"), END}, NULL, 0, "close(3000,)"},
    {"close 4999", {F(8, "\x13\x87"), END}, NULL, 0, "close(4999,)"},
    {"close 1014", {F(8, "\x03\xf6"), END}, NULL, 0, "close(1014,)"},
    {"close 1-byte payload", {F(8, "\x03"), END}, NULL, 0, "FAIL 1002"},
    {"close 1005", {F(8, "\x03\xed"), END}, NULL, 0, "FAIL 1002"},
    {"close 1006", {F(8, "\x03\xee"), END}, NULL, 0, "FAIL 1002"},
    {"close 1004", {F(8, "\x03\xec"), END}, NULL, 0, "FAIL 1002"},
    {"close 1015", {F(8, "\x03\xf7"), END}, NULL, 0, "FAIL 1002"},
    {"close 1016", {F(8, "\x03\xf8"), END}, NULL, 0, "FAIL 1002"},
    {"close 999", {F(8, "\x03\xe7"), END}, NULL, 0, "FAIL 1002"},
    {"close 0", {{1, 0, 8, 0, "\x00\x00", 2}, END}, NULL, 0, "FAIL 1002"},
    {"close 2999", {F(8, "\x0b\xb7"), END}, NULL, 0, "FAIL 1002"},
    {"close 5000", {F(8, "\x13\x88"), END}, NULL, 0, "FAIL 1002"},
    {"close 65535", {F(8, "\xff\xff"), END}, NULL, 0, "FAIL 1002"},
    {"close reason not UTF-8", {F(8, "\x03\xe8\xce\xba\xff"), END}, NULL, 0, "FAIL 1007"},
    {"close reason 123 bytes", {F(8, "\x03\xe8" "012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012"), END}, NULL, 0,
     "close(1000,012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012)"},
    {"close reason 124 bytes (payload 126)", {F(8, "\x03\xe8" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123"), END}, NULL, 0, "FAIL 1002"},
    {"data after close is still framed", {F(8, NULL), F(1, "x"), END}, NULL, 0, "close(none) text(x)"},
    {"unmasked text", {{1, 0, 1, 1, "x", 0}, END}, NULL, 0, "FAIL 1002"},
    {"RSV1", {{1, 4, 1, 0, "x", 0}, END}, NULL, 0, "FAIL 1002"},
    {"RSV2", {{1, 2, 1, 0, "x", 0}, END}, NULL, 0, "FAIL 1002"},
    {"RSV3", {{1, 1, 1, 0, "x", 0}, END}, NULL, 0, "FAIL 1002"},
    {"opcode 3", {F(3, "x"), END}, NULL, 0, "FAIL 1002"},
    {"opcode 7", {F(7, "x"), END}, NULL, 0, "FAIL 1002"},
    {"opcode 11", {F(11, "x"), END}, NULL, 0, "FAIL 1002"},
    {"opcode 15", {F(15, "x"), END}, NULL, 0, "FAIL 1002"},
    {"fragmented ping", {FRAG(9, "x"), END}, NULL, 0, "FAIL 1002"},
    {"fragmented close", {FRAG(8, NULL), END}, NULL, 0, "FAIL 1002"},
    {"ping of 126 bytes", {F(9, P125 "5"), END}, NULL, 0, "FAIL 1002"},
    {"continuation first", {F(0, "x"), END}, NULL, 0, "FAIL 1002"},
    {"text inside a fragmented message", {FRAG(1, "a"), F(1, "b"), END}, NULL, 0, "frag FAIL 1002"},
    {"continuation after the end", {F(1, "a"), F(0, "b"), END}, NULL, 0, "text(a) FAIL 1002"},
    {"text not UTF-8", {F(1, "\xff"), END}, NULL, 0, "FAIL 1007"},
    {"text overlong", {F(1, "\xc0\xaf"), END}, NULL, 0, "FAIL 1007"},
    {"text surrogate", {F(1, "\xed\xa0\x80"), END}, NULL, 0, "FAIL 1007"},
    {"text truncated code point", {FRAG(1, "ok"), F(0, "\xce"), END}, NULL, 0, "frag FAIL 1007"},
    {"binary need not be UTF-8", {F(2, "\xff"), END}, NULL, 0, "binary(ff)"},
    {"frame over the limit", {F(2, "12345"), END}, NULL, 4, "FAIL 1009"},
    {"message over the limit", {FRAG(2, "123"), F(0, "45"), END}, NULL, 4, "frag FAIL 1009"},
    {"message at the limit", {FRAG(2, "12"), F(0, "34"), END}, NULL, 4, "frag binary(31323334)"},
    {"16 MiB + 1 announced", {END}, "82ff000000000100000137fa213d", 0, "FAIL 1009"},
    {"non-minimal length", {END}, "81fe000537fa213d", 0, "FAIL 1002"},
    {"length MSB", {END}, "81ff800000000000000037fa213d", 0, "FAIL 1002"},
};

static const unsigned char test_key[4] = {0xa1, 0x02, 0xf3, 0x44};

/* Builds the row's byte stream. */
static unsigned char *build_frames(const struct fr *fs, size_t *n)
{
    unsigned char *b = malloc(65536);
    size_t k = 0;
    for (const struct fr *f = fs; f->fin >= 0; f++) {
        size_t len = f->len ? f->len : f->data ? strlen(f->data) : 0;
        struct ch_ws_header h = {.fin = f->fin, .rsv = f->rsv, .opcode = f->opcode, .masked = !f->unmasked, .len = len};
        memcpy(h.key, test_key, 4);
        k += ch_ws_header_encode(&h, b + k);
        if (len) memcpy(b + k, f->data, len);
        if (h.masked) ch_ws_mask(b + k, len, h.key, 0);
        k += len;
    }
    *n = k;
    return b;
}

static void describe(char *out, size_t cap, const struct ch_ws_event *ev)
{
    char hex[256];
    size_t at = strlen(out);
    const char *sep = at ? " " : "";
    unsigned op = ev->h.opcode;
    if (!ch_ws_is_control(op) && !ev->message) {
        snprintf(out + at, cap - at, "%sfrag", sep);
    } else if (ev->message && ev->msg_opcode == CH_WS_OP_BINARY) {
        ch_hex_encode(ev->msg, ev->msg_len < 100 ? ev->msg_len : 100, hex);
        snprintf(out + at, cap - at, "%sbinary(%s)", sep, hex);
    } else if (ev->message) {
        snprintf(out + at, cap - at, "%stext(%.*s)", sep, (int)ev->msg_len, (const char *)ev->msg);
    } else if (op == CH_WS_OP_CLOSE && ev->close.code < 0) {
        snprintf(out + at, cap - at, "%sclose(none)", sep);
    } else if (op == CH_WS_OP_CLOSE) {
        snprintf(out + at, cap - at, "%sclose(%ld,%.*s)", sep, ev->close.code, (int)ev->close.reason_len,
                 (const char *)ev->close.reason);
    } else {
        snprintf(out + at, cap - at, "%s%s(%.*s)", sep, ch_ws_opcode_name(op), (int)ev->payload_len,
                 ev->payload ? (const char *)ev->payload : "");
    }
}

/* Feeds bytes to a reader `step` bytes at a time (0: all at once), as the engine does: a frame is read once
 * the buffer holds it. Returns the event description. */
static void feed(const unsigned char *b, size_t n, size_t max, size_t step, char *out, size_t cap)
{
    struct ch_ws_reader r;
    struct ch_ws_event ev;
    ch_ws_reader_init(&r);
    if (max) r.max_frame = r.max_message = max;
    out[0] = '\0';
    size_t start = 0, avail = step ? 0 : n;
    while (start < n) {
        size_t size;
        enum ch_ws_status st = ch_ws_read(&r, b + start, avail - start, &size, &ev);
        if (st == CH_WS_FAIL) {
            size_t at = strlen(out);
            snprintf(out + at, cap - at, "%sFAIL %d", at ? " " : "", ev.fail_code);
            ck_assert_msg(ev.why[0] != '\0', "a failure without a reason");
            break;
        }
        if (st == CH_WS_NEED) {
            ck_assert_msg(avail < n, "NEED with the whole input (size %zu)", size);
            avail = avail + step > n ? n : avail + step;
            continue;
        }
        describe(out, cap, &ev);
        start += size;
    }
    ch_ws_reader_free(&r);
}

START_TEST(reader_table)
{
    size_t n;
    char got[1024];
    unsigned char *b = read_rows[_i].raw ? ch_hex_decode(read_rows[_i].raw, &n, NULL) : build_frames(read_rows[_i].frames, &n);
    feed(b, n, read_rows[_i].max, 0, got, sizeof got);
    ck_assert_msg(strcmp(got, read_rows[_i].want) == 0, "%s: got '%s', want '%s'", read_rows[_i].name, got,
                  read_rows[_i].want);
    feed(b, n, read_rows[_i].max, 1, got, sizeof got); /* byte by byte: the same */
    ck_assert_msg(strcmp(got, read_rows[_i].want) == 0, "%s (byte by byte): got '%s'", read_rows[_i].name, got);
    free(b);
}
END_TEST

/* Payload lengths at the boundaries go through the reader intact. */
START_TEST(reader_lengths)
{
    static const size_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        unsigned char *b = malloc(len + CH_WS_MAX_HEADER), *p = malloc(len + 1);
        for (size_t k = 0; k < len; k++) p[k] = (unsigned char)(k * 7);
        struct ch_ws_header h = {.fin = 1, .opcode = CH_WS_OP_BINARY, .masked = 1, .len = len};
        memcpy(h.key, test_key, 4);
        size_t hn = ch_ws_header_encode(&h, b);
        memcpy(b + hn, p, len);
        ch_ws_mask(b + hn, len, h.key, 0);
        struct ch_ws_reader r;
        struct ch_ws_event ev;
        size_t size;
        ch_ws_reader_init(&r);
        ck_assert_int_eq(ch_ws_read(&r, b, hn + len - (len ? 1 : 0), &size, &ev), len ? CH_WS_NEED : CH_WS_DONE);
        ck_assert_int_eq(ch_ws_read(&r, b, hn + len, &size, &ev), CH_WS_DONE);
        ck_assert_uint_eq(size, hn + len);
        ck_assert_uint_eq(hn, len < 126 ? 6 : len < 65536 ? 8 : 14);
        ck_assert_int_eq(ev.message, 1);
        ck_assert_uint_eq(ev.msg_len, len);
        ck_assert_int_eq(len ? memcmp(ev.msg, p, len) : 0, 0);
        ch_ws_reader_free(&r);
        free(b);
        free(p);
    }
}
END_TEST

/* The reader as a client reads a server: frames must not be masked. */
START_TEST(reader_client_side)
{
    struct ch_ws_reader r;
    struct ch_ws_event ev;
    size_t size;
    ch_ws_reader_init(&r);
    r.want_masked = 0;
    r.peer = CH_WS_FROM_SERVER;
    ck_assert_int_eq(ch_ws_read(&r, (const unsigned char *)"\x81\x02hi", 4, &size, &ev), CH_WS_DONE);
    ck_assert_int_eq(ev.message, 1);
    /* 1010 from a server is a protocol error */
    ck_assert_int_eq(ch_ws_read(&r, (const unsigned char *)"\x88\x02\x03\xf2", 4, &size, &ev), CH_WS_FAIL);
    ck_assert_int_eq(ev.fail_code, 1002);
    ck_assert_ptr_nonnull(strstr(ev.why, "from a server"));
    ch_ws_reader_free(&r);
    ch_ws_reader_init(&r);
    r.want_masked = 0;
    ck_assert_int_eq(ch_ws_read(&r, (const unsigned char *)"\x81\x82\0\0\0\0hi", 8, &size, &ev), CH_WS_FAIL);
    ch_ws_reader_free(&r);
}
END_TEST

START_TEST(utf8_with_nul)
{
    ck_assert_int_eq(ch_ws_utf8((const unsigned char *)"", 0), 1);
    ck_assert_int_eq(ch_ws_utf8((const unsigned char *)"\0", 1), 1);
    ck_assert_int_eq(ch_ws_utf8((const unsigned char *)"a\0\xce\xba\0", 5), 1);
    ck_assert_int_eq(ch_ws_utf8((const unsigned char *)"\xce\0\xba", 3), 0);
    ck_assert_int_eq(ch_ws_utf8((const unsigned char *)"\0\xf4\x90\x80\x80", 5), 0);
}
END_TEST

/* ---- Close payloads ---------------------------------------------------------------------------------------- */

START_TEST(close_build_parse)
{
    unsigned char p[CH_WS_MAX_CONTROL];
    struct ch_ws_close c;
    char why[CH_WS_WHY_LEN];
    ck_assert_uint_eq(ch_ws_close_build(p, sizeof p, -1, "x", 1), 0);
    size_t n = ch_ws_close_build(p, sizeof p, 4001, "bye", 3);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(memcmp(p, "\x0f\xa1" "bye", 5), 0);
    ck_assert_int_eq(ch_ws_close_parse(p, n, CH_WS_FROM_CLIENT, &c, why), 0);
    ck_assert_int_eq(c.code, 4001);
    ck_assert_uint_eq(c.reason_len, 3);
    ck_assert_int_eq(ch_ws_close_parse(p, 0, CH_WS_FROM_CLIENT, &c, why), 0);
    ck_assert_int_eq(c.code, -1);
    ck_assert_uint_eq(ch_ws_close_build(p, sizeof p, 1000, reason123, 124), 0); /* 126 > 125 */
    ck_assert_uint_eq(ch_ws_close_build(p, sizeof p, 1000, reason123, 123), 125);
    ck_assert_uint_eq(ch_ws_close_build(p, sizeof p, 65535, "", 0), 2); /* any code can be built */
    ck_assert_int_eq(ch_ws_close_parse(p, 2, CH_WS_FROM_SERVER, &c, why), 1002);
}
END_TEST

/* ---- the handshake ---------------------------------------------------------------------------------------- */

START_TEST(accept_value)
{
    char out[29];
    ch_ws_accept_value("dGhlIHNhbXBsZSBub25jZQ==", out); /* RFC 6455 §1.3 */
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

static const struct {
    const char *key;
    int valid;
} key_rows[] = {
    {"dGhlIHNhbXBsZSBub25jZQ==", 1}, {"AAAAAAAAAAAAAAAAAAAAAA==", 1}, {"dGhlIHNhbXBsZSBub25jZQ=", 0},
    {"dGhlIHNhbXBsZSBub25jZQ", 0},   {"dGhlIHNhbXBsZSBub25jZ===", 0}, {"dGhlIHNhbXBsZSBub25j*Q==", 0},
    {"dGhlIHNhbXBsZSBub25jZXM=", 0}, {"", 0},
};

START_TEST(key_table)
{
    ck_assert_int_eq(ch_ws_key_valid(key_rows[_i].key), key_rows[_i].valid);
}
END_TEST

#define KEY "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="
#define VER "Sec-WebSocket-Version", "13"
#define UPG "Upgrade", "websocket"
#define CON "Connection", "Upgrade"
#define HOST "Host", "h"

static const struct {
    const char *name, *method;
    int minor;
    const char *headers[16]; /* name, value, ..., NULL */
    int valid, status;
    const char *why_has;
} offer_rows[] = {
    {"valid", "GET", 1, {HOST, UPG, CON, KEY, VER, NULL}, 1, 0, NULL},
    {"case-insensitive tokens in lists", "GET", 1,
     {HOST, "Upgrade", "WebSocket", "Connection", "keep-alive, upgrade", KEY, VER, NULL}, 1, 0, NULL},
    {"POST", "POST", 1, {HOST, UPG, CON, KEY, VER, NULL}, 0, 400, "item 1"},
    {"HTTP/1.0", "GET", 0, {HOST, UPG, CON, KEY, VER, NULL}, 0, 400, "item 1"},
    {"no Host", "GET", 1, {UPG, CON, KEY, VER, NULL}, 0, 400, "item 2"},
    {"no Upgrade", "GET", 1, {HOST, CON, KEY, VER, NULL}, 0, 400, "item 3"},
    {"Upgrade: h2c", "GET", 1, {HOST, "Upgrade", "h2c", CON, KEY, VER, NULL}, 0, 400, "item 3"},
    {"Connection: keep-alive", "GET", 1, {HOST, UPG, "Connection", "keep-alive", KEY, VER, NULL}, 0, 400, "item 4"},
    {"no key", "GET", 1, {HOST, UPG, CON, VER, NULL}, 0, 400, "absent"},
    {"short key", "GET", 1, {HOST, UPG, CON, "Sec-WebSocket-Key", "c2hvcnQ=", VER, NULL}, 0, 400, "16 bytes"},
    {"two keys", "GET", 1, {HOST, UPG, CON, KEY, KEY, VER, NULL}, 0, 400, "repeated"},
    {"version 8", "GET", 1, {HOST, UPG, CON, KEY, "Sec-WebSocket-Version", "8", NULL}, 0, 426, "not 13"},
    {"no version", "GET", 1, {HOST, UPG, CON, KEY, NULL}, 0, 426, "absent"},
};

static struct ch_request *make_request(const char *method, int minor, const char *const *hs)
{
    struct ch_request *r = calloc(1, sizeof *r);
    snprintf(r->method, sizeof r->method, "%s", method);
    r->major = 1;
    r->minor = minor;
    for (size_t i = 0; hs[i]; i += 2) ch_request_add_header(r, hs[i], strlen(hs[i]), hs[i + 1], strlen(hs[i + 1]));
    return r;
}

START_TEST(offer_table)
{
    struct ch_request *r = make_request(offer_rows[_i].method, offer_rows[_i].minor, offer_rows[_i].headers);
    struct ch_ws_offer o;
    ch_ws_offer_read(r, &o);
    ck_assert_msg(o.valid == offer_rows[_i].valid, "%s: valid %d (%s)", offer_rows[_i].name, o.valid, o.why);
    if (!o.valid) {
        ck_assert_int_eq(o.status, offer_rows[_i].status);
        ck_assert_msg(strstr(o.why, offer_rows[_i].why_has) != NULL, "%s: why '%s'", offer_rows[_i].name, o.why);
    }
    ch_ws_offer_free(&o);
    ch_request_free(r);
}
END_TEST

START_TEST(offer_lists)
{
    const char *hs[] = {HOST, UPG, CON, KEY, VER, "Sec-WebSocket-Protocol", "chat, superchat", "Origin", "http://o",
                        "sec-websocket-protocol", " x ", "Sec-WebSocket-Extensions",
                        "permessage-deflate; client_max_window_bits, x-foo", NULL};
    struct ch_request *r = make_request("GET", 1, hs);
    struct ch_ws_offer o;
    ch_ws_offer_read(r, &o);
    ck_assert_int_eq(o.valid, 1);
    ck_assert_str_eq(o.origin, "http://o");
    ck_assert_str_eq(o.protocols[0], "chat");
    ck_assert_str_eq(o.protocols[1], "superchat");
    ck_assert_str_eq(o.protocols[2], "x");
    ck_assert_ptr_null(o.protocols[3]);
    ck_assert_str_eq(o.extensions[0], "permessage-deflate; client_max_window_bits");
    ck_assert_str_eq(o.extensions[1], "x-foo");
    ck_assert_int_eq(ch_ws_offered(o.protocols, "superchat"), 1);
    ck_assert_int_eq(ch_ws_offered(o.protocols, "Chat"), 0);
    ch_ws_offer_free(&o);
    ch_request_free(r);
}
END_TEST

int main(void)
{
    return ch_check_main("ws", 0,
                         CH_LOOPS(CH_LOOP(close_code_table, code_rows), CH_LOOP(header_encode_and_parse, header_rows),
                                  CH_LOOP(header_invalid, bad_header_rows), CH_LOOP(reader_table, read_rows),
                                  CH_LOOP(key_table, key_rows), CH_LOOP(offer_table, offer_rows)),
                         CH_TESTS(header_bits, rfc_examples, mask_offsets, reader_lengths, reader_client_side,
                                  utf8_with_nul, close_build_parse, accept_value, offer_lists));
}
