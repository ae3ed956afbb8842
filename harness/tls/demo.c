/* demo.c — `tls-demo DIR`: the prototype TLS origin server of proto.h, for trying clients by hand and for the
 * trust proofs of harness/tls/README.md §3. Writes DIR/ca.pem (nothing else), prints one JSON ready line
 * (CA path, a port per listener kind, the leaves' SPKI hashes), then one JSON line per event, and serves until
 * SIGINT or SIGTERM. Phase A only: phase B serves TLS from `runner serve`. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>

#include "proto.h"
#include "core/core.h"

static void on_signal(evutil_socket_t sig, short what, void *arg) { event_base_loopexit(arg, NULL); }

int main(int argc, char **argv)
{
    char err[CH_ERR_LEN];
    if (argc != 2) {
        fprintf(stderr, "usage: tls-demo DIR   (writes DIR/ca.pem; serves on loopback until SIGINT/SIGTERM)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct ch_tls_proto *p = base ? ch_tls_proto_new(base, argv[1], stdout, err) : NULL;
    if (!p) {
        fprintf(stderr, "tls-demo: %s\n", base ? err : "cannot create the event loop");
        if (base) event_base_free(base);
        return 1;
    }
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    json_t *ready = ch_tls_proto_ready(p);
    json_dumpf(ready, stdout, JSON_COMPACT);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(ready);
    event_base_dispatch(base);
    ch_tls_proto_free(p);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(base);
    return 0;
}
