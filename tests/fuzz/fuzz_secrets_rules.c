/*
 * libFuzzer target for the secret rule loader: otap.yaml's 'secrets'
 * section (custom rules, allowlists, stop words) as the manifest reads
 * it, compiled by PCRE2 and Vectorscan into an engine that then scans a
 * sample. Any manifest gives an engine or an error, never a crash, leak
 * or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "manifest/manifest.h"
#include "secrets/secrets_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char sample[] = "token = acme_k3j5h7g9f1d3s5a7q9w1e3r5\n"
                             "password: hunter2-Zq8Wm2Xn4Y\n"
                             "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5 # otap:allow\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setenv("OTAP_CACHE_DIR", "none", 1);
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    struct manifest *m = manifest_load_buffer((const char *)data, size, "otap.yaml", &dl);
    diag_list_release(&dl);
    if (!m)
        return 0;
    /* Vectorscan compiles what PCRE2 accepted; keep each run short */
    size_t total = 0;
    for (size_t i = 0; i < m->secrets.nrules; i++)
        total += strlen(m->secrets.rules[i].pattern);
    if (m->secrets.nrules && total < 512) {
        struct secrets_engine e;
        struct otap_err err = OTAP_ERR_INIT;
        if (secrets_engine_build(&e, &m->secrets, false, &err) == 0) {
            struct secrets_worker w;
            if (secrets_worker_init(&w, &e, &err) == 0) {
                struct secret_findings f = {0};
                struct secrets_counts c = {0};
                secrets_scan_buffer(&w, "sample", 0, sample, sizeof sample - 1, &f, &c);
                secret_findings_release(&f);
                secrets_worker_release(&w);
            }
            secrets_engine_release(&e);
        }
        otap_err_release(&err);
    }
    manifest_free(m);
    return 0;
}
