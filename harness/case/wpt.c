/* wpt.c — the WPT topic list (case.h). */
#include "case.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

const char *ch_wpt_topics_path(void)
{
    const char *p = getenv("CH_WPT_TOPICS");
    return p && *p ? p : "cases/wpt/topics.json";
}

/* A WPT path: relative, no empty or dot segments, printable ASCII without blanks or quotes. */
static int good_path(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 300 || s[0] == '/' || s[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '"' || s[i] == '\\') return 0;
    for (const char *seg = s; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL) {
        size_t len = strcspn(seg, "/");
        if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) return 0;
    }
    return 1;
}

/* Adds topic t's files to map; errors name the topic. */
static int add_topic(json_t *map, const json_t *t, size_t idx, char *err)
{
    const char *id = json_string_value(json_object_get(t, "id"));
    json_t *files = json_object_get(t, "files"), *why = json_object_get(t, "not_here");
    json_t *some = json_object_get(t, "files_not_here"), *f;
    size_t i;
    if (!json_is_object(t) || !id || !*id) return ch_errf(err, "topic %zu has no \"id\" string", idx);
    if (!json_is_array(files) || json_array_size(files) == 0)
        return ch_errf(err, "topic %s has no \"files\" (an array of paths)", id);
    if (why && (!json_is_string(why) || json_string_length(why) == 0))
        return ch_errf(err, "topic %s: \"not_here\" is a non-empty string (why)", id);
    if (some && !json_is_object(some)) return ch_errf(err, "topic %s: \"files_not_here\" maps a path to why", id);
    json_array_foreach(files, i, f) {
        const char *p = json_string_value(f);
        if (!p || !good_path(p)) return ch_errf(err, "topic %s: file %zu is not a WPT path", id, i + 1);
        json_t *prev = json_object_get(map, p);
        if (prev)
            return ch_errf(err, "%.120s is in topics %s and %s", p, json_string_value(json_object_get(prev, "topic")), id);
        json_t *entry = json_pack("{s:s}", "topic", id), *one = json_object_get(some, p);
        if (one && (!json_is_string(one) || json_string_length(one) == 0)) {
            json_decref(entry);
            return ch_errf(err, "topic %s: files_not_here[%.120s] is a non-empty string (why)", id, p);
        }
        if (why || one) json_object_set(entry, "not_here", why ? why : one);
        json_object_set_new(map, p, entry);
    }
    const char *k;
    json_object_foreach(some, k, f)
        if (!json_object_get(map, k) || strcmp(json_string_value(json_object_get(json_object_get(map, k), "topic")), id))
            return ch_errf(err, "topic %s: files_not_here names %.120s, which is not one of its files", id, k);
    return 0;
}

json_t *ch_wpt_load(const char *path, char *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr), *topics, *t, *map;
    size_t i;
    if (!doc) {
        if (jerr.line > 0) ch_errf(err, "%s:%d: %s", path, jerr.line, jerr.text);
        else ch_errf(err, "%s", jerr.text);
        return NULL;
    }
    topics = json_object_get(doc, "topics");
    if (!json_is_array(topics)) {
        json_decref(doc);
        ch_errf(err, "%s has no \"topics\" array", path);
        return NULL;
    }
    map = json_object();
    json_array_foreach(topics, i, t) {
        if (add_topic(map, t, i + 1, err) < 0) {
            json_decref(map);
            json_decref(doc);
            return NULL;
        }
    }
    json_decref(doc);
    return map;
}
