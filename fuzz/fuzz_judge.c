/* fuzz_judge.c — libFuzzer target: a client's observations (fixtures/PROTOCOL.md §3) through the judge
 * (harness/judge/), as POST /_h/result hands them over: the bytes are parsed as the server parses them (JSON,
 * U+0000 allowed; anything but an object is refused before judging) and judged against a case of cases/.
 *
 * The case is the one the observations name in "case" (as every client's do), else one chosen by the bytes; the
 * transcript is an empty one of that case, the placeholders those of a run on ports 1-3. Whatever the bytes, the
 * judge must return a verdict — an object with a known status, a message and an array of checks, each with a
 * status — that serializes, without a crash, a leak or undefined behaviour.
 * Seeds: fuzz/corpus/fuzz_judge/ (observations posted by real clients). Run with `make fuzz FUZZ_SECONDS=N`. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "judge/judge.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *cases, *vars, *transcript;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *paths[] = {"cases"};
    json_t *errs = json_array();
    cases = json_array();
    if (ch_script_load(paths, 1, "fixtures", cases, errs) != 0 || json_array_size(cases) == 0) {
        fprintf(stderr, "fuzz_judge: run from the repository's root (cases/ must load without errors)\n");
        abort();
    }
    json_decref(errs);
    vars = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "token", "t1-00000000", "A",
                     "http://localhost:1/c/t1-00000000", "B", "http://localhost:2/c/t1-00000000", "C",
                     "http://127.0.0.1:3/c/t1-00000000", "origin-A", "http://localhost:1", "origin-B",
                     "http://localhost:2", "origin-C", "http://127.0.0.1:3", "host-A", "localhost:1", "host-B",
                     "localhost:2", "host-C", "127.0.0.1:3");
    transcript = json_pack("{s:s, s:[], s:i}", "token", "t1-00000000", "events", "dropped", 0);
    return 0;
}

static const json_t *case_for(const json_t *obs, const uint8_t *data, size_t size)
{
    const char *id = json_string_value(json_object_get(obs, "case"));
    size_t i;
    json_t *k;
    json_array_foreach(cases, i, k)
        if (id && strcmp(json_string_value(json_object_get(k, "id")), id) == 0) return k;
    uint32_t h = 2166136261u; /* FNV-1a of the bytes */
    for (size_t j = 0; j < size; j++) h = (h ^ data[j]) * 16777619u;
    return json_array_get(cases, h % json_array_size(cases));
}

static void check_verdict(const json_t *v)
{
    static const char *const statuses[] = {"PASS", "FAIL", "NON-STRICT", "N/A", "ERROR", "TIMEOUT", "CRASH",
                                           "NOTRUN"};
    const char *status = json_string_value(json_object_get(v, "status"));
    int known = 0;
    for (size_t i = 0; status && i < sizeof statuses / sizeof statuses[0]; i++) known |= strcmp(status, statuses[i]) == 0;
    if (!json_is_object(v) || !known || !json_is_string(json_object_get(v, "message")) ||
        !json_is_array(json_object_get(v, "checks")))
        abort();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "checks"), i, c)
        if (!json_is_string(json_object_get(c, "status"))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obs = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (!json_is_object(obs)) { /* the server answers 400 before judging */
        json_decref(obs);
        return 0;
    }
    const json_t *k = case_for(obs, data, size);
    json_object_set(transcript, "case", json_object_get(k, "id"));
    json_t *v = ch_judge(k, obs, transcript, vars, 1.0);
    check_verdict(v);
    char *dump = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII); /* as the verdict is served and reported */
    if (!dump) abort();
    free(dump);
    json_decref(v);
    json_decref(obs);
    return 0;
}
