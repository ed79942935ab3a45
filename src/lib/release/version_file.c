/*
 * Version files (version_file.h). Each kind is edited in place: the span
 * of the version's value is found and replaced, so formatting, comments
 * and key order stay exactly as the team wrote them.
 */
#include "release/version_file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/semver.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "base/banned.h"

enum vf_kind { VF_PLAIN, VF_PACKAGE_JSON, VF_PYPROJECT, VF_CARGO };

static enum vf_kind kind_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!strcmp(base, "package.json"))
        return VF_PACKAGE_JSON;
    if (!strcmp(base, "pyproject.toml"))
        return VF_PYPROJECT;
    if (!strcmp(base, "Cargo.toml"))
        return VF_CARGO;
    return VF_PLAIN;
}

struct span {
    size_t at, len; /* the value without its quotes */
    int line;
};

static int line_at(const char *text, size_t at)
{
    int line = 1;
    for (size_t i = 0; i < at; i++)
        line += text[i] == '\n';
    return line;
}

/* ---- package.json -------------------------------------------------------- */

/* Skips a JSON string starting at its opening quote; returns the index after it. */
static size_t skip_string(const char *t, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (t[i] == '\\')
            i++;
        else if (t[i] == '"')
            return i + 1;
    }
    return len;
}

/*
 * The top-level "version" value's span. jansson has checked the document
 * already, so this scan only tracks depth and strings.
 */
static bool json_version_span(const char *t, size_t len, struct span *s)
{
    int depth = 0;
    for (size_t i = 0; i < len;) {
        char ch = t[i];
        if (ch == '"') {
            size_t end = skip_string(t, len, i);
            if (depth == 1 && end - i == 9 && !memcmp(t + i, "\"version\"", 9)) {
                size_t j = end;
                while (j < len && strchr(" \t\r\n", t[j]))
                    j++;
                if (j < len && t[j] == ':') {
                    j++;
                    while (j < len && strchr(" \t\r\n", t[j]))
                        j++;
                    if (j < len && t[j] == '"') {
                        s->at = j + 1;
                        s->len = skip_string(t, len, j) - j - 2;
                        s->line = line_at(t, j);
                        return true;
                    }
                }
            }
            i = end;
            continue;
        }
        if (ch == '{' || ch == '[')
            depth++;
        else if (ch == '}' || ch == ']')
            depth--;
        i++;
    }
    return false;
}

static int package_json(const char *path, const char *text, size_t len, struct span *s, bool *found,
                        struct otap_err *err)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    if (!doc)
        return otap_err_set(err, OTAP_EINVALID, "%s:%d: not JSON: %s", path, je.line, je.text);
    json_t *v = json_is_object(doc) ? json_object_get(doc, "version") : NULL;
    int rc = 0;
    if (!json_is_object(doc))
        rc = otap_err_set(err, OTAP_EINVALID, "%s: not a JSON object", path);
    else if (v && !json_is_string(v))
        rc = otap_err_set(err, OTAP_EINVALID, "%s: \"version\" is not a string", path);
    else if (v && !json_version_span(text, len, s))
        rc = otap_err_set(err, OTAP_EINVALID, "%s: \"version\" could not be located", path);
    *found = v != NULL;
    json_decref(doc);
    return rc;
}

/* ---- TOML (the few lines a version lives on) ------------------------------ */

static int toml_version(const char *path, const char *text, size_t len, enum vf_kind kind,
                        struct span *s, bool *found, size_t *insert_at, struct otap_err *err)
{
    const char *want[2] = {kind == VF_CARGO ? "package" : "project",
                           kind == VF_PYPROJECT ? "tool.poetry" : NULL};
    char table[128] = "";
    *found = false;
    *insert_at = (size_t)-1;
    int line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
        const char *l = text + at;
        line++;
        size_t i = strspn(l, " \t");
        size_t close = i + 1;
        while (i < n && l[i] == '[' && close < n && l[close] != ']')
            close++;
        /* a table header: [name], then nothing but a comment */
        size_t after = close + 1 + (close < n ? strspn(l + close + 1, " \t\r") : 0);
        bool header = i < n && l[i] == '[' && (i + 1 >= n || l[i + 1] != '[') && close < n &&
                      (after >= n || l[after] == '#');
        if (header) {
            size_t tl = close - i - 1;
            snprintf(table, sizeof table, "%.*s", (int)(tl < 127 ? tl : 127), l + i + 1);
            if (!strcmp(table, want[0]) && *insert_at == (size_t)-1)
                *insert_at = end < len ? end + 1 : len;
        } else if (l[i] == '[') {
            table[0] = '\0'; /* an array of tables: never where a version lives */
        }
        bool ours = !strcmp(table, want[0]) || (want[1] && !strcmp(table, want[1]));
        if (ours && n - i >= 7 && !strncmp(l + i, "dynamic", 7) && kind == VF_PYPROJECT &&
            memmem(l + i, n - i, "\"version\"", 9))
            return otap_err_set(err, OTAP_EINVALID,
                                "%s:%d: the version is dynamic (set by the build backend): "
                                "name the file that holds it in release.version_file",
                                path, line);
        if (ours && !*found && n - i > 7 && !strncmp(l + i, "version", 7)) {
            size_t j = i + 7;
            while (j < n && (l[j] == ' ' || l[j] == '\t'))
                j++;
            if (j < n && l[j] == '=') {
                j++;
                while (j < n && (l[j] == ' ' || l[j] == '\t'))
                    j++;
                char q = j < n ? l[j] : 0;
                const char *endq = q == '"' || q == '\'' ? memchr(l + j + 1, q, n - j - 1) : NULL;
                if (!endq)
                    return otap_err_set(err, OTAP_EINVALID, "%s:%d: version is not a quoted string",
                                        path, line);
                s->at = at + j + 1;
                s->len = (size_t)(endq - (l + j + 1));
                s->line = line;
                *found = true;
            }
        }
        at = end + 1;
    }
    return 0;
}

/* ---- the kinds together ------------------------------------------------- */

static int locate(const char *path, const char *text, size_t len, struct span *s, bool *found,
                  size_t *insert_at, struct otap_err *err)
{
    enum vf_kind k = kind_of(path);
    *insert_at = (size_t)-1;
    if (memchr(text, '\0', len))
        return otap_err_set(err, OTAP_EINVALID, "%s: a binary file is no version file", path);
    if (k == VF_PACKAGE_JSON)
        return package_json(path, text, len, s, found, err);
    if (k != VF_PLAIN)
        return toml_version(path, text, len, k, s, found, insert_at, err);
    /* VERSION: the first line, blank lines and surrounding spaces aside */
    size_t i = strspn(text, " \t\r\n");
    if (i >= len) {
        *found = false;
        return 0;
    }
    size_t n = 0;
    while (i + n < len && !strchr(" \t\r\n", text[i + n]))
        n++;
    size_t rest = i + n + strspn(text + i + n, " \t\r\n");
    if (rest < len)
        return otap_err_set(err, OTAP_EINVALID,
                            "%s:%d: a VERSION file holds the version alone, one line", path,
                            line_at(text, rest));
    s->at = i;
    s->len = n;
    s->line = line_at(text, i);
    *found = true;
    return 0;
}

int version_file_read(const char *path, const char *text, size_t len, char **version,
                      struct otap_err *err)
{
    *version = NULL;
    struct span s;
    bool found = false;
    size_t ins;
    int rc = locate(path, text, len, &s, &found, &ins, err);
    if (rc == 0 && found)
        *version = xstrndup(text + s.at, s.len);
    return rc;
}

int version_file_update(const char *path, const char *text, size_t len, const char *version,
                        char **out, size_t *out_len, struct otap_err *err)
{
    *out = NULL;
    struct span s;
    bool found = false;
    size_t ins;
    int rc = locate(path, text, len, &s, &found, &ins, err);
    if (rc < 0)
        return rc;
    enum vf_kind k = kind_of(path);
    if (!found && k == VF_PLAIN) {
        *out = xasprintf("%s\n", version);
    } else if (!found && k != VF_PACKAGE_JSON && ins != (size_t)-1) {
        /* the table is there but has no version yet: it goes first in it */
        bool nl = ins > 0 && text[ins - 1] == '\n';
        *out = xasprintf("%.*s%sversion = \"%s\"\n%s", (int)ins, text, nl ? "" : "\n", version,
                         text + ins);
    } else if (!found) {
        return otap_err_set(err, OTAP_EINVALID, "%s: no %s to write the version into", path,
                            k == VF_PACKAGE_JSON ? "\"version\" field"
                            : k == VF_CARGO      ? "[package] table"
                                                 : "[project] table");
    } else {
        *out = xasprintf("%.*s%s%s", (int)s.at, text, version, text + s.at + s.len);
    }
    *out_len = strlen(*out);
    return 0;
}

char *version_file_stated(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    char *v = NULL;
    if (strbuf_read_file(&sb, path, 16u << 20) == 0)
        version_file_read(path, sb.buf, sb.len, &v, NULL);
    strbuf_release(&sb);
    if (v && (!semver_valid(v) || !strcmp(v, "0.0.0") || strchr(v, '-'))) {
        free(v);
        v = NULL;
    }
    return v;
}
