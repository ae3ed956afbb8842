/* mutation.c — a mutation run over a case set (mutate.h): which records are fresh, what each check did on
 * each, the mutants of those that passed (judge.h, ch_judge_mutants), and the outcome of every check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "mutate.h"
#include "mutate_int.h"
#include "core/core.h"

#define HOW_LEN 300

struct ch_mutation {
    const char *fixtures;
    json_t *by_id;    /* case id -> case JSON */
    json_t *states;   /* case id -> [check state, per expectation] */
    json_t *order;    /* every check state, in case-set order */
    json_t *programs; /* case id -> its program digest, or null when a body file cannot be read */
    struct ch_seen vocab;
    json_t *fresh;    /* client -> number of fresh records */
    json_t *stale;    /* case id -> [client...] of records made before the case changed */
    json_t *unknown;  /* case id -> number of records of a case not in the set */
    json_t *out;      /* the last ch_mutation_checks result */
    size_t mutants;   /* judged, over the whole run */
};

/* "xhr/timeout/status-0:24:events", with "#2" for the second `request-header` of an `expect cors` line. */
static void check_states(struct ch_mutation *mu, const json_t *kase)
{
    const char *id = json_string_value(json_object_get(kase, "id"));
    const json_t *expect = json_object_get(kase, "expect"), *e, *e2;
    json_t *list = json_array();
    size_t i, j;
    json_array_foreach(expect, i, e) {
        long long line = json_integer_value(json_object_get(e, "line"));
        const char *kind = json_string_value(json_object_get(e, "kind"));
        size_t same = 0, nth = 0;
        json_array_foreach(expect, j, e2) {
            if (json_integer_value(json_object_get(e2, "line")) != line ||
                strcmp(json_string_value(json_object_get(e2, "kind")), kind ? kind : "") != 0)
                continue;
            same++;
            if (j <= i) nth++;
        }
        char cid[1200], family[256];
        snprintf(cid, sizeof cid, "%s:%lld:%s", id, line, kind ? kind : "?");
        if (same > 1) snprintf(cid + strlen(cid), sizeof cid - strlen(cid), "#%zu", nth);
        snprintf(family, sizeof family, "%.*s", (int)strcspn(id, "/"), id);
        json_t *st = json_pack("{s:s, s:s, s:I, s:s, s:s, s:O?, s:O?, s:[], s:[], s:i, s:n, s:I}", "id", cid, "case",
                               id, "line", (json_int_t)line, "kind", kind ? kind : "?", "family", family, "text",
                               json_object_get(e, "text"), "level", json_object_get(e, "level"), "passed", "failed",
                               "errors", 0, "proof", "mutants", (json_int_t)0);
        json_array_append_new(list, st);
        json_array_append(mu->order, st);
    }
    json_object_set_new(mu->states, id, list);
}

struct ch_mutation *ch_mutation_new(const json_t *cases, const char *fixtures)
{
    struct ch_mutation *mu = ch_xcalloc(1, sizeof *mu);
    const json_t *c;
    size_t i;
    mu->fixtures = fixtures;
    mu->by_id = json_object();
    mu->states = json_object();
    mu->order = json_array();
    mu->programs = json_object();
    mu->fresh = json_object();
    mu->stale = json_object();
    mu->unknown = json_object();
    ch_seen_init(&mu->vocab);
    json_array_foreach(cases, i, c) {
        const char *id = json_string_value(json_object_get(c, "id"));
        if (!id || json_object_get(mu->by_id, id)) continue;
        json_object_set(mu->by_id, id, (json_t *)c);
        check_states(mu, c);
    }
    return mu;
}

void ch_mutation_free(struct ch_mutation *mu)
{
    if (!mu) return;
    json_decref(mu->by_id);
    json_decref(mu->states);
    json_decref(mu->order);
    json_decref(mu->programs);
    json_decref(mu->fresh);
    json_decref(mu->stale);
    json_decref(mu->unknown);
    json_decref(mu->out);
    ch_seen_free(&mu->vocab);
    free(mu);
}

/* The record's case when the record is fresh (made from the case as it is now), else NULL. */
static const json_t *fresh_case(struct ch_mutation *mu, const json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "case"));
    const json_t *kase = id ? json_object_get(mu->by_id, id) : NULL, *p;
    if (!kase) return NULL;
    if (!(p = json_object_get(mu->programs, id))) {
        char hex[CH_SHA256_HEX_SIZE], err[CH_ERR_LEN];
        int ok = ch_program_sha256(kase, mu->fixtures, hex, err) == 0;
        json_object_set_new(mu->programs, id, ok ? json_string(hex) : json_null());
        p = json_object_get(mu->programs, id);
    }
    const char *want = json_string_value(p), *got = json_string_value(json_object_get(rec, "program"));
    return want && got && !strcmp(want, got) ? kase : NULL;
}

static const char *client_of(const json_t *rec)
{
    const char *c = json_string_value(json_object_get(rec, "client"));
    return c ? c : "(unnamed client)";
}

static void add_unique(json_t *list, const char *s)
{
    const json_t *v;
    size_t i;
    json_array_foreach(list, i, v) if (!strcmp(json_string_value(v), s)) return;
    json_array_append_new(list, json_string(s));
}

static void count(json_t *obj, const char *key)
{
    json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + 1));
}

void ch_mutation_learn(struct ch_mutation *mu, const json_t *rec)
{
    const char *id = json_string_value(json_object_get(rec, "case"));
    const json_t *kase = fresh_case(mu, rec);
    if (kase) {
        count(mu->fresh, client_of(rec));
        ch_seen_learn(&mu->vocab, kase, rec);
    } else if (id && json_object_get(mu->by_id, id)) {
        if (!json_object_get(mu->stale, id)) json_object_set_new(mu->stale, id, json_array());
        json_array_append_new(json_object_get(mu->stale, id), json_string(client_of(rec)));
    } else {
        count(mu->unknown, id ? id : "(no case)");
    }
}

/* Tries the mutants of a check that passed on this record and is not proven yet. */
static void prove_check(struct ch_mutation *mu, const json_t *kase, size_t i, const json_t *rec, json_t *st,
                        json_t **vocab)
{
    char how[HOW_LEN];
    size_t tried = 0;
    const json_t *scale = json_object_get(rec, "time_scale");
    if (!*vocab) *vocab = ch_seen_for(&mu->vocab, kase);
    int killed = ch_judge_mutants(kase, i, json_object_get(rec, "observations"), json_object_get(rec, "transcript"),
                                  json_object_get(rec, "vars"), json_is_number(scale) ? json_number_value(scale) : 1.0,
                                  *vocab, how, sizeof how, &tried);
    mu->mutants += tried;
    json_int_t total = json_integer_value(json_object_get(st, "mutants")) + (json_int_t)tried;
    json_object_set_new(st, "mutants", json_integer(total));
    if (killed)
        json_object_set_new(st, "proof",
                            json_pack("{s:s, s:s, s:I}", "client", client_of(rec), "mutant", how, "mutants", total));
}

void ch_mutation_prove(struct ch_mutation *mu, const json_t *rec)
{
    const json_t *kase = fresh_case(mu, rec), *chk;
    if (!kase) return;
    const json_t *scale = json_object_get(rec, "time_scale");
    json_t *v = ch_judge(kase, json_object_get(rec, "observations"), json_object_get(rec, "transcript"),
                         json_object_get(rec, "vars"), json_is_number(scale) ? json_number_value(scale) : 1.0);
    json_t *states = json_object_get(mu->states, json_string_value(json_object_get(kase, "id"))), *vocab = NULL;
    size_t i;
    json_array_foreach(json_object_get(v, "checks"), i, chk) {
        json_t *st = json_array_get(states, i);
        const char *status = json_string_value(json_object_get(chk, "status"));
        if (!st || !status) continue;
        if (!strcmp(status, "PASS")) {
            add_unique(json_object_get(st, "passed"), client_of(rec));
            if (json_is_null(json_object_get(st, "proof"))) prove_check(mu, kase, i, rec, st, &vocab);
        } else if (!strcmp(status, "FAIL")) {
            add_unique(json_object_get(st, "failed"), client_of(rec));
        } else {
            count(st, "errors");
        }
    }
    json_decref(vocab);
    json_decref(v);
}

/* ---- outcomes ---- */

static const char *outcome(const json_t *st)
{
    if (!json_is_null(json_object_get(st, "proof"))) return "proven";
    if (json_array_size(json_object_get(st, "passed"))) return "survivor";
    if (json_array_size(json_object_get(st, "failed"))) return "failed";
    return "unjudged";
}

const json_t *ch_mutation_checks(struct ch_mutation *mu, const json_t *survivors)
{
    const json_t *st;
    size_t i;
    json_decref(mu->out);
    mu->out = json_array();
    json_array_foreach(mu->order, i, st) {
        json_t *c = json_copy((json_t *)st);
        json_object_set_new(c, "outcome", json_string(outcome(st)));
        if (json_is_null(json_object_get(c, "proof"))) json_object_del(c, "proof");
        const json_t *entry = ch_survivors_match(survivors, st);
        if (entry) json_object_set(c, "listed", json_object_get(entry, "why"));
        json_array_append_new(mu->out, c);
    }
    return mu->out;
}

/* ---- the report ---- */

static void report_records(struct ch_mutation *mu, FILE *out)
{
    const char *key;
    json_t *v;
    size_t fresh = 0, stale = 0, unknown = 0;
    json_object_foreach(mu->fresh, key, v) fresh += (size_t)json_integer_value(v);
    json_object_foreach(mu->stale, key, v) stale += json_array_size(v);
    json_object_foreach(mu->unknown, key, v) unknown += (size_t)json_integer_value(v);
    fprintf(out, "mutation testing: %zu fresh records of %zu clients, %zu mutants judged\n", fresh,
            json_object_size(mu->fresh), mu->mutants);
    fprintf(out, "  records per client:");
    json_object_foreach(mu->fresh, key, v) fprintf(out, " %s %lld;", key, (long long)json_integer_value(v));
    fputc('\n', out);
    if (stale) {
        fprintf(out, "  %zu stale records, not used: their case changed since they were recorded (re-record them: make "
                "records):\n", stale);
        json_object_foreach(mu->stale, key, v) fprintf(out, "    %s (%zu)\n", key, json_array_size(v));
    }
    if (unknown) {
        fprintf(out, "  %zu records of cases not in the case set, not used:", unknown);
        json_object_foreach(mu->unknown, key, v) fprintf(out, " %s;", key);
        fputc('\n', out);
    }
}

static void report_families(const json_t *checks, FILE *out)
{
    json_t *fam = json_object(), *f;
    const json_t *c;
    const char *key;
    size_t i;
    json_array_foreach(checks, i, c) {
        const char *name = json_string_value(json_object_get(c, "family"));
        if (!(f = json_object_get(fam, name))) json_object_set_new(fam, name, f = json_object());
        count(f, "all");
        count(f, json_string_value(json_object_get(c, "outcome")));
    }
    json_object_foreach(fam, key, f) {
#define N(k) (long long)json_integer_value(json_object_get(f, k))
        fprintf(out, "  %-6s checks proven able to fail: %lld of %lld (survivors %lld; failed on every record that "
                "judged them %lld; judged on no fresh record %lld)\n", key, N("proven"), N("all"), N("survivor"),
                N("failed"), N("unjudged"));
#undef N
    }
    json_decref(fam);
}

static void report_check(const json_t *c, FILE *out)
{
    const json_t *p = json_object_get(c, "passed"), *v;
    size_t i;
    fprintf(out, "    %s  %s\n      passed on:", json_string_value(json_object_get(c, "id")),
            json_string_value(json_object_get(c, "text")));
    json_array_foreach(p, i, v) fprintf(out, " %s", json_string_value(v));
    fprintf(out, "; %lld mutants, none failed it\n", (long long)json_integer_value(json_object_get(c, "mutants")));
    const char *listed = json_string_value(json_object_get(c, "listed"));
    if (listed) fprintf(out, "      listed: %s\n", listed);
}

/* Checks no record passed: every client judged wrong, or a check that cannot pass (a typo). For review. */
static void report_failed(const json_t *checks, FILE *out)
{
    const json_t *c, *v;
    size_t i, k;
    json_array_foreach(checks, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "outcome")), "failed") != 0) continue;
        fprintf(out, "  failed on every record: %s  %s\n    failed on:", json_string_value(json_object_get(c, "id")),
                json_string_value(json_object_get(c, "text")));
        json_array_foreach(json_object_get(c, "failed"), k, v) fprintf(out, " %s", json_string_value(v));
        fputc('\n', out);
    }
}

int ch_mutation_report(struct ch_mutation *mu, const json_t *survivors, int all, FILE *out)
{
    const json_t *checks = ch_mutation_checks(mu, survivors), *c, *e;
    size_t i, nsurv = 0, nlisted = 0;
    int problems = 0;
    report_records(mu, out);
    report_families(checks, out);
    json_array_foreach(checks, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "outcome")), "survivor") != 0) continue;
        nsurv++;
        nlisted += json_object_get(c, "listed") != NULL;
    }
    fprintf(out, "survivors: %zu (%zu listed with a reason, %zu not)\n", nsurv, nlisted, nsurv - nlisted);
    json_array_foreach(checks, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "outcome")), "survivor") != 0) continue;
        if (json_object_get(c, "listed") && !all) continue;
        if (!json_object_get(c, "listed")) problems++;
        report_check(c, out);
    }
    if (all) report_failed(checks, out);
    json_array_foreach(survivors, i, e) {
        const char *why = ch_survivors_unused(e, checks);
        if (!why) continue;
        problems++;
        long long line = json_integer_value(json_object_get(e, "line"));
        fprintf(out, "  survivors entry %zu (%s line %lld) %s: remove it\n", i + 1,
                json_string_value(json_object_get(e, "case")), line, why);
    }
    return problems;
}
