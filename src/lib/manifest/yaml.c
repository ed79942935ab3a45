/*
 * The one YAML reader (yaml.h).
 */
#include "manifest/yaml.h"

#include <string.h>

#include "base/utf8.h"
#include "base/banned.h"

struct fy_document *yaml_load(const char *data, size_t len, const char *what,
                              struct diag_list *diags)
{
    if (memchr(data, '\0', len)) {
        diag_add(diags, DIAG_ERROR, 0, 0, "%s holds a NUL byte; is it a binary file?", what);
        return NULL;
    }
    size_t bad;
    if (!utf8_valid(data, len, &bad)) {
        int line, col;
        utf8_position(data, bad, &line, &col);
        diag_add(diags, DIAG_ERROR, line, col, "invalid UTF-8 (byte 0x%02x); %s must be UTF-8 text",
                 (unsigned char)data[bad], what);
        return NULL;
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL;
    dcfg.colorize = false;
    struct fy_diag *fyd = fy_diag_create(&dcfg);
    if (!fyd) {
        diag_add(diags, DIAG_ERROR, 0, 0, "cannot set up the YAML parser");
        return NULL;
    }
    fy_diag_set_collect_errors(fyd, true);
    struct fy_parse_cfg pcfg = {0};
    pcfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG | FYPCF_JSON_NONE;
    pcfg.diag = fyd;
    size_t before = diag_count(diags, DIAG_ERROR);
    struct fy_document *doc = fy_document_build_from_string(&pcfg, data, len);
    void *it = NULL;
    struct fy_diag_error *e;
    bool failed = !doc;
    while ((e = fy_diag_errors_iterate(fyd, &it))) {
        if (e->type < FYET_WARNING)
            continue;
        diag_add(diags, e->type == FYET_WARNING ? DIAG_WARNING : DIAG_ERROR,
                 e->line > 0 ? e->line : 0, e->column > 0 ? e->column : 0, "%s",
                 e->msg ? e->msg : "YAML syntax error");
        failed |= e->type >= FYET_ERROR;
    }
    fy_diag_destroy(fyd);
    if (failed) {
        /* libfyaml builds no document, and reports nothing, for an empty stream */
        if (diag_count(diags, DIAG_ERROR) == before)
            diag_add(diags, DIAG_ERROR, 1, 1, "%s is empty", what);
        if (doc)
            fy_document_destroy(doc);
        return NULL;
    }
    return doc;
}

static const struct fy_mark *mark_of(struct fy_node *n)
{
    if (!n)
        return NULL;
    enum fy_node_type t = fy_node_get_type(n);
    if (t == FYNT_MAPPING) {
        void *it = NULL;
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        return pair ? mark_of(fy_node_pair_key(pair)) : NULL;
    }
    if (t == FYNT_SEQUENCE) {
        void *it = NULL;
        struct fy_node *first = fy_node_sequence_iterate(n, &it);
        return first ? mark_of(first) : NULL;
    }
    struct fy_token *tok = fy_node_get_scalar_token(n);
    return tok ? fy_token_start_mark(tok) : NULL;
}

int yaml_line(struct fy_node *n)
{
    const struct fy_mark *m = mark_of(n);
    return m ? m->line + 1 : 0;
}

int yaml_col(struct fy_node *n)
{
    const struct fy_mark *m = mark_of(n);
    return m ? m->column + 1 : 0;
}

const char *yaml_scalar(struct fy_node *n)
{
    if (!n || fy_node_get_type(n) != FYNT_SCALAR)
        return NULL;
    return fy_node_get_scalar0(n);
}
