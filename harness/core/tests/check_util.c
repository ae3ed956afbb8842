/* check_util.c — unit tests of harness/core/util.c. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "testing/testing.h"

static const struct {
    const char *bytes;
    size_t len;
    int text;
} utf8_rows[] = {
    {"plain ascii", 11, 1},
    {"caf\xc3\xa9", 5, 1},
    {"\xf0\x9f\x98\x80", 4, 1},          /* U+1F600 */
    {"a\0b", 3, 0},                       /* NUL is not text */
    {"\xc0\xaf", 2, 0},                   /* overlong '/' */
    {"\xed\xa0\x80", 3, 0},               /* a surrogate */
    {"\xf4\x90\x80\x80", 4, 0},           /* above U+10FFFF */
    {"\xf8\x88\x80\x80\x80", 5, 0},       /* a 5-byte form (RFC 3629 forbids) */
    {"\xe2\x82", 2, 0},                   /* truncated */
    {"\xff", 1, 0},
};

START_TEST(utf8_table)
{
    ck_assert_int_eq(ch_utf8_text((const unsigned char *)utf8_rows[_i].bytes, utf8_rows[_i].len),
                     utf8_rows[_i].text);
}
END_TEST

/* ch_utf8_text passes ASCII eight bytes at a time: a sequence placed at every offset of a 40-byte ASCII run,
 * each side of a word's edge, must be judged as the table above judges it alone. */
START_TEST(utf8_at_every_offset)
{
    for (size_t r = 0; r < sizeof utf8_rows / sizeof utf8_rows[0]; r++) {
        size_t len = utf8_rows[r].len;
        for (size_t at = 0; at + len <= 40; at++) {
            unsigned char buf[40];
            memset(buf, 'a', sizeof buf);
            memcpy(buf + at, utf8_rows[r].bytes, len);
            ck_assert_msg(ch_utf8_text(buf, sizeof buf) == utf8_rows[r].text, "row %zu at %zu", r, at);
            ck_assert_msg(ch_utf8_text(buf, at + len) == utf8_rows[r].text, "row %zu ending at %zu", r, at + len);
        }
    }
}
END_TEST

START_TEST(hex_round_trip)
{
    char err[CH_ERR_LEN], out[9];
    size_t n = 0;
    unsigned char *b = ch_hex_decode("de ad BE ef", &n, err);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(n, 4);
    ch_hex_encode(b, n, out);
    ck_assert_str_eq(out, "deadbeef");
    free(b);
    ck_assert_ptr_null(ch_hex_decode("abc", &n, err));
    ck_assert_str_eq(err, "odd number of hex digits");
    ck_assert_ptr_null(ch_hex_decode("zz", &n, err));
}
END_TEST

START_TEST(digests)
{
    char hex[CH_SHA256_HEX_SIZE], b64[64];
    unsigned char sha1[20];
    ch_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* RFC 6455 §1.3: the sample key's accept value. */
    const char *k = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    ch_sha1(k, strlen(k), sha1);
    ch_base64(sha1, 20, b64);
    ck_assert_str_eq(b64, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

/* ch_path_within over a scratch tree: root/a.txt (3 bytes), root/d/ (a directory), root/up -> ../out.txt (a
 * symlink out), root/in -> a.txt (a symlink inside), and out.txt beside root. */
static char tree[64], root[96];

static void make_tree(void)
{
    char p[160];
    snprintf(tree, sizeof tree, "/tmp/check_util_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tree));
    snprintf(root, sizeof root, "%s/root", tree);
    ck_assert_int_eq(mkdir(root, 0700), 0);
    snprintf(p, sizeof p, "%s/d", root);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    const char *files[] = {"root/a.txt", "out.txt", "root/a..b"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", tree, files[i]);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs("abc", f);
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/up", root);
    ck_assert_int_eq(symlink("../out.txt", p), 0);
    snprintf(p, sizeof p, "%s/in", root);
    ck_assert_int_eq(symlink("a.txt", p), 0);
}

static const struct {
    const char *rel;
    enum ch_path_fault want;
} path_rows[] = {
    {"a.txt", CH_PATH_OK},         {"./a.txt", CH_PATH_OK},       {"in", CH_PATH_OK},
    {"a..b", CH_PATH_OK},          {"", CH_PATH_EMPTY},           {"/etc/passwd", CH_PATH_ABSOLUTE},
    {"..", CH_PATH_DOTDOT},        {"../out.txt", CH_PATH_DOTDOT}, {"d/../a.txt", CH_PATH_DOTDOT},
    {"d/..", CH_PATH_DOTDOT},      {"nope.txt", CH_PATH_MISSING}, {"d", CH_PATH_MISSING},
    {"up", CH_PATH_OUTSIDE},
};

START_TEST(path_within_table)
{
    char real[PATH_MAX];
    size_t size = 0;
    make_tree();
    const char *rel = path_rows[_i].rel;
    enum ch_path_fault f = ch_path_within(root, rel, strlen(rel), real, &size);
    ck_assert_msg(f == path_rows[_i].want, "'%s': fault %d, want %d", rel, (int)f, (int)path_rows[_i].want);
    if (f == CH_PATH_OK) {
        ck_assert_uint_eq(size, 3);
        ck_assert_ptr_nonnull(strstr(real, "/root/"));
    }
    ck_assert_int_eq(ch_path_within(root, "a.txt\0x", 7, NULL, NULL), CH_PATH_EMPTY); /* a NUL inside */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tree);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    return ch_check_main("util", 0,
                         CH_LOOPS(CH_LOOP(utf8_table, utf8_rows), CH_LOOP(path_within_table, path_rows)),
                         CH_TESTS(hex_round_trip, digests, utf8_at_every_offset));
}
