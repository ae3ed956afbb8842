/* fuzz_control.c — libFuzzer target: the control endpoints (harness/server/control.c, requests.c, origins.c)
 * on arbitrary requests — their query strings, JSON bodies, Host and Origin checks — over a real connection
 * (a socketpair) of a real server (ch_server_new: three loopback origins, the seven cases of two case files of
 * cases/xhr/: few, so that an input is not spent serializing a large case set).
 *
 * In the input, "{S}" stands for the run's secret, "{H}" for origin A's Host (both change with each server) and
 * "{R}" for the id the next run created will get, so that the seeds reach past the refusals and name their run. The connection must end without a crash, a leak or a hang once the
 * client has sent everything and closed; the server must still answer /_h/health afterwards (checked every
 * HEALTH inputs). The server is made anew every RENEW inputs, so that the runs and tokens the inputs create do
 * not accumulate.
 * Seeds: fuzz/corpus/fuzz_control/. Run with `make fuzz FUZZ_SECONDS=N`. */
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case/case.h"
#include "server/server.h"

#define RENEW 2000
#define HEALTH 64

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ch_serve_opts opts = {.fixtures_dir = "fixtures", .time_scale = 1.0, .idle_timeout_ms = 1000};
static struct ch_server *srv;
static long inputs;

static void renew(void)
{
    char err[CH_ERR_LEN];
    char *paths[] = {"cases/xhr/abort-in-state.case", "cases/xhr/empty-body.case"};
    json_t *cases = json_array(), *errs = json_array();
    if (ch_script_load(paths, 2, "fixtures", cases, errs) != 0) {
        fprintf(stderr, "fuzz_control: run from the repository's root (%s must load)\n", paths[0]);
        abort();
    }
    json_decref(errs);
    ch_server_free(srv);
    if (ch_server_new(&opts, cases, &srv, err) != 0) {
        fprintf(stderr, "fuzz_control: %s\n", err);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    renew();
    return 0;
}

/* The input with {S}, {H} and {R} replaced (malloc'd, *n bytes). */
static char *expand(const uint8_t *data, size_t size, size_t *n)
{
    char run[32];
    ch_server_next_run_id(srv, run, sizeof run);
    const char *secret = ch_server_secret(srv);
    const char *values[] = {secret, ch_server_hostport(srv, "A"), run}; /* {S}, {H}, {R} */
    char *out = malloc(size * (strlen(secret) / 3 + 1) + 1), *o = out;
    for (size_t i = 0; i < size;) {
        /* compared by hand: libFuzzer's hook on memcmp would cost more than the rest of the input's run */
        static const char keys[] = "SHR";
        const char *at = i + 2 < size && data[i] == '{' && data[i + 2] == '}' ? strchr(keys, data[i + 1]) : NULL;
        if (at && *at) {
            o += sprintf(o, "%s", values[at - keys]);
            i += 3;
        } else {
            *o++ = (char)data[i++];
        }
    }
    *n = (size_t)(o - out);
    return out;
}

/* Sends `req` on a fresh connection, half-closes, runs the loop until the server has closed its end (or a
 * bound of turns passes: a long-poll holds it), then closes ours and lets the server free the connection.
 * Returns whether any reply byte came. */
static int exchange(const char *req, size_t n)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    size_t before = ch_server_nconns(srv);
    ch_server_adopt(srv, sv[0]);
    size_t off = 0;
    int got = 0, eof = 0;
    char sink[65536];
    for (int turns = 0; turns < 2000 && !eof; turns++) {
        if (off < n) {
            ssize_t k = write(sv[1], req + off, n - off);
            if (k > 0) off += (size_t)k;
        }
        if (off == n) shutdown(sv[1], SHUT_WR);
        event_base_loop(ch_server_base(srv), EVLOOP_NONBLOCK);
        ssize_t r;
        while ((r = read(sv[1], sink, sizeof sink)) > 0) got = 1;
        if (r == 0) eof = 1;
    }
    close(sv[1]);
    for (int turns = 0; turns < 100 && ch_server_nconns(srv) > before; turns++)
        event_base_loop(ch_server_base(srv), EVLOOP_NONBLOCK);
    if (ch_server_nconns(srv) > before) abort(); /* a connection that outlives its client is a leak */
    return got;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++inputs % RENEW == 0) renew();
    size_t n;
    char *req = expand(data, size, &n);
    exchange(req, n);
    free(req);
    if (inputs % HEALTH) return 0;
    char health[256];
    int hn = snprintf(health, sizeof health, "GET /_h/health HTTP/1.1\r\nHost: %s\r\n\r\n",
                      ch_server_hostport(srv, "A"));
    if (!exchange(health, (size_t)hn)) abort(); /* the server carries on */
    return 0;
}
