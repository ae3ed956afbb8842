/* cors_case_int.h — what cors_expect.c (expectations) uses of cors_case.c (a checked block, run through the
 * oracle); not an API. */
#ifndef CH_CORS_CASE_INT_H
#define CH_CORS_CASE_INT_H

#include <jansson.h>

#include "cors.h"

/* One reply as the client receives it. */
struct cc_reply {
    struct ch_cors_header *wire;   /* as written, plus Content-Length when added; values borrowed */
    struct ch_cors_header *oracle; /* the same, Access-Control-Allow-Origin canonical */
    size_t count;
    char **owned;                  /* canonical values (freed with the reply) */
    size_t n;
    char cl[24];                   /* the added Content-Length value */
    struct ch_cors_reply reply;    /* status + oracle list */
};

/* A block checked and run through the oracle. */
struct cc_prepared {
    char path[256];                /* the route path */
    char target;                   /* the URL's origin: 'A', 'B' or 'C' */
    char origin[32], url_origin[32]; /* templates: http://{host-X} */
    struct cc_reply r[2];          /* [0] preflight (when scripted), [1] actual */
    struct ch_cors_outcome out;
    struct ch_cors_outcome scratch; /* exposure names when nothing is readable */
    const struct ch_cors_exposure *reads; /* every distinct name of the actual reply, sorted, with its fate */
    size_t nreads;
};

int cc_prepare(const struct ch_cors_block *b, struct cc_prepared *p, char *err);
void cc_prepared_free(struct cc_prepared *p);

#endif
