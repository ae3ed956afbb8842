/* fuzz_request.c — libFuzzer target for the HTTP request reader (harness/net/conn.c): the input bytes arrive on a
 * real connection (a socketpair), exactly as a client's would, then the client half-closes. Every request the
 * parser completes is answered; the connection must end without a crash, a leak or a hang. */
#include <event2/event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int closed;

static void on_dispatch(struct ch_conn *c, struct ch_request *r, void *arg)
{
    ch_conn_reply(c, 200, "OK", "text/plain", NULL, "ok", 2);
}

static void on_closed(struct ch_conn *c, void *arg) { closed = 1; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct ch_conn_owner owner = {on_dispatch, on_closed, NULL, 1000, NULL};
    struct event_base *base = event_base_new();
    int sv[2];
    if (!base || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    struct sockaddr sa = {.sa_family = AF_UNIX};
    closed = 0;
    ch_conn_new(base, sv[0], &sa, sizeof sa, NULL, 1, &owner);
    size_t off = 0;
    char sink[65536];
    /* Feed the bytes as the socket takes them, draining replies so neither side blocks. */
    for (int turns = 0; turns < 10000 && !closed; turns++) {
        if (off < size) {
            ssize_t n = write(sv[1], data + off, size - off);
            if (n > 0) off += (size_t)n;
            if (off == size) shutdown(sv[1], SHUT_WR);
        } else if (size == 0 && turns == 0) {
            shutdown(sv[1], SHUT_WR);
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        while (read(sv[1], sink, sizeof sink) > 0) {}
    }
    close(sv[1]);
    for (int turns = 0; turns < 100 && !closed; turns++) event_base_loop(base, EVLOOP_NONBLOCK);
    if (!closed) abort(); /* a connection that outlives its client's EOF is a leak */
    event_base_free(base);
    return 0;
}
