/*
 * The SHA-256 wrapper: OpenSSL's EVP digest behind three calls.
 */
#include <openssl/evp.h>
#include <stdlib.h>

#include "base/sha256.h"
#include "base/banned.h"

static void sha256_die(void)
{
    /* only a broken libcrypto gets here; a wrong checksum would be worse than a crash */
    abort();
}

void sha256_init(struct sha256 *h)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        sha256_die();
    h->ctx = ctx;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        sha256_die();
}

void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != SHA256_HEX_LEN / 2)
        sha256_die();
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
}

void sha256_release(struct sha256 *h)
{
    EVP_MD_CTX_free(h->ctx); /* NULL after sha256_final_hex: then nothing to do */
    h->ctx = NULL;
}

void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, data, len);
    sha256_final_hex(&h, out);
}
