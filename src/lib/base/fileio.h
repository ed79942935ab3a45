/*
 * Writing files so that readers see the old content or the new, never
 * half of either: the data goes to a temporary file beside the target,
 * is flushed to disk, and is then moved into place.
 */
#ifndef OTAP_FILEIO_H
#define OTAP_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/*
 * Writes data to path. With no_clobber, an existing path is refused
 * (OTAP_EREFUSED), also when it appears while writing (link(2) fails
 * then); otherwise it is replaced (rename(2)). OTAP_EEXTERNAL when the
 * file cannot be written. mode applies to a new file.
 */
int fileio_write(const char *path, const char *data, size_t len, bool no_clobber, int mode,
                 struct otap_err *err);

/* mkdir -p: creates path and its missing parents; shown names it in errors. */
int fileio_mkdirs(const char *path, const char *shown, struct otap_err *err);

#endif
