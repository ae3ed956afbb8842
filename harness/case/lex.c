/* lex.c — see lex.h. Every rule here is cases/FORMAT.md §1. */
#include "lex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Fills one line record from text[start..end): line end and trailing blanks dropped, indentation counted,
 * blank and comment lines marked. */
static void make_line(struct ch_line *ln, int no, const char *start, size_t len)
{
    while (len > 0 && (is_blank(start[len - 1]) || start[len - 1] == '\r')) len--;
    size_t i = 0;
    while (i < len && start[i] == ' ') i++;
    size_t first = i;
    while (first < len && is_blank(start[first])) first++;
    ln->no = no;
    ln->text = start;
    ln->len = len;
    ln->indent = i;
    ln->content = first < len && start[first] != '#';
}

struct ch_line *ch_lex_lines(const char *text, size_t len, size_t *n)
{
    size_t count = 0, cap = 16;
    struct ch_line *lines = ch_xmalloc(cap * sizeof *lines);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (count == cap) {
            lines = ch_xrealloc(lines, 2 * cap * sizeof *lines);
            cap *= 2;
        }
        make_line(&lines[count], (int)count + 1, p, l);
        count++;
        p += l + 1;
    }
    *n = count;
    return lines;
}

/* Offset of the first byte of s[0..n) that breaks UTF-8 text (RFC 3629; NUL counts as breaking), or n. */
static size_t utf8_bad_offset(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
        if (k > n - i || !ch_utf8_text((const unsigned char *)s + i, k)) return i;
        i += k;
    }
    return n;
}

int ch_lex_check_line(const struct ch_line *ln, size_t *at, char *err)
{
    size_t bad = utf8_bad_offset(ln->text, ln->len);
    if (bad < ln->len) {
        *at = bad;
        return ch_errf(err, ln->text[bad] ? "the line is not UTF-8 text" : "a NUL byte in the line");
    }
    for (size_t i = 0; i < ln->len && is_blank(ln->text[i]); i++) {
        if (ln->text[i] == '\t') {
            *at = i;
            return ch_errf(err, "a tab in the indentation (indent with spaces)");
        }
    }
    return 0;
}

int ch_lex_col(const char *line, size_t len, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off && i < len; i++)
        if (((unsigned char)line[i] & 0xc0) != 0x80) col++;
    return col;
}

/* Index just past the closing quote of the string opening at s[i], or 0 if it is unterminated. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++) {
        if (s[j] == '\\') j++;
        else if (s[j] == '"') return j + 1;
    }
    return 0;
}

/* Scans one word starting at s[i] (not blank). Returns the index after it, or 0 with err/at. */
static size_t scan_word(const char *s, size_t n, size_t i, size_t *at, char *err)
{
    int depth = 0;
    size_t open = 0;
    while (i < n && (depth > 0 || !is_blank(s[i]))) {
        if (s[i] == '"') {
            size_t j = skip_string(s, n, i);
            if (!j) {
                *at = i;
                ch_errf(err, "an unterminated string");
                return 0;
            }
            i = j;
            continue;
        }
        if (s[i] == '(' && depth++ == 0) open = i;
        else if (s[i] == ')' && depth > 0) depth--;
        i++;
    }
    if (depth > 0) {
        *at = open;
        ch_errf(err, "an unbalanced '(' (no matching ')')");
        return 0;
    }
    return i;
}

int ch_lex_words(const char *s, size_t n, struct ch_tok **tok, size_t *ntok, size_t *at, char *err)
{
    size_t count = 0, cap = 8, i = 0;
    struct ch_tok *t = ch_xmalloc(cap * sizeof *t);
    for (;;) {
        while (i < n && is_blank(s[i])) i++;
        if (i >= n) break;
        size_t end = scan_word(s, n, i, at, err);
        if (!end) {
            free(t);
            return -1;
        }
        if (count == cap) {
            t = ch_xrealloc(t, 2 * cap * sizeof *t);
            cap *= 2;
        }
        t[count].off = i;
        t[count].len = end - i;
        count++;
        i = end;
    }
    *tok = t;
    *ntok = count;
    return 0;
}

int ch_lex_is_string(const char *s, size_t n)
{
    return n >= 2 && s[0] == '"' && skip_string(s, n, 0) == n;
}

/* Appends the UTF-8 encoding of code point cp (already checked to be a scalar value) to out. */
static size_t put_utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* `\u{H..}` at s[i] == 'u': 1 to 6 hex digits naming a Unicode scalar value. Returns the index after '}'. */
static size_t escape_u(const char *s, size_t n, size_t i, char *out, size_t *w, char *err)
{
    uint32_t cp = 0;
    size_t j = i + 1, digits = 0;
    if (j >= n || s[j] != '{') {
        ch_errf(err, "a bad escape '\\u' (write \\u{H..})");
        return 0;
    }
    for (j++; j < n && hex_digit(s[j]) >= 0 && digits < 7; j++, digits++) cp = cp << 4 | (uint32_t)hex_digit(s[j]);
    if (j >= n || s[j] != '}' || digits == 0 || digits > 6) {
        ch_errf(err, "a bad escape: \\u{...} takes 1 to 6 hex digits");
        return 0;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        ch_errf(err, "a bad escape: \\u{%X} is not a Unicode scalar value", (unsigned)cp);
        return 0;
    }
    *w += put_utf8(cp, out + *w);
    return j + 1;
}

/* One escape at s[i] == '\\'. Writes its bytes at out + *w. Returns the index after it, or 0 with err. */
static size_t escape(const char *s, size_t n, size_t i, char *out, size_t *w, char *err)
{
    static const char simple[] = "\\\\\"\"n\nr\rt\t0";
    char c = i + 1 < n ? s[i + 1] : '\0';
    for (size_t k = 0; k < sizeof simple - 1; k += 2) {
        if (c == simple[k]) {
            out[(*w)++] = simple[k + 1]; /* the last pair is '0' and the terminating NUL */
            return i + 2;
        }
    }
    if (c == 'x') {
        int hi = i + 2 < n ? hex_digit(s[i + 2]) : -1, lo = i + 3 < n ? hex_digit(s[i + 3]) : -1;
        if (hi < 0 || lo < 0) {
            ch_errf(err, "a bad escape: \\x takes two hex digits");
            return 0;
        }
        out[(*w)++] = (char)(hi << 4 | lo);
        return i + 4;
    }
    if (c == 'u') return escape_u(s, n, i + 1, out, w, err);
    if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) ch_errf(err, "a bad escape '\\'");
    else ch_errf(err, "a bad escape '\\%c'", c);
    return 0;
}

long ch_lex_string(const char *s, size_t n, char **out, size_t *outlen, size_t *at, char *err)
{
    size_t end = n && s[0] == '"' ? skip_string(s, n, 0) : 0, w = 0, i = 1;
    if (!end) {
        *at = 0;
        return ch_errf(err, n && s[0] == '"' ? "an unterminated string" : "expected a string");
    }
    /* The decoded form is never longer than the source: each escape is at least as long as its bytes. */
    char *buf = ch_xmalloc(end);
    while (i < end - 1) {
        if (s[i] != '\\') {
            buf[w++] = s[i++];
            continue;
        }
        size_t next = escape(s, end - 1, i, buf, &w, err);
        if (!next) {
            *at = i;
            free(buf);
            return -1;
        }
        i = next;
    }
    buf[w] = '\0';
    *out = buf;
    *outlen = w;
    return (long)end;
}

/* ---- string expressions (FORMAT.md §1.4) ---------------------------------------------------------- */

/* One term of an expression: a decoded string and how many times it stands. */
struct term {
    char *b;
    size_t len, count, star; /* star: offset of its '*', for the over-the-limit error */
};

/* The count after the '*' at s[i]: digits, no leading zero. Returns the index after it, or 0 with err/at. */
static size_t count_after_star(const char *s, size_t n, size_t i, size_t *count, size_t *at, char *err)
{
    size_t j = i + 1;
    long v;
    while (j < n && s[j] >= '0' && s[j] <= '9') j++;
    if (j == i + 1 || ch_lex_int(s + i + 1, j - i - 1, 0, CH_LEX_MAX_STRING, &v) < 0) {
        *at = i + 1;
        ch_errf(err, "a count after '*': 0 to %ld, no leading zeros (write \"a\"*123)", CH_LEX_MAX_STRING);
        return 0;
    }
    *count = (size_t)v;
    return j;
}

/* Reads the terms of the expression at s[0]. Returns the bytes taken, or -1 with err/at; *t is malloc'd (also
 * on error: the caller frees its strings and the array). */
static long read_terms(const char *s, size_t n, struct term **t, size_t *nt, size_t *at, char *err)
{
    size_t i = 0, cap = 0;
    for (;;) {
        struct term tm = {.count = 1, .star = i};
        long used = ch_lex_string(s + i, n - i, &tm.b, &tm.len, at, err);
        if (used < 0) {
            *at += i;
            return -1;
        }
        if (*nt == cap) {
            struct term *more = realloc(*t, (cap ? 2 * cap : 4) * sizeof *more);
            if (!more) {
                free(tm.b);
                return ch_errf(err, "out of memory");
            }
            *t = more;
            cap = cap ? 2 * cap : 4;
        }
        (*t)[(*nt)++] = tm;
        i += (size_t)used;
        if (i < n && s[i] == '*') {
            (*t)[*nt - 1].star = i;
            if (!(i = count_after_star(s, n, i, &(*t)[*nt - 1].count, at, err))) return -1;
            if (i < n && s[i] == '*') {
                *at = i;
                return ch_errf(err, "a second '*' (one count per string: \"ab\"*6, not \"ab\"*2*3)");
            }
        }
        if (i >= n || s[i] != '+') return (long)i;
        if (i + 1 >= n || s[i + 1] != '"') {
            *at = i + 1;
            return ch_errf(err, "a string after '+' (write \"a\"+\"b\", without blanks)");
        }
        i++;
    }
}

long ch_lex_strexpr(const char *s, size_t n, size_t max, char **out, size_t *outlen, size_t *at, char *err)
{
    struct term *t = NULL;
    size_t nt = 0, total = 0;
    long used = read_terms(s, n, &t, &nt, at, err);
    char *buf = NULL;
    for (size_t k = 0; used >= 0 && k < nt; k++) {
        if (t[k].len && t[k].count > (max - total) / t[k].len) {
            *at = t[k].star;
            ch_errf(err, "the string would hold more than %zu bytes (write a shorter count)", max);
            used = -2;
            break;
        }
        total += t[k].len * t[k].count;
    }
    if (used >= 0 && !(buf = malloc(total + 1))) used = ch_errf(err, "out of memory");
    if (used >= 0) {
        size_t w = 0;
        for (size_t k = 0; k < nt; k++) {
            size_t seg = t[k].len * t[k].count, done = t[k].len;
            if (seg == 0) continue;
            memcpy(buf + w, t[k].b, t[k].len);
            while (done < seg) { /* doubling: a 16 MiB run in 24 copies, not 16 million */
                size_t more = done < seg - done ? done : seg - done;
                memcpy(buf + w + done, buf + w, more);
                done += more;
            }
            w += seg;
        }
        buf[total] = '\0';
        *out = buf;
        *outlen = total;
    }
    for (size_t k = 0; k < nt; k++) free(t[k].b);
    free(t);
    return used;
}

int ch_lex_is_strexpr(const char *s, size_t n)
{
    size_t j = n > 0 && s[0] == '"' ? skip_string(s, n, 0) : 0;
    return j > 0 && (j == n || s[j] == '*' || s[j] == '+');
}

/* ---- literal blocks (FORMAT.md §1.5) --------------------------------------------------------------- */

static int is_upper(char ch)
{
    return ch >= 'A' && ch <= 'Z';
}

int ch_lex_is_opener(const char *s, size_t n)
{
    return n >= 3 && s[0] == '<' && s[1] == '<' && is_upper(s[2]);
}

size_t ch_lex_find_opener(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            size_t j = skip_string(s, n, i);
            if (!j) return n;
            i = j - 1;
            continue;
        }
        int starts = i == 0 || is_blank(s[i - 1]) || s[i - 1] == '=' || s[i - 1] == '(';
        if (starts && ch_lex_is_opener(s + i, n - i)) return i;
    }
    return n;
}

/* One option word s[0..n) into o; which[0] counts line ends, which[1] chomps. */
static int block_option(const char *s, size_t n, struct ch_block_opener *o, int which[2])
{
    static const struct { const char *word; enum ch_eol eol; } eols[] = {
        {"crlf", CH_EOL_CRLF}, {"lf", CH_EOL_LF}, {"cr", CH_EOL_CR}};
    for (size_t k = 0; k < sizeof eols / sizeof *eols; k++) {
        if (strlen(eols[k].word) == n && memcmp(s, eols[k].word, n) == 0) {
            o->eol = eols[k].eol;
            return which[0]++ ? -1 : 0;
        }
    }
    if (n == 5 && memcmp(s, "chomp", 5) == 0) {
        o->chomp = 1;
        return which[1]++ ? -1 : 0;
    }
    return -1;
}

long ch_lex_block_opener(const char *s, size_t n, struct ch_block_opener *o, size_t *at, char *err)
{
    static const char usage[] = "write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop "
                                "the last line end";
    size_t i = 2, w = 0;
    int which[2] = {0, 0};
    memset(o, 0, sizeof *o);
    while (i < n && (is_upper(s[i]) || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) {
        if (w == CH_LEX_TAG_LEN) {
            o->tag[0] = '\0';
            *at = 2;
            return ch_errf(err, "a block tag longer than %d characters", CH_LEX_TAG_LEN);
        }
        o->tag[w++] = s[i++];
    }
    o->tag[w] = '\0';
    if (i < n && s[i] != '(' && !is_blank(s[i])) {
        *at = i;
        return ch_errf(err, "a bad character in a block tag (write [A-Z][A-Z0-9_]*, then the options)");
    }
    if (i >= n || s[i] != '(') {
        *at = i;
        return ch_errf(err, "a block names its line end: %s", usage);
    }
    for (i++;;) {
        while (i < n && is_blank(s[i])) i++;
        size_t start = i;
        while (i < n && s[i] >= 'a' && s[i] <= 'z') i++;
        size_t end = i;
        while (i < n && is_blank(s[i])) i++;
        if (block_option(s + start, end - start, o, which) < 0 || i >= n || (s[i] != ',' && s[i] != ')')) {
            *at = start;
            return ch_errf(err, "a bad block option (%s)", usage);
        }
        if (s[i++] == ')') break;
    }
    if (which[0] == 0) {
        *at = 2 + w;
        return ch_errf(err, "a block names its line end: %s", usage);
    }
    return (long)i;
}

size_t ch_lex_block_end(const struct ch_line *lines, size_t n, size_t open, const char *tag)
{
    size_t tl = strlen(tag);
    for (size_t j = open + 1; j < n; j++)
        if (lines[j].len - lines[j].indent == tl && memcmp(lines[j].text + lines[j].indent, tag, tl) == 0) return j;
    return n;
}

int ch_lex_check_block_line(const struct ch_line *ln, size_t strip, size_t *at, char *err)
{
    size_t bad = utf8_bad_offset(ln->text, ln->len);
    if (bad < ln->len) {
        *at = bad;
        return ch_errf(err, ln->text[bad] ? "the line is not UTF-8 text" : "a NUL byte in the line");
    }
    if (ln->len > 0 && ln->indent < strip) {
        *at = ln->indent;
        return ch_errf(err, "a block line indented less than the line that closes the block (%zu spaces)", strip);
    }
    return 0;
}

int ch_lex_int(const char *s, size_t n, long min, long max, long *v)
{
    size_t i = 0;
    long x = 0;
    int neg = 0;
    if (n > 0 && s[0] == '-' && min < 0) {
        neg = 1;
        i = 1;
    }
    if (i >= n || (s[i] == '0' && n - i > 1)) return -1;
    for (size_t k = i; k < n; k++)
        if (s[k] < '0' || s[k] > '9') return -1;
    if (n - i > 18) return -2;
    for (; i < n; i++) x = x * 10 + (s[i] - '0');
    if (neg) x = -x;
    if (x < min || x > max) return -2;
    *v = x;
    return 0;
}

int ch_lex_duration(const char *s, size_t n, long *ms, char *err)
{
    size_t i = 0, frac_digits = 0;
    long whole = 0, frac = 0;
    while (i < n && i < 10 && s[i] >= '0' && s[i] <= '9') whole = whole * 10 + (s[i++] - '0');
    if (i == 0) return ch_errf(err, "'%.*s' is not a duration (write 300ms or 2s)", (int)(n > 40 ? 40 : n), s);
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9' && frac_digits < 4; i++, frac_digits++)
            frac = frac * 10 + (s[i] - '0');
        if (frac_digits == 0 || (i < n && s[i] >= '0' && s[i] <= '9'))
            return ch_errf(err, "'%.*s' is not a duration (write 300ms or 2s)", (int)(n > 40 ? 40 : n), s);
    }
    const char *unit = s + i;
    size_t ulen = n - i;
    long scale;
    if (ulen == 2 && memcmp(unit, "ms", 2) == 0) scale = 1;
    else if (ulen == 1 && unit[0] == 's') scale = 1000;
    else if (ulen == 0) return ch_errf(err, "'%.*s' is a number, not a duration (add ms or s)", (int)n, s);
    else return ch_errf(err, "'%.*s' is not a duration (units: ms, s)", (int)(n > 40 ? 40 : n), s);
    long pow10 = 1;
    for (size_t k = 0; k < frac_digits; k++) pow10 *= 10;
    if ((frac * scale) % pow10 != 0)
        return ch_errf(err, "'%.*s' is not a whole number of milliseconds", (int)n, s);
    if (whole > CH_LEX_MAX_MS / scale || whole * scale + frac * scale / pow10 > CH_LEX_MAX_MS)
        return ch_errf(err, "'%.*s' is too long (at most 24 hours)", (int)n, s);
    *ms = whole * scale + frac * scale / pow10;
    return 0;
}

int ch_lex_hex(const char *s, size_t n, unsigned char **out, size_t *outlen, size_t *at, char *err)
{
    unsigned char *buf = ch_xmalloc(n / 2 + 1);
    size_t w = 0, first = n;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        if (is_blank(s[i])) continue;
        int v = hex_digit(s[i]);
        if (v < 0) {
            *at = i;
            free(buf);
            return ch_errf(err, "'%c' is not a hex digit", s[i] >= 0x21 && s[i] < 0x7f ? s[i] : '?');
        }
        if (hi < 0) {
            hi = v;
            first = i;
        } else {
            buf[w++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        *at = first;
        free(buf);
        return ch_errf(err, "an odd number of hex digits");
    }
    *out = buf;
    *outlen = w;
    return 0;
}
