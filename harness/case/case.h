/* case.h — the one public header of harness/case/: the case language (cases/FORMAT.md) parsed into case JSON
 * (harness/MODEL.md §1) by the lexer (lex.c), the matrix expansion (matrix.c) and the parser (script*.c).
 *
 * Errors are collected, never defaulted: each is appended to `errs` as
 * {"file": PATH, "line": N, "col": N, "message": TEXT} (plus "cell": ID inside a matrix), so `runner check`
 * can print every one as `file:line:col: message`. */
#ifndef CH_SCRIPT_H
#define CH_SCRIPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* Parses the text of one case file (`path` is used in errors and in each case's "source"). Every expanded case
 * (one, or one per matrix cell) is appended to `out` as case JSON. `fixtures` is the directory `body file`
 * paths must name a file in (the server's --fixtures; core.h's ch_path_within). Returns the number of errors
 * appended to `errs`; cases are appended only when the file has none. */
int ch_script_parse_text(const char *path, const char *text, size_t len, const char *fixtures, json_t *out,
                         json_t *errs);

/* Reads and parses one file. An unreadable file is one error at line 0. */
int ch_script_parse_file(const char *path, const char *fixtures, json_t *out, json_t *errs);

/* Loads every `*.case` file under the given paths (files, or directories walked recursively in sorted order)
 * and checks that case ids are unique across them (a duplicate is an error at the second definition). */
int ch_script_load(char *const *paths, int npaths, const char *fixtures, json_t *out, json_t *errs);

/* The op of a server step (MODEL.md §1.1) by its name in case JSON, from the case language's one table of step
 * words (script_server.c); NULL for a name no word emits. The server compiles routes with it. */
struct ch_op;
const struct ch_op *ch_case_op(const char *name);

/* Prints each error in `errs` as `file:line:col: message` (with ` [cell ID]` when there is one), one a line. */
void ch_script_print_errors(const json_t *errs, FILE *to);

/* The vocabulary of the case language, declared once (vocab.c and the parser's tables), as one JSON document:
 * {"version": 1,
 *  "kinds": {KIND: {"cap", "new_step", "steps": [OP...], "state": [PROP...], "events": {EVENT: {"arg", "fields",
 *           "dom", "needs_step"?}}, "final": [PROP...], "named_like"}},
 *  "pseudo_events": {EVENT: {...}},
 *  "capabilities": {"names": [CAP...], "rules": [{"op", "when": {PATH: VALUE}, "cap", "written"}]},
 *  "words": {GROUP: [WORD...]}}
 * `words` holds the words the parser accepts, by group, as sorted arrays of unique words: "meta", "section",
 * "matrix", "server" (steps), "client" (the steps every kind takes), "client KIND" (the steps only some kinds
 * take), "expect client", "expect server", "expect cors", "expect section", "attachment", "cors" (the lines of a
 * cors section), "kind", "capability", "events KIND", "pseudo-event". cases/FORMAT.md is checked against
 * `words` (harness/case/tests/check_format.c); `runner vocab --json` prints the whole, and the server answers it
 * at GET /_h/vocabulary (fixtures/PROTOCOL.md §4). Caller decrefs. */
json_t *ch_vocabulary(void);

/* The WPT topic list (cases/wpt/topics.json, wpt.c): the web-platform-tests files a case's `wpt` meta line may
 * name (cases/FORMAT.md §2), grouped into topics, some of which cannot run here. The list is JSON:
 * {"topics": [{"id": ID, "folder": F, "title": T, "files": [PATH...], "not_here"?: WHY,
 * "files_not_here"?: {PATH: WHY}, ...}]}; PATH is relative to the WPT root (`xhr/send-accept.htm`). A file
 * belongs to one topic. `not_here` says why no case here can check the topic; `files_not_here` the same for
 * single files of a topic that can otherwise run. Other fields are for the map's generator
 * (scripts/wpt_coverage.py).
 *
 * ch_wpt_topics_path(): $CH_WPT_TOPICS when set and not empty, else cases/wpt/topics.json (relative to the
 * working directory, as fixtures/ is).
 * ch_wpt_load(): loads and checks the list at path. Returns an object mapping each file to {"topic": ID} plus
 * "not_here": WHY when the file (or its whole topic) cannot run here; NULL with err (CH_ERR_LEN bytes) when the
 * list cannot be read or is malformed (names the topic and field). Caller decrefs. */
const char *ch_wpt_topics_path(void);
json_t *ch_wpt_load(const char *path, char *err);

#endif
