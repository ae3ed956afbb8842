/* fuzz_script.c — libFuzzer target: the case parser (harness/case/: script*.c, lex.c, matrix.c) on arbitrary bytes.
 *
 * Whatever the input, ch_script_parse_text must return without a crash, leak or undefined behaviour, and its
 * outputs must hold: either cases and no errors, or errors (each with file, line, col, message) and no cases.
 * Seeds: fuzz/corpus/fuzz_script/ (the case files). Run with `make fuzz FUZZ_SECONDS=N`. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "case/case.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_errors(const json_t *errs)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        if (!json_is_string(json_object_get(e, "file")) || !json_is_integer(json_object_get(e, "line")) ||
            !json_is_integer(json_object_get(e, "col")) || !json_is_string(json_object_get(e, "message")))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *out = json_array(), *errs = json_array();
    int n = ch_script_parse_text("fuzz.case", (const char *)data, size, "fixtures", out, errs);
    if (n != (int)json_array_size(errs) || (n > 0 && json_array_size(out) > 0)) abort();
    check_errors(errs);
    /* Serialise both, as `runner list --json` and `runner check` would. */
    char *dump = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!dump) abort();
    free(dump);
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        ch_script_print_errors(errs, null);
        fclose(null);
    }
    json_decref(out);
    json_decref(errs);
    return 0;
}
