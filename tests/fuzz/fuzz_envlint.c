/*
 * libFuzzer target for the source scanner behind 'otap env lint' (its
 * patterns and the pydantic BaseSettings reader): any
 * bytes (invalid UTF-8, NULs, huge lines) yield reads with sane positions
 * inside the input, and never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/envlint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envlint l = {0};
    /* as a Python file, so the pydantic settings reader runs too */
    envlint_scan_buffer((const char *)data, size, "fuzz.py", &l);
    for (size_t i = 0; i < l.n; i++) {
        if (l.items[i].line < 1 || l.items[i].col < 1 || (size_t)l.items[i].col > size ||
            !l.items[i].name[0])
            abort();
    }
    for (size_t i = 0; i < l.nunresolved; i++)
        if (l.unresolved[i].line < 1 || l.unresolved[i].col < 1 || !l.unresolved[i].name[0])
            abort();
    envlint_release(&l);
    return 0;
}
