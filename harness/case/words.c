/* words.c — what every section parser reads a case with (script_int.h, "words"): errors at file:line:col
 * (collected into the file's error list, an error repeated by every cell listed once), the words of a
 * statement, strings, string expressions and blocks (FORMAT.md §1.3-§1.5), durations, integers, placeholders,
 * the cell's client objects by name, and the word registry (sc_vocab_add) the files' word tables fill.
 *
 * Contract: this file reads a statement and the file context (struct pctx, struct fctx) and reports; it calls
 * no section parser, no lint and no vocabulary (only lex.c and matrix.c below it), so every other file of the
 * parser may use it and it uses none of them. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"
#include "core/core.h"

/* ---- errors ---------------------------------------------------------------------------------------- */

/* Copies s into out (size n), replacing bytes that break UTF-8 by '?', so a message quoting a cut word is
 * still valid JSON text. */
static void sanitize(const char *s, char *out, size_t n)
{
    size_t i = 0, w = 0, len = strlen(s);
    if (len < n && ch_utf8_text((const unsigned char *)s, len)) { /* the usual message: as it is */
        memcpy(out, s, len + 1);
        return;
    }
    while (i < len && w + 1 < n) {
        unsigned char ch = (unsigned char)s[i];
        size_t k = ch < 0x80 ? 1 : (ch & 0xe0) == 0xc0 ? 2 : (ch & 0xf0) == 0xe0 ? 3 : (ch & 0xf8) == 0xf0 ? 4 : 1;
        if (k > len - i || w + k >= n || !ch_utf8_text((const unsigned char *)s + i, k)) {
            out[w++] = '?';
            i++;
            continue;
        }
        memcpy(out + w, s + i, k);
        w += k;
        i += k;
    }
    out[w] = '\0';
}

/* 1 if file f lists an error at line:col with this message already. A matrix repeats every line in each of its
 * cells, so most errors come again: the positions kept beside the list (fctx.at) are compared first. */
static int listed(const struct fctx *f, int line, int col, const char *msg)
{
    for (int i = 0; i < f->nerr; i++) {
        if (f->at[i].line != line || f->at[i].col != col) continue;
        json_t *e = json_array_get(f->errs, f->errs_first + (size_t)i); /* NULL after an append out of memory */
        const char *m = json_string_value(json_object_get(e, "message"));
        if (m && strcmp(m, msg) == 0) return 1;
    }
    return 0;
}

/* Appends one error of file f (unless already listed) and returns -1. After SC_MAX_ERRORS, one last
 * "too many errors" entry in place of the next new error, then nothing. */
static int add_error(struct fctx *f, int line, int col, const char *cell, const char *raw)
{
    char msg[CH_ERR_LEN], path[1024];
    if (f->nerr > SC_MAX_ERRORS) return -1;
    sanitize(raw, msg, sizeof msg);
    if (listed(f, line, col, msg)) return -1;
    if (f->nerr == SC_MAX_ERRORS) snprintf(msg, sizeof msg, "too many errors; the rest of the file is not checked");
    sanitize(f->path, path, sizeof path);
    json_t *e = json_pack("{s:s, s:i, s:i, s:s}", "file", path, "line", line, "col", col, "message", msg);
    if (e && cell) json_object_set_new(e, "cell", json_string(cell));
    json_array_append_new(f->errs, e);
    f->at[f->nerr].line = line;
    f->at[f->nerr].col = col;
    f->nerr++;
    return -1;
}

int sc_ferr(struct fctx *f, int line, int col, const char *cell, const char *fmt, ...)
{
    char raw[CH_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    return add_error(f, line, col, cell, raw);
}

/* An error of cell c at a file position (not within one of the cell's lines). Errors that every cell would
 * hit alike (guards, `$NAME`) name no cell: use_cell 0. */
int sc_cerr(struct pctx *c, int use_cell, int line, int col, const char *fmt, ...)
{
    char raw[CH_ERR_LEN];
    va_list ap;
    c->errors++;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    return add_error(c->f, line, col, use_cell ? c->cell : NULL, raw);
}

static int vsc_err(struct pctx *c, const struct sline *ln, size_t off, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int vsc_err(struct pctx *c, const struct sline *ln, size_t off, const char *fmt, va_list ap)
{
    char msg[CH_ERR_LEN];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t src = ln->map[off < ln->len ? off : ln->len];
    c->errors++;
    return add_error(c->f, ln->src->no, ch_lex_col(ln->src->text, ln->src->len, src), c->cell, msg);
}

int sc_err(struct pctx *c, const struct sline *ln, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsc_err(c, ln, off, fmt, ap);
    va_end(ap);
    return -1;
}

int sc_err_at(struct pctx *c, int line, int col, const char *fmt, ...)
{
    char msg[CH_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->errors++;
    return add_error(c->f, line, col, c->cell, msg);
}

int sc_err_word(struct pctx *c, const struct stmt *st, size_t k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsc_err(c, st->ln, sc_off(st, k), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- words ----------------------------------------------------------------------------------------- */

size_t sc_nwords(const struct stmt *st)
{
    return st->ln->ntok > st->first ? st->ln->ntok - st->first : 0;
}

const char *sc_word(const struct stmt *st, size_t k, size_t *len)
{
    if (k >= sc_nwords(st)) {
        *len = 0;
        return NULL;
    }
    *len = st->ln->tok[st->first + k].len;
    return st->ln->text + st->ln->tok[st->first + k].off;
}

int sc_is(const struct stmt *st, size_t k, const char *w)
{
    size_t n;
    const char *s = sc_word(st, k, &n);
    return s && strlen(w) == n && memcmp(s, w, n) == 0;
}

size_t sc_off(const struct stmt *st, size_t k)
{
    return k < sc_nwords(st) ? st->ln->tok[st->first + k].off : st->ln->len;
}

int sc_args(struct pctx *c, const struct stmt *st, size_t min, size_t max, const char *usage)
{
    size_t n = sc_nwords(st) - 1, len;
    if (n < min) return sc_err_word(c, st, n + 1, "missing words (write: %s)", usage);
    if (n > max) {
        const char *w = sc_word(st, max + 1, &len);
        return sc_err_word(c, st, max + 1, "unexpected '%.*s' (write: %s)", (int)(len > 40 ? 40 : len), w, usage);
    }
    return 0;
}

int sc_utf8(const char *b, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *z = memchr(b + i, '\0', n - i);
        size_t seg = z ? (size_t)(z - (b + i)) : n - i;
        if (!ch_utf8_text((const unsigned char *)b + i, seg)) return 0;
        i += seg + 1;
    }
    return 1;
}

/* ---- strings, string expressions and blocks (FORMAT.md §1.3-§1.5) -------------------------------- */

int sc_string_start(const char *s, size_t n)
{
    return (n > 0 && s[0] == '"') || ch_lex_is_opener(s, n);
}

/* Appends s[0..n) to a growing buffer (*cap bytes allocated). */
static void put(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 256;
        while (ncap < *len + n + 1) ncap *= 2;
        char *more = realloc(*b, ncap);
        if (!more) abort(); /* out of memory while parsing a case file */
        *b = more;
        *cap = ncap;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    (*b)[*len] = '\0';
}

/* One line of block b, its indentation removed and `$NAME` replaced, appended to the buffer. */
static int block_line(struct pctx *c, const struct sc_block *b, size_t j, char **buf, size_t *len, size_t *cap)
{
    const struct ch_line *ln = &c->f->lines[j];
    size_t from = ln->len > b->strip ? b->strip : ln->len, outlen, *map, at = 0;
    char *out, err[CH_ERR_LEN];
    if (ch_matrix_subst(&c->f->matrix, c->sel, ln->text + from, ln->len - from, &out, &outlen, &map, &at, err) < 0)
        return sc_cerr(c, 0, ln->no, ch_lex_col(ln->text, ln->len, from + at), "%s", err);
    put(buf, len, cap, out, outlen);
    free(out);
    free(map);
    return 0;
}

/* The block whose opener stands at ln->text[i]: its bytes, each line followed by the line end (but the last,
 * with chomp). Returns the opener's length, or -1 after an error. */
static long sc_block(struct pctx *c, const struct sline *ln, size_t i, size_t end, char **out, size_t *outlen)
{
    static const char *const eols[] = {[CH_EOL_CRLF] = "\r\n", [CH_EOL_LF] = "\n", [CH_EOL_CR] = "\r"};
    struct ch_block_opener op;
    size_t line = (size_t)(ln->src - c->f->lines), at = 0, len = 0, cap = 0, k = 0;
    char err[CH_ERR_LEN], *buf = NULL;
    long used = ch_lex_block_opener(ln->text + i, end - i, &op, &at, err);
    if (used < 0) return sc_err(c, ln, i + at, "%s", err);
    while (k < c->f->nblocks && !(c->f->blocks[k].line == line && c->f->blocks[k].at == ln->map[i])) k++;
    if (k == c->f->nblocks)
        return sc_err(c, ln, i, "a block opens only where <<TAG is written in the file, once a line (not from $NAME)");
    const struct sc_block *b = &c->f->blocks[k];
    c->block_used[k] = 1;
    if (b->bad) { /* its error is listed already (read_block) */
        c->errors++;
        return -1;
    }
    put(&buf, &len, &cap, "", 0);
    for (size_t j = b->first; j < b->first + b->count; j++) {
        if (block_line(c, b, j, &buf, &len, &cap) < 0) {
            free(buf);
            return -1;
        }
        if (!(b->opener.chomp && j + 1 == b->first + b->count))
            put(&buf, &len, &cap, eols[b->opener.eol], strlen(eols[b->opener.eol]));
    }
    *out = buf;
    *outlen = len;
    return used;
}

long sc_decode(struct pctx *c, const struct sline *ln, size_t i, size_t end, char **out, size_t *len)
{
    size_t at = 0, left = SC_MAX_REPEATED - c->f->repeated, max = end - i + left;
    char err[CH_ERR_LEN];
    static const char budget[] = "string expressions make more than %u bytes in this file (all its cells together)";
    if (ch_lex_is_opener(ln->text + i, end - i)) return sc_block(c, ln, i, end, out, len);
    if (max > (size_t)CH_LEX_MAX_STRING) max = (size_t)CH_LEX_MAX_STRING;
    long used = ch_lex_strexpr(ln->text + i, end - i, max, out, len, &at, err);
    if (used == -2 && max < (size_t)CH_LEX_MAX_STRING) return sc_err(c, ln, i + at, budget, SC_MAX_REPEATED);
    if (used < 0) return sc_err(c, ln, i + at, "%s", err);
    if (*len > (size_t)used && *len - (size_t)used > left) {
        free(*out);
        return sc_err(c, ln, i, budget, SC_MAX_REPEATED);
    }
    if (*len > (size_t)used) c->f->repeated += *len - (size_t)used;
    return used;
}

int sc_string(struct pctx *c, const struct stmt *st, size_t k, char **out, size_t *len)
{
    size_t n, off = sc_off(st, k);
    const char *w = sc_word(st, k, &n);
    if (!w || !sc_string_start(w, n)) return sc_err_word(c, st, k, "a string expected (\"...\")");
    long used = sc_decode(c, st->ln, off, off + n, out, len);
    if (used < 0) return -1;
    if ((size_t)used < n) {
        char next = st->ln->text[off + (size_t)used];
        free(*out);
        if (w[0] != '"') return sc_err(c, st->ln, off + (size_t)used, "unexpected '%c' after the block's opener", next);
        return sc_err(c, st->ln, off + (size_t)used, "unexpected '%c' after the string (no blanks in \"a\"*3+\"b\")", next);
    }
    return 0;
}

json_t *sc_text(struct pctx *c, const struct stmt *st, size_t k, const char *tmpl)
{
    size_t n, blen;
    char *b;
    const char *w = sc_word(st, k, &n);
    json_t *v;
    if (!w) return sc_err_word(c, st, k, "missing a word or string"), NULL;
    if (!sc_string_start(w, n)) {
        if (memchr(w, '"', n)) return sc_err_word(c, st, k, "a stray '\"' in a word (quote the whole value)"), NULL;
        if (sc_tmpl(c, st->ln, sc_off(st, k), w, n, tmpl, 1) < 0) return NULL;
        return json_stringn(w, n);
    }
    if (sc_string(c, st, k, &b, &blen) < 0) return NULL;
    if (!sc_utf8(b, blen)) {
        free(b);
        return sc_err_word(c, st, k, "the string is not UTF-8 text (use a hex form)"), NULL;
    }
    v = sc_tmpl(c, st->ln, sc_off(st, k), b, blen, tmpl, 0) < 0 ? NULL : json_stringn(b, blen);
    free(b);
    return v;
}

int sc_duration(struct pctx *c, const struct stmt *st, size_t k, long *ms)
{
    size_t n;
    char err[CH_ERR_LEN];
    const char *w = sc_word(st, k, &n);
    if (!w) return sc_err_word(c, st, k, "missing a duration (300ms, 2s)");
    if (ch_lex_duration(w, n, ms, err) < 0) return sc_err_word(c, st, k, "%s", err);
    return 0;
}

int sc_int(struct pctx *c, const struct stmt *st, size_t k, long min, long max, long *v, const char *what)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    int rc = w ? ch_lex_int(w, n, min, max, v) : -1;
    if (rc == -2) return sc_err_word(c, st, k, "%s %.*s is out of range %ld-%ld", what, (int)n, w, min, max);
    if (rc < 0) return sc_err_word(c, st, k, "bad %s '%.*s' (an integer %ld-%ld)", what, (int)(n > 40 ? 40 : n),
                                   w ? w : "", min, max);
    return 0;
}

int sc_tmpl(struct pctx *c, const struct sline *ln, size_t off, const char *s, size_t n, const char *tmpl,
            int exact)
{
    size_t at = 0;
    char err[CH_ERR_LEN];
    if (!tmpl || ch_tmpl_check(s, n, tmpl, &at, err) == 0) return 0;
    return sc_err(c, ln, exact ? off + at : off, "%s", err);
}

int sc_no_attachments(struct pctx *c, const struct stmt *st)
{
    if (st->natt == 0) return 0;
    return sc_err(c, st->att[0], 0, "only expectations take attachments (rule, spec, level)");
}

/* ---- the cell's client objects ---------------------------------------------------------------------- */

struct cobj *sc_find_obj(struct pctx *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->nobj; i++)
        if (strlen(c->obj[i].name) == len && memcmp(c->obj[i].name, name, len) == 0) return &c->obj[i];
    return NULL;
}

/* ---- the word registry ----------------------------------------------------------------------------- */

void sc_vocab_add(json_t *vocab, const char *group, const char *word)
{
    json_t *list = json_object_get(vocab, group);
    size_t i;
    json_t *v;
    if (!list) json_object_set_new(vocab, group, list = json_array());
    json_array_foreach(list, i, v)
        if (strcmp(json_string_value(v), word) == 0) return;
    json_array_append_new(list, json_string(word));
}

int sc_is_name(const char *w, size_t n)
{
    if (n == 0 || n >= SC_NAME_LEN || !((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z'))) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') ||
              w[i] == '_' || w[i] == '-'))
            return 0;
    return 1;
}
