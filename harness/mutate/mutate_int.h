/* mutate_int.h — what the files of harness/mutate/ share; not a public interface. */
#ifndef CH_MUTATE_INT_H
#define CH_MUTATE_INT_H

#include <jansson.h>

/* What real clients recorded and what a case puts in play (seen.c says what a mutant may add, and why). */
struct ch_seen {
    json_t *events;  /* how objects listen -> {"kind", "listen": {step: true}, "types": {type: true}} */
    json_t *headers; /* lowercase name -> [name, value]: headers clients add by themselves, credentials excepted */
    json_t *cases;   /* case id -> {"headers": {lowercase name: [name, value]}, "queries": {q: true},
                        "requests": {"METHOD PATH": [method, path]}} */
};

void ch_seen_init(struct ch_seen *v);
void ch_seen_free(struct ch_seen *v);
/* Learns from one fresh record of the case. */
void ch_seen_learn(struct ch_seen *v, const json_t *kase, const json_t *rec);
/* The vocabulary of one case as ch_judge_mutants takes it (judge.h). New reference. */
json_t *ch_seen_for(const struct ch_seen *v, const json_t *kase);

/* The first entry of the survivors list (survivors.c; mutate.h, ch_survivors_load) naming this check (a check
 * state or outcome: "case", "line", "kind"), or NULL. `survivors` may be NULL. */
const json_t *ch_survivors_match(const json_t *survivors, const json_t *check);
/* Why an entry has no business in the list, given every check's outcome (ch_mutation_checks): it names no
 * check, or only checks proven able to fail. NULL when it names a survivor, or a check no fresh record judged
 * or that failed on every record (its reason may hold again once records are made). */
const char *ch_survivors_unused(const json_t *entry, const json_t *checks);

#endif
