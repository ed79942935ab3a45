/*
 * libFuzzer target for what 'otap ledger verify --file' reads: JSON lines
 * from anywhere, turned into entries and verified as a chain. Any bytes
 * give a verdict (or a line rejected), never a crash, leak or hang.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/ledger.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ledger_list l = {0};
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        json_error_t jerr;
        json_t *o = json_loadb(p, len, 0, &jerr);
        char *why = NULL;
        struct ledger_entry e;
        if (o && json_is_object(o) && ledger_entry_from_json(o, &e, &why) == 0)
            *XPUSH(&l.items, &l.n, &l.alloc) = e;
        free(why);
        json_decref(o);
        p += len + 1;
    }
    struct ledger_problem pr;
    ledger_verify(&l, -1, NULL, &pr);
    ledger_problem_release(&pr);
    if (l.n) {
        ledger_verify(&l, l.items[l.n - 1].seq, l.items[l.n - 1].hash, &pr);
        ledger_problem_release(&pr);
    }
    for (size_t i = 0; i < l.n; i++) {
        json_t *j = ledger_entry_json(&l.items[i]);
        json_decref(j);
    }
    ledger_list_release(&l);
    return 0;
}
