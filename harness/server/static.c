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

void ch_static_reply(struct ch_server *srv, struct ch_conn *c, const char *rel)
{
    char real[PATH_MAX], err[CH_ERR_LEN];
    size_t n;
    if (ch_path_within(srv->opts->fixtures_dir, rel, strlen(rel), real, NULL) != CH_PATH_OK)
        return ch_reply_error(c, 404, "no such fixture");
    char *body = ch_read_file(real, &n, err);
    if (!body) return ch_reply_error(c, 404, "no such fixture");
    ch_conn_reply(c, 200, "OK", mime_type(real), CH_CONTROL_HEADERS, body, n);
    free(body);
}
