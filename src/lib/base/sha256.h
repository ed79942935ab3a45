/*
 * SHA-256 through OpenSSL, as lower-case hex.
 *
 * Migration checksums, and later build digests and the ledger's chain,
 * all need the same hash; one wrapper keeps OpenSSL's EVP interface in
 * one place. Hashing cannot fail short of OpenSSL itself being broken,
 * which aborts.
 */
#ifndef OTAP_SHA256_H
#define OTAP_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64

struct sha256 {
    void *ctx; /* EVP_MD_CTX */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes 64 hex digits and a NUL to out, and releases h. */
void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_LEN + 1]);

/* Releases h without a result (a stream given up); safe after sha256_final_hex. */
void sha256_release(struct sha256 *h);

/* One call: the hex digest of data[0..len). */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
