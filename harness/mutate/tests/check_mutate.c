/* check_mutate.c — unit tests of harness/mutate/: the program digest that makes a record stale, records made
 * from an event stream, a mutation run's outcomes and check ids, the report's problems with a survivors list,
 * and the list's own errors. The self-test of the whole: a `never` on an event the program never listens to
 * is reported as a survivor, the same check on an event it records is proven. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mutate/mutate.h"
#include "core/core.h"
#include "testing/testing.h"

/* A timeout case: what the client does, and four checks — one real, one vacuous, one a client fails, and two
 * request-header checks on one line (an `expect cors` line compiles to several). */
#define CASE_T                                                                                                        \
    "{'id':'t/timeout','title':'T','spec':['https://xhr.spec.whatwg.org/'],'source':{'file':'t.case','line':1},"         \
    "'server':[{'method':'GET','path':'/slow','line':8,'steps':[{'op':'wait','ms':2000,'line':9}]}],"                    \
    "'client':{'objects':[{'name':'xhr','kind':'xhr'}],'steps':[{'obj':'xhr','op':'new','line':14},"                     \
    "{'obj':'xhr','op':'open','method':'GET','url':'{A}/slow','async':true,'line':15},{'obj':'xhr','op':'send','line':16}]},"\
    "'expect':["                                                                                                        \
    "{'kind':'never','obj':'xhr','atoms':[{'type':'load'}],'line':20,'level':'must','text':'never load'},"               \
    "{'kind':'never','obj':'xhr','atoms':[{'type':'upload.loadstart'}],'line':21,'level':'must','text':'never upload.loadstart'},"\
    "{'kind':'final','obj':'xhr','props':{'status':999},'line':22,'level':'must','text':'final status=999'},"            \
    "{'kind':'request-header','sel':{'method':'GET','path':'/slow'},'name':'X-A','op':'absent','line':23,'level':'must','text':'cors'},"\
    "{'kind':'request-header','sel':{'method':'GET','path':'/slow'},'name':'Origin','op':'absent','line':23,'level':'must','text':'cors'}]}"
#define CASE_U "{'id':'u/other','client':{'objects':[]},'server':[],'expect':[{'kind':'requests','list':[],'line':5,'level':'must','text':'requests none'}]}"

#define OBS                                                                                                           \
    "{'events':[{'obj':'xhr','type':'readystatechange','arg':1,'t':1,'state':{'readyState':1,'status':0}},"              \
    "{'obj':'xhr','type':'loadstart','t':2,'state':{'readyState':1,'status':0}},"                                        \
    "{'obj':'xhr','type':'timeout','t':300,'state':{'readyState':4,'status':0}},"                                       \
    "{'obj':'xhr','type':'loadend','t':301,'state':{'readyState':4,'status':0}}],'final':{'xhr':{'status':0}}}"
#define TRANSCRIPT "{'events':[{'type':'request','t_us':5,'conn':1,'n':1,'method':'GET','path':'/slow','headers':[['Host','x']]}]}"
/* Another client's run of the same case, which recorded a `load`: what makes `never load` provable. */
#define OBS_LOAD "{'events':[{'obj':'xhr','type':'load','t':3,'state':{'readyState':4,'status':200}}],'final':{'xhr':{'status':200}}}"

static json_t *cases(void)
{
    json_t *c = json_array();
    json_array_append_new(c, J(CASE_T));
    json_array_append_new(c, J(CASE_U));
    return c;
}

static json_t *record(const json_t *kase, const char *client, const char *obs, const char *program)
{
    char hex[CH_SHA256_HEX_SIZE], err[CH_ERR_LEN];
    ck_assert_int_eq(ch_program_sha256(kase, "fixtures", hex, err), 0);
    return json_pack("{s:s, s:s, s:s, s:f, s:o, s:o}", "case", json_string_value(json_object_get(kase, "id")), "client",
                     client, "program", program ? program : hex, "time_scale", 1.0, "observations", J(obs), "transcript",
                     J(TRANSCRIPT));
}

/* ---- the program digest ---- */

START_TEST(program_digest)
{
    json_t *a = J(CASE_T), *b = J(CASE_T);
    char ha[CH_SHA256_HEX_SIZE], hb[CH_SHA256_HEX_SIZE], err[CH_ERR_LEN];
    ck_assert_int_eq(ch_program_sha256(a, "fixtures", ha, err), 0);
    /* What only documents the run, or says where it is written, changes nothing. */
    json_object_set_new(b, "title", json_string("another title"));
    json_object_set_new(b, "wpt", json_pack("[s]", "xhr/event-timeout.any.js"));
    json_object_set_new(b, "expect", json_array());
    json_object_set_new(json_array_get(json_object_get(b, "server"), 0), "line", json_integer(80));
    ck_assert_int_eq(ch_program_sha256(b, "fixtures", hb, err), 0);
    ck_assert_str_eq(ha, hb);
    /* What the server does is the run. */
    json_object_set_new(json_array_get(json_object_get(json_array_get(json_object_get(b, "server"), 0), "steps"), 0), "ms",
                        json_integer(1000));
    ck_assert_int_eq(ch_program_sha256(b, "fixtures", hb, err), 0);
    ck_assert_str_ne(ha, hb);
    json_decref(a);
    json_decref(b);
}
END_TEST

START_TEST(program_digest_reads_body_files)
{
    char dir[] = "/tmp/check_mutate_XXXXXX", path[600], h1[CH_SHA256_HEX_SIZE], h2[CH_SHA256_HEX_SIZE], err[CH_ERR_LEN];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/b.bin", dir);
    json_t *k = J("{'id':'f','server':[{'method':'GET','path':'/f','steps':[{'op':'body','file':'b.bin'}]}],'expect':[]}");
    FILE *f = fopen(path, "w");
    fputs("one", f);
    fclose(f);
    ck_assert_int_eq(ch_program_sha256(k, dir, h1, err), 0);
    f = fopen(path, "w");
    fputs("two", f);
    fclose(f);
    ck_assert_int_eq(ch_program_sha256(k, dir, h2, err), 0);
    ck_assert_str_ne(h1, h2);
    unlink(path);
    ck_assert_int_eq(ch_program_sha256(k, dir, h2, err), -1);
    rmdir(dir);
    json_decref(k);
}
END_TEST

/* ---- records ---- */

START_TEST(records_from_a_stream)
{
    json_t *by_id = json_object(), *k = J(CASE_T);
    json_object_set(by_id, "t/timeout", k);
    const char *why;
    json_t *line = J("{'event':'verdict','case':'t/timeout','client':'node:xhr2','version':'1','status':'PASS',"
                     "'checks':[{'status':'PASS'}],'observations':{'events':[],'steps':[1,2],'client':{}},"
                     "'transcript':{'events':[]},'vars':{'A':'http://a'}}");
    json_t *rec = ch_record_make(line, by_id, "fixtures", 2.0, &why);
    ck_assert_ptr_nonnull(rec);
    ck_assert_str_eq(json_string_value(json_object_get(rec, "client")), "node:xhr2");
    ck_assert(json_number_value(json_object_get(rec, "time_scale")) == 2.0);
    ck_assert_int_eq(json_string_length(json_object_get(rec, "program")), 64);
    ck_assert_ptr_null(json_object_get(json_object_get(rec, "observations"), "steps")); /* the judge never reads it */
    ck_assert_ptr_nonnull(json_object_get(rec, "vars"));
    json_decref(rec);
    /* Not a verdict; a verdict whose checks never ran; a case not in the set. */
    json_t *other = J("{'event':'case-start','case':'t/timeout'}"), *na = J("{'event':'verdict','case':'t/timeout','status':'N/A','checks':[]}");
    json_t *gone = J("{'case':'t/gone','checks':[{'status':'PASS'}],'observations':{}}");
    ck_assert_ptr_null(ch_record_make(other, by_id, "fixtures", 1.0, &why));
    ck_assert_ptr_null(why);
    ck_assert_ptr_null(ch_record_make(na, by_id, "fixtures", 1.0, &why));
    ck_assert_ptr_nonnull(strstr(why, "no checks ran"));
    ck_assert_ptr_null(ch_record_make(gone, by_id, "fixtures", 1.0, &why));
    ck_assert_ptr_nonnull(strstr(why, "not in the case set"));
    json_decref(other);
    json_decref(na);
    json_decref(gone);
    json_decref(line);
    json_decref(k);
    json_decref(by_id);
}
END_TEST

/* ---- a run ---- */

static const json_t *find(const json_t *checks, const char *id)
{
    const json_t *c;
    size_t i;
    json_array_foreach(checks, i, c) if (!strcmp(json_string_value(json_object_get(c, "id")), id)) return c;
    ck_abort_msg("no check %s", id);
    return NULL;
}

static const char *outcome_of(const json_t *checks, const char *id)
{
    return json_string_value(json_object_get(find(checks, id), "outcome"));
}

/* Runs both passes over the records; returns the run (free it). */
static struct ch_mutation *run(json_t *set, json_t *const *recs, size_t n)
{
    struct ch_mutation *mu = ch_mutation_new(set, "fixtures");
    for (size_t i = 0; i < n; i++) ch_mutation_learn(mu, recs[i]);
    for (size_t i = 0; i < n; i++) ch_mutation_prove(mu, recs[i]);
    return mu;
}

START_TEST(outcomes_and_ids)
{
    json_t *set = cases(), *kase = json_array_get(set, 0);
    json_t *recs[] = {record(kase, "chromium", OBS, NULL), record(kase, "curl", OBS_LOAD, NULL),
                      record(kase, "firefox", OBS, "0000")};
    struct ch_mutation *mu = run(set, recs, 3);
    const json_t *checks = ch_mutation_checks(mu, NULL);
    ck_assert_int_eq(json_array_size(checks), 6);
    ck_assert_str_eq(outcome_of(checks, "t/timeout:20:never"), "proven");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(find(checks, "t/timeout:20:never"), "proof"), "mutant")),
                     "add xhr event load");
    ck_assert_str_eq(outcome_of(checks, "t/timeout:21:never"), "survivor");
    ck_assert_str_eq(outcome_of(checks, "t/timeout:22:final"), "failed");
    ck_assert_str_eq(outcome_of(checks, "t/timeout:23:request-header#1"), "survivor"); /* no client sent X-A */
    ck_assert_str_eq(outcome_of(checks, "t/timeout:23:request-header#2"), "survivor");
    ck_assert_str_eq(outcome_of(checks, "u/other:5:requests"), "unjudged");
    /* The stale record (firefox's) was reported, not used. */
    const json_t *passed = json_object_get(find(checks, "t/timeout:21:never"), "passed");
    ck_assert_int_eq(json_array_size(passed), 2);
    ck_assert_str_eq(json_string_value(json_array_get(passed, 0)), "chromium");
    ck_assert_str_eq(json_string_value(json_array_get(passed, 1)), "curl");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_int_eq(ch_mutation_report(mu, NULL, 0, out), 3);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(text, "1 stale records"));
    ck_assert_ptr_nonnull(strstr(text, "checks proven able to fail: 1 of 5"));
    ck_assert_ptr_nonnull(strstr(text, "t/timeout:21:never  never upload.loadstart"));
    free(text);
    ch_mutation_free(mu);
    for (size_t i = 0; i < 3; i++) json_decref(recs[i]);
    json_decref(set);
}
END_TEST

/* open() with a user and password puts an Authorization in play (a client may send the URL's credentials where it
 * must not), so `Authorization absent` is provable although no client sent one and the program sets none. */
#define CASE_W                                                                                                        \
    "{'id':'w/userinfo','client':{'objects':[{'name':'xhr','kind':'xhr'}],'steps':[{'obj':'xhr','op':'new'},"            \
    "{'obj':'xhr','op':'open','method':'GET','url':'{B}/slow','async':true,'user':'u','password':'p','line':3}]},"       \
    "'server':[],'expect':[{'kind':'request-header','sel':{'method':'GET','path':'/slow'},'name':'Authorization',"        \
    "'op':'absent','line':9,'level':'must','text':'header GET /slow Authorization absent'}]}"

START_TEST(url_credentials_put_authorization_in_play)
{
    json_t *set = json_array(), *kase = J(CASE_W);
    json_array_append(set, kase);
    json_t *rec = record(kase, "chromium", "{'events':[],'final':{}}", NULL);
    struct ch_mutation *mu = run(set, &rec, 1);
    const json_t *checks = ch_mutation_checks(mu, NULL);
    ck_assert_str_eq(outcome_of(checks, "w/userinfo:9:request-header"), "proven");
    const char *mutant = json_string_value(json_object_get(json_object_get(find(checks, "w/userinfo:9:request-header"), "proof"), "mutant"));
    ck_assert_ptr_nonnull(mutant);
    ck_assert_ptr_nonnull(strstr(mutant, "Authorization"));
    ch_mutation_free(mu);
    json_decref(rec);
    json_decref(kase);
    json_decref(set);
}
END_TEST

/* An xhr that listens to upload events records them; one that does not, cannot: the upload events learnt from
 * the first are no mutant of the second, while the second's events are the first's too (a listen only adds). */
#define CASE_V                                                                                                        \
    "{'id':'v/upload','client':{'objects':[{'name':'xhr','kind':'xhr'}],'steps':[{'obj':'xhr','op':'new'},"              \
    "{'obj':'xhr','op':'listen','target':'upload','line':3}]},'server':[],'expect':["                                     \
    "{'kind':'never','obj':'xhr','atoms':[{'type':'load'}],'line':7,'level':'must','text':'never load'}]}"
#define OBS_UPLOAD "{'events':[{'obj':'xhr','type':'upload.loadstart','t':1,'state':{}}]}"

START_TEST(vocabulary_follows_listening)
{
    json_t *set = cases();
    json_array_append_new(set, J(CASE_V));
    json_t *recs[] = {record(json_array_get(set, 0), "chromium", OBS, NULL), record(json_array_get(set, 0), "curl", OBS_LOAD, NULL),
                      record(json_array_get(set, 2), "chromium", OBS_UPLOAD, NULL)};
    struct ch_mutation *mu = run(set, recs, 3);
    const json_t *checks = ch_mutation_checks(mu, NULL);
    ck_assert_str_eq(outcome_of(checks, "t/timeout:21:never"), "survivor"); /* never upload.loadstart, no listener */
    ck_assert_str_eq(outcome_of(checks, "v/upload:7:never"), "proven");    /* never load, learnt from t/timeout */
    ch_mutation_free(mu);
    for (size_t i = 0; i < 3; i++) json_decref(recs[i]);
    json_decref(set);
}
END_TEST

START_TEST(a_survivors_list)
{
    json_t *set = cases(), *kase = json_array_get(set, 0);
    json_t *recs[] = {record(kase, "chromium", OBS, NULL), record(kase, "curl", OBS_LOAD, NULL)};
    struct ch_mutation *mu = run(set, recs, 2);
    /* Each survivor listed (a glob and a line for both request-header checks): no problem; an entry naming a
     * proven check, one naming nothing, one naming a check no fresh record judged (kept). */
    json_t *list = J("[{'case':'t/*','line':21,'why':'no upload listener'},{'case':'t/timeout','line':23,'why':'no client sends them'}]");
    FILE *devnull = fopen("/dev/null", "w");
    ck_assert_int_eq(ch_mutation_report(mu, list, 1, devnull), 0);
    ck_assert_str_eq(json_string_value(json_object_get(find(ch_mutation_checks(mu, list), "t/timeout:21:never"), "listed")),
                     "no upload listener");
    json_array_append_new(list, J("{'case':'t/timeout','line':20,'kind':'never','why':'stale'}"));
    json_array_append_new(list, J("{'case':'nothing/*','line':1,'why':'names nothing'}"));
    json_array_append_new(list, J("{'case':'u/other','line':5,'why':'no record yet'}"));
    ck_assert_int_eq(ch_mutation_report(mu, list, 0, devnull), 2);
    fclose(devnull);
    json_decref(list);
    ch_mutation_free(mu);
    for (size_t i = 0; i < 2; i++) json_decref(recs[i]);
    json_decref(set);
}
END_TEST

START_TEST(survivors_file_errors)
{
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{}", "not a JSON array"},
        {"[{'case':'a','line':3}]", "\"why\" must say"},
        {"[{'case':'a','line':0,'why':'x'}]", "\"line\" must be"},
        {"[{'case':'','line':3,'why':'x'}]", "\"case\" must be"},
        {"[{'case':'a','line':3,'why':'x','cell':'y'}]", "unknown key \"cell\""},
        {"[", "survivors.json:1:"},
    };
    char dir[] = "/tmp/check_mutate_XXXXXX", path[600], err[CH_ERR_LEN];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/survivors.json", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        for (const char *p = bad[i].text; *p; p++) fputc(*p == '\'' ? '"' : *p, f);
        fclose(f);
        ck_assert_ptr_null(ch_survivors_load(path, err));
        ck_assert_msg(strstr(err, bad[i].want), "%s: %s", bad[i].text, err);
    }
    unlink(path);
    rmdir(dir);
}
END_TEST

int main(void)
{
    return ch_check_main("mutate", 60, NULL,
                         CH_TESTS(program_digest, program_digest_reads_body_files, records_from_a_stream, outcomes_and_ids,
                                  url_credentials_put_authorization_in_play, vocabulary_follows_listening, a_survivors_list, survivors_file_errors));
}
