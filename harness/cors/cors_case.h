/* cors_case.h — a `cors` section of a case (cases/FORMAT.md §7) compiled into case JSON (harness/MODEL.md §1):
 * the server routes that serve its preflight and actual replies, the client program that makes the request,
 * and, for `expect cors`, the expectations the CORS oracle (cors.h) computes for the cell. Nothing here reads
 * a file or knows the case language's syntax: the parser (script*.c) fills a struct ch_cors_block from the
 * section's lines and calls these functions.
 *
 * Placeholders: a reply header value may hold the placeholders an expected value may hold (its value is also
 * what script reads back); Access-Control-Allow-Origin is compared with the page's origin as templates after
 * writing `{origin-X}` as `http://{host-X}` (distinct origins fill to distinct bytes). Request header values,
 * request and reply bodies, and the CORS list headers (Allow-Methods, Allow-Headers, Expose-Headers,
 * Allow-Credentials, Max-Age) hold none: the oracle reads their bytes. */
#ifndef CH_CORS_CASE_H
#define CH_CORS_CASE_H

#include <jansson.h>
#include <stddef.h>

#include "cors.h"

struct ch_cors_reply_spec {
    int present;                   /* the section scripts this reply */
    int line;                      /* its first line (routes carry it) */
    int status;
    const char *reason;            /* may be "" */
    const struct ch_cors_header *headers; /* as written, in order */
    size_t nheaders;
    const char *body;              /* len bytes, may be NULL for none */
    size_t body_len;
};

struct ch_cors_cookie {
    const char *name;              /* may hold {token} */
    int third_party;               /* informational: the cookie lives on a cross-site origin */
};

struct ch_cors_block {
    const char *obj;               /* the client object's name */
    enum ch_cors_api api;
    char page;                     /* 'A', 'B' or 'C': the origin whose page runs the program */
    int line;                      /* the section header's line */
    int request_line;              /* the `request` line: client steps carry it */
    const char *method;            /* as the author writes it */
    const char *url;               /* `{A}`, `{B}` or `{C}`, then the path: "{B}/r?x=1" */
    const struct ch_cors_header *headers; /* author headers, in call order (values: bytes) */
    size_t nheaders;
    enum ch_cors_creds credentials;
    enum ch_cors_mode mode;
    int upload;                    /* xhr: listen upload */
    int has_body;
    const char *body;
    size_t body_len;
    struct ch_cors_reply_spec pre, act;
    const struct ch_cors_cookie *cookies;
    size_t ncookies;
};

/* Families of generated expectations, one per word of an `expect cors` section (FORMAT.md §7.3). */
enum ch_cors_family {
    CH_CORS_FAM_CLIENT,  /* events, status, readable headers */
    CH_CORS_FAM_SERVER,  /* which requests, the preflight's headers, Origin, the author's headers */
    CH_CORS_FAM_COOKIES, /* Cookie on the actual request exactly when credentials are included */
};

/* Checks the block and runs the oracle on it; the outcome (free with ch_cors_outcome_free) and the route path
 * go to the caller. Returns 0, or -1 with err. */
int ch_cors_block_check(const struct ch_cors_block *b, struct ch_cors_outcome *out, char *err);

/* Appends the block's routes (OPTIONS → the preflight reply when scripted, METHOD → the actual reply), its
 * client object and steps, and the capabilities it implies (strings: "xhr", "xhr-upload", "fetch",
 * "cookies") to the given arrays; sets *summary to a new object describing the oracle's outcome (MODEL.md
 * §1.4). Returns 0, or -1 with err (nothing appended then). */
int ch_cors_block_compile(const struct ch_cors_block *b, json_t *routes, json_t *objects, json_t *steps,
                          json_t *caps, json_t **summary, char *err);

/* Appends the expectations of one family (MODEL.md §1.3, complete: line, text, rule, spec, level).
 * `level` is "must" or "should"; `note` (may be NULL) is put before every rule text; `pure` says the block's
 * requests are the case's only ones (then an exact `requests` list is generated too). Returns the number of
 * expectations appended, or -1 with err. */
int ch_cors_block_expect(const struct ch_cors_block *b, enum ch_cors_family fam, int line, const char *level,
                         const char *note, int pure, json_t *expect, char *err);

/* The route path of a URL as the block writes it ("{B}/r?x" → "/r") and its origin letter; -1 with err when
 * the URL does not start with {A}, {B} or {C} followed by '/'. */
int ch_cors_url_path(const char *url, char *path, size_t n, char *origin, char *err);

#endif
