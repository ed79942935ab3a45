/*
 * The secrets the redactor must know (envredact.h), read from where the
 * config contract reads them: the process environment and the project's
 * dotenv files. Every file is read, not only the environment a command
 * names, so that a message about another environment (a promotion's
 * refusal naming production's database) is covered too.
 */
#include "config/envredact.h"

#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "config/contract.h"
#include "config/dotenv.h"
#include "base/banned.h"

/*
 * Process variables whose names match the secret words but hold places,
 * not secrets (PWD is a directory; SSH_AUTH_SOCK a socket): masking them
 * would hide every path in otap's output.
 */
static bool known_not_secret(const char *name)
{
    static const char *const names[] = {"PWD", "OLDPWD", "XAUTHORITY", "KEYTIMEOUT", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(name, names[i]))
            return true;
    size_t n = strlen(name);
    return (n > 5 && !strcmp(name + n - 5, "_SOCK")) || strstr(name, "PATH") != NULL;
}

static void arm_one(struct redactor *r, const struct manifest *m, const char *name,
                    const char *value, bool process)
{
    if (!value || !*value)
        return;
    const struct contract_var *v = manifest_var_find(m, name);
    if (contract_is_secret(v, name) && (v || !process || !known_not_secret(name)))
        redactor_add(r, value);
    redactor_add_from_value(r, value);
}

static bool placeholder_file(const char *name)
{
    static const char *const ends[] = {".example", ".sample", ".template", ".dist", NULL};
    size_t n = strlen(name);
    for (int i = 0; ends[i]; i++) {
        size_t e = strlen(ends[i]);
        if (n > e && !strcmp(name + n - e, ends[i]))
            return true;
    }
    return false;
}

struct arm_ctx {
    struct redactor *r;
    const struct manifest *m;
};

static int arm_file(void *ctx, const char *path, const char *rel, const struct stat *st)
{
    struct arm_ctx *a = ctx;
    if (!S_ISREG(st->st_mode) || strncmp(rel, ".env", 4) || placeholder_file(rel))
        return 0;
    struct dotenv d;
    struct diag_list dl;
    diag_list_init(&dl, rel);
    if (dotenv_load(&d, path, &dl) == 0) {
        for (size_t i = 0; i < d.n; i++) {
            /* the literal text as written: a reference holds no secret itself */
            struct strbuf v = STRBUF_INIT;
            for (size_t k = 0; k < d.items[i].nparts; k++)
                if (d.items[i].parts[k].kind == DOTENV_LITERAL)
                    strbuf_addstr(&v, d.items[i].parts[k].text);
            arm_one(a->r, a->m, d.items[i].key, v.buf, false);
            explicit_bzero(v.buf, v.len);
            strbuf_release(&v);
        }
    }
    dotenv_release(&d);
    diag_list_release(&dl);
    return 0;
}

void envredact_arm(struct redactor *r, const struct manifest *m, char *const *process)
{
    for (size_t i = 0; process && process[i]; i++) {
        const char *eq = strchr(process[i], '=');
        if (!eq)
            continue;
        char *name = xstrndup(process[i], (size_t)(eq - process[i]));
        arm_one(r, m, name, eq + 1, true);
        free(name);
    }
    if (!m || !m->dir)
        return;
    /* the root only: dotenv files live beside otap.yaml */
    struct arm_ctx a = {r, m};
    struct fileio_walk w = {.visit = arm_file, .ctx = &a, .max_depth = 1};
    fileio_walk(m->dir, &w, NULL);
}
