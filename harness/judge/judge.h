/* judge.h — verdicts: a case's expectations × a client's observations × the server's transcript
 * (harness/MODEL.md §1.3 and §3, fixtures/PROTOCOL.md §3). The judge decides; adapters never do. */
#ifndef CH_JUDGE_H
#define CH_JUDGE_H

#include <jansson.h>

/* Judges one run of a case. `observations` and `transcript` may be NULL (treated as empty). `vars` holds the
 * placeholder values of this run (core.h: origins, token, case) used to fill expected values such as
 * `header GET /x Origin = {origin-A}`; it may be NULL when no expectation uses one. `time_scale` multiplies
 * every duration and tolerance in the expectations. Returns a new verdict object (never NULL):
 * {"case", "status", "message", "checks": [...]} — the caller adds token, client, observations, transcript. */
json_t *ch_judge(const json_t *kase, const json_t *observations, const json_t *transcript, const json_t *vars,
                 double time_scale);

/* The exceptions a case allows its client objects to throw (harness/MODEL.md §1.2, the program's
 * `exceptions`): a new object, object name -> array of exception names, "*" standing for any; an object
 * without a key may throw none. An exception is allowed where an expectation other than `never` names the
 * pseudo-event `exception` for that object — with its name as the argument, or without one (any). The
 * interpreters end a program at once when a step throws one that is not allowed; the judge names it in the
 * verdict's message. Never NULL. */
json_t *ch_judge_allowed_exceptions(const json_t *kase);

/* Mutation testing (judge_mutate.c; harness/mutate/ runs it over recorded runs). Expectation `i` of the case
 * PASSed on this record; this judges it alone on mutants of the record targeted at what it reads (MODEL.md
 * §1.3): dropped, duplicated and swapped events or requests, changed asserted values, times moved past a
 * tolerance, removed or changed headers, bodies, queries and closes, and, for what must be absent, only what
 * `vocab` says real clients could produce in this case (harness/mutate/seen.c): {"events": {OBJECT: [TYPE...]}, "headers":
 * [[name, value]...], "queries": [query...], "requests": [[method, path]...]} (each key optional). Stops at
 * the first mutant on which the check FAILs and returns 1, describing it in `how` (howlen bytes); returns 0
 * when every mutant left it passing (or errored). `*tried` (may be NULL) counts the mutants judged. */
int ch_judge_mutants(const json_t *kase, size_t i, const json_t *observations, const json_t *transcript,
                     const json_t *vars, double time_scale, const json_t *vocab, char *how, size_t howlen,
                     size_t *tried);

#endif
