/* matrix.c — see matrix.h; the rules are cases/FORMAT.md §3. */
#include "matrix.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_label_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

/* Length of the axis name at s[0..n), 0 if s does not start with one. */
static size_t name_len(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || !is_name_start(s[0])) return 0;
    while (i < n && is_name_char(s[i])) i++;
    return i;
}

/* Length of the label at s[0..n): [A-Za-z0-9][A-Za-z0-9._]*, 0 if none. */
static size_t label_len(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || s[0] == '.' || s[0] == '_' || !is_label_char(s[0])) return 0;
    while (i < n && is_label_char(s[i])) i++;
    return i;
}

static int find_axis(const struct ch_matrix *m, const char *s, size_t n)
{
    for (size_t a = 0; a < m->naxes; a++)
        if (strlen(m->axis[a].name) == n && memcmp(m->axis[a].name, s, n) == 0) return (int)a;
    return -1;
}

/* Labels compare case-insensitively: they are one identity whatever their case (FORMAT.md §3). */
static int find_label(const struct ch_axis *ax, const char *s, size_t n)
{
    for (size_t v = 0; v < ax->nval; v++)
        if (strlen(ax->val[v].label) == n && strncasecmp(ax->val[v].label, s, n) == 0) return (int)v;
    return -1;
}

/* One axis value `label` or `label="text"` in word w. Appends it to ax. */
static int axis_value(struct ch_axis *ax, const char *w, size_t n, size_t *at, char *err)
{
    size_t l = label_len(w, n);
    struct ch_axis_value *v;
    if (l == 0 || (l < n && w[l] != '=')) {
        *at = l;
        return ch_errf(err, "a bad axis value (write label or label=\"text\"; labels are [a-z0-9][a-z0-9._]*)");
    }
    if (l >= CH_MATRIX_NAME_LEN) return ch_errf(err, "a label longer than %d characters", CH_MATRIX_NAME_LEN - 1);
    if (find_label(ax, w, l) >= 0) return ch_errf(err, "a duplicate label '%.*s' in axis '%s'", (int)l, w, ax->name);
    ax->val = ch_xrealloc(ax->val, (ax->nval + 1) * sizeof *ax->val);
    v = &ax->val[ax->nval];
    memcpy(v->label, w, l);
    v->label[l] = '\0';
    if (l == n) {
        v->text = ch_xstrndup(w, l);
        v->len = l;
    } else {
        size_t sat = 0;
        if (!ch_lex_is_string(w + l + 1, n - l - 1)) {
            *at = l + 1;
            return ch_errf(err, "a bad axis value: after '=' comes a string");
        }
        if (ch_lex_string(w + l + 1, n - l - 1, &v->text, &v->len, &sat, err) < 0) {
            *at = l + 1 + sat;
            return -1;
        }
        if (memchr(v->text, '\0', v->len)) {
            free(v->text);
            *at = l + 1;
            return ch_errf(err, "an axis value cannot hold a NUL byte (write \\0 inside the string that uses it)");
        }
    }
    ax->nval++;
    return 0;
}

int ch_matrix_axis(struct ch_matrix *m, const char *s, const struct ch_tok *tok, size_t ntok, size_t *at,
                   char *err)
{
    if (ntok < 2) {
        *at = tok[0].off;
        return ch_errf(err, "'axis' takes a name and at least one value");
    }
    size_t nl = name_len(s + tok[1].off, tok[1].len);
    *at = tok[1].off;
    if (nl != tok[1].len) return ch_errf(err, "a bad axis name (write [A-Za-z_][A-Za-z0-9_]*)");
    if (nl >= CH_MATRIX_NAME_LEN) return ch_errf(err, "an axis name longer than %d characters", CH_MATRIX_NAME_LEN - 1);
    if (find_axis(m, s + tok[1].off, nl) >= 0) return ch_errf(err, "a second axis named '%.*s'", (int)nl, s + tok[1].off);
    if (m->naxes == CH_MATRIX_MAX_AXES) return ch_errf(err, "more than %d axes", CH_MATRIX_MAX_AXES);
    if (ntok < 3) return ch_errf(err, "axis '%.*s' has no values", (int)nl, s + tok[1].off);
    if (m->nex > 0) return ch_errf(err, "an axis after an 'exclude' line (declare every axis first)");
    struct ch_axis *ax = &m->axis[m->naxes];
    memset(ax, 0, sizeof *ax);
    memcpy(ax->name, s + tok[1].off, nl);
    for (size_t i = 2; i < ntok; i++) {
        size_t vat = 0;
        if (axis_value(ax, s + tok[i].off, tok[i].len, &vat, err) < 0) {
            *at = tok[i].off + vat;
            for (size_t v = 0; v < ax->nval; v++) free(ax->val[v].text);
            free(ax->val);
            memset(ax, 0, sizeof *ax);
            return -1;
        }
    }
    m->naxes++;
    if (ch_matrix_ncells(m) > CH_MATRIX_MAX_CELLS) {
        *at = tok[0].off;
        return ch_errf(err, "the matrix has more than %d cells", CH_MATRIX_MAX_CELLS);
    }
    return 0;
}

/* One `NAME=label` pair of an exclude line into row. */
static int exclude_pair(const struct ch_matrix *m, const char *w, size_t n, int *row, size_t *at, char *err)
{
    const char *eq = memchr(w, '=', n);
    int a = eq ? find_axis(m, w, (size_t)(eq - w)) : -1, v;
    if (!eq) return ch_errf(err, "'exclude' takes NAME=label pairs");
    if (a < 0) return ch_errf(err, "unknown axis '%.*s'", (int)(eq - w), w);
    *at = (size_t)(eq - w) + 1;
    v = find_label(&m->axis[a], eq + 1, n - (size_t)(eq - w) - 1);
    if (v < 0) return ch_errf(err, "axis '%s' has no label '%.*s'", m->axis[a].name, (int)(n - (size_t)(eq - w) - 1), eq + 1);
    if (row[a] >= 0) {
        *at = 0;
        return ch_errf(err, "axis '%s' named twice in one exclude", m->axis[a].name);
    }
    row[a] = v;
    return 0;
}

int ch_matrix_exclude(struct ch_matrix *m, const char *s, const struct ch_tok *tok, size_t ntok, size_t *at,
                      char *err)
{
    int row[CH_MATRIX_MAX_AXES];
    *at = tok[0].off;
    if (ntok < 2) return ch_errf(err, "'exclude' takes NAME=label pairs");
    for (size_t a = 0; a < CH_MATRIX_MAX_AXES; a++) row[a] = -1;
    for (size_t i = 1; i < ntok; i++) {
        size_t pat = 0;
        if (exclude_pair(m, s + tok[i].off, tok[i].len, row, &pat, err) < 0) {
            *at = tok[i].off + pat;
            return -1;
        }
    }
    m->ex = ch_xrealloc(m->ex, (m->nex + 1) * sizeof *m->ex);
    memcpy(m->ex[m->nex++], row, sizeof row);
    return 0;
}

size_t ch_matrix_ncells(const struct ch_matrix *m)
{
    size_t n = 1;
    for (size_t a = 0; a < m->naxes; a++) {
        n *= m->axis[a].nval;
        if (n > CH_MATRIX_MAX_CELLS) return CH_MATRIX_MAX_CELLS + 1;
    }
    return n;
}

int ch_matrix_cell(const struct ch_matrix *m, size_t i, int sel[CH_MATRIX_MAX_AXES])
{
    for (size_t a = m->naxes; a-- > 0;) {
        sel[a] = (int)(i % m->axis[a].nval);
        i /= m->axis[a].nval;
    }
    for (size_t e = 0; e < m->nex; e++) {
        size_t a = 0;
        while (a < m->naxes && (m->ex[e][a] < 0 || m->ex[e][a] == sel[a])) a++;
        if (a == m->naxes) return 1;
    }
    return 0;
}

void ch_matrix_cell_id(const struct ch_matrix *m, const int *sel, char out[CH_MATRIX_ID_LEN])
{
    size_t w = 0;
    out[0] = '\0';
    for (size_t a = 0; a < m->naxes; a++) {
        const char *l = m->axis[a].val[sel[a]].label;
        if (a > 0) out[w++] = '-';
        for (; *l && w + 1 < CH_MATRIX_ID_LEN; l++) out[w++] = (char)(*l >= 'A' && *l <= 'Z' ? *l + 32 : *l);
        out[w] = '\0';
    }
}

/* The labels of one guard, s[i..] up to and including ']': *match is set when one is the cell's label. Returns
 * the index after ']', or 0 with err/at. */
static size_t guard_labels(const struct ch_axis *ax, int cur, const char *s, size_t n, size_t i, int *match,
                           size_t *at, char *err)
{
    for (;;) {
        size_t ll = label_len(s + i, n - i);
        int v = ll ? find_label(ax, s + i, ll) : -1;
        *at = i;
        if (v < 0) {
            if (ll) ch_errf(err, "axis '%s' has no label '%.*s'", ax->name, (int)ll, s + i);
            else ch_errf(err, "a bad guard: a label expected");
            return 0;
        }
        *match |= v == cur;
        i += ll;
        if (i < n && s[i] == ']') return i + 1;
        if (i >= n || s[i] != ',') {
            *at = i;
            ch_errf(err, "a bad guard: ',' or ']' expected");
            return 0;
        }
        i++;
    }
}

/* One guard at s[0] == '['. Returns the index after ']' with *holds set, or 0 with err/at. */
static size_t one_guard(const struct ch_matrix *m, const int *sel, const char *s, size_t n, int *holds,
                        size_t *at, char *err)
{
    size_t i = 1, nl = name_len(s + 1, n - 1), end;
    int a = nl ? find_axis(m, s + 1, nl) : -1, negate, match = 0;
    *at = 1;
    if (a < 0) {
        if (nl) ch_errf(err, "unknown axis '%.*s' in a guard", (int)nl, s + 1);
        else ch_errf(err, "a bad guard (write [NAME=label,...] or [NAME!=label,...])");
        return 0;
    }
    i += nl;
    negate = i + 1 < n && s[i] == '!' && s[i + 1] == '=';
    if (!negate && (i >= n || s[i] != '=')) {
        *at = i;
        ch_errf(err, "a bad guard: '=' or '!=' after the axis name");
        return 0;
    }
    i += negate ? 2 : 1;
    end = guard_labels(&m->axis[a], sel[a], s, n, i, &match, at, err);
    *holds = negate ? !match : match;
    return end;
}

int ch_matrix_guards(const struct ch_matrix *m, const int *sel, const char *s, size_t n, size_t *consumed,
                     int *holds, size_t *at, char *err)
{
    size_t i = 0;
    *holds = 1;
    *consumed = 0;
    while (i < n && s[i] == '[') {
        int h = 1;
        size_t gat = 0, end;
        if (m->naxes == 0) {
            *at = i;
            return ch_errf(err, "a guard, but the file declares no matrix");
        }
        end = one_guard(m, sel, s + i, n - i, &h, &gat, err);
        if (!end) {
            *at = i + gat;
            return -1;
        }
        *holds = *holds && h;
        i += end;
        while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    }
    *consumed = i;
    return 0;
}

/* A growable output buffer with its offset map. */
struct sbuf {
    char *p;
    size_t *map;
    size_t len, cap;
};

/* Room for `need` bytes (and as many map entries) in all. */
static void sgrow(struct sbuf *b, size_t need)
{
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->p = ch_xrealloc(b->p, cap);
    b->map = ch_xrealloc(b->map, cap * sizeof *b->map);
    b->cap = cap;
}

static void sput(struct sbuf *b, const char *s, size_t n, size_t from, int same_origin)
{
    sgrow(b, b->len + n + 1);
    memcpy(b->p + b->len, s, n);
    for (size_t k = 0; k < n; k++) b->map[b->len + k] = same_origin ? from : from + k;
    b->len += n;
    b->p[b->len] = '\0';
}

/* The `$...` reference at s[i] == '$': sets *val and *vlen (the replacement) and returns its source length, or 0
 * with err. */
static size_t dollar(const struct ch_matrix *m, const int *sel, const char *s, size_t n, size_t i,
                     const char **val, size_t *vlen, char *err)
{
    size_t start = i + 1, nl;
    int braced = start < n && s[start] == '{', a;
    if (start < n && s[start] == '$') {
        *val = "$";
        *vlen = 1;
        return 2;
    }
    if (braced) start++;
    nl = name_len(s + start, n - start);
    if (nl == 0 || (braced && (start + nl >= n || s[start + nl] != '}'))) {
        ch_errf(err, braced ? "a bad ${NAME} reference" : "a lone '$' (write '$$' for a literal '$')");
        return 0;
    }
    a = find_axis(m, s + start, nl);
    if (a < 0) {
        ch_errf(err, "unknown axis '$%.*s'", (int)nl, s + start);
        return 0;
    }
    *val = m->axis[a].val[sel[a]].text;
    *vlen = m->axis[a].val[sel[a]].len;
    return start + nl - i + (braced ? 1 : 0);
}

int ch_matrix_subst(const struct ch_matrix *m, const int *sel, const char *s, size_t n, char **out,
                    size_t *outlen, size_t **map, size_t *at, char *err)
{
    struct sbuf b = {0};
    size_t i = 0, lit = 0;
    sgrow(&b, n + 1); /* the line's own length: all it takes without a `$` */
    sput(&b, "", 0, 0, 0);
    while (m->naxes > 0 && i < n) {
        const char *val, *d = memchr(s + i, '$', n - i);
        size_t vlen, used;
        if (!d) break;
        i = (size_t)(d - s);
        used = dollar(m, sel, s, n, i, &val, &vlen, err);
        if (!used) {
            *at = i;
            free(b.p);
            free(b.map);
            return -1;
        }
        sput(&b, s + lit, i - lit, lit, 0);
        sput(&b, val, vlen, i, 1);
        i += used;
        lit = i;
    }
    sput(&b, s + lit, n - lit, lit, 0);
    b.map[b.len] = n;
    *out = b.p;
    *outlen = b.len;
    *map = b.map;
    return 0;
}

void ch_matrix_free(struct ch_matrix *m)
{
    for (size_t a = 0; a < m->naxes; a++) {
        for (size_t v = 0; v < m->axis[a].nval; v++) free(m->axis[a].val[v].text);
        free(m->axis[a].val);
    }
    free(m->ex);
    memset(m, 0, sizeof *m);
}
