/* static.c — GET /_h/static/PATH: a file under the fixtures directory (the page, the interpreter, payloads),
 * with a type by its extension. A path that is not a file inside the directory (core.h's ch_path_within, the
 * rule `body file` follows too) is 404. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

static const char *mime_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".json", "application/json"}, {".css", "text/css"},
        {".txt", "text/plain; charset=utf-8"}, {".xml", "application/xml"}, {".png", "image/png"},
        {".gif", "image/gif"}, {".jpg", "image/jpeg"}, {".svg", "image/svg+xml"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0) return types[i][1];
    return "application/octet-stream";
}

/* The browser may keep a fixture but must ask before using it: `Cache-Control: no-cache` (RFC 9111 §5.2.2.4) and
 * a strong ETag, the SHA-256 of the bytes; a GET whose If-None-Match names it gets 304 with no content (RFC 9110
 * §13.1.2, §15.4.5). Every case page loads the interpreter, which a browser then compiles once rather than once
 * per case (README, "Speed"), and a changed file is never served stale. */
/* The run's harness page is on origin A (PROTOCOL.md §2); "" when A is not served. */
static const char *origin_a(const struct ch_server *srv)
{
    for (int i = 0; i < srv->norigins; i++)
        if (!srv->origins[i].token && !strcmp(srv->origins[i].name, "A")) return srv->origins[i].url;
    return "";
}

/* A page of the fixtures may be framed only by the run's harness page, on origin A (CSP Level 3
 * frame-ancestors, https://www.w3.org/TR/CSP3/#directive-frame-ancestors): a page on another site that frames
 * case.html cannot hand it a program to run on a run's origin (README, "Security"). */
/* An HTML fixture asked for with `charset=windows-1252` in its query is served as text/html; charset=windows-1252:
 * the case page of `page X windows-1252` (cases/FORMAT.md §2) is case.html so served, and the transport layer's
 * charset decides the document's encoding over its <meta charset> (HTML, "determining the character encoding",
 * https://html.spec.whatwg.org/multipage/parsing.html#determining-the-character-encoding). No other value is
 * taken: a fixture stays UTF-8 unless a case page asks for the one encoding a case needs. */
void ch_static_reply(struct ch_server *srv, struct ch_conn *c, const char *rel, const char *charset,
                     const char *if_none_match)
{
    char real[PATH_MAX], err[CH_ERR_LEN], sum[CH_SHA256_HEX_SIZE], etag[40], extra[512];
    size_t n;
    if (ch_path_within(srv->opts->fixtures_dir, rel, strlen(rel), real, NULL) != CH_PATH_OK)
        return ch_reply_error(c, 404, "no such fixture");
    char *body = ch_read_file(real, &n, err);
    if (!body) return ch_reply_error(c, 404, "no such fixture");
    ch_sha256_hex(body, n, sum);
    snprintf(etag, sizeof etag, "\"%.32s\"", sum); /* 128 bits of the digest */
    const char *type = mime_type(real);
    int html = !strncmp(type, "text/html;", 10);
    if (html && charset && !strcmp(charset, "windows-1252")) type = "text/html; charset=windows-1252";
    snprintf(extra, sizeof extra, "Cache-Control: no-cache\r\nETag: %s\r\n%s%s%s", etag,
             html ? "Content-Security-Policy: frame-ancestors " : "", html ? origin_a(srv) : "", html ? "\r\n" : "");
    int fresh = if_none_match && strstr(if_none_match, etag) != NULL;
    ch_conn_reply(c, fresh ? 304 : 200, fresh ? "Not Modified" : "OK", type, extra, body, n);
    free(body);
}
