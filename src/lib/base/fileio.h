/*
 * Files and directories: writing files so that readers see the old
 * content or the new, never half of either (the data goes to a temporary
 * file beside the target, is flushed to disk, and is then moved into
 * place), and the one walk over a directory tree.
 */
#ifndef OTAP_FILEIO_H
#define OTAP_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

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

/*
 * A walk over the tree below a directory: depth first, the entries of
 * each directory in byte order (so results do not depend on readdir),
 * symbolic links reported but never followed.
 *
 * visit() gets each entry's path (the root joined with its relative
 * path, or the bare relative path when the root is "."), the relative
 * path, and its lstat(2). It returns 0 to go on (into a directory),
 * FILEIO_WALK_PRUNE to leave a directory's contents out, or a negative
 * code that stops the walk and is returned.
 *
 * A directory that cannot be listed or an entry that cannot be stat'ed
 * goes to error() with the errno, and the walk goes on; without error()
 * it stops the walk with OTAP_EEXTERNAL and a message naming the path.
 * Directories deeper than max_depth (0: 256) are not entered.
 */
#define FILEIO_WALK_PRUNE 1

struct fileio_walk {
    int (*visit)(void *ctx, const char *path, const char *rel, const struct stat *st);
    void (*error)(void *ctx, const char *path, int errnum);
    void *ctx;
    int max_depth;
};

int fileio_walk(const char *root, const struct fileio_walk *w, struct otap_err *err);

/*
 * Is a directory of this name one no search of a project's source enters:
 * .git and other hidden state (.otap, .venv, .cache), node_modules,
 * virtualenvs, build output (build*, dist, target) and vendored code? The
 * one list env lint and flags lint share.
 */
bool fileio_not_source_dir(const char *name);

#endif
