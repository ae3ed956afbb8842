/* fuzz_tls_conn.c — libFuzzer target: hostile client streams on a real TLS connection of a real server
 * (ch_server_new with a run folder: the run's CA, the good context of origin SA and the fault contexts), over a
 * socketpair. TLS adds no parser of ours (OpenSSL parses records and handshakes, harness/tls/README.md §4 item
 * 11), but it adds our handling of what OpenSSL reports: the ClientHello read-outs (SNI, ALPN, the refusal
 * callback) in the tls-* events, the read loop's results (data, AGAIN, close_notify, EOF, alerts, errors) and
 * the stream-end flag kept across turns (harness/net/conn_tls.c). This target drives those paths.
 *
 * Input: byte 0 chooses the listener's context (the good one, or one of the CH_FAULTS fault contexts); byte 1's
 * low bit the mode:
 *   raw (0)     the rest is the client's byte stream as is (seeds: real ClientHellos, fuzz/corpus/fuzz_tls_conn/);
 *   client (1)  a real OpenSSL client handshakes first (SNI and ALPN taken from the input), then the rest is a
 *               list of operations [op][len][len bytes]: op%5 = 0 send the bytes as application data (an HTTP
 *               request, "{H}" standing for SA's Host), 1 write them raw into the stream (a forged or broken
 *               record), 2 send close_notify, 3 half-close (FIN), 4 run the server's loop.
 * The connection must end without a crash, a leak or a hang once the client has closed; the server must still
 * complete a handshake and answer /_h/health over TLS afterwards (checked every HEALTH inputs). The server is made
 * anew every RENEW inputs. Run with `make fuzz FUZZ_SECONDS=N`. */
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case/case.h"
#include "core/core.h"
#include "server/server.h"

#define RENEW 2000
#define HEALTH 64
#define TURNS 400

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char run_dir[] = "/tmp/fuzz_tls_conn.XXXXXX";
static struct ch_serve_opts opts = {.fixtures_dir = "fixtures", .time_scale = 1.0, .idle_timeout_ms = 1000};
static struct ch_server *srv;
static char listeners[1 + CH_FAULTS][32]; /* "SA", then "SF-NAME" per fault context */
static SSL_CTX *client_ctx;
static long inputs;

static void renew(void)
{
    char err[CH_ERR_LEN];
    char *paths[] = {"cases/xhr/empty-body.case"};
    json_t *cases = json_array(), *errs = json_array();
    if (ch_script_load(paths, 1, "fixtures", cases, errs) != 0) {
        fprintf(stderr, "fuzz_tls_conn: run from the repository's root (%s must load)\n", paths[0]);
        abort();
    }
    json_decref(errs);
    ch_server_free(srv);
    if (ch_server_new(&opts, cases, &srv, err) != 0) {
        fprintf(stderr, "fuzz_tls_conn: %s\n", err);
        abort();
    }
    snprintf(listeners[0], sizeof listeners[0], "SA");
    for (int f = 0; f < CH_FAULTS; f++) snprintf(listeners[1 + f], sizeof listeners[1 + f], "SF-%s", ch_fault_name(f));
}

/* At exit: the run folder and the ca.pem the server wrote into it (nothing else is written there). */
static void remove_run_dir(void)
{
    char path[sizeof run_dir + 16];
    snprintf(path, sizeof path, "%s/ca.pem", run_dir);
    unlink(path);
    rmdir(run_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    signal(SIGPIPE, SIG_IGN); /* as runner.c: a write to a peer that has gone is an error, not a signal */
    if (!mkdtemp(run_dir)) abort();
    atexit(remove_run_dir);
    opts.run_dir = run_dir;
    renew();
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL); /* the fault contexts' certificates too */
    SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_OFF);
    return 0;
}

struct pair {
    int server, client;
    size_t before; /* the server's connections before this one */
    SSL *ssl;      /* the client's, in client mode */
};

static void open_pair(struct pair *p, const char *origin)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    *p = (struct pair){sv[0], sv[1], ch_server_nconns(srv), NULL};
    if (ch_server_adopt_tls(srv, sv[0], origin) != 0) abort(); /* the server serves TLS: it has a run folder */
}

static void turn(void) { event_base_loop(ch_server_base(srv), EVLOOP_NONBLOCK); }

/* Raw bytes into the stream, the server's loop run while the socket is full. */
static void write_raw(struct pair *p, const uint8_t *b, size_t n)
{
    char sink[16384];
    for (int turns = 0; n && turns < TURNS; turns++) {
        ssize_t k = write(p->client, b, n);
        if (k > 0) b += k, n -= (size_t)k;
        turn();
        if (p->ssl) continue; /* the client's SSL reads its own input */
        while (read(p->client, sink, sizeof sink) > 0) {}
    }
}

/* The client's end: close, then the server's loop until the connection is freed (or it is a leak). */
static void close_pair(struct pair *p)
{
    if (p->ssl) SSL_free(p->ssl);
    close(p->client);
    for (int turns = 0; turns < 100 && ch_server_nconns(srv) > p->before; turns++) turn();
    if (ch_server_nconns(srv) > p->before) abort(); /* a connection that outlives its client is a leak */
}

/* Drives the client's SSL call until it completes or fails, running the server's loop between tries. */
static int drive(struct pair *p, int (*op)(SSL *, const void *, int), const void *b, int n)
{
    for (int turns = 0; turns < TURNS; turns++) {
        int r = op(p->ssl, b, n);
        if (r > 0) return r;
        int e = SSL_get_error(p->ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return -1;
        turn();
    }
    return -1;
}

static int hs_op(SSL *s, const void *b, int n) { (void)b, (void)n; return SSL_do_handshake(s); }
static int write_op(SSL *s, const void *b, int n) { return SSL_write(s, b, n); }
static int read_op(SSL *s, const void *b, int n) { return SSL_read(s, (void *)b, n); }

/* A real client handshake on p: 0 when it completed. */
static int handshake(struct pair *p, const char *sni, const unsigned char *alpn, unsigned alpn_len)
{
    p->ssl = SSL_new(client_ctx);
    SSL_set_fd(p->ssl, p->client);
    SSL_set_connect_state(p->ssl);
    if (sni && *sni) SSL_set_tlsext_host_name(p->ssl, sni);
    if (alpn_len) SSL_set_alpn_protos(p->ssl, alpn, alpn_len);
    return drive(p, hs_op, NULL, 0) == 1 ? 0 : -1;
}

/* The bytes with "{H}" replaced by SA's Host (malloc'd, *n bytes). */
static char *expand(const uint8_t *b, size_t size, size_t *n)
{
    const char *host = ch_server_hostport(srv, "SA");
    char *out = malloc(size * strlen(host) + 1), *o = out;
    for (size_t i = 0; i < size;) {
        if (i + 2 < size && b[i] == '{' && b[i + 1] == 'H' && b[i + 2] == '}') {
            o += sprintf(o, "%s", host);
            i += 3;
        } else {
            *o++ = (char)b[i++];
        }
    }
    *n = (size_t)(o - out);
    return out;
}

static void client_mode(struct pair *p, const uint8_t *b, size_t n)
{
    /* [sni-len][sni][alpn-len][alpn wire form] then the operations */
    char sni[64] = "";
    unsigned char alpn[64];
    size_t sl = n ? b[0] % sizeof sni : 0;
    if (1 + sl > n) return;
    memcpy(sni, b + 1, sl);
    sni[sl] = '\0';
    b += 1 + sl, n -= 1 + sl;
    size_t al = n ? b[0] % sizeof alpn : 0;
    if (1 + al > n) return;
    memcpy(alpn, b + 1, al);
    b += 1 + al, n -= 1 + al;
    if (handshake(p, sni, alpn, (unsigned)al) != 0) return;
    while (n >= 2) {
        unsigned op = b[0] % 5, len = b[1];
        b += 2, n -= 2;
        if (len > n) len = (unsigned)n;
        switch (op) {
        case 0: {
            size_t m;
            char *req = expand(b, len, &m);
            if (m) drive(p, write_op, req, (int)m);
            free(req);
            break;
        }
        case 1: write_raw(p, b, len); break;
        case 2: SSL_shutdown(p->ssl); break;
        case 3: shutdown(p->client, SHUT_WR); break;
        default: break;
        }
        b += len, n -= len;
        turn();
        char sink[16384];
        while (SSL_read(p->ssl, sink, sizeof sink) > 0) {} /* take the replies (their records, alerts) */
    }
    shutdown(p->client, SHUT_WR);
    for (int turns = 0; turns < 50; turns++) turn();
}

/* A good handshake on SA and GET /_h/health: whether the reply came. */
static int healthy(void)
{
    struct pair p;
    open_pair(&p, listeners[0]);
    int ok = 0;
    if (handshake(&p, "localhost", (const unsigned char *)"\x08http/1.1", 9) == 0) {
        char req[256], reply[512];
        int n = snprintf(req, sizeof req, "GET /_h/health HTTP/1.1\r\nHost: %s\r\n\r\n",
                         ch_server_hostport(srv, "SA"));
        if (drive(&p, write_op, req, n) == n)
            ok = drive(&p, read_op, reply, sizeof reply - 1) > 0;
    }
    close_pair(&p);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    if (++inputs % RENEW == 0) renew();
    struct pair p;
    open_pair(&p, listeners[data[0] % (1 + CH_FAULTS)]);
    if (data[1] & 1) client_mode(&p, data + 2, size - 2);
    else write_raw(&p, data + 2, size - 2), shutdown(p.client, SHUT_WR);
    close_pair(&p);
    if (inputs % HEALTH == 0 && !healthy()) abort(); /* the server carries on */
    return 0;
}
