/*
 * A list of diagnostics about one input (a manifest, a dotenv file...).
 *
 * Validators append every problem they find instead of stopping at the
 * first, so that a user fixes a file in one pass. Each entry owns its
 * message; positions are 1-based, 0 when unknown. The list is kept in the
 * order problems were found and can be sorted by position for output.
 */
#ifndef OTAP_DIAG_H
#define OTAP_DIAG_H

#include <stddef.h>

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
    enum diag_severity severity;
    char *file; /* owned; NULL: the list's file */
    int line;
    int col;
    char *msg;
};

struct diag_list {
    char *file; /* owned copy of the file name used in messages */
    struct diag *items;
    size_t n, alloc;
};

void diag_list_init(struct diag_list *dl, const char *file);
void diag_list_release(struct diag_list *dl);

void diag_add(struct diag_list *dl, enum diag_severity sev, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The same, for a problem in another file than the list's own. */
void diag_add_at(struct diag_list *dl, enum diag_severity sev, const char *file, int line, int col,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The file a diagnostic is about. */
const char *diag_file(const struct diag_list *dl, const struct diag *d);

size_t diag_count(const struct diag_list *dl, enum diag_severity sev);

/* Stable sort by file, then line, then column. */
void diag_sort(struct diag_list *dl);

/* "FILE:LINE:COL: message" (positions left out when unknown); caller frees. */
char *diag_format(const struct diag_list *dl, const struct diag *d);

#endif
