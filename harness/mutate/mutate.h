/* mutate.h — proving that every check can fail (README, "Mutation testing"): recorded runs in, for every
 * expectation of the case set, whether a mutant of a record on which it passed made it FAIL.
 *
 * A **record** is one judged run of a case, as `runner record` writes it from a conformance run's event stream
 * (reports/SCHEMA.md, `verdict`) or from verdicts fetched with `full=1`:
 *   {"case", "client", "version", "program": SHA-256 hex, "time_scale", "observations", "transcript", "vars"}
 * `program` is the digest of what decides the run (ch_program_sha256): a record whose case has since changed
 * there is stale, reported and not used.
 *
 * A **check** is one expectation of one case, named `CASE:LINE:KIND` (with `#k`, counted from 1, when a line
 * holds several expectations of that kind, as an `expect cors` line does): stable while the case is.
 *
 * The run reads the records twice, each time streamed (one record in memory at a time): first to learn what
 * real clients recorded (the vocabulary the mutants that add something may use: judge.h, ch_judge_mutants),
 * then to judge each record and try the mutants of every check that passed on it and is not yet proven. */
#ifndef CH_MUTATE_H
#define CH_MUTATE_H

#include <jansson.h>
#include <stdio.h>

#include "core/core.h"

/* The SHA-256 (hex) of what decides a run of the case: its JSON without the expectations and what only
 * documents them (`expect`, `cors` decisions, `title`, `spec`, `wpt`, `source`, every `line`), with the bytes of each
 * `body file` under `fixtures` in place of the path. 0, or -1 with err (a body file that cannot be read). */
int ch_program_sha256(const json_t *kase, const char *fixtures, char out[CH_SHA256_HEX_SIZE], char *err);

/* A record from one line of an event stream (a `verdict` event) or a full verdict: NULL when the line is not a
 * verdict whose checks ran (N/A, an adapter error, CRASH, other events), or names a case not in `by_id` (an
 * object: id -> case JSON); `*why` then says which (a static string). The time scale is the run's. */
json_t *ch_record_make(const json_t *line, const json_t *by_id, const char *fixtures, double time_scale,
                       const char **why);

/* A mutation run over a case set. */
struct ch_mutation;

struct ch_mutation *ch_mutation_new(const json_t *cases, const char *fixtures);
void ch_mutation_free(struct ch_mutation *mu);

/* Pass 1: learns from one record (stale records and unknown cases are counted, not used). */
void ch_mutation_learn(struct ch_mutation *mu, const json_t *rec);
/* Pass 2, after every record was learnt: judges the record and tries the mutants of its passing checks. */
void ch_mutation_prove(struct ch_mutation *mu, const json_t *rec);

/* Every check with its outcome, in case-set order: [{"id", "case", "line", "kind", "family", "text", "level",
 * "outcome": "proven" | "survivor" | "failed" (failed on every record that judged it, passed on none) |
 * "unjudged" (no fresh record judged it), "proof"?: {"client", "mutant", "mutants"}, "passed": [client...],
 * "failed": [client...], "listed"?: WHY}], with `survivors` (may be NULL) applied. Borrowed until the next call. */
const json_t *ch_mutation_checks(struct ch_mutation *mu, const json_t *survivors);

/* The report: records (fresh, stale and why), per family "checks proven able to fail: N of M", the survivors
 * not listed (with `all`: every survivor, and the checks that failed on every record), and the problems with
 * the survivors list. Returns the number of problems: a survivor not listed with a reason, an entry that names
 * no check or only proven ones. */
int ch_mutation_report(struct ch_mutation *mu, const json_t *survivors, int all, FILE *out);

/* Reads a survivors file: a JSON array of {"case": GLOB (fnmatch(3), so a matrix's cells can share an entry),
 * "line": N, "kind"?: KIND, "why": TEXT (non-empty)}. NULL with err naming the file and entry. */
json_t *ch_survivors_load(const char *path, char *err);

#endif
