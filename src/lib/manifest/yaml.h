/*
 * The one YAML reader (libfyaml) with the checks every file otap reads
 * needs first: no NUL byte, valid UTF-8 (libfyaml can hang on invalid
 * UTF-8), and libfyaml's own errors as diagnostics with their lines. The
 * manifest uses it, and so do the other YAML files otap reads (task lists,
 * slice registries).
 */
#ifndef OTAP_YAML_H
#define OTAP_YAML_H

#include <libfyaml.h>
#include <stddef.h>

#include "base/diag.h"

/*
 * Parses data (what names it in messages: "the manifest", "the task
 * list"). NULL when it cannot be read; the problems are in diags.
 */
struct fy_document *yaml_load(const char *data, size_t len, const char *what,
                              struct diag_list *diags);
/* 1-based line and column where n starts (of its first key or item for a collection); 0 when
 * unknown. */
int yaml_line(struct fy_node *n);
int yaml_col(struct fy_node *n);
/* n's text when it is a scalar (NUL-terminated copy kept by the document), else NULL. */
const char *yaml_scalar(struct fy_node *n);

#endif
