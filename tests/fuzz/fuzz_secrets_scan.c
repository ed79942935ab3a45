/*
 * libFuzzer target for the secret scanner on any input: every built-in
 * rule over random bytes. Besides no crash, leak or hang, each finding
 * must lie inside the input, with a position that agrees with its offset,
 * and its excerpt must not hold its secret.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secrets/secrets_engine.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct secrets_engine engine;
static struct secrets_worker worker;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        struct otap_err err = OTAP_ERR_INIT;
        setenv("OTAP_CACHE_DIR", "none", 1);
        if (secrets_engine_build(&engine, NULL, true, &err) < 0 ||
            secrets_worker_init(&worker, &engine, &err) < 0)
            abort();
        ready = 1;
    }
    const char *buf = (const char *)data;
    struct secret_findings f = {0};
    struct secrets_counts c = {0};
    if (secrets_scan_buffer(&worker, "fuzz", 0, buf, size, &f, &c) < 0)
        abort();
    for (size_t i = 0; i < f.n; i++) {
        const struct secret_finding *x = &f.items[i];
        if (x->start >= x->end || x->end > size || x->sstart < x->start || x->send > x->end)
            abort();
        int line = 1;
        for (size_t k = 0; k < x->start; k++)
            line += buf[k] == '\n';
        if (line != x->line || x->col < 1 || x->end_line < x->line)
            abort();
        size_t slen = x->send - x->sstart;
        /* the excerpt is rewritten (masks, '?' for control bytes, "..."), so
         * only a secret of plain characters can be looked for in it */
        bool plain = slen >= 8;
        for (size_t k = 0; k < slen && plain; k++) {
            unsigned char ch = (unsigned char)buf[x->sstart + k];
            plain = ch > 0x20 && ch < 0x7f && ch != '*' && ch != '?' && ch != '.';
        }
        if (plain) {
            char *s = xstrndup(buf + x->sstart, slen);
            if (strstr(x->excerpt, s))
                abort();
            free(s);
        }
    }
    secret_findings_release(&f);
    return 0;
}
