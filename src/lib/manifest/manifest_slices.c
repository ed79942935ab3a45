/*
 * The slice registry (slices.h).
 */
#include "manifest/slices.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "manifest/yaml.h"
#include "base/banned.h"

const char *const manifest_slice_statuses[] = {"planned", "in-progress", "done", NULL};

static const char *const keys[] = {"domain", "feature", "objective", "allowed", "non_goals",
                                   "done",   "gates",   "status",    NULL};

static char **list_of(struct fy_node *v, size_t *n, const char *file, const char *key,
                      struct diag_list *d)
{
    *n = 0;
    char **out = NULL;
    size_t alloc = 0;
    if (yaml_scalar(v)) { /* one item written alone */
        *XPUSH(&out, n, &alloc) = xstrdup(yaml_scalar(v));
        return out;
    }
    if (!v || fy_node_get_type(v) != FYNT_SEQUENCE) {
        diag_add_at(d, DIAG_ERROR, file, v ? yaml_line(v) : 0, 0, "'%s' is a list", key);
        return NULL;
    }
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        const char *s = yaml_scalar(item);
        if (s)
            *XPUSH(&out, n, &alloc) = xstrdup(s);
        else
            diag_add_at(d, DIAG_ERROR, file, yaml_line(item), 0, "'%s' holds text items", key);
    }
    return out;
}

void manifest_slices_parse(struct fy_node *map, const char *file, struct manifest_slices *out,
                           struct diag_list *d)
{
    if (!map || fy_node_get_type(map) != FYNT_MAPPING) {
        diag_add_at(d, DIAG_ERROR, file, map ? yaml_line(map) : 0, 0,
                    "'slices' maps each slice id to { objective, allowed, non_goals, done, "
                    "status }");
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        const char *id = yaml_scalar(fy_node_pair_key(pair));
        struct fy_node *v = fy_node_pair_value(pair);
        int line = yaml_line(fy_node_pair_key(pair));
        if (!id || !*id) {
            diag_add_at(d, DIAG_ERROR, file, line, 0, "a slice id is text");
            continue;
        }
        if (manifest_slice_find(out, id)) {
            diag_add_at(d, DIAG_ERROR, file, line, 0, "slice '%s' is defined twice", id);
            continue;
        }
        if (!v || fy_node_get_type(v) != FYNT_MAPPING) {
            diag_add_at(d, DIAG_ERROR, file, line, 0, "slice '%s' is a mapping", id);
            continue;
        }
        struct manifest_slice *s = XPUSH(&out->items, &out->n, &out->alloc);
        memset(s, 0, sizeof(*s));
        s->id = xstrdup(id);
        s->line = line;
        void *it2 = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(v, &it2))) {
            const char *k = yaml_scalar(fy_node_pair_key(p));
            struct fy_node *val = fy_node_pair_value(p);
            int idx = -1;
            for (int i = 0; k && keys[i]; i++)
                if (!strcmp(keys[i], k))
                    idx = i;
            if (idx < 0) {
                diag_add_at(d, DIAG_ERROR, file, yaml_line(fy_node_pair_key(p)), 0,
                            "unknown key '%s' in slice '%s' (domain, feature, objective, allowed, "
                            "non_goals, done, gates, status)",
                            k ? k : "?", id);
                continue;
            }
            char **one[] = {&s->domain, &s->feature, &s->objective};
            if (idx <= 2 || idx == 7) {
                const char *text = yaml_scalar(val);
                if (!text) {
                    diag_add_at(d, DIAG_ERROR, file, val ? yaml_line(val) : line, 0,
                                "'%s' of slice '%s' is text", k, id);
                    continue;
                }
                if (idx == 7) {
                    bool known = false;
                    for (int i = 0; manifest_slice_statuses[i]; i++)
                        known |= !strcmp(manifest_slice_statuses[i], text);
                    if (!known)
                        diag_add_at(d, DIAG_ERROR, file, yaml_line(val), 0,
                                    "status '%s' of slice '%s' is planned, in-progress or done",
                                    text, id);
                    free(s->status);
                    s->status = xstrdup(text);
                    struct fy_token *tok = fy_node_get_scalar_token(val);
                    const struct fy_mark *a = tok ? fy_token_start_mark(tok) : NULL;
                    const struct fy_mark *b = tok ? fy_token_end_mark(tok) : NULL;
                    if (a && b && b->input_pos > a->input_pos) {
                        s->status_pos = a->input_pos;
                        s->status_len = b->input_pos - a->input_pos;
                    }
                } else {
                    free(*one[idx]);
                    *one[idx] = xstrdup(text);
                }
                continue;
            }
            char ***lists[] = {
                [3] = &s->allowed, [4] = &s->non_goals, [5] = &s->done, [6] = &s->gates};
            size_t *counts[] = {
                [3] = &s->nallowed, [4] = &s->nnon_goals, [5] = &s->ndone, [6] = &s->ngates};
            xfree_strv(*lists[idx], *counts[idx]);
            *lists[idx] = list_of(val, counts[idx], file, k, d);
        }
        if (!s->objective)
            diag_add_at(d, DIAG_ERROR, file, line, 0, "slice '%s' needs an 'objective'", id);
        if (!s->nallowed)
            diag_add_at(d, DIAG_ERROR, file, line, 0,
                        "slice '%s' needs 'allowed': the paths (globs) it may change", id);
        if (!s->status)
            s->status = xstrdup("planned");
    }
}

size_t manifest_slices_load(const char *path, const char *shown, struct manifest_slices *out,
                            struct diag_list *d)
{
    size_t before = diag_count(d, DIAG_ERROR);
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, 4u << 20) < 0) {
        diag_add_at(d, DIAG_ERROR, shown, 0, 0, "cannot read the slice registry %s", shown);
        strbuf_release(&sb);
        return 1;
    }
    struct diag_list local;
    diag_list_init(&local, shown);
    struct fy_document *doc = yaml_load(sb.buf ? sb.buf : "", sb.len, "the slice registry", &local);
    for (size_t i = 0; i < local.n; i++)
        diag_add_at(d, local.items[i].severity, shown, local.items[i].line, local.items[i].col,
                    "%s", local.items[i].msg);
    diag_list_release(&local);
    if (doc) {
        struct fy_node *root = fy_document_root(doc);
        struct fy_node *map = root && fy_node_get_type(root) == FYNT_MAPPING
                                  ? fy_node_mapping_lookup_by_string(root, "slices", 6)
                                  : NULL;
        manifest_slices_parse(map, shown, out, d);
        fy_document_destroy(doc);
    }
    free(out->file);
    out->file = xstrdup(shown);
    strbuf_release(&sb);
    return diag_count(d, DIAG_ERROR) - before;
}

void manifest_slices_release(struct manifest_slices *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct manifest_slice *x = &s->items[i];
        free(x->id);
        free(x->domain);
        free(x->feature);
        free(x->objective);
        free(x->status);
        xfree_strv(x->allowed, x->nallowed);
        xfree_strv(x->non_goals, x->nnon_goals);
        xfree_strv(x->done, x->ndone);
        xfree_strv(x->gates, x->ngates);
    }
    free(s->items);
    free(s->file);
    memset(s, 0, sizeof(*s));
}

const struct manifest_slice *manifest_slice_find(const struct manifest_slices *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i].id, id))
            return &s->items[i];
    return NULL;
}
