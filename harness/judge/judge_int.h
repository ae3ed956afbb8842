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
};

/* One check being built. `exp` is the expectation; the texts start empty. */
struct ch_jcheck {
    const json_t *exp;
    struct ch_text expected, observed, detail;
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
