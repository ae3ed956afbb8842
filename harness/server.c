/* server.c — placeholder until the server lands. */
#include "server.h"
#include <stdio.h>
int ch_server_run(const struct ch_serve_opts *opts) { fputs("server not built yet\n", stderr); return 1; }
