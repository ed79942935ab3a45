/*
 * libFuzzer target for what otap backup reads from a target it does not
 * control: an object (zstd, or OTAPENC1 with AES-256-GCM) pushed to the
 * reader in uneven chunks, and a catalog entry compared with a drill's
 * facts. Never a crash, a leak or a hang; a damaged object is an error,
 * never a success.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup/codec.h"
#include "backup/facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const unsigned char *d, size_t len)
{
    size_t *total = ctx;
    (void)d;
    *total += len;
    return *total > (64u << 20) ? 1 : 0; /* a decompression bomb stops being read */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    static const unsigned char key[BK_KEY_LEN] = {1, 2, 3};
    /* first byte: encrypted or not, and the chunk size */
    bool enc = data[0] & 1;
    size_t chunk = (size_t)(data[0] >> 1) + 1;
    struct otap_err err = OTAP_ERR_INIT;
    struct bk_reader *r;
    size_t total = 0;
    bk_reader_open(&r, enc ? key : NULL, sink, &total, false, &err);
    for (size_t off = 1; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (bk_reader_push(r, data + off, n) < 0)
            break;
    }
    char sha[SHA256_HEX_LEN + 1];
    bk_reader_finish(r, sha, NULL, &err);
    otap_err_release(&err);

    /* the same bytes as a catalog entry, against facts of its own */
    json_t *entry = json_loadb((const char *)data + 1, size - 1, 0, NULL);
    json_t *got = json_pack("{s:s, s:[s], s:{s:i}}", "schema_hash", "abc", "migrations", "1",
                            "tables", "public.items", 3);
    json_t *out = json_array();
    bk_facts_compare(entry, got, out);
    json_decref(out);
    json_decref(got);
    json_decref(entry);
    return 0;
}
