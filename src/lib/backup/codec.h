/*
 * What a backup object is made of, and back: the dump compressed with
 * zstd (libzstd, multi-threaded), then, when the environment names a key,
 * encrypted with AES-256-GCM (OpenSSL), and hashed with SHA-256 as
 * stored. All of it as a stream: nothing is held whole.
 *
 * An unencrypted object is a plain zstd frame ('zstd -d' reads it). An
 * encrypted one is "OTAPENC1", a 12-byte nonce, the ciphertext and the
 * 16-byte GCM tag; the tag is checked when the stream ends, so a reader
 * must not trust what it was handed before bk_reader_finish() says so.
 */
#ifndef OTAP_BACKUP_CODEC_H
#define OTAP_BACKUP_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "backup/target.h"
#include "base/err.h"
#include "base/sha256.h"

#define BK_KEY_LEN 32

/*
 * A key as the config holds it: 64 hex digits, or base64 of 32 bytes.
 * OTAP_EINVALID otherwise (the message never quotes the value).
 */
int bk_key_parse(const char *value, unsigned char key[BK_KEY_LEN], const char *var,
                 struct otap_err *err);

struct bk_writer;
/* Writes into put; key NULL: not encrypted. */
int bk_writer_open(struct bk_writer **out, struct bk_put *put, int level, int workers,
                   const unsigned char *key, struct otap_err *err);
int bk_writer_write(struct bk_writer *w, const void *data, size_t len, struct otap_err *err);
/* Ends the stream (not the put): the SHA-256 and sizes of what was stored. Frees w. */
int bk_writer_finish(struct bk_writer *w, char sha256[SHA256_HEX_LEN + 1], long long *raw,
                     long long *stored, struct otap_err *err);
void bk_writer_free(struct bk_writer *w);
/* Bytes in so far (the dump), for progress. */
long long bk_writer_raw(const struct bk_writer *w);

struct bk_reader;
/*
 * Reads an object pushed to it chunk by chunk (bk_reader_push has
 * bk_chunk_fn's shape) and hands the dump to out. When out answers 1 (it
 * wants no more), the rest is still read, hashed and checked unless
 * stop_early, when the read stops there.
 */
int bk_reader_open(struct bk_reader **out, const unsigned char *key, bk_chunk_fn fn, void *ctx,
                   bool stop_early, struct otap_err *err);
int bk_reader_push(void *reader, const unsigned char *data, size_t len);
/*
 * The stream ended: checks the tag and that the zstd frame is whole.
 * sha256 gets the hash of everything pushed, even when the stream was
 * faulty (a fault stops the decoding, not the hashing). Frees r.
 */
int bk_reader_finish(struct bk_reader *r, char sha256[SHA256_HEX_LEN + 1], long long *raw,
                     struct otap_err *err);
void bk_reader_free(struct bk_reader *r);

#endif
