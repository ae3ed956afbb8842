/* testing.h — what the Check tests share (header-only, test code): running one suite, JSON written with ' for
 * ", and comparing produced JSON with an expected fragment. */
#ifndef CH_TESTING_H
#define CH_TESTING_H

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- running a suite ------------------------------------------------------------------------------------- */

#define CH_NROWS(rows) (sizeof(rows) / sizeof(rows)[0])

struct ch_check_loop {
    const TTest *test; /* a START_TEST whose body reads its row as _i */
    int rows;
};

#define CH_LOOP(test, rows) {(test), (int)CH_NROWS(rows)}
#define CH_LOOPS(...) ((const struct ch_check_loop[]){__VA_ARGS__, {NULL, 0}})
#define CH_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* A test program's main(): the suite `name` with one test case (a timeout in seconds, 0: Check's default)
 * holding the table tests `loops` (CH_LOOPS(CH_LOOP(test, rows), ...), or NULL) and the tests `tests`
 * (CH_TESTS(...), or NULL), run forking (a crash is one failed test). Returns the exit status. */
static inline int ch_check_main(const char *name, int timeout, const struct ch_check_loop *loops,
                                const TTest *const *tests)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create(name);
    if (timeout) tcase_set_timeout(tc, timeout);
    for (; loops && loops->test; loops++) tcase_add_loop_test(tc, loops->test, 0, loops->rows);
    for (; tests && *tests; tests++) tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- JSON ------------------------------------------------------------------------------------------------- */

/* Parses test JSON written with ' for " (any value; U+0000 allowed); a bad text fails the test. */
static inline json_t *J(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t e;
    json_t *j = json_loads(d, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    ck_assert_msg(j != NULL, "bad test JSON: %s at %d: %.200s", e.text, e.position, s);
    free(d);
    return j;
}

/* Walks a dotted path ("server.0.steps.1"; "" is the whole value). NULL when a step is missing. */
static inline json_t *walk(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && v; part = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(part, NULL, 10)) : json_object_get(v, part);
    return v;
}

/* Whether `want` is a subset of `got`: objects key by key, arrays element by element — of the same length
 * when `same_length`, else `got` may hold more elements after those `want` names. */
static inline int json_fragment_of(const json_t *want, const json_t *got, int same_length)
{
    if (json_is_object(want)) {
        const char *k;
        json_t *v;
        if (!json_is_object(got)) return 0;
        json_object_foreach((json_t *)want, k, v)
            if (!json_fragment_of(v, json_object_get(got, k), same_length)) return 0;
        return 1;
    }
    if (json_is_array(want)) {
        if (!json_is_array(got) || json_array_size(got) < json_array_size(want)) return 0;
        if (same_length && json_array_size(got) != json_array_size(want)) return 0;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!json_fragment_of(json_array_get(want, i), json_array_get(got, i), same_length)) return 0;
        return 1;
    }
    return json_equal(want, got);
}

/* The parser tables' comparison: arrays of the same length. */
static inline int subset(const json_t *want, const json_t *got) { return json_fragment_of(want, got, 1); }

/* The CORS tables' comparison: generated lists may go on past what a row names. */
static inline int subset_prefix(const json_t *want, const json_t *got) { return json_fragment_of(want, got, 0); }

#endif
