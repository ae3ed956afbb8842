/* tmpl.h — placeholders `{...}` (cases/FORMAT.md §1). One filler for server bytes, client programs and
 * expected values, so every part of the harness reads a placeholder the same way. */
#ifndef CH_TMPL_H
#define CH_TMPL_H

#include <jansson.h>
#include <stddef.h>

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

#endif
