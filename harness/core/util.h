/* util.h — small shared helpers: errors as values, hex, digests, clocks.
 *
 * Error convention (used by every module): a fallible function takes `char *err` (CH_ERR_LEN bytes, may be
 * NULL) and returns 0 on success, -1 on failure after writing a one-line message into err. */
#ifndef CH_UTIL_H
#define CH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define CH_ERR_LEN 256

/* Formats a message into err (if not NULL) and returns -1, so callers can `return ch_errf(err, ...)`. */
int ch_errf(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic clock in microseconds (CLOCK_MONOTONIC). Never fails. */
int64_t ch_now_us(void);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void ch_hex_encode(const unsigned char *in, size_t n, char *out);

/* Decodes hex digits (spaces ignored) into a malloc'd buffer; *len gets its size. Returns NULL with err set on
 * an odd digit count or a non-hex character. Caller frees. */
unsigned char *ch_hex_decode(const char *hex, size_t *len, char *err);

/* SHA-256 of n bytes as 64 lowercase hex characters plus NUL. */
void ch_sha256_hex(const void *data, size_t n, char out[65]);

/* SHA-1 of n bytes, raw (20 bytes). */
void ch_sha1(const void *data, size_t n, unsigned char out[20]);

/* Base64 (standard alphabet, padded) of n bytes into out; returns the length written (out needs 4*ceil(n/3)+1). */
size_t ch_base64(const unsigned char *in, size_t n, char *out);

/* 1 if the n bytes are valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) and hold no NUL. */
int ch_utf8_text(const unsigned char *s, size_t n);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (*len excludes the NUL). NULL + err on failure. */
char *ch_read_file(const char *path, size_t *len, char *err);

#endif
