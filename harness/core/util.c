/* util.c — see core.h. */
#include "core.h"

#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int ch_errf(char *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, CH_ERR_LEN, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void ch_oom(size_t n)
{
    fprintf(stderr, "runner: out of memory (%zu bytes)\n", n);
    abort();
}

void *ch_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) ch_oom(n);
    return p;
}

void *ch_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) ch_oom(count * size);
    return p;
}

void *ch_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) ch_oom(n);
    return q;
}

char *ch_xstrdup(const char *s)
{
    return ch_xstrndup(s, strlen(s));
}

char *ch_xstrndup(const char *s, size_t n)
{
    char *p = ch_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* OpenSSL's allocator hooks (CRYPTO_set_mem_functions(3)): its realloc to 0 bytes frees. */
static void *ossl_malloc(size_t n, const char *file, int line) { return ch_xmalloc(n); }
static void ossl_free(void *p, const char *file, int line) { free(p); }

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    if (n == 0) {
        free(p);
        return NULL;
    }
    return ch_xrealloc(p, n);
}

void ch_oom_install(void)
{
    json_set_alloc_funcs(ch_xmalloc, free);
    event_set_mem_functions(ch_xmalloc, ch_xrealloc, free);
    CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
}

int64_t ch_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ch_scale_ms(int64_t ms, double scale)
{
    return (int64_t)(ms * scale + 0.5);
}

void ch_hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

json_t *ch_hex_json(const void *bytes, size_t n)
{
    char *hex = ch_xmalloc(2 * n + 1);
    ch_hex_encode(bytes, n, hex);
    json_t *j = json_string(hex);
    free(hex);
    return j;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

unsigned char *ch_hex_decode(const char *hex, size_t *len, char *err)
{
    unsigned char *out = ch_xmalloc(strlen(hex) / 2 + 1);
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        if (*p == ' ') continue;
        int v = hex_value(*p);
        if (v < 0) {
            ch_errf(err, "'%c' is not a hex digit", *p);
            free(out);
            return NULL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        ch_errf(err, "odd number of hex digits");
        free(out);
        return NULL;
    }
    *len = n;
    return out;
}

static void digest(const EVP_MD *md, const void *data, size_t n, unsigned char *out)
{
    unsigned int outlen = 0;
    EVP_Digest(data, n, out, &outlen, md, NULL);
}

void ch_sha256_hex(const void *data, size_t n, char out[CH_SHA256_HEX_SIZE])
{
    unsigned char raw[32];
    if (n == 0) { /* the common case (GET bodies), without a digest context */
        memcpy(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 65);
        return;
    }
    digest(EVP_sha256(), data, n, raw);
    ch_hex_encode(raw, sizeof raw, out);
}

void ch_sha1(const void *data, size_t n, unsigned char out[20])
{
    digest(EVP_sha1(), data, n, out);
}

size_t ch_base64(const unsigned char *in, size_t n, char *out)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* How many of s[0..n) from the start are ASCII without NUL, counted eight bytes at a time (a multiple of 8): a
 * word passes when no byte has its high bit set and none is zero (the usual has-zero-byte test). */
static size_t ascii_run(const unsigned char *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if ((w & highs) || ((w - ones) & ~w & highs)) break;
    }
    return i;
}

int ch_utf8_text(const unsigned char *s, size_t n)
{
    size_t i = ascii_run(s, n);
    while (i < n) {
        unsigned char c = s[i];
        size_t more;
        uint32_t cp, min;
        if (c == 0) return 0;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xe0) == 0xc0) { more = 1; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { more = 2; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { more = 3; cp = c & 0x07; min = 0x10000; }
        else return 0;
        if (i + more >= n) return 0;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        i += more + 1;
        i += ascii_run(s + i, n - i); /* words again after each sequence, not after each ASCII byte */
    }
    return 1;
}

char *ch_read_file(const char *path, size_t *len, char *err)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;
    if (!f) {
        ch_errf(err, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        ch_errf(err, "%s: cannot size the file", path);
        goto done;
    }
    buf = ch_xmalloc((size_t)size + 1);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        ch_errf(err, "%s: short read", path);
        free(buf);
        buf = NULL;
        goto done;
    }
    buf[size] = '\0';
    *len = (size_t)size;
done:
    fclose(f);
    return buf;
}

/* A `..` segment: the whole path, its start, its end, or between slashes (`a..b` is a name like any other). */
static int has_dotdot(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/') && (i + 2 == n || p[i + 2] == '/'))
            return 1;
    return 0;
}

enum ch_path_fault ch_path_within(const char *root, const char *rel, size_t n, char *real, size_t *size)
{
    char full[PATH_MAX], r[PATH_MAX], base[PATH_MAX];
    struct stat sb;
    if (n == 0 || strlen(rel) != n) return CH_PATH_EMPTY;
    if (rel[0] == '/') return CH_PATH_ABSOLUTE;
    if (has_dotdot(rel, n)) return CH_PATH_DOTDOT;
    if ((size_t)snprintf(full, sizeof full, "%s/%s", root, rel) >= sizeof full || stat(full, &sb) != 0 ||
        !S_ISREG(sb.st_mode))
        return CH_PATH_MISSING;
    if (!realpath(full, r) || !realpath(root, base)) return CH_PATH_OUTSIDE;
    size_t bn = strlen(base);
    if (strncmp(r, base, bn) != 0 || (r[bn] != '/' && strcmp(base, "/") != 0)) return CH_PATH_OUTSIDE;
    if (real) memcpy(real, r, strlen(r) + 1);
    if (size) *size = (size_t)sb.st_size;
    return CH_PATH_OK;
}

void ch_json_each_ms(json_t *v, void (*fn)(json_t *obj, json_t *ms, void *arg), void *arg)
{
    const char *key;
    json_t *x;
    size_t i;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) ch_json_each_ms(x, fn, arg);
    } else if (json_is_object(v)) {
        json_t *ms = json_object_get(v, "ms");
        if (json_is_integer(ms)) fn(v, ms, arg);
        json_object_foreach(v, key, x) ch_json_each_ms(x, fn, arg);
    }
}
