/* pki.h — the run's throwaway certificate authority and the certificates the TLS origins present.
 *
 * One `struct ch_pki` per run, made in memory at start: a CA (ECDSA P-256, self-signed, basicConstraints
 * CA:TRUE pathlen:0, keyUsage keyCertSign cRLSign, nameConstraints limiting it to loopback names) and four
 * leaves, each with a key of its own (ECDSA P-256), so that an allowance bound to one key (Chromium's
 * --ignore-certificate-errors-spki-list) never covers a fault certificate:
 *
 *   CH_CERT_GOOD         signed by the CA, valid now (for CH_PKI_DAYS), subjectAltName DNS:localhost,
 *                        IP:127.0.0.1, IP:::1 — the certificate of every TLS origin
 *   CH_CERT_EXPIRED      the same names, signed by the CA, validity ended a day ago (RFC 5280 §4.1.2.5)
 *   CH_CERT_WRONG_NAME   signed by the CA, valid now, for DNS:wrong-name.invalid only (RFC 9110 §4.3.4:
 *                        the name must match the URI's host)
 *   CH_CERT_SELF_SIGNED  the good certificate's names and validity, but signed by its own key: no CA vouches
 *
 * The CA's private key never leaves memory; ch_pki_free() frees it. Nothing is written except by the two
 * write functions, into the directory the caller names (the run folder). Errors: util.h's convention. */
#ifndef CH_TLS_PKI_H
#define CH_TLS_PKI_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <time.h>

#define CH_PKI_DAYS 1            /* validity of the CA and the good leaves, from an hour before `now` */
#define CH_PKI_WRONG_NAME "wrong-name.invalid"
#define CH_PKI_SPKI_B64_LEN 45   /* base64 of a SHA-256 digest, plus NUL */

enum ch_cert {
    CH_CERT_GOOD,
    CH_CERT_EXPIRED,
    CH_CERT_WRONG_NAME,
    CH_CERT_SELF_SIGNED,
    CH_CERT_COUNT
};

struct ch_pki;

/* Generates the CA and every leaf for a run starting at `now` (seconds since the epoch; time(NULL) in the
 * server, a fixed value in tests). `label` goes into the CA's common name (e.g. the run folder's name) so that
 * a stray certificate says where it came from; may be NULL. Takes about a millisecond per key. */
struct ch_pki *ch_pki_new(time_t now, const char *label, char *err);
void ch_pki_free(struct ch_pki *p);

/* Borrowed pointers, valid until ch_pki_free. */
X509 *ch_pki_ca(const struct ch_pki *p);
X509 *ch_pki_cert(const struct ch_pki *p, enum ch_cert which);
EVP_PKEY *ch_pki_key(const struct ch_pki *p, enum ch_cert which);

/* "good", "expired", "wrong-name", "self-signed": the names used in file names, ready lines and transcripts. */
const char *ch_cert_name(enum ch_cert which);

/* Writes the CA certificate as PEM to DIR/ca.pem (mode 0644; an existing regular file is replaced, a symlink
 * there is refused) and puts that path into `path` (n bytes). This is the one file clients need. */
int ch_pki_write_ca(const struct ch_pki *p, const char *dir, char *path, size_t n, char *err);

/* Writes a leaf's certificate and key as PEM to DIR/NAME.pem and DIR/NAME.key (mode 0600), NAME from
 * ch_cert_name: for a reference server given the same certificate (the TLS benchmark's nginx). */
int ch_pki_write_leaf(const struct ch_pki *p, enum ch_cert which, const char *dir, char *err);

/* base64(SHA-256(DER SubjectPublicKeyInfo)) of a leaf's key: the form Chromium's
 * --ignore-certificate-errors-spki-list and HPKP-style pins use. */
int ch_pki_spki_sha256(const struct ch_pki *p, enum ch_cert which, char out[CH_PKI_SPKI_B64_LEN], char *err);

/* Puts "WHAT: <the first queued OpenSSL error>" into err, clears OpenSSL's error queue, returns -1. */
int ch_ossl_errf(char *err, const char *what);

#endif
