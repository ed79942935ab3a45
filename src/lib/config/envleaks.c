/*
 * "Never commit .env files" (seed 004 §3.3), checked against what git
 * really tracks: the index, read with libgit2, so a file that is staged
 * but ignored, or deleted from the working tree but still tracked, counts.
 */
#include "config/envleaks.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "config/contract.h"
#include "config/dotenv.h"
#include "base/redact.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

bool envleaks_is_dotenv_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    return !strcmp(base, ".env") || !strncmp(base, ".env.", 5) ||
           (n > 4 && !strcmp(base + n - 4, ".env"));
}

static void scan_blob(const struct manifest *m, const char *path, const char *data, size_t len,
                      struct envleaks *out)
{
    struct diag_list dl;
    diag_list_init(&dl, path);
    struct dotenv d;
    dotenv_parse(&d, data, len, path, &dl);
    for (size_t i = 0; i < d.n; i++) {
        const struct dotenv_entry *e = &d.items[i];
        const struct contract_var *v = manifest_var_find(m, e->key);
        bool secret = contract_is_secret(v, e->key);
        if (!secret || !e->nparts)
            continue;
        /* a value that only refers to another variable holds no secret itself */
        bool literal = false;
        struct strbuf text = STRBUF_INIT;
        for (size_t p = 0; p < e->nparts; p++)
            if (e->parts[p].kind == DOTENV_LITERAL) {
                literal |= e->parts[p].text[0] != '\0';
                strbuf_addstr(&text, e->parts[p].text);
            }
        /* a placeholder (changethis) is no leak, in an example file or any other */
        bool leak = literal && !contract_is_placeholder(text.buf);
        explicit_bzero(text.buf, text.len);
        strbuf_release(&text);
        if (!leak)
            continue;
        struct envleak *l = XPUSH(&out->items, &out->n, &out->alloc);
        l->path = xstrdup(path);
        l->line = e->line;
        l->name = xstrdup(e->key);
    }
    dotenv_release(&d);
    diag_list_release(&dl);
}

int envleaks_scan(const struct manifest *m, const char *dir, struct envleaks *out,
                  struct otap_err *err)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    int rc = 0;
    git_libgit2_init();
    if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
        const git_error *e = git_error_last();
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot open a git repository at '%s': %s", dir,
                          e && e->message ? e->message : "not a repository");
        goto out;
    }
    if (git_repository_index(&index, repo) < 0) {
        const git_error *e = git_error_last();
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read the git index: %s",
                          e && e->message ? e->message : "unknown error");
        goto out;
    }
    size_t count = git_index_entrycount(index);
    for (size_t i = 0; i < count; i++) {
        const git_index_entry *entry = git_index_get_byindex(index, i);
        if (!entry || !envleaks_is_dotenv_name(entry->path))
            continue;
        git_blob *blob = NULL;
        if (git_blob_lookup(&blob, repo, &entry->id) < 0) {
            const git_error *e = git_error_last();
            rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s' from git: %s", entry->path,
                              e && e->message ? e->message : "unknown error");
            break;
        }
        size_t size = (size_t)git_blob_rawsize(blob);
        if (size <= DOTENV_MAX_BYTES) {
            out->files++;
            scan_blob(m, entry->path, git_blob_rawcontent(blob), size, out);
        }
        git_blob_free(blob);
    }
out:
    git_index_free(index);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

void envleaks_release(struct envleaks *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].path);
        free(l->items[i].name);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}
