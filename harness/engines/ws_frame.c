/* ws_frame.c — the pure RFC 6455 codec (see ws.h): headers, masking, the reader's rules, Close payloads and the
 * close-code table. No I/O. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ws.h"

/* ---- close codes ------------------------------------------------------------------------------------------ */

/* RFC 6455 §7.4.1-7.4.2 (https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1) and the IANA "WebSocket Close
 * Code Number Registry" (https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number;
 * 1012-1014 registered after the RFC). 1004 is reserved, 1005/1006/1015 "MUST NOT be set as a status code in a
 * Close control frame": they describe a close locally and never travel. 1010 ("mandatory extension") is sent
 * by a client that expected the server to negotiate an extension: only a client sends it. 0-999 and
 * 1016-2999 are not used; 5000 and up are outside the registry's range. */
int ch_ws_close_code_valid(long code, enum ch_ws_side from)
{
    if (code >= 1000 && code <= 1003) return 1;
    if (code == 1010) return from == CH_WS_FROM_CLIENT;
    if (code >= 1007 && code <= 1014) return 1;
    return code >= 3000 && code <= 4999;
}

/* WebSockets Standard, close(): "If code is present, but is neither an integer equal to 1000 nor an integer in
 * the range 3000 to 4999, inclusive, throw an InvalidAccessError". */
int ch_ws_close_code_api(long code)
{
    return code == 1000 || (code >= 3000 && code <= 4999);
}

/* ---- headers ---------------------------------------------------------------------------------------------- */

static void set_why(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_why(char *why, const char *fmt, ...)
{
    if (!why) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, CH_WS_WHY_LEN, fmt, ap);
    va_end(ap);
}

/* §5.2: base framing. The payload length is 7 bits, or 126 + 16 bits, or 127 + 64 bits (most significant bit
 * 0), "in all cases, the minimal number of bytes MUST be used to encode the length". */
enum ch_ws_status ch_ws_header_parse(const unsigned char *b, size_t n, struct ch_ws_header *h, char *why)
{
    if (n < 2) return CH_WS_NEED;
    h->fin = b[0] >> 7;
    h->rsv = (b[0] >> 4) & 7;
    h->opcode = b[0] & 15;
    h->masked = b[1] >> 7;
    unsigned len7 = b[1] & 127;
    size_t ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    h->hlen = 2 + ext + (h->masked ? 4 : 0);
    if (n < h->hlen) return CH_WS_NEED;
    h->len = len7;
    if (ext) {
        h->len = 0;
        for (size_t i = 0; i < ext; i++) h->len = h->len << 8 | b[2 + i];
    }
    if (ext == 8 && (h->len >> 63)) {
        set_why(why, "64-bit payload length with its most significant bit set (RFC 6455 §5.2)");
        return CH_WS_FAIL;
    }
    if ((ext == 2 && h->len < 126) || (ext == 8 && h->len <= 0xffff)) {
        set_why(why, "payload length %llu not in its minimal form (%s-bit length; RFC 6455 §5.2)",
                (unsigned long long)h->len, ext == 2 ? "16" : "64");
        return CH_WS_FAIL;
    }
    if (h->masked) memcpy(h->key, b + 2 + ext, 4);
    return CH_WS_DONE;
}

size_t ch_ws_header_encode(struct ch_ws_header *h, unsigned char out[CH_WS_MAX_HEADER])
{
    size_t k = 2;
    out[0] = (unsigned char)((h->fin ? 0x80 : 0) | (h->rsv & 7) << 4 | (h->opcode & 15));
    out[1] = h->masked ? 0x80 : 0;
    if (h->len < 126) {
        out[1] |= (unsigned char)h->len;
    } else if (h->len <= 0xffff) {
        out[1] |= 126;
        out[k++] = (unsigned char)(h->len >> 8);
        out[k++] = (unsigned char)h->len;
    } else {
        out[1] |= 127;
        for (int s = 56; s >= 0; s -= 8) out[k++] = (unsigned char)(h->len >> s);
    }
    if (h->masked) {
        memcpy(out + k, h->key, 4);
        k += 4;
    }
    h->hlen = k;
    return k;
}

/* §5.3: octet i of the payload is XORed with octet i MOD 4 of the masking key. */
void ch_ws_mask(unsigned char *p, size_t n, const unsigned char key[4], uint64_t offset)
{
    unsigned char k[4];
    for (int i = 0; i < 4; i++) k[i] = key[(offset + (uint64_t)i) & 3];
    size_t i = 0;
    if (n >= 8) { /* eight bytes at a time: the same pattern repeats every 4 */
        uint64_t w, m;
        unsigned char k8[8] = {k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]};
        memcpy(&m, k8, 8);
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            w ^= m;
            memcpy(p + i, &w, 8);
        }
    }
    for (; i < n; i++) p[i] ^= k[i & 3];
}

size_t ch_ws_frame_size(const struct ch_ws_header *h)
{
    if (h->len > (uint64_t)(SIZE_MAX - h->hlen)) return SIZE_MAX;
    return h->hlen + (size_t)h->len;
}

const char *ch_ws_opcode_name(unsigned opcode)
{
    switch (opcode) {
    case CH_WS_OP_CONT: return "continuation";
    case CH_WS_OP_TEXT: return "text";
    case CH_WS_OP_BINARY: return "binary";
    case CH_WS_OP_CLOSE: return "close";
    case CH_WS_OP_PING: return "ping";
    case CH_WS_OP_PONG: return "pong";
    default: return "reserved";
    }
}

int ch_ws_is_control(unsigned opcode)
{
    return (opcode & 8) != 0;
}

/* ch_utf8_text refuses NUL (it guards JSON strings); in a WebSocket text message U+0000 is a character. NUL
 * never occurs inside a multi-byte sequence, so the runs between NULs are checked on their own. */
int ch_ws_utf8(const unsigned char *s, size_t n)
{
    while (n > 0) {
        const unsigned char *z = memchr(s, 0, n);
        size_t run = z ? (size_t)(z - s) : n;
        if (run && !ch_utf8_text(s, run)) return 0;
        if (!z) return 1;
        s += run + 1;
        n -= run + 1;
    }
    return 1;
}

/* ---- Close payloads --------------------------------------------------------------------------------------- */

/* §5.5.1: "If there is a body, the first two bytes of the body MUST be a 2-byte unsigned integer (in network
 * byte order) representing a status code ... Following the 2-byte integer, the body MAY contain UTF-8-encoded
 * data". A one-byte body cannot hold a code: a protocol error (Autobahn 7.3.2). §7.4.1 / §8.1: an invalid code
 * is a protocol error, an invalid reason invalid data. */
int ch_ws_close_parse(const unsigned char *p, size_t n, enum ch_ws_side from, struct ch_ws_close *c, char *why)
{
    c->code = -1;
    c->reason = p;
    c->reason_len = 0;
    if (n == 0) return 0;
    if (n == 1) {
        set_why(why, "a Close payload of one byte (RFC 6455 §5.5.1: a code takes two)");
        return CH_WS_CLOSE_PROTOCOL;
    }
    c->code = (long)p[0] << 8 | p[1];
    c->reason = p + 2;
    c->reason_len = n - 2;
    if (!ch_ws_close_code_valid(c->code, from)) {
        set_why(why, "Close code %ld is not valid on the wire%s (RFC 6455 §7.4)", c->code,
                c->code == 1010 ? " from a server" : "");
        return CH_WS_CLOSE_PROTOCOL;
    }
    if (!ch_ws_utf8(c->reason, c->reason_len)) {
        set_why(why, "the Close reason is not UTF-8 (RFC 6455 §5.5.1, §8.1)");
        return CH_WS_CLOSE_INVALID_DATA;
    }
    return 0;
}

size_t ch_ws_close_build(unsigned char *out, size_t cap, long code, const void *reason, size_t rlen)
{
    if (code < 0) return 0;
    if (cap < 2 || rlen > cap - 2) return 0;
    out[0] = (unsigned char)((unsigned long)code >> 8);
    out[1] = (unsigned char)code;
    if (rlen) memcpy(out + 2, reason, rlen);
    return 2 + rlen;
}

/* ---- the reader ------------------------------------------------------------------------------------------- */

#define KEEP_MSG_BUFFER (64u << 10) /* a message buffer larger than this is released once its message is read */

void ch_ws_reader_init(struct ch_ws_reader *r)
{
    memset(r, 0, sizeof *r);
    r->max_frame = CH_WS_MAX_FRAME;
    r->max_message = CH_WS_MAX_MESSAGE;
    r->want_masked = 1;
    r->peer = CH_WS_FROM_CLIENT;
}

void ch_ws_reader_free(struct ch_ws_reader *r)
{
    free(r->msg);
    r->msg = NULL;
    r->msg_len = r->msg_cap = 0;
}

static enum ch_ws_status fail(struct ch_ws_event *ev, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ch_ws_status fail(struct ch_ws_event *ev, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->why, sizeof ev->why, fmt, ap);
    va_end(ap);
    ev->fail_code = code;
    return CH_WS_FAIL;
}

/* The rules a header must pass before its payload matters (§5.1, §5.2, §5.4, §5.5). */
static enum ch_ws_status check_header(const struct ch_ws_reader *r, const struct ch_ws_header *h,
                                      struct ch_ws_event *ev)
{
    if (h->masked != r->want_masked)
        return fail(ev, CH_WS_CLOSE_PROTOCOL, r->want_masked
                                                  ? "an unmasked frame from the client (RFC 6455 §5.1)"
                                                  : "a masked frame from the server (RFC 6455 §5.1)");
    if (h->rsv & ~r->rsv_allowed)
        return fail(ev, CH_WS_CLOSE_PROTOCOL, "RSV bits %u%u%u set without an extension (RFC 6455 §5.2)",
                    h->rsv >> 2 & 1, h->rsv >> 1 & 1, h->rsv & 1);
    if ((h->opcode >= 3 && h->opcode <= 7) || h->opcode >= 11)
        return fail(ev, CH_WS_CLOSE_PROTOCOL, "reserved opcode %u (RFC 6455 §5.2)", h->opcode);
    if (ch_ws_is_control(h->opcode)) {
        if (!h->fin) return fail(ev, CH_WS_CLOSE_PROTOCOL, "a fragmented %s frame (RFC 6455 §5.5)",
                                 ch_ws_opcode_name(h->opcode));
        if (h->len > CH_WS_MAX_CONTROL)
            return fail(ev, CH_WS_CLOSE_PROTOCOL, "a %s frame with a %llu-byte payload (over 125: RFC 6455 §5.5)",
                        ch_ws_opcode_name(h->opcode), (unsigned long long)h->len);
        return CH_WS_DONE;
    }
    if (h->opcode == CH_WS_OP_CONT && !r->msg_opcode)
        return fail(ev, CH_WS_CLOSE_PROTOCOL, "a continuation frame with no message to continue (RFC 6455 §5.4)");
    if (h->opcode != CH_WS_OP_CONT && r->msg_opcode)
        return fail(ev, CH_WS_CLOSE_PROTOCOL, "a new %s message while a fragmented %s message is open (RFC 6455 §5.4)",
                    ch_ws_opcode_name(h->opcode), ch_ws_opcode_name(r->msg_opcode));
    if (h->len > r->max_frame)
        return fail(ev, CH_WS_CLOSE_TOO_BIG, "a %llu-byte frame (our limit is %zu; RFC 6455 §7.4.1 1009)",
                    (unsigned long long)h->len, r->max_frame);
    if (r->msg_len + h->len > r->max_message)
        return fail(ev, CH_WS_CLOSE_TOO_BIG, "a message over %zu bytes (RFC 6455 §7.4.1 1009)", r->max_message);
    return CH_WS_DONE;
}

/* The message buffer grows with what a client sends (up to max_message): a failed allocation fails the
 * connection with 1009 rather than the process (core.h, memory: a size a peer decides degrades). */
static int msg_reserve(struct ch_ws_reader *r, size_t more)
{
    size_t want = r->msg_len + more;
    if (want <= r->msg_cap) return 0;
    size_t cap = r->msg_cap ? r->msg_cap : 256;
    while (cap < want) cap *= 2;
    unsigned char *m = realloc(r->msg, cap);
    if (!m) return -1;
    r->msg = m;
    r->msg_cap = cap;
    return 0;
}

/* A control frame: unmasked into the reader's 125-byte buffer; a Close's payload parsed. */
static enum ch_ws_status read_control(struct ch_ws_reader *r, const unsigned char *p, struct ch_ws_event *ev)
{
    size_t n = (size_t)ev->h.len;
    memcpy(r->ctl, p, n);
    if (ev->h.masked) ch_ws_mask(r->ctl, n, ev->h.key, 0);
    ev->payload = n ? r->ctl : NULL;
    ev->payload_len = n;
    if (ev->h.opcode == CH_WS_OP_CLOSE) {
        int code = ch_ws_close_parse(r->ctl, n, r->peer, &ev->close, ev->why);
        if (code) {
            ev->fail_code = code;
            return CH_WS_FAIL;
        }
    }
    return CH_WS_DONE;
}

/* A data frame: appended to the message; a final frame ends the message, whose text must be UTF-8 (§8.1). */
static enum ch_ws_status read_data(struct ch_ws_reader *r, const unsigned char *p, struct ch_ws_event *ev)
{
    size_t n = (size_t)ev->h.len, at = r->msg_len;
    if (msg_reserve(r, n) < 0) return fail(ev, CH_WS_CLOSE_TOO_BIG, "out of memory for a %zu-byte message", at + n);
    if (n) memcpy(r->msg + at, p, n);
    if (ev->h.masked && n) ch_ws_mask(r->msg + at, n, ev->h.key, 0);
    r->msg_len += n;
    if (ev->h.opcode != CH_WS_OP_CONT) r->msg_opcode = ev->h.opcode;
    ev->payload = n ? r->msg + at : NULL;
    ev->payload_len = n;
    if (!ev->h.fin) return CH_WS_DONE;
    ev->message = 1;
    ev->msg_opcode = r->msg_opcode;
    ev->msg = r->msg;
    ev->msg_len = r->msg_len;
    r->msg_opcode = 0;
    r->msg_len = 0;
    if (ev->msg_opcode == CH_WS_OP_TEXT && !ch_ws_utf8(ev->msg, ev->msg_len))
        return fail(ev, CH_WS_CLOSE_INVALID_DATA, "a text message that is not UTF-8 (RFC 6455 §8.1)");
    return CH_WS_DONE;
}

enum ch_ws_status ch_ws_read(struct ch_ws_reader *r, const unsigned char *b, size_t n, size_t *size,
                             struct ch_ws_event *ev)
{
    memset(ev, 0, sizeof *ev);
    *size = 0;
    if (r->msg_len == 0 && r->msg_cap > KEEP_MSG_BUFFER) ch_ws_reader_free(r); /* after a large message */
    enum ch_ws_status st = ch_ws_header_parse(b, n, &ev->h, ev->why);
    if (st == CH_WS_NEED) return CH_WS_NEED;
    if (st == CH_WS_FAIL) {
        ev->fail_code = CH_WS_CLOSE_PROTOCOL;
        return CH_WS_FAIL;
    }
    ev->have_header = 1;
    if (check_header(r, &ev->h, ev) == CH_WS_FAIL) return CH_WS_FAIL;
    *size = ch_ws_frame_size(&ev->h);
    if (n < *size) return CH_WS_NEED;
    const unsigned char *p = b + ev->h.hlen;
    return ch_ws_is_control(ev->h.opcode) ? read_control(r, p, ev) : read_data(r, p, ev);
}
