/* core.h — the bottom layer of the harness, used by every other folder: errors as values, memory, hex,
 * digests, clocks, paths (util.c); a string-keyed map (map.c); placeholders (tmpl.c); the per-token transcript
 * (transcript.c). Nothing here knows about cases, connections or verdicts.
 */
#ifndef CH_CORE_H
#define CH_CORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* ---- util.c: errors as values, memory, hex, digests, clocks, files ---------------------------------------- */

/* Error convention (used by every module): a fallible function takes `char *err` (CH_ERR_LEN bytes, may be
 * NULL) and returns 0 on success, -1 on failure after writing a one-line message into err.
 *
 * Memory (harness/README.md, "Out of memory"): an allocation that fails ends the process — ch_oom() prints
 * "runner: out of memory" and aborts. The ch_x* functions never return NULL, and after ch_oom_install()
 * neither do jansson's and libevent's allocations, so no caller checks for NULL. The only exceptions are the
 * buffers whose size a peer or an input decides, which degrade on purpose and say so where they are: the
 * transcript's arena (events dropped and counted), a WebSocket message (1009), the pattern matcher's memo (an
 * ERROR check). */

#define CH_ERR_LEN 256

/* Formats a message into err (if not NULL) and returns -1, so callers can `return ch_errf(err, ...)`. */
int ch_errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "runner: out of memory (N bytes)" on stderr and aborts. */
void ch_oom(size_t n) __attribute__((noreturn));
void *ch_xmalloc(size_t n);
void *ch_xcalloc(size_t count, size_t size);
void *ch_xrealloc(void *p, size_t n);
char *ch_xstrdup(const char *s);
/* A NUL-terminated copy of n bytes. */
char *ch_xstrndup(const char *s, size_t n);
/* Routes jansson's, libevent's and OpenSSL's allocations through ch_xmalloc/ch_xrealloc. Call first thing in
 * main(), before any of them allocates. */
void ch_oom_install(void);

/* Monotonic clock in microseconds (CLOCK_MONOTONIC). Never fails. */
int64_t ch_now_us(void);

/* Milliseconds of case time → milliseconds of wall time under a run's time scale (rounded to the nearest). */
int64_t ch_scale_ms(int64_t ms, double scale);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ch_hex_encode(const unsigned char *in, size_t n, char *out);

/* The lowercase hex of n bytes as a new JSON string (case JSON's "hex" payloads, transcripts). */
json_t *ch_hex_json(const void *bytes, size_t n);

/* Decodes hex digits (spaces ignored) into a malloc'd buffer; *len gets its size. Returns NULL with err set on
 * an odd digit count or a non-hex character. Caller frees. */
unsigned char *ch_hex_decode(const char *hex, size_t *len, char *err);

/* SHA-256 of n bytes as 64 lowercase hex characters plus NUL. */
#define CH_SHA256_HEX_SIZE 65
void ch_sha256_hex(const void *data, size_t n, char out[CH_SHA256_HEX_SIZE]);

/* SHA-1 of n bytes, raw (20 bytes). */
void ch_sha1(const void *data, size_t n, unsigned char out[20]);

/* Base64 (standard alphabet, padded) of n bytes into out; returns the length written (out needs 4*ceil(n/3)+1). */
size_t ch_base64(const unsigned char *in, size_t n, char *out);

/* 1 if the n bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) and hold no NUL. */
int ch_utf8_text(const unsigned char *s, size_t n);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (*len excludes the NUL). NULL + err on failure. */
char *ch_read_file(const char *path, size_t *len, char *err);

/* Why a path is not a file inside a directory (ch_path_within). */
enum ch_path_fault {
    CH_PATH_OK,
    CH_PATH_EMPTY,    /* empty, or holding a NUL byte */
    CH_PATH_ABSOLUTE, /* starts with '/' */
    CH_PATH_DOTDOT,   /* a `..` segment */
    CH_PATH_MISSING,  /* no regular file there (or the path is too long) */
    CH_PATH_OUTSIDE,  /* its real path (symlinks resolved) is not inside the directory's */
};

/* The one rule for "a path stays inside fixtures/", used by the parser (`body file`), the executor (reading
 * it) and the server (/_h/static/): `rel` (n bytes) must be a relative path without `..` segments naming a
 * regular file whose real path lies inside `root`'s real path. The faults are checked in the order of the
 * enum. On CH_PATH_OK, real (PATH_MAX bytes) gets the file's real path and *size its size (either may be
 * NULL). */
enum ch_path_fault ch_path_within(const char *root, const char *rel, size_t n, char *real, size_t *size);

/* Calls fn(obj, ms, arg) for every member named `ms` holding an integer (a duration, harness/MODEL.md §1.2) of
 * every object under v, arrays and objects walked. */
void ch_json_each_ms(json_t *v, void (*fn)(json_t *obj, json_t *ms, void *arg), void *arg);

/* ---- map.c: a string-keyed hash map of pointers ------------------------------------------------------------ */

/* Open addressing, linear probing, grows at 50% load. Keys are copied; values are borrowed. Used for case ids,
 * tokens, runs and connections. */

struct ch_map;

struct ch_map *ch_map_new(void);
/* Frees the map and its key copies, not the values. NULL is a no-op. */
void ch_map_free(struct ch_map *m);
/* Sets key -> value (replacing any). */
void ch_map_set(struct ch_map *m, const char *key, void *value);
/* The value for key, or NULL. */
void *ch_map_get(const struct ch_map *m, const char *key);
/* Removes key; returns its value or NULL. */
void *ch_map_del(struct ch_map *m, const char *key);
size_t ch_map_count(const struct ch_map *m);
/* Iterates: start with *pos = 0; returns the next value (and its key in *key) or NULL at the end. */
void *ch_map_next(const struct ch_map *m, size_t *pos, const char **key);

/* ---- tmpl.c: placeholders `{...}` (cases/FORMAT.md §1) ----------------------------------------------------- */

/* One filler for server bytes, client programs and expected values, so every part of the harness reads a
 * placeholder the same way. */

/* The origins a case names (FORMAT.md §1.8), declared once, in the server's order: the http origins A (the
 * page's, localhost), B (same-site, localhost) and C (cross-site, 127.0.0.1); their TLS twins SA, SB and SC
 * (https and wss on the same host names); and D, an http origin whose name (insecure.test) is not potentially
 * trustworthy (Secure Contexts §3.1), for mixed content. Each is a placeholder {X}, {origin-X}, {host-X}, a
 * `page` and a route's `origin`. */
enum ch_origin { CH_ORIGIN_A, CH_ORIGIN_B, CH_ORIGIN_C, CH_ORIGIN_SA, CH_ORIGIN_SB, CH_ORIGIN_SC, CH_ORIGIN_D, CH_ORIGINS };
/* "A" ... "D" (static), or NULL out of range. */
const char *ch_origin_name(int origin);
/* The origin named by n bytes at s, or -1. */
int ch_origin_by_name(const char *s, size_t n);
/* 1 for SA, SB, SC. */
int ch_origin_tls(int origin);

/* The TLS fault listeners a case names as {SF-NAME} (also {origin-SF-NAME}, {host-SF-NAME}): for each token
 * whose case uses one, the server binds a listener of its own presenting that fault (FORMAT.md §1.8). */
enum ch_tls_fault {
    CH_FAULT_EXPIRED,      /* a certificate whose validity ended (RFC 5280 §4.1.2.5) */
    CH_FAULT_WRONG_NAME,   /* a certificate for another name (RFC 9110 §4.3.4) */
    CH_FAULT_SELF_SIGNED,  /* a certificate no trusted CA signed */
    CH_FAULT_REFUSE_ALERT, /* the handshake refused with a fatal handshake_failure alert (RFC 8446 §6.2) */
    CH_FAULT_REFUSE_FIN,   /* the handshake refused by closing TCP after the ClientHello, no alert */
    CH_FAULT_REFUSE_RST,   /* the same with a TCP reset */
    CH_FAULT_TLS12,        /* no fault: the good certificate, TLS 1.2 at most */
    CH_FAULTS
};
/* "expired", "wrong-name", "self-signed", "refuse-alert", "refuse-fin", "refuse-rst", "tls12"; NULL out of
 * range. */
const char *ch_fault_name(int fault);
int ch_fault_by_name(const char *s, size_t n);

/* What the placeholders in `in` (n bytes) name: bit CH_USES_TLS for a TLS origin or a fault listener, bit
 * CH_USES_D for origin D, and bit 1 << (CH_USES_FAULT + f) for fault f. Unknown names are ignored (checking
 * them is ch_tmpl_check's business). */
enum { CH_USES_TLS = 1u << 0, CH_USES_D = 1u << 1, CH_USES_FAULT = 2 };
unsigned ch_tmpl_uses(const char *in, size_t n);
/* The same over every string of a JSON value (arrays and objects walked; keys are not read). */
unsigned ch_tmpl_json_uses(const json_t *v);

/* Whether `in` (n bytes) holds a brace: a placeholder or a `{{` `}}` escape. A text without one fills to
 * itself, so callers copy it as it is and need no values. */
int ch_tmpl_has_braces(const char *in, size_t n);

/* Fills placeholders in `in` (n bytes) and returns a malloc'd buffer (*outlen bytes, NUL-terminated).
 * `vars` maps names to strings: "A", "origin-A", "host-A", ..., "token", "case", "body-length", and
 * "req:<lowercase header name>" for request headers. `{ms:N}` is computed as N × time_scale (rounded).
 * `{{` and `}}` are literal braces. A request header missing from vars fills as "". Any other unknown name is
 * an error: NULL is returned with err set. */
char *ch_tmpl_fill(const char *in, size_t n, const json_t *vars, double time_scale, size_t *outlen, char *err);

/* The same, looking names up in `local` first, then in `vars` (either may be NULL): a request's own values
 * (body-length, req:*) over its token's, without copying the token's. */
char *ch_tmpl_fill2(const char *in, size_t n, const json_t *local, const json_t *vars, double time_scale,
                    size_t *outlen, char *err);

/* Checks that every placeholder in `in` is one a case may use in `context` ("client", "server" or "expect");
 * the `runner check` side of the same rules. Returns 0, or -1 with err naming the first bad one and
 * *offset its byte offset. */
int ch_tmpl_check(const char *in, size_t n, const char *context, size_t *offset, char *err);

/* Walks a JSON value and replaces every string by its filled copy (objects and arrays recursively, keys kept).
 * Returns a new reference, or NULL with err set. */
json_t *ch_tmpl_fill_json(const json_t *v, const json_t *vars, double time_scale, char *err);

/* ---- header fields as received (a request's, net.h; the transcript's copy) -------------------------------- */

/* Field i of a head: its name at bytes + name (name_len bytes) and its value at bytes + value (value_len bytes),
 * each followed by a NUL in the buffer; the bytes are as received (a value may hold bytes no JSON string can). */
struct ch_header {
    uint32_t name, name_len, value, value_len;
};

/* Header bytes as a JSON string: as they are when valid UTF-8, else isomorphic-decoded (each byte one code
 * point, as Fetch turns header bytes into a string), so that a transcript stays valid JSON and no byte is lost.
 * New reference. */
json_t *ch_header_json(const char *bytes, size_t n);

/* [[name, value], ...] of n fields over the buffer `bytes`, in their order. New reference. */
json_t *ch_headers_json(const char *bytes, const struct ch_header *fields, size_t n);

/* ---- transcript.c: what the server saw and sent for one token (harness/MODEL.md §2) ---------------------- */

/*
 * Events are appended in time order with `t_us` = microseconds since the token was issued. A transcript is
 * bounded: past CH_TRANSCRIPT_MAX_EVENTS it only counts what it dropped (a benchmark or a runaway client cannot
 * exhaust memory), and a `sent` event keeps at most CH_TRANSCRIPT_PREVIEW bytes of what was written. */

#define CH_TRANSCRIPT_MAX_EVENTS 20000
#define CH_TRANSCRIPT_PREVIEW 1024

struct ch_transcript;

/* The memory transcripts record into, shared by all of a server's transcripts: events are appended at its one
 * end, whichever transcript records them (a reservation over a quarter of a chunk gets a chunk of its own), and
 * nothing is returned before the arena is freed, after every transcript made with it (a server frees its
 * tokens, then its arena). */
struct ch_arena;
struct ch_arena *ch_arena_new(void);
void ch_arena_free(struct ch_arena *a);

/* A transcript recording into `arena`; ch_transcript_free releases the transcript, its events stay in the
 * arena's memory until the arena is freed. */
struct ch_transcript *ch_transcript_new(struct ch_arena *arena, const char *token, const char *case_id,
                                        int64_t t0_us);
void ch_transcript_free(struct ch_transcript *t);

/* Appends {"t_us", "type", ...fields} stamped at `now_us` (fields is stolen; may be NULL). For events an
 * engine describes itself (ws-frame-in, sse-event, script-error ...). */
void ch_transcript_add(struct ch_transcript *t, int64_t now_us, const char *type, json_t *fields);

/* Appends a `sent` event for n bytes written on connection `conn` for request `req` (0 = none). */
void ch_transcript_sent(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                        size_t n);

/* The same for bytes that stay valid and unchanged until the transcript is freed (a route's reply rendered at
 * load: the server frees its tokens before its cases): the event points to them instead of copying them, so that
 * every reply of such a route costs the transcript no bytes of its own. */
void ch_transcript_sent_kept(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req, const void *bytes,
                             size_t n);

/* The frequent events, recorded without building JSON (ch_transcript_json builds it). */
void ch_transcript_end(struct ch_transcript *t, int64_t now_us, uint64_t conn, int req);
/* `origin` ("A", "B", "C") must be a static string; peer is copied. */
void ch_transcript_conn_open(struct ch_transcript *t, int64_t opened_us, uint64_t conn, const char *origin,
                             const char *peer);
/* `by` and `how` must be static strings. */
void ch_transcript_conn_close(struct ch_transcript *t, int64_t now_us, uint64_t conn, const char *by,
                              const char *how);

/* A request as received, copied into the transcript's arena (its JSON is built when the transcript is read):
 * the header fields are `nfields` fields over the head_len bytes of `head`, as struct ch_header says. `route`
 * is the answering route's line, 0 when none matched. */
struct ch_transcript_request {
    int64_t t_us, body_end_us; /* monotonic: head received, body received */
    uint64_t conn;
    int n, minor, route;
    const char *method, *target, *path;
    const char *head;
    size_t head_len, nfields;
    const struct ch_header *fields;
    const void *body;
    size_t body_len;
};
void ch_transcript_request(struct ch_transcript *t, const struct ch_transcript_request *r);

/* Adds {"text": ...} when the bytes are UTF-8 without NUL, else {"hex": ...}, to obj. */
void ch_json_set_bytes(json_t *obj, const void *bytes, size_t n);

/* A snapshot: {"token", "case", "events": [...], "dropped": N}. New reference. */
json_t *ch_transcript_json(const struct ch_transcript *t);

#endif
