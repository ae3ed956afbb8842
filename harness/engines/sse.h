/* sse.h — Server-sent events (internal to harness/engines/): the event-stream writer behind the sse-* step
 * words (cases/FORMAT.md §4.5, harness/MODEL.md §1.1).
 *
 * The words write the `text/event-stream` syntax of the HTML Standard §9.2.5 "Parsing an event stream"
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#parsing-an-event-stream) exactly: fields as
 * `name: value`, comments, the blank line that dispatches, each line ended by the step's choice of LF, CR or
 * CRLF. They never add a header, a BOM or a line the case did not script; the head (status, Content-Type) is
 * the case's `status` / `header` steps, the end of the stream its `close` / `reset` / `hold`. Malformed streams
 * (a BOM, a NUL, split UTF-8, mixed line ends inside one line's bytes) are `send` steps.
 *
 * Rendering is separate from running so the bytes can be tested without a loop: ch_sse_render() turns one
 * step's JSON into bytes; the op ch_op_sse (engines.h) renders each step when it runs (never ahead: a stream may
 * be long, and its bytes do not count in {body-length}), writes it through the executor and records an
 * `sse-event` transcript event for each `sse-event` step. */
#ifndef CH_SSE_H
#define CH_SSE_H

#include <event2/buffer.h>
#include <jansson.h>

/* The line end a step writes (§9.2.5: CRLF, a lone LF or a lone CR all end a line). */
enum ch_sse_eol { CH_SSE_LF, CH_SSE_CR, CH_SSE_CRLF };

/* "lf", "cr", "crlf" → *eol; NULL means LF. Returns 0, or -1 for any other name. */
int ch_sse_eol_parse(const char *name, enum ch_sse_eol *eol);

/* The bytes of a line end ("\n", "\r", "\r\n"). */
const char *ch_sse_eol_bytes(enum ch_sse_eol eol);

/* Appends `name: value` and the line end; with value NULL, the bare name (a line without a colon: the whole
 * line is the field name, the value empty — §9.2.6). Bytes are copied as given. Cannot fail. */
void ch_sse_put_field(struct evbuffer *out, const char *name, size_t nlen, const char *value, size_t vlen,
                      enum ch_sse_eol eol);

/* Appends one `data: LINE` per line of value, the value split at CRLF, LF and CR, so that a conforming client
 * dispatches exactly `value` with its line ends as LF (§9.2.6: each data line appends its value and one LF, and
 * the last LF is removed at dispatch). An empty value is one `data: ` line. Returns the number of lines. */
size_t ch_sse_put_data(struct evbuffer *out, const char *value, size_t n, enum ch_sse_eol eol);

/* Where a step's placeholders come from: `local(arg)` (a request's own values, asked for only when a string
 * holds a brace; NULL for none) shadows `vars` (the token's; may be NULL). core.h's ch_tmpl_fill2. */
struct ch_sse_vars {
    const json_t *(*local)(void *arg);
    void *arg;
    const json_t *vars;
};

/* Renders one sse-* step (its JSON as in MODEL.md §1.1) into out: placeholders in names and values filled from
 * `v` (NULL: no placeholder may be used) under the time scale (core.h), a `retry` given in milliseconds
 * written scaled. When summary is not NULL
 * and the step is `sse-event`, the event's fields are set on it: "id", "event", "retry" (the text written),
 * "data" (the data a client dispatches, at most CH_SSE_DATA_PREVIEW bytes, then "data_truncated": true) and
 * "lines" (data lines written). Returns 0, or -1 with err on a bad step (an unknown op, field or line end, a
 * value holding CR or LF where one line is written, a failed placeholder); out may then hold partial bytes. */
int ch_sse_render(const json_t *step, const struct ch_sse_vars *v, double time_scale, struct evbuffer *out,
                  json_t *summary, char *err);

#define CH_SSE_DATA_PREVIEW 256

#endif
