/* tmpl.c — see core.h. */
#include "core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define NAME_MAX_LEN 128

/* A growable byte buffer for the output, bounded by the input size plus what the values add. */
struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 64;
        while (cap < o->len + n + 1) cap *= 2;
        o->p = ch_xrealloc(o->p, cap);
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* `{ms:N}`: N must be a non-negative decimal integer. */
static int ms_value(const char *name, double scale, char *buf, size_t buflen)
{
    const char *d = name + 3;
    if (!*d || strspn(d, "0123456789") != strlen(d) || strlen(d) > 9) return -1;
    snprintf(buf, buflen, "%lld", (long long)llround(atof(d) * scale));
    return 0;
}

static const char *const ORIGIN_NAMES[CH_ORIGINS] = {"A", "B", "C", "SA", "SB", "SC", "D"};
static const char *const FAULT_NAMES[CH_FAULTS] = {"expired",    "wrong-name", "self-signed", "refuse-alert",
                                                   "refuse-fin", "refuse-rst", "tls12"};

const char *ch_origin_name(int origin) { return origin >= 0 && origin < CH_ORIGINS ? ORIGIN_NAMES[origin] : NULL; }
const char *ch_fault_name(int fault) { return fault >= 0 && fault < CH_FAULTS ? FAULT_NAMES[fault] : NULL; }
int ch_origin_tls(int origin) { return origin >= CH_ORIGIN_SA && origin <= CH_ORIGIN_SC; }

static int by_name(const char *const *names, int count, const char *s, size_t n)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0) return i;
    return -1;
}

int ch_origin_by_name(const char *s, size_t n) { return by_name(ORIGIN_NAMES, CH_ORIGINS, s, n); }
int ch_fault_by_name(const char *s, size_t n) { return by_name(FAULT_NAMES, CH_FAULTS, s, n); }

/* What an origin placeholder names: X, origin-X, host-X or port-X for an origin X or a fault listener SF-F.
 * Returns CH_USES_* bits with bit 31 set for "an origin placeholder", or 0 for any other name. */
static unsigned origin_uses(const char *name)
{
    static const char *const prefixes[] = {"origin-", "host-", "port-"};
    for (size_t i = 0; i < 3; i++) {
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
            name += strlen(prefixes[i]);
            break;
        }
    }
    int o = ch_origin_by_name(name, strlen(name));
    if (o >= 0) return 1u << 31 | (ch_origin_tls(o) ? CH_USES_TLS : 0) | (o == CH_ORIGIN_D ? CH_USES_D : 0);
    int f = strncmp(name, "SF-", 3) == 0 ? ch_fault_by_name(name + 3, strlen(name + 3)) : -1;
    return f >= 0 ? 1u << 31 | CH_USES_TLS | 1u << (CH_USES_FAULT + f) : 0;
}

static int origin_name(const char *name) { return origin_uses(name) != 0; }

/* Whether `name` may appear in `context`; NULL context = any. */
static int allowed(const char *name, const char *context)
{
    int server = !context || strcmp(context, "server") == 0;
    if (origin_name(name) || strcmp(name, "token") == 0 || strcmp(name, "case") == 0 || strcmp(name, "page-url") == 0)
        return 1;
    if (strncmp(name, "ms:", 3) == 0) {
        char buf[32];
        return ms_value(name, 1.0, buf, sizeof buf) == 0;
    }
    if (strncmp(name, "req:", 4) == 0) return server && name[4] != '\0';
    if (strcmp(name, "body-length") == 0) return server;
    return 0;
}

/* Scans one `{name}` starting at in[i] == '{'. Returns the index after '}', or 0 if unterminated/too long. */
static size_t scan_name(const char *in, size_t n, size_t i, char *name)
{
    size_t j = i + 1, k = 0;
    while (j < n && in[j] != '}' && in[j] != '{') {
        if (k + 1 >= NAME_MAX_LEN) return 0;
        name[k++] = in[j++];
    }
    name[k] = '\0';
    return j < n && in[j] == '}' && k > 0 ? j + 1 : 0;
}

/* The scanner the three walks below share: where the next '{' or '}' at or after `from` lies (n when none).
 * Each kind is looked up again (memchr) only once the walk has passed the last one found, so a text costs at
 * most two passes of memchr whatever its braces, and the bytes between braces are not looked at one by one. */
struct braces {
    const char *in;
    size_t n, open, close;
};

static size_t brace_at(const char *in, size_t n, size_t from, char c)
{
    const char *p = from < n ? memchr(in + from, c, n - from) : NULL;
    return p ? (size_t)(p - in) : n;
}

static struct braces braces_of(const char *in, size_t n)
{
    return (struct braces){in, n, brace_at(in, n, 0, '{'), brace_at(in, n, 0, '}')};
}

static size_t next_brace(struct braces *b, size_t from)
{
    if (b->open < from) b->open = brace_at(b->in, b->n, from, '{');
    if (b->close < from) b->close = brace_at(b->in, b->n, from, '}');
    return b->open < b->close ? b->open : b->close;
}

/* Whether the brace at in[i] is doubled: `{{` or `}}`, a literal brace. */
static int doubled(const char *in, size_t n, size_t i) { return i + 1 < n && in[i + 1] == in[i]; }

int ch_tmpl_check(const char *in, size_t n, const char *context, size_t *offset, char *err)
{
    char name[NAME_MAX_LEN];
    struct braces b = braces_of(in, n);
    for (size_t i = next_brace(&b, 0); i < n; i = next_brace(&b, i)) {
        if (doubled(in, n, i)) {
            i += 2;
            continue;
        }
        *offset = i;
        if (in[i] == '}') return ch_errf(err, "a lone '}' (write '}}' for a literal brace)");
        size_t end = scan_name(in, n, i, name);
        if (!end) return ch_errf(err, "an unterminated placeholder (write '{{' for a literal brace)");
        if (!allowed(name, context)) return ch_errf(err, "unknown placeholder {%s} in %s text", name, context);
        i = end;
    }
    return 0;
}

unsigned ch_tmpl_uses(const char *in, size_t n)
{
    char name[NAME_MAX_LEN];
    unsigned uses = 0;
    struct braces b = braces_of(in, n);
    for (size_t i = next_brace(&b, 0); i < n; i = next_brace(&b, i)) {
        size_t end = in[i] == '{' && !doubled(in, n, i) ? scan_name(in, n, i, name) : 0;
        if (end) uses |= origin_uses(name) & ~(1u << 31);
        i = end ? end : i + 1 + doubled(in, n, i);
    }
    return uses;
}

unsigned ch_tmpl_json_uses(const json_t *v)
{
    const json_t *x;
    const char *k;
    size_t i;
    unsigned uses = 0;
    if (json_is_string(v)) return ch_tmpl_uses(json_string_value(v), json_string_length(v));
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) uses |= ch_tmpl_json_uses(x);
    }
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) uses |= ch_tmpl_json_uses(x);
    }
    return uses;
}

/* Looks up a name: request headers by lowercase name, default "" when absent. */
static const char *lookup(const json_t *local, const json_t *vars, const char *name, char *scratch,
                          size_t scratchlen, double scale)
{
    if (strncmp(name, "ms:", 3) == 0) return ms_value(name, scale, scratch, scratchlen) == 0 ? scratch : NULL;
    if (strncmp(name, "req:", 4) == 0) {
        size_t k;
        for (k = 0; name[k] && k + 1 < scratchlen; k++)
            scratch[k] = (char)(k >= 4 && name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
        scratch[k] = '\0';
        const char *v = json_string_value(json_object_get(local, scratch));
        if (!v) v = json_string_value(json_object_get(vars, scratch));
        return v ? v : "";
    }
    const char *v = json_string_value(json_object_get(local, name));
    return v ? v : json_string_value(json_object_get(vars, name));
}

char *ch_tmpl_fill(const char *in, size_t n, const json_t *vars, double time_scale, size_t *outlen, char *err)
{
    return ch_tmpl_fill2(in, n, NULL, vars, time_scale, outlen, err);
}

int ch_tmpl_has_braces(const char *in, size_t n)
{
    return memchr(in, '{', n) || memchr(in, '}', n);
}

char *ch_tmpl_fill2(const char *in, size_t n, const json_t *local, const json_t *vars, double time_scale,
                    size_t *outlen, char *err)
{
    struct out o = {0};
    char name[NAME_MAX_LEN], scratch[NAME_MAX_LEN + 32];
    size_t lit = 0;
    struct braces b = braces_of(in, n);
    put(&o, "", 0);
    for (size_t i = next_brace(&b, 0); i < n; i = next_brace(&b, i)) {
        if (doubled(in, n, i)) {
            put(&o, in + lit, i + 1 - lit);
            i += 2;
            lit = i;
            continue;
        }
        if (in[i] != '{') {
            i++;
            continue;
        }
        size_t end = scan_name(in, n, i, name);
        const char *v = end ? lookup(local, vars, name, scratch, sizeof scratch, time_scale) : NULL;
        if (!v) {
            ch_errf(err, end ? "unknown placeholder {%s}" : "an unterminated placeholder", name);
            free(o.p);
            return NULL;
        }
        put(&o, in + lit, i - lit);
        put(&o, v, strlen(v));
        i = lit = end;
    }
    put(&o, in + lit, n - lit);
    if (outlen) *outlen = o.len;
    return o.p;
}

json_t *ch_tmpl_fill_json(const json_t *v, const json_t *vars, double time_scale, char *err)
{
    if (json_is_string(v)) {
        size_t len;
        char *s = ch_tmpl_fill(json_string_value(v), json_string_length(v), vars, time_scale, &len, err);
        if (!s) return NULL;
        json_t *r = json_stringn_nocheck(s, len);
        free(s);
        return r;
    }
    if (json_is_array(v)) {
        json_t *r = json_array(), *x;
        size_t i;
        json_array_foreach(v, i, x) {
            json_t *f = ch_tmpl_fill_json(x, vars, time_scale, err);
            if (!f) {
                json_decref(r);
                return NULL;
            }
            json_array_append_new(r, f);
        }
        return r;
    }
    if (json_is_object(v)) {
        json_t *r = json_object(), *x;
        const char *k;
        json_object_foreach((json_t *)v, k, x) {
            json_t *f = ch_tmpl_fill_json(x, vars, time_scale, err);
            if (!f) {
                json_decref(r);
                return NULL;
            }
            json_object_set_new(r, k, f);
        }
        return r;
    }
    return json_deep_copy(v);
}
