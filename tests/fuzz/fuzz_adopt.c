/*
 * libFuzzer target for 'otap init' reading a repository (config/adopt.c):
 * any bytes as its compose file and its port registry give an otap.yaml
 * that otap itself loads,
 * and never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/strbuf.h"
#include "config/adopt.h"
#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/otap-fuzz-adopt-XXXXXX";

static void put(const char *name, const void *text, size_t len)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fwrite(text, 1, len, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (!mkdtemp(dir))
            abort();
        put(".env", "SECRET_KEY=changethis\nDATABASE_URL=postgresql://h/db\nPORT=8000\n", 62);
        ready = 1;
    }
    put("compose.yml", data, size);
    put("PORT_REGISTRY.yaml", data, size);
    struct adopt a;
    struct diag_list dl;
    diag_list_init(&dl, "");
    struct otap_err err = OTAP_ERR_INIT;
    int found = adopt_read(dir, &a, &dl, &err);
    if (found < 0)
        abort();
    struct strbuf out = STRBUF_INIT;
    adopt_manifest(&a, "fuzz", &out);
    struct diag_list ml;
    diag_list_init(&ml, "otap.yaml");
    struct manifest *m = manifest_load_buffer(out.buf, out.len, "otap.yaml", &ml);
    if (!m) {
        for (size_t i = 0; i < ml.n; i++)
            fprintf(stderr, "%d:%d: %s\n", ml.items[i].line, ml.items[i].col, ml.items[i].msg);
        fprintf(stderr, "%s", out.buf);
        abort();
    }
    manifest_free(m);
    diag_list_release(&ml);
    strbuf_release(&out);
    adopt_release(&a);
    diag_list_release(&dl);
    otap_err_release(&err);
    return 0;
}
