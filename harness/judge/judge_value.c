/* judge_value.c — see judge_value.h. */
#include "judge_value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define EQ_MAX_DEPTH 256

static void grow(struct ch_text *t, size_t extra)
{
    if (t->len + extra + 1 <= t->cap) return;
    size_t cap = t->cap ? t->cap : 64;
    while (cap < t->len + extra + 1) cap *= 2;
    t->p = ch_xrealloc(t->p, cap);
    t->cap = cap;
}

void ch_text_put(struct ch_text *t, const char *s, size_t n)
{
    grow(t, n);
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void ch_text_puts(struct ch_text *t, const char *s)
{
    ch_text_put(t, s, strlen(s));
}

void ch_text_printf(struct ch_text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ch_text_put(t, small, (size_t)n);
        return;
    }
    grow(t, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(t->p + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

const char *ch_text_str(const struct ch_text *t)
{
    return t->p ? t->p : "";
}

void ch_text_free(struct ch_text *t)
{
    free(t->p);
    *t = (struct ch_text){0};
}

json_t *ch_text_json(struct ch_text *t)
{
    json_t *j;
    if (ch_utf8_text((const unsigned char *)ch_text_str(t), t->len)) j = json_stringn(ch_text_str(t), t->len);
    else {
        /* Only reachable if a caller appended raw non-UTF-8 bytes: keep ASCII, mark the rest. */
        for (size_t i = 0; i < t->len; i++)
            if ((unsigned char)t->p[i] >= 0x80 || t->p[i] == '\0') t->p[i] = '?';
        j = json_stringn(ch_text_str(t), t->len);
    }
    ch_text_free(t);
    return j;
}

/* ---- equality and paths ---- */

static int eq_depth(const json_t *a, const json_t *b, int depth);

static int eq_container(const json_t *a, const json_t *b, int depth)
{
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b)) return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!eq_depth(json_array_get(a, i), json_array_get(b, i), depth + 1)) return 0;
        return 1;
    }
    if (json_object_size(a) != json_object_size(b)) return 0;
    const char *k;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)a, k, klen, v) {
        if (!eq_depth(v, json_object_getn(b, k, klen), depth + 1)) return 0;
    }
    return 1;
}

static int eq_depth(const json_t *a, const json_t *b, int depth)
{
    if (!a || !b) return a == b;
    if (depth > EQ_MAX_DEPTH) return 0;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b)) return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b)) return 0;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
    case JSON_OBJECT:
        return eq_container(a, b, depth);
    default:
        return 1; /* true, false, null */
    }
}

int ch_value_eq(const json_t *a, const json_t *b)
{
    return eq_depth(a, b, 0);
}

/* An array index: decimal digits only, no sign, fits comfortably. */
static int parse_index(const char *s, size_t n, size_t *out)
{
    if (n == 0 || n > 9 || strspn(s, "0123456789") < n) return -1;
    size_t v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (size_t)(s[i] - '0');
    *out = v;
    return 0;
}

const json_t *ch_value_path(const json_t *v, const char *path)
{
    const char *p = path;
    while (v && p) {
        const char *dot = strchr(p, '.');
        size_t seg = dot ? (size_t)(dot - p) : strlen(p);
        if (json_is_object(v)) {
            json_t *whole = json_object_get(v, p);
            if (whole) return whole;
            v = dot ? json_object_getn(v, p, seg) : NULL;
        } else if (json_is_array(v)) {
            size_t i;
            v = parse_index(p, seg, &i) == 0 ? json_array_get(v, i) : NULL;
        } else {
            return NULL;
        }
        p = dot ? dot + 1 : NULL;
    }
    return v;
}

/* The same walk as ch_value_path, replacing the value found (v must be the caller's own copy). */
int ch_value_path_set(json_t *v, const char *path, json_t *value)
{
    const char *p = path;
    while (v && p) {
        const char *dot = strchr(p, '.');
        size_t seg = dot ? (size_t)(dot - p) : strlen(p), i;
        if (json_is_object(v)) {
            if (json_object_get(v, p)) return json_object_set_new(v, p, value);
            v = dot ? json_object_getn(v, p, seg) : NULL;
        } else if (json_is_array(v) && parse_index(p, seg, &i) == 0 && i < json_array_size(v)) {
            if (!dot) return json_array_set_new(v, i, value);
            v = json_array_get(v, i);
        } else {
            break;
        }
        p = dot ? dot + 1 : NULL;
    }
    json_decref(value);
    return -1;
}

/* ---- rendering ---- */

/* The length of the longest prefix of s[0..n) of at most max bytes that ends at a character boundary. */
static size_t cut_at(const char *s, size_t n, size_t max)
{
    if (n <= max) return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) k--;
    return k;
}

static void put_escaped(struct ch_text *t, const char *s, size_t n, int quote)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && quote) ch_text_puts(t, "\\\\");
        else if (c == '"' && quote) ch_text_puts(t, "\\\"");
        else if (c == '\n') ch_text_puts(t, "\\n");
        else if (c == '\r') ch_text_puts(t, "\\r");
        else if (c == '\t') ch_text_puts(t, "\\t");
        else if (c == '\0') ch_text_puts(t, "\\0");
        else if (c < 0x20 || c == 0x7f) ch_text_printf(t, "\\x%02x", c);
        else ch_text_put(t, s + i, 1);
    }
}

void ch_text_quoted(struct ch_text *t, const char *s, size_t n, size_t max)
{
    size_t k = cut_at(s, n, max);
    ch_text_puts(t, "\"");
    put_escaped(t, s, k, 1);
    ch_text_puts(t, k < n ? "…\"" : "\"");
}

void ch_text_raw(struct ch_text *t, const char *s, size_t n, size_t max)
{
    size_t k = cut_at(s, n, max);
    put_escaped(t, s, k, 0);
    if (k < n) ch_text_puts(t, "…");
}

/* A string prints bare when the case notation would read it back as the same string. */
static int bare_word(const char *s, size_t n)
{
    if (n == 0 || n > CH_VALUE_SHOWN) return 0;
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) return 0;
    static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(ok, s[i])) return 0;
    return strcmp(s, "true") != 0 && strcmp(s, "false") != 0 && strcmp(s, "null") != 0;
}

static void render_number(struct ch_text *t, const json_t *v)
{
    if (json_is_integer(v)) {
        ch_text_printf(t, "%lld", (long long)json_integer_value(v));
        return;
    }
    double d = json_real_value(v);
    if (d == floor(d) && fabs(d) < 1e15) ch_text_printf(t, "%.0f", d);
    else ch_text_printf(t, "%.15g", d);
}

void ch_value_render(struct ch_text *t, const json_t *v)
{
    if (!v) {
        ch_text_puts(t, "absent");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (bare_word(s, n)) ch_text_put(t, s, n);
        else ch_text_quoted(t, s, n, CH_VALUE_SHOWN);
        return;
    }
    case JSON_INTEGER:
    case JSON_REAL:
        render_number(t, v);
        return;
    case JSON_TRUE: ch_text_puts(t, "true"); return;
    case JSON_FALSE: ch_text_puts(t, "false"); return;
    case JSON_NULL: ch_text_puts(t, "null"); return;
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s) {
            ch_text_puts(t, "(unprintable)");
            return;
        }
        ch_text_raw(t, s, strlen(s), CH_VALUE_SHOWN);
        free(s);
    }
    }
}

void ch_value_diff_hint(struct ch_text *t, const json_t *expected, const json_t *observed)
{
    if (!json_is_string(expected) || !json_is_string(observed)) return;
    const char *a = json_string_value(expected), *b = json_string_value(observed);
    size_t na = json_string_length(expected), nb = json_string_length(observed), i = 0;
    if (na <= CH_VALUE_SHOWN && nb <= CH_VALUE_SHOWN) return;
    while (i < na && i < nb && a[i] == b[i]) i++;
    ch_text_printf(t, " (they differ at byte %zu; lengths %zu and %zu)", i, na, nb);
}
