/* http_raw.c — one keep-alive connection, one request at a time, every request's latency as it was (no
 * correction). Prints one JSON line: {"requests", "p50_us", "p99_us", "p999_us", "p9999_us", "max_us",
 * "over_200us", "over_1ms"}.
 *
 *   http_raw PORT HOST PATHS-FILE SECONDS
 *
 * Requests go to 127.0.0.1:PORT with `Host: HOST`, their targets taken in turn from PATHS-FILE (one per line).
 * wrk corrects its percentiles for coordinated omission (it adds, for a request slower than the mean interval,
 * the samples a client sending at that fixed rate would have seen), so one stall of 10 ms on one connection
 * becomes hundreds of samples and can set wrk's p99 alone; this client reports what each request took, so the
 * two figures together tell a steady tail from a few long stalls (README, "Benchmarks"). A reply is read up to
 * its Content-Length; a reply without one, a closed connection or a short write is an error, not a figure. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS 10000
#define MAX_REQUESTS 20000000

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads one reply whole from fd into buf (cap bytes); 0, or -1 with the reason on stderr. One request is in
 * flight at a time, so a byte past the reply's end is an error too. */
static int read_reply(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        if (got == cap - 1) return fprintf(stderr, "http_raw: a reply head larger than %zu bytes\n", cap), -1;
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r <= 0) return fprintf(stderr, "http_raw: the connection closed mid-reply\n"), -1;
        got += (size_t)r;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "\r\ncontent-length:");
        if (!cl || cl > end) return fprintf(stderr, "http_raw: a reply without Content-Length\n"), -1;
        char *digits = cl + 17, *stop;
        while (*digits == ' ' || *digits == '\t') digits++;
        errno = 0;
        unsigned long body = strtoul(digits, &stop, 10);
        if (stop == digits || *digits == '-' || errno || body >= cap)
            return fprintf(stderr, "http_raw: a bad or too large Content-Length\n"), -1;
        size_t want = (size_t)(end + 4 - buf) + body;
        if (want >= cap) return fprintf(stderr, "http_raw: a reply larger than %zu bytes\n", cap), -1;
        if (got > want) return fprintf(stderr, "http_raw: bytes after the reply\n"), -1;
        if (got == want) return 0;
    }
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return perror("http_raw: connect"), -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 5) return fprintf(stderr, "usage: http_raw PORT HOST PATHS-FILE SECONDS\n"), 2;
    static char paths[MAX_PATHS][256], req[512], buf[1 << 16];
    FILE *f = fopen(argv[3], "r");
    size_t np = 0;
    while (f && np < MAX_PATHS && fscanf(f, "%255s", paths[np]) == 1) np++;
    if (f) fclose(f);
    if (!np) return fprintf(stderr, "http_raw: no paths in %s\n", argv[3]), 2;
    int fd = connect_to(atoi(argv[1]));
    double *lat = malloc(MAX_REQUESTS * sizeof *lat), end = now_us() + atof(argv[4]) * 1e6;
    if (fd < 0 || !lat) return 1;
    size_t n = 0;
    while (n < MAX_REQUESTS && now_us() < end) {
        int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", paths[n % np], argv[2]);
        if (len < 0 || (size_t)len >= sizeof req) return fprintf(stderr, "http_raw: a request too long\n"), 2;
        double t0 = now_us();
        if (write(fd, req, (size_t)len) != len) return fprintf(stderr, "http_raw: a short write\n"), 1;
        if (read_reply(fd, buf, sizeof buf) != 0) return 1;
        lat[n++] = now_us() - t0;
    }
    if (!n) return fprintf(stderr, "http_raw: no request completed\n"), 1;
    qsort(lat, n, sizeof *lat, by_value);
    size_t over200 = 0, over1ms = 0;
    for (size_t i = 0; i < n; i++) over200 += lat[i] > 200, over1ms += lat[i] > 1000;
    printf("{\"requests\": %zu, \"p50_us\": %.0f, \"p99_us\": %.0f, \"p999_us\": %.0f, \"p9999_us\": %.0f, "
           "\"max_us\": %.0f, \"over_200us\": %zu, \"over_1ms\": %zu}\n",
           n, lat[n / 2], lat[n * 99 / 100], lat[n * 999 / 1000], lat[n * 9999 / 10000], lat[n - 1], over200, over1ms);
    free(lat);
    close(fd);
    return 0;
}
