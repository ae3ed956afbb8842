/* check_format.c — cases/FORMAT.md against the parser, so the reference cannot drift from the language:
 *
 *   - every word the parser accepts (the "words" of ch_vocabulary(): its own step, section, expectation... tables) has a
 *     heading or a table row in FORMAT.md, and every word FORMAT.md documents is accepted;
 *   - every code block is closed, and every example marked ```case is a case file the parser accepts.
 *
 * FORMAT.md marks what is compared: `<!-- words: GROUP -->` makes each `#### ` heading after it (until the next
 * marker or `##`/`###` heading) document the first word of each `code` span in it; `<!-- table: GROUP -->` makes
 * the next table's rows document the first word of each code span of their first cell; `<!-- table: GROUP* -->`
 * makes each row document, under "GROUP W" (W its first cell's word), every code span of its second cell. The
 * extractor is tested on small texts first, so a check that cannot fail would show. Runs from the repository's
 * root (make check-c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "core/core.h"
#include "testing/testing.h"

#define FORMAT_MD "cases/FORMAT.md"

/* ---- the extractor ------------------------------------------------------------------------------- */

struct doc {
    json_t *groups;   /* GROUP -> {word: true} */
    json_t *examples; /* the text of every ```case block */
    char problem[512]; /* the first structural problem ("line 12: ..."), empty if none */
};

/* Adds the word to GROUP, or to each group of "GROUP | GROUP ..." (a word several kinds share, documented once). */
static void add_word(struct doc *d, const char *group, const char *w, size_t n)
{
    char word[128], one[64];
    snprintf(word, sizeof word, "%.*s", (int)(n < sizeof word - 1 ? n : sizeof word - 1), w);
    for (const char *g = group; *g;) {
        const char *bar = strstr(g, " | ");
        size_t len = bar ? (size_t)(bar - g) : strlen(g);
        snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one - 1 ? len : sizeof one - 1), g);
        json_t *set = json_object_get(d->groups, one);
        if (!set) json_object_set_new(d->groups, one, set = json_object());
        json_object_set_new(set, word, json_true());
        g = bar ? bar + 3 : g + len;
    }
}

/* Calls add_word for the first word of every `code` span of s[0..n); returns how many spans there were. */
static int spans(struct doc *d, const char *group, const char *s, size_t n, int first_only, char *first, size_t flen)
{
    int count = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '`') continue;
        size_t j = i + 1, w;
        while (j < n && s[j] != '`') j++;
        if (j >= n) break;
        for (w = i + 1; w < j && s[w] != ' '; w++) {}
        if (count == 0 && first) snprintf(first, flen, "%.*s", (int)(w - i - 1), s + i + 1);
        if (group && (!first_only || count == 0)) add_word(d, group, s + i + 1, w - i - 1);
        count++;
        i = j;
    }
    return count;
}

/* The cells of a table row `| a | b \| c | d |`: start offsets and lengths of up to max cells. */
static size_t cells(const char *s, size_t n, size_t *start, size_t *len, size_t max)
{
    size_t k = 0, i = 1, from = 1;
    for (; i < n && k < max; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (s[i] != '|') continue;
        start[k] = from;
        len[k++] = i - from;
        from = i + 1;
    }
    return k;
}

static int starts(const char *s, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && memcmp(s, prefix, p) == 0;
}

/* A marker `<!-- KIND: GROUP -->` into group (empty if the line is not one of this kind). */
static void marker(const char *s, size_t n, const char *kind, char *group, size_t glen)
{
    char open[32];
    snprintf(open, sizeof open, "<!-- %s: ", kind);
    group[0] = '\0';
    if (!starts(s, n, open) || n < strlen(open) + 4 || memcmp(s + n - 4, " -->", 4) != 0) return;
    snprintf(group, glen, "%.*s", (int)(n - strlen(open) - 4), s + strlen(open));
}

static void problem(struct doc *d, int line, const char *msg)
{
    if (!d->problem[0]) snprintf(d->problem, sizeof d->problem, "line %d: %s", line, msg);
}

/* Reads a Markdown text into d (see the file's comment for what it takes). */
static void extract(struct doc *d, const char *text)
{
    char words[64] = "", table[64] = "", m[64], example_open = 0;
    int in_code = 0, line = 0, rows = 0, fence_line = 0;
    const char *p = text, *code_start = NULL;
    d->groups = json_object();
    d->examples = json_array();
    d->problem[0] = '\0';
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        line++;
        if (starts(p, n, "```")) {
            if (!in_code) {
                fence_line = line;
                example_open = n == 7 && memcmp(p + 3, "case", 4) == 0;
                code_start = nl ? nl + 1 : p + n;
            } else if (example_open) {
                json_array_append_new(d->examples, json_pack("{s:s%, s:i}", "text", code_start, (size_t)(p - code_start),
                                                             "line", fence_line));
            }
            in_code = !in_code;
        } else if (!in_code) {
            if (starts(p, n, "## ") || starts(p, n, "### ")) words[0] = table[0] = '\0';
            marker(p, n, "words", m, sizeof m);
            if (m[0]) strcpy(words, m), table[0] = '\0';
            marker(p, n, "table", m, sizeof m);
            if (m[0]) strcpy(table, m), words[0] = '\0', rows = 0;
            if (starts(p, n, "#### ")) {
                if (!words[0]) problem(d, line, "a #### heading outside a <!-- words: --> region");
                else if (spans(d, words, p, n, 0, NULL, 0) == 0 || p[5] != '`')
                    problem(d, line, "a word's heading starts with the word in a code span (#### `word ...`)");
            }
            if (table[0] && starts(p, n, "|")) {
                size_t st[4], ln[4], nc = cells(p, n, st, ln, 4);
                if (++rows > 2 && nc >= 1) {
                    size_t gl = strlen(table);
                    if (table[gl - 1] != '*') {
                        spans(d, table, p + st[0], ln[0], 0, NULL, 0);
                    } else if (nc >= 2) {
                        char first[64] = "", sub[160];
                        spans(d, NULL, p + st[0], ln[0], 1, first, sizeof first);
                        snprintf(sub, sizeof sub, "%.*s %s", (int)(gl - 1), table, first);
                        spans(d, sub, p + st[1], ln[1], 0, NULL, 0);
                    }
                }
            } else if (table[0] && rows > 0) {
                table[0] = '\0';
            }
        }
        p = nl ? nl + 1 : p + n;
    }
    if (in_code) problem(d, fence_line, "a code block that is never closed");
}

static void doc_free(struct doc *d)
{
    json_decref(d->groups);
    json_decref(d->examples);
}

/* Every difference between the documented groups and the parser's, one a line, into out. Returns the count. */
static int compare(const json_t *doc, const json_t *vocab, char *out, size_t len)
{
    const char *group;
    json_t *v, *set, *word;
    size_t i, w = 0;
    int diffs = 0;
    out[0] = '\0';
#define SAY(...) (diffs++, w += (size_t)snprintf(out + w, w < len ? len - w : 0, __VA_ARGS__), w = w < len ? w : len)
    json_object_foreach((json_t *)vocab, group, v) {
        set = json_object_get(doc, group);
        json_array_foreach(v, i, word) {
            const char *s = json_string_value(word);
            if (!set || !json_object_get(set, s)) SAY("the parser's word '%s' (%s) has no heading or row\n", s, group);
        }
    }
    json_object_foreach((json_t *)doc, group, set) {
        const json_t *list = json_object_get(vocab, group);
        void *it;
        if (!list) {
            SAY("FORMAT.md documents a group '%s' the parser does not have\n", group);
            continue;
        }
        for (it = json_object_iter(set); it; it = json_object_iter_next(set, it)) {
            const char *s = json_object_iter_key(it);
            int found = 0;
            json_array_foreach(list, i, v) found |= !strcmp(json_string_value(v), s);
            if (!found) SAY("FORMAT.md documents '%s' under '%s', a word the parser does not accept\n", s, group);
        }
    }
#undef SAY
    return diffs;
}

/* ---- the extractor on small texts: what it must find, and the differences it must report ------------ */

static const struct {
    const char *text;  /* a Markdown text */
    const char *vocab; /* a vocabulary (JSON) to compare it with */
    int diffs;         /* differences compare() must count */
    const char *problem; /* or the structural problem extract() must report */
} texts[] = {
    {"<!-- words: server -->\n#### `status CODE`\n#### `close` / `reset`\n", "{\"server\":[\"close\",\"reset\",\"status\"]}", 0, ""},
    {"<!-- words: a | b -->\n#### `x`\n", "{\"a\":[\"x\"],\"b\":[\"x\"]}", 0, ""},                       /* one heading, two groups */
    {"<!-- words: a | b -->\n#### `x`\n", "{\"a\":[\"x\"],\"b\":[\"y\"]}", 2, ""},                       /* b's word missing, x extra */
    {"<!-- words: server -->\n#### `status CODE`\n", "{\"server\":[\"close\",\"status\"]}", 1, ""},     /* a word undocumented */
    {"<!-- words: server -->\n#### `stauts CODE`\n", "{\"server\":[\"status\"]}", 2, ""},              /* misspelled: both ways */
    {"<!-- words: meta -->\n#### `case ID`\n", "{\"server\":[]}", 1, ""},                                 /* an unknown group */
    {"<!-- words: a -->\n#### `x`\n### next\n#### `y`\n", "{\"a\":[\"x\"]}", 0, "line 4: a #### heading outside a <!-- words: --> region"},
    {"<!-- words: a -->\n#### x `y`\n", "{\"a\":[\"y\"]}", 0, "line 2: a word's heading starts with the word in a code span (#### `word ...`)"},
    {"```\nopen\n", "{}", 0, "line 1: a code block that is never closed"},
    {"```\n#### `not a heading`\n```\n", "{}", 0, ""},                                                    /* code is not read */
    {"<!-- table: kind -->\n| kind | x |\n| --- | --- |\n| `xhr` | a |\n| `a` `b` | c \\| `d` |\n\n| `no` |\n",
     "{\"kind\":[\"a\",\"b\",\"xhr\"]}", 0, ""},
    {"<!-- table: events* -->\n| kind | events |\n| --- | --- |\n| `xhr` | `load` `loadend` |\n| `img` | `load` |\n",
     "{\"events xhr\":[\"load\",\"loadend\"],\"events img\":[\"error\",\"load\"]}", 1, ""},
};

START_TEST(extractor_table)
{
    struct doc d;
    char out[4096];
    json_error_t jerr;
    json_t *vocab = json_loads(texts[_i].vocab, 0, &jerr);
    ck_assert_msg(vocab != NULL, "row %d: %s", _i, jerr.text);
    extract(&d, texts[_i].text);
    ck_assert_msg(strcmp(d.problem, texts[_i].problem) == 0, "row %d: problem '%s'", _i, d.problem);
    int diffs = compare(d.groups, vocab, out, sizeof out);
    ck_assert_msg(diffs == texts[_i].diffs, "row %d: %d differences:\n%s", _i, diffs, out);
    json_decref(vocab);
    doc_free(&d);
}
END_TEST

START_TEST(extractor_examples)
{
    struct doc d;
    extract(&d, "text\n```case\ncase xhr/a\n```\n```\nnot an example\n```\n");
    ck_assert_int_eq(json_array_size(d.examples), 1);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(d.examples, 0), "text")), "case xhr/a\n");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(d.examples, 0), "line")), 2);
    doc_free(&d);
}
END_TEST

/* ---- FORMAT.md itself ------------------------------------------------------------------------------ */

static char *read_format(void)
{
    size_t len = 0;
    char err[CH_ERR_LEN] = "";
    char *text = ch_read_file(FORMAT_MD, &len, err);
    ck_assert_msg(text != NULL, "cannot read %s (run from the repository's root): %s", FORMAT_MD, err);
    return text;
}

START_TEST(format_matches_parser)
{
    struct doc d;
    char out[16384];
    char *text = read_format();
    json_t *all = ch_vocabulary(), *vocab = json_object_get(all, "words");
    extract(&d, text);
    ck_assert_msg(d.problem[0] == '\0', "%s %s", FORMAT_MD, d.problem);
    int diffs = compare(d.groups, vocab, out, sizeof out);
    ck_assert_msg(diffs == 0, "%s and the parser differ in %d words:\n%s", FORMAT_MD, diffs, out);
    /* The vocabulary is read from the tables, not empty: a sample of what must be in it. */
    ck_assert_int_ge(json_array_size(json_object_get(vocab, "server")), 25);
    ck_assert_int_ge(json_array_size(json_object_get(vocab, "client xhr")), 9);
    ck_assert_int_ge(json_array_size(json_object_get(vocab, "expect server")), 8);
    json_decref(all);
    doc_free(&d);
    free(text);
}
END_TEST

/* The table of "Step 5: what each object records": for each kind of the vocabulary a row whose second cell names
 * exactly the properties its DOM events record from the object, and whose cells name every field its events record
 * and every `final` property, so the reference cannot drift from ch_vocabulary(). */
static json_t *row_spans(const char *row, size_t n, size_t from_cell, size_t to_cell)
{
    size_t st[4], ln[4], nc = cells(row, n, st, ln, 4);
    json_t *set = json_object();
    for (size_t c = from_cell; c <= to_cell && c < nc; c++)
        for (size_t i = st[c]; i < st[c] + ln[c]; i++) {
            if (row[i] != '`') continue;
            size_t j = i + 1;
            while (j < st[c] + ln[c] && row[j] != '`') j++;
            char w[128];
            snprintf(w, sizeof w, "%.*s", (int)(j - i - 1), row + i + 1);
            json_object_set_new(set, w, json_true());
            i = j;
        }
    return set;
}

START_TEST(format_step5_matches_vocabulary)
{
    char *text = read_format();
    json_t *v = ch_vocabulary(), *k, *e, *p;
    const char *kind, *name, *table = strstr(text, "### Step 5");
    size_t i;
    ck_assert_msg(table != NULL, "no \"### Step 5\" in %s", FORMAT_MD);
    json_object_foreach(json_object_get(v, "kinds"), kind, k) {
        char head[64];
        snprintf(head, sizeof head, "\n| `%s` |", kind);
        const char *row = strstr(table, head);
        ck_assert_msg(row != NULL, "Step 5 has no row for kind %s", kind);
        row++;
        size_t n = strcspn(row, "\n");
        json_t *state = row_spans(row, n, 1, 1), *all = row_spans(row, n, 1, 3);
        ck_assert_msg(json_object_size(state) == json_array_size(json_object_get(k, "state")),
                      "Step 5, %s: the properties every event records differ from the vocabulary's", kind);
        json_array_foreach(json_object_get(k, "state"), i, p)
            ck_assert_msg(json_object_get(state, json_string_value(p)), "Step 5, %s: '%s' missing", kind, json_string_value(p));
        json_array_foreach(json_object_get(k, "final"), i, p)
            ck_assert_msg(json_object_get(all, json_string_value(p)), "Step 5, %s: final '%s' missing", kind, json_string_value(p));
        json_object_foreach(json_object_get(k, "events"), name, e) {
            json_array_foreach(json_object_get(e, "fields"), i, p)
                ck_assert_msg(json_object_get(all, json_string_value(p)), "Step 5, %s: '%s' of %s missing", kind,
                              json_string_value(p), name);
        }
        json_decref(state);
        json_decref(all);
    }
    json_decref(v);
    free(text);
}
END_TEST

START_TEST(format_examples_parse)
{
    struct doc d;
    char *text = read_format();
    size_t i;
    json_t *ex;
    extract(&d, text);
    ck_assert_int_ge(json_array_size(d.examples), 2);
    json_array_foreach(d.examples, i, ex) {
        json_t *out = json_array(), *errs = json_array();
        const char *src = json_string_value(json_object_get(ex, "text"));
        int n = ch_script_parse_text("FORMAT.md", src, strlen(src), "fixtures", out, errs);
        char *dump = json_dumps(errs, JSON_COMPACT);
        ck_assert_msg(n == 0, "%s: the ```case example at line %d has errors: %s", FORMAT_MD,
                      (int)json_integer_value(json_object_get(ex, "line")), dump);
        ck_assert_int_ge(json_array_size(out), 1);
        free(dump);
        json_decref(out);
        json_decref(errs);
    }
    doc_free(&d);
    free(text);
}
END_TEST

int main(void)
{
    return ch_check_main("format", 0, CH_LOOPS(CH_LOOP(extractor_table, texts)),
                         CH_TESTS(extractor_examples, format_matches_parser, format_step5_matches_vocabulary,
                                  format_examples_parse));
}
