/* check_tmpl.c — unit tests of harness/core/tmpl.c: filling and checking placeholders (cases/FORMAT.md §1). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "testing/testing.h"

static json_t *vars(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "A", "http://localhost:1/c/t1", "origin-B", "http://localhost:2",
                     "token", "t1", "req:origin", "http://o", "body-length", "12");
}

static const struct {
    const char *in, *out; /* out NULL: an error */
    double scale;
} fill_rows[] = {
    {"plain", "plain", 1},
    {"{A}/x", "http://localhost:1/c/t1/x", 1},
    {"[{origin-B}]", "[http://localhost:2]", 1},
    {"{token}{token}", "t1t1", 1},
    {"{{literal}}", "{literal}", 1},
    {"{req:Origin}", "http://o", 1},          /* header names are case-insensitive */
    {"{req:X-Absent}", "", 1},                /* an absent request header fills as "" */
    {"retry: {ms:250}", "retry: 500", 2},     /* {ms:N} is scaled */
    {"retry: {ms:3}", "retry: 5", 1.5},       /* rounded: 4.5 -> 5 */
    {"{body-length}", "12", 1},
    {"{nope}", NULL, 1},
    {"{A", NULL, 1},
    {"{ms:x}", NULL, 1},
    /* Long literal runs between braces, and braces in a row (the walk jumps from brace to brace). */
    {"0123456789 {{x}} 0123456789abcdef {token} }} end", "0123456789 {x} 0123456789abcdef t1 } end", 1},
    {"}}}}{{{{{A}", "}}{{http://localhost:1/c/t1", 1},
    {"{token}}}x{{{token}", "t1}x{t1", 1},
};

START_TEST(fill_table)
{
    char err[CH_ERR_LEN];
    size_t n;
    json_t *v = vars();
    char *out = ch_tmpl_fill(fill_rows[_i].in, strlen(fill_rows[_i].in), v, fill_rows[_i].scale, &n, err);
    if (fill_rows[_i].out) {
        ck_assert_msg(out != NULL, "%s: %s", fill_rows[_i].in, err);
        ck_assert_str_eq(out, fill_rows[_i].out);
        ck_assert_uint_eq(n, strlen(fill_rows[_i].out));
    } else {
        ck_assert_ptr_null(out);
    }
    free(out);
    json_decref(v);
}
END_TEST

static const struct {
    const char *in, *context;
    int ok;
} check_rows[] = {
    {"{A}{B}{C}{origin-C}{host-A}{token}{case}", "client", 1},
    {"{req:Origin}", "server", 1},
    {"{req:Origin}", "client", 0},            /* request headers exist only server-side */
    {"{body-length}", "server", 1},
    {"{body-length}", "expect", 0},
    {"{ms:10}", "client", 1},
    {"{E}", "server", 0},
    {"{D}", "server", 1},
    {"{origin-E}", "server", 0},
    {"{origin-D}", "server", 1},
    {"{SA}", "client", 1},
    {"{host-SF-expired}", "client", 1},
    {"ws://LOCALHOST:{port-A}/x {port-SF-tls12}", "client", 1},
    {"{SF-nope}", "client", 0},
    {"{SF-}", "client", 0},
    {"{origin-host-A}", "client", 0},
    {"}", "server", 0},
    {"}}{{", "server", 1},
    {"{}", "server", 0},
};

START_TEST(check_table)
{
    char err[CH_ERR_LEN];
    size_t off = 0;
    int rc = ch_tmpl_check(check_rows[_i].in, strlen(check_rows[_i].in), check_rows[_i].context, &off, err);
    ck_assert_msg((rc == 0) == check_rows[_i].ok, "%s in %s: rc %d (%s)", check_rows[_i].in, check_rows[_i].context,
                  rc, rc ? err : "");
}
END_TEST

/* Where the check points: the offending brace's offset, after long literal runs and escaped braces. */
START_TEST(check_reports_the_offending_offset)
{
    static const struct {
        const char *in;
        size_t at;
    } rows[] = {
        {"a run of plain text, then a lone } brace", 33},
        {"}}}}{{ and then {nope} here", 16},
        {"{token}{{ and {A} and {unterminated", 22},
        {"{{}}{{}}}", 8},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[CH_ERR_LEN];
        size_t off = 0;
        ck_assert_int_ne(ch_tmpl_check(rows[i].in, strlen(rows[i].in), "server", &off, err), 0);
        ck_assert_msg(off == rows[i].at, "%s: offset %zu, want %zu", rows[i].in, off, rows[i].at);
    }
}
END_TEST

START_TEST(fill_json_walks_everything)
{
    char err[CH_ERR_LEN];
    json_t *v = vars();
    json_t *in = json_pack("{s:s, s:[s, i], s:{s:s}}", "url", "{A}/x", "list", "{token}", 3, "o", "k", "{{}}");
    json_t *out = ch_tmpl_fill_json(in, v, 1.0, err);
    ck_assert_str_eq(json_string_value(json_object_get(out, "url")), "http://localhost:1/c/t1/x");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "list"), 0)), "t1");
    ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(out, "list"), 1)), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "o"), "k")), "{}");
    json_decref(out);
    json_decref(in);
    json_decref(v);
}
END_TEST

/* What placeholders name: TLS origins and fault listeners set CH_USES_TLS, D CH_USES_D, a fault its own bit;
 * escaped braces and unknown names count for nothing. */
START_TEST(uses_table)
{
    static const struct {
        const char *in;
        unsigned want;
    } rows[] = {
        {"{A}{origin-B}{host-C}{token}", 0},
        {"{SA}/x", CH_USES_TLS},
        {"wss://{host-SC}/w", CH_USES_TLS},
        {"{origin-D}", CH_USES_D},
        {"{SF-expired} {host-SF-refuse-rst}", CH_USES_TLS | 1u << (CH_USES_FAULT + CH_FAULT_EXPIRED) |
                                                  1u << (CH_USES_FAULT + CH_FAULT_REFUSE_RST)},
        {"{{SA}} {SF-nope} {SA", 0},
        {"a longer literal run {{SA}} then {origin-D}, }} and {SC}", CH_USES_D | CH_USES_TLS},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_msg(ch_tmpl_uses(rows[i].in, strlen(rows[i].in)) == rows[i].want, "%s: %x", rows[i].in,
                      ch_tmpl_uses(rows[i].in, strlen(rows[i].in)));
    ck_assert_str_eq(ch_origin_name(CH_ORIGIN_SB), "SB");
    ck_assert_ptr_null(ch_origin_name(CH_ORIGINS));
    ck_assert_int_eq(ch_origin_by_name("D", 1), CH_ORIGIN_D);
    ck_assert_int_eq(ch_origin_by_name("SAX", 3), -1);
    ck_assert_int_eq(ch_origin_tls(CH_ORIGIN_SC), 1);
    ck_assert_int_eq(ch_origin_tls(CH_ORIGIN_D), 0);
    ck_assert_int_eq(ch_fault_by_name("tls12", 5), CH_FAULT_TLS12);
}
END_TEST

int main(void)
{
    return ch_check_main("tmpl", 0,
                         CH_LOOPS(CH_LOOP(fill_table, fill_rows), CH_LOOP(check_table, check_rows)),
                         CH_TESTS(fill_json_walks_everything, uses_table, check_reports_the_offending_offset));
}
