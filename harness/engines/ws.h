/* ws.h — WebSocket (RFC 6455): our own frame codec, the opening handshake, close rules, and the engine that
 * runs a case's `ws-*` steps on an upgraded connection (cases/FORMAT.md §4.4, harness/MODEL.md §1.1, §2).
 *
 *   ws_frame.c      the pure codec: frame headers, a reader that assembles client messages and enforces the
 *                   protocol's rules, an encoder, Close payloads, the close-code table. No I/O, no allocation
 *                   beyond the reader's message buffer: Check tests and the fuzzer drive it with bytes.
 *   ws_handshake.c  validating an upgrade request (§4.2.1) and computing Sec-WebSocket-Accept (§4.2.2).
 *   ws.c            the engine: one state machine per connection, the step words, the transcript events.
 *
 * Errors are values: reader and parser failures carry the close code the connection fails with (1002
 * protocol error, 1007 invalid data, 1009 too big) and a one-line reason. */
#ifndef CH_WS_H
#define CH_WS_H

#include <stddef.h>
#include <stdint.h>

#define CH_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* RFC 6455 §1.3 */
#define CH_WS_MAX_HEADER 14                               /* 2 + 8 (64-bit length) + 4 (masking key) */
#define CH_WS_MAX_CONTROL 125                             /* §5.5: control frame payloads */
#define CH_WS_MAX_FRAME (16u << 20)                       /* our limit per frame payload (refused: 1009) */
#define CH_WS_MAX_MESSAGE (16u << 20)                     /* our limit per assembled message (1009) */
#define CH_WS_WHY_LEN 128

/* Opcodes (§5.2, §11.8). 3-7 and 11-15 are reserved. */
enum ch_ws_opcode {
    CH_WS_OP_CONT = 0x0,
    CH_WS_OP_TEXT = 0x1,
    CH_WS_OP_BINARY = 0x2,
    CH_WS_OP_CLOSE = 0x8,
    CH_WS_OP_PING = 0x9,
    CH_WS_OP_PONG = 0xA,
};

/* Close codes the codec itself uses (§7.4.1). */
enum {
    CH_WS_CLOSE_NORMAL = 1000,
    CH_WS_CLOSE_PROTOCOL = 1002,
    CH_WS_CLOSE_NO_STATUS = 1005, /* local only: a Close without a code */
    CH_WS_CLOSE_ABNORMAL = 1006,  /* local only: no Close at all */
    CH_WS_CLOSE_INVALID_DATA = 1007,
    CH_WS_CLOSE_TOO_BIG = 1009,
};

/* ---- close codes (RFC 6455 §7.4, https://www.rfc-editor.org/rfc/rfc6455#section-7.4, and the IANA registry,
 * https://www.iana.org/assignments/websocket/websocket.xhtml#close-code-number) -------------------------------- */

/* Who sends a Close frame: the rules differ only for 1010, which only a client may send. */
enum ch_ws_side { CH_WS_FROM_CLIENT, CH_WS_FROM_SERVER };

/* 1 if `code` may appear in a Close frame sent by `from`: 1000-1003, 1007-1014 (1010 only from a client),
 * 3000-4999. Everything else — 0-999, 1004, 1005, 1006, 1015, 1016-2999, 5000 and up — is invalid on the wire.
 * Can't fail. */
int ch_ws_close_code_valid(long code, enum ch_ws_side from);

/* 1 if a page's close(code) accepts `code` (WebSockets Standard close(): 1000 or 3000-4999); any other code
 * throws InvalidAccessError. Can't fail. */
int ch_ws_close_code_api(long code);

/* ---- frames ---------------------------------------------------------------------------------------------- */

/* A frame header (§5.2) as read or to be written. */
struct ch_ws_header {
    int fin;
    unsigned rsv;          /* RSV1-3 as a 3-bit number: RSV1 = 4, RSV2 = 2, RSV3 = 1 */
    unsigned opcode;       /* 0-15 */
    int masked;
    unsigned char key[4];  /* the masking key when masked */
    uint64_t len;          /* payload length */
    size_t hlen;           /* header size in bytes (2-14), set by parse and encode */
};

enum ch_ws_status {
    CH_WS_NEED = 0,  /* more bytes are needed */
    CH_WS_DONE = 1,  /* a frame (or header) was read */
    CH_WS_FAIL = -1, /* the bytes break the protocol: fail the connection */
};

/* Parses a header from b[0..n). NEED when n is too short; DONE with *h filled; FAIL (with `why`, may be NULL)
 * for a 64-bit length with its most significant bit set or a length not in its minimal form (§5.2). */
enum ch_ws_status ch_ws_header_parse(const unsigned char *b, size_t n, struct ch_ws_header *h, char *why);

/* Writes the header for h (fin, rsv, opcode, masked, key, len; lengths in minimal form) into out, sets h->hlen
 * and returns it. Can't fail; bits beyond the field widths are ignored. */
size_t ch_ws_header_encode(struct ch_ws_header *h, unsigned char out[CH_WS_MAX_HEADER]);

/* XORs n bytes with the masking key, starting at position `offset` of the payload (§5.3). Masking and
 * unmasking are the same operation. */
void ch_ws_mask(unsigned char *p, size_t n, const unsigned char key[4], uint64_t offset);

/* The size of a whole frame with this header (hlen + len), saturating at SIZE_MAX. */
size_t ch_ws_frame_size(const struct ch_ws_header *h);

/* A short name for an opcode: "continuation", "text", "binary", "close", "ping", "pong", "reserved". */
const char *ch_ws_opcode_name(unsigned opcode);

/* 1 if the opcode is a control frame's (§5.5: 8-15). */
int ch_ws_is_control(unsigned opcode);

/* 1 if the n bytes are UTF-8 (RFC 3629; U+0000 is a character like any other in a text message). */
int ch_ws_utf8(const unsigned char *s, size_t n);

/* ---- Close payloads (§5.5.1, §7.1.5-7.1.6) --------------------------------------------------------------- */

struct ch_ws_close {
    long code;                   /* -1: no code (an empty payload; locally 1005) */
    const unsigned char *reason; /* points into the payload; UTF-8, maybe empty */
    size_t reason_len;
};

/* Parses a Close payload received from `from`. Returns 0 with *c filled, or the close code the receiver fails
 * the connection with: 1002 for a one-byte payload or a code invalid on the wire, 1007 for a reason that is not
 * UTF-8 (`why` says which; may be NULL). A reason may be empty. */
int ch_ws_close_parse(const unsigned char *p, size_t n, enum ch_ws_side from, struct ch_ws_close *c, char *why);

/* Writes a Close payload into out: nothing when code < 0, else the code (big-endian, any value 0-65535) and the
 * reason bytes. Returns the length, or 0 with nothing written when 2 + rlen exceeds cap. */
size_t ch_ws_close_build(unsigned char *out, size_t cap, long code, const void *reason, size_t rlen);

/* ---- reading client frames ------------------------------------------------------------------------------- */

/* The reader: frames in, messages out, every rule of §5 checked. It owns one growable buffer for the message
 * being assembled (bounded by max_message). */
struct ch_ws_reader {
    /* configuration (ch_ws_reader_init sets the defaults) */
    size_t max_frame, max_message;
    int want_masked;       /* 1: frames must be masked (a server reading a client, §5.1); 0: must not be */
    unsigned rsv_allowed;  /* RSV bits an extension negotiated (none: 0) */
    enum ch_ws_side peer;  /* who sends these frames (close-code rules) */
    /* state */
    unsigned msg_opcode;   /* text or binary while a fragmented message is open, else 0 */
    unsigned char *msg;
    size_t msg_len, msg_cap;
    unsigned char ctl[CH_WS_MAX_CONTROL];
};

/* What one frame meant. Pointers stay valid until the next call on the reader. */
struct ch_ws_event {
    struct ch_ws_header h;
    int have_header;                /* h is filled (always on DONE; on FAIL when the header was readable) */
    const unsigned char *payload;   /* this frame's payload, unmasked (NULL when n = 0) */
    size_t payload_len;
    int message;                    /* 1: this frame ended a data message */
    unsigned msg_opcode;            /* text or binary */
    const unsigned char *msg;       /* the whole message */
    size_t msg_len;
    struct ch_ws_close close;       /* for a Close frame */
    int fail_code;                  /* on FAIL: 1002, 1007 or 1009 */
    char why[CH_WS_WHY_LEN];        /* on FAIL: what broke which rule */
};

/* Sets a server's reader (frames from a client: masked, no RSV bits, 16 MiB limits). */
void ch_ws_reader_init(struct ch_ws_reader *r);
void ch_ws_reader_free(struct ch_ws_reader *r);

/* Reads one frame from b[0..n). NEED: *size is the whole frame's size once its header is readable, else 0.
 * DONE: the frame took *size bytes; ev describes it. FAIL: ev->fail_code and ev->why say why; the connection
 * must be failed (§7.1.7) and the reader not used again. */
enum ch_ws_status ch_ws_read(struct ch_ws_reader *r, const unsigned char *b, size_t n, size_t *size,
                             struct ch_ws_event *ev);

/* ---- the opening handshake (§4.2) ------------------------------------------------------------------------ */

struct ch_request;

/* What an upgrade request offered and whether it is valid (§4.2.1). */
struct ch_ws_offer {
    int valid;
    int status;             /* when invalid: 426 for a wrong version (§4.2.2 item 4), else 400 */
    char why[CH_WS_WHY_LEN];
    const char *key, *version, *origin; /* borrowed from the request, NULL when absent */
    char **protocols;       /* offered subprotocols, split and trimmed (malloc'd, NULL-terminated) */
    char **extensions;      /* offered extensions, one string per offer with its parameters */
};

/* Reads the offer from a request. Never fails (an invalid request is a valid answer: o->valid = 0).
 * Free with ch_ws_offer_free. */
void ch_ws_offer_read(const struct ch_request *r, struct ch_ws_offer *o);
void ch_ws_offer_free(struct ch_ws_offer *o);

/* 1 if `name` is one of the NULL-terminated list (case-sensitive, as subprotocol tokens compare). */
int ch_ws_offered(char *const *list, const char *name);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)), 28 characters plus NUL (§4.2.2 item 5.4). */
void ch_ws_accept_value(const char *key, char out[29]);

/* 1 if the key is the base64 form of 16 bytes (§4.1 item 7, §4.2.1 item 5). */
int ch_ws_key_valid(const char *key);

#endif
