/* check_tls.c — unit tests of harness/tls/: the run's certificates (pki.c) and the server contexts (tls.c).
 * The per-connection filter is tested where connections use it, through the runner's TLS origins with real
 * clients: harness/server/tests/check_tls_origins.c. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tls/tls.h"
#include "core/core.h"
#include "testing/testing.h"

#define NOW ((time_t)1767225600) /* 2026-01-01T00:00:00Z: certificates made "now" and verified at this time */

/* ---- helpers ----------------------------------------------------------------------------------------------------- */

static char *make_tmpdir(void)
{
    char *d = strdup("/tmp/check_tls.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

static void remove_tmpdir(char *d)
{
    DIR *dir = opendir(d);
    struct dirent *e;
    char path[4200];
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        unlink(path);
    }
    if (dir) closedir(dir);
    rmdir(d);
    free(d);
}

/* The names in a directory, sorted and space-separated (at most 511 bytes). */
static void list_dir(const char *d, char *out, size_t n)
{
    struct dirent **names;
    int k = scandir(d, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        if (names[i]->d_name[0] != '.') {
            if (out[0]) strncat(out, " ", n - strlen(out) - 1);
            strncat(out, names[i]->d_name, n - strlen(out) - 1);
        }
        free(names[i]);
    }
    free(names);
}

/* X509_verify_cert of `leaf` against a store holding only the run's CA, at NOW. Returns the X509_V_* code. */
static int verify_at_now(const struct ch_pki *p, X509 *leaf, const char *host, const char *ip)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    ck_assert(X509_STORE_add_cert(store, ch_pki_ca(p)) == 1);
    ck_assert(X509_STORE_CTX_init(ctx, store, leaf, NULL) == 1);
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_time(param, NOW);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    if (host) X509_VERIFY_PARAM_set1_host(param, host, 0);
    if (ip) X509_VERIFY_PARAM_set1_ip_asc(param, ip);
    int rc = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return rc;
}

static long seconds_from_now(const ASN1_TIME *t)
{
    ASN1_TIME *now = ASN1_TIME_set(NULL, NOW);
    int days = 0, secs = 0;
    ck_assert(ASN1_TIME_diff(&days, &secs, now, t) == 1);
    ASN1_TIME_free(now);
    return (long)days * 86400 + secs;
}

/* ---- pki.c --------------------------------------------------------------------------------------------------------- */

START_TEST(ca_is_a_constrained_short_lived_ca)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, "check", err);
    ck_assert_msg(p != NULL, "%s", err);
    X509 *ca = ch_pki_ca(p);
    ck_assert_int_eq(X509_check_ca(ca), 1); /* basicConstraints CA:TRUE */
    ck_assert(X509_get_extension_flags(ca) & EXFLAG_SS);
    ck_assert(X509_get_key_usage(ca) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    ck_assert_int_eq(X509_get_pathlen(ca), 0);
    ck_assert_int_eq(seconds_from_now(X509_get0_notAfter(ca)), CH_PKI_DAYS * 86400L);
    NAME_CONSTRAINTS *nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL, NULL);
    ck_assert_ptr_nonnull(nc);
    ck_assert_int_eq(sk_GENERAL_SUBTREE_num(nc->permittedSubtrees), 4);
    ck_assert_ptr_null(nc->excludedSubtrees);
    NAME_CONSTRAINTS_free(nc);
    char cn[256];
    X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn);
    ck_assert_str_eq(cn, "harness run CA check");
    ch_pki_free(p);
}
END_TEST

START_TEST(leaves_verify_as_designed)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    ck_assert_msg(p != NULL, "%s", err);
    X509 *good = ch_pki_cert(p, CH_CERT_GOOD);
    ck_assert_int_eq(verify_at_now(p, good, "localhost", NULL), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, NULL, "127.0.0.1"), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, NULL, "::1"), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, good, "example.com", NULL), X509_V_ERR_HOSTNAME_MISMATCH);
    ck_assert_int_eq(seconds_from_now(X509_get0_notBefore(good)), -3600);
    ck_assert_int_eq(seconds_from_now(X509_get0_notAfter(good)), CH_PKI_DAYS * 86400L);
    ck_assert_int_eq(X509_check_ca(good), 0);
    ck_assert(X509_get_extended_key_usage(good) & XKU_SSL_SERVER);

    X509 *expired = ch_pki_cert(p, CH_CERT_EXPIRED);
    ck_assert_int_eq(verify_at_now(p, expired, "localhost", NULL), X509_V_ERR_CERT_HAS_EXPIRED);
    ck_assert_int_lt(seconds_from_now(X509_get0_notAfter(expired)), 0);

    X509 *wrong = ch_pki_cert(p, CH_CERT_WRONG_NAME);
    ck_assert_int_eq(verify_at_now(p, wrong, NULL, NULL), X509_V_OK); /* a good chain ... */
    ck_assert_int_eq(verify_at_now(p, wrong, CH_PKI_WRONG_NAME, NULL), X509_V_OK);
    ck_assert_int_eq(verify_at_now(p, wrong, "localhost", NULL), X509_V_ERR_HOSTNAME_MISMATCH); /* ... elsewhere */
    ck_assert_int_eq(verify_at_now(p, wrong, NULL, "127.0.0.1"), X509_V_ERR_IP_ADDRESS_MISMATCH);

    X509 *self = ch_pki_cert(p, CH_CERT_SELF_SIGNED);
    ck_assert_int_eq(verify_at_now(p, self, "localhost", NULL), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
    ck_assert_int_eq(X509_verify(self, ch_pki_key(p, CH_CERT_SELF_SIGNED)), 1); /* signed by its own key */
    ck_assert_int_ne(X509_verify(self, X509_get0_pubkey(ch_pki_ca(p))), 1);

    /* Every leaf has a P-256 key of its own: a key-bound allowance never covers a fault certificate. */
    char spki[CH_CERT_COUNT][CH_PKI_SPKI_B64_LEN];
    for (int i = 0; i < CH_CERT_COUNT; i++) {
        EVP_PKEY *k = ch_pki_key(p, (enum ch_cert)i);
        char group[32];
        size_t glen;
        ck_assert(EVP_PKEY_is_a(k, "EC"));
        ck_assert(EVP_PKEY_get_utf8_string_param(k, "group", group, sizeof group, &glen) == 1);
        ck_assert_str_eq(group, "prime256v1");
        ck_assert_int_eq(X509_check_private_key(ch_pki_cert(p, (enum ch_cert)i), k), 1);
        ck_assert_int_eq(ch_pki_spki_sha256(p, (enum ch_cert)i, spki[i], err), 0);
        ck_assert_int_eq(strlen(spki[i]), 44);
        for (int j = 0; j < i; j++) ck_assert_str_ne(spki[i], spki[j]);
    }
    ck_assert_ptr_null(ch_pki_cert(p, CH_CERT_COUNT));
    ck_assert_int_eq(ch_pki_spki_sha256(p, CH_CERT_COUNT, spki[0], err), -1);
    ck_assert_str_eq(err, "no such certificate: 4");
    ch_pki_free(p);
}
END_TEST

START_TEST(files_only_in_the_given_folder)
{
    char err[CH_ERR_LEN], path[4200], names[512];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    char *d = make_tmpdir();
    ck_assert_int_eq(ch_pki_write_ca(p, d, path, sizeof path, err), 0);
    list_dir(d, names, sizeof names);
    ck_assert_str_eq(names, "ca.pem");
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    FILE *f = fopen(path, "r");
    X509 *back = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(X509_cmp(back, ch_pki_ca(p)), 0);
    X509_free(back);

    ck_assert_int_eq(ch_pki_write_leaf(p, CH_CERT_GOOD, d, err), 0);
    list_dir(d, names, sizeof names);
    ck_assert_str_eq(names, "ca.pem good.key good.pem");
    snprintf(path, sizeof path, "%s/good.key", d);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    f = fopen(path, "r");
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    ck_assert_int_eq(X509_check_private_key(ch_pki_cert(p, CH_CERT_GOOD), k), 1);
    EVP_PKEY_free(k);

    /* A symlink planted at the path is refused, and its target is left alone. */
    char target[4200];
    snprintf(path, sizeof path, "%s/ca.pem", d);
    snprintf(target, sizeof target, "%s/elsewhere", d);
    unlink(path);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(ch_pki_write_ca(p, d, path, sizeof path, err), -1);
    ck_assert_msg(strstr(err, "cannot write") && strstr(err, "ca.pem"), "%s", err);
    ck_assert_int_eq(access(target, F_OK), -1);
    unlink(path);

    ck_assert_int_eq(ch_pki_write_ca(p, "/nonexistent-dir-check-tls", path, sizeof path, err), -1);
    ck_assert_str_eq(err, "cannot write /nonexistent-dir-check-tls/ca.pem: No such file or directory");
    remove_tmpdir(d);
    ch_pki_free(p);
}
END_TEST

/* ---- tls.c: the context --------------------------------------------------------------------------------------------- */

START_TEST(context_arguments_are_checked)
{
    char err[CH_ERR_LEN];
    struct ch_pki *p = ch_pki_new(NOW, NULL, err);
    ck_assert_ptr_null(ch_tls_server_ctx(p, CH_CERT_COUNT, CH_TLS_ACCEPT, 0, err));
    ck_assert_str_eq(err, "no such certificate or refusal mode");
    ck_assert_ptr_null(ch_tls_server_ctx(p, CH_CERT_GOOD, CH_TLS_ACCEPT, TLS1_1_VERSION, err));
    ck_assert_str_eq(err, "max_version must be 0, TLS 1.2 or TLS 1.3");
    SSL_CTX *ctx = ch_tls_server_ctx(p, CH_CERT_GOOD, CH_TLS_ACCEPT, 0, err);
    ck_assert_msg(ctx != NULL, "%s", err);
    ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    ck_assert_int_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    ck_assert(SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET);
    ck_assert_int_eq(SSL_CTX_get_num_tickets(ctx), 0);
    SSL_CTX_free(ctx);
    ck_assert_str_eq(ch_tls_alert_name(48), "unknown_ca");
    ck_assert_str_eq(ch_tls_alert_name(0), "close_notify");
    ck_assert_ptr_null(ch_tls_alert_name(255));
    ch_pki_free(p);
}
END_TEST

int main(void)
{
    return ch_check_main("tls", 0, NULL,
                         CH_TESTS(ca_is_a_constrained_short_lived_ca, leaves_verify_as_designed,
                                  files_only_in_the_given_folder, context_arguments_are_checked));
}
