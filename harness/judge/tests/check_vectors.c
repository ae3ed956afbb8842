/* check_vectors.c — the judge's event-atom matching (pattern.c ch_atom_match) against the shared vectors of
 * tests/vectors/atoms.json, which fixtures/client.js (fixtures/node/test/vectors.test.js) and the Python
 * interpreter (tests/self/test_vectors.py) must match alike. Runs from the repository's root. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>

#include "judge/pattern.h"
#include "testing/testing.h"

#define VECTORS "tests/vectors/atoms.json"

START_TEST(atoms_match_as_the_vectors_say)
{
    json_error_t jerr;
    json_t *doc = json_load_file(VECTORS, 0, &jerr);
    ck_assert_msg(doc != NULL, "%s: %s (run from the repository's root)", VECTORS, jerr.text);
    json_t *vectors = json_object_get(doc, "vectors"), *v;
    size_t i;
    ck_assert_int_ge(json_array_size(vectors), 20);
    json_array_foreach(vectors, i, v) {
        const json_t *atom = json_object_get(v, "atom"), *event = json_object_get(v, "event");
        char err[256];
        ck_assert_msg(ch_atom_check(atom, err) == 0, "vector %zu: %s", i, err);
        int want = json_is_true(json_object_get(v, "match"));
        ck_assert_msg(ch_atom_match(atom, event) == want, "vector %zu (%s): want %s", i,
                      json_string_value(json_object_get(v, "why")), want ? "a match" : "no match");
    }
    json_decref(doc);
}
END_TEST

int main(void)
{
    return ch_check_main("vectors", 0, NULL, CH_TESTS(atoms_match_as_the_vectors_say));
}
