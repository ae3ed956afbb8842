/* check_matrix.c — table tests of harness/case/matrix.c (cases/FORMAT.md §3). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/matrix.h"
#include "core/core.h"
#include "testing/testing.h"

/* Adds one `axis ...` or `exclude ...` line; returns the error text ("" when none). */
static const char *add_line(struct ch_matrix *m, const char *line, char err[CH_ERR_LEN], size_t *at)
{
    struct ch_tok *tok;
    size_t n;
    err[0] = '\0';
    ck_assert_int_eq(ch_lex_words(line, strlen(line), &tok, &n, at, err), 0);
    int rc = strncmp(line, "axis", 4) == 0 ? ch_matrix_axis(m, line, tok, n, at, err) : ch_matrix_exclude(m, line, tok, n, at, err);
    free(tok);
    return rc == 0 ? "" : err;
}

/* The matrix the tables use: method GET POST PUT × ct none plain="text/plain" q="a\"b", 9 cells, and (with
 * the exclude) PUT+plain removed. */
static void sample_axes(struct ch_matrix *m)
{
    char err[CH_ERR_LEN];
    size_t at;
    memset(m, 0, sizeof *m);
    ck_assert_str_eq(add_line(m, "axis method GET POST PUT", err, &at), "");
    ck_assert_str_eq(add_line(m, "axis ct none plain=\"text/plain\" q=\"a\\\"b\"", err, &at), "");
}

static void sample(struct ch_matrix *m)
{
    char err[CH_ERR_LEN];
    size_t at;
    sample_axes(m);
    ck_assert_str_eq(add_line(m, "exclude method=put ct=plain", err, &at), "");
}

/* Bad axis and exclude lines, after the sample's axes: the error and its offset. */
static const struct {
    const char *line, *err;
    size_t at;
} bad_lines[] = {
    {"axis", "'axis' takes a name and at least one value", 0},
    {"axis 9x a", "a bad axis name (write [A-Za-z_][A-Za-z0-9_]*)", 5},
    {"axis method a", "a second axis named 'method'", 5},
    {"axis x", "axis 'x' has no values", 5},
    {"axis x a A", "a duplicate label 'A' in axis 'x'", 9},
    {"axis x a=b", "a bad axis value: after '=' comes a string", 9},
    {"axis x a=\"\\0\"", "an axis value cannot hold a NUL byte (write \\0 inside the string that uses it)", 9},
    {"axis x .a", "a bad axis value (write label or label=\"text\"; labels are [a-z0-9][a-z0-9._]*)", 7},
    {"exclude", "'exclude' takes NAME=label pairs", 0},
    {"exclude nope=a", "unknown axis 'nope'", 8},
    {"exclude ct=zz", "axis 'ct' has no label 'zz'", 11},
    {"exclude ct=none ct=plain", "axis 'ct' named twice in one exclude", 16},
    {"exclude ct=none\naxis late a", "an axis after an 'exclude' line (declare every axis first)", 5},
};

START_TEST(bad_line_table)
{
    struct ch_matrix m;
    char err[CH_ERR_LEN];
    size_t at = 99;
    const char *nl = strchr(bad_lines[_i].line, '\n');
    sample_axes(&m);
    if (nl) { /* a first line that must pass */
        char first[64];
        snprintf(first, sizeof first, "%.*s", (int)(nl - bad_lines[_i].line), bad_lines[_i].line);
        ck_assert_str_eq(add_line(&m, first, err, &at), "");
    }
    ck_assert_str_eq(add_line(&m, nl ? nl + 1 : bad_lines[_i].line, err, &at), bad_lines[_i].err);
    ck_assert_uint_eq(at, bad_lines[_i].at);
    ch_matrix_free(&m);
}
END_TEST

START_TEST(cells)
{
    struct ch_matrix m;
    int sel[CH_MATRIX_MAX_AXES];
    char id[CH_MATRIX_ID_LEN];
    sample(&m);
    ck_assert_uint_eq(ch_matrix_ncells(&m), 9);
    ck_assert_int_eq(ch_matrix_cell(&m, 0, sel), 0);
    ch_matrix_cell_id(&m, sel, id);
    ck_assert_str_eq(id, "get-none");
    ck_assert_int_eq(ch_matrix_cell(&m, 4, sel), 0);
    ch_matrix_cell_id(&m, sel, id);
    ck_assert_str_eq(id, "post-plain");
    ck_assert_int_eq(ch_matrix_cell(&m, 7, sel), 1); /* put-plain is excluded */
    ch_matrix_free(&m);
}
END_TEST

/* Guards and substitution for the cell POST / plain. */
static const struct {
    const char *in, *out, *err;
    int holds;
    size_t consumed, at;
} guards[] = {
    {"status 200", "", NULL, 1, 0, 0},
    {"[method=POST] x", "", NULL, 1, 14, 0},
    {"[method=get,post][ct!=none]  x", "", NULL, 1, 29, 0},
    {"[method!=POST] x", "", NULL, 0, 15, 0},
    {"[ct=none] x", "", NULL, 0, 10, 0},
    {"[nope=a] x", NULL, "unknown axis 'nope' in a guard", 0, 0, 1},
    {"[ct=zz] x", NULL, "axis 'ct' has no label 'zz'", 0, 0, 4},
    {"[ct=none x", NULL, "a bad guard: ',' or ']' expected", 0, 0, 8},
    {"[ct~none] x", NULL, "a bad guard: '=' or '!=' after the axis name", 0, 0, 3},
    {"[] x", NULL, "a bad guard (write [NAME=label,...] or [NAME!=label,...])", 0, 0, 1},
};

START_TEST(guard_table)
{
    struct ch_matrix m;
    int sel[CH_MATRIX_MAX_AXES], holds = -1;
    char err[CH_ERR_LEN] = "";
    size_t consumed = 99, at = 99;
    sample(&m);
    ch_matrix_cell(&m, 4, sel);
    int rc = ch_matrix_guards(&m, sel, guards[_i].in, strlen(guards[_i].in), &consumed, &holds, &at, err);
    if (guards[_i].err) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, guards[_i].err);
        ck_assert_uint_eq(at, guards[_i].at);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(holds, guards[_i].holds);
        ck_assert_uint_eq(consumed, guards[_i].consumed);
    }
    ch_matrix_free(&m);
}
END_TEST

static const struct {
    const char *in, *out, *err;
    size_t at;
} substs[] = {
    {"open $method {A}/x", "open POST {A}/x", NULL, 0},
    {"ct=${ct}; $$5", "ct=text/plain; $5", NULL, 0},
    {"no dollars", "no dollars", NULL, 0},
    {"a $nope b", NULL, "unknown axis '$nope'", 2},
    {"costs $5", NULL, "a lone '$' (write '$$' for a literal '$')", 6},
    {"x ${ct", NULL, "a bad ${NAME} reference", 2},
};

START_TEST(subst_table)
{
    struct ch_matrix m;
    int sel[CH_MATRIX_MAX_AXES];
    char err[CH_ERR_LEN] = "", *out = NULL;
    size_t len = 0, *map = NULL, at = 99;
    sample(&m);
    ch_matrix_cell(&m, 4, sel);
    int rc = ch_matrix_subst(&m, sel, substs[_i].in, strlen(substs[_i].in), &out, &len, &map, &at, err);
    if (substs[_i].err) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(err, substs[_i].err);
        ck_assert_uint_eq(at, substs[_i].at);
    } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_str_eq(out, substs[_i].out);
        ck_assert_uint_eq(map[len], strlen(substs[_i].in));
        free(out);
        free(map);
    }
    ch_matrix_free(&m);
}
END_TEST

/* The offset map points every substituted byte at its `$`, and the rest at itself. */
START_TEST(subst_map)
{
    struct ch_matrix m;
    int sel[CH_MATRIX_MAX_AXES];
    char err[CH_ERR_LEN], *out;
    size_t len, *map, at;
    sample(&m);
    ch_matrix_cell(&m, 4, sel);
    ck_assert_int_eq(ch_matrix_subst(&m, sel, "a $ct z", 7, &out, &len, &map, &at, err), 0);
    ck_assert_str_eq(out, "a text/plain z");
    ck_assert_uint_eq(map[1], 1);
    ck_assert_uint_eq(map[2], 2);
    ck_assert_uint_eq(map[11], 2);
    ck_assert_uint_eq(map[12], 5);
    ck_assert_uint_eq(map[13], 6);
    free(out);
    free(map);
    ch_matrix_free(&m);
}
END_TEST

/* Without axes: one cell, text unchanged, and a guard is an error. */
START_TEST(no_matrix)
{
    struct ch_matrix m = {0};
    int sel[CH_MATRIX_MAX_AXES] = {0}, holds;
    char err[CH_ERR_LEN], *out;
    size_t len, *map, at, used;
    ck_assert_uint_eq(ch_matrix_ncells(&m), 1);
    ck_assert_int_eq(ch_matrix_cell(&m, 0, sel), 0);
    ck_assert_int_eq(ch_matrix_subst(&m, sel, "$x", 2, &out, &len, &map, &at, err), 0);
    ck_assert_str_eq(out, "$x");
    free(out);
    free(map);
    ck_assert_int_eq(ch_matrix_guards(&m, sel, "[a=b] x", 7, &used, &holds, &at, err), -1);
    ck_assert_str_eq(err, "a guard, but the file declares no matrix");
}
END_TEST

START_TEST(too_many_cells)
{
    struct ch_matrix m = {0};
    char err[CH_ERR_LEN];
    size_t at;
    const char *line = "axis a v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13 v14 v15";
    char name[64];
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s", line);
        name[5] = (char)('a' + i);
        ck_assert_str_eq(add_line(&m, name, err, &at), "");
    }
    snprintf(name, sizeof name, "%s", line);
    name[5] = 'z';
    ck_assert_str_eq(add_line(&m, name, err, &at), "the matrix has more than 4096 cells");
    ch_matrix_free(&m);
}
END_TEST

int main(void)
{
    return ch_check_main("matrix", 0,
                         CH_LOOPS(CH_LOOP(bad_line_table, bad_lines), CH_LOOP(guard_table, guards),
                                  CH_LOOP(subst_table, substs)),
                         CH_TESTS(cells, subst_map, no_matrix, too_many_cells));
}
