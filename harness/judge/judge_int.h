/* judge_int.h — what judge.c shares with judge_client.c and judge_server.c; not a public interface.
 *
 * judge.c validates the inputs and builds the verdict (harness/MODEL.md §3); each kind of expectation
 * (MODEL.md §1.3, cases/FORMAT.md §6) is one function that fills a check's expected / observed / detail texts
 * and returns its status. */
#ifndef CH_JUDGE_INT_H
#define CH_JUDGE_INT_H

#include <jansson.h>
#include <stddef.h>

#include "core/core.h"
#include "judge_value.h"

#define CH_JUDGE_MAX_EVENTS 200000    /* observation events one verdict accepts */
#define CH_JUDGE_MAX_TRANSCRIPT 500000 /* transcript events */
#define CH_JUDGE_MAX_EXPECT 10000     /* expectations of one case */
#define CH_JUDGE_SHOWN_EVENTS 200     /* events printed in an `observed` sequence */
#define CH_JUDGE_SHOWN_ITEMS 10       /* occurrences listed in a detail */

/* Everything a check reads. Arrays are validated by judge.c before any check runs: every observation event
 * is an object with string "obj" and "type", a number "t" and an object or absent "state"; every transcript
 * event an object with string "type" and a number "t_us"; request, end and conn-close events carry the
 * fields the server checks use (judge.c: check_transcript_event). */
struct ch_jctx {
    const json_t *kase, *vars;
    double scale;            /* time_scale: multiplies `ms` and `tol_ms` */
    const json_t *events;    /* observations.events (an array, maybe empty) */
    const json_t *final;     /* observations.final (an object or NULL) */
    const json_t *trevents;  /* transcript.events (an array, maybe empty) */
    const json_t *objects;   /* case.client.objects (an array or NULL) */
    const char *default_obj; /* the case's first client object, or NULL */
    const json_t *stopped;   /* observations.stopped: why the interpreter ended the program early, or NULL */
    char tr_incomplete[CH_ERR_LEN]; /* why the transcript holds only part of what was sent (the server's limit),
                                     * or "": when set, no check on the transcript is judged (judge.c, grade) */
};

/* One check being built. `exp` is the expectation; the texts start empty.
 *
 * A failed check also says where it first differs (MODEL.md §3 `first_diff`, the verdict's headline): `at` is
 * where, with its own preposition ("at event 4 (t=201.3 ms)", "in the final state"; may stay empty), `prop`
 * the property that differs (may stay empty), `dexp` and `dobs` what was expected and observed there, without
 * positions or times, so that failures with one cause read alike; `ev` the event observed there, as
 * type(arg), when there is one. A check that leaves `dexp` empty gets its `expected` and `observed` texts. */
struct ch_jcheck {
    const json_t *exp;
    struct ch_text expected, observed, detail;
    struct ch_text at, prop, dexp, dobs, ev;
    int diff_is_value; /* dexp and dobs are values of `prop` (at, final), not events */
};

enum ch_jstatus { CH_J_PASS, CH_J_FAIL, CH_J_ERROR };

typedef enum ch_jstatus (*ch_jcheck_fn)(const struct ch_jctx *cx, struct ch_jcheck *c);

/* Client checks (judge_client.c): events, never, count, at, final, within. */
enum ch_jstatus ch_jcheck_events(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_never(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_count(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_at(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_final(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_within(const struct ch_jctx *cx, struct ch_jcheck *c);

/* Server checks (judge_server.c): requests, request-count, request-header, request-body, closed, interval. */
enum ch_jstatus ch_jcheck_requests(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_request_count(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_request_header(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_request_body(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_request_query(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_closed(const struct ch_jctx *cx, struct ch_jcheck *c);
enum ch_jstatus ch_jcheck_interval(const struct ch_jctx *cx, struct ch_jcheck *c);
/* WebSocket (judge_ws.c): a connection's ws-close summary. */
enum ch_jstatus ch_jcheck_ws_close(const struct ch_jctx *cx, struct ch_jcheck *c);

/* The headline's causes (judge_causes.c): appends "; OBJ: OP (line L) threw NAME: MESSAGE" for the first
 * exception the case does not allow, and why the client ended the program early (cx->stopped), if it did.
 * Returns that exception as {obj, op, line, name, message} (the verdict's `thrown`), or NULL. */
json_t *ch_jcauses(struct ch_text *t, const struct ch_jctx *cx);

/* The judge's reading of selectors and points, shared with the mutants (judge_mutate*.c). Borrowed transcript
 * events, or NULL when there is none. ch_jselected: the request a SELECTOR picks (judge_server.c, as every
 * server check picks it); ch_jrequest_is: whether a request has that method ("*": any) and path;
 * ch_jpoint_event: the event of a POINT (`request`, `end`, `closed`); ch_jclose_of: the first conn-close of a
 * request's connection; ch_jws_summary: the ws-close summary of the selected upgrade (judge_ws.c). */
const json_t *ch_jselected(const struct ch_jctx *cx, const json_t *sel);
int ch_jrequest_is(const json_t *req, const json_t *method, const json_t *path);
const json_t *ch_jpoint_event(const struct ch_jctx *cx, const json_t *point);
const json_t *ch_jclose_of(const struct ch_jctx *cx, const json_t *req);
const json_t *ch_jws_summary(const struct ch_jctx *cx, const json_t *sel);

/* ---- mutants (judge_mutate.c: client kinds and the shared parts; judge_mutate_server.c: server kinds) ---- */

/* One check's mutation run: the record as the judge reads it, the case with this expectation alone. */
struct ch_jmut {
    struct ch_jctx cx;
    json_t *kase1;
    const json_t *exp, *obs, *tr, *vocab;
    size_t tried;
    int killed;
    char *how;
    size_t howlen;
};

/* Judges the check on the record with its observation events and/or final state replaced (NULL: kept), or
 * with its transcript events replaced; takes what it is given. After a mutant made the check FAIL, it judges
 * nothing more. Returns 1 when the check failed; `fmt` describes the mutant. */
int ch_jmut_obs(struct ch_jmut *m, json_t *events, json_t *final, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int ch_jmut_tr(struct ch_jmut *m, json_t *trevents, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* New arrays sharing the items of `a`: without item i; with `item` (taken) inserted at `at`; with item i
 * replaced by `item` (taken); with items i and j exchanged, each keeping the time `tkey` of its place. */
json_t *ch_jmut_without(const json_t *a, size_t i);
json_t *ch_jmut_inserted(const json_t *a, size_t at, json_t *item);
json_t *ch_jmut_replaced(const json_t *a, size_t i, json_t *item);
json_t *ch_jmut_swapped(const json_t *a, size_t i, size_t j, const char *tkey);
/* A value different from v, of its type where there is one (n+1, s+"x", !b; null -> 0; containers -> null). */
json_t *ch_jmut_other(const json_t *v);
/* A copy of ev with the value at `path` of ev[key] (key NULL: of ev) changed to another; NULL when none is there. */
json_t *ch_jmut_changed(const json_t *ev, const char *key, const char *path);
/* The mutants of a time bound (within, interval): events[j], the second point, moved to 1 ms past each bound
 * of the expectation's `ms` ± `tol_ms` (no tolerance: `ms` itself) after t0, the first point's time `tkey`
 * (`unit` time units per ms; in the transcript's events or the observations'); below only where it stays
 * after the first point. */
void ch_jmut_times(struct ch_jmut *m, const json_t *events, size_t j, const char *tkey, double t0, double unit,
                   int transcript, const char *what);

void ch_jmut_requests(struct ch_jmut *m);
void ch_jmut_request_count(struct ch_jmut *m);
void ch_jmut_request_header(struct ch_jmut *m);
void ch_jmut_request_body(struct ch_jmut *m);
void ch_jmut_request_query(struct ch_jmut *m);
void ch_jmut_closed(struct ch_jmut *m);
void ch_jmut_interval(struct ch_jmut *m);
void ch_jmut_ws_close(struct ch_jmut *m);

/* Helpers (judge.c). */

/* Writes the reason into c->detail and returns CH_J_ERROR: the case or the inputs cannot be judged. */
enum ch_jstatus ch_jerror(struct ch_jcheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A copy of an expected value with its placeholders filled (core.h, context "expect"). NULL + err. */
json_t *ch_jfill(const struct ch_jctx *cx, const json_t *v, char *err);

/* Reads an integer field >= min (absent: `dflt` if dflt >= min, else an error). 0, or -1 with err set. */
int ch_jint(const json_t *exp, const char *key, long long min, long long dflt, long long *out, char *err);

/* Reads a duration field (`ms`, `tol_ms`): a number >= 0, multiplied by the time scale. */
int ch_jms(const struct ch_jctx *cx, const json_t *exp, const char *key, double *out, char *err);

/* A time in milliseconds as "201.3 ms". */
void ch_jtime(struct ch_text *t, double ms);

/* Sets the check's first difference to property `key`: expected `want`, observed `got` (NULL: absent). */
void ch_jdiff_prop(struct ch_jcheck *c, const char *key, const json_t *want, const json_t *got);

/* The time bound of a `within` or `interval` expectation (MODEL.md §1.3): a window {"ms", "tol_ms"} (|dt - ms|
 * <= tol), or one-sided {"ms", "bound": "min"} (dt >= ms) / {"ms", "bound": "max"} (dt <= ms); scaled. */
struct ch_jbound {
    double ms, tol;
    char bound; /* 'w' window, '>' at least ms, '<' at most ms */
};
int ch_jbound_parse(const struct ch_jctx *cx, const json_t *exp, struct ch_jbound *b, char *err);
int ch_jbound_holds(const struct ch_jbound *b, double dt);
/* "300.0 ms ± 100.0 ms", "≥ 950.0 ms", "≤ 2000.0 ms" */
void ch_jbound_render(struct ch_text *t, const struct ch_jbound *b);
/* "allowed 200.0 to 400.0 ms", "allowed 950.0 ms or more", "allowed 2000.0 ms or less" */
void ch_jbound_allowed(struct ch_text *t, const struct ch_jbound *b);

#endif
