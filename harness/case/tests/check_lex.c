/* check_lex.c — table tests of harness/case/lex.c (cases/FORMAT.md §1). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/lex.h"
#include "core/core.h"
#include "testing/testing.h"

/* Durations: whole milliseconds, or the exact error. */
static const struct {
    const char *in;
    long ms;
    const char *err;
} durations[] = {
    {"300ms", 300, NULL},
    {"2s", 2000, NULL},
    {"1.5s", 1500, NULL},
    {"0ms", 0, NULL},
    {"0.001s", 1, NULL},
    {"86400s", 86400000, NULL},
    {"300", 0, "'300' is a number, not a duration (add ms or s)"},
    {"1.5ms", 0, "'1.5ms' is not a whole number of milliseconds"},
    {"1.0005s", 0, "'1.0005s' is not a whole number of milliseconds"},
    {"1.00001s", 0, "'1.00001s' is not a duration (write 300ms or 2s)"},
    {"86401s", 0, "'86401s' is too long (at most 24 hours)"},
    {"2m", 0, "'2m' is not a duration (units: ms, s)"},
    {"ms", 0, "'ms' is not a duration (write 300ms or 2s)"},
    {".5s", 0, "'.5s' is not a duration (write 300ms or 2s)"},
    {"1.s", 0, "'1.s' is not a duration (write 300ms or 2s)"},
    {"-1ms", 0, "'-1ms' is not a duration (write 300ms or 2s)"},
};

START_TEST(duration_table)
{
    char err[CH_ERR_LEN] = "";
    long ms = -1;
    int rc = ch_lex_duration(durations[_i].in, strlen(durations[_i].in), &ms, err);
    if (durations[_i].err) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, durations[_i].err);
    } else {
        ck_assert_msg(rc == 0, "%s: %s", durations[_i].in, err);
        ck_assert_int_eq(ms, durations[_i].ms);
    }
}
END_TEST

/* Strings: decoded bytes (len may count NULs), or the error and its byte offset. */
static const struct {
    const char *in, *out;
    size_t len;
    const char *err;
    size_t at;
} strings[] = {
    {"\"plain\"", "plain", 5, NULL, 0},
    {"\"\"", "", 0, NULL, 0},
    {"\"a\\\\b\\\"c\"", "a\\b\"c", 5, NULL, 0},
    {"\"\\n\\r\\t\\0\"", "\n\r\t\0", 4, NULL, 0},
    {"\"\\x41\\xff\"", "A\xff", 2, NULL, 0},
    {"\"\\u{41}\\u{e9}\\u{20AC}\\u{1F600}\"", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, NULL, 0},
    {"\"tail\" more", "tail", 4, NULL, 0},
    {"\"open", NULL, 0, "an unterminated string", 0},
    {"\"bad\\q\"", NULL, 0, "a bad escape '\\q'", 4},
    {"\"\\x4\"", NULL, 0, "a bad escape: \\x takes two hex digits", 1},
    {"\"\\u41\"", NULL, 0, "a bad escape '\\u' (write \\u{H..})", 1},
    {"\"\\u{}\"", NULL, 0, "a bad escape: \\u{...} takes 1 to 6 hex digits", 1},
    {"\"\\u{DFFF}\"", NULL, 0, "a bad escape: \\u{DFFF} is not a Unicode scalar value", 1},
    {"word", NULL, 0, "expected a string", 0},
};

START_TEST(string_table)
{
    char err[CH_ERR_LEN] = "", *out = NULL;
    size_t len = 0, at = 99;
    long used = ch_lex_string(strings[_i].in, strlen(strings[_i].in), &out, &len, &at, err);
    if (strings[_i].err) {
        ck_assert_int_eq(used, -1);
        ck_assert_str_eq(err, strings[_i].err);
        ck_assert_uint_eq(at, strings[_i].at);
    } else {
        ck_assert_msg(used > 0, "%s: %s", strings[_i].in, err);
        ck_assert_uint_eq(len, strings[_i].len);
        ck_assert_mem_eq(out, strings[_i].out, len);
        free(out);
    }
}
END_TEST

/* String expressions (FORMAT.md §1.4): the result's length, its first bytes and last byte, and the bytes taken;
 * or the error and its offset (used -2: over max). */
#define BIG 16777216L /* CH_LEX_MAX_STRING */
static const struct {
    const char *in;
    size_t max;
    const char *head; /* the result's first hlen bytes */
    size_t hlen, len;
    char last;
    long used; /* -1, -2: the error */
    const char *err;
    size_t at;
} exprs[] = {
    {"\"ab\"", BIG, "ab", 2, 2, 'b', 4, NULL, 0},
    {"\"a\"*3", BIG, "aaa", 3, 3, 'a', 5, NULL, 0},
    {"\"ab\"*2+\"c\"", BIG, "ababc", 5, 5, 'c', 10, NULL, 0},
    {"\"\\u{e9}\"*61+\"a\"", BIG, "\xc3\xa9\xc3\xa9", 4, 123, 'a', 15, NULL, 0},
    {"\"\\0\"*4", BIG, "\0\0\0\0", 4, 4, '\0', 6, NULL, 0},
    {"\"a\"*0", BIG, "", 0, 0, 0, 5, NULL, 0},
    {"\"\"*16777216", BIG, "", 0, 0, 0, 11, NULL, 0},
    {"\"a\"*16777216", BIG, "aaaa", 4, 16777216, 'a', 12, NULL, 0},
    {"\"xyz\"*5592405", BIG, "xyzxyz", 6, 16777215, 'z', 13, NULL, 0},
    {"\"a\"*3)", BIG, "aaa", 3, 3, 'a', 5, NULL, 0},            /* it ends before what cannot continue it */
    {"\"a\"*3,b=1", BIG, "aaa", 3, 3, 'a', 5, NULL, 0},
    {"\"a\" *3", BIG, "a", 1, 1, 'a', 3, NULL, 0},              /* no blanks: the expression is "a" */
    {"\"a\"+\"b\"*2+\"c\"", BIG, "abbc", 4, 4, 'c', 13, NULL, 0},
    {"\"ab\"*5", 10, "ababababab", 10, 10, 'b', 6, NULL, 0},    /* exactly max */
    {"\"ab\"*6", 10, NULL, 0, 0, 0, -2, "the string would hold more than 10 bytes (write a shorter count)", 4},
    {"\"a\"+\"bc\"*9", 10, NULL, 0, 0, 0, -2, "the string would hold more than 10 bytes (write a shorter count)", 8},
    {"\"ab\"*8388609", BIG, NULL, 0, 0, 0, -2, "the string would hold more than 16777216 bytes (write a shorter count)", 4},
    {"\"a\"*16777217", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*99999999999999999999", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*012", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*-1", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*x", BIG, NULL, 0, 0, 0, -1, "a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)", 4},
    {"\"a\"*2*3", BIG, NULL, 0, 0, 0, -1, "a second '*' (one count per string: \"ab\"*6, not \"ab\"*2*3)", 5},
    {"\"a\"+b", BIG, NULL, 0, 0, 0, -1, "a string after '+' (write \"a\"+\"b\", without blanks)", 4},
    {"\"a\"+", BIG, NULL, 0, 0, 0, -1, "a string after '+' (write \"a\"+\"b\", without blanks)", 4},
    {"\"a\"+\"b", BIG, NULL, 0, 0, 0, -1, "an unterminated string", 4},
    {"\"a\"*2+\"\\q\"", BIG, NULL, 0, 0, 0, -1, "a bad escape '\\q'", 7},
    {"a*3", BIG, NULL, 0, 0, 0, -1, "expected a string", 0},
};

START_TEST(strexpr_table)
{
    char err[CH_ERR_LEN] = "", *out = NULL;
    size_t len = 0, at = 99;
    const char *in = exprs[_i].in;
    long used = ch_lex_strexpr(in, strlen(in), exprs[_i].max, &out, &len, &at, err);
    ck_assert_msg(used == exprs[_i].used, "row %d: used %ld (%s)", _i, used, err);
    if (used < 0) {
        ck_assert_str_eq(err, exprs[_i].err);
        ck_assert_uint_eq(at, exprs[_i].at);
        ck_assert_ptr_null(out);
        return;
    }
    ck_assert_uint_eq(len, exprs[_i].len);
    ck_assert_mem_eq(out, exprs[_i].head, exprs[_i].hlen);
    if (len > 0) ck_assert_int_eq(out[len - 1], exprs[_i].last);
    ck_assert_int_eq(out[len], '\0');
    free(out);
}
END_TEST

/* Which words are meant as string expressions (and so decoded, errors and all), which are plain text. */
static const struct {
    const char *in;
    int is;
} meant[] = {
    {"\"a\"", 1}, {"\"a\"*3", 1}, {"\"a\"*", 1}, {"\"a\"+b", 1}, {"\"a\\\"\"", 1},
    {"\"a\"b", 0}, {"\"a", 0}, {"a\"b\"", 0}, {"", 0}, {"\"", 0}, {"<<END(lf)", 0},
};

START_TEST(is_strexpr_table)
{
    ck_assert_msg(ch_lex_is_strexpr(meant[_i].in, strlen(meant[_i].in)) == meant[_i].is, "row %d", _i);
}
END_TEST

/* Block openers (FORMAT.md §1.5): the tag, line end and chomp, the bytes taken; or the error and its offset. */
static const struct {
    const char *in, *tag;
    enum ch_eol eol;
    int chomp;
    long used;
    const char *err;
    size_t at;
} openers[] = {
    {"<<END(crlf)", "END", CH_EOL_CRLF, 0, 11, NULL, 0},
    {"<<HTTP_1(lf)", "HTTP_1", CH_EOL_LF, 0, 12, NULL, 0},
    {"<<B(cr)", "B", CH_EOL_CR, 0, 7, NULL, 0},
    {"<<B(lf, chomp) x", "B", CH_EOL_LF, 1, 14, NULL, 0},
    {"<<B( chomp ,crlf )", "B", CH_EOL_CRLF, 1, 18, NULL, 0},
    {"<<B(lf))", "B", CH_EOL_LF, 0, 7, NULL, 0},
    {"<<END", "END", 0, 0, -1, "a block names its line end: write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end", 5},
    {"<<End(lf)", "E", 0, 0, -1, "a bad character in a block tag (write [A-Z][A-Z0-9_]*, then the options)", 3},
    {"<<END lf", "END", 0, 0, -1, "a block names its line end: write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end", 5},
    {"<<END(chomp)", "END", 0, 0, -1, "a block names its line end: write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end", 5},
    {"<<END()", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 6},
    {"<<END(lf,lf)", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 9},
    {"<<END(lf,crlf)", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 9},
    {"<<END(LF)", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 6},
    {"<<END(lf", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 6},
    {"<<END(lf chomp)", "END", 0, 0, -1, "a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)", 6},
    {"<<ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456(lf)", "", 0, 0, -1, "a block tag longer than 32 characters", 2},
};

START_TEST(opener_table)
{
    char err[CH_ERR_LEN] = "";
    struct ch_block_opener o;
    size_t at = 99;
    const char *in = openers[_i].in;
    ck_assert(ch_lex_is_opener(in, strlen(in)));
    long used = ch_lex_block_opener(in, strlen(in), &o, &at, err);
    ck_assert_msg(used == openers[_i].used, "row %d: used %ld (%s)", _i, used, err);
    if (used < 0) {
        ck_assert_str_eq(err, openers[_i].err);
        ck_assert_uint_eq(at, openers[_i].at);
        if (*openers[_i].tag) ck_assert_str_eq(o.tag, openers[_i].tag); /* kept, to find the block's end */
        return;
    }
    ck_assert_str_eq(o.tag, openers[_i].tag);
    ck_assert_int_eq(o.eol, openers[_i].eol);
    ck_assert_int_eq(o.chomp, openers[_i].chomp);
}
END_TEST

/* Where a line's block opener is: outside strings, at a word's start or after '=' or '('. */
static const struct {
    const char *in;
    long at; /* -1: none */
} finds[] = {
    {"send <<END(crlf)", 5},
    {"  at body text=<<B(lf)", 15},
    {"  never message(<<B(lf))", 16},
    {"<<A(lf)", 0},
    {"body \"<<END(lf)\" <<B(lf)", 17},
    {"header X: a<<B(lf)", -1},
    {"send <<end(lf)", -1},
    {"send << END", -1},
    {"send \"open <<A(lf)", -1},
    {"", -1},
};

START_TEST(find_opener_table)
{
    const char *in = finds[_i].in;
    size_t n = strlen(in), at = ch_lex_find_opener(in, n);
    ck_assert_msg(finds[_i].at < 0 ? at == n : at == (size_t)finds[_i].at, "row %d: at %zu", _i, at);
}
END_TEST

/* A block's end (the first later line holding its tag alone) and the check of its lines. */
START_TEST(block_end_and_lines)
{
    const char *text = "  send <<END(lf)\n    a\n\n      b\n  c\n    END x\n   END  \nEND\n";
    size_t n = 0, at = 0;
    char err[CH_ERR_LEN];
    struct ch_line *l = ch_lex_lines(text, strlen(text), &n);
    ck_assert_uint_eq(ch_lex_block_end(l, n, 0, "END"), 6);      /* "   END  ": blanks around it allowed */
    ck_assert_uint_eq(ch_lex_block_end(l, n, 6, "END"), 7);
    ck_assert_uint_eq(ch_lex_block_end(l, n, 7, "END"), n);      /* none after the last line */
    ck_assert_uint_eq(ch_lex_block_end(l, n, 0, "EN"), n);
    ck_assert_int_eq(ch_lex_check_block_line(&l[1], 3, &at, err), 0);
    ck_assert_int_eq(ch_lex_check_block_line(&l[2], 3, &at, err), 0); /* an empty line needs no indentation */
    ck_assert_int_eq(ch_lex_check_block_line(&l[4], 3, &at, err), -1);
    ck_assert_str_eq(err, "a block line indented less than the line that closes the block (3 spaces)");
    ck_assert_uint_eq(at, 2);
    struct ch_line tab = {.no = 1, .text = "   \tx", .len = 5, .indent = 3};
    ck_assert_int_eq(ch_lex_check_block_line(&tab, 3, &at, err), 0);  /* a tab past the indentation is text */
    struct ch_line bad = {.no = 1, .text = "   a\xff", .len = 5, .indent = 3};
    ck_assert_int_eq(ch_lex_check_block_line(&bad, 3, &at, err), -1);
    ck_assert_str_eq(err, "the line is not UTF-8 text");
    ck_assert_uint_eq(at, 4);
    struct ch_line nul = {.no = 1, .text = "a\0b", .len = 3};
    ck_assert_int_eq(ch_lex_check_block_line(&nul, 0, &at, err), -1);
    ck_assert_str_eq(err, "a NUL byte in the line");
    free(l);
}
END_TEST

/* Words: the words joined by '|', or the error and its offset. */
static const struct {
    const char *in, *words, *err;
    size_t at;
} words[] = {
    {"a  b\tc", "a|b|c", NULL, 0},
    {"  lead trail  ", "lead|trail", NULL, 0},
    {"x=\"a b\" y", "x=\"a b\"|y", NULL, 0},
    {"progress(loaded=12, total=12) load", "progress(loaded=12, total=12)|load", NULL, 0},
    {"request(GET /a#2) (a (b c))+ d", "request(GET /a#2)|(a (b c))+|d", NULL, 0},
    {"message(\") (\") x", "message(\") (\")|x", NULL, 0},
    {"a) b", "a)|b", NULL, 0},
    {"", "", NULL, 0},
    {"ok \"open", NULL, "an unterminated string", 3},
    {"ok f(a (b)", NULL, "an unbalanced '(' (no matching ')')", 4},
};

START_TEST(words_table)
{
    char err[CH_ERR_LEN] = "", joined[256] = "";
    struct ch_tok *tok = NULL;
    size_t n = 0, at = 99;
    const char *in = words[_i].in;
    int rc = ch_lex_words(in, strlen(in), &tok, &n, &at, err);
    if (words[_i].err) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, words[_i].err);
        ck_assert_uint_eq(at, words[_i].at);
        return;
    }
    ck_assert_int_eq(rc, 0);
    for (size_t i = 0; i < n; i++)
        snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%.*s", i ? "|" : "", (int)tok[i].len, in + tok[i].off);
    ck_assert_str_eq(joined, words[_i].words);
    free(tok);
}
END_TEST

/* Integers: 0 / -1 (not one) / -2 (out of range). */
static const struct {
    const char *in;
    long min, max, v;
    int rc;
} ints[] = {
    {"0", 0, 999, 0, 0},   {"999", 0, 999, 999, 0}, {"1000", 0, 999, 0, -2}, {"0200", 0, 999, 0, -1},
    {"-5", -10, 10, -5, 0}, {"-5", 0, 10, 0, -1},    {"+5", 0, 10, 0, -1},     {"5x", 0, 10, 0, -1},
    {"", 0, 10, 0, -1},     {"1234567890123456789012", 0, 10, 0, -2},
};

START_TEST(int_table)
{
    long v = 12345;
    int rc = ch_lex_int(ints[_i].in, strlen(ints[_i].in), ints[_i].min, ints[_i].max, &v);
    ck_assert_int_eq(rc, ints[_i].rc);
    if (rc == 0) ck_assert_int_eq(v, ints[_i].v);
}
END_TEST

/* Hex: blanks ignored; the offset of a bad digit, or of the odd one. */
static const struct {
    const char *in, *out, *err;
    size_t len, at;
} hexes[] = {
    {"48 65 6C", "He\x6c", NULL, 3, 0},
    {"00ff\t0A", "\x00\xff\x0a", NULL, 3, 0},
    {"", "", NULL, 0, 0},
    {"4g", NULL, "'g' is not a hex digit", 0, 1},
    {"48 6", NULL, "an odd number of hex digits", 0, 3},
};

START_TEST(hex_table)
{
    char err[CH_ERR_LEN] = "";
    unsigned char *out = NULL;
    size_t len = 0, at = 99;
    int rc = ch_lex_hex(hexes[_i].in, strlen(hexes[_i].in), &out, &len, &at, err);
    if (hexes[_i].err) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, hexes[_i].err);
        ck_assert_uint_eq(at, hexes[_i].at);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(len, hexes[_i].len);
    ck_assert_mem_eq(out, hexes[_i].out, len);
    free(out);
}
END_TEST

START_TEST(lines_and_checks)
{
    const char *text = "a\r\n  b  \n\n  # c\n\td\ne\xff\nlast";
    size_t n = 0, at = 0;
    char err[CH_ERR_LEN];
    struct ch_line *l = ch_lex_lines(text, strlen(text), &n);
    ck_assert_uint_eq(n, 7);
    ck_assert_int_eq(l[0].len, 1);
    ck_assert_int_eq(l[1].indent, 2);
    ck_assert_int_eq(l[1].len, 3);
    ck_assert_int_eq(l[2].content, 0);
    ck_assert_int_eq(l[3].content, 0);
    ck_assert_int_eq(l[6].no, 7);
    ck_assert_int_eq(ch_lex_check_line(&l[1], &at, err), 0);
    ck_assert_int_eq(ch_lex_check_line(&l[4], &at, err), -1);
    ck_assert_str_eq(err, "a tab in the indentation (indent with spaces)");
    ck_assert_int_eq(ch_lex_check_line(&l[5], &at, err), -1);
    ck_assert_uint_eq(at, 1);
    ck_assert_str_eq(err, "the line is not UTF-8 text");
    struct ch_line nul = {.no = 1, .text = "a\0b", .len = 3};
    ck_assert_int_eq(ch_lex_check_line(&nul, &at, err), -1);
    ck_assert_str_eq(err, "a NUL byte in the line");
    ck_assert_int_eq(ch_lex_col("\xc3\xa9t\xc3\xa9 x", 7, 6), 5); /* columns count code points */
    free(l);
}
END_TEST

START_TEST(is_string)
{
    ck_assert_int_eq(ch_lex_is_string("\"a b\"", 5), 1);
    ck_assert_int_eq(ch_lex_is_string("\"a\\\"\"", 5), 1);
    ck_assert_int_eq(ch_lex_is_string("\"a\"b", 4), 0);
    ck_assert_int_eq(ch_lex_is_string("\"", 1), 0);
    ck_assert_int_eq(ch_lex_is_string("ab", 2), 0);
}
END_TEST

int main(void)
{
    return ch_check_main("lex", 0,
                         CH_LOOPS(CH_LOOP(duration_table, durations), CH_LOOP(string_table, strings),
                                  CH_LOOP(words_table, words), CH_LOOP(int_table, ints), CH_LOOP(hex_table, hexes),
                                  CH_LOOP(strexpr_table, exprs), CH_LOOP(is_strexpr_table, meant),
                                  CH_LOOP(opener_table, openers), CH_LOOP(find_opener_table, finds)),
                         CH_TESTS(lines_and_checks, is_string, block_end_and_lines));
}
