/* check_vocab.c — the one vocabulary (harness/case/vocab.c, ch_vocabulary): its JSON holds what the parser uses,
 * and the capability vectors of tests/vectors/capabilities.json (shared with fixtures/node/test/vectors.test.js and
 * tests/self/test_vectors.py) are what the parser derives: each vector's case parses into its program (lines left
 * out) and its needs. Runs from the repository's root. */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "testing/testing.h"

#define VECTORS "tests/vectors/capabilities.json"

static int has(const json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        if (!strcmp(json_string_value(v), s)) return 1;
    return 0;
}

/* Every kind: its events are the parser's "events KIND" words, its steps include the common ones, its
 * capability is a capability; every rule names a capability. */
START_TEST(declaration_is_whole)
{
    json_t *v = ch_vocabulary(), *words = json_object_get(v, "words"), *k, *ev, *r;
    const char *kind, *name;
    size_t i;
    char group[64];
    ck_assert_int_eq(json_integer_value(json_object_get(v, "version")), 1);
    ck_assert_int_eq(json_object_size(json_object_get(v, "kinds")), json_array_size(json_object_get(words, "kind")));
    json_object_foreach(json_object_get(v, "kinds"), kind, k) {
        snprintf(group, sizeof group, "events %s", kind);
        ck_assert_msg(has(json_object_get(words, "kind"), kind), "%s", kind);
        ck_assert_int_eq(json_object_size(json_object_get(k, "events")), json_array_size(json_object_get(words, group)));
        json_object_foreach(json_object_get(k, "events"), name, ev) {
            ck_assert_msg(has(json_object_get(words, group), name), "%s %s", kind, name);
            ck_assert(json_is_array(json_object_get(ev, "fields")) && json_is_boolean(json_object_get(ev, "dom")));
        }
        ck_assert_msg(has(json_object_get(k, "steps"), "await") && has(json_object_get(k, "steps"), "read"), "%s", kind);
        ck_assert(has(json_object_get(json_object_get(v, "capabilities"), "names"), json_string_value(json_object_get(k, "cap"))));
        ck_assert_int_ge(json_array_size(json_object_get(k, "final")), 1);
    }
    ck_assert(has(json_object_get(json_object_get(json_object_get(v, "kinds"), "xhr"), "steps"), "open"));
    ck_assert(!has(json_object_get(json_object_get(json_object_get(v, "kinds"), "fetch"), "steps"), "open"));
    json_array_foreach(json_object_get(json_object_get(v, "capabilities"), "rules"), i, r)
        ck_assert(has(json_object_get(json_object_get(v, "capabilities"), "names"), json_string_value(json_object_get(r, "cap"))));
    ck_assert_int_eq(json_object_size(json_object_get(v, "pseudo_events")), 3);
    json_decref(v);
}
END_TEST

static void strip_lines(json_t *j)
{
    size_t i;
    const char *key;
    json_t *v;
    if (json_is_object(j)) {
        json_object_del(j, "line");
        json_object_foreach(j, key, v) strip_lines(v);
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) strip_lines(v);
    }
}

START_TEST(capability_vectors)
{
    json_error_t jerr;
    json_t *doc = json_load_file(VECTORS, 0, &jerr), *vec;
    size_t i;
    ck_assert_msg(doc != NULL, "%s: %s (run from the repository's root)", VECTORS, jerr.text);
    ck_assert_int_ge(json_array_size(json_object_get(doc, "vectors")), 8);
    json_array_foreach(json_object_get(doc, "vectors"), i, vec) {
        const char *text = json_string_value(json_object_get(vec, "case"));
        json_t *out = json_array(), *errs = json_array();
        int n = ch_script_parse_text("v.case", text, strlen(text), "fixtures", out, errs);
        char *e = json_dumps(errs, JSON_COMPACT);
        ck_assert_msg(n == 0, "vector %zu: %s", i, e);
        free(e);
        json_t *kase = json_array_get(out, 0), *client = json_deep_copy(json_object_get(kase, "client"));
        strip_lines(client);
        ck_assert_msg(json_equal(json_object_get(kase, "needs"), json_object_get(vec, "needs")), "vector %zu (%s): needs", i,
                      json_string_value(json_object_get(vec, "why")));
        ck_assert_msg(json_equal(client, json_object_get(vec, "program")), "vector %zu (%s): the program differs", i,
                      json_string_value(json_object_get(vec, "why")));
        json_decref(client);
        json_decref(out);
        json_decref(errs);
    }
    json_decref(doc);
}
END_TEST

int main(void)
{
    return ch_check_main("vocab", 0, NULL, CH_TESTS(declaration_is_whole, capability_vectors));
}
