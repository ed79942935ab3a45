/*
 * Reading and writing the secrets baseline (secrets_baseline.h): the
 * file that lets a team adopt the scanner on a repository that already
 * holds findings, and fail only on new ones from then on.
 */
#include "secrets/secrets_baseline.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

char *secrets_baseline_path(const struct manifest *m)
{
    const char *given = m ? m->secrets.baseline : NULL;
    if (given)
        return given[0] == '/' ? xstrdup(given) : xasprintf("%s/%s", m->dir, given);
    if (m)
        return xasprintf("%s/%s", m->dir, SECRETS_BASELINE_DEFAULT);
    return xstrdup(SECRETS_BASELINE_DEFAULT);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool secrets_baseline_has(const struct secrets_baseline *b, const char *fp)
{
    return b->n && bsearch(&fp, b->fps, b->n, sizeof(char *), cmp_str) != NULL;
}

int secrets_baseline_load(struct secrets_baseline *b, const char *path, bool named,
                          struct otap_err *err)
{
    memset(b, 0, sizeof(*b));
    struct stat st;
    if (stat(path, &st) < 0 && errno == ENOENT && !named)
        return 0;
    json_error_t je;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return otap_err_set(err, OTAP_EINVALID, "%s:%d: not a baseline file: %s", path, je.line,
                            je.text);
    json_t *items = json_object_get(doc, "findings");
    int rc = 0;
    struct secrets_baseline got = {0};
    size_t alloc = 0;
    if (!json_is_array(items) || json_integer_value(json_object_get(doc, "version")) != 1) {
        rc = otap_err_set(err, OTAP_EINVALID,
                          "%s: not a baseline file: it needs \"version\": 1 and a \"findings\" "
                          "list ('otap secrets baseline' writes one)",
                          path);
    } else {
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it)
        {
            const char *fp = json_string_value(json_object_get(it, "fingerprint"));
            if (!fp) {
                rc = otap_err_set(err, OTAP_EINVALID, "%s: finding %zu has no \"fingerprint\"",
                                  path, i + 1);
                break;
            }
            *XPUSH(&got.fps, &got.n, &alloc) = xstrdup(fp);
        }
    }
    json_decref(doc);
    if (rc < 0) {
        secrets_baseline_release(&got);
        return rc;
    }
    if (got.n)
        qsort(got.fps, got.n, sizeof(char *), cmp_str);
    *b = got;
    return 0;
}

void secrets_baseline_release(struct secrets_baseline *b)
{
    xfree_strv(b->fps, b->n);
    memset(b, 0, sizeof(*b));
}

int secrets_baseline_write(const char *path, const struct secrets_run *run, struct otap_err *err)
{
    json_t *items = json_array();
    for (size_t i = 0; i < run->findings.n; i++) {
        const struct secret_finding *f = &run->findings.items[i];
        const char *src = run->sources[f->source].path;
        char *file = secrets_printable(src, strlen(src));
        json_array_append_new(items,
                              json_pack("{s:s, s:s, s:s, s:i, s:s}", "fingerprint", f->fingerprint,
                                        "rule", run->engine->rules[f->rule].id, "file", file,
                                        "line", f->line, "excerpt", f->excerpt));
        free(file);
    }
    json_t *doc = json_pack("{s:i, s:s, s:o}", "version", 1, "tool", "otap", "findings", items);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "%s\n", text);
    int rc = fileio_write(path, sb.buf, sb.len, false, 0644, err);
    strbuf_release(&sb);
    free(text);
    json_decref(doc);
    return rc;
}
