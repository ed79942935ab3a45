/*
 * libFuzzer target for the dotenv parser and layered resolution: any
 * bytes parse to entries and diagnostics, and resolving them (with their
 * ${...} references, defaults and cycles) never crashes, leaks or hangs.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/dotenv.h"
#include "config/envset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diag_list dl;
    diag_list_init(&dl, ".env");
    struct dotenv d;
    dotenv_parse(&d, (const char *)data, size, ".env", &dl);
    char *process[] = {"HOME=/root", "A=1", NULL};
    struct envset set;
    struct dotenv *layers[] = {&d, &d};
    envset_build(&set, layers, 2, process, &dl);
    for (size_t i = 0; i < dl.n; i++)
        free(diag_format(&dl, &dl.items[i]));
    envset_release(&set);
    dotenv_release(&d);
    diag_list_release(&dl);
    return 0;
}
