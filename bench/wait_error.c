/* wait_error.c — how late do scripted waits arrive at the client socket?
 *
 *   wait_error HOST PORT TARGET N WAIT_MS
 *
 * Sends N requests one after another on one keep-alive connection to TARGET (whose route scripts
 * `wait WAIT_MS`), measures request-sent → first-byte with CLOCK_MONOTONIC, and prints the error
 * (measured − scripted) at p50, p90, p99 and max in milliseconds. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: wait_error HOST PORT TARGET N WAIT_MS\n");
        return 64;
    }
    int n = atoi(argv[4]), one = 1;
    double wait = atof(argv[5]), *err = calloc((size_t)n, sizeof *err);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, strcmp(argv[1], "localhost") == 0 ? "127.0.0.1" : argv[1], &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char req[512], buf[4096];
    int rl = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", argv[3], argv[1], argv[2]);
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        if (write(fd, req, (size_t)rl) != rl) return 1;
        ssize_t got = read(fd, buf, sizeof buf); /* the first byte run of the reply */
        if (got <= 0) return 1;
        err[i] = now_ms() - t0 - wait;
        /* the 2-byte body may come in the same read or the next */
        if (!memmem(buf, (size_t)got, "\r\n\r\nok", 6) && read(fd, buf, sizeof buf) <= 0) return 1;
    }
    qsort(err, (size_t)n, sizeof *err, cmp);
    printf("{\"n\": %d, \"wait_ms\": %g, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}\n", n, wait,
           err[n / 2], err[n * 9 / 10], err[n * 99 / 100], err[n - 1]);
    free(err);
    close(fd);
    return 0;
}
