/* records.c — records of judged runs (mutate.h): what `runner record` keeps of a verdict, and the digest that
 * says whether the case has changed since. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutate.h"
#include "core/core.h"

/* Removes every "line" key: where a step or route sits in its file decides nothing about the run. */
static void strip_lines(json_t *v)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_object(v)) {
        json_object_del(v, "line");
        json_object_foreach(v, key, x) strip_lines(x);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) strip_lines(x);
    }
}

/* Puts each server step's `body file` contents (their digest) beside its path. */
static int hash_body_files(json_t *server, const char *fixtures, char *err)
{
    size_t r, s;
    json_t *route, *step;
    json_array_foreach(server, r, route) {
        json_array_foreach(json_object_get(route, "steps"), s, step) {
            const char *file = json_string_value(json_object_get(step, "file"));
            if (!file) continue;
            char path[4096], hex[CH_SHA256_HEX_SIZE];
            size_t len;
            snprintf(path, sizeof path, "%s/%s", fixtures, file);
            char *bytes = ch_read_file(path, &len, err);
            if (!bytes) return -1;
            ch_sha256_hex(bytes, len, hex);
            free(bytes);
            json_object_set_new(step, "file_sha256", json_string(hex));
        }
    }
    return 0;
}

int ch_program_sha256(const json_t *kase, const char *fixtures, char out[CH_SHA256_HEX_SIZE], char *err)
{
    static const char *const docs[] = {"expect", "cors", "title", "spec", "wpt", "source"};
    json_t *c = json_deep_copy(kase);
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) json_object_del(c, docs[i]);
    strip_lines(c);
    int rc = hash_body_files(json_object_get(c, "server"), fixtures, err);
    if (rc == 0) {
        char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        ch_sha256_hex(text, strlen(text), out);
        free(text);
    }
    json_decref(c);
    return rc;
}

/* The fields of the observations the judge reads (fixtures/PROTOCOL.md §3; judge.c). */
static json_t *judged_observations(const json_t *obs)
{
    static const char *const keep[] = {"events", "final", "timed_out", "unsupported", "error"};
    json_t *o = json_object();
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (json_object_get(obs, keep[i])) json_object_set(o, keep[i], json_object_get(obs, keep[i]));
    return o;
}

json_t *ch_record_make(const json_t *line, const json_t *by_id, const char *fixtures, double time_scale,
                       const char **why)
{
    const json_t *event = json_object_get(line, "event"), *checks = json_object_get(line, "checks");
    const json_t *obs = json_object_get(line, "observations");
    const char *id = json_string_value(json_object_get(line, "case"));
    const json_t *kase = id ? json_object_get(by_id, id) : NULL;
    char hex[CH_SHA256_HEX_SIZE], err[CH_ERR_LEN];
    *why = NULL;
    if (event && strcmp(json_string_value(event) ? json_string_value(event) : "", "verdict") != 0) return NULL;
    if (!json_is_object(obs) || json_array_size(checks) == 0) {
        *why = "no checks ran (N/A, an adapter error, a crash, or no observations)";
        return NULL;
    }
    if (!kase) {
        *why = "its case is not in the case set";
        return NULL;
    }
    if (ch_program_sha256(kase, fixtures, hex, err) < 0) {
        *why = "its case's body file cannot be read";
        return NULL;
    }
    json_t *rec = json_pack("{s:s, s:O*, s:O*, s:s, s:f, s:o, s:O*, s:O*}", "case", id, "client",
                            json_object_get(line, "client"), "version", json_object_get(line, "version"), "program",
                            hex, "time_scale", time_scale, "observations", judged_observations(obs), "transcript",
                            json_object_get(line, "transcript"), "vars", json_object_get(line, "vars"));
    return rec;
}
