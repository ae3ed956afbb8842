/* reply.c — the control protocol's replies (fixtures/PROTOCOL.md §1): JSON with the headers every /_h/ reply
 * carries. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

void ch_reply_json(struct ch_conn *c, int status, json_t *j)
{
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 409 ? "Conflict" : "Internal Server Error";
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    ch_conn_reply(c, status, reason, "application/json", CH_CONTROL_HEADERS, text, text ? strlen(text) : 0);
    free(text);
    json_decref(j);
}

void ch_reply_error(struct ch_conn *c, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ch_reply_json(c, status, json_pack("{s:s}", "error", msg));
}
