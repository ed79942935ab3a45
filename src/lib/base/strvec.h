/*
 * A growable list of owned strings: refusals, conditions, names.
 *
 * STRVEC_INIT is an empty list; items is NULL until the first push. The
 * list owns its strings; strvec_release() frees them and leaves an empty
 * list behind, and accepts one that was never used.
 */
#ifndef OTAP_STRVEC_H
#define OTAP_STRVEC_H

#include <stddef.h>

struct strvec {
    char **items;
    size_t n, alloc;
};

#define STRVEC_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends a copy of s. */
void strvec_push(struct strvec *v, const char *s);
/* Appends s itself; the list now owns it. */
void strvec_push_owned(struct strvec *v, char *s);
void strvec_pushf(struct strvec *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_release(struct strvec *v);

#endif
