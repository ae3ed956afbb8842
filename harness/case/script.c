/* script.c — the case parser's front (cases/FORMAT.md -> harness/MODEL.md §1): files and directories, the
 * matrix section and its cells, lines into sections (FORMAT.md §1 "indentation is structure"), meta lines
 * (§2), and the public API (case.h). The helpers every section parser shares are words.c's (script_int.h).
 *
 * One file is parsed as: split into lines and check them (tabs, UTF-8) once; read the matrix section once;
 * then for every cell, apply guards and `$NAME`, split words, group lines into sections, parse meta lines,
 * then server and client sections, then expect sections (they need every client object and the case's
 * spec), and assemble the case JSON. Errors carry the cell; an error repeated by every cell is listed once. */
#include "case.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "script_int.h"
#include "core/core.h"

#define MAX_DEPTH 32   /* directory levels walked by ch_script_load */
#define MAX_ID_LEN 200 /* bytes of a case id before the cell suffix */

/* ---- meta lines (FORMAT.md §2) ---------------------------------------------------------------------- */

static int valid_segment(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i]))) return 0;
    return 1;
}

/* `case ID`: segments of [a-z0-9][a-z0-9._-]* joined by '/', the first a known family. */
static int meta_case(struct pctx *c, struct stmt *st)
{
    static const char *const families[] = {"xhr", "cors", "sse", "ws", "comet", "jsonp", "img", "fetch", "http", "tls"};
    size_t n, seg = 0, fam = 0;
    const char *w;
    if (c->id) return sc_err_word(c, st, 0, "a second 'case' line (the first is line %d)", c->case_line);
    if (sc_args(c, st, 1, 1, "case ID") < 0) return -1;
    w = sc_word(st, 1, &n);
    for (size_t i = 0; i <= n; i++) {
        if (i < n && w[i] != '/') continue;
        if (!valid_segment(w + seg, i - seg) || n > MAX_ID_LEN)
            return sc_err_word(c, st, 1, "a bad case id (segments of [a-z0-9][a-z0-9._-]* joined by '/')");
        if (seg == 0) fam = i;
        seg = i + 1;
    }
    size_t f = 0;
    while (f < sizeof families / sizeof *families && (strlen(families[f]) != fam || memcmp(w, families[f], fam)))
        f++;
    if (f == sizeof families / sizeof *families)
        return sc_err_word(c, st, 1, "unknown family '%.*s' (xhr cors sse ws comet jsonp img fetch http tls)", (int)fam, w);
    c->id = json_stringn(w, n);
    c->case_line = st->ln->src->no;
    c->id_col = (size_t)ch_lex_col(st->ln->src->text, st->ln->src->len, st->ln->map[sc_off(st, 1)]);
    return 0;
}

static int meta_title(struct pctx *c, struct stmt *st)
{
    if (c->title) return sc_err_word(c, st, 0, "a second 'title' line (the first is line %d)", c->title_line);
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing the title text");
    c->title = json_stringn(st->ln->text + sc_off(st, 1), st->ln->len - sc_off(st, 1));
    c->title_line = st->ln->src->no;
    return 0;
}

static int check_url(struct pctx *c, struct stmt *st, size_t k)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if ((n > 8 && memcmp(w, "https://", 8) == 0) || (n > 7 && memcmp(w, "http://", 7) == 0)) return 0;
    return sc_err_word(c, st, k, "a spec reference is an http(s) URL");
}

static int meta_spec(struct pctx *c, struct stmt *st)
{
    size_t n;
    if (sc_args(c, st, 1, 1, "spec URL") < 0 || check_url(c, st, 1) < 0) return -1;
    const char *w = sc_word(st, 1, &n);
    json_array_append_new(c->spec, json_stringn(w, n));
    return 0;
}

static int in_array(const json_t *a, const char *s, size_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0) return 1;
    return 0;
}

static int meta_tags(struct pctx *c, struct stmt *st)
{
    size_t n;
    if (sc_args(c, st, 1, 256, "tags WORD...") < 0) return -1;
    for (size_t k = 1; k < sc_nwords(st); k++) {
        const char *w = sc_word(st, k, &n);
        int ok = (w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= '0' && w[0] <= '9');
        for (size_t i = 1; i < n && ok; i++) ok = w[i] > ' ' && w[i] < 0x7f && !strchr("\"()[]{}$#,=", w[i]);
        if (!ok) return sc_err_word(c, st, k, "a bad tag (letters, digits and ._- only)");
        if (in_array(c->tags, w, n)) return sc_err_word(c, st, k, "tag '%.*s' named twice", (int)n, w);
        json_array_append_new(c->tags, json_stringn(w, n));
    }
    return 0;
}

/* The capability names, space-separated, for an error message. */
static const char *cap_list(void)
{
    static char list[512];
    if (!list[0])
        for (unsigned i = 0; i < CAP_COUNT; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? " " : "", sc_cap_names[i]);
    return list;
}

static int meta_needs(struct pctx *c, struct stmt *st)
{
    size_t n;
    unsigned seen = 0;
    if (sc_args(c, st, 1, CAP_COUNT, "needs CAP...") < 0) return -1;
    for (size_t k = 1; k < sc_nwords(st); k++) {
        const char *w = sc_word(st, k, &n);
        unsigned cap = 0;
        while (cap < CAP_COUNT && (strlen(sc_cap_names[cap]) != n || memcmp(w, sc_cap_names[cap], n))) cap++;
        if (cap == CAP_COUNT) return sc_err_word(c, st, k, "unknown capability '%.*s' (%s)", (int)n, w, cap_list());
        if (seen & 1u << cap) return sc_err_word(c, st, k, "capability '%.*s' named twice", (int)n, w);
        seen |= 1u << cap;
        c->caps |= 1u << cap;
    }
    return 0;
}

static int meta_duration(struct pctx *c, struct stmt *st, int *line, long *ms, const char *word)
{
    if (*line) return sc_err_word(c, st, 0, "a second '%s' line (the first is line %d)", word, *line);
    if (sc_args(c, st, 1, 1, word[0] == 'd' ? "deadline DURATION" : "settle DURATION") < 0) return -1;
    if (sc_duration(c, st, 1, ms) < 0) return -1;
    if (word[0] == 'd' && *ms == 0) return sc_err_word(c, st, 1, "a deadline of 0 leaves no time to run");
    *line = st->ln->src->no;
    return 0;
}

static int meta_deadline(struct pctx *c, struct stmt *st)
{
    return meta_duration(c, st, &c->deadline_line, &c->deadline_ms, "deadline");
}

static int meta_settle(struct pctx *c, struct stmt *st)
{
    return meta_duration(c, st, &c->settle_line, &c->settle_ms, "settle");
}

/* `page X [sandboxed] [windows-1252]`: the origin whose page runs the program (FORMAT.md §2); X other than A
 * implies the capability page-x (a library client has no page), a TLS origin also `tls`, D also `host-d`
 * (ch_case_needs); `sandboxed` (A, B or C only) runs it in an iframe with sandbox="allow-scripts", an opaque
 * origin: page-opaque; `windows-1252` runs it in a case page whose document's encoding is windows-1252 (HTML's
 * API URL character encoding, which open() parses its URL with): `document`, which a library client lacks. */
static int page_option(struct pctx *c, struct stmt *st, size_t k, int o)
{
    if (sc_is(st, k, "windows-1252") && !c->page_encoding) {
        c->page_encoding = "windows-1252";
        c->caps |= 1u << CAP_DOCUMENT;
        return 0;
    }
    if (!sc_is(st, k, "sandboxed") || c->page_sandboxed)
        return sc_err_word(c, st, k, "after the origin only 'sandboxed' and 'windows-1252' may follow, each once");
    if (o >= CH_ORIGIN_SA)
        return sc_err_word(c, st, k, "only a page on A, B or C (an iframe) can be sandboxed; %s is a top-level window", c->page);
    c->page_sandboxed = 1;
    c->sandboxed_ln = st->ln;
    c->sandboxed_off = sc_off(st, k);
    c->caps |= 1u << CAP_PAGE_OPAQUE;
    return 0;
}

static int meta_page(struct pctx *c, struct stmt *st)
{
    static const unsigned caps[CH_ORIGINS] = {
        [CH_ORIGIN_B] = 1u << CAP_PAGE_B,   [CH_ORIGIN_C] = 1u << CAP_PAGE_C,   [CH_ORIGIN_SA] = 1u << CAP_PAGE_SA,
        [CH_ORIGIN_SB] = 1u << CAP_PAGE_SB, [CH_ORIGIN_SC] = 1u << CAP_PAGE_SC, [CH_ORIGIN_D] = 1u << CAP_PAGE_D,
    };
    size_t n;
    if (c->page_line) return sc_err_word(c, st, 0, "a second 'page' line (the first is line %d)", c->page_line);
    if (sc_args(c, st, 1, 3, "page A|B|C|SA|SB|SC|D [sandboxed] [windows-1252]") < 0) return -1;
    const char *w = sc_word(st, 1, &n);
    int o = ch_origin_by_name(w, n);
    if (o < 0) return sc_err_word(c, st, 1, "the page is on origin A, B, C, SA, SB, SC or D");
    c->page = ch_origin_name(o);
    c->caps |= caps[o];
    for (size_t k = 2; k < sc_nwords(st); k++)
        if (page_option(c, st, k, o) < 0) return -1;
    c->page_line = st->ln->src->no;
    return 0;
}

/* `global window|worker [from PATH]`: the global object the program runs in (FORMAT.md §2). `worker` is a
 * dedicated worker the case page starts, and implies the capability `worker` (a library client has no worker).
 * `from PATH` starts it at the case's own route PATH on the page's origin instead of at worker.js, for a route
 * that redirects to worker.js (HTML: the worker's URL is then the response's URL). */
static int meta_global(struct pctx *c, struct stmt *st)
{
    size_t n;
    if (c->global_line) return sc_err_word(c, st, 0, "a second 'global' line (the first is line %d)", c->global_line);
    if (sc_args(c, st, 1, 3, "global window|worker [from PATH]") < 0) return -1;
    const char *w = sc_word(st, 1, &n);
    if (n == 6 && !memcmp(w, "window", 6)) c->global = "window";
    else if (n == 6 && !memcmp(w, "worker", 6)) c->global = "worker", c->caps |= 1u << CAP_WORKER;
    else return sc_err_word(c, st, 1, "the global is 'window' or 'worker'");
    if (sc_nwords(st) > 2) {
        if (!sc_is(st, 2, "from") || sc_nwords(st) != 4 || strcmp(c->global, "worker"))
            return sc_err_word(c, st, 2, "after 'worker' only 'from PATH' may follow (write: global worker from /w)");
        const char *p = sc_word(st, 3, &n);
        if (n < 2 || p[0] != '/' || memchr(p, '?', n) || memchr(p, '#', n))
            return sc_err_word(c, st, 3, "PATH is a route's path: '/' and more, no query or fragment");
        /* The lexer took the line as UTF-8 and PATH ends at a space: json_stringn fails only out of memory. */
        if (!(c->worker_from = json_stringn(p, n))) return sc_err_word(c, st, 3, "out of memory");
    }
    c->global_line = st->ln->src->no;
    return 0;
}

/* The file's WPT topic list, loaded once at its first `wpt` line; NULL after an error at word k (the list's
 * own error, repeated at every `wpt` line of the file). */
static const json_t *wpt_files(struct pctx *c, const struct stmt *st, size_t k)
{
    struct fctx *f = c->f;
    if (!f->wpt && !f->wpt_err[0]) {
        char err[CH_ERR_LEN];
        f->wpt = ch_wpt_load(ch_wpt_topics_path(), err);
        if (!f->wpt) snprintf(f->wpt_err, sizeof f->wpt_err, "%s", err);
    }
    if (!f->wpt)
        return sc_err_word(c, st, k, "cannot use the WPT topic list: %s (CH_WPT_TOPICS names another)", f->wpt_err), NULL;
    return f->wpt;
}

/* `wpt PATH...`: the WPT test files whose behaviour the case checks, each a file of the topic list that can
 * run here (wpt.h). Repeatable; a file named twice is an error. */
static int meta_wpt(struct pctx *c, struct stmt *st)
{
    size_t n;
    if (sc_args(c, st, 1, 64, "wpt PATH...") < 0) return -1;
    const json_t *files = wpt_files(c, st, 1);
    if (!files) return -1;
    for (size_t k = 1; k < sc_nwords(st); k++) {
        const char *w = sc_word(st, k, &n);
        char path[320];
        if (n >= sizeof path) return sc_err_word(c, st, k, "a WPT path of %zu bytes (at most %zu)", n, sizeof path - 1);
        snprintf(path, sizeof path, "%.*s", (int)n, w);
        json_t *entry = json_object_get(files, path);
        if (!entry)
            return sc_err_word(c, st, k, "'%s' is not a test file of the WPT topic list (%s)", path, ch_wpt_topics_path());
        const char *why = json_string_value(json_object_get(entry, "not_here"));
        if (why)
            return sc_err_word(c, st, k, "'%s' (topic %s) cannot be checked here: %.120s", path,
                               json_string_value(json_object_get(entry, "topic")), why);
        if (in_array(c->wpt, w, n)) return sc_err_word(c, st, k, "'%s' named twice", path);
        json_array_append_new(c->wpt, json_stringn(w, n));
    }
    return 0;
}

/* Meta lines, one row per word (FORMAT.md §2). */
static const struct {
    const char *word;
    int (*parse)(struct pctx *, struct stmt *);
} meta_rows[] = {
    {"case", meta_case},         {"title", meta_title},   {"spec", meta_spec},   {"tags", meta_tags},
    {"needs", meta_needs},       {"deadline", meta_deadline}, {"settle", meta_settle}, {"page", meta_page},
    {"global", meta_global}, {"wpt", meta_wpt},
};

/* ---- sections ------------------------------------------------------------------------------------- */

static void guarded_matrix(struct pctx *c, struct section *sec)
{
    sc_err_word(c, &sec->head, 0, "the matrix section cannot carry a guard");
}

/* Section headers, one row per word. `late` sections run after all others: expect sections need every
 * client object and the case's spec. Issue 3's `expect cors` is a row of script_expect.c's own table. */
static const struct {
    const char *word;
    void (*parse)(struct pctx *, struct section *);
    int late;
} section_rows[] = {
    {"server", sc_server_section, 0},
    {"client", sc_client_section, 0},
    {"expect", sc_expect_section, 1},
    {"cors", sc_cors_section, 0},
    {"matrix", guarded_matrix, 0},
};

#define NROWS(a) (sizeof(a) / sizeof(a)[0])

static int find_section(const struct stmt *st)
{
    for (size_t r = 0; r < NROWS(section_rows); r++)
        if (sc_is(st, 0, section_rows[r].word)) return (int)r;
    return -1;
}

static int find_meta(const struct stmt *st)
{
    for (size_t r = 0; r < NROWS(meta_rows); r++)
        if (sc_is(st, 0, meta_rows[r].word)) return (int)r;
    return -1;
}

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return p;
    size_t ncap = *cap ? 2 * *cap : 8;
    void *q = ch_xrealloc(p, ncap * size);
    *cap = ncap;
    return q;
}

/* Lines grouped: meta statements and sections, in file order. */
struct layout {
    struct stmt *meta;
    size_t nmeta, metacap;
    struct section *sec;
    size_t nsec, seccap;
};

static void add_attachment(struct stmt *it, struct sline *ln)
{
    it->att = ch_xrealloc(it->att, (it->natt + 1) * sizeof *it->att); /* attachments are few */
    it->att[it->natt++] = ln;
}

/* Places one indented line: a new item of the current section, or an attachment of its last item. */
static void place_indented(struct pctx *c, struct section *cur, struct sline *ln)
{
    if (cur->nitems == 0) cur->item_indent = ln->indent;
    if (ln->indent == cur->item_indent) {
        if (ln->bad) return;
        cur->items = grow(cur->items, &cur->cap, cur->nitems, sizeof *cur->items);
        cur->items[cur->nitems++] = (struct stmt){.ln = ln};
    } else if (ln->indent > cur->item_indent) {
        if (!ln->bad && cur->nitems > 0) add_attachment(&cur->items[cur->nitems - 1], ln);
    } else {
        sc_err(c, ln, 0, "indented %zu spaces, but this section's lines are indented %zu", ln->indent,
               cur->item_indent);
    }
}

static void group(struct pctx *c, struct sline *l, size_t n, struct layout *lay)
{
    struct section *cur = NULL;
    int after_meta = 0, dead = 0;
    for (size_t i = 0; i < n; i++) {
        struct stmt st = {.ln = &l[i]};
        if (l[i].indent > 0) {
            if (dead || l[i].bad) continue;
            if (!cur) sc_err(c, &l[i], 0, after_meta ? "an indented line under a meta line (it belongs to no section)"
                                                     : "an indented line outside any section");
            else place_indented(c, cur, &l[i]);
            continue;
        }
        cur = NULL;
        dead = l[i].bad;
        after_meta = !dead && find_section(&st) < 0;
        if (dead) continue;
        if (after_meta) {
            /* An unknown word is reported once (as a meta line); what is indented under it is its own. */
            dead = find_meta(&st) < 0;
            lay->meta = grow(lay->meta, &lay->metacap, lay->nmeta, sizeof *lay->meta);
            lay->meta[lay->nmeta++] = st;
            continue;
        }
        lay->sec = grow(lay->sec, &lay->seccap, lay->nsec, sizeof *lay->sec);
        cur = &lay->sec[lay->nsec++];
        *cur = (struct section){.head = st};
    }
}

static void run_layout(struct pctx *c, struct layout *lay)
{
    for (size_t i = 0; i < lay->nmeta; i++) {
        int r = find_meta(&lay->meta[i]);
        size_t len;
        const char *w = sc_word(&lay->meta[i], 0, &len);
        if (r >= 0) meta_rows[r].parse(c, &lay->meta[i]);
        else sc_err_word(c, &lay->meta[i], 0, "unknown word '%.*s' (a meta line: case title spec tags needs "
                         "deadline settle page global wpt; or a section: server client expect matrix)", (int)(len > 40 ? 40 : len), w);
    }
    for (int late = 0; late <= 1; late++)
        for (size_t i = 0; i < lay->nsec; i++) {
            int r = find_section(&lay->sec[i].head);
            if (section_rows[r].late == late) section_rows[r].parse(c, &lay->sec[i]);
        }
}

static void free_layout(struct layout *lay)
{
    for (size_t i = 0; i < lay->nsec; i++) {
        for (size_t k = 0; k < lay->sec[i].nitems; k++) free(lay->sec[i].items[k].att);
        free(lay->sec[i].items);
    }
    free(lay->sec);
    free(lay->meta);
}

/* ---- one cell -------------------------------------------------------------------------------------- */

/* Builds the cell's view of one content line: guards applied, `$NAME` replaced, words split. Returns 1 if the
 * line is in the cell, 0 if a guard removes it (with what is indented under it), -1 on an error. */
static int cell_line(struct pctx *c, const struct ch_line *src, const int *sel, struct sline *out)
{
    struct fctx *f = c->f;
    char err[CH_ERR_LEN];
    size_t used = 0, at = 0, start = src->indent;
    int holds = 1;
    if (ch_matrix_guards(&f->matrix, sel, src->text + start, src->len - start, &used, &holds, &at, err) < 0)
        return sc_cerr(c, 0, src->no, ch_lex_col(src->text, src->len, start + at), "%s", err);
    if (!holds) return 0;
    start += used;
    if (start == src->len)
        return sc_cerr(c, 0, src->no, ch_lex_col(src->text, src->len, start), "a guard with no line after it");
    *out = (struct sline){.src = src, .indent = src->indent};
    if (ch_matrix_subst(&f->matrix, sel, src->text + start, src->len - start, &out->text, &out->len, &out->map, &at,
                        err) < 0)
        return sc_cerr(c, 0, src->no, ch_lex_col(src->text, src->len, start + at), "%s", err);
    for (size_t i = 0; i <= out->len; i++) out->map[i] += start;
    if (!ch_utf8_text((const unsigned char *)out->text, out->len)) {
        out->bad = 1;
        sc_err(c, out, 0, "the line is not UTF-8 text once $NAME is replaced");
    } else if (ch_lex_words(out->text, out->len, &out->tok, &out->ntok, &at, err) < 0) {
        out->bad = 1;
        sc_err(c, out, at, "%s", err);
    }
    return 1;
}

static void free_lines(struct sline *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].text);
        free(l[i].map);
        free(l[i].tok);
    }
    free(l);
}

/* The cell's lines: content lines outside the matrix section, guards applied. */
static struct sline *cell_lines(struct pctx *c, const struct ch_line *lines, size_t n, const char *skip,
                                const int *sel, size_t *count, int *dropped)
{
    struct sline *l = ch_xcalloc(n + 1, sizeof *l);
    size_t k = 0, drop_indent = 0;
    int dropping = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip[i]) continue;
        if (dropping && lines[i].indent > drop_indent) continue;
        dropping = 0;
        /* A line a guard removes takes what is indented under it along; so does a line in error. */
        int rc = cell_line(c, &lines[i], sel, &l[k]);
        if (rc == 1) k++;
        else dropping = 1, drop_indent = lines[i].indent;
        if (rc < 0) *dropped = 1;
    }
    *count = k;
    return l;
}

/* A block whose opener is on a line of the cell must have been taken as a STRING by that line's statement
 * (FORMAT.md §1.5): a title or a header value would swallow its lines silently. Checked only when the cell
 * has no other error (a statement in error may have stopped before its string). */
static void unused_blocks(struct pctx *c, const struct sline *l, size_t nl)
{
    for (size_t i = 0; i < nl && c->errors == 0; i++) {
        size_t line = (size_t)(l[i].src - c->f->lines);
        for (size_t k = 0; k < c->f->nblocks; k++) {
            const struct sc_block *b = &c->f->blocks[k];
            if (b->line != line || c->block_used[k] || l[i].bad) continue;
            sc_cerr(c, 1, l[i].src->no, ch_lex_col(l[i].src->text, l[i].src->len, b->at),
                 "nothing here takes a block (a block stands where a STRING does)");
        }
    }
}

/* Whether a `server GET PATH` route (PATH the `global worker from` path) is on the page's origin. */
static int worker_route(const struct pctx *c)
{
    size_t i;
    json_t *r;
    json_array_foreach(c->routes, i, r) {
        const char *o = json_string_value(json_object_get(r, "origin"));
        const char *m = json_string_value(json_object_get(r, "method"));
        if (m && !strcmp(m, "GET") &&
            json_equal(json_object_get(r, "path"), c->worker_from) && !strcmp(o ? o : "A", c->page))
            return 1;
    }
    return 0;
}

/* What every case needs (FORMAT.md §2, §5, §6). Not checked when a line of the cell was dropped for an
 * error: what seems missing may be on that line. */
static void require_meta(struct pctx *c, int dropped)
{
    int line = c->case_line ? c->case_line : 1;
    if (dropped) return;
    if (!c->id) sc_cerr(c, 1, 1, 1, "missing the 'case ID' line");
    if (!c->title) sc_cerr(c, 1, line, 1, "missing the 'title' line");
    if (json_array_size(c->spec) == 0) sc_cerr(c, 1, line, 1, "missing a 'spec URL' line (at least one)");
    if (c->nclient == 0) sc_cerr(c, 1, line, 1, "no client section (at least one)");
    if (c->nexpect == 0) sc_cerr(c, 1, line, 1, "no expect section (at least one)");
    /* A worker has no document (HTML §10: WorkerGlobalScope): nothing that needs one can run in it. */
    unsigned nodoc = 1u << CAP_DOCUMENT | 1u << CAP_IMG | 1u << CAP_SCRIPT;
    if (c->global_line && !strcmp(c->global, "worker") &&
        ((c->caps | sc_program_caps(c->objects, c->steps, c->handlers)) & nodoc))
        sc_cerr(c, 1, c->global_line, 1, "'global worker' runs the program in a worker, which has no document: "
                "it cannot need document, img or script");
    /* `global worker from PATH`: the page fetches PATH from its own origin (a dedicated worker's script is
     * same-origin, HTML "fetch a classic worker script": mode "same-origin"), so a GET route must serve it there. */
    if (c->worker_from && !worker_route(c))
        sc_cerr(c, 1, c->global_line, 1, "'global worker from %s': no 'server GET %s' route on the page's origin %s",
                json_string_value(c->worker_from), json_string_value(c->worker_from), c->page);
    /* The case page starts the worker from its own origin's worker.js, which an opaque origin cannot fetch. */
    if (c->global_line && !strcmp(c->global, "worker") && c->page_sandboxed)
        sc_err(c, c->sandboxed_ln, c->sandboxed_off, "a sandboxed page (an opaque origin) cannot start the "
               "case's worker (its script is on the page URL's origin): 'global worker' runs on a plain page");
}

/* The capabilities the origins a case names imply (FORMAT.md §5.6): a TLS origin or fault listener in any of
 * its texts, or a TLS page, needs `tls` (the client trusts the run's CA); origin D or page D needs `host-d` (the
 * client resolves D's name to loopback). Either tags the case `tls` (FORMAT.md §2, `tags`). */
static void origin_needs(struct pctx *c)
{
    json_t *parts[] = {c->routes, c->objects, c->steps, c->handlers, c->expect};
    unsigned uses = 0;
    for (size_t i = 0; i < NROWS(parts); i++) uses |= ch_tmpl_json_uses(parts[i]);
    int page = ch_origin_by_name(c->page, strlen(c->page));
    if ((uses & CH_USES_TLS) || ch_origin_tls(page)) c->caps |= 1u << CAP_TLS;
    if ((uses & CH_USES_D) || page == CH_ORIGIN_D) c->caps |= 1u << CAP_HOST_D;
    if ((c->caps & (1u << CAP_TLS | 1u << CAP_HOST_D)) && !in_array(c->tags, "tls", 3))
        json_array_append_new(c->tags, json_string("tls"));
}

static json_t *needs_array(unsigned caps)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < CAP_COUNT; i++)
        if (caps & 1u << i) json_array_append_new(a, json_string(sc_cap_names[i]));
    return a;
}

/* The case JSON of MODEL.md §1, in its field order. Takes the parts out of c. */
static json_t *assemble(struct pctx *c, const int *sel, const char *cell_id)
{
    const struct ch_matrix *m = &c->f->matrix;
    json_t *k = json_object(), *id = c->id;
    origin_needs(c);
    if (m->naxes > 0) id = json_sprintf("%s/%s", json_string_value(c->id), cell_id);
    else json_incref(id);
    json_object_set_new(k, "id", id);
    json_object_set(k, "title", c->title);
    json_object_set(k, "spec", c->spec);
    json_object_set(k, "tags", c->tags);
    json_object_set(k, "wpt", c->wpt);
    json_object_set_new(k, "needs", needs_array(c->caps | sc_program_caps(c->objects, c->steps, c->handlers)));
    json_object_set_new(k, "deadline_ms", json_integer(c->deadline_ms));
    json_object_set_new(k, "settle_ms", json_integer(c->settle_ms));
    json_object_set_new(k, "page", json_string(c->page));
    if (c->page_sandboxed) json_object_set_new(k, "page_sandboxed", json_true());
    if (c->page_encoding) json_object_set_new(k, "page_encoding", json_string(c->page_encoding));
    /* Only a worker is said: a window program's case JSON stays as it was before `global`, so its records stay
     * fresh (harness/mutate). */
    if (strcmp(c->global, "window")) json_object_set_new(k, "global", json_string(c->global));
    if (c->worker_from) json_object_set(k, "worker_from", c->worker_from);
    json_object_set_new(k, "source", json_pack("{s:s, s:i}", "file", c->f->path, "line", c->case_line));
    if (m->naxes > 0) {
        json_t *cell = json_object();
        for (size_t a = 0; a < m->naxes; a++)
            json_object_set_new(cell, m->axis[a].name, json_string(m->axis[a].val[sel[a]].label));
        json_object_set_new(k, "cell", cell);
    }
    json_object_set(k, "server", c->routes);
    json_object_set_new(k, "client", json_pack("{s:O, s:O, s:O}", "objects", c->objects, "steps", c->steps,
                                               "handlers", c->handlers));
    json_object_set(k, "expect", c->expect);
    if (c->cors_json) json_object_set(k, "cors", c->cors_json);
    return k;
}

static void free_cell(struct pctx *c)
{
    json_t *parts[] = {c->id, c->title, c->spec, c->tags, c->wpt, c->routes, c->objects, c->steps, c->handlers, c->expect,
                       c->worker_from};
    for (size_t i = 0; i < NROWS(parts); i++) json_decref(parts[i]);
    for (size_t i = 0; i < c->nobj; i++) json_decref(c->obj[i].listened);
    sc_cors_free(c);
}

/* Parses one cell (sel NULL-free; cell_id NULL outside a matrix) and appends its case to `cases` if the cell
 * added no error. Appends the id's column to idcols when given. */
static void parse_cell(struct fctx *f, const struct ch_line *lines, size_t n, const char *skip, const int *sel,
                       const char *cell_id, json_t *cases, json_t *idcols)
{
    struct pctx c = {.f = f, .cell = cell_id, .sel = sel, .deadline_ms = 10000, .settle_ms = 200, .page = "A",
                    .global = "window"};
    struct layout lay = {0};
    size_t nl = 0;
    int dropped = 0;
    c.block_used = calloc(f->nblocks + 1, 1);
    if (!c.block_used) abort();
    c.spec = json_array();
    c.tags = json_array();
    c.wpt = json_array();
    c.routes = json_array();
    c.objects = json_array();
    c.steps = json_array();
    c.handlers = json_array();
    c.expect = json_array();
    struct sline *l = cell_lines(&c, lines, n, skip, sel, &nl, &dropped);
    group(&c, l, nl, &lay);
    run_layout(&c, &lay);
    /* The CORS oracle (FORMAT.md §7) computes for the page's own origin, which a sandboxed page does not have. */
    if (c.page_sandboxed && c.ncors)
        sc_err(&c, c.sandboxed_ln, c.sandboxed_off,
               "a sandboxed page has an opaque origin, which the cors sections' oracle does not model: write its "
               "server, client and expect sections out");
    if (c.errors == 0) sc_lint_case(&c);
    require_meta(&c, dropped);
    unused_blocks(&c, l, nl);
    if (c.errors == 0) {
        json_array_append_new(cases, assemble(&c, sel, cell_id));
        if (idcols) json_array_append_new(idcols, json_integer((json_int_t)c.id_col));
    }
    free_layout(&lay);
    free_lines(l, nl);
    free_cell(&c);
    free(c.block_used);
}

/* ---- the file -------------------------------------------------------------------------------------- */

#define IN_BLOCK 2 /* skip[i]: a line of a literal block (or its closing line), checked by read_blocks */

/* The block opened at byte `at` of lines[i] (FORMAT.md §1.5): records it when it is well-formed, marks its
 * lines and its closing line IN_BLOCK, and checks them. Returns the index of the closing line (n when none). */
static size_t read_block(struct fctx *f, const struct ch_line *lines, size_t n, size_t i, size_t at, char *skip)
{
    struct sc_block b = {.line = i, .at = at, .first = i + 1};
    char err[CH_ERR_LEN];
    size_t bat = 0, end;
    int ok = ch_lex_block_opener(lines[i].text + at, lines[i].len - at, &b.opener, &bat, err) >= 0;
    if (!ok) sc_ferr(f, lines[i].no, ch_lex_col(lines[i].text, lines[i].len, at + bat), NULL, "%s", err);
    if (!b.opener.tag[0]) return i; /* no tag to look for: the lines after it are ordinary lines */
    end = ch_lex_block_end(lines, n, i, b.opener.tag);
    if (end == n) {
        sc_ferr(f, lines[i].no, ch_lex_col(lines[i].text, lines[i].len, at), NULL,
             "an unterminated block: no line '%s' closes it (the rest of the file is its text)", b.opener.tag);
        ok = 0;
    }
    b.count = end - b.first;
    b.strip = end < n ? lines[end].indent : 0;
    for (size_t j = b.first; j <= end && j < n; j++) {
        size_t lat = 0;
        skip[j] = IN_BLOCK;
        if (j < end && ch_lex_check_block_line(&lines[j], b.strip, &lat, err) < 0) {
            sc_ferr(f, lines[j].no, ch_lex_col(lines[j].text, lines[j].len, lat), NULL, "%s", err);
            ok = 0;
        }
    }
    b.bad = !ok;
    struct sc_block *more = realloc(f->blocks, (f->nblocks + 1) * sizeof *more);
    if (!more) abort(); /* out of memory while parsing a case file */
    f->blocks = more;
    f->blocks[f->nblocks++] = b;
    return end;
}

/* Finds every literal block (FORMAT.md §1.5) before anything else reads the lines: a block's lines are text,
 * not lines of the language (a '#' or a blank line in it is part of it). */
static void read_blocks(struct fctx *f, const struct ch_line *lines, size_t n, char *skip)
{
    for (size_t i = 0; i < n; i++) {
        if (!lines[i].content) continue;
        size_t at = ch_lex_find_opener(lines[i].text, lines[i].len);
        if (at < lines[i].len) i = read_block(f, lines, n, i, at, skip);
    }
}

/* Checks every line once (tabs, UTF-8) and marks what no cell parses: blank, comment and broken lines. */
static void check_lines(struct fctx *f, const struct ch_line *lines, size_t n, char *skip)
{
    char err[CH_ERR_LEN];
    for (size_t i = 0; i < n; i++) {
        size_t at = 0;
        if (skip[i] == IN_BLOCK) continue;
        skip[i] = !lines[i].content;
        if (ch_lex_check_line(&lines[i], &at, err) < 0) {
            sc_ferr(f, lines[i].no, ch_lex_col(lines[i].text, lines[i].len, at), NULL, "%s", err);
            skip[i] = 1;
        }
    }
}

static int starts_word(const struct ch_line *ln, const char *w)
{
    size_t n = strlen(w);
    return ln->indent == 0 && ln->len >= n && memcmp(ln->text, w, n) == 0 &&
           (ln->len == n || ln->text[n] == ' ' || ln->text[n] == '\t');
}

/* The lines of a matrix section (FORMAT.md §3). */
static const char *const matrix_words[] = {"axis", "exclude"};

/* One line of the matrix section: `axis ...` or `exclude ...`. */
static void matrix_item(struct fctx *f, const struct ch_line *ln, int indent_ok)
{
    char err[CH_ERR_LEN];
    struct ch_tok *tok = NULL;
    size_t ntok = 0, at = 0, base = ln->indent;
    const char *s = ln->text + base;
    int rc;
    if (!indent_ok) {
        sc_ferr(f, ln->no, ch_lex_col(ln->text, ln->len, base), NULL, "axis and exclude lines take no attachments");
        return;
    }
    rc = ch_lex_words(s, ln->len - base, &tok, &ntok, &at, err);
    if (rc == 0 && ntok > 0 && tok[0].len == strlen(matrix_words[0]) && memcmp(s, matrix_words[0], tok[0].len) == 0)
        rc = ch_matrix_axis(&f->matrix, s, tok, ntok, &at, err);
    else if (rc == 0 && ntok > 0 && tok[0].len == strlen(matrix_words[1]) && memcmp(s, matrix_words[1], tok[0].len) == 0)
        rc = ch_matrix_exclude(&f->matrix, s, tok, ntok, &at, err);
    else if (rc == 0)
        rc = ch_errf(err, "unknown word '%.*s' in a matrix section (axis, exclude)",
                     (int)(tok[0].len > 40 ? 40 : tok[0].len), s);
    if (rc < 0) sc_ferr(f, ln->no, ch_lex_col(ln->text, ln->len, base + at), NULL, "%s", err);
    free(tok);
}

/* Reads the matrix section (FORMAT.md §3), marking its lines as skipped for the cells. Returns -1 if the
 * matrix is unusable. */
static int read_matrix(struct fctx *f, const struct ch_line *lines, size_t n, char *skip)
{
    int first = 0, before = f->nerr;
    for (size_t i = 0; i < n; i++) {
        if (skip[i] || !starts_word(&lines[i], "matrix")) continue;
        if (lines[i].len != 6)
            sc_ferr(f, lines[i].no, 8, NULL, "'matrix' takes no words (its axes go on the lines under it)");
        if (first) sc_ferr(f, lines[i].no, 1, NULL, "a second matrix section (the first is line %d)", first);
        size_t item_indent = 0;
        skip[i] = 1;
        for (size_t k = i + 1; k < n && (skip[k] || lines[k].indent > 0); k++) {
            if (skip[k]) continue;
            skip[k] = 1;
            if (!item_indent) item_indent = lines[k].indent;
            if (!first) matrix_item(f, &lines[k], lines[k].indent <= item_indent);
        }
        if (!first && f->matrix.naxes == 0 && f->nerr == before)
            sc_ferr(f, lines[i].no, 1, NULL, "a matrix section needs at least one axis");
        if (!first) first = lines[i].no;
    }
    return f->nerr == before ? 0 : -1;
}

/* Parses every cell (one without a matrix). Stops early once errors overflow. */
static void expand(struct fctx *f, const struct ch_line *lines, size_t n, const char *skip, json_t *cases,
                   json_t *idcols, int matrix_line)
{
    size_t cells = ch_matrix_ncells(&f->matrix), kept = 0;
    int sel[CH_MATRIX_MAX_AXES] = {0};
    char id[CH_MATRIX_ID_LEN];
    for (size_t i = 0; i < cells && f->nerr <= SC_MAX_ERRORS; i++) {
        if (ch_matrix_cell(&f->matrix, i, sel)) continue;
        ch_matrix_cell_id(&f->matrix, sel, id);
        parse_cell(f, lines, n, skip, sel, f->matrix.naxes ? id : NULL, cases, idcols);
        kept++;
    }
    if (kept == 0) sc_ferr(f, matrix_line, 1, NULL, "the excludes remove every cell of the matrix");
}

static int first_matrix_line(const struct ch_line *lines, size_t n, const char *skip)
{
    for (size_t i = 0; i < n; i++)
        if (skip[i] != IN_BLOCK && lines[i].content && starts_word(&lines[i], "matrix")) return lines[i].no;
    return 1;
}

/* The whole of ch_script_parse_text, with the id columns wanted by ch_script_load. */
static int parse_text(const char *path, const char *text, size_t len, const char *fixtures, json_t *out, json_t *errs,
                      json_t *idcols)
{
    struct fctx f = {.path = path, .errs = errs, .errs_first = json_array_size(errs), .fixtures = fixtures};
    json_t *cases = json_array();
    size_t n = 0;
    struct ch_line *lines = ch_lex_lines(text, len, &n);
    char *skip = ch_xcalloc(n + 1, 1);
    f.lines = lines;
    f.nlines = n;
    if (len > SC_MAX_FILE) {
        sc_ferr(&f, 1, 1, NULL, "the file is larger than %u bytes", SC_MAX_FILE);
    } else {
        read_blocks(&f, lines, n, skip);
        check_lines(&f, lines, n, skip);
        if (read_matrix(&f, lines, n, skip) == 0)
            expand(&f, lines, n, skip, cases, idcols, first_matrix_line(lines, n, skip));
    }
    if (f.nerr == 0) json_array_extend(out, cases);
    else if (idcols) json_array_clear(idcols);
    json_decref(cases);
    ch_matrix_free(&f.matrix);
    json_decref(f.wpt);
    free(f.blocks);
    free(skip);
    free(lines);
    return f.nerr;
}

int ch_script_parse_text(const char *path, const char *text, size_t len, const char *fixtures, json_t *out,
                         json_t *errs)
{
    return parse_text(path, text, len, fixtures, out, errs, NULL);
}

static int file_error(json_t *errs, const char *path, const char *msg)
{
    struct fctx f = {.path = path, .errs = errs, .errs_first = json_array_size(errs)};
    sc_ferr(&f, 0, 0, NULL, "%s", msg);
    return 1;
}

static int parse_file(const char *path, const char *fixtures, json_t *out, json_t *errs, json_t *idcols)
{
    char err[CH_ERR_LEN];
    struct stat sb;
    size_t len = 0;
    if (stat(path, &sb) != 0) return file_error(errs, path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return file_error(errs, path, "not a regular file");
    if (sb.st_size > (off_t)SC_MAX_FILE) return file_error(errs, path, "the file is larger than 16 MiB");
    char *text = ch_read_file(path, &len, err);
    if (!text) return file_error(errs, path, "cannot read the file");
    int rc = parse_text(path, text, len, fixtures, out, errs, idcols);
    free(text);
    return rc;
}

int ch_script_parse_file(const char *path, const char *fixtures, json_t *out, json_t *errs)
{
    return parse_file(path, fixtures, out, errs, NULL);
}

/* ---- loading a tree -------------------------------------------------------------------------------- */

struct paths {
    char **p;
    size_t n, cap;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_case_file(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".case") == 0;
}

static int walk(const char *path, int depth, struct paths *acc, json_t *errs);

/* Walks a directory's entries in sorted order (dot entries skipped). */
static int walk_dir(const char *path, int depth, struct paths *acc, json_t *errs)
{
    struct paths names = {0};
    struct dirent *de;
    DIR *d = opendir(path);
    int nerr = 0;
    if (!d) return file_error(errs, path, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        names.p = grow(names.p, &names.cap, names.n, sizeof *names.p);
        names.p[names.n++] = ch_xstrdup(de->d_name);
    }
    closedir(d);
    if (names.n) qsort(names.p, names.n, sizeof *names.p, by_name);
    for (size_t i = 0; i < names.n; i++) {
        char *child = ch_xmalloc(strlen(path) + strlen(names.p[i]) + 2);
        struct stat sb;
        sprintf(child, "%s/%s", path, names.p[i]);
        if (stat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) nerr += walk(child, depth + 1, acc, errs);
        else if (is_case_file(names.p[i])) {
            acc->p = grow(acc->p, &acc->cap, acc->n, sizeof *acc->p);
            acc->p[acc->n++] = child;
            child = NULL;
        }
        free(child);
        free(names.p[i]);
    }
    free(names.p);
    return nerr;
}

/* Collects case files under path: the path itself if it is a file (whatever its name), else every *.case
 * file below it. */
static int walk(const char *path, int depth, struct paths *acc, json_t *errs)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return file_error(errs, path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        if (depth > MAX_DEPTH) return file_error(errs, path, "directories nested too deep (a symlink loop?)");
        return walk_dir(path, depth, acc, errs);
    }
    acc->p = grow(acc->p, &acc->cap, acc->n, sizeof *acc->p);
    acc->p[acc->n++] = ch_xstrdup(path);
    return 0;
}

/* Moves the cases parsed from path (id columns in idcols) to out, checking their ids against `seen` (id ->
 * "file:line"). A repeat is an error at its second definition, and is left out. */
static int check_ids(const char *path, json_t *cases, json_t *idcols, json_t *seen, json_t *errs, json_t *out)
{
    struct fctx f = {.path = path, .errs = errs, .errs_first = json_array_size(errs)};
    size_t i;
    json_t *k;
    json_array_foreach(cases, i, k) {
        const char *id = json_string_value(json_object_get(k, "id"));
        int line = (int)json_integer_value(json_object_get(json_object_get(k, "source"), "line"));
        json_t *prev = json_object_get(seen, id);
        if (prev) {
            sc_ferr(&f, line, (int)json_integer_value(json_array_get(idcols, i)), NULL,
                 "duplicate case id '%s' (also defined at %s)", id, json_string_value(prev));
            continue;
        }
        json_object_set_new(seen, id, json_sprintf("%s:%d", path, line));
        json_array_append(out, k);
    }
    return f.nerr;
}

int ch_script_load(char *const *paths, int npaths, const char *fixtures, json_t *out, json_t *errs)
{
    struct paths files = {0};
    json_t *seen = json_object();
    int nerr = 0;
    for (int i = 0; i < npaths; i++) nerr += walk(paths[i], 0, &files, errs);
    for (size_t i = 0; i < files.n; i++) {
        json_t *cases = json_array(), *idcols = json_array();
        nerr += parse_file(files.p[i], fixtures, cases, errs, idcols);
        nerr += check_ids(files.p[i], cases, idcols, seen, errs, out);
        json_decref(cases);
        json_decref(idcols);
        free(files.p[i]);
    }
    free(files.p);
    json_decref(seen);
    return nerr;
}

/* ---- the vocabulary -------------------------------------------------------------------------------- */

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

json_t *sc_words(void)
{
    json_t *vocab = json_object(), *list;
    const char *group;
    for (size_t r = 0; r < NROWS(meta_rows); r++) sc_vocab_add(vocab, "meta", meta_rows[r].word);
    for (size_t r = 0; r < NROWS(section_rows); r++) sc_vocab_add(vocab, "section", section_rows[r].word);
    for (size_t r = 0; r < NROWS(matrix_words); r++) sc_vocab_add(vocab, "matrix", matrix_words[r]);
    sc_kind_words(vocab);
    sc_server_words(vocab);
    sc_client_words(vocab);
    sc_expect_words(vocab);
    sc_cors_words(vocab);
    json_object_foreach(vocab, group, list) {
        size_t n = json_array_size(list);
        json_t **items = malloc((n + 1) * sizeof *items);
        if (!items) abort();
        for (size_t i = 0; i < n; i++) items[i] = json_incref(json_array_get(list, i));
        qsort(items, n, sizeof *items, by_string);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++) json_array_append_new(list, items[i]);
        free(items);
    }
    return vocab;
}

json_t *ch_vocabulary(void)
{
    return sc_vocabulary(sc_words());
}

void ch_script_print_errors(const json_t *errs, FILE *to)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        const char *cell = json_string_value(json_object_get(e, "cell"));
        fprintf(to, "%s:%d:%d: %s%s%s%s\n", json_string_value(json_object_get(e, "file")),
                (int)json_integer_value(json_object_get(e, "line")), (int)json_integer_value(json_object_get(e, "col")),
                json_string_value(json_object_get(e, "message")), cell ? " [cell " : "", cell ? cell : "",
                cell ? "]" : "");
    }
}
