/*
 * Token storage and verification.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/fileio.h"
#include "base/strbuf.h"
#include "server/tokens.h"
#include "base/xalloc.h"
#include "base/banned.h"

const char *role_name(enum role r)
{
    static const char *const names[] = {"anonymous", "viewer", "deployer", "admin"};
    return names[r];
}

enum role role_parse(const char *s)
{
    for (int r = ROLE_VIEWER; r <= ROLE_ADMIN; r++)
        if (!strcmp(s, role_name((enum role)r)))
            return (enum role)r;
    return ROLE_NONE;
}

static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == '@'))
            return false;
    return true;
}

static bool hex64(const char *s)
{
    if (strlen(s) != SHA256_HEX_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int tokens_load(struct tokens *t, const char *path, struct diag_list *diags, struct otap_err *err)
{
    memset(t, 0, sizeof(*t));
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path, 1u << 20) < 0) {
        int e = errno;
        strbuf_release(&sb);
        if (e == ENOENT)
            return 0;
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read '%s': %s", path,
                            e == EFBIG ? "larger than 1 MiB" : strerror(e));
    }
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(sb.buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        line++;
        while (*l == ' ' || *l == '\t')
            l++;
        if (!*l || *l == '#')
            continue;
        char name[128], role[32], hash[128], scope[160];
        char extra;
        int n = sscanf(l, "%127s %31s %127s %159s %c", name, role, hash, scope, &extra);
        if (n != 3 && (n != 4 || strncmp(scope, "env=", 4) || !name_ok(scope + 4))) {
            diag_add_at(diags, DIAG_ERROR, path, line, 0, "want 'NAME ROLE SHA256HEX [env=ENV]'");
            continue;
        }
        enum role r = role_parse(role);
        if (!name_ok(name) || r == ROLE_NONE || !hex64(hash)) {
            diag_add_at(diags, DIAG_ERROR, path, line, 0,
                        !name_ok(name)   ? "bad token name '%s'"
                        : r == ROLE_NONE ? "unknown role '%s' (viewer, deployer, admin)"
                                         : "'%s' is not a SHA-256 in hex",
                        !name_ok(name)   ? name
                        : r == ROLE_NONE ? role
                                         : "the hash");
            continue;
        }
        struct token *tk = XPUSH(&t->items, &t->n, &t->alloc);
        tk->name = xstrdup(name);
        tk->role = r;
        tk->env = n == 4 ? xstrdup(scope + 4) : NULL;
        memcpy(tk->hash, hash, SHA256_HEX_LEN + 1);
    }
    strbuf_release(&sb);
    return 0;
}

int tokens_save(const struct tokens *t, const char *path, struct otap_err *err)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb,
                  "# otap serve tokens: NAME ROLE SHA256(token) [env=ENV]; made by 'otap serve "
                  "token'\n");
    for (size_t i = 0; i < t->n; i++)
        strbuf_addf(&sb, "%s %s %s%s%s\n", t->items[i].name, role_name(t->items[i].role),
                    t->items[i].hash, t->items[i].env ? " env=" : "",
                    t->items[i].env ? t->items[i].env : "");
    int rc = fileio_write(path, sb.buf, sb.len, false, 0600, err);
    strbuf_release(&sb);
    return rc;
}

void tokens_release(struct tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->items[i].name);
        free(t->items[i].env);
    }
    free(t->items);
    memset(t, 0, sizeof(*t));
}

int tokens_add(struct tokens *t, const char *name, enum role role, const char *env, char **token,
               struct otap_err *err)
{
    if (env && !name_ok(env))
        return otap_err_set(err, OTAP_EUSAGE, "'%s' is not an environment name", env);
    if (!name_ok(name))
        return otap_err_set(err, OTAP_EUSAGE,
                            "'%s' is not a token name (letters, digits, '-', '_', '.', '@')", name);
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->items[i].name, name))
            return otap_err_set(err, OTAP_EREFUSED, "a token named '%s' exists; remove it first",
                                name);
    unsigned char raw[32];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
        return otap_err_set(err, OTAP_EEXTERNAL, "cannot read random bytes: %s", strerror(errno));
    static const char hex[] = "0123456789abcdef";
    char *tok = xmalloc(5 + 2 * sizeof(raw) + 1);
    memcpy(tok, "otap_", 5);
    for (size_t i = 0; i < sizeof(raw); i++) {
        tok[5 + 2 * i] = hex[raw[i] >> 4];
        tok[5 + 2 * i + 1] = hex[raw[i] & 15];
    }
    tok[5 + 2 * sizeof(raw)] = '\0';
    explicit_bzero(raw, sizeof(raw));
    struct token *tk = XPUSH(&t->items, &t->n, &t->alloc);
    tk->name = xstrdup(name);
    tk->role = role;
    tk->env = env ? xstrdup(env) : NULL;
    sha256_hex(tok, strlen(tok), tk->hash);
    *token = tok;
    return 0;
}

bool tokens_remove(struct tokens *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->items[i].name, name))
            continue;
        free(t->items[i].name);
        free(t->items[i].env);
        memmove(&t->items[i], &t->items[i + 1], (t->n - i - 1) * sizeof(*t->items));
        t->n--;
        return true;
    }
    return false;
}

const struct token *tokens_verify(const struct tokens *t, const char *presented)
{
    char hash[SHA256_HEX_LEN + 1];
    sha256_hex(presented, strlen(presented), hash);
    const struct token *found = NULL;
    /* every entry is compared, whatever matched, so timing says nothing */
    for (size_t i = 0; i < t->n; i++)
        if (CRYPTO_memcmp(hash, t->items[i].hash, SHA256_HEX_LEN) == 0)
            found = &t->items[i];
    return found;
}
