/* judge_int.h — what judge.c shares with judge_client.c and judge_server.c; not a public interface.
 *
 * judge.c validates the inputs and builds the verdict (harness/MODEL.md §3); each kind of expectation
 * (MODEL.md §1.3, cases/FORMAT.md §6) is one function that fills a check's expected / observed / detail texts
 * and returns its status. */
#ifndef CH_JUDGE_INT_H
#define CH_JUDGE_INT_H

#include <jansson.h>
#include <stddef.h>

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

#endif
