/* runner — the conformance harness's one executable.
 *
 *   runner serve [--cases PATH]... [--fixtures DIR] [--run-dir DIR] [--port-a N] [--port-b N] [--port-c N]
 *                [--port-sa N] [--port-sb N] [--port-sc N] [--port-d N] [--time-scale X] [--idle-timeout MS]
 *                                 serve the cases on the origins (harness/server/origins.c); the run's CA is
 *                                 written to DIR/ca.pem (default: a fresh folder under $TMPDIR, removed at exit)
 *   runner check [--fixtures DIR] PATH...        validate case files; exit 0, or 2 with file:line:col errors
 *   runner list [--json] [--fixtures DIR] PATH...  print the expanded case set (JSON: harness/MODEL.md §1)
 *   runner judge --cases PATH... [--fixtures DIR] [--time-scale X] [RECORDS.jsonl]
 *                                 re-judge recorded runs: each input line holds {"case": ID,
 *                                 "observations", "transcript", "vars"} (a verdict fetched with
 *                                 full=1 is such a record); each output line is a verdict
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
#include <unistd.h>

#include "judge/judge.h"
#include "case/case.h"
#include "server/server.h"
#include "core/core.h"

enum { EXIT_BAD_CASES = 2, EXIT_USAGE = 64 };

static int usage(FILE *to)
{
    fputs("usage: runner serve [--cases PATH]... [--fixtures DIR] [--run-dir DIR] [--port-a N] [--port-b N]\n"
          "                    [--port-c N] [--port-sa N] [--port-sb N] [--port-sc N] [--port-d N]\n"
          "                    [--time-scale X] [--idle-timeout MS]\n"
          "       runner check [--fixtures DIR] PATH...\n"
          "       runner list [--json] [--fixtures DIR] PATH...\n"
          "       runner judge --cases PATH... [--fixtures DIR] [--time-scale X] [RECORDS.jsonl]\n",
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

static int cmd_judge(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cases", required_argument, NULL, 'c'}, {"fixtures", required_argument, NULL, 'f'},
        {"time-scale", required_argument, NULL, 's'}, {0, 0, 0, 0}};
    char *paths[64];
    const char *fixtures = DEFAULT_FIXTURES;
    int npaths = 0, opt, rc = 0;
    double scale = 1.0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (opt == 'c' && npaths < 64) paths[npaths++] = optarg;
        else if (opt == 'f') fixtures = optarg;
        else if (opt == 's') scale = atof(optarg);
        else return usage(stderr);
    }
    if (npaths == 0 || scale <= 0) return usage(stderr);
    json_t *cases = load_cases(paths, npaths, fixtures);
    if (!cases) return EXIT_BAD_CASES;
    FILE *in = optind < argc ? fopen(argv[optind], "r") : stdin;
    if (!in) {
        perror(argv[optind]);
        json_decref(cases);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    while (getline(&line, &cap, in) != -1) {
        json_error_t jerr;
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        json_t *rec = json_loads(line, JSON_ALLOW_NUL, &jerr);
        if (!json_is_object(rec)) {
            /* A truncated last line (a crashed run) is reported and skipped, never fatal. */
            fprintf(stderr, "%s:%ld:%d: not a JSON object: %s\n", optind < argc ? argv[optind] : "-", lineno,
                    jerr.column, jerr.text);
            json_decref(rec);
            rc = 1;
            continue;
        }
        judge_record(cases, rec, scale);
        json_decref(rec);
    }
    free(line);
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
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    unlink(ca);
    rmdir(dir);
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
        {0, 0, 0, 0}};
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
        default: return usage(stderr);
        }
    }
    if (optind != argc || o.time_scale <= 0 || o.idle_timeout_ms <= 0) return usage(stderr);
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
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "runner: unknown command '%s'\n", cmd);
    return usage(stderr);
}
