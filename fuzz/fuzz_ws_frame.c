/* fuzz_ws_frame.c — libFuzzer target for the WebSocket codec (harness/engines/ws_frame.c).
 *
 * Input: one byte of configuration (bit 0: read as a client reading a server, i.e. unmasked frames; bit 1: a
 * 64-byte frame/message limit; bits 2-7: the chunk size for the incremental pass), then the byte stream. The
 * stream is read twice — all at once, and as it would arrive in chunks — and both passes must see the same
 * frames and the same failure. Every frame read must re-encode to its own header bytes (lengths are minimal),
 * fit in the input, and a Close frame that passed must carry a code valid on the wire from its sender. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engines/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 4096

struct outcome {
    uint64_t digest; /* over every frame's header fields and payload */
    size_t frames, consumed;
    int fail_code;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

static void check_frame(const uint8_t *b, size_t n, size_t used, const struct ch_ws_event *ev,
                        const struct ch_ws_reader *r)
{
    struct ch_ws_header h = ev->h;
    unsigned char out[CH_WS_MAX_HEADER];
    if (used > n || used != ch_ws_frame_size(&ev->h)) abort();
    size_t hn = ch_ws_header_encode(&h, out);
    if (hn != ev->h.hlen || memcmp(out, b, hn) != 0) abort();
    if (ev->h.opcode == CH_WS_OP_CLOSE && ev->close.code >= 0 && !ch_ws_close_code_valid(ev->close.code, r->peer))
        abort();
    if (ev->message && ev->msg_opcode == CH_WS_OP_TEXT && !ch_ws_utf8(ev->msg, ev->msg_len)) abort();
}

static uint64_t digest_of(uint64_t d, const struct ch_ws_event *ev)
{
    d = mix(d, ev->h.fin | ev->h.rsv << 1 | ev->h.opcode << 4 | (uint64_t)ev->h.len << 8);
    for (size_t i = 0; i < ev->payload_len; i++) d = mix(d, ev->payload[i]);
    if (ev->message) d = mix(d, ev->msg_len << 4 | ev->msg_opcode);
    if (ev->h.opcode == CH_WS_OP_CLOSE) d = mix(d, (uint64_t)(ev->close.code + 1) << 16 | ev->close.reason_len);
    return d;
}

static void configure(struct ch_ws_reader *r, uint8_t cfg)
{
    ch_ws_reader_init(r);
    if (cfg & 1) {
        r->want_masked = 0;
        r->peer = CH_WS_FROM_SERVER;
    }
    if (cfg & 2) r->max_frame = r->max_message = 64;
}

/* Reads the stream with `avail` growing by `chunk` bytes (0: all at once). */
static struct outcome read_all(const uint8_t *b, size_t n, uint8_t cfg, size_t chunk)
{
    struct ch_ws_reader r;
    struct ch_ws_event ev;
    struct outcome o = {0};
    size_t start = 0, avail = chunk ? (chunk < n ? chunk : n) : n;
    configure(&r, cfg);
    while (start < n && o.frames < MAX_FRAMES) {
        size_t used;
        enum ch_ws_status st = ch_ws_read(&r, b + start, avail - start, &used, &ev);
        if (st == CH_WS_FAIL) {
            if (ev.fail_code != 1002 && ev.fail_code != 1007 && ev.fail_code != 1009) abort();
            if (!ev.why[0]) abort();
            o.fail_code = ev.fail_code;
            break;
        }
        if (st == CH_WS_NEED) {
            if (avail == n) break; /* the stream ends inside a frame */
            avail = avail + chunk > n ? n : avail + chunk;
            continue;
        }
        check_frame(b + start, avail - start, used, &ev, &r);
        o.digest = digest_of(o.digest, &ev);
        o.frames++;
        start += used;
    }
    o.consumed = start;
    ch_ws_reader_free(&r);
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t cfg = data[0];
    const uint8_t *b = data + 1;
    size_t n = size - 1;
    struct outcome whole = read_all(b, n, cfg, 0);
    struct outcome parts = read_all(b, n, cfg, (size_t)(cfg >> 2) + 1);
    if (whole.digest != parts.digest || whole.frames != parts.frames || whole.fail_code != parts.fail_code ||
        whole.consumed != parts.consumed)
        abort();
    /* The Close payload parser on its own, both sides. */
    struct ch_ws_close c;
    int rc = ch_ws_close_parse(b, n < 125 ? n : 125, (cfg & 1) ? CH_WS_FROM_SERVER : CH_WS_FROM_CLIENT, &c, NULL);
    if (rc != 0 && rc != 1002 && rc != 1007) abort();
    return 0;
}
