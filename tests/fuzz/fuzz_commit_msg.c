/*
 * libFuzzer target for the commit-message parser and lint (otap commit
 * lint, the commit-msg hook): any bytes give a verdict whose lines exist
 * in the message, and never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "release/commit_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct commit_msg m;
    commit_msg_parse((const char *)data, size, &m);
    if (!m.header || (m.kind == COMMIT_CONVENTIONAL && (!m.type || !m.subject)) ||
        (m.bang && !m.breaking) || m.footers_first > m.lines_n)
        abort();
    struct commit_problems p = {0};
    commit_lint(&m, NULL, &p);
    for (size_t i = 0; i < p.n; i++)
        if (!p.items[i].rule || p.items[i].line < 1 ||
            (size_t)p.items[i].line > (m.lines_n ? m.lines_n : 1))
            abort();
    commit_problems_release(&p);
    commit_msg_release(&m);
    return 0;
}
