/* cors.h — the CORS oracle and the compiler of `cors` sections (the one public header of harness/cors/).
 *
 * The oracle (cors.c, cors_eval.c, cors_reply.c, cors_rules.c): the Fetch Standard's CORS rules as a pure
 * function (no I/O, no clock, no globals) from a request as an author wrote it and the server's scripted replies
 * to what a conforming client does and shows. Sources: the Fetch Standard (https://fetch.spec.whatwg.org/, `whatwg/fetch:fetch.bs`) and, for what
 * XHR does to a request before fetching it, the XMLHttpRequest Standard (open(), setRequestHeader(), send()).
 *
 * Every decision carries the rule that produced it (a stable id, the rule as a verdict states it, and the spec
 * anchor), so a generated expectation and a failing verdict can name it.
 *
 * Byte strings: header values are (pointer, length) pairs and may hold any byte. Names and methods are
 * NUL-terminated. Origins are compared byte for byte, so a case may pass templates such as "{origin-A}" for
 * both the page's origin and an Access-Control-Allow-Origin value: placeholders fill deterministically, and
 * distinct origins fill to distinct bytes (cases/FORMAT.md §7).
 *
 * Errors follow core.h: -1 with a message in err. An error means the input is outside what the oracle models
 * (a method or header that would make open()/setRequestHeader()/Request() throw, a redirect of the actual
 * request, a body's charset rewrite); a case must not rely on such a cell. */
#ifndef CH_CORS_H
#define CH_CORS_H

#include <jansson.h>
#include <stddef.h>

#define CH_CORS_FETCH "https://fetch.spec.whatwg.org/"
#define CH_CORS_DETAIL_LEN 256
#define CH_CORS_SAFELISTED_VALUE_MAX 128  /* bytes of one safelisted request-header value */
#define CH_CORS_SAFELISTED_TOTAL_MAX 1024 /* bytes of all safelisted values together */
#define CH_CORS_DEFAULT_MAX_AGE 5         /* seconds, when Access-Control-Max-Age is absent or unparsable */

/* ---- rules ---------------------------------------------------------------------------------------------- */

enum ch_cors_rule_id {
    /* is a preflight sent (main fetch, HTTP fetch) */
    CH_CORS_R_SAME_ORIGIN,          /* no CORS at all: the URL's origin is the page's */
    CH_CORS_R_NO_CORS_MODE,         /* mode "no-cors": opaque response, never a preflight */
    CH_CORS_R_SAME_ORIGIN_MODE,     /* mode "same-origin" to another origin: network error */
    CH_CORS_R_SIMPLE,               /* safelisted method, no unsafe header, no upload listener: no preflight */
    CH_CORS_R_NEEDS_METHOD,         /* the method is not a CORS-safelisted method */
    CH_CORS_R_NEEDS_HEADERS,        /* CORS-unsafe request-header names is not empty */
    CH_CORS_R_NEEDS_UPLOAD,         /* the use-CORS-preflight flag (XHR upload listeners) */
    /* the preflight's result (CORS-preflight fetch) */
    CH_CORS_R_PREFLIGHT_OK,
    CH_CORS_R_PREFLIGHT_STATUS,     /* not an ok status (200-299) */
    CH_CORS_R_PREFLIGHT_REDIRECT,   /* a 3xx: the preflight never follows a redirect, and 3xx is not ok */
    CH_CORS_R_ACAM_UNPARSABLE,
    CH_CORS_R_ACAH_UNPARSABLE,
    CH_CORS_R_METHOD_NOT_ALLOWED,
    CH_CORS_R_METHOD_STAR_CREDENTIALS, /* ACAM `*` does not cover a credentialed request */
    CH_CORS_R_AUTHORIZATION,        /* Authorization needs to be listed: `*` never covers it */
    CH_CORS_R_HEADER_NOT_ALLOWED,
    CH_CORS_R_HEADER_STAR_CREDENTIALS, /* ACAH `*` does not cover a credentialed request */
    /* CORS check (preflight and actual response) */
    CH_CORS_R_CHECK_PASS_STAR,
    CH_CORS_R_CHECK_PASS_ORIGIN,
    CH_CORS_R_ACAO_MISSING,
    CH_CORS_R_ACAO_STAR_CREDENTIALS,
    CH_CORS_R_ACAO_MISMATCH,        /* not the serialized origin byte for byte (lists, duplicates included) */
    CH_CORS_R_ACAC_NOT_TRUE,
    /* what the client sees */
    CH_CORS_R_SHARED,               /* the response is shared: its status reaches the page */
    CH_CORS_R_OPAQUE,               /* no-cors: status 0, no headers */
    /* exposure (CORS filtered response) */
    CH_CORS_R_EXPOSE_SAFELISTED,    /* one of the 7 CORS-safelisted response-header names */
    CH_CORS_R_EXPOSE_LISTED,        /* named by Access-Control-Expose-Headers */
    CH_CORS_R_EXPOSE_STAR,          /* ACEH `*` without credentials: every name */
    CH_CORS_R_EXPOSE_FORBIDDEN,     /* Set-Cookie / Set-Cookie2: never */
    CH_CORS_R_EXPOSE_NOT_LISTED,
    CH_CORS_R_EXPOSE_STAR_LITERAL,  /* ACEH `*` with credentials names only a header called `*` */
    CH_CORS_R_EXPOSE_UNPARSABLE,    /* ACEH that does not parse exposes nothing beyond the 7 */
    CH_CORS_R_EXPOSE_BASIC,         /* same origin: every header but Set-Cookie */
    CH_CORS_R_EXPOSE_NETWORK_ERROR, /* a network error has no headers */
    /* preflight cache (CORS-preflight fetch, CORS-preflight cache) */
    CH_CORS_R_MAX_AGE,
    CH_CORS_R_MAX_AGE_DEFAULT,      /* absent or unparsable: 5 seconds */
    /* the request as it goes out */
    CH_CORS_R_PREFLIGHT_REQUEST,    /* OPTIONS, Accept: * / *, Origin, ACRM, ACRH */
    CH_CORS_R_PREFLIGHT_NO_CREDENTIALS, /* a preflight never carries cookies */
    CH_CORS_R_CREDENTIALS,          /* the actual request carries credentials exactly when mode is include */
    CH_CORS_R_FORBIDDEN_HEADER,     /* setRequestHeader()/Headers ignore a forbidden request-header */
    CH_CORS_R_ORIGIN_HEADER,        /* a CORS request carries Origin: the page's serialized origin */
    CH_CORS_R_AUTHOR_HEADERS,       /* the actual request carries the author's headers */
    CH_CORS_R_COUNT
};

struct ch_cors_rule {
    const char *id;     /* stable short name, e.g. "preflight/method-not-allowed" */
    const char *text;   /* the rule as a verdict states it */
    const char *anchor; /* the spec section: a full URL */
};

/* The rule's row (never NULL for a valid id). */
const struct ch_cors_rule *ch_cors_rule(enum ch_cors_rule_id id);

/* A decision: the rule that made it, and what in this input made it so (one line, may be empty). */
struct ch_cors_decision {
    enum ch_cors_rule_id rule;
    char detail[CH_CORS_DETAIL_LEN];
};

/* ---- inputs --------------------------------------------------------------------------------------------- */

struct ch_cors_header {
    const char *name;  /* NUL-terminated */
    const char *value; /* len bytes */
    size_t len;
};

enum ch_cors_api { CH_CORS_XHR, CH_CORS_FETCH_API };
enum ch_cors_mode { CH_CORS_MODE_CORS, CH_CORS_MODE_NO_CORS, CH_CORS_MODE_SAME_ORIGIN };
enum ch_cors_creds { CH_CORS_CREDS_OMIT, CH_CORS_CREDS_SAME_ORIGIN, CH_CORS_CREDS_INCLUDE };

struct ch_cors_request {
    enum ch_cors_api api;        /* XHR combines repeated headers; fetch() appends them */
    const char *origin;          /* the page's serialized origin (request's origin) */
    const char *url_origin;      /* the URL's serialized origin */
    const char *method;          /* as the author wrote it */
    const struct ch_cors_header *headers; /* author headers, in call order */
    size_t nheaders;
    enum ch_cors_creds credentials; /* XHR: include with withCredentials, else same-origin */
    enum ch_cors_mode mode;      /* XHR: always cors */
    int upload_listeners;        /* XHR: listeners on xhr.upload when send() ran */
    int body;                    /* a string body is sent (send(text) / fetch body) */
};

struct ch_cors_reply {
    int status;
    const struct ch_cors_header *headers; /* in wire order, duplicates kept */
    size_t nheaders;
};

/* ---- outcome -------------------------------------------------------------------------------------------- */

struct ch_cors_names {
    char **v; /* malloc'd strings */
    size_t n;
};

/* One distinct header name of the actual reply and whether script can read it. */
struct ch_cors_exposure {
    char *name;  /* lowercase */
    char *value; /* the combined value `get` returns (values joined by ", "), NUL-terminated; len bytes */
    size_t len;
    int exposed;
    struct ch_cors_decision why;
};

struct ch_cors_outcome {
    char *method;                    /* the method on the wire (normalized) */
    struct ch_cors_names dropped;    /* author header names ignored as forbidden request-headers */
    int cross_origin;
    int preflight;                   /* a CORS-preflight request is sent (the cache is assumed empty) */
    struct ch_cors_decision why_preflight;
    char *acrm;                      /* Access-Control-Request-Method; NULL without a preflight */
    char *acrh;                      /* Access-Control-Request-Headers; NULL when absent */
    int preflight_ok;
    struct ch_cors_decision preflight_result; /* with a preflight: why it passed or failed */
    long max_age;                    /* seconds the preflight's cache entries live; -1 without one */
    struct ch_cors_decision max_age_rule;
    int actual_sent;                 /* the actual request reaches the server */
    int credentials;                 /* the actual request includes credentials (cookies) */
    int network_error;               /* the client sees a network error */
    int opaque;                      /* no-cors: an opaque response */
    int status;                      /* what `status` shows: 0 on a network error or an opaque response */
    struct ch_cors_decision result;  /* why the client sees what it sees */
    struct ch_cors_exposure *headers; /* the actual reply's names, sorted; empty on a network error */
    size_t nheaders;
};

/* Runs the whole algorithm. `pre` may be NULL when the case scripts no preflight reply (an error if the oracle
 * says a preflight is sent); `act` is the actual reply. Returns 0 and fills *out (free it with
 * ch_cors_outcome_free, also after an error), or -1 with err. */
int ch_cors_evaluate(const struct ch_cors_request *rq, const struct ch_cors_reply *pre, const struct ch_cors_reply *act,
                     struct ch_cors_outcome *out, char *err);
void ch_cors_outcome_free(struct ch_cors_outcome *o);

/* ---- the rule families, for tests and for the case generator ------------------------------------------- */

/* Methods (Fetch "Methods"). A method is a token; `CONNECT`, `TRACE`, `TRACK` (any case) are forbidden. */
int ch_cors_is_method(const char *m);
int ch_cors_forbidden_method(const char *m);
/* DELETE GET HEAD OPTIONS POST PUT in any case are upper-cased; any other method is kept as written.
 * Returns a malloc'd copy. */
char *ch_cors_normalize_method(const char *m);
/* GET, HEAD, POST, byte for byte (after normalization). */
int ch_cors_safelisted_method(const char *m);

/* Request headers (Fetch "Headers"). */
int ch_cors_unsafe_byte(unsigned char b);
int ch_cors_is_header_name(const char *name);
int ch_cors_forbidden_request_header(const char *name, const char *value, size_t len);
int ch_cors_safelisted_request_header(const char *name, const char *value, size_t len);
/* The essence ("type/subtype", lowercase) of "parse a MIME type" (MIME Sniffing), into out (n bytes).
 * Returns 0, or -1 when parsing fails or the essence does not fit. */
int ch_cors_mime_essence(const char *value, size_t len, char *out, size_t n);
/* "Parse a single range header value" with allowWhitespace false. Returns 1 and the bounds (-1 for null),
 * or 0 on failure. */
int ch_cors_parse_range(const char *value, size_t len, long long *start, long long *end);
/* CORS-unsafe request-header names: lowercase, sorted (byte order), unique. */
void ch_cors_unsafe_names(const struct ch_cors_header *h, size_t n, struct ch_cors_names *out);
/* The names joined by "," with no spaces (the ACRH value); "" for none. malloc'd. */
char *ch_cors_join(const struct ch_cors_names *names);

/* Response headers. "get": the values of every header named `name` (case-insensitive), normalized and joined
 * by ", "; NULL when there is none (*len gets the length). malloc'd. */
char *ch_cors_get(const struct ch_cors_header *h, size_t n, const char *name, size_t *len);

enum ch_cors_abnf { CH_CORS_LIST_METHOD, CH_CORS_LIST_FIELD_NAME, CH_CORS_DELTA_SECONDS };
/* "Extract header list values" for `name` parsed per its ABNF (`#method`, `#field-name`, or the single
 * `delta-seconds`). Returns 1 (null: no such header), 0 with the values in *out, or -1 (failure). */
int ch_cors_extract(const struct ch_cors_header *h, size_t n, const char *name, enum ch_cors_abnf abnf,
                    struct ch_cors_names *out);

/* CORS check (Fetch "CORS check"). Returns 1 (success) or 0 (failure), the reason in *why. */
int ch_cors_check(const struct ch_cors_header *h, size_t n, const char *origin, int include,
                  struct ch_cors_decision *why);

/* The CORS-preflight fetch's checks on a reply, for a request whose method is already normalized and whose
 * header list is final. Returns 1 (success, *max_age set) or 0, the reason in *why. */
int ch_cors_preflight_check(const char *method, const struct ch_cors_header *req, size_t nreq,
                            const char *origin, int include, int use_preflight_flag,
                            const struct ch_cors_reply *reply, long *max_age, struct ch_cors_decision *why);

/* Access-Control-Max-Age as the preflight fetch reads it: the value, or 5 when absent or unparsable. */
long ch_cors_max_age(const struct ch_cors_header *h, size_t n, struct ch_cors_decision *why);

/* Exposure of the actual reply's headers (main fetch's CORS-exposed header-name list, CORS filtered
 * response). Fills out->headers / nheaders. `basic` for a same-origin response. */
void ch_cors_exposure(const struct ch_cors_reply *reply, int include, int basic, struct ch_cors_outcome *out);

void ch_cors_names_free(struct ch_cors_names *n);
int ch_cors_names_has(const struct ch_cors_names *n, const char *s, int nocase);


/* ---- `cors` sections (cors_case.c, cors_expect.c) ---------------------------------------------------------- */

/* A `cors` section of a case (cases/FORMAT.md §7) compiled into case JSON (harness/MODEL.md §1): the server
 * routes that serve its preflight and actual replies, the client program that makes the request, and, for
 * `expect cors`, the expectations the oracle above computes for the cell. Nothing here reads a file or knows the
 * case language's syntax: the parser (harness/case/script_cors.c) fills a struct ch_cors_block from the
 * section's lines and calls these functions.
 *
 * Placeholders: a reply header value may hold the placeholders an expected value may hold (its value is also
 * what script reads back); Access-Control-Allow-Origin is compared with the page's origin as templates after
 * writing `{origin-X}` as `http://{host-X}` (distinct origins fill to distinct bytes). Request header values,
 * request and reply bodies, and the CORS list headers (Allow-Methods, Allow-Headers, Expose-Headers,
 * Allow-Credentials, Max-Age) hold none: the oracle reads their bytes. */

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
