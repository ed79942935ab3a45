/*
 * Files generated from the manifest, so that CI and the platform follow
 * otap.yaml instead of drifting from it (otap gen):
 *
 *   .github/workflows/test.yml    the gates on pull requests and pushes
 *   .github/workflows/deploy.yml  promotions to the A and P stages
 *   railway.toml                  the health check and restart policy
 *
 * Every secret is referenced by name from the contract (${{ secrets.X }}),
 * never a value. Each file starts with a header saying it is generated.
 */
#ifndef OTAP_CI_GEN_H
#define OTAP_CI_GEN_H

#include <stddef.h>

#include "base/err.h"
#include "manifest/manifest.h"

struct gen_file {
    const char *path;
    char *text;
};

/* The files for target "github" or "railway"; OTAP_EUSAGE for another target. */
int gen_files(const struct manifest *m, const char *target, struct gen_file *out, size_t *n,
              struct otap_err *err);
void gen_files_release(struct gen_file *f, size_t n);

#endif
