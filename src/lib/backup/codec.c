/*
 * zstd, AES-256-GCM and SHA-256 over a stream (codec.h).
 */
#include "backup/codec.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/xalloc.h"
#include "base/banned.h"

#define MAGIC "OTAPENC1"
#define MAGIC_LEN 8
#define IV_LEN 12
#define TAG_LEN 16

int bk_key_parse(const char *value, unsigned char key[BK_KEY_LEN], const char *var,
                 struct otap_err *err)
{
    size_t n = value ? strlen(value) : 0;
    if (n == 2 * BK_KEY_LEN) {
        bool hex = true;
        for (size_t i = 0; i < n && hex; i++)
            hex = isxdigit((unsigned char)value[i]) != 0;
        if (hex) {
            for (size_t i = 0; i < BK_KEY_LEN; i++) {
                char pair[3] = {value[2 * i], value[2 * i + 1], '\0'};
                key[i] = (unsigned char)strtoul(pair, NULL, 16);
            }
            return 0;
        }
    }
    /* base64 of 32 bytes: 44 characters, one '=' */
    if (n == 44 && value[43] == '=' && value[42] != '=') {
        unsigned char out[48];
        int k = EVP_DecodeBlock(out, (const unsigned char *)value, 44);
        if (k == 33) { /* EVP_DecodeBlock counts the padding */
            memcpy(key, out, BK_KEY_LEN);
            explicit_bzero(out, sizeof out);
            return 0;
        }
        explicit_bzero(out, sizeof out);
    }
    return otap_err_set(err, OTAP_EINVALID,
                        "%s is not a 256-bit key: give 64 hex digits or 44 characters of base64 "
                        "(openssl rand -hex 32)",
                        var);
}

/* ---- writing --------------------------------------------------------------------------------- */

struct bk_writer {
    struct bk_put *put;
    ZSTD_CCtx *z;
    EVP_CIPHER_CTX *aes;
    struct sha256 h;
    unsigned char *zout, *cout;
    size_t zcap;
    long long raw, stored;
};

/* Out to the put, through the cipher and the hash. */
static int emit(struct bk_writer *w, const unsigned char *data, size_t len, struct otap_err *err)
{
    if (!len)
        return 0;
    if (w->aes) {
        int outl = 0;
        if (!EVP_EncryptUpdate(w->aes, w->cout, &outl, data, (int)len))
            return otap_err_set(err, OTAP_EEXTERNAL, "encryption failed");
        data = w->cout;
        len = (size_t)outl;
    }
    sha256_update(&w->h, data, len);
    w->stored += (long long)len;
    return bk_put_write(w->put, data, len, err);
}

int bk_writer_open(struct bk_writer **out, struct bk_put *put, int level, int workers,
                   const unsigned char *key, struct otap_err *err)
{
    struct bk_writer *w = xcalloc(1, sizeof(*w));
    w->put = put;
    sha256_init(&w->h);
    w->z = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);
    /* a libzstd built without threads refuses: then it runs in this thread */
    if (workers > 0)
        ZSTD_CCtx_setParameter(w->z, ZSTD_c_nbWorkers, workers);
    w->zcap = ZSTD_CStreamOutSize();
    w->zout = xmalloc(w->zcap);
    w->cout = xmalloc(w->zcap + 32);
    *out = w;
    if (key) {
        unsigned char iv[IV_LEN];
        if (RAND_bytes(iv, IV_LEN) != 1) {
            bk_writer_free(w);
            *out = NULL;
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot read random bytes");
        }
        w->aes = EVP_CIPHER_CTX_new();
        if (!w->aes || !EVP_EncryptInit_ex(w->aes, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
            !EVP_CIPHER_CTX_ctrl(w->aes, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) ||
            !EVP_EncryptInit_ex(w->aes, NULL, NULL, key, iv)) {
            bk_writer_free(w);
            *out = NULL;
            return otap_err_set(err, OTAP_EEXTERNAL, "cannot set up AES-256-GCM");
        }
        unsigned char head[MAGIC_LEN + IV_LEN];
        memcpy(head, MAGIC, MAGIC_LEN);
        memcpy(head + MAGIC_LEN, iv, IV_LEN);
        sha256_update(&w->h, head, sizeof head);
        w->stored += (long long)sizeof head;
        int rc = bk_put_write(put, head, sizeof head, err);
        if (rc < 0) {
            bk_writer_free(w);
            *out = NULL;
            return rc;
        }
    }
    return 0;
}

static int compress(struct bk_writer *w, const void *data, size_t len, ZSTD_EndDirective mode,
                    struct otap_err *err)
{
    ZSTD_inBuffer in = {data, len, 0};
    for (;;) {
        ZSTD_outBuffer o = {w->zout, w->zcap, 0};
        size_t left = ZSTD_compressStream2(w->z, &o, &in, mode);
        if (ZSTD_isError(left))
            return otap_err_set(err, OTAP_EEXTERNAL, "zstd: %s", ZSTD_getErrorName(left));
        int rc = emit(w, w->zout, o.pos, err);
        if (rc < 0)
            return rc;
        if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
            return 0;
    }
}

int bk_writer_write(struct bk_writer *w, const void *data, size_t len, struct otap_err *err)
{
    w->raw += (long long)len;
    return compress(w, data, len, ZSTD_e_continue, err);
}

long long bk_writer_raw(const struct bk_writer *w)
{
    return w->raw;
}

int bk_writer_finish(struct bk_writer *w, char sha256[SHA256_HEX_LEN + 1], long long *raw,
                     long long *stored, struct otap_err *err)
{
    int rc = compress(w, "", 0, ZSTD_e_end, err);
    if (rc == 0 && w->aes) {
        int outl = 0;
        unsigned char tag[TAG_LEN];
        if (!EVP_EncryptFinal_ex(w->aes, w->cout, &outl) ||
            !EVP_CIPHER_CTX_ctrl(w->aes, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag))
            rc = otap_err_set(err, OTAP_EEXTERNAL, "encryption failed");
        else {
            sha256_update(&w->h, tag, TAG_LEN);
            w->stored += TAG_LEN;
            rc = bk_put_write(w->put, tag, TAG_LEN, err);
        }
    }
    if (rc == 0) {
        sha256_final_hex(&w->h, sha256);
        *raw = w->raw;
        *stored = w->stored;
    }
    bk_writer_free(w);
    return rc;
}

void bk_writer_free(struct bk_writer *w)
{
    if (!w)
        return;
    sha256_release(&w->h);
    ZSTD_freeCCtx(w->z);
    EVP_CIPHER_CTX_free(w->aes);
    free(w->zout);
    free(w->cout);
    free(w);
}

/* ---- reading --------------------------------------------------------------------------------- */

struct bk_reader {
    ZSTD_DCtx *z;
    EVP_CIPHER_CTX *aes;
    const unsigned char *key;
    bool encrypted, header_done;
    unsigned char head[MAGIC_LEN + IV_LEN];
    size_t head_len;
    unsigned char held[TAG_LEN]; /* the last bytes seen: the tag, once the stream ends */
    size_t held_len;
    struct sha256 h;
    bk_chunk_fn fn;
    void *ctx;
    bool out_closed, stop_early;
    size_t last_ret; /* zstd: 0 when a frame ended */
    unsigned char *plain, *dout;
    size_t dcap;
    long long raw;
    struct otap_err *err;
    int rc;
    char *why; /* the first fault; reported at the end, unless the tag explains it better */
};

int bk_reader_open(struct bk_reader **out, const unsigned char *key, bk_chunk_fn fn, void *ctx,
                   bool stop_early, struct otap_err *err)
{
    struct bk_reader *r = xcalloc(1, sizeof(*r));
    r->z = ZSTD_createDCtx();
    r->key = key;
    r->encrypted = key != NULL;
    r->header_done = !key;
    r->fn = fn;
    r->ctx = ctx;
    r->stop_early = stop_early;
    r->dcap = ZSTD_DStreamOutSize();
    r->dout = xmalloc(r->dcap);
    r->err = err;
    sha256_init(&r->h);
    *out = r;
    return 0;
}

static int fail(struct bk_reader *r, int code, const char *msg)
{
    if (!r->why)
        r->why = xstrdup(msg);
    r->rc = code;
    return r->rc;
}

/* Plain (decrypted) bytes into zstd, and the dump out. */
static int decompress(struct bk_reader *r, const unsigned char *data, size_t len)
{
    ZSTD_inBuffer in = {data, len, 0};
    while (in.pos < in.size) {
        ZSTD_outBuffer o = {r->dout, r->dcap, 0};
        size_t ret = ZSTD_decompressStream(r->z, &o, &in);
        if (ZSTD_isError(ret)) {
            char *m = xasprintf("the backup does not decompress: %s", ZSTD_getErrorName(ret));
            fail(r, OTAP_EFOUND, m);
            free(m);
            return r->rc;
        }
        r->last_ret = ret;
        r->raw += (long long)o.pos;
        if (o.pos && !r->out_closed) {
            int k = r->fn(r->ctx, r->dout, o.pos);
            if (k < 0)
                return fail(r, k, "the output could not be written");
            if (k > 0) {
                r->out_closed = true;
                if (r->stop_early)
                    return 1;
            }
        }
    }
    return 0;
}

static int push_encrypted(struct bk_reader *r, const unsigned char *data, size_t len);

static int decrypt(struct bk_reader *r, const unsigned char *data, size_t len)
{
    if (!len)
        return 0;
    r->plain = xrealloc(r->plain, len + 32);
    int outl = 0;
    if (!EVP_DecryptUpdate(r->aes, r->plain, &outl, data, (int)len))
        return fail(r, OTAP_EFOUND, "the backup does not decrypt");
    return decompress(r, r->plain, (size_t)outl);
}

int bk_reader_push(void *reader, const unsigned char *data, size_t len)
{
    struct bk_reader *r = reader;
    /* hashed whole even past a fault: verify reports the checksum as well as the fault */
    sha256_update(&r->h, data, len);
    if (r->rc)
        return r->stop_early ? r->rc : 0;
    int drc = 0;
    if (!r->encrypted) {
        drc = decompress(r, data, len);
        return drc < 0 && !r->stop_early ? 0 : drc;
    }
    drc = push_encrypted(r, data, len);
    return drc < 0 && !r->stop_early ? 0 : drc;
}

static int push_encrypted(struct bk_reader *r, const unsigned char *data, size_t len)
{
    /* the head: magic and nonce */
    while (!r->header_done && len) {
        size_t k = sizeof r->head - r->head_len < len ? sizeof r->head - r->head_len : len;
        memcpy(r->head + r->head_len, data, k);
        r->head_len += k;
        data += k;
        len -= k;
        if (r->head_len == sizeof r->head) {
            if (memcmp(r->head, MAGIC, MAGIC_LEN))
                return fail(r, OTAP_EFOUND,
                            "the backup is not encrypted by otap (no OTAPENC1 header), or is "
                            "damaged");
            r->aes = EVP_CIPHER_CTX_new();
            if (!r->aes || !EVP_DecryptInit_ex(r->aes, EVP_aes_256_gcm(), NULL, NULL, NULL) ||
                !EVP_CIPHER_CTX_ctrl(r->aes, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) ||
                !EVP_DecryptInit_ex(r->aes, NULL, NULL, r->key, r->head + MAGIC_LEN))
                return fail(r, OTAP_EEXTERNAL, "cannot set up AES-256-GCM");
            r->header_done = true;
        }
    }
    if (!len)
        return 0;
    /* the last TAG_LEN bytes may be the tag: hold them back until more come */
    size_t total = r->held_len + len;
    if (total <= TAG_LEN) {
        memcpy(r->held + r->held_len, data, len);
        r->held_len = total;
        return 0;
    }
    size_t release = total - TAG_LEN; /* bytes that are surely ciphertext */
    size_t from_held = release < r->held_len ? release : r->held_len;
    int rc = decrypt(r, r->held, from_held);
    if (rc)
        return rc;
    memmove(r->held, r->held + from_held, r->held_len - from_held);
    r->held_len -= from_held;
    size_t from_data = release - from_held;
    rc = decrypt(r, data, from_data);
    if (rc)
        return rc;
    memcpy(r->held + r->held_len, data + from_data, len - from_data);
    r->held_len += len - from_data;
    return 0;
}

int bk_reader_finish(struct bk_reader *r, char sha256[SHA256_HEX_LEN + 1], long long *raw,
                     struct otap_err *err)
{
    int rc = 0;
    sha256_final_hex(&r->h, sha256);
    /* a changed or cut ciphertext decodes to garbage first: the tag says what happened */
    if (r->encrypted) {
        int outl = 0;
        unsigned char tail[32];
        if (!r->header_done)
            rc = otap_err_set(err, OTAP_EFOUND, "the backup ends early: it is truncated");
        else if (r->held_len != TAG_LEN ||
                 !EVP_CIPHER_CTX_ctrl(r->aes, EVP_CTRL_GCM_SET_TAG, TAG_LEN, r->held) ||
                 EVP_DecryptFinal_ex(r->aes, tail, &outl) <= 0)
            rc = otap_err_set(err, OTAP_EFOUND,
                              "the backup fails its authentication tag: it was changed or cut "
                              "short, or the key is not the one it was made with");
    }
    if (rc == 0 && r->rc)
        rc = otap_err_set(err, r->rc, "%s", r->why ? r->why : "the backup cannot be read");
    if (rc == 0 && r->last_ret != 0)
        rc = otap_err_set(err, OTAP_EFOUND, "the backup ends early: the zstd frame is cut short");
    if (rc == 0 && r->raw == 0)
        rc = otap_err_set(err, OTAP_EFOUND, "the backup is empty");
    if (rc == 0 && raw)
        *raw = r->raw;
    bk_reader_free(r);
    return rc;
}

void bk_reader_free(struct bk_reader *r)
{
    if (!r)
        return;
    sha256_release(&r->h);
    ZSTD_freeDCtx(r->z);
    EVP_CIPHER_CTX_free(r->aes);
    free(r->plain);
    free(r->dout);
    free(r->why);
    free(r);
}
