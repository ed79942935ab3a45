/*
 * Shannon entropy over byte frequencies (entropy.h), the one definition
 * that the contract's secret strength and the scanner's gates share.
 */
#include "base/entropy.h"

#include <math.h>

#include "base/banned.h"

double entropy_per_byte(const char *s, size_t len)
{
    if (!len)
        return 0;
    size_t counts[256] = {0};
    for (size_t i = 0; i < len; i++)
        counts[(unsigned char)s[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++) {
        if (!counts[c])
            continue;
        double p = (double)counts[c] / (double)len;
        h -= p * log2(p);
    }
    return h;
}
