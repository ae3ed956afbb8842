/* fuzz_words.c — libFuzzer target: the case language's newer words in place (cases/FORMAT.md): string
 * expressions ("a"*123 + "b"), literal blocks (<<TAG(crlf) ... TAG, chomp), the `compress` step, and the step
 * words that carry them (body, chunk, send, header, an expected value). The first byte picks where the rest of
 * the input goes in a small case; the case is parsed, and when it parses, its route is compiled, rendered at
 * load where it can be (ch_route_prerender), and run by the executor over a real connection (a socketpair)
 * for one request, whose reply is drained. Whatever the bytes: no crash, leak, undefined behaviour or hang; a
 * parse yields either a case or errors with file:line:col.
 * Seeds: fuzz/corpus/fuzz_words/. Run with `make fuzz FUZZ_SECONDS=N`. */
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case/case.h"
#include "core/core.h"
#include "engines/engines.h"
#include "server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char HEAD[] = "case    fuzz/words\ntitle   Words in place\nspec    https://example.test/spec\n\n"
                           "server GET /x\n  status 200 OK\n";
static const char TAIL[] = "\nclient xhr\n  open GET {A}/x\n  send\n  await loadend\n\n"
                           "expect client xhr\n  final status=200\n";

/* Where the input goes: before it, after it (the input is the rest of the line, or a block's lines). */
static const char *const places[][2] = {
    {"  body ", "\n"},
    {"  send ", "\n"},
    {"  chunk ", "\n  chunk-end\n"},
    {"  header X-Fuzz: ", "\n"},
    {"  body <<B(crlf)\n", "\nB\n"},
    {"  body <<B(lf, chomp)\n", "\nB\n"},
    {"  compress gzip\n  body ", "\n"},
    {"  compress deflate\n  chunk ", "\n  compress off\n  chunk-end\n"},
    {"  compress ", "\n  body \"x\"*100\n"},
    {"  header Content-Length: {body-length}\n  body ", "\n  close\n"},
};
#define NPLACES (sizeof places / sizeof places[0])

struct run {
    struct ch_exec_env env;
    struct ch_case kase;
    struct ch_arena *arena;
    struct ch_transcript *tr;
    json_t *vars;
    int closed;
};

static void on_dispatch(struct ch_conn *c, struct ch_request *r, void *arg)
{
    struct run *g = arg;
    ch_conn_attach(c, g->tr);
    const struct ch_route *route = ch_case_match(&g->kase, r->method, "/x", 0, 1, r);
    if (route) ch_exec_start(&g->env, c, g->tr, g->vars, route, 1);
    else ch_conn_reply(c, 404, "Not Found", "text/plain", NULL, "", 0);
}

static void on_closed(struct ch_conn *c, void *arg) { ((struct run *)arg)->closed = 1; }

/* Compiles the parsed case's routes and answers one GET /x with them over a socketpair. */
static void run_case(json_t *kase)
{
    char err[CH_ERR_LEN];
    struct run g = {0};
    if (ch_case_compile(&g.kase, kase, err) != 0) abort(); /* the parser emits only ops the server runs */
    for (size_t i = 0; i < g.kase.nroutes; i++) ch_route_prerender(&g.kase.routes[i], 1.0);
    g.env = (struct ch_exec_env){event_base_new(), 1.0, "fixtures"};
    g.arena = ch_arena_new();
    g.tr = ch_transcript_new(g.arena, "t1-00000000", "fuzz/words", ch_now_us());
    g.vars = json_pack("{s:s, s:s, s:s}", "token", "t1-00000000", "case", "fuzz/words", "A", "http://localhost:1/c/t");
    const struct ch_conn_owner owner = {on_dispatch, on_closed, &g, 1000, NULL};
    int sv[2];
    if (!g.env.base || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ch_conn_new(g.env.base, sv[0], &sa, sizeof sa, 0, 1, &owner);
    static const char req[] = "GET /x HTTP/1.1\r\nHost: localhost:1\r\nConnection: close\r\n\r\n";
    if (write(sv[1], req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) abort();
    char sink[65536];
    ssize_t r = -1;
    for (int turns = 0; turns < 1000 && r != 0; turns++) {
        event_base_loop(g.env.base, EVLOOP_NONBLOCK);
        while ((r = read(sv[1], sink, sizeof sink)) > 0) {}
    }
    close(sv[1]);
    for (int turns = 0; turns < 100 && !g.closed; turns++) event_base_loop(g.env.base, EVLOOP_NONBLOCK);
    if (!g.closed) abort(); /* a connection that outlives its client is a leak */
    json_decref(ch_transcript_json(g.tr));
    ch_transcript_free(g.tr);
    ch_arena_free(g.arena);
    json_decref(g.vars);
    ch_case_release(&g.kase);
    event_base_free(g.env.base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const char *before = places[data[0] % NPLACES][0], *after = places[data[0] % NPLACES][1];
    size_t n = strlen(HEAD) + strlen(before) + (size - 1) + strlen(after) + strlen(TAIL);
    char *text = malloc(n + 1), *p = text;
    const void *parts[] = {HEAD, before, data + 1, after, TAIL};
    size_t lens[] = {strlen(HEAD), strlen(before), size - 1, strlen(after), strlen(TAIL)};
    for (size_t k = 0; k < 5; k++) { /* bytes, NULs included */
        memcpy(p, parts[k], lens[k]);
        p += lens[k];
    }
    *p = '\0';
    json_t *out = json_array(), *errs = json_array();
    int nerr = ch_script_parse_text("fuzz.case", text, n, "fixtures", out, errs);
    if (nerr != (int)json_array_size(errs) || (nerr > 0 && json_array_size(out) > 0)) abort();
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e)
        if (!json_is_integer(json_object_get(e, "line")) || !json_is_integer(json_object_get(e, "col"))) abort();
    json_array_foreach(out, i, e) run_case(e);
    json_decref(out);
    json_decref(errs);
    free(text);
    return 0;
}
