/* json_fragment.h — for the parser's table tests: compare the case JSON a parse produced with an expected
 * fragment. Header-only, test code. */
#ifndef CH_TESTS_JSON_FRAGMENT_H
#define CH_TESTS_JSON_FRAGMENT_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
