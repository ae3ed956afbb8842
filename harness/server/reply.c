/* reply.c — the control protocol's replies (fixtures/PROTOCOL.md §1): JSON with the headers every /_h/ reply
 * carries, and the one CORS grant a page of the run may need. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"

static const char *reason_for(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 421: return "Misdirected Request";
    default: return "Internal Server Error";
    }
}

void ch_reply_json_cors(struct ch_conn *c, int status, json_t *j, const char *allow_origin)
{
    char headers[512];
    if (allow_origin)
        snprintf(headers, sizeof headers, "%sAccess-Control-Allow-Origin: %s\r\nVary: Origin\r\n", CH_CONTROL_HEADERS,
                 allow_origin);
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    ch_conn_reply(c, status, reason_for(status), "application/json", allow_origin ? headers : CH_CONTROL_HEADERS,
                  text, text ? strlen(text) : 0);
    free(text);
    json_decref(j);
}

void ch_reply_json(struct ch_conn *c, int status, json_t *j) { ch_reply_json_cors(c, status, j, NULL); }

json_t *ch_error_jsonv(const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return json_pack("{s:s}", "error", msg);
}

void ch_reply_error(struct ch_conn *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ch_reply_json(c, status, ch_error_jsonv(fmt, ap));
    va_end(ap);
}
