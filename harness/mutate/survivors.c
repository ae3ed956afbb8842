/* survivors.c — the list of checks that no mutant made fail, each with the reason it cannot fail on any
 * recorded client (mutate.h, ch_survivors_load; the committed list is expectations/survivors.json). */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "mutate.h"
#include "mutate_int.h"
#include "core/core.h"

static int entry_ok(const json_t *e, size_t i, const char *path, char *err)
{
    const json_t *kase = json_object_get(e, "case"), *line = json_object_get(e, "line");
    const json_t *kind = json_object_get(e, "kind"), *why = json_object_get(e, "why");
    const char *key;
    json_t *v;
    if (!json_is_object(e)) return ch_errf(err, "%s: entry %zu is not an object", path, i + 1);
    if (!json_is_string(kase) || json_string_length(kase) == 0)
        return ch_errf(err, "%s: entry %zu: \"case\" must be a case id or a glob", path, i + 1);
    if (!json_is_integer(line) || json_integer_value(line) < 1)
        return ch_errf(err, "%s: entry %zu: \"line\" must be the expectation's line", path, i + 1);
    if (kind && !json_is_string(kind)) return ch_errf(err, "%s: entry %zu: \"kind\" must be a string", path, i + 1);
    if (!json_is_string(why) || json_string_length(why) == 0)
        return ch_errf(err, "%s: entry %zu: \"why\" must say why the check cannot fail on any recorded client", path,
                       i + 1);
    json_object_foreach((json_t *)e, key, v)
        if (strcmp(key, "case") && strcmp(key, "line") && strcmp(key, "kind") && strcmp(key, "why"))
            return ch_errf(err, "%s: entry %zu: unknown key \"%s\"", path, i + 1, key);
    return 0;
}

json_t *ch_survivors_load(const char *path, char *err)
{
    json_error_t je;
    json_t *list = json_load_file(path, 0, &je);
    const json_t *e;
    size_t i;
    if (!list) {
        ch_errf(err, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_array(list)) {
        ch_errf(err, "%s: not a JSON array", path);
        json_decref(list);
        return NULL;
    }
    json_array_foreach(list, i, e) {
        if (entry_ok(e, i, path, err) < 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static int entry_names(const json_t *e, const json_t *check)
{
    const char *kind = json_string_value(json_object_get(e, "kind"));
    const char *glob = json_string_value(json_object_get(e, "case"));
    return fnmatch(glob, json_string_value(json_object_get(check, "case")), 0) == 0 &&
           json_integer_value(json_object_get(e, "line")) == json_integer_value(json_object_get(check, "line")) &&
           (!kind || !strcmp(kind, json_string_value(json_object_get(check, "kind"))));
}

const json_t *ch_survivors_match(const json_t *survivors, const json_t *check)
{
    const json_t *e;
    size_t i;
    json_array_foreach(survivors, i, e) if (entry_names(e, check)) return e;
    return NULL;
}

const char *ch_survivors_unused(const json_t *entry, const json_t *checks)
{
    const json_t *c;
    size_t i, named = 0;
    json_array_foreach(checks, i, c) {
        if (!entry_names(entry, c)) continue;
        named++;
        if (strcmp(json_string_value(json_object_get(c, "outcome")), "proven") != 0) return NULL;
    }
    return named ? "names only checks now proven able to fail" : "names no check of the case set";
}
