/*
 * libFuzzer target for the SQL statement splitter, the migration file
 * parser on top of it (also as a plain SQL file), the lint over its tokens
 * and the baseline's reading of the objects it creates: any bytes give either
 * a clean error or statements that lie inside the input, in order, on
 * lines that exist, and never a crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/baseline.h"
#include "db/dblint.h"
#include "db/migration.h"
#include "db/sql_split.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct sql_script s;
    if (sql_split(text, size, &s, NULL) == 0) {
        int lines = sql_line_of(text, size, size);
        size_t end = 0;
        for (size_t i = 0; i < s.nstmts; i++) {
            const struct sql_stmt *st = &s.stmts[i];
            if (st->off < end || st->off + st->len > size || st->len == 0 || st->line < 1 ||
                st->line > lines || st->end_line < st->line || st->end_line > lines ||
                st->tok + st->ntok > s.ntoks || s.toks[st->tok].off != st->off)
                abort();
            end = st->off + st->len;
        }
        for (size_t i = 0; i < s.ncomments; i++)
            if (s.comments[i].off + s.comments[i].len > size)
                abort();
        sql_script_release(&s);
    }

    char *copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    struct diag_list dl;
    diag_list_init(&dl, "fuzz");
    struct migration mg;
    if (migration_parse_take(&mg, "20260101000000_fuzz.sql", "fuzz", copy, size, &dl) == 0) {
        struct dblint_report rep = {0};
        dblint_migration(&mg, &rep);
        for (size_t i = 0; i < rep.n; i++)
            if (!rep.items[i].rule || rep.items[i].line < 1)
                abort();
        dblint_report_release(&rep);
        const struct migration *one[] = {&mg};
        struct baseline_objects objs;
        baseline_objects_of(one, 1, &objs);
        for (size_t i = 0; i < objs.n; i++)
            if (!objs.items[i].name || !*objs.items[i].name || objs.items[i].line < 1 ||
                (objs.items[i].kind == DB_OBJ_COLUMN) != (objs.items[i].column != NULL))
                abort();
        baseline_objects_release(&objs);
    }
    migration_release(&mg);
    diag_list_release(&dl);

    /* the same bytes as a plain SQL file (otap db lint FILE) */
    copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    diag_list_init(&dl, "fuzz");
    if (migration_parse_plain_take(&mg, "V1__fuzz.sql", "fuzz", copy, size, &dl) == 0) {
        struct dblint_report rep = {0};
        dblint_migration(&mg, &rep);
        dblint_report_release(&rep);
    }
    migration_release(&mg);
    diag_list_release(&dl);
    return 0;
}
