/*
 * libFuzzer target for the manifest loader: any bytes must give either a
 * manifest or diagnostics, never a crash, a leak or undefined behaviour.
 * A loaded manifest also goes through the registry rules and the lookups
 * commands use, so those see fuzzed manifests too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/diag.h"
#include "manifest/manifest.h"
#include "host/ports.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list dl;
    diag_list_init(&dl, "fuzz.yaml");
    struct manifest *m = manifest_load_buffer((const char *)data, size, "fuzz.yaml", &dl);
    if (m) {
        ports_check_registry(m, &dl);
        manifest_env_for_branch(m, "feature/x", NULL);
        manifest_env_find(m, "prod");
        manifest_free(m);
    }
    for (size_t i = 0; i < dl.n; i++)
        free(diag_format(&dl, &dl.items[i]));
    diag_list_release(&dl);
    return 0;
}
