/* script_int.h — internals shared by the case parser's files; not an API for other modules.
 *
 *   script.c          files, cells, lines into sections, meta lines, the public API (case.h): the driver
 *   words.c           what every section is read with: errors at file:line:col, words, strings and blocks,
 *                     durations, integers, placeholders, client objects by name, the word registry
 *   script_server.c   server sections (FORMAT.md §4)
 *   script_client.c   client sections (FORMAT.md §5)
 *   script_expect.c   expect sections (FORMAT.md §6.2, §6.3)
 *   script_cors.c     cors sections and expect cors lines (FORMAT.md §7)
 *   script_pattern.c  values, event atoms and patterns (FORMAT.md §6.1)
 *   script_sse.c      event-stream server steps (FORMAT.md §4.5)
 *   script_ws.c       WebSocket server steps (FORMAT.md §4.4)
 *   vocab.c           the client vocabulary: kinds, events, properties, capabilities (declared once)
 *   lint.c            the checks that cannot fail, caught at check time (FORMAT.md §9)
 *
 * Which file uses which (nothing points back up): script.c calls the section files (script_server.c,
 * script_client.c, script_expect.c, script_cors.c), lint.c, vocab.c and words.c; the section files call
 * script_pattern.c, script_sse.c, script_ws.c (and script_expect.c script_cors.c's `expect cors` lines), lint.c,
 * vocab.c and words.c; script_pattern.c calls lint.c, vocab.c and words.c; lint.c calls vocab.c and words.c;
 * vocab.c calls words.c; words.c calls none of them (lex.c and matrix.c only).
 *
 * Cross-file functions carry the prefix `sc_`. Each parse function reports its own errors through sc_err*
 * (which collects them into the file's error list) and returns -1 or NULL after one; nothing is defaulted.
 * Word indices `k` are relative to a statement: k = 0 is the statement's own word, k = 1 its first argument. */
#ifndef CH_SCRIPT_INT_H
#define CH_SCRIPT_INT_H

#include <jansson.h>
#include <stddef.h>

#include "lex.h"
#include "matrix.h"
#include "core/core.h"

#define SC_MAX_ERRORS 100      /* per file: then one "too many errors" line, and silence */
#define SC_MAX_OBJECTS 32      /* client objects per case */
#define SC_MAX_FILE (16u << 20) /* bytes per case file */
#define SC_NAME_LEN 64         /* object names, event names */
/* Bytes string expressions may add to one file, all cells together (FORMAT.md §1.4). The fuzz build (Makefile:
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, libFuzzer's convention) checks the same budget at 4 MiB, so that one
 * input cannot spend seconds of an instrumented build making strings (README, Fuzzing); there one expression's own
 * limit (CH_LEX_MAX_STRING, 16 MiB) is never the one reached: check_lex's and check_script's rows test it. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define SC_MAX_REPEATED (4u << 20)
#else
#define SC_MAX_REPEATED (64u << 20)
#endif

/* A content line as one cell sees it. */
struct sline {
    const struct ch_line *src;
    char *text;      /* after indentation and guards, `$NAME` replaced; NUL-terminated */
    size_t len;
    size_t *map;     /* map[i]: offset in src->text that text[i] came from (len + 1 entries) */
    size_t indent;
    struct ch_tok *tok;
    size_t ntok;
    int bad;         /* its words could not be split (reported): skipped */
};

/* A statement: a section header, step, axis or expectation, its words and its attachments. */
struct stmt {
    struct sline *ln;
    size_t first;         /* index in ln->tok of word 0 (a nested `on` step starts later in its line) */
    struct sline **att;   /* deeper-indented lines under it */
    size_t natt;
};

struct section {
    struct stmt head;
    struct stmt *items;
    size_t nitems, cap;
    size_t item_indent;
};

enum sc_kind { KIND_XHR, KIND_EVENTSOURCE, KIND_WEBSOCKET, KIND_IMG, KIND_SCRIPT, KIND_FETCH, KIND_HTTP, KIND_COUNT };

/* Capabilities (FORMAT.md §5.6), in sorted order so `needs` comes out sorted. */
enum sc_cap {
    CAP_BLOB, CAP_COOKIES, CAP_CORS, CAP_DOCUMENT, CAP_EVENTSOURCE, CAP_FETCH, CAP_FORMDATA, CAP_HOST_D, CAP_HTTP, CAP_IMG,
    CAP_PAGE_B, CAP_PAGE_C, CAP_PAGE_D, CAP_PAGE_OPAQUE, CAP_PAGE_SA, CAP_PAGE_SB, CAP_PAGE_SC, CAP_SCRIPT, CAP_TLS, CAP_USER_PROMPTS, CAP_WEBSOCKET, CAP_WEBSOCKET_API,
    CAP_WORKER, CAP_XHR, CAP_XHR_SYNC, CAP_XHR_UPLOAD, CAP_COUNT
};
extern const char *const sc_cap_names[CAP_COUNT];

/* One client object (FORMAT.md §5). */
struct cobj {
    char name[SC_NAME_LEN];
    enum sc_kind kind;
    json_t *listened; /* eventsource: event names given by `listen` */
};

/* A literal block (FORMAT.md §1.5): opened on lines[line] at byte `at`, its lines lines[first .. first+count),
 * each with `strip` leading spaces removed. */
struct sc_block {
    size_t line, at, first, count, strip;
    struct ch_block_opener opener;
    int bad; /* in error (reported once, by the file): a word that takes it fails silently */
};

/* What the whole file shares across its cells. */
struct fctx {
    const char *path;
    json_t *errs;
    size_t errs_first; /* errs[errs_first..] are this file's */
    int nerr;
    struct { int line, col; } at[SC_MAX_ERRORS + 1]; /* errs[errs_first + i]'s position, i < nerr (words.c) */
    const char *fixtures;
    struct ch_matrix matrix;
    const struct ch_line *lines;
    size_t nlines;
    struct sc_block *blocks; /* the file's blocks, in file order */
    size_t nblocks;
    size_t repeated; /* bytes string expressions added beyond their own text so far (SC_MAX_REPEATED) */
    json_t *wpt;       /* the WPT topic list's files (case.h), loaded at the file's first `wpt` line */
    char wpt_err[CH_ERR_LEN]; /* why it could not be loaded ("" when it was, or was not tried) */
};

/* One cell's parse: the case being built. */
struct pctx {
    struct fctx *f;
    const char *cell; /* the cell's id for errors, NULL outside a matrix */
    const int *sel;   /* the cell's value index per axis (for `$NAME` in blocks) */
    unsigned char *block_used; /* per block of the file: taken by a word of this cell */
    json_t *id, *title, *spec, *tags, *wpt;
    int case_line, title_line, deadline_line, settle_line, page_line, global_line;
    size_t id_col;
    long deadline_ms, settle_ms;
    const char *page;
    int page_sandboxed; /* `page X sandboxed`: an opaque-origin iframe (FORMAT.md §2) */
    const struct sline *sandboxed_ln; /* where `sandboxed` is written (its line, byte offset) */
    size_t sandboxed_off;
    const char *page_encoding; /* `page X windows-1252`: the case page's encoding, or NULL (UTF-8) */
    const char *global; /* "window" or "worker" (`global`, FORMAT.md §2) */
    json_t *worker_from; /* `global worker from PATH`: the route the worker's script is fetched from, or NULL */
    unsigned caps;
    json_t *routes, *objects, *steps, *handlers, *expect;
    struct cobj obj[SC_MAX_OBJECTS];
    size_t nobj;
    int nclient, nexpect;
    int errors; /* errors this cell hit, repeats of already listed ones included */
    struct sc_cors **cors; /* the cell's cors sections (script_cors.c), kept for expect cors */
    size_t ncors;
    json_t *cors_json;     /* their oracle summaries: the case's "cors" (MODEL.md §1.4), NULL without one */
};

/* ---- words (words.c) ---- */

/* Errors. Each appends {"file","line","col","message"[,"cell"]} unless an identical error is
 * already listed for this file (a matrix repeats lines in every cell), and returns -1. */
int sc_err(struct pctx *c, const struct sline *ln, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int sc_err_word(struct pctx *c, const struct stmt *st, size_t k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error of the cell at a file position (line, col: a check over the case JSON, which keeps lines only). */
int sc_err_at(struct pctx *c, int line, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* An error of file f at a file position (cell: NULL, or the cell it names); an error of cell c at a file
 * position (not within one of the cell's lines): errors that every cell would hit alike (guards, `$NAME`)
 * name no cell (use_cell 0). Both return -1. */
int sc_ferr(struct fctx *f, int line, int col, const char *cell, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int sc_cerr(struct pctx *c, int use_cell, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Words. */
size_t sc_nwords(const struct stmt *st);
const char *sc_word(const struct stmt *st, size_t k, size_t *len); /* NULL past the end */
int sc_is(const struct stmt *st, size_t k, const char *w);
size_t sc_off(const struct stmt *st, size_t k); /* byte offset of word k, or the line's end */
/* 1 if w[0..n) is a name of an object or an event: [A-Za-z][A-Za-z0-9_-]*, shorter than SC_NAME_LEN. */
int sc_is_name(const char *w, size_t n);
/* Checks the statement has between min and max arguments (words after word 0); `usage` goes in the error. */
int sc_args(struct pctx *c, const struct stmt *st, size_t min, size_t max, const char *usage);
/* Word k as a JSON string: the decoded string if the word is one, else the word as written. UTF-8 (no NUL
 * unless `allow_nul`); placeholders checked for context tmpl ("server", "client", "expect"; NULL: none). */
json_t *sc_text(struct pctx *c, const struct stmt *st, size_t k, const char *tmpl);
/* Word k must be a string: a string expression or a block (FORMAT.md §1.3-§1.5); its bytes (malloc'd,
 * caller frees). */
int sc_string(struct pctx *c, const struct stmt *st, size_t k, char **out, size_t *len);
/* 1 if s[0..n) starts what sc_string takes: '"' or a block opener. */
int sc_string_start(const char *s, size_t n);
/* The string expression or block at ln->text[i .. end), decoded into *out (*len bytes; caller frees). Returns
 * the bytes of text it took, or -1 after reporting an error. */
long sc_decode(struct pctx *c, const struct sline *ln, size_t i, size_t end, char **out, size_t *len);
int sc_duration(struct pctx *c, const struct stmt *st, size_t k, long *ms);
/* Word k as an integer in [min, max]; `what` names it in errors ("status code", "count"). */
int sc_int(struct pctx *c, const struct stmt *st, size_t k, long min, long max, long *v, const char *what);
/* Placeholder check of s[0..n) in context tmpl; an error points at ln's offset `off` (plus the placeholder's
 * offset when `exact`, i.e. s is the line's own text from off). */
int sc_tmpl(struct pctx *c, const struct sline *ln, size_t off, const char *s, size_t n, const char *tmpl,
            int exact);
/* 1 if b[0..n) is UTF-8 text, NUL bytes allowed (a JSON string may hold U+0000). */
int sc_utf8(const char *b, size_t n);
/* Rejects attachments on a statement that takes none. */
int sc_no_attachments(struct pctx *c, const struct stmt *st);
/* The cell's client object of that name, or NULL. */
struct cobj *sc_find_obj(struct pctx *c, const char *name, size_t len);
/* The word registry (sc_words, script.c): each file adds the words of its tables; sc_vocab_add files one word
 * under a group, once. */
void sc_vocab_add(json_t *vocab, const char *group, const char *word);

/* ---- the files' word tables, sections ---- */

/* Server steps that live in their own file (script_sse.c, FORMAT.md §4.5); rows of script_server.c's table. */
int sc_sse_event(struct pctx *c, const struct stmt *st, json_t *step);
int sc_sse_field(struct pctx *c, const struct stmt *st, json_t *step);
int sc_sse_comment(struct pctx *c, const struct stmt *st, json_t *step);
int sc_sse_line(struct pctx *c, const struct stmt *st, json_t *step);
int sc_sse_dispatch(struct pctx *c, const struct stmt *st, json_t *step);
/* WebSocket server steps (script_ws.c, FORMAT.md §4.4). */
int sc_ws_accept(struct pctx *c, const struct stmt *st, json_t *step);
int sc_ws_send(struct pctx *c, const struct stmt *st, json_t *step);
int sc_ws_close(struct pctx *c, const struct stmt *st, json_t *step);
int sc_ws_echo(struct pctx *c, const struct stmt *st, json_t *step);
int sc_ws_await(struct pctx *c, const struct stmt *st, json_t *step);
int sc_ws_on_close(struct pctx *c, const struct stmt *st, json_t *step);

/* The words of each file's tables, for sc_words. */
void sc_server_words(json_t *vocab);
void sc_client_words(json_t *vocab);
void sc_expect_words(json_t *vocab);
void sc_cors_words(json_t *vocab);

/* Sections (one per file). */
void sc_server_section(struct pctx *c, struct section *sec);
void sc_client_section(struct pctx *c, struct section *sec);
void sc_expect_section(struct pctx *c, struct section *sec);

/* CORS sections (script_cors.c, FORMAT.md §7): `cors xhr|fetch [NAME]`; the header and the lines of
 * `expect cors [NAME]` (a line appends many expectations); the cell's blocks freed with the cell. */
void sc_cors_section(struct pctx *c, struct section *sec);
int sc_cors_expect_header(struct pctx *c, const struct stmt *h, const struct cobj **o);
int sc_cors_expect_line(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *unused);
void sc_cors_free(struct pctx *c);

/* The client vocabulary (vocab.c). Kinds by name (-1: none); whether a kind's section starts with `new URL`. */
const char *sc_kind_name(enum sc_kind k);
int sc_kind_find(const char *w, size_t n);
int sc_kind_new_step(enum sc_kind k);
/* 1 if objects like o fire events of this type ("." and the pseudo-events exception, read, skipped included;
 * an eventsource also the names its `listen` steps gave it). */
int sc_event_known(const struct cobj *o, const char *type);
/* The step an event needs in its object's program before it can be recorded, or NULL: a step of op `op` (one of
 * them, when `op` lists several separated by '|') with the field `field` when not NULL, as a case writes it
 * (`written`: "listen upload"). */
struct sc_needs {
    const char *op, *field, *written;
};
const struct sc_needs *sc_event_needs(const struct cobj *o, const char *type);
/* 1 if the event is fired by the object (records the kind's state and watched properties). */
int sc_event_is_dom(const struct cobj *o, const char *type);
/* 1 if the property path is recorded by events of this type on objects like o (type "." : by any; type NULL:
 * in `final`), or names (its first segment does) one of the strings in `extra` (watched or read properties,
 * may be NULL). */
int sc_prop_recorded(const struct cobj *o, const char *type, const char *path, const json_t *extra);
/* What an event (type NULL: `final`) records, space-separated, for error messages. */
void sc_props_hint(const struct cobj *o, const char *type, char *out, size_t len);
/* The capabilities a program implies: its objects' kinds and the declared step rules (FORMAT.md §5.6). */
unsigned sc_program_caps(const json_t *objects, const json_t *steps, const json_t *handlers);
/* 1 if a client may send this request header by itself (an `absent` check on it can fail). */
int sc_header_own(const char *name);
/* sc_kind_words adds kinds, events and capabilities to the parser's words; sc_vocabulary is ch_vocabulary()'s
 * document around them (it takes `words`). */
void sc_kind_words(json_t *words);
json_t *sc_vocabulary(json_t *words);

/* The parser's words by group (script.c: the "words" of ch_vocabulary()). */
json_t *sc_words(void);

/* The lint (lint.c, FORMAT.md §9): each returns -1 after reporting an error, else 0. An atom's event on o
 * (sc_lint_event) and one property key of it (sc_lint_prop, type NULL: `final`); the PROP=VALUE words k.. of
 * at/final; a pattern, a count; the level of a finished expectation; an `absent` header at word k; a section
 * whose expectations are c->expect[first..] (informational: its `informational` line or NULL); the whole
 * case (lines that exclude each other), once its sections are parsed. */
int sc_lint_event(struct pctx *c, const struct sline *ln, size_t at, const struct cobj *o, const char *type);
int sc_lint_prop(struct pctx *c, const struct sline *ln, size_t at, const struct cobj *o, const char *type,
                 const char *key);
int sc_lint_prop_words(struct pctx *c, const struct stmt *st, size_t k, const struct cobj *o, const char *type);
int sc_lint_pattern(struct pctx *c, const struct stmt *st, const json_t *pattern);
int sc_lint_count(struct pctx *c, const struct stmt *st, long n, int at_least);
int sc_lint_level(struct pctx *c, const struct stmt *st, const json_t *e);
int sc_lint_absent(struct pctx *c, const struct stmt *st, size_t k, const char *name);
void sc_lint_section(struct pctx *c, const struct section *sec, size_t first, const struct stmt *informational);
void sc_lint_case(struct pctx *c);

/* Values, atoms, patterns (script_pattern.c). They parse ln->text[*i .. end) and advance *i. `o` (may be NULL)
 * checks event types against what that object fires; `tmpl` is the placeholder context of string values. */
json_t *sc_value(struct pctx *c, const struct sline *ln, size_t *i, size_t end, const char *tmpl);
json_t *sc_atom(struct pctx *c, const struct sline *ln, size_t *i, size_t end, const struct cobj *o,
                const char *tmpl);
json_t *sc_pattern(struct pctx *c, const struct sline *ln, size_t i, size_t end, const struct cobj *o);
/* Word k holds exactly one atom; with nth non-NULL it may end in `#n` (n >= 1; *nth = 0 without one). */
json_t *sc_atom_word(struct pctx *c, const struct stmt *st, size_t k, const struct cobj *o, const char *tmpl,
                     long *nth);
/* Words k.. are PROP=VALUE pairs (at least one): an object. */
json_t *sc_props(struct pctx *c, const struct stmt *st, size_t k, const char *tmpl);

#endif
