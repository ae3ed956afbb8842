/* script_ws.c — the WebSocket steps of server sections (cases/FORMAT.md §4.4) into the ops of harness/MODEL.md
 * §1.1: ws-accept, ws-send, ws-close, ws-echo, ws-await, ws-on-close. Their rows are in script_server.c's step
 * table, where order_ok() keeps them after ws-accept (and ws-accept first). Payloads are a STRING (placeholders
 * in context "server"; bytes that are not UTF-8 text without NUL become "hex") or `hex HEX` (one word).
 * A control frame over 125 bytes needs the word `oversize` (RFC 6455 §5.5). */
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "script_int.h"
#include "core/core.h"

#define MAX_CONTROL 125

static void set_hex(json_t *step, const unsigned char *b, size_t n)
{
    json_object_set_new(step, "hex", ch_hex_json(b, n));
}

/* A STRING at word k: "text" when it is UTF-8 without NUL (placeholders checked), else "hex" (no placeholder
 * may stand in it). */
static int string_data(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t *len)
{
    char *b;
    size_t n;
    int rc = 0;
    if (sc_string(c, st, k, &b, &n) < 0) return -1;
    *len = n;
    if (ch_utf8_text((const unsigned char *)b, n)) {
        if ((rc = sc_tmpl(c, st->ln, sc_off(st, k), b, n, "server", 0)) == 0)
            json_object_set_new(step, "text", json_stringn(b, n));
    } else if (ch_tmpl_has_braces(b, n)) {
        rc = sc_err_word(c, st, k, "placeholders are filled only in UTF-8 text without NUL (use hex)");
    } else {
        set_hex(step, (const unsigned char *)b, n);
    }
    free(b);
    return rc;
}

/* DATA at word k: a STRING or `hex HEX`. Returns the number of words it took (1 or 2), or -1. */
static int data(struct pctx *c, const struct stmt *st, size_t k, json_t *step, size_t *len)
{
    size_t n, at = 0;
    const char *w = sc_word(st, k, &n);
    char err[CH_ERR_LEN];
    unsigned char *b;
    if (w && sc_is(st, k, "hex")) {
        const char *h = sc_word(st, k + 1, &n);
        if (!h) return sc_err_word(c, st, k + 1, "missing hex digits (one word: hex 48656c6c6f)");
        if (ch_lex_hex(h, n, &b, len, &at, err) < 0) return sc_err(c, st->ln, sc_off(st, k + 1) + at, "%s", err);
        set_hex(step, b, *len);
        free(b);
        return 2;
    }
    if (!w || !sc_string_start(w, n)) return sc_err_word(c, st, k, "a STRING or hex HEX expected");
    return string_data(c, st, k, step, len) < 0 ? -1 : 1;
}

static int is_data_start(const struct stmt *st, size_t k)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    return w && (sc_string_start(w, n) || sc_is(st, k, "hex"));
}

static int over_control(struct pctx *c, const struct stmt *st, size_t len, int oversize, const char *what)
{
    if (len <= MAX_CONTROL || oversize) return 0;
    return sc_err_word(c, st, 0, "a %s payload of %zu bytes (over 125, RFC 6455 §5.5): add `oversize` if the case means it",
                       what, len);
}

/* ---- ws-accept [protocol P] [extension E] [fault F]... --------------------------------------------------- */

static int header_value(struct pctx *c, const struct stmt *st, size_t k, json_t *step, const char *key)
{
    if (json_object_get(step, key)) return sc_err_word(c, st, k - 1, "'%s' given twice", key);
    json_t *v = sc_text(c, st, k, NULL);
    if (!v) return -1;
    const char *s = json_string_value(v);
    if (!*s || strcspn(s, "\r\n") != json_string_length(v)) {
        json_decref(v);
        return sc_err_word(c, st, k, "a header value without CR, LF or NUL, not empty");
    }
    json_object_set_new(step, key, v);
    return 0;
}

static int is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch));
}

/* `header "NAME: VALUE"`, repeatable: one more line of the 101's head, after the handshake's own (a Set-Cookie
 * the client must store, RFC 6455 §4.1 "may have other side effects, such as setting cookies"). NAME a token,
 * then ": ", VALUE without CR, LF or NUL; placeholders are filled when it is written. */
static int extra_header(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    json_t *v = sc_text(c, st, k, "server");
    if (!v) return -1;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), i = 0;
    while (i < n && is_tchar(s[i])) i++;
    if (i == 0 || i + 1 >= n || s[i] != ':' || s[i + 1] != ' ' || strcspn(s, "\r\n") != n) {
        json_decref(v);
        return sc_err_word(c, st, k, "a header line \"NAME: VALUE\" (a token, a colon and a space; no CR, LF or NUL)");
    }
    json_t *list = json_object_get(step, "headers");
    if (!list) json_object_set_new(step, "headers", list = json_array());
    json_array_append_new(list, v);
    return 0;
}

int sc_ws_accept(struct pctx *c, const struct stmt *st, json_t *step)
{
    static const char *const faults[] = {"bad-accept", "no-accept", "no-upgrade", "no-connection"};
    const char *usage = "ws-accept [protocol P] [extension E] [header \"NAME: VALUE\"]... [fault bad-accept|no-accept|no-upgrade|no-connection]...";
    for (size_t k = 1; k < sc_nwords(st); k += 2) {
        if (k + 1 >= sc_nwords(st)) return sc_err_word(c, st, k, "write: %s", usage);
        if (sc_is(st, k, "protocol") || sc_is(st, k, "extension")) {
            if (header_value(c, st, k + 1, step, sc_is(st, k, "protocol") ? "protocol" : "extension") < 0) return -1;
            continue;
        }
        if (sc_is(st, k, "header")) {
            if (extra_header(c, st, k + 1, step) < 0) return -1;
            continue;
        }
        if (!sc_is(st, k, "fault")) return sc_err_word(c, st, k, "write: %s", usage);
        size_t f = 0;
        while (f < 4 && !sc_is(st, k + 1, faults[f])) f++;
        if (f == 4) return sc_err_word(c, st, k + 1, "a fault is bad-accept, no-accept, no-upgrade or no-connection");
        json_t *list = json_object_get(step, "faults");
        if (!list) json_object_set_new(step, "faults", list = json_array());
        json_array_append_new(list, json_string(faults[f]));
    }
    return 0;
}

/* ---- ws-send KIND [DATA] [fin false] [rsv N] [opcode N] [masked] [oversize] ------------------------------ */

static int send_option(struct pctx *c, const struct stmt *st, size_t *k, json_t *step)
{
    long v;
    const char *key = NULL;
    if (sc_is(st, *k, "masked") || sc_is(st, *k, "oversize")) {
        key = sc_is(st, *k, "masked") ? "masked" : "oversize";
        if (json_object_get(step, key)) return sc_err_word(c, st, *k, "'%s' given twice", key);
        json_object_set_new(step, key, json_true());
        (*k)++;
        return 0;
    }
    if (sc_is(st, *k, "fin")) {
        if (!sc_is(st, *k + 1, "false") && !sc_is(st, *k + 1, "true")) return sc_err_word(c, st, *k + 1, "fin true|false");
        json_object_set_new(step, "fin", json_boolean(sc_is(st, *k + 1, "true")));
    } else if (sc_is(st, *k, "rsv") || sc_is(st, *k, "opcode")) {
        key = sc_is(st, *k, "rsv") ? "rsv" : "opcode";
        if (sc_int(c, st, *k + 1, 0, key[0] == 'r' ? 7 : 15, &v, key[0] == 'r' ? "RSV bits (0-7, RSV1 = 4)" : "opcode") < 0)
            return -1;
        json_object_set_new(step, key, json_integer(v));
    } else {
        return sc_err_word(c, st, *k, "unknown ws-send option (fin false, rsv N, opcode N, masked, oversize)");
    }
    *k += 2;
    return 0;
}

int sc_ws_send(struct pctx *c, const struct stmt *st, json_t *step)
{
    static const char *const kinds[] = {"text", "binary", "continuation", "ping", "pong"};
    size_t k = 2, len = 0, i = 0;
    while (i < 5 && !sc_is(st, 1, kinds[i])) i++;
    if (i == 5) return sc_err_word(c, st, 1, "write: ws-send text|binary|continuation|ping|pong [DATA] [options]");
    json_object_set_new(step, "kind", json_string(kinds[i]));
    if (is_data_start(st, k)) {
        int used = data(c, st, k, step, &len);
        if (used < 0) return -1;
        k += (size_t)used;
    } else {
        json_object_set_new(step, "text", json_string(""));
    }
    while (k < sc_nwords(st))
        if (send_option(c, st, &k, step) < 0) return -1;
    const json_t *op = json_object_get(step, "opcode");
    int control = op ? json_integer_value(op) >= 8 : i >= 3;
    return control ? over_control(c, st, len, json_is_true(json_object_get(step, "oversize")), "control frame") : 0;
}

/* ---- ws-close CODE [REASON] | empty | raw DATA, [oversize] ------------------------------------------------ */

int sc_ws_close(struct pctx *c, const struct stmt *st, json_t *step)
{
    const char *usage = "ws-close CODE [REASON] | ws-close empty | ws-close raw DATA (then oversize, if meant)";
    size_t n = sc_nwords(st), len = 0;
    int oversize = n > 1 && sc_is(st, n - 1, "oversize");
    size_t end = oversize ? n - 1 : n, k = 2;
    long code;
    if (oversize) json_object_set_new(step, "oversize", json_true());
    if (end < 2) return sc_err_word(c, st, 1, "write: %s", usage);
    if (sc_is(st, 1, "empty")) {
        json_object_set_new(step, "form", json_string("empty"));
        return end == 2 ? 0 : sc_err_word(c, st, 2, "nothing follows 'empty'");
    }
    if (sc_is(st, 1, "raw")) {
        json_object_set_new(step, "form", json_string("raw"));
        int used = data(c, st, 2, step, &len);
        if (used < 0) return -1;
        k += (size_t)used;
    } else {
        if (sc_int(c, st, 1, 0, 65535, &code, "close code (0-65535)") < 0) return -1;
        json_object_set_new(step, "form", json_string("code"));
        json_object_set_new(step, "code", json_integer(code));
        if (k < end) {
            int used = data(c, st, k, step, &len);
            if (used < 0) return -1;
            k += (size_t)used;
        }
        len += 2;
    }
    if (k != end) return sc_err_word(c, st, k, "unexpected words (write: %s)", usage);
    return over_control(c, st, len, oversize, "Close");
}

/* ---- ws-echo [on|off], ws-await WHAT [count N], ws-on-close POLICY --------------------------------------- */

int sc_ws_echo(struct pctx *c, const struct stmt *st, json_t *step)
{
    if (sc_args(c, st, 0, 1, "ws-echo [on|off]") < 0) return -1;
    if (sc_nwords(st) == 2 && !sc_is(st, 1, "on") && !sc_is(st, 1, "off")) return sc_err_word(c, st, 1, "on or off");
    json_object_set_new(step, "on", json_boolean(sc_nwords(st) == 1 || sc_is(st, 1, "on")));
    return 0;
}

int sc_ws_await(struct pctx *c, const struct stmt *st, json_t *step)
{
    static const char *const whats[] = {"message", "close", "ping", "pong"};
    const char *usage = "ws-await message|close|ping|pong [count N] (ping and pong: [DATA] before count)";
    size_t i = 0, k = 2, len = 0;
    long n = 1;
    if (sc_args(c, st, 1, 5, usage) < 0) return -1;
    while (i < 4 && !sc_is(st, 1, whats[i])) i++;
    if (i == 4) return sc_err_word(c, st, 1, "write: %s", usage);
    if (i >= 2 && is_data_start(st, 2)) { /* only the pings/pongs whose payload is exactly DATA count (§5.5.3) */
        int took = data(c, st, 2, step, &len);
        if (took < 0) return -1;
        if (len > MAX_CONTROL) return sc_err_word(c, st, 2, "a %s payload is at most 125 bytes (RFC 6455 §5.5)", whats[i]);
        k += (size_t)took;
    }
    if (sc_nwords(st) == k + 1 || (sc_nwords(st) == k + 2 && !sc_is(st, k, "count")) || sc_nwords(st) > k + 2)
        return sc_err_word(c, st, k, "write: %s", usage);
    if (sc_nwords(st) == k + 2 && sc_int(c, st, k + 1, 1, 1000000, &n, "count") < 0) return -1;
    if (i == 1 && n != 1) return sc_err_word(c, st, k + 1, "a client sends one Close: count 1");
    json_object_set_new(step, "what", json_string(whats[i]));
    json_object_set_new(step, "count", json_integer(n));
    return 0;
}

int sc_ws_on_close(struct pctx *c, const struct stmt *st, json_t *step)
{
    const char *usage = "ws-on-close echo|ignore|delay DURATION";
    long ms;
    if (sc_args(c, st, 1, 2, usage) < 0) return -1;
    if (sc_is(st, 1, "delay")) {
        if (sc_nwords(st) != 3) return sc_err_word(c, st, 2, "write: %s", usage);
        if (sc_duration(c, st, 2, &ms) < 0) return -1;
        json_object_set_new(step, "policy", json_string("delay"));
        json_object_set_new(step, "ms", json_integer(ms));
        return 0;
    }
    if ((!sc_is(st, 1, "echo") && !sc_is(st, 1, "ignore")) || sc_nwords(st) != 2)
        return sc_err_word(c, st, 1, "write: %s", usage);
    json_object_set_new(step, "policy", json_string(sc_is(st, 1, "echo") ? "echo" : "ignore"));
    return 0;
}
