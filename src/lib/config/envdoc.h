/*
 * What the config contract generates: .env.example and the docs table.
 * Both are pure functions of the manifest, so 'otap env sync --check' can
 * tell exactly when a committed copy has drifted. Neither ever holds a
 * real value: secrets are left empty, other variables get their example
 * or default.
 */
#ifndef OTAP_ENVDOC_H
#define OTAP_ENVDOC_H

#include "manifest/manifest.h"

/* The text of .env.example; caller frees. */
char *envdoc_example(const struct manifest *m);

/* A Markdown table of the contract (without the markers); caller frees. */
char *envdoc_table(const struct manifest *m);

#define ENVDOC_BEGIN "<!-- otap:config:begin -->"
#define ENVDOC_END "<!-- otap:config:end -->"

/*
 * Replaces what stands between the markers in doc with table. Returns the
 * new text (caller frees), or NULL when the markers are missing or out of
 * order.
 */
char *envdoc_splice(const char *doc, const char *table);

#endif
