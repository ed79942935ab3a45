/*
 * "Did you mean" suggestions for misspelt names.
 */
#ifndef OTAP_SUGGEST_H
#define OTAP_SUGGEST_H

#include <stddef.h>

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
size_t suggest_distance(const char *a, const char *b);

/*
 * The candidate closest to word, or NULL when none is close enough to be
 * a plausible typo (distance at most a third of the word, at least 1).
 * candidates is NULL-terminated; the result points into it.
 */
const char *suggest_closest(const char *word, const char *const *candidates);

#endif
