/* pattern.h — event-sequence patterns (harness/MODEL.md §1.3 PATTERN, cases/FORMAT.md §6.1).
 *
 * A PATTERN is a JSON tree: {"seq": [P...]}, {"alt": [P...]}, {"atom": ATOM}, {"repeat": P, "min": n,
 * "max": m or null}. An ATOM is {"type": T} with optionally "arg" (compared with the event's "arg") or "props"
 * (an object of dotted paths compared with the event's "state"); type "." matches any event.
 *
 * ch_pat_compile() checks the tree and turns it into a small program (atoms, splits, jumps, match);
 * ch_pat_match() runs it with backtracking over an array of observation events, anchored at both ends. The
 * search remembers every (instruction, position) it has tried, so no state is explored twice: the work is at
 * most program size × (events + 1), nested stars such as ((a*)*)* cannot loop or explode, and a hard step
 * budget still caps what a huge pattern over a huge sequence may cost. Nothing recurses on the event count;
 * compiling, rendering and freeing recurse at most CH_PAT_MAX_DEPTH levels.
 *
 * When the events do not match, the same search yields the first difference: the length of the longest prefix
 * of the events that can still be extended to a match, with the atoms the pattern allowed at that point
 * (and whether it could also end there). */
#ifndef CH_PATTERN_H
#define CH_PATTERN_H

#include <jansson.h>
#include <stddef.h>

#include "judge_value.h"

#define CH_PAT_BUDGET 1000000UL   /* steps one match may take in the judge */
#define CH_PAT_MAX_DEPTH 64       /* nesting of the PATTERN tree */
#define CH_PAT_MAX_NODES 10000    /* nodes of the PATTERN tree */
#define CH_PAT_MAX_SIZE 200000    /* instructions (and compile work) after expanding counted repeats */
#define CH_PAT_MAX_EVENTS 10000000 /* events one match accepts */
#define CH_PAT_MAX_ALLOWED 32     /* distinct atoms reported at the first difference */
#define CH_PAT_SHOWN 4000         /* bytes of a rendered pattern before it is cut with "…" */

struct ch_pat;

/* Compiles a PATTERN tree. Returns NULL with err naming the place ("pattern.seq[2].repeat: min > max") on a
 * malformed or oversized tree. The compiled pattern keeps a reference to `pattern`; atoms it reports are
 * borrowed from it. */
struct ch_pat *ch_pat_compile(const json_t *pattern, char *err);
void ch_pat_free(struct ch_pat *p);

enum ch_pat_status {
    CH_PAT_NOMATCH = 0,
    CH_PAT_MATCH = 1,
    CH_PAT_OVER_BUDGET = -1, /* gave up after `budget` steps: no verdict either way */
    CH_PAT_NOMEM = -2,
    CH_PAT_TOO_MANY = -3     /* more than CH_PAT_MAX_EVENTS events */
};

struct ch_pat_result {
    enum ch_pat_status status;
    unsigned long steps;  /* steps taken */
    /* Set when status is CH_PAT_NOMATCH: */
    size_t diff;          /* the first difference: events[0..diff) can be extended to a match, [0..diff] cannot */
    const json_t *allowed[CH_PAT_MAX_ALLOWED]; /* distinct atoms the pattern allowed at events[diff] */
    size_t nallowed;
    int more_allowed;     /* there were more than CH_PAT_MAX_ALLOWED of them */
    int end_allowed;      /* the pattern could also have ended at diff */
};

/* Matches the whole sequence events[0..n) against p, taking at most `budget` steps. Fills *r and returns
 * r->status. Cannot fail otherwise; never recurses on n. */
enum ch_pat_status ch_pat_match(const struct ch_pat *p, const json_t *const *events, size_t n, unsigned long budget,
                                struct ch_pat_result *r);

/* The first difference alone: -1 if the events match, the index of the first event that cannot be part of a
 * match otherwise (n when the events are a proper prefix of a match), -2 when the budget ran out or memory did.
 */
long ch_pat_first_diff(const struct ch_pat *p, const json_t *const *events, size_t n, unsigned long budget);

/* Checks an ATOM: an object with a non-empty string "type" and, if present, an object "props". */
int ch_atom_check(const json_t *atom, char *err);

/* 1 if the event (an observations event: "type", "arg", "state") matches the atom. "arg" in the atom compares
 * with the event's "arg", an absent one counting as null; each "props" path compares with the event's state. */
int ch_atom_match(const json_t *atom, const json_t *event);

/* Renders in the pattern notation of cases/FORMAT.md §6.1:
 * the compiled pattern ("readystatechange(1) loadstart (progress | readystatechange(3))+ loadend"), cut after
 * CH_PAT_SHOWN bytes, */
void ch_pat_render(const struct ch_pat *p, struct ch_text *t);
/* one atom ("progress(loaded=12,total=12)"), */
void ch_atom_render(struct ch_text *t, const json_t *atom);
/* one event: "type(arg)", or "type(k=v,...)" with the state values of the given property paths, */
void ch_event_render(struct ch_text *t, const json_t *event, const char *const *props, size_t nprops);
/* and a sequence of events, space-separated, at most `max` of them ("… and N more" after). */
void ch_events_render(struct ch_text *t, const json_t *const *events, size_t n, size_t max);

#endif
