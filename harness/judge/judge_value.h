/* judge_value.h — how the judge compares and prints values (harness/MODEL.md §1.3 and §3).
 *
 * Equality is JSON equality with numbers compared numerically (4 == 4.0) and strings byte for byte. Property
 * paths are dotted (`response.bytes`). Values print in the case notation (cases/FORMAT.md §1, §6.1): numbers,
 * true/false/null, a bare word when a string is one, else a quoted string with the case escapes; long values
 * are cut at a character boundary and marked with "…". */
#ifndef CH_JUDGE_VALUE_H
#define CH_JUDGE_VALUE_H

#include <jansson.h>
#include <stddef.h>

/* Longest rendering of one value, in bytes, before it is cut. */
#define CH_VALUE_SHOWN 80

/* A growable NUL-terminated text; zero-initialise it (`struct ch_text t = {0};`). */
struct ch_text {
    char *p;
    size_t len, cap;
};

void ch_text_put(struct ch_text *t, const char *s, size_t n);
void ch_text_puts(struct ch_text *t, const char *s);
void ch_text_printf(struct ch_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when nothing was written). Valid until the next write. */
const char *ch_text_str(const struct ch_text *t);
void ch_text_free(struct ch_text *t);
/* A new JSON string holding the text (bytes that are not UTF-8 become '?'), and frees the text. Never NULL
 * unless jansson itself cannot allocate. */
json_t *ch_text_json(struct ch_text *t);

/* 1 if a and b are equal JSON values (numbers numerically, strings byte for byte, arrays in order, objects by
 * key); NULL equals only NULL. Nesting beyond 256 levels compares unequal. */
int ch_value_eq(const json_t *a, const json_t *b);

/* The value at `path` inside v: a key of an object (the whole remaining path is tried as a literal key first,
 * then split at its first dot), or a decimal index of an array. NULL when there is none. Borrowed. */
const json_t *ch_value_path(const json_t *v, const char *path);

/* Replaces the value at `path` inside v (found as ch_value_path finds it) with `value`, which it takes. 0, or -1
 * when there is no value at that path (`value` is freed). */
int ch_value_path_set(json_t *v, const char *path, json_t *value);

/* Appends v in the case notation; NULL prints as "absent". */
void ch_value_render(struct ch_text *t, const json_t *v);

/* Appends `s` (n bytes) as a quoted string in the case notation, cut after `max` bytes. */
void ch_text_quoted(struct ch_text *t, const char *s, size_t n, size_t max);

/* Appends `s` (n bytes) as is, escaping control bytes as the case notation does, cut after `max` bytes. */
void ch_text_raw(struct ch_text *t, const char *s, size_t n, size_t max);

/* Appends where two strings first differ when they print alike (long or invisible differences):
 * " (they differ at byte N; lengths X and Y)". Appends nothing otherwise. */
void ch_value_diff_hint(struct ch_text *t, const json_t *expected, const json_t *observed);

#endif
