/*
 * Shannon entropy of a byte string: how unpredictable a value is, for
 * judging secret strength (the contract) and telling keys from words
 * (the scanner).
 */
#ifndef OTAP_ENTROPY_H
#define OTAP_ENTROPY_H

#include <stddef.h>

/* Bits per byte, 0 (one repeated byte, or empty) to 8. */
double entropy_per_byte(const char *s, size_t len);

#endif
