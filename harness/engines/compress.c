/* compress.c — `compress gzip | deflate | off` (cases/FORMAT.md §4.2, harness/MODEL.md §1.1): the body data of
 * the steps that follow is sent content-coded (RFC 9110 §8.4.1, https://www.rfc-editor.org/rfc/rfc9110#section-8.4.1):
 * "gzip" is the gzip file format (RFC 1952), "deflate" the zlib data format (RFC 1950) around a deflate stream
 * (RFC 1951) — not raw deflate, which RFC 9110 §8.4.1.2 calls out as a mistake some servers make. zlib does
 * the coding.
 *
 * The words do what a server's content coding does and nothing more: the case writes its own
 * `Content-Encoding` header (or a wrong one, or none), so a case can test what a client does with any of
 * them. One coding stream spans the data of every `body`, `chunk` and `echo` step from `compress` to
 * `compress off` or the end of the route; each step's data is flushed (Z_SYNC_FLUSH) so its bytes can be
 * decoded as they arrive, and the last such step ends the stream (its final block and, for gzip, the
 * trailer). Chunk framing is not coded: a `chunk` step frames its coded data. Because body steps are rendered
 * before the head is written (exec.c), {body-length} counts the coded bytes, as Content-Length must
 * (RFC 9110 §8.6: the length of the content, after content coding). */
#include <string.h>
#include <zlib.h>

#include "core/core.h"
#include "exec.h"

struct ch_zip {
    z_stream z;
    size_t last; /* the step index of the segment's last data step: its data ends the stream */
};

void ch_zip_free(struct ch_exec *x)
{
    if (!x->zip) return;
    deflateEnd(&x->zip->z);
    free(x->zip);
    x->zip = NULL;
}

/* The last step after `from` whose data a stream started at `from` would code, or `from` when there is none
 * (the segment ends at the next `compress` or the end of the route). */
static size_t last_data_step(const struct ch_route *r, size_t from)
{
    size_t last = from;
    for (size_t i = from + 1; i < r->nsteps && r->steps[i].op->render != ch_render_compress; i++)
        if (r->steps[i].op->flags & CH_OP_DATA) last = i;
    return last;
}

/* Renders nothing: it starts (or, with `off`, ends) the coding of the data steps that follow. */
int ch_render_compress(struct ch_exec *x, const struct ch_step *s, struct evbuffer *out, char *err)
{
    const char *coding = json_string_value(json_object_get(s->json, "coding"));
    int gzip = coding && strcmp(coding, "gzip") == 0, deflate = coding && strcmp(coding, "deflate") == 0;
    ch_zip_free(x);
    if (!gzip && !deflate) {
        if (coding && strcmp(coding, "off") == 0) return 0;
        return ch_errf(err, "line %d: compress: the coding is gzip, deflate or off", s->line);
    }
    size_t at = (size_t)(s - x->route->steps), last = last_data_step(x->route, at);
    if (last == at) return 0; /* nothing to code */
    x->zip = ch_xcalloc(1, sizeof *x->zip);
    x->zip->last = last;
    /* windowBits 15 is the zlib format; + 16 asks zlib for the gzip format instead (zlib.h, deflateInit2). */
    if (deflateInit2(&x->zip->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip ? 15 + 16 : 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(x->zip);
        x->zip = NULL;
        return ch_errf(err, "line %d: compress: zlib refused to start", s->line);
    }
    return 0;
}

enum ch_step_result ch_op_compress(struct ch_exec *x, const struct ch_step *s) { return CH_STEP_NEXT; }

int ch_zip_code(struct ch_exec *x, const struct ch_step *s, struct evbuffer *data, char *err)
{
    if (!x->zip) return 0;
    z_stream *z = &x->zip->z;
    int flush = (size_t)(s - x->route->steps) == x->zip->last ? Z_FINISH : Z_SYNC_FLUSH;
    size_t n = evbuffer_get_length(data);
    unsigned char chunk[16384];
    z->next_in = n ? evbuffer_pullup(data, -1) : (unsigned char *)"";
    z->avail_in = (uInt)n;
    struct evbuffer *coded = evbuffer_new();
    int rc;
    do { /* deflate until it has taken all the input and flushed or finished: then it leaves output room */
        z->next_out = chunk;
        z->avail_out = sizeof chunk;
        rc = deflate(z, flush);
        evbuffer_add(coded, chunk, sizeof chunk - z->avail_out);
    } while (z->avail_out == 0 && rc != Z_STREAM_END && rc != Z_STREAM_ERROR);
    evbuffer_drain(data, n);
    evbuffer_add_buffer(data, coded);
    evbuffer_free(coded);
    if (flush == Z_FINISH) ch_zip_free(x);
    if (rc == Z_STREAM_ERROR || (flush == Z_FINISH && rc != Z_STREAM_END))
        return ch_errf(err, "line %d: compress: zlib error %d", s->line, rc);
    return 0;
}
