/* pki.c — the run's certificates (tls.h), per RFC 5280 (profile: §4.1 fields, §4.2.1 extensions); the
 * extensions are built from OpenSSL's X509V3 configuration strings (x509v3_config(5)). */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"

#define HOUR 3600L
#define DAY 86400L

struct ch_pki {
    EVP_PKEY *ca_key;
    X509 *ca;
    EVP_PKEY *key[CH_CERT_COUNT];
    X509 *cert[CH_CERT_COUNT];
};

int ch_ossl_errf(char *err, const char *what)
{
    char buf[200] = "no OpenSSL error queued";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return ch_errf(err, "%s: %s", what, buf);
}

static int valid(enum ch_cert which) { return (int)which >= 0 && (int)which < CH_CERT_COUNT; }

const char *ch_cert_name(enum ch_cert which)
{
    static const char *const names[CH_CERT_COUNT] = {"good", "expired", "wrong-name", "self-signed"};
    return valid(which) ? names[which] : "?";
}

/* ---- building one certificate ------------------------------------------------------------------------------ */

/* The loopback names a certificate of the CA may carry (RFC 5280 §4.2.1.10): even while a client trusts this
 * CA it can vouch for nothing but loopback and the deliberately wrong name. */
static const char CA_NAME_CONSTRAINTS[] =
    "critical,permitted;DNS:localhost,permitted;DNS:" CH_PKI_WRONG_NAME ",permitted;IP:127.0.0.0/255.0.0.0,"
    "permitted;IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

struct spec {
    const char *cn;
    const char *san;       /* NULL for the CA */
    long not_before, not_after; /* seconds relative to `now` */
    int self_signed;       /* signed by its own key (the CA, and the self-signed leaf) */
};

static const struct spec LEAVES[CH_CERT_COUNT] = {
    [CH_CERT_GOOD] = {"localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", -HOUR, CH_PKI_DAYS * DAY, 0},
    [CH_CERT_EXPIRED] = {"localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", -2 * DAY, -DAY, 0},
    [CH_CERT_WRONG_NAME] = {CH_PKI_WRONG_NAME, "DNS:" CH_PKI_WRONG_NAME, -HOUR, CH_PKI_DAYS * DAY, 0},
    [CH_CERT_SELF_SIGNED] = {"localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", -HOUR, CH_PKI_DAYS * DAY, 1},
};

/* The CA's window covers the expired leaf's, so that leaf's only fault is its own expiry. */
static const struct spec CA_SPEC = {NULL, NULL, -3 * DAY, CH_PKI_DAYS * DAY, 1};

/* A random positive serial of 16 bytes (RFC 5280 §4.1.2.2: positive, unique per CA, at most 20 octets). */
static int set_serial(X509 *x)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return -1;
    b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
    BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

static int set_names(X509 *x, X509 *issuer, const char *org, const char *cn)
{
    X509_NAME *n = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) ||
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
        return -1;
    return X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n) ? 0 : -1;
}

static int set_extensions(X509 *x, X509 *issuer, const struct spec *s)
{
    X509 *by = s->self_signed ? x : issuer;
    if (!s->san) { /* the CA */
        return add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
               add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
               add_ext(x, x, NID_subject_key_identifier, "hash") ||
               add_ext(x, x, NID_name_constraints, CA_NAME_CONSTRAINTS) ? -1 : 0;
    }
    return add_ext(x, by, NID_basic_constraints, "critical,CA:FALSE") ||
           add_ext(x, by, NID_key_usage, "critical,digitalSignature") ||
           add_ext(x, by, NID_ext_key_usage, "serverAuth") ||
           add_ext(x, by, NID_subject_alt_name, s->san) ||
           add_ext(x, by, NID_subject_key_identifier, "hash") ||
           (!s->self_signed && add_ext(x, by, NID_authority_key_identifier, "keyid:always")) ? -1 : 0;
}

/* Makes a certificate for `key` per `s`, signed by `issuer`/`issuer_key` (or by itself). */
static X509 *make_cert(const struct spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, time_t now,
                       const char *ca_cn, char *err)
{
    X509 *x = X509_new();
    if (!x) return (ch_ossl_errf(err, "X509_new"), NULL);
    const char *org = "conformance harness, throwaway (one run)";
    int bad = !X509_set_version(x, X509_VERSION_3) || set_serial(x) < 0 ||
              !ASN1_TIME_adj(X509_getm_notBefore(x), now, 0, s->not_before) ||
              !ASN1_TIME_adj(X509_getm_notAfter(x), now, 0, s->not_after) ||
              set_names(x, s->self_signed ? NULL : issuer, org, s->cn ? s->cn : ca_cn) < 0 ||
              !X509_set_pubkey(x, key) || set_extensions(x, issuer, s) < 0 ||
              X509_sign(x, s->self_signed ? key : issuer_key, EVP_sha256()) <= 0;
    if (bad) {
        X509_free(x);
        ch_ossl_errf(err, "building a certificate");
        return NULL;
    }
    return x;
}

/* ECDSA over P-256 (FIPS 186-4, RFC 5480): every client here supports it, a key takes well under a
 * millisecond, signatures are cheap for the handshake benchmark, and nginx is given the same key type. */
static EVP_PKEY *new_key(char *err)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k) ch_ossl_errf(err, "generating a P-256 key");
    return k;
}

struct ch_pki *ch_pki_new(time_t now, const char *label, char *err)
{
    struct ch_pki *p = ch_xcalloc(1, sizeof *p);
    char ca_cn[128];
    snprintf(ca_cn, sizeof ca_cn, "harness run CA%s%.80s", label ? " " : "", label ? label : "");
    p->ca_key = new_key(err);
    if (!p->ca_key) goto fail;
    p->ca = make_cert(&CA_SPEC, p->ca_key, NULL, NULL, now, ca_cn, err);
    if (!p->ca) goto fail;
    for (int i = 0; i < CH_CERT_COUNT; i++) {
        p->key[i] = new_key(err);
        if (!p->key[i]) goto fail;
        p->cert[i] = make_cert(&LEAVES[i], p->key[i], p->ca, p->ca_key, now, ca_cn, err);
        if (!p->cert[i]) goto fail;
    }
    return p;
fail:
    ch_pki_free(p);
    return NULL;
}

void ch_pki_free(struct ch_pki *p)
{
    if (!p) return;
    for (int i = 0; i < CH_CERT_COUNT; i++) {
        X509_free(p->cert[i]);
        EVP_PKEY_free(p->key[i]);
    }
    X509_free(p->ca);
    EVP_PKEY_free(p->ca_key);
    free(p);
}

X509 *ch_pki_ca(const struct ch_pki *p) { return p->ca; }

X509 *ch_pki_cert(const struct ch_pki *p, enum ch_cert which)
{
    return valid(which) ? p->cert[which] : NULL;
}

EVP_PKEY *ch_pki_key(const struct ch_pki *p, enum ch_cert which)
{
    return valid(which) ? p->key[which] : NULL;
}

/* ---- files ----------------------------------------------------------------------------------------------------- */

/* Opens DIR/NAME for writing with `mode`, never through a symlink (O_NOFOLLOW): nothing lands outside DIR. */
static FILE *open_in(const char *dir, const char *name, mode_t mode, char *path, size_t n, char *err)
{
    int len = snprintf(path, n, "%s/%s", dir, name);
    if (len < 0 || (size_t)len >= n) return (ch_errf(err, "path too long: %s/%s", dir, name), NULL);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) return (ch_errf(err, "cannot write %s: %s", path, strerror(errno)), NULL);
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        ch_errf(err, "cannot write %s: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

static int finish(FILE *f, int ok, const char *path, char *err)
{
    int closed = fclose(f) == 0;
    if (!ok) return ch_ossl_errf(err, path);
    return closed ? 0 : ch_errf(err, "cannot write %s: %s", path, strerror(errno));
}

int ch_pki_write_ca(const struct ch_pki *p, const char *dir, char *path, size_t n, char *err)
{
    FILE *f = open_in(dir, "ca.pem", 0644, path, n, err);
    if (!f) return -1;
    return finish(f, PEM_write_X509(f, p->ca) == 1, path, err);
}

int ch_pki_write_leaf(const struct ch_pki *p, enum ch_cert which, const char *dir, char *err)
{
    char name[64], path[4096];
    if (!valid(which)) return ch_errf(err, "no such certificate: %d", (int)which);
    snprintf(name, sizeof name, "%s.pem", ch_cert_name(which));
    FILE *f = open_in(dir, name, 0600, path, sizeof path, err);
    if (!f || finish(f, PEM_write_X509(f, p->cert[which]) == 1, path, err) < 0) return -1;
    snprintf(name, sizeof name, "%s.key", ch_cert_name(which));
    f = open_in(dir, name, 0600, path, sizeof path, err);
    if (!f) return -1;
    return finish(f, PEM_write_PrivateKey(f, p->key[which], NULL, NULL, 0, NULL, NULL) == 1, path, err);
}

int ch_pki_spki_sha256(const struct ch_pki *p, enum ch_cert which, char out[CH_PKI_SPKI_B64_LEN], char *err)
{
    unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
    if (!valid(which)) return ch_errf(err, "no such certificate: %d", (int)which);
    int n = i2d_PUBKEY(p->key[which], &der);
    if (n <= 0) return ch_ossl_errf(err, "encoding a public key");
    SHA256(der, (size_t)n, md);
    OPENSSL_free(der);
    ch_base64(md, sizeof md, out);
    return 0;
}
