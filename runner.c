/* runner — the conformance harness's one executable.
 *
 *   runner serve [--cases PATH]... [--fixtures DIR] [--run-dir DIR] [--port-a N] [--port-b N] [--port-c N]
 *                [--port-sa N] [--port-sb N] [--port-sc N] [--port-d N] [--time-scale X] [--idle-timeout MS]
 *                [--listen ADDR --host-a NAME --host-c NAME]
 *                                 serve the cases on the origins (harness/server/origins.c); the run's CA is
 *                                 written to DIR/ca.pem (default: a fresh folder under $TMPDIR, removed at exit);
 *                                 --listen: on ADDR instead of loopback, A and B (SA, SB) named NAME of
 *                                 --host-a, C (SC) NAME of --host-c, for a browser on another host (README,
 *                                 "Remote browsers")
 *   runner check [--fixtures DIR] PATH...        validate case files; exit 0, or 2 with file:line:col errors
 *   runner list [--json] [--fixtures DIR] PATH...  print the expanded case set (JSON: harness/MODEL.md §1)
 *   runner vocab [--json]        the vocabulary of the case language, declared once (harness/case/case.h:
 *                                 ch_vocabulary): client kinds, their steps, events and properties,
 *                                 capabilities, the parser's words; what GET /_h/vocabulary answers
 *   runner judge --cases PATH... [--fixtures DIR] [--time-scale X] [RECORDS.jsonl]
 *                                 re-judge recorded runs: each input line holds {"case": ID,
 *                                 "observations", "transcript", "vars"} (a verdict fetched with
 *                                 full=1 is such a record); each output line is a verdict
 *   runner record --cases PATH... [--fixtures DIR] [--time-scale X] [--keep RECORDS] EVENTS.jsonl...
 *                                 records (harness/mutate/mutate.h) from event streams or full verdicts;
 *                                 --keep: first the earlier records of cases the streams did not run
 *   runner mutate --cases PATH... [--fixtures DIR] [--survivors FILE] [--json FILE] [--all] RECORDS...
 *                                 prove that every check can fail: exit 0, or 1 when a survivor is not
 *                                 listed with a reason or an entry of the list has no business there
 *
 * The fixtures directory (default `fixtures`) is the one `body file` paths are checked against and read from,
 * and what /_h/static/ serves: every command that parses cases takes it the same way.
 */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "judge/judge.h"
#include "case/case.h"
#include "mutate/mutate.h"
#include "server/server.h"
#include "core/core.h"

enum { EXIT_BAD_CASES = 2, EXIT_USAGE = 64 };

static int usage(FILE *to)
{
    fputs("usage: runner serve [--cases PATH]... [--fixtures DIR] [--run-dir DIR] [--port-a N] [--port-b N]\n"
          "                    [--port-c N] [--port-sa N] [--port-sb N] [--port-sc N] [--port-d N]\n"
          "                    [--time-scale X] [--idle-timeout MS] [--listen ADDR --host-a NAME --host-c NAME]\n"
          "       runner check [--fixtures DIR] PATH...\n"
          "       runner list [--json] [--fixtures DIR] PATH...\n"
          "       runner vocab [--json]\n"
          "       runner judge --cases PATH... [--fixtures DIR] [--time-scale X] [RECORDS.jsonl]\n"
          "       runner record --cases PATH... [--fixtures DIR] [--time-scale X] [--keep RECORDS] EVENTS.jsonl...\n"
          "       runner mutate --cases PATH... [--fixtures DIR] [--survivors FILE] [--json FILE] [--all] RECORDS...\n",
          to);
    return EXIT_USAGE;
}

#define DEFAULT_FIXTURES "fixtures"

/* Loads cases from paths; prints errors and returns NULL when there are any. */
static json_t *load_cases(char *const *paths, int n, const char *fixtures)
{
    json_t *cases = json_array(), *errs = json_array();
    int nerr = ch_script_load(paths, n, fixtures, cases, errs);
    if (nerr > 0) {
        ch_script_print_errors(errs, stderr);
        fprintf(stderr, "%d error%s\n", nerr, nerr == 1 ? "" : "s");
        json_decref(cases);
        cases = NULL;
    }
    json_decref(errs);
    return cases;
}

/* Takes the leading `--json` (when json is not NULL) and `--fixtures DIR` of check and list; returns the index
 * of the first path, or -1 on a usage error. */
static int leading_options(int argc, char **argv, int *json, const char **fixtures)
{
    int i = 1;
    *fixtures = DEFAULT_FIXTURES;
    for (; i < argc; i++) {
        if (json && strcmp(argv[i], "--json") == 0) *json = 1;
        else if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc) *fixtures = argv[++i];
        else if (strncmp(argv[i], "--", 2) == 0) return -1;
        else break;
    }
    return i < argc ? i : -1;
}

static int cmd_check(int argc, char **argv)
{
    const char *fixtures;
    int first = leading_options(argc, argv, NULL, &fixtures);
    if (first < 0) return usage(stderr);
    json_t *cases = load_cases(argv + first, argc - first, fixtures);
    if (!cases) return EXIT_BAD_CASES;
    printf("%zu cases ok\n", json_array_size(cases));
    json_decref(cases);
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    const char *fixtures;
    int json = 0, first = leading_options(argc, argv, &json, &fixtures);
    if (first < 0) return usage(stderr);
    json_t *cases = load_cases(argv + first, argc - first, fixtures);
    if (!cases) return EXIT_BAD_CASES;
    if (json) {
        json_dumpf(cases, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII);
        putchar('\n');
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(cases, i, c)
            printf("%s\t%s\n", json_string_value(json_object_get(c, "id")),
                   json_string_value(json_object_get(c, "title")));
    }
    json_decref(cases);
    return 0;
}

/* `vocab --json`: the declaration as JSON; `vocab`: one line per client kind, its events and final properties. */
static int cmd_vocab(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--json") != 0)) return usage(stderr);
    json_t *v = ch_vocabulary();
    if (argc == 2) {
        json_dumpf(v, stdout, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
        putchar('\n');
    } else {
        const char *kind, *ev;
        json_t *k, *e;
        json_object_foreach(json_object_get(v, "kinds"), kind, k) {
            printf("%s:", kind);
            json_object_foreach(json_object_get(k, "events"), ev, e) printf(" %s", ev);
            printf("\n");
        }
    }
    json_decref(v);
    return 0;
}

static json_t *find_case(json_t *cases, const char *id)
{
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
        if (id && strcmp(json_string_value(json_object_get(c, "id")), id) == 0) return c;
    return NULL;
}

/* One record in, one verdict out. A record naming an unknown case yields an ERROR verdict, not an abort. */
static void judge_record(json_t *cases, json_t *rec, double scale)
{
    const char *id = json_string_value(json_object_get(rec, "case"));
    json_t *kase = find_case(cases, id), *verdict;
    if (!kase) {
        verdict = json_pack("{s:s?, s:s, s:s}", "case", id, "status", "ERROR", "message",
                            "the record names a case that is not in the case set");
    } else {
        verdict = ch_judge(kase, json_object_get(rec, "observations"), json_object_get(rec, "transcript"),
                           json_object_get(rec, "vars"), scale);
    }
    json_t *token = json_object_get(rec, "token"), *client = json_object_get(rec, "client");
    if (token) json_object_set(verdict, "token", token);
    if (client) json_object_set(verdict, "client", client);
    json_dumpf(verdict, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(verdict);
}

/* Calls fn on each JSON object of a JSONL stream. A line that is not one (a crashed run's truncated last line)
 * is reported as name:line:col and skipped, never fatal; returns 1 after any such line, else 0. */
static int each_object(FILE *in, const char *name, void (*fn)(json_t *obj, void *ctx), void *ctx)
{
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int rc = 0;
    while (getline(&line, &cap, in) != -1) {
        json_error_t jerr;
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        json_t *obj = json_loads(line, JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(obj)) {
            fprintf(stderr, "%s:%ld:%d: not a JSON object: %s\n", name, lineno, jerr.column, jerr.text);
            json_decref(obj);
            rc = 1;
            continue;
        }
        fn(obj, ctx);
        json_decref(obj);
    }
    free(line);
    return rc;
}

/* The options of judge, record and mutate (`allowed`: the option letters this command takes, below); returns the
 * index of the first input, or -1 on a usage error. */
struct offline_opts {
    char *paths[64];
    int npaths, all;
    const char *fixtures, *survivors, *json;
    char *keep;
    double scale;
};

static int offline_options(int argc, char **argv, struct offline_opts *o, const char *allowed)
{
    static const struct option longopts[] = {
        {"cases", required_argument, NULL, 'c'}, {"fixtures", required_argument, NULL, 'f'},
        {"time-scale", required_argument, NULL, 's'}, {"survivors", required_argument, NULL, 'S'},
        {"json", required_argument, NULL, 'j'}, {"all", no_argument, NULL, 'a'}, {"keep", required_argument, NULL, 'k'},
        {0, 0, 0, 0}};
    int opt;
    *o = (struct offline_opts){.fixtures = DEFAULT_FIXTURES, .scale = 1.0};
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == '?' || !strchr(allowed, opt)) return -1;
        if (opt == 'c' && o->npaths < 64) o->paths[o->npaths++] = optarg;
        else if (opt == 'f') o->fixtures = optarg;
        else if (opt == 's') o->scale = atof(optarg);
        else if (opt == 'S') o->survivors = optarg;
        else if (opt == 'j') o->json = optarg;
        else if (opt == 'a') o->all = 1;
        else if (opt == 'k') o->keep = optarg;
    }
    return o->npaths == 0 || o->scale <= 0 ? -1 : optind;
}

struct judge_ctx {
    json_t *cases;
    double scale;
};

static void judge_one(json_t *rec, void *ctx)
{
    struct judge_ctx *j = ctx;
    judge_record(j->cases, rec, j->scale);
}

static int cmd_judge(int argc, char **argv)
{
    struct offline_opts o;
    int first = offline_options(argc, argv, &o, "cfs"), rc;
    if (first < 0) return usage(stderr);
    json_t *cases = load_cases(o.paths, o.npaths, o.fixtures);
    if (!cases) return EXIT_BAD_CASES;
    FILE *in = first < argc ? fopen(argv[first], "r") : stdin;
    if (!in) {
        perror(argv[first]);
        json_decref(cases);
        return 1;
    }
    struct judge_ctx j = {cases, o.scale};
    rc = each_object(in, first < argc ? argv[first] : "-", judge_one, &j);
    if (in != stdin) fclose(in);
    json_decref(cases);
    return rc;
}

/* A run folder of our own when none is given: DIR under $TMPDIR (or /tmp), removed with what the server wrote
 * there (ca.pem) when it stops. */
static int own_run_dir(char *dir, size_t n)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/runner-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("runner serve: cannot make a run folder");
        return -1;
    }
    return 0;
}

static void remove_run_dir(const char *dir)
{
    char ca[PATH_MAX];
    int n = snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    if (n > 0 && (size_t)n < sizeof ca) unlink(ca); /* a longer path was never made (make_run_dir) */
    rmdir(dir);
}

/* ---- record, mutate ---- */

struct record_ctx {
    json_t *by_id, *covered; /* case id -> case; case id -> true for each case the new streams ran */
    const char *fixtures;
    double scale;
    long made, skipped, kept;
};

/* Takes the time scale from the stream's run-start; writes each verdict whose checks ran as a record. */
static void record_one(json_t *line, void *ctx)
{
    struct record_ctx *r = ctx;
    const char *event = json_string_value(json_object_get(line, "event")), *why;
    if (event && !strcmp(event, "run-start") && json_is_number(json_object_get(line, "time_scale")))
        r->scale = json_number_value(json_object_get(line, "time_scale"));
    json_t *rec = ch_record_make(line, r->by_id, r->fixtures, r->scale, &why);
    if (rec) {
        json_dumpf(rec, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
        putchar('\n');
        r->made++;
    } else if (why) {
        r->skipped++;
    }
    json_decref(rec);
}

/* The cases a stream ran: those its workers planned (worker-start) and those it judged. */
static void cover_one(json_t *line, void *ctx)
{
    struct record_ctx *r = ctx;
    const json_t *item;
    size_t i;
    const char *id = json_string_value(json_object_get(line, "case"));
    json_array_foreach(json_object_get(line, "plan"), i, item) {
        const char *planned = json_string_value(json_object_get(item, "case"));
        if (planned) json_object_set(r->covered, planned, json_true());
    }
    if (id && json_object_get(line, "checks")) json_object_set(r->covered, id, json_true());
}

/* An earlier record is kept when the new streams did not run its case and its case is still in the set. */
static void keep_one(json_t *rec, void *ctx)
{
    struct record_ctx *r = ctx;
    const char *id = json_string_value(json_object_get(rec, "case"));
    if (!id || json_object_get(r->covered, id) || !json_object_get(r->by_id, id)) return;
    json_dumpf(rec, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    putchar('\n');
    r->kept++;
}

static json_t *cases_by_id(const json_t *cases)
{
    json_t *by_id = json_object(), *c;
    size_t i;
    json_array_foreach(cases, i, c) json_object_set(by_id, json_string_value(json_object_get(c, "id")), c);
    return by_id;
}

/* Streams every file through fn; 1 if one cannot be read or holds a line that is not a JSON object. */
static int each_file(char **files, int n, void (*fn)(json_t *, void *), void *ctx)
{
    int rc = 0;
    for (int i = 0; i < n; i++) {
        FILE *in = fopen(files[i], "r");
        if (!in) {
            perror(files[i]);
            rc = 1;
            continue;
        }
        rc |= each_object(in, files[i], fn, ctx);
        fclose(in);
    }
    return rc;
}

static int cmd_record(int argc, char **argv)
{
    struct offline_opts o;
    int first = offline_options(argc, argv, &o, "cfsk"), rc = 0;
    if (first < 0 || first == argc) return usage(stderr);
    json_t *cases = load_cases(o.paths, o.npaths, o.fixtures);
    if (!cases) return EXIT_BAD_CASES;
    struct record_ctx r = {cases_by_id(cases), json_object(), o.fixtures, o.scale, 0, 0, 0};
    if (o.keep) {
        rc |= each_file(argv + first, argc - first, cover_one, &r);
        rc |= each_file(&o.keep, 1, keep_one, &r);
    }
    for (int i = first; i < argc; i++) {
        r.scale = o.scale;
        rc |= each_file(argv + i, 1, record_one, &r);
    }
    fprintf(stderr, "runner record: %ld records made, %ld kept from %s; %ld verdicts skipped (no checks ran, or a case "
            "not in the set)\n", r.made, r.kept, o.keep ? o.keep : "(none)", r.skipped);
    json_decref(r.by_id);
    json_decref(r.covered);
    json_decref(cases);
    return rc;
}

static void learn_one(json_t *rec, void *ctx)
{
    ch_mutation_learn(ctx, rec);
}

static void prove_one(json_t *rec, void *ctx)
{
    ch_mutation_prove(ctx, rec);
}

static int cmd_mutate(int argc, char **argv)
{
    struct offline_opts o;
    char err[CH_ERR_LEN];
    int first = offline_options(argc, argv, &o, "cfSja"), rc = 0;
    if (first < 0 || first == argc) return usage(stderr);
    json_t *survivors = NULL;
    if (o.survivors && !(survivors = ch_survivors_load(o.survivors, err))) {
        fprintf(stderr, "runner mutate: %s\n", err);
        return EXIT_BAD_CASES;
    }
    json_t *cases = load_cases(o.paths, o.npaths, o.fixtures);
    if (!cases) {
        json_decref(survivors);
        return EXIT_BAD_CASES;
    }
    struct ch_mutation *mu = ch_mutation_new(cases, o.fixtures);
    rc |= each_file(argv + first, argc - first, learn_one, mu);
    rc |= each_file(argv + first, argc - first, prove_one, mu);
    int problems = ch_mutation_report(mu, survivors, o.all, stdout);
    if (o.json && json_dump_file(ch_mutation_checks(mu, survivors), o.json, JSON_INDENT(1) | JSON_ENSURE_ASCII) < 0) {
        fprintf(stderr, "runner mutate: cannot write %s\n", o.json);
        rc = 1;
    }
    if (problems)
        printf("runner mutate: %d problem%s: list each survivor with why it cannot fail on any recorded client "
               "(%s), or fix its case\n", problems, problems == 1 ? "" : "s",
               o.survivors ? o.survivors : "--survivors");
    ch_mutation_free(mu);
    json_decref(cases);
    json_decref(survivors);
    return problems || rc ? 1 : 0;
}

/* A host name as the remote browser resolves it: dot-separated labels of letters, digits and hyphens
 * (RFC 1123 §2.1), not starting or ending with a hyphen, at most 200 characters in all. */
static int is_host_name(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > 200) return 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = s[i];
        if (ch == '.' || ch == '\0') {
            if (label == 0 || s[i - 1] == '-') return 0;
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   (ch == '-' && label > 0)) {
            label++;
        } else {
            return 0;
        }
    }
    return 1;
}

/* --listen, --host-a and --host-c come together, the names valid and distinct (A's site is not C's). Prints why
 * and returns 1 when they are not. */
static int remote_names_bad(const struct ch_serve_opts *o)
{
    const char *why = NULL;
    if (!o->listen && !o->host_a && !o->host_c) return 0;
    if (!o->listen || !o->host_a || !o->host_c)
        why = "--listen ADDR, --host-a NAME and --host-c NAME go together";
    else if (!is_host_name(o->host_a) || !is_host_name(o->host_c))
        why = "--host-a and --host-c take host names (letters, digits, hyphens, dots)";
    else if (strcasecmp(o->host_a, o->host_c) == 0)
        why = "--host-a and --host-c must differ: C is another site than A";
    if (why) fprintf(stderr, "runner serve: %s\n", why);
    return why != NULL;
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cases", required_argument, NULL, 'c'},      {"fixtures", required_argument, NULL, 'f'},
        {"run-dir", required_argument, NULL, 'r'},    {"port-a", required_argument, NULL, 'a'},
        {"port-b", required_argument, NULL, 'b'},     {"port-c", required_argument, NULL, 'C'},
        {"port-sa", required_argument, NULL, 'A'},    {"port-sb", required_argument, NULL, 'B'},
        {"port-sc", required_argument, NULL, 'S'},    {"port-d", required_argument, NULL, 'D'},
        {"time-scale", required_argument, NULL, 's'}, {"idle-timeout", required_argument, NULL, 'i'},
        {"listen", required_argument, NULL, 'L'},     {"host-a", required_argument, NULL, 'H'},
        {"host-c", required_argument, NULL, 'h'},     {0, 0, 0, 0}};
    static char *default_cases[] = {"cases"};
    char *paths[64], own[PATH_MAX] = "";
    struct ch_serve_opts o = {.fixtures_dir = DEFAULT_FIXTURES, .time_scale = 1.0, .idle_timeout_ms = 30000};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': if (o.ncase_paths < 64) paths[o.ncase_paths++] = optarg; break;
        case 'f': o.fixtures_dir = optarg; break;
        case 'r': o.run_dir = optarg; break;
        case 'a': o.port[CH_ORIGIN_A] = atoi(optarg); break;
        case 'b': o.port[CH_ORIGIN_B] = atoi(optarg); break;
        case 'C': o.port[CH_ORIGIN_C] = atoi(optarg); break;
        case 'A': o.port[CH_ORIGIN_SA] = atoi(optarg); break;
        case 'B': o.port[CH_ORIGIN_SB] = atoi(optarg); break;
        case 'S': o.port[CH_ORIGIN_SC] = atoi(optarg); break;
        case 'D': o.port[CH_ORIGIN_D] = atoi(optarg); break;
        case 's': o.time_scale = atof(optarg); break;
        case 'i': o.idle_timeout_ms = atoi(optarg); break;
        case 'L': o.listen = optarg; break;
        case 'H': o.host_a = optarg; break;
        case 'h': o.host_c = optarg; break;
        default: return usage(stderr);
        }
    }
    if (optind != argc || o.time_scale <= 0 || o.idle_timeout_ms <= 0) return usage(stderr);
    if (remote_names_bad(&o)) return EXIT_USAGE;
    o.case_paths = o.ncase_paths ? paths : default_cases;
    if (!o.ncase_paths) o.ncase_paths = 1;
    if (!o.run_dir) {
        if (own_run_dir(own, sizeof own) < 0) return 1;
        o.run_dir = own;
    }
    int rc = ch_server_run(&o);
    if (*own) remove_run_dir(own);
    return rc;
}

int main(int argc, char **argv)
{
    ch_oom_install(); /* before jansson, libevent or OpenSSL allocate anything (core.h, memory) */
    if (argc < 2) return usage(stderr);
    const char *cmd = argv[1];
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0) return cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0) return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "judge") == 0) return cmd_judge(argc - 1, argv + 1);
    if (strcmp(cmd, "vocab") == 0) return cmd_vocab(argc - 1, argv + 1);
    if (strcmp(cmd, "record") == 0) return cmd_record(argc - 1, argv + 1);
    if (strcmp(cmd, "mutate") == 0) return cmd_mutate(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "runner: unknown command '%s'\n", cmd);
    return usage(stderr);
}
