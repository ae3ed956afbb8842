/* server.h — `runner serve`: three loopback origins, scripted replies, the control protocol. */
#ifndef CH_SERVER_H
#define CH_SERVER_H

#include <jansson.h>

struct ch_serve_opts {
    char *const *case_paths;  /* files or directories of cases */
    int ncase_paths;
    const char *fixtures_dir; /* served under /_h/static/ and read by `body file` */
    int port[3];              /* A, B, C; 0 = any free port */
    double time_scale;        /* multiplies every scripted duration */
    int idle_timeout_ms;      /* a connection idle this long (no request, nothing scripted) is closed */
};

/* Loads the cases, binds the three origins on loopback, prints the ready line (one JSON object) on stdout, and
 * serves until /_h/quit, SIGINT or SIGTERM. Returns the process exit code (0 clean, 2 bad cases, 1 other). */
int ch_server_run(const struct ch_serve_opts *opts);

#endif
