/* script_cors.c — `cors` sections (cases/FORMAT.md §7.1) and the lines of `expect cors` (§7.3).
 *
 * A cors section's lines fill a struct ch_cors_block (harness/cors/cors.h); cors_case.c compiles it into routes, a
 * client object with its steps, capabilities and the case's `cors` summary, and cors_expect.c turns each
 * `expect cors` line into the oracle's expectations. This file only reads words and reports where they are
 * wrong; every CORS rule lives in cors*.c. The block's strings are owned by the cell (sc_cors_free). */
#include <stdlib.h>
#include <string.h>

#include "cors/cors.h"
#include "script_int.h"
#include "core/core.h"

#define MAX_HEADERS 64
#define MAX_COOKIES 8

struct sc_cors {
    struct ch_cors_block b;
    char name[SC_NAME_LEN];
    int line, nroutes;
    struct ch_cors_header req[MAX_HEADERS], pre[MAX_HEADERS], act[MAX_HEADERS];
    struct ch_cors_cookie cookies[MAX_COOKIES];
    int seen_request, seen_creds, seen_mode, seen_body, seen_status[2], seen_rbody[2];
    char **owned; /* every string the block points to */
    size_t nowned;
};

static char *own(struct sc_cors *s, const char *p, size_t n)
{
    s->owned = ch_xrealloc(s->owned, (s->nowned + 1) * sizeof *s->owned);
    s->owned[s->nowned] = ch_xstrndup(p, n);
    return s->owned[s->nowned++];
}

static int once(struct pctx *c, const struct stmt *st, int *seen, const char *what)
{
    if ((*seen)++) return sc_err_word(c, st, 0, "a second '%s' line in one cors section", what);
    return 0;
}

/* ---- the request ---------------------------------------------------------------------------------- */

static int it_request(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    size_t n;
    if (sc_args(c, st, 2, 2, "request METHOD URL") < 0 || once(c, st, &s->seen_request, "request") < 0) return -1;
    const char *m = sc_word(st, 1, &n);
    s->b.method = own(s, m, n);
    s->b.request_line = st->ln->src->no;
    json_t *url = sc_text(c, st, 2, "client");
    if (!url) return -1;
    s->b.url = own(s, json_string_value(url), json_string_length(url));
    json_decref(url);
    char path[256], origin, err[CH_ERR_LEN];
    if (ch_cors_url_path(s->b.url, path, sizeof path, &origin, err) < 0) return sc_err_word(c, st, 2, "%s", err);
    return 0;
}

static int it_header(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    size_t n;
    if (sc_args(c, st, 2, 2, "header NAME VALUE") < 0) return -1;
    if (s->b.nheaders == MAX_HEADERS) return sc_err_word(c, st, 0, "more than %d request headers", MAX_HEADERS);
    const char *name = sc_word(st, 1, &n);
    json_t *v = sc_text(c, st, 2, NULL);
    if (!v) return -1;
    s->req[s->b.nheaders++] = (struct ch_cors_header){own(s, name, n), own(s, json_string_value(v), json_string_length(v)),
                                                      json_string_length(v)};
    json_decref(v);
    return 0;
}

static int pick(struct pctx *c, const struct stmt *st, const char *const *words, const char *usage)
{
    if (sc_args(c, st, 1, 1, usage) < 0) return -1;
    for (int i = 0; words[i]; i++)
        if (sc_is(st, 1, words[i])) return i;
    return sc_err_word(c, st, 1, "write: %s", usage);
}

static int it_credentials(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    static const char *const w[] = {"omit", "same-origin", "include", NULL};
    int k = pick(c, st, w, "credentials omit|same-origin|include");
    if (k < 0 || once(c, st, &s->seen_creds, "credentials") < 0) return -1;
    s->b.credentials = (enum ch_cors_creds)k;
    return 0;
}

static int it_mode(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    static const char *const w[] = {"cors", "no-cors", "same-origin", NULL};
    int k = pick(c, st, w, "mode cors|no-cors|same-origin");
    if (k < 0 || once(c, st, &s->seen_mode, "mode") < 0) return -1;
    s->b.mode = (enum ch_cors_mode)k;
    return 0;
}

static int it_listen(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    static const char *const w[] = {"upload", NULL};
    if (pick(c, st, w, "listen upload") < 0) return -1;
    s->b.upload = 1;
    return 0;
}

static int it_body(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    char *b;
    size_t n;
    if (sc_args(c, st, 1, 1, "body STRING") < 0 || once(c, st, &s->seen_body, "body") < 0) return -1;
    if (sc_string(c, st, 1, &b, &n) < 0) return -1;
    s->b.has_body = 1;
    s->b.body = own(s, b, n);
    s->b.body_len = n;
    free(b);
    return 0;
}

static int it_cookie(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    size_t n;
    if (sc_args(c, st, 1, 2, "cookie NAME [third-party]") < 0) return -1;
    if (sc_nwords(st) == 3 && !sc_is(st, 2, "third-party")) return sc_err_word(c, st, 2, "write: cookie NAME [third-party]");
    if (s->b.ncookies == MAX_COOKIES) return sc_err_word(c, st, 0, "more than %d cookies", MAX_COOKIES);
    const char *name = sc_word(st, 1, &n);
    s->cookies[s->b.ncookies++] = (struct ch_cors_cookie){own(s, name, n), sc_nwords(st) == 3};
    return 0;
}

/* ---- the replies: `preflight|actual status CODE [REASON...]`, `... header NAME: VALUE`, `... body STRING` */

static int reply_header(struct pctx *c, const struct stmt *st, struct sc_cors *s, struct ch_cors_reply_spec *r,
                        struct ch_cors_header *arr)
{
    const char *t = st->ln->text;
    size_t start = sc_off(st, 2), i = start, len = st->ln->len;
    if (r->nheaders == MAX_HEADERS) return sc_err_word(c, st, 2, "more than %d headers in a reply", MAX_HEADERS);
    while (i < len && t[i] != ':' && t[i] != ' ') i++;
    if (i == start || i >= len || t[i] != ':')
        return sc_err(c, st->ln, i, "a bad header (write: %.*s header NAME: VALUE)", (int)sc_off(st, 1), t);
    size_t v = i + 1;
    if (v < len && t[v] != ' ') return sc_err(c, st->ln, v, "a space after the colon (write: NAME: VALUE)");
    if (v < len) v++;
    if (sc_tmpl(c, st->ln, v, t + v, len - v, "expect", 1) < 0) return -1;
    arr[r->nheaders++] = (struct ch_cors_header){own(s, t + start, i - start), own(s, t + v, len - v), len - v};
    return 0;
}

static int it_reply(struct pctx *c, const struct stmt *st, struct sc_cors *s)
{
    int k = sc_is(st, 0, "actual");
    struct ch_cors_reply_spec *r = k ? &s->b.act : &s->b.pre;
    long code;
    char *b;
    size_t n;
    if (!r->present) r->line = st->ln->src->no;
    r->present = 1;
    if (sc_is(st, 1, "status")) {
        if (sc_nwords(st) < 3) return sc_err_word(c, st, 2, "write: %s status CODE [REASON...]", k ? "actual" : "preflight");
        if (once(c, st, &s->seen_status[k], k ? "actual status" : "preflight status") < 0) return -1;
        if (sc_int(c, st, 2, 200, 999, &code, "status code") < 0) return -1;
        size_t at = sc_nwords(st) > 3 ? sc_off(st, 3) : st->ln->len;
        r->status = (int)code;
        r->reason = own(s, st->ln->text + at, st->ln->len - at);
        return 0;
    }
    if (sc_is(st, 1, "header")) return reply_header(c, st, s, r, k ? s->act : s->pre);
    if (sc_is(st, 1, "body")) {
        if (sc_args(c, st, 2, 2, "body STRING") < 0 || once(c, st, &s->seen_rbody[k], "body") < 0) return -1;
        if (sc_string(c, st, 2, &b, &n) < 0) return -1;
        r->body = own(s, b, n);
        r->body_len = n;
        free(b);
        return 0;
    }
    return sc_err_word(c, st, 1, "write: %s status|header|body ...", k ? "actual" : "preflight");
}

/* Lines of a cors section: one row per word (FORMAT.md §7.1). */
static const struct {
    const char *word;
    int (*parse)(struct pctx *, const struct stmt *, struct sc_cors *);
} cors_rows[] = {
    {"request", it_request},     {"header", it_header}, {"credentials", it_credentials}, {"mode", it_mode},
    {"listen", it_listen},       {"body", it_body},     {"preflight", it_reply},         {"actual", it_reply},
    {"cookie", it_cookie},
};

void sc_cors_words(json_t *vocab)
{
    for (size_t r = 0; r < sizeof cors_rows / sizeof cors_rows[0]; r++) sc_vocab_add(vocab, "cors", cors_rows[r].word);
}

/* `cors xhr|fetch [NAME]`: a new block, or NULL after an error. */
static struct sc_cors *cors_header(struct pctx *c, const struct stmt *h)
{
    size_t n;
    if (sc_args(c, h, 1, 2, "cors xhr|fetch [NAME]") < 0) return NULL;
    int fetch = sc_is(h, 1, "fetch");
    if (!fetch && !sc_is(h, 1, "xhr")) return sc_err_word(c, h, 1, "a cors section is xhr or fetch"), NULL;
    const char *w = sc_word(h, sc_nwords(h) - 1, &n);
    if (!sc_is_name(w, n)) return sc_err_word(c, h, 2, "a bad object name (write [A-Za-z][A-Za-z0-9_-]*)"), NULL;
    if (sc_find_obj(c, w, n)) return sc_err_word(c, h, sc_nwords(h) - 1, "a second object named '%.*s'", (int)n, w), NULL;
    if (c->nobj == SC_MAX_OBJECTS) return sc_err_word(c, h, 0, "more than %d client objects", SC_MAX_OBJECTS), NULL;
    struct sc_cors *s = ch_xcalloc(1, sizeof *s);
    snprintf(s->name, sizeof s->name, "%.*s", (int)n, w);
    s->line = h->ln->src->no;
    s->b.obj = s->name;
    s->b.api = fetch ? CH_CORS_FETCH_API : CH_CORS_XHR;
    s->b.page = c->page[0];
    s->b.line = s->line;
    s->b.credentials = CH_CORS_CREDS_SAME_ORIGIN;
    s->b.mode = CH_CORS_MODE_CORS;
    s->b.headers = s->req;
    s->b.pre.headers = s->pre;
    s->b.act.headers = s->act;
    s->b.cookies = s->cookies;
    return s;
}

static void keep(struct pctx *c, struct sc_cors *s)
{
    c->cors = ch_xrealloc(c->cors, (c->ncors + 1) * sizeof *c->cors);
    c->cors[c->ncors++] = s;
}

static void free_block(struct sc_cors *s)
{
    for (size_t i = 0; i < s->nowned; i++) free(s->owned[i]);
    free(s->owned);
    free(s);
}

void sc_cors_free(struct pctx *c)
{
    for (size_t i = 0; i < c->ncors; i++) free_block(c->cors[i]);
    free(c->cors);
    c->cors = NULL;
    c->ncors = 0;
    json_decref(c->cors_json);
    c->cors_json = NULL;
}

/* Registers the object (so `expect client NAME` finds it) and the capabilities the block implies. */
static void register_object(struct pctx *c, struct sc_cors *s, json_t *caps)
{
    struct cobj *o = &c->obj[c->nobj++];
    size_t i;
    json_t *v;
    snprintf(o->name, sizeof o->name, "%s", s->name);
    o->kind = s->b.api == CH_CORS_XHR ? KIND_XHR : KIND_FETCH;
    o->listened = json_array();
    json_array_foreach(caps, i, v) {
        for (unsigned k = 0; k < CAP_COUNT; k++)
            if (!strcmp(json_string_value(v), sc_cap_names[k])) c->caps |= 1u << k;
    }
}

void sc_cors_section(struct pctx *c, struct section *sec)
{
    struct sc_cors *s;
    char err[CH_ERR_LEN];
    c->nclient++;
    if (!(s = cors_header(c, &sec->head))) return;
    int before = c->errors;
    for (size_t i = 0; i < sec->nitems; i++) {
        const struct stmt *st = &sec->items[i];
        size_t r = 0, n;
        sc_no_attachments(c, st);
        while (r < sizeof cors_rows / sizeof cors_rows[0] && !sc_is(st, 0, cors_rows[r].word)) r++;
        if (r == sizeof cors_rows / sizeof cors_rows[0]) {
            const char *w = sc_word(st, 0, &n);
            sc_err_word(c, st, 0, "unknown cors line '%.*s' (request header credentials mode listen body preflight "
                        "actual cookie)", (int)(n > 40 ? 40 : n), w);
            continue;
        }
        cors_rows[r].parse(c, st, s);
    }
    if (!s->seen_request) sc_err_word(c, &sec->head, 0, "a cors section needs a 'request METHOD URL' line");
    else if (!s->seen_status[1]) sc_err_word(c, &sec->head, 0, "a cors section needs an 'actual status CODE' line");
    else if (s->b.pre.present && !s->seen_status[0])
        sc_err_word(c, &sec->head, 0, "preflight lines need a 'preflight status CODE' line");
    if (c->errors != before) {
        free_block(s);
        return;
    }
    json_t *caps = json_array(), *summary = NULL;
    size_t nroutes = json_array_size(c->routes);
    if (ch_cors_block_compile(&s->b, c->routes, c->objects, c->steps, caps, &summary, err) < 0) {
        sc_err_word(c, &sec->head, 0, "%s", err);
        json_decref(caps);
        free_block(s);
        return;
    }
    s->nroutes = (int)(json_array_size(c->routes) - nroutes);
    register_object(c, s, caps);
    json_decref(caps);
    if (!c->cors_json) c->cors_json = json_array();
    json_array_append_new(c->cors_json, summary);
    keep(c, s);
}

/* ---- expect cors [NAME] (FORMAT.md §7.3) ---------------------------------------------------------- */

static struct sc_cors *find_block(struct pctx *c, const char *name)
{
    for (size_t i = 0; i < c->ncors; i++)
        if (!strcmp(c->cors[i]->name, name)) return c->cors[i];
    return NULL;
}

/* `expect cors [NAME]`: the cors section's object, or the only one when NAME is left out. */
int sc_cors_expect_header(struct pctx *c, const struct stmt *h, const struct cobj **o)
{
    size_t n;
    const char *w = sc_word(h, 2, &n);
    if (sc_args(c, h, 1, 2, "expect cors [NAME]") < 0) return -1;
    if (!w && c->ncors != 1)
        return sc_err_word(c, h, 1, c->ncors ? "name the cors section: expect cors NAME (the case has %zu)"
                                             : "there is no cors section to check%.0zu", c->ncors);
    const char *name = w ? NULL : c->cors[0]->name;
    char buf[SC_NAME_LEN];
    if (w) snprintf(buf, sizeof buf, "%.*s", (int)(n < SC_NAME_LEN ? n : SC_NAME_LEN - 1), w), name = buf;
    if (!find_block(c, name)) return sc_err_word(c, h, 2, "no cors section named '%s'", name);
    *o = sc_find_obj(c, name, strlen(name));
    return 0;
}

/* One `expect cors` line (client, server, cookies): the family's expectations, with the line's `level` and
 * `rule` attachments applied to each. */
int sc_cors_expect_line(struct pctx *c, const struct stmt *st, const struct cobj *o, json_t *unused)
{
    static const char *const fams[] = {"client", "server", "cookies"};
    const char *level = "must";
    char *note = NULL, err[CH_ERR_LEN];
    size_t bl;
    int fam = 0, rc = 0;
    while (fam < 3 && !sc_is(st, 0, fams[fam])) fam++;
    if (fam == 3 || sc_args(c, st, 0, 0, "client | server | cookies") < 0)
        return fam == 3 ? sc_err_word(c, st, 0, "an expect cors line is client, server or cookies") : -1;
    for (size_t i = 0; i < st->natt && rc == 0; i++) {
        struct stmt a = {.ln = st->att[i]};
        if (sc_is(&a, 0, "level") && sc_args(c, &a, 1, 1, "level must|should") == 0 &&
            (sc_is(&a, 1, "must") || sc_is(&a, 1, "should")))
            level = sc_is(&a, 1, "must") ? "must" : "should";
        else if (sc_is(&a, 0, "rule") && sc_args(c, &a, 1, 1, "rule \"TEXT\"") == 0 && !note)
            rc = sc_string(c, &a, 1, &note, &bl);
        else
            rc = sc_err_word(c, &a, 0, "an expect cors line takes level and rule (its spec comes from the oracle)");
    }
    struct sc_cors *s = o ? find_block(c, o->name) : NULL;
    if (!s) { /* the header was in error: the line's words are checked, nothing is generated */
        free(note);
        return -1;
    }
    int pure = c->ncors == 1 && c->nobj == 1 && (int)json_array_size(c->routes) == s->nroutes;
    if (rc == 0 && ch_cors_block_expect(&s->b, (enum ch_cors_family)fam, st->ln->src->no, level, note, pure, c->expect,
                                        err) < 0)
        rc = sc_err_word(c, st, 0, "%s", err);
    free(note);
    return rc;
}
