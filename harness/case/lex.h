/* lex.h — the lexical layer of the case language (cases/FORMAT.md §1): lines, words, strings, string
 * expressions, literal blocks, integers, durations, hex. Pure functions over byte ranges, no global state.
 *
 * Error convention (core.h): a fallible function returns -1 and writes a one-line message into err
 * (CH_ERR_LEN bytes, may be NULL); where it says so it also sets *at to the byte offset, within the range it
 * was given, of the character the message is about, so the caller can turn it into a column. */
#ifndef CH_LEX_H
#define CH_LEX_H

#include <stddef.h>

#define CH_LEX_MAX_MS 86400000L /* the longest duration a case may write: one day */
#define CH_LEX_MAX_STRING (16L << 20) /* the most bytes one string expression may make (FORMAT.md §1.4) */
#define CH_LEX_TAG_LEN 32            /* the longest TAG of a literal block */

/* One physical line of a case file. */
struct ch_line {
    int no;           /* 1-based line number */
    const char *text; /* the line without its line end (LF or CRLF) and trailing blanks; not NUL-terminated */
    size_t len;
    size_t indent;    /* leading spaces */
    int content;      /* 1 for a line that is neither blank nor a comment (FORMAT.md §1) */
};

/* A word: text[off .. off+len) of the range given to ch_lex_words. */
struct ch_tok {
    size_t off, len;
};

/* Splits text into lines. Returns a malloc'd array (*n entries, pointing into text; caller frees the array
 * only). An empty text gives 0 lines. */
struct ch_line *ch_lex_lines(const char *text, size_t len, size_t *n);

/* Checks one line: not UTF-8 text (or a NUL byte), or a tab in the indentation. Returns 0, or -1 with err
 * and *at. */
int ch_lex_check_line(const struct ch_line *ln, size_t *at, char *err);

/* The 1-based column (in code points) of byte offset off of a line. */
int ch_lex_col(const char *line, size_t len, size_t off);

/* Splits s[0..n) into words: runs of non-blank bytes (blank = space or tab), where a double-quoted string
 * (escapes skipped) and a parenthesised group (nested, strings inside) may hold blanks. Returns 0 with a
 * malloc'd array in *tok (caller frees; non-NULL even when *ntok is 0), or -1 with err and *at on an
 * unterminated string or an unbalanced '('. */
int ch_lex_words(const char *s, size_t n, struct ch_tok **tok, size_t *ntok, size_t *at, char *err);

/* 1 if s[0..n) is exactly one double-quoted string. */
int ch_lex_is_string(const char *s, size_t n);

/* Decodes the double-quoted string at s[0] (escapes \\ \" \n \r \t \0 \xHH \u{H..}). Returns the number of
 * bytes consumed through the closing quote, with a malloc'd NUL-terminated copy in *out (*outlen bytes, NUL
 * bytes possible inside; caller frees); or -1 with err and *at. */
long ch_lex_string(const char *s, size_t n, char **out, size_t *outlen, size_t *at, char *err);

/* Decodes the string expression at s[0] (FORMAT.md §1.4): a string, optionally followed by `*N` (the string
 * N times, N a decimal integer from 0 to CH_LEX_MAX_STRING), then optionally `+` and another such term, and so
 * on, all without blanks: `"ab"*2+"c"` is "ababc". The expression ends before the first character that cannot
 * continue it. Returns the number of bytes of s it took, with a malloc'd NUL-terminated copy of the result in
 * *out (*outlen bytes, NUL bytes possible inside; caller frees); -1 with err and *at when it is malformed;
 * -2 with err and *at (the '*' whose term crosses the limit) when the result would hold more than max bytes
 * (nothing is allocated for it, *out is untouched). */
long ch_lex_strexpr(const char *s, size_t n, size_t max, char **out, size_t *outlen, size_t *at, char *err);

/* 1 if s[0..n) is meant as a string expression: a string that is all of it, or that '*' or '+' follows (whether
 * the rest is well-formed is for ch_lex_strexpr to say). */
int ch_lex_is_strexpr(const char *s, size_t n);

/* Literal blocks (FORMAT.md §1.5): an opener `<<TAG(EOL[, chomp])` on a line, the block's lines after it, and
 * a line holding TAG alone that closes it. */
enum ch_eol { CH_EOL_CRLF, CH_EOL_LF, CH_EOL_CR };

struct ch_block_opener {
    char tag[CH_LEX_TAG_LEN + 1];
    enum ch_eol eol; /* the line end after every line of the block */
    int chomp;       /* 1: none after the last line */
};

/* 1 if s[0..n) starts with a block opener: `<<` and an uppercase letter. */
int ch_lex_is_opener(const char *s, size_t n);

/* The offset of the first block opener in a line's text s[0..n) outside double-quoted strings that starts a
 * word or follows '=' or '(' (FORMAT.md §1.5), or n when there is none. */
size_t ch_lex_find_opener(const char *s, size_t n);

/* Parses the opener at s[0] (ch_lex_is_opener holds): TAG ([A-Z][A-Z0-9_]*, at most CH_LEX_TAG_LEN
 * characters) and its options in parentheses, one line end (crlf, lf or cr) and optionally chomp, separated by
 * commas. Returns the bytes it took, or -1 with err and *at; o->tag is filled whenever TAG itself is
 * well-formed (so the caller can still find the block's end after an error in the options). */
long ch_lex_block_opener(const char *s, size_t n, struct ch_block_opener *o, size_t *at, char *err);

/* Finds the line that closes a block opened on lines[open]: the first later line whose text, after its
 * indentation, is exactly tag. Returns its index, or n when no line closes the block. */
size_t ch_lex_block_end(const struct ch_line *lines, size_t n, size_t open, const char *tag);

/* Checks one line inside a block whose closing line is indented `strip` spaces: UTF-8 text without NUL, and
 * (unless it is empty) at least `strip` leading spaces. Returns 0, or -1 with err and *at. */
int ch_lex_check_block_line(const struct ch_line *ln, size_t strip, size_t *at, char *err);

/* Parses s[0..n) as a decimal integer (a leading '-' only when min < 0, no '+', no leading zeros except "0").
 * Returns 0, -1 when it is not an integer, -2 when it is outside [min, max]. Writes no message. */
int ch_lex_int(const char *s, size_t n, long min, long max, long *v);

/* Parses a duration `300ms`, `2s`, `1.5s` into whole milliseconds in [0, CH_LEX_MAX_MS]. Returns 0 or -1 with
 * err (a plain number, a fraction of a millisecond, an unknown unit, too long). */
int ch_lex_duration(const char *s, size_t n, long *ms, char *err);

/* Decodes hex digits (either case; blanks ignored) in s[0..n) into a malloc'd buffer (*outlen bytes; caller
 * frees). Returns 0, or -1 with err and *at on a non-hex character or an odd digit count. */
int ch_lex_hex(const char *s, size_t n, unsigned char **out, size_t *outlen, size_t *at, char *err);

#endif
