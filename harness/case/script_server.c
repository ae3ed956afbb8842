/* script_server.c — server sections (cases/FORMAT.md §4) into the routes of harness/MODEL.md §1.1. Each step
 * becomes {"op", fields, "line"}; byte payloads are "text" (UTF-8 without NUL, placeholders checked in
 * context "server") or "hex" (lowercase, no blanks). Steps are also checked for their order (§4.1: the head
 * before the body; nothing after close, reset or hold). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "case.h"
#include "core/core.h"
#include "engines/engines.h"
#include "script_int.h"

#define MAX_GEN (1L << 30)    /* bytes of `body gen N` / `chunk gen N` */
#define MAX_NTH 100000L       /* `nth N` */

/* Where a step may stand (FORMAT.md §4.1-§4.3). */
enum step_class {
    SC_STATUS, /* status: first in the head */
    SC_HEAD,   /* header, header-raw: after status, before the body */
    SC_BODY,   /* body, chunk, chunk-end, echo: after the head (ends it) */
    SC_RAW,    /* send: raw bytes anywhere; first, it means "no head at all" */
    SC_TIMING, /* wait, trickle, compress: before status they delay the head (or, compress, only set what
                  follows); after it they end it (its blank line goes out before them, as before any step that is
                  not status, header or header-raw) */
    SC_END,    /* close, reset, hold: last */
    SC_SHUT,   /* shutdown, notify: then only wait, close, reset or hold */
    SC_WS_ACCEPT, /* ws-accept: first (only wait before it); the route is a WebSocket from here on (§4.4) */
    SC_WS,     /* ws-send, ws-close, ws-echo, ws-await, ws-on-close: after ws-accept */
};

enum phase { PH_START, PH_HEAD, PH_BODY, PH_RAW, PH_SHUT, PH_WS, PH_ENDED };

struct route_state {
    enum phase phase;
    const char *ended_by; /* the step word that ended the section, or `shutdown`/`notify` */
};

/* ---- payloads -------------------------------------------------------------------------------------- */

static int hex_into(json_t *step, const unsigned char *b, size_t n)
{
    json_object_set_new(step, "hex", ch_hex_json(b, n));
    return 0;
}

/* Bytes that are not UTF-8 text go out as hex, where the server fills no placeholder: refuse one, and turn
 * the literal braces `{{` `}}` into single bytes. */
static int binary_payload(struct pctx *c, const struct stmt *st, size_t k, json_t *step, char *b, size_t n)
{
    size_t w = 0;
    if (sc_tmpl(c, st->ln, sc_off(st, k), b, n, "server", 0) < 0) return -1;
    for (size_t i = 0; i < n; i++) {
        if ((b[i] == '{' || b[i] == '}') && i + 1 < n && b[i + 1] == b[i]) i++;
        else if (b[i] == '{')
            return sc_err_word(c, st, k, "placeholders are filled only in UTF-8 text without NUL (split the step)");
        b[w++] = b[i];
    }
    return hex_into(step, (const unsigned char *)b, w);
}

/* Word k, a string, as the step's payload. *len gets its byte count (before placeholders). */
static int string_payload(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t *len)
{
    char *b;
    size_t n;
    int rc = 0;
    if (sc_string(c, st, k, &b, &n) < 0) return -1;
    *len = n;
    if (!ch_utf8_text((const unsigned char *)b, n)) rc = binary_payload(c, st, k, step, b, n);
    else if ((rc = sc_tmpl(c, st->ln, sc_off(st, k), b, n, "server", 0)) == 0)
        json_object_set_new(step, "text", json_stringn(b, n));
    free(b);
    return rc;
}

/* Words [from, to) as hex bytes. */
static int hex_payload(struct pctx *c, const struct stmt *st, size_t from, size_t to, json_t *step, size_t *len)
{
    unsigned char *b;
    size_t at = 0, start, end;
    char err[CH_ERR_LEN];
    if (from >= to) return sc_err_word(c, st, from, "missing hex digits");
    start = sc_off(st, from);
    end = sc_off(st, to - 1) + st->ln->tok[st->first + to - 1].len;
    if (ch_lex_hex(st->ln->text + start, end - start, &b, len, &at, err) < 0) return sc_err(c, st->ln, start + at, "%s", err);
    hex_into(step, b, *len);
    free(b);
    return 0;
}

static int gen_payload(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t *len)
{
    long n;
    if (sc_int(c, st, k, 0, MAX_GEN, &n, "byte count") < 0) return -1;
    json_object_set_new(step, "gen", json_integer(n));
    *len = (size_t)n;
    return 0;
}

/* `body file PATH`: a regular file under the fixtures directory, no `..`, not absolute, not escaping it
 * through a symlink (FORMAT.md §4.2; core.h's ch_path_within, the rule the server reads it by). */
static int file_payload(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t *len)
{
    json_t *path = sc_text(c, st, k, NULL);
    if (!path) return -1;
    const char *p = json_string_value(path), *root = c->f->fixtures;
    int rc = -1;
    switch (ch_path_within(root, p, json_string_length(path), NULL, len)) {
    case CH_PATH_EMPTY: sc_err_word(c, st, k, "an empty or NUL-holding path"); break;
    case CH_PATH_ABSOLUTE: sc_err_word(c, st, k, "an absolute path (body file paths are relative to the fixtures directory)"); break;
    case CH_PATH_DOTDOT: sc_err_word(c, st, k, "'..' in a body file path"); break;
    case CH_PATH_MISSING: sc_err_word(c, st, k, "no file '%s' under %s/", p, root); break;
    case CH_PATH_OUTSIDE: sc_err_word(c, st, k, "'%s' leads out of the fixtures directory", p); break;
    case CH_PATH_OK:
        json_object_set_new(step, "file", json_incref(path));
        rc = 0;
        break;
    }
    json_decref(path);
    return rc;
}

/* One payload form at word k (`STRING`, `hex HEX...`, `gen N`, and `file PATH` when allowed), ending before
 * word `end`. */
static int payload(struct pctx *c, const struct stmt *st, size_t k, size_t end, json_t *step, size_t *len,
                   int file_ok)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!w || k >= end) return sc_err_word(c, st, k, "missing the bytes (a string, hex HEX, gen N%s)", file_ok ? ", file PATH" : "");
    if (sc_is(st, k, "hex")) return hex_payload(c, st, k + 1, end, step, len);
    if (end != k + 1 && !sc_is(st, k, "gen") && !sc_is(st, k, "file"))
        return sc_err_word(c, st, k + 1, "unexpected words after the string");
    if (end != k + 2 && (sc_is(st, k, "gen") || sc_is(st, k, "file")))
        return sc_err_word(c, st, end < k + 2 ? end : k + 2, "write: %s", sc_is(st, k, "gen") ? "gen N" : "file PATH");
    if (sc_is(st, k, "gen")) return gen_payload(c, st, k + 1, step, len);
    if (sc_is(st, k, "file")) {
        if (!file_ok) return sc_err_word(c, st, k, "'file' is only a body form");
        return file_payload(c, st, k + 1, step, len);
    }
    return string_payload(c, st, k, step, len);
}

/* ---- steps ----------------------------------------------------------------------------------------- */

typedef int (*server_fn)(struct pctx *, const struct stmt *, json_t *);

/* `status CODE [REASON...]`: CODE 0-999, REASON the rest of the line. */
static int st_status(struct pctx *c, const struct stmt *st, json_t *step)
{
    long code;
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing the status code (write: status CODE [REASON...])");
    if (sc_int(c, st, 1, 0, 999, &code, "status code") < 0) return -1;
    size_t r = sc_nwords(st) > 2 ? sc_off(st, 2) : st->ln->len;
    json_object_set_new(step, "code", json_integer(code));
    json_object_set_new(step, "reason", json_stringn(st->ln->text + r, st->ln->len - r));
    return 0;
}

static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* `header NAME: VALUE`: NAME a token as written, VALUE the rest of the line after ": ". */
static int st_header(struct pctx *c, const struct stmt *st, json_t *step)
{
    const char *s = st->ln->text;
    size_t start = sc_off(st, 1), i = start, len = st->ln->len;
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing the header (write: header NAME: VALUE)");
    while (i < len && is_tchar(s[i])) i++;
    if (i == start || i >= len || s[i] != ':')
        return sc_err(c, st->ln, i, "a bad header (write: header NAME: VALUE; use header-raw for anything else)");
    size_t v = i + 1;
    if (v < len && s[v] != ' ') return sc_err(c, st->ln, v, "a space after the colon (write: header NAME: VALUE)");
    if (v < len) v++;
    if (sc_tmpl(c, st->ln, v, s + v, len - v, "server", 1) < 0) return -1;
    json_object_set_new(step, "name", json_stringn(s + start, i - start));
    json_object_set_new(step, "value", json_stringn(s + v, len - v));
    return 0;
}

static int st_header_raw(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t n;
    if (sc_args(c, st, 1, 1, "header-raw STRING") < 0) return -1;
    return string_payload(c, st, 1, step, &n);
}

/* `... chunks N N ...` after a body form: sizes >= 1 adding up to at most the body's length. */
static int body_chunks(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t total)
{
    json_t *sizes = json_array();
    size_t sum = 0;
    json_object_set_new(step, "chunks", sizes);
    if (k + 1 >= sc_nwords(st)) return sc_err_word(c, st, k + 1, "missing chunk sizes (write: chunks N N ...)");
    for (size_t i = k + 1; i < sc_nwords(st); i++) {
        long n;
        if (sc_int(c, st, i, 1, MAX_GEN, &n, "chunk size") < 0) return -1;
        sum += (size_t)n;
        json_array_append_new(sizes, json_integer(n));
    }
    if (sum > total) return sc_err_word(c, st, k, "the chunks add up to %zu bytes, more than the body's %zu", sum, total);
    return 0;
}

static int st_body(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t end = 1, len = 0;
    while (end < sc_nwords(st) && !sc_is(st, end, "chunks")) end++;
    if (payload(c, st, 1, end, step, &len, 1) < 0) return -1;
    return end < sc_nwords(st) ? body_chunks(c, st, end, step, len) : 0;
}

static int st_chunk(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t len = 0;
    if (payload(c, st, 1, sc_nwords(st), step, &len, 0) < 0) return -1;
    return len ? 0 : sc_err_word(c, st, 1, "an empty chunk ends the body (write chunk-end)");
}

static int st_send(struct pctx *c, const struct stmt *st, json_t *step)
{
    size_t len = 0;
    if (sc_is(st, 1, "gen")) return sc_err_word(c, st, 1, "write: send STRING | send hex HEX");
    if (payload(c, st, 1, sc_nwords(st), step, &len, 0) < 0) return -1;
    return len ? 0 : sc_err_word(c, st, 1, "an empty send writes nothing");
}

static int st_wait(struct pctx *c, const struct stmt *st, json_t *step)
{
    long ms;
    if (sc_args(c, st, 1, 1, "wait DURATION") < 0 || sc_duration(c, st, 1, &ms) < 0) return -1;
    json_object_set_new(step, "ms", json_integer(ms));
    return 0;
}

/* `trickle N every DURATION` / `trickle off` (op trickle-off). */
static int st_trickle(struct pctx *c, const struct stmt *st, json_t *step)
{
    long n, ms;
    if (sc_is(st, 1, "off") && sc_nwords(st) == 2) {
        json_object_set_new(step, "op", json_string("trickle-off"));
        return 0;
    }
    if (sc_nwords(st) != 4 || !sc_is(st, 2, "every"))
        return sc_err_word(c, st, sc_nwords(st) == 1 ? 1 : 0, "write: trickle N every DURATION | trickle off");
    if (sc_int(c, st, 1, 1, 1L << 20, &n, "byte count") < 0 || sc_duration(c, st, 3, &ms) < 0) return -1;
    json_object_set_new(step, "bytes", json_integer(n));
    json_object_set_new(step, "ms", json_integer(ms));
    return 0;
}

/* `compress gzip | compress deflate | compress off` (the coding of the body data that follows). */
static int st_compress(struct pctx *c, const struct stmt *st, json_t *step)
{
    static const char *const codings[] = {"gzip", "deflate", "off"};
    if (sc_args(c, st, 1, 1, "compress gzip|deflate|off") < 0) return -1;
    for (size_t i = 0; i < 3; i++)
        if (sc_is(st, 1, codings[i])) {
            json_object_set_new(step, "coding", json_string(codings[i]));
            return 0;
        }
    return sc_err_word(c, st, 1, "the coding is gzip, deflate or off");
}

static int st_plain(struct pctx *c, const struct stmt *st, json_t *step)
{
    return sc_args(c, st, 0, 0, json_string_value(json_object_get(step, "op")));
}

/* `close [bare]`: bare = on TLS, FIN without close_notify (FORMAT.md §4.3). */
static int st_close(struct pctx *c, const struct stmt *st, json_t *step)
{
    if (sc_args(c, st, 0, 1, "close [bare]") < 0) return -1;
    if (sc_nwords(st) == 1) return 0;
    if (!sc_is(st, 1, "bare")) return sc_err_word(c, st, 1, "write: close, or close bare");
    json_object_set_new(step, "bare", json_true());
    return 0;
}

/* ---- the server step words ------------------------------------------------------------------------------- */

/* The one table of server step words (FORMAT.md §4, MODEL.md §1.1): each row is a word as a case writes it,
 * where it may stand (enum step_class, checked by order_ok()), the function that checks the words after it
 * and fills the step's JSON ("op" is set, "line" added after; a family of words may live in its own file, as
 * script_sse.c and script_ws.c do), and the op that runs it: its name in case JSON, its function in
 * harness/engines/ and its flags (engines.h). The server compiles routes from the same rows (ch_case_op), so a
 * word and its behaviour cannot drift apart. To add a word: write the parse and op functions, add one row. */
#define HEAD (CH_OP_HEAD | CH_OP_STAGE | CH_OP_PLAIN)   /* head lines, staged */
#define BODY (CH_OP_BODY | CH_OP_STAGE | CH_OP_PLAIN)   /* rendered before the head, counted in {body-length} */
#define DATA (BODY | CH_OP_DATA)                        /* ... and content-coded after `compress` */
#define EMIT (CH_OP_STAGE | CH_OP_PLAIN)                /* bytes through the executor, staged */
#define PLAIN CH_OP_PLAIN                               /* a plain reply only */
#define ANY (CH_OP_PLAIN | CH_OP_UPGRADED)              /* before and after ws-accept */
#define WS CH_OP_UPGRADED                               /* after ws-accept only */
#define FX CH_OP_FIXED                                  /* its bytes depend on its fields alone (engines.h) */

static const struct server_row {
    const char *word; /* NULL: an op no word names alone (`trickle off` is op trickle-off) */
    enum step_class cls;
    server_fn parse;
    struct ch_op op;
} server_rows[] = {
    /* word          where          parse             op: name          run                  render               flags */
    {"status",       SC_STATUS,     st_status,        {"status",       ch_op_status,        NULL,                HEAD | FX}},
    {"header",       SC_HEAD,       st_header,        {"header",       ch_op_header,        NULL,                HEAD | FX}},
    {"header-raw",   SC_HEAD,       st_header_raw,    {"header-raw",   ch_op_header_raw,    NULL,                HEAD | FX}},
    {"body",         SC_BODY,       st_body,          {"body",         ch_op_body,          ch_render_body,      DATA | FX}},
    {"chunk",        SC_BODY,       st_chunk,         {"chunk",        ch_op_body,          ch_render_chunk,     DATA | FX}},
    {"chunk-end",    SC_BODY,       st_plain,         {"chunk-end",    ch_op_body,          ch_render_chunk_end, BODY | FX}},
    {"echo",         SC_BODY,       st_plain,         {"echo",         ch_op_body,          ch_render_echo,      DATA}},
    {"send",         SC_RAW,        st_send,          {"send",         ch_op_send,          NULL,                EMIT | ANY | FX}},
    {"wait",         SC_TIMING,     st_wait,          {"wait",         ch_op_wait,          NULL,                ANY}},
    {"trickle",      SC_TIMING,     st_trickle,       {"trickle",      ch_op_trickle,       NULL,                PLAIN}},
    {NULL,           SC_TIMING,     NULL,             {"trickle-off",  ch_op_trickle_off,   NULL,                PLAIN}},
    {"compress",     SC_TIMING,     st_compress,      {"compress",     ch_op_compress,      ch_render_compress,  EMIT}},
    {"close",        SC_END,        st_close,         {"close",        ch_op_close,         NULL,                ANY | FX}},
    {"reset",        SC_END,        st_plain,         {"reset",        ch_op_reset,         NULL,                ANY | FX}},
    {"hold",         SC_END,        st_plain,         {"hold",         ch_op_hold,          NULL,                ANY | FX}},
    {"shutdown",     SC_SHUT,       st_plain,         {"shutdown",     ch_op_shutdown,      NULL,                PLAIN | FX}},
    {"notify",       SC_SHUT,       st_plain,         {"notify",       ch_op_notify,        NULL,                ANY}},
    {"sse-event",    SC_BODY,       sc_sse_event,     {"sse-event",    ch_op_sse,           NULL,                EMIT}},
    {"sse-field",    SC_BODY,       sc_sse_field,     {"sse-field",    ch_op_sse,           NULL,                EMIT}},
    {"sse-comment",  SC_BODY,       sc_sse_comment,   {"sse-comment",  ch_op_sse,           NULL,                EMIT}},
    {"sse-line",     SC_BODY,       sc_sse_line,      {"sse-line",     ch_op_sse,           NULL,                EMIT}},
    {"sse-dispatch", SC_BODY,       sc_sse_dispatch,  {"sse-dispatch", ch_op_sse,           NULL,                EMIT}},
    {"ws-accept",    SC_WS_ACCEPT,  sc_ws_accept,     {"ws-accept",    ch_op_ws_accept,     NULL,                PLAIN}},
    {"ws-send",      SC_WS,         sc_ws_send,       {"ws-send",      ch_op_ws_send,       NULL,                WS}},
    {"ws-close",     SC_WS,         sc_ws_close,      {"ws-close",     ch_op_ws_close,      NULL,                WS}},
    {"ws-echo",      SC_WS,         sc_ws_echo,       {"ws-echo",      ch_op_ws_echo,       NULL,                WS}},
    {"ws-await",     SC_WS,         sc_ws_await,      {"ws-await",     ch_op_ws_await,      NULL,                WS}},
    {"ws-on-close",  SC_WS,         sc_ws_on_close,   {"ws-on-close",  ch_op_ws_on_close,   NULL,                WS}},
};

#define NROWS (sizeof server_rows / sizeof server_rows[0])

const struct ch_op *ch_case_op(const char *name)
{
    for (size_t r = 0; r < NROWS; r++)
        if (strcmp(server_rows[r].op.name, name) == 0) return &server_rows[r].op;
    return NULL;
}

void sc_server_words(json_t *vocab)
{
    for (size_t r = 0; r < NROWS; r++)
        if (server_rows[r].word) sc_vocab_add(vocab, "server", server_rows[r].word);
}

/* Checks that a step of this row may come now, and moves the phase on. */
static int order_ok(struct pctx *c, const struct stmt *st, const struct server_row *row, struct route_state *rs)
{
    static const char *const raw_only = "a section that starts with 'send' writes raw bytes only (send, wait, trickle, close, reset, shutdown, hold)";
    if (rs->phase == PH_ENDED) return sc_err_word(c, st, 0, "no step may follow '%s'", rs->ended_by);
    if (rs->phase == PH_SHUT && !(row->cls == SC_END || !strcmp(row->word, "wait")))
        return sc_err_word(c, st, 0, "only wait, close, reset or hold may follow '%s'", rs->ended_by);
    if (rs->phase == PH_WS && !(row->cls == SC_WS || row->cls == SC_END || !strcmp(row->word, "wait") ||
                                !strcmp(row->word, "send") || !strcmp(row->word, "notify")))
        return sc_err_word(c, st, 0, "'%s' cannot follow ws-accept (ws-* words, wait, send, notify, close, reset, hold)", row->word);
    switch (row->cls) {
    case SC_STATUS:
        if (rs->phase == PH_RAW) return sc_err_word(c, st, 0, "%s", raw_only);
        if (rs->phase != PH_START) return sc_err_word(c, st, 0, rs->phase == PH_HEAD ? "a second 'status'" : "'status' after the head ended");
        rs->phase = PH_HEAD;
        return 0;
    case SC_HEAD:
        if (rs->phase == PH_RAW) return sc_err_word(c, st, 0, "%s", raw_only);
        if (rs->phase == PH_START) return sc_err_word(c, st, 0, "'%s' before 'status'", row->word);
        if (rs->phase != PH_HEAD) return sc_err_word(c, st, 0, "'%s' after the head ended (any step but status, header and header-raw ends it)", row->word);
        return 0;
    case SC_BODY:
        if (rs->phase == PH_RAW) return sc_err_word(c, st, 0, "%s", raw_only);
        if (rs->phase == PH_START) return sc_err_word(c, st, 0, "'%s' before 'status' (use send for raw bytes)", row->word);
        rs->phase = PH_BODY;
        return 0;
    case SC_RAW:
        rs->phase = rs->phase == PH_START ? PH_RAW : rs->phase == PH_HEAD ? PH_BODY : rs->phase;
        return 0;
    case SC_TIMING:
        if (rs->phase == PH_HEAD) rs->phase = PH_BODY;
        return 0;
    case SC_END:
        rs->phase = PH_ENDED;
        rs->ended_by = row->word;
        return 0;
    case SC_SHUT:
        rs->phase = PH_SHUT;
        rs->ended_by = row->word;
        return 0;
    case SC_WS_ACCEPT:
        if (rs->phase != PH_START) return sc_err_word(c, st, 0, "ws-accept comes first (only wait may come before it)");
        rs->phase = PH_WS;
        return 0;
    case SC_WS:
        if (rs->phase != PH_WS) return sc_err_word(c, st, 0, "'%s' before ws-accept", row->word);
        return 0;
    }
    return 0;
}

static void server_step(struct pctx *c, const struct stmt *st, json_t *steps, struct route_state *rs)
{
    size_t n, r = 0;
    const char *w = sc_word(st, 0, &n);
    sc_no_attachments(c, st);
    while (r < NROWS && !(server_rows[r].word && sc_is(st, 0, server_rows[r].word))) r++;
    if (r == NROWS) {
        sc_err_word(c, st, 0, "unknown step '%.*s' in a server section", (int)(n > 40 ? 40 : n), w);
        return;
    }
    if (order_ok(c, st, &server_rows[r], rs) < 0) return;
    json_t *step = json_pack("{s:s}", "op", server_rows[r].op.name);
    if (server_rows[r].parse(c, st, step) < 0) {
        json_decref(step);
        return;
    }
    json_object_set_new(step, "line", json_integer(st->ln->src->no));
    json_array_append_new(steps, step);
}

/* ---- the route ------------------------------------------------------------------------------------- */

/* `nth N` / `nth N+` at word k. */
static int route_nth(struct pctx *c, const struct stmt *h, size_t k, json_t *route)
{
    size_t n;
    long nth;
    const char *w = sc_word(h, k, &n);
    int plus = w && n > 1 && w[n - 1] == '+';
    if (json_integer_value(json_object_get(route, "nth"))) return sc_err_word(c, h, k - 1, "'nth' given twice");
    if (!w || ch_lex_int(w, plus ? n - 1 : n, 1, MAX_NTH, &nth) < 0)
        return sc_err_word(c, h, k, "write: nth N or nth N+ (N from 1)");
    json_object_set_new(route, "nth", json_integer(nth));
    json_object_set_new(route, "nth_plus", json_boolean(plus));
    return 0;
}

static int route_origin(struct pctx *c, const struct stmt *h, size_t k, json_t *route)
{
    if (!json_is_null(json_object_get(route, "origin"))) return sc_err_word(c, h, k - 1, "'origin' given twice");
    size_t n;
    const char *w = sc_word(h, k, &n);
    if (!w || ch_origin_by_name(w, n) < 0) return sc_err_word(c, h, k, "the origin is A, B, C, SA, SB, SC or D");
    json_object_set_new(route, "origin", json_stringn(w, n));
    return 0;
}

/* METHOD (a token, or `*`) and PATH (from '/', no query or fragment, `*` only last). */
static int route_target(struct pctx *c, const struct stmt *h, json_t *route)
{
    size_t mn, pn;
    const char *m = sc_word(h, 1, &mn), *p = sc_word(h, 2, &pn);
    for (size_t i = 0; i < mn; i++)
        if (!is_tchar(m[i])) return sc_err_word(c, h, 1, "a bad method (a token such as GET, or * for any)");
    if (p[0] != '/') return sc_err_word(c, h, 2, "a path starts with '/' (the part after /c/<token>)");
    for (size_t i = 0; i < pn; i++) {
        if (p[i] == '?' || p[i] == '#') return sc_err(c, h->ln, sc_off(h, 2) + i, "a path has no query or fragment");
        if (p[i] == '"' || (p[i] == '*' && i + 1 < pn)) return sc_err(c, h->ln, sc_off(h, 2) + i, "'%c' in a path", p[i]);
    }
    int prefix = p[pn - 1] == '*';
    json_object_set_new(route, "method", json_stringn(m, mn));
    json_object_set_new(route, "path", json_stringn(p, prefix ? pn - 1 : pn));
    json_object_set_new(route, "prefix", json_boolean(prefix));
    return 0;
}

/* `when NAME VALUE` at word k: the route answers only a request whose first NAME field is exactly VALUE (a
 * conditional request's If-None-Match, say). VALUE is a word or a string, without placeholders. */
static int route_when(struct pctx *c, const struct stmt *h, size_t k, json_t *route)
{
    size_t n;
    const char *w = sc_word(h, k, &n);
    if (json_object_get(route, "when")) return sc_err_word(c, h, k - 1, "'when' given twice");
    if (!w || k + 1 >= sc_nwords(h)) return sc_err_word(c, h, k - 1, "write: when NAME VALUE");
    for (size_t i = 0; i < n; i++)
        if (!is_tchar(w[i])) return sc_err_word(c, h, k, "a bad header name (a token)");
    json_t *v = sc_text(c, h, k + 1, NULL);
    if (!v) return -1;
    const char *s = json_string_value(v);
    if (strpbrk(s, "{}\r\n") || strlen(s) != json_string_length(v)) {
        json_decref(v);
        return sc_err_word(c, h, k + 1, "a when value holds no placeholder, brace, CR, LF or NUL");
    }
    json_object_set_new(route, "when", json_pack("{s:s%, s:o}", "name", w, n, "value", v));
    return 0;
}

static json_t *route_header(struct pctx *c, const struct stmt *h)
{
    const char *usage = "server METHOD PATH [nth N | nth N+] [origin A|B|C|SA|SB|SC|D] [when NAME VALUE]";
    json_t *route = json_pack("{s:s, s:s, s:b, s:n, s:b, s:n}", "method", "", "path", "", "prefix", 0, "nth",
                              "nth_plus", 0, "origin");
    if (sc_args(c, h, 2, 9, usage) < 0 || route_target(c, h, route) < 0) goto fail;
    for (size_t k = 3; k < sc_nwords(h); k += 2) {
        int rc = sc_is(h, k, "nth") ? route_nth(c, h, k + 1, route)
                 : sc_is(h, k, "origin") ? route_origin(c, h, k + 1, route)
                 : sc_is(h, k, "when") ? route_when(c, h, k + 1, route)
                                         : sc_err_word(c, h, k, "write: %s", usage);
        if (rc < 0) goto fail;
        k += sc_is(h, k, "when"); /* NAME and VALUE: one word more */
    }
    json_object_set_new(route, "line", json_integer(h->ln->src->no));
    return route;
fail:
    json_decref(route);
    return NULL;
}

/* ---- overlapping routes (FORMAT.md §4: two sections matching the same requests) ------------------- */

static int paths_overlap(const json_t *a, const json_t *b)
{
    const char *pa = json_string_value(json_object_get(a, "path")), *pb = json_string_value(json_object_get(b, "path"));
    int xa = json_is_true(json_object_get(a, "prefix")), xb = json_is_true(json_object_get(b, "prefix"));
    size_t la = strlen(pa), lb = strlen(pb);
    if (!xa && !xb) return strcmp(pa, pb) == 0;
    if (xa && (!xb || la <= lb)) return strncmp(pa, pb, la) == 0;
    return strncmp(pb, pa, lb) == 0;
}

static int nth_overlap(const json_t *a, const json_t *b)
{
    json_int_t na = json_integer_value(json_object_get(a, "nth")), nb = json_integer_value(json_object_get(b, "nth"));
    int pa = json_is_true(json_object_get(a, "nth_plus")), pb = json_is_true(json_object_get(b, "nth_plus"));
    if (!na || !nb || (pa && pb)) return 1;
    if (!pa && !pb) return na == nb;
    return pa ? nb >= na : na >= nb;
}

/* Specificity: nth (exact 2, N+ 1, none 0) and origin (1 or 0). */
static int rank_nth(const json_t *r)
{
    return !json_integer_value(json_object_get(r, "nth")) ? 0 : json_is_true(json_object_get(r, "nth_plus")) ? 1 : 2;
}

static int dominates(const json_t *a, const json_t *b)
{
    int na = rank_nth(a), nb = rank_nth(b);
    int oa = !json_is_null(json_object_get(a, "origin")), ob = !json_is_null(json_object_get(b, "origin"));
    int wa = json_object_get(a, "when") != NULL, wb = json_object_get(b, "when") != NULL;
    return na >= nb && oa >= ob && wa >= wb && (na > nb || oa > ob || wa > wb);
}

/* Two `when` conditions on one header name with different values never hold together. */
static int when_overlap(const json_t *a, const json_t *b)
{
    const json_t *wa = json_object_get(a, "when"), *wb = json_object_get(b, "when");
    if (!wa || !wb) return 1;
    if (strcasecmp(json_string_value(json_object_get(wa, "name")), json_string_value(json_object_get(wb, "name"))))
        return 1;
    return json_equal(json_object_get(wa, "value"), json_object_get(wb, "value"));
}

/* 1 if some request matches both routes and neither is more specific in both respects. */
static int conflict(const json_t *a, const json_t *b)
{
    const char *ma = json_string_value(json_object_get(a, "method")), *mb = json_string_value(json_object_get(b, "method"));
    const json_t *oa = json_object_get(a, "origin"), *ob = json_object_get(b, "origin");
    if (strcmp(ma, "*") && strcmp(mb, "*") && strcmp(ma, mb)) return 0;
    if (!paths_overlap(a, b) || !nth_overlap(a, b) || !when_overlap(a, b)) return 0;
    if (!json_is_null(oa) && !json_is_null(ob) && strcmp(json_string_value(oa), json_string_value(ob))) return 0;
    return !dominates(a, b) && !dominates(b, a);
}

/* A section whose header is in error still has its steps checked (into a route that is dropped). */
void sc_server_section(struct pctx *c, struct section *sec)
{
    struct route_state rs = {PH_START, NULL};
    size_t i;
    json_t *route = route_header(c, &sec->head), *prev;
    if (!route) {
        json_t *steps = json_array();
        for (i = 0; i < sec->nitems; i++) server_step(c, &sec->items[i], steps, &rs);
        json_decref(steps);
        return;
    }
    json_array_foreach(c->routes, i, prev) {
        if (conflict(prev, route)) {
            sc_err_word(c, &sec->head, 0, "this section matches the same requests as the section at line %d",
                        (int)json_integer_value(json_object_get(prev, "line")));
            break;
        }
    }
    json_t *steps = json_array();
    json_object_set_new(route, "steps", steps);
    json_array_append_new(c->routes, route);
    if (sec->nitems == 0) sc_err_word(c, &sec->head, 0, "a server section needs at least one step");
    for (i = 0; i < sec->nitems; i++) server_step(c, &sec->items[i], steps, &rs);
}
