/*
 * The file that states a project's version (release.version_file): read
 * it, and write a new version into it changing nothing else.
 *
 *   package.json     the top-level "version" string (the seeds' source of truth)
 *   pyproject.toml   version in [project] (or [tool.poetry]); a version
 *                    listed in [project] dynamic is refused: it lives elsewhere
 *   Cargo.toml       version in [package]
 *   anything else    the whole file is the version (VERSION), one line
 */
#ifndef OTAP_VERSION_FILE_H
#define OTAP_VERSION_FILE_H

#include <stddef.h>

#include "base/err.h"

/*
 * The version text holds (NULL in *version when the file states none, as
 * an empty VERSION). OTAP_EINVALID, naming path and line, when the file
 * cannot be read as its kind.
 */
int version_file_read(const char *path, const char *text, size_t len, char **version,
                      struct otap_err *err);

/* text with its version replaced by version; for a VERSION file with none, the version alone. */
int version_file_update(const char *path, const char *text, size_t len, const char *version,
                        char **out, size_t *out_len, struct otap_err *err);

/*
 * The version a first release takes: the one path states, when it is a
 * final SemVer version other than 0.0.0; else NULL (also when unreadable).
 */
char *version_file_stated(const char *path);

#endif
