/*
 * The slice registry (slices.h).
 */
#include "plan/slices.h"

#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

const struct manifest_slices *plan_slices(const struct manifest *m, struct manifest_slices *storage,
                                          struct diag_list *diags)
{
    memset(storage, 0, sizeof(*storage));
    if (!m->slices.file)
        return &m->slices;
    char *path = m->slices.file[0] == '/' ? xstrdup(m->slices.file)
                                          : xasprintf("%s/%s", m->dir, m->slices.file);
    size_t errors = manifest_slices_load(path, m->slices.file, storage, diags);
    free(path);
    return errors ? NULL : storage;
}

static void list(struct strbuf *sb, char *const *items, size_t n, const char *none)
{
    if (!n)
        strbuf_addf(sb, "- %s\n", none);
    for (size_t i = 0; i < n; i++)
        strbuf_addf(sb, "- %s\n", items[i]);
}

char *plan_slice_prompt(const struct manifest *m, const struct manifest_slice *s)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "Objective:\n- Implement slice %s: %s\n", s->id, s->objective);
    if (s->domain || s->feature)
        strbuf_addf(&sb, "  (domain %s, feature %s)\n", s->domain ? s->domain : "-",
                    s->feature ? s->feature : "-");
    strbuf_addstr(&sb, "\nAllowed paths (nothing else may change):\n");
    list(&sb, s->allowed, s->nallowed, "none");
    strbuf_addstr(&sb, "\nNon-goals:\n");
    list(&sb, s->non_goals, s->nnon_goals, "no refactors outside the allowed paths");
    strbuf_addstr(&sb, "- no new environment variables or config flags without review\n");
    strbuf_addstr(&sb, "\nDefinition of done:\n");
    list(&sb, s->done, s->ndone, "tests for the change pass locally");
    strbuf_addf(&sb, "- the slice's status in %s, and nothing else there\n",
                m->slices.file ? m->slices.file : "otap.yaml");
    strbuf_addstr(&sb, "\nQuality gate:\n");
    strbuf_addf(&sb, "- otap scope check --slice %s\n", s->id);
    for (size_t i = 0; i < s->ngates; i++)
        strbuf_addf(&sb, "- otap ci run %s\n", s->gates[i]);
    strbuf_addf(&sb, "- then: otap slice done %s\n", s->id);
    return strbuf_detach(&sb, NULL);
}

int plan_slice_set_status(const struct manifest *m, const struct manifest_slices *reg,
                          const struct manifest_slice *s, const char *status, struct otap_err *err)
{
    const char *shown = reg->file ? reg->file : m->path;
    if (!s->status_len)
        return otap_err_set(err, OTAP_EREFUSED,
                            "slice '%s' has no 'status:' in %s to change: add status: planned",
                            s->id, shown);
    char *path = !reg->file            ? xstrdup(m->path)
                 : reg->file[0] == '/' ? xstrdup(reg->file)
                                       : xasprintf("%s/%s", m->dir, reg->file);
    struct strbuf sb = STRBUF_INIT;
    int rc = 0;
    char *was = NULL;
    if (strbuf_read_file(&sb, path, 4u << 20) == 0 && s->status_pos + s->status_len <= sb.len)
        was = xstrndup(sb.buf + s->status_pos, s->status_len);
    if (!sb.buf && !was) {
        rc = otap_err_set(err, OTAP_EEXTERNAL, "cannot read %s", shown);
    } else if (!was || !strstr(was, s->status)) {
        rc = otap_err_set(err, OTAP_EREFUSED, "%s changed since it was read: run the command again",
                          shown);
    } else {
        struct strbuf out = STRBUF_INIT;
        strbuf_add(&out, sb.buf, s->status_pos);
        strbuf_addstr(&out, status);
        strbuf_add(&out, sb.buf + s->status_pos + s->status_len,
                   sb.len - s->status_pos - s->status_len);
        rc = fileio_write(path, out.buf, out.len, false, 0644, err);
        strbuf_release(&out);
    }
    free(was);
    strbuf_release(&sb);
    free(path);
    return rc;
}
