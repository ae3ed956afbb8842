/* tokens.c — a token is one run of a case (fixtures/PROTOCOL.md §1): its id in every URL the case uses, its
 * transcript, its placeholder values, and what a client is handed to run it. */
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_int.h"
#include "judge/judge.h"

/* {A}, {origin-A}, {host-A}, {port-A} ... for every origin served, for this token (cases/FORMAT.md §1.8): each name's
 * first origin (origins.c); a fault listener's are set when it opens (ch_faults_open). */
static void set_origin_vars(struct ch_server *srv, json_t *vars, const char *token)
{
    for (int i = 0; i < srv->norigins; i++) {
        const struct ch_run_origin *o = &srv->origins[i];
        char key[48], url[400];
        if (o->token || json_object_get(vars, o->name)) continue; /* a token's fault listener; a second name */
        snprintf(url, sizeof url, "%s/c/%s", o->url, token);
        json_object_set_new(vars, o->name, json_string(url));
        snprintf(key, sizeof key, "origin-%s", o->name);
        json_object_set_new(vars, key, json_string(o->url));
        snprintf(key, sizeof key, "host-%s", o->name);
        json_object_set_new(vars, key, json_string(o->hostport));
        snprintf(key, sizeof key, "port-%s", o->name);
        snprintf(url, sizeof url, "%d", o->port);
        json_object_set_new(vars, key, json_string(url));
    }
}

/* {page-url}: the URL of the case page a browser runs this token's program in, the program's `page_url`, which
 * fixtures/page.js opens: the page origin's /_h/static/case.html with the token (and the run), and for `page X
 * windows-1252` charset=windows-1252, which static.c serves it with. A relative URL a program passes to a constructor resolves against it (cases/FORMAT.md
 * §1.8). */
static void set_page_url(struct ch_server *srv, json_t *vars, const struct ch_case *k, const struct ch_run *run,
                         const char *token)
{
    const char *page = json_string_value(json_object_get(k->json, "page"));
    int pi = page ? ch_origin_by_name(page, strlen(page)) : CH_ORIGIN_A;
    const struct ch_run_origin *po = pi >= 0 ? ch_origin_named(srv, ch_origin_name(pi)) : NULL;
    char url[600];
    if (!po) return;
    /* `page X windows-1252` (FORMAT.md §2): a case page whose document's encoding is windows-1252. */
    const char *enc = json_object_get(k->json, "page_encoding") ? "charset=windows-1252&" : "";
    int n = snprintf(url, sizeof url, "%s/_h/static/case.html?%stoken=%s%s%s", po->url, enc, token,
                     run ? "&run=" : "", run ? run->id : "");
    if (n > 0 && (size_t)n < sizeof url) json_object_set_new(vars, "page-url", json_string(url));
}

struct ch_token *ch_token_new(struct ch_server *srv, struct ch_case *k, struct ch_run *run)
{
    struct ch_token *t = ch_xcalloc(1, sizeof *t);
    /* 32 random bits: a page of another site that sends requests to a case URL must guess them (README,
     * "Security"), since it cannot read any page or reply that names a token. */
    uint32_t rnd;
    evutil_secure_rng_get_bytes(&rnd, sizeof rnd);
    snprintf(t->id, sizeof t->id, "t%llu-%08x", (unsigned long long)++srv->next_token, (unsigned)rnd);
    t->kase = k;
    t->run = run;
    t->t0_us = ch_now_us();
    t->tr = ch_transcript_new(srv->arena, t->id, k->id, t->t0_us);
    t->counts = json_object();
    t->vars = json_pack("{s:s, s:s}", "token", t->id, "case", k->id);
    set_origin_vars(srv, t->vars, t->id);
    set_page_url(srv, t->vars, k, run, t->id);
    if (ch_faults_open(srv, t, k->uses, t->error) < 0) ch_faults_close(t);
    ch_map_set(srv->tokens, t->id, t);
    return t;
}

void ch_token_free(struct ch_token *t)
{
    if (!t) return;
    ch_faults_close(t);
    ch_transcript_free(t->tr);
    json_decref(t->vars);
    json_decref(t->counts);
    json_decref(t->observations);
    json_decref(t->verdict);
    json_decref(t->judged);
    free(t);
}

/* Multiplies a duration (MODEL.md §1.2) by the time scale. */
static void scale_ms(json_t *obj, json_t *ms, void *srv)
{
    (void)obj;
    json_integer_set(ms, ch_scale_ms(json_integer_value(ms), ((struct ch_server *)srv)->scale));
}

json_t *ch_token_program(struct ch_server *srv, struct ch_token *t, char *err)
{
    const json_t *k = t->kase->json;
    if (t->error[0]) return (ch_errf(err, "%s", t->error), NULL);
    json_t *p = ch_tmpl_fill_json(json_object_get(k, "client"), t->vars, srv->scale, err);
    if (!p) return NULL;
    ch_json_each_ms(p, scale_ms, srv);
    const char *page = json_string_value(json_object_get(k, "page"));
    int pi = page ? ch_origin_by_name(page, strlen(page)) : CH_ORIGIN_A;
    const struct ch_run_origin *po = pi >= 0 ? ch_origin_named(srv, ch_origin_name(pi)) : NULL;
    if (!po) {
        json_decref(p);
        return (ch_errf(err, "the page's origin %s is not served (no run folder: no TLS origins)", page), NULL);
    }
    char result[400];
    snprintf(result, sizeof result, "%s/_h/result?token=%s", po->url, t->id);
    json_object_set_new(p, "token", json_string(t->id));
    json_object_set(p, "case", json_object_get(k, "id"));
    json_object_set(p, "title", json_object_get(k, "title"));
    json_object_set(p, "tags", json_object_get(k, "tags"));
    json_object_set(p, "needs", json_object_get(k, "needs"));
    json_object_set_new(p, "page", json_string(po->url));
    if (json_object_get(t->vars, "page-url")) json_object_set(p, "page_url", json_object_get(t->vars, "page-url"));
    /* Pages on SA, SB, SC and D run in a top-level window (cases/FORMAT.md §2 `page`, PROTOCOL.md §2). */
    json_object_set_new(p, "top_level", json_boolean(pi >= CH_ORIGIN_SA));
    /* `page X sandboxed`: an iframe with sandbox="allow-scripts", whose document has an opaque origin. */
    json_object_set_new(p, "sandboxed", json_boolean(json_is_true(json_object_get(k, "page_sandboxed"))));
    /* `global worker`: the case page runs the program in a dedicated worker (FORMAT.md §2, PROTOCOL.md §2). */
    json_t *global = json_object_get(k, "global");
    if (global) json_object_set(p, "global", global);
    /* `global worker from PATH`: the worker's script is the case's route PATH on the page's origin. */
    const char *from = json_string_value(json_object_get(k, "worker_from"));
    if (from) json_object_set_new(p, "worker_url", json_sprintf("%s/c/%s%s", po->url, t->id, from));
    json_object_set_new(p, "origins", ch_origins_json(srv, 0));
    json_object_set_new(p, "deadline_ms",
                        json_integer(ch_scale_ms(json_integer_value(json_object_get(k, "deadline_ms")), srv->scale)));
    json_object_set_new(p, "settle_ms",
                        json_integer(ch_scale_ms(json_integer_value(json_object_get(k, "settle_ms")), srv->scale)));
    json_object_set_new(p, "result", json_string(result));
    /* Where a step may throw (MODEL.md §1.2): anywhere else an exception ends the program at once. */
    json_object_set_new(p, "exceptions", ch_judge_allowed_exceptions(k));
    return p;
}

json_t *ch_token_verdict(const struct ch_token *t, int full)
{
    json_t *v = json_deep_copy(t->verdict);
    if (full) {
        json_object_set_new(v, "observations", t->observations ? json_incref(t->observations) : json_null());
        json_object_set_new(v, "transcript", t->judged ? json_incref(t->judged) : ch_transcript_json(t->tr));
        json_object_set(v, "vars", t->vars);
    }
    return v;
}

/* The case was handed out `age_ms` ago (pytest bounds a case from that moment). */
json_t *ch_token_pending(const struct ch_token *t)
{
    return json_pack("{s:s, s:b, s:s, s:I}", "status", "PENDING", "issued", 1, "token", t->id, "age_ms",
                     (json_int_t)((ch_now_us() - t->t0_us) / 1000));
}
