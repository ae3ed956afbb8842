/* cors_rules.c — the table of CORS rules the oracle cites (cors.h). One row per decision the oracle can make:
 * a stable id, the rule as a failing verdict states it, and the Fetch Standard section it comes from. */
#include "cors.h"

#define F CH_CORS_FETCH

static const struct ch_cors_rule rules[CH_CORS_R_COUNT] = {
    [CH_CORS_R_SAME_ORIGIN] = {"request/same-origin",
        "a request to the page's own origin uses no CORS protocol: no preflight, every header but Set-Cookie "
        "readable", F "#main-fetch"},
    [CH_CORS_R_NO_CORS_MODE] = {"request/no-cors",
        "mode \"no-cors\" never preflights and yields an opaque response (status 0, no headers)",
        F "#main-fetch"},
    [CH_CORS_R_SAME_ORIGIN_MODE] = {"request/same-origin-mode",
        "mode \"same-origin\" to another origin is a network error before anything is sent", F "#main-fetch"},
    [CH_CORS_R_SIMPLE] = {"preflight/not-needed",
        "a CORS-safelisted method with only CORS-safelisted request-headers and no upload listener is sent "
        "without a preflight", F "#main-fetch"},
    [CH_CORS_R_NEEDS_METHOD] = {"preflight/needed-method",
        "a method that is not a CORS-safelisted method (GET, HEAD, POST, byte for byte) needs a preflight",
        F "#cors-safelisted-method"},
    [CH_CORS_R_NEEDS_HEADERS] = {"preflight/needed-headers",
        "a request with CORS-unsafe request-header names needs a preflight",
        F "#cors-unsafe-request-header-names"},
    [CH_CORS_R_NEEDS_UPLOAD] = {"preflight/needed-upload",
        "listeners on xhr.upload set the use-CORS-preflight flag: a cross-origin request is preflighted",
        "https://xhr.spec.whatwg.org/#the-send()-method"},
    [CH_CORS_R_PREFLIGHT_OK] = {"preflight/ok",
        "the preflight passes: CORS check, ok status, method and headers allowed", F "#cors-preflight-fetch-0"},
    [CH_CORS_R_PREFLIGHT_STATUS] = {"preflight/status-not-ok",
        "a preflight answered with a status outside 200-299 fails: the actual request is never sent",
        F "#ok-status"},
    [CH_CORS_R_PREFLIGHT_REDIRECT] = {"preflight/redirect",
        "a preflight is never redirected: a 3xx is not an ok status, so the actual request is never sent",
        F "#cors-preflight-fetch-0"},
    [CH_CORS_R_ACAM_UNPARSABLE] = {"preflight/acam-unparsable",
        "an Access-Control-Allow-Methods value that does not parse as #method fails the preflight",
        F "#extract-header-list-values"},
    [CH_CORS_R_ACAH_UNPARSABLE] = {"preflight/acah-unparsable",
        "an Access-Control-Allow-Headers value that does not parse as #field-name fails the preflight",
        F "#extract-header-list-values"},
    [CH_CORS_R_METHOD_NOT_ALLOWED] = {"preflight/method-not-allowed",
        "a method that is not CORS-safelisted must be listed in Access-Control-Allow-Methods byte for byte "
        "(or `*` without credentials)", F "#cors-preflight-fetch-0"},
    [CH_CORS_R_METHOD_STAR_CREDENTIALS] = {"preflight/method-star-credentials",
        "Access-Control-Allow-Methods `*` is a wildcard only for requests without credentials",
        F "#cors-preflight-fetch-0"},
    [CH_CORS_R_AUTHORIZATION] = {"preflight/authorization",
        "Authorization must be listed in Access-Control-Allow-Headers by name: `*` never covers it",
        F "#cors-non-wildcard-request-header-name"},
    [CH_CORS_R_HEADER_NOT_ALLOWED] = {"preflight/header-not-allowed",
        "every CORS-unsafe request-header name must be listed in Access-Control-Allow-Headers "
        "(case-insensitive) or covered by `*` without credentials", F "#cors-preflight-fetch-0"},
    [CH_CORS_R_HEADER_STAR_CREDENTIALS] = {"preflight/header-star-credentials",
        "Access-Control-Allow-Headers `*` is a wildcard only for requests without credentials",
        F "#cors-preflight-fetch-0"},
    [CH_CORS_R_CHECK_PASS_STAR] = {"cors-check/star",
        "Access-Control-Allow-Origin `*` passes the CORS check for a request without credentials",
        F "#concept-cors-check"},
    [CH_CORS_R_CHECK_PASS_ORIGIN] = {"cors-check/origin",
        "Access-Control-Allow-Origin equal to the serialized origin passes the CORS check (with credentials "
        "also Access-Control-Allow-Credentials: true)", F "#concept-cors-check"},
    [CH_CORS_R_ACAO_MISSING] = {"cors-check/acao-missing",
        "a response without Access-Control-Allow-Origin fails the CORS check: network error",
        F "#concept-cors-check"},
    [CH_CORS_R_ACAO_STAR_CREDENTIALS] = {"cors-check/acao-star-credentials",
        "Access-Control-Allow-Origin `*` fails the CORS check of a credentialed request: network error",
        F "#concept-cors-check"},
    [CH_CORS_R_ACAO_MISMATCH] = {"cors-check/acao-mismatch",
        "Access-Control-Allow-Origin must be exactly the serialized origin (one header, one value): a list, a "
        "duplicate or any other origin fails the CORS check", F "#concept-cors-check"},
    [CH_CORS_R_ACAC_NOT_TRUE] = {"cors-check/acac-not-true",
        "a credentialed request needs Access-Control-Allow-Credentials to be exactly `true`",
        F "#concept-cors-check"},
    [CH_CORS_R_SHARED] = {"response/shared",
        "the response passed the CORS check: its status and body reach the page", F "#http-fetch"},
    [CH_CORS_R_OPAQUE] = {"response/opaque",
        "an opaque response shows status 0 and no headers", F "#concept-filtered-response-opaque"},
    [CH_CORS_R_EXPOSE_SAFELISTED] = {"expose/safelisted",
        "Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified and Pragma are "
        "always readable", F "#cors-safelisted-response-header-name"},
    [CH_CORS_R_EXPOSE_LISTED] = {"expose/listed",
        "a header named in Access-Control-Expose-Headers is readable", F "#cors-safelisted-response-header-name"},
    [CH_CORS_R_EXPOSE_STAR] = {"expose/star",
        "Access-Control-Expose-Headers `*` without credentials makes every header readable but Set-Cookie",
        F "#main-fetch"},
    [CH_CORS_R_EXPOSE_FORBIDDEN] = {"expose/forbidden",
        "Set-Cookie and Set-Cookie2 are never readable", F "#forbidden-response-header-name"},
    [CH_CORS_R_EXPOSE_NOT_LISTED] = {"expose/not-listed",
        "a header that is neither CORS-safelisted nor named in Access-Control-Expose-Headers is hidden",
        F "#cors-safelisted-response-header-name"},
    [CH_CORS_R_EXPOSE_STAR_LITERAL] = {"expose/star-credentials",
        "with credentials, Access-Control-Expose-Headers `*` names only a header literally called `*`",
        F "#main-fetch"},
    [CH_CORS_R_EXPOSE_UNPARSABLE] = {"expose/aceh-unparsable",
        "an Access-Control-Expose-Headers value that does not parse exposes nothing beyond the safelisted "
        "names", F "#extract-header-list-values"},
    [CH_CORS_R_EXPOSE_BASIC] = {"expose/basic",
        "a same-origin response shows every header but Set-Cookie and Set-Cookie2",
        F "#concept-filtered-response-basic"},
    [CH_CORS_R_EXPOSE_NETWORK_ERROR] = {"expose/network-error",
        "a network error has no headers", F "#concept-network-error"},
    [CH_CORS_R_MAX_AGE] = {"cache/max-age",
        "preflight cache entries live Access-Control-Max-Age seconds (a UA may cap it or evict earlier)",
        F "#cors-preflight-cache"},
    [CH_CORS_R_MAX_AGE_DEFAULT] = {"cache/max-age-default",
        "an absent or unparsable Access-Control-Max-Age (delta-seconds: digits only) means 5 seconds",
        F "#cors-preflight-fetch-0"},
    [CH_CORS_R_PREFLIGHT_REQUEST] = {"preflight/request",
        "the preflight is OPTIONS to the same URL with Accept: */*, Origin, Access-Control-Request-Method (the "
        "normalized method) and Access-Control-Request-Headers (the unsafe names, lowercase, sorted, joined by "
        "',' without spaces; absent when none)", F "#cors-preflight-fetch-0"},
    [CH_CORS_R_PREFLIGHT_NO_CREDENTIALS] = {"preflight/no-credentials",
        "a CORS-preflight request never includes credentials: no Cookie, even for a credentialed request",
        F "#cors-protocol-and-credentials"},
    [CH_CORS_R_CREDENTIALS] = {"request/credentials",
        "a cross-origin request carries cookies only when its credentials mode is \"include\" "
        "(withCredentials)", F "#http-network-or-cache-fetch"},
    [CH_CORS_R_FORBIDDEN_HEADER] = {"request/forbidden-header",
        "a forbidden request-header set by the author is ignored", F "#forbidden-request-header"},
    [CH_CORS_R_ORIGIN_HEADER] = {"request/origin",
        "a CORS request carries an Origin header with the page's serialized origin",
        F "#append-a-request-origin-header"},
    [CH_CORS_R_AUTHOR_HEADERS] = {"request/author-headers",
        "the actual request carries the author's headers (setRequestHeader() joins a repeated name's values "
        "with \", \")", "https://xhr.spec.whatwg.org/#dom-xmlhttprequest-setrequestheader"},
};

const struct ch_cors_rule *ch_cors_rule(enum ch_cors_rule_id id)
{
    static const struct ch_cors_rule bad = {"?", "unknown rule", F};
    return (unsigned)id < CH_CORS_R_COUNT ? &rules[id] : &bad;
}
