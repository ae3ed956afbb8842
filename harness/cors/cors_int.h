/* cors_int.h — helpers shared by the CORS oracle's files (cors.c, cors_reply.c, cors_eval.c); not an API. */
#ifndef CH_CORS_INT_H
#define CH_CORS_INT_H

#include <stddef.h>

#include "cors.h"

int cors_tchar(unsigned char c);
int cors_token(const char *s, size_t n);       /* n >= 1 token characters (RFC 9110 tchar) */
int cors_http_ws(unsigned char c);             /* HTTP whitespace byte: HT LF CR SP */
void cors_normalize_value(const char **v, size_t *n);
char *cors_lower(const char *s);               /* malloc'd ASCII-lowercase copy */
void cors_names_add(struct ch_cors_names *n, const char *s, size_t len);
void cors_decide(struct ch_cors_decision *d, enum ch_cors_rule_id rule, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
