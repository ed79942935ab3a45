/*
 * The dotenv parser and layered resolution, driven by the table in
 * tests/dotenv/cases.txt (jq's tests/jq.test style: input and expected
 * output side by side). Each case:
 *
 *   ### name
 *   <the file, verbatim; <CR> <TAB> <BOM> <FF> <NUL> stand for those
 *    bytes, and <NOEOL> at the very end drops the last newline>
 *   --- env                     (optional: the process environment)
 *   NAME=value
 *   --- expect
 *   L3 KEY d= "literal" + ${REF:-"default"}     the parse: line, key,
 *                                               quoting (u, s, d), parts
 *   ! 4: message                                 a diagnostic
 *   = KEY "value"                                the resolved value
 *
 * OTAP_DOTENV_PRINT=1 prints the whole table with the actual results, to
 * review and save when a case is added.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/dotenv.h"
#include "config/envset.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static void add_json_string(struct strbuf *sb, const char *s)
{
    json_t *j = json_string(s);
    char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    strbuf_addstr(sb, t);
    free(t);
    json_decref(j);
}

static void add_diags(struct strbuf *out, const struct diag_list *dl)
{
    for (size_t i = 0; i < dl->n; i++)
        strbuf_addf(out, "! %d: %s%s\n", dl->items[i].line,
                    dl->items[i].severity == DIAG_WARNING ? "warning: " : "", dl->items[i].msg);
}

/* Replaces the <TOKENS> of the case format with their bytes. */
static void decode(struct strbuf *raw, const char *text, size_t len)
{
    static const struct {
        const char *tok;
        const char *bytes;
        size_t n;
    } toks[] = {{"<CR>", "\r", 1},
                {"<TAB>", "\t", 1},
                {"<BOM>", "\xEF\xBB\xBF", 3},
                {"<FF>", "\xFF", 1},
                {"<NUL>", "\0", 1}};
    for (size_t i = 0; i < len;) {
        size_t t;
        for (t = 0; t < sizeof(toks) / sizeof(toks[0]); t++) {
            size_t tl = strlen(toks[t].tok);
            if (len - i >= tl && !memcmp(text + i, toks[t].tok, tl)) {
                strbuf_add(raw, toks[t].bytes, toks[t].n);
                i += tl;
                break;
            }
        }
        if (t == sizeof(toks) / sizeof(toks[0]))
            strbuf_addch(raw, text[i++]);
    }
    if (raw->len >= 8 && !memcmp(raw->buf + raw->len - 8, "<NOEOL>\n", 8))
        raw->len -= 8;
    else if (raw->len >= 7 && !memcmp(raw->buf + raw->len - 7, "<NOEOL>", 7))
        raw->len -= 7;
    raw->buf[raw->len] = '\0';
}

static char *run_case(const char *input, size_t len, const char *env)
{
    struct strbuf out = STRBUF_INIT, raw = STRBUF_INIT;
    decode(&raw, input, len);
    struct diag_list dl;
    diag_list_init(&dl, ".env");
    struct dotenv d;
    dotenv_parse(&d, raw.buf, raw.len, ".env", &dl);
    for (size_t i = 0; i < d.n; i++) {
        const struct dotenv_entry *e = &d.items[i];
        strbuf_addf(&out, "L%d %s %c=", e->line, e->key,
                    e->quote == DOTENV_SINGLE   ? 's'
                    : e->quote == DOTENV_DOUBLE ? 'd'
                                                : 'u');
        if (!e->nparts)
            strbuf_addstr(&out, " \"\"");
        for (size_t p = 0; p < e->nparts; p++) {
            strbuf_addstr(&out, p ? " + " : " ");
            if (e->parts[p].kind == DOTENV_LITERAL) {
                add_json_string(&out, e->parts[p].text);
            } else {
                strbuf_addf(&out, "${%s", e->parts[p].text);
                if (e->parts[p].def) {
                    strbuf_addstr(&out, ":-");
                    add_json_string(&out, e->parts[p].def);
                }
                strbuf_addch(&out, '}');
            }
        }
        strbuf_addch(&out, '\n');
    }
    add_diags(&out, &dl);
    diag_list_release(&dl);

    /* the process environment, one NAME=value per line */
    char **process = NULL;
    size_t np = 0, pa = 0;
    if (env) {
        char *copy = xstrdup(env), *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            *XPUSH(&process, &np, &pa) = xstrdup(line);
        free(copy);
    }
    *XPUSH(&process, &np, &pa) = NULL;
    diag_list_init(&dl, ".env");
    struct envset set;
    struct dotenv *layers[] = {&d};
    envset_build(&set, layers, 1, process, &dl);
    for (size_t i = 0; i < d.n; i++) {
        const struct dotenv_entry *e = &d.items[i];
        if (dotenv_get(&d, e->key) != e)
            continue; /* a duplicate: the last one is shown */
        const struct envvar *v = envset_find(&set, e->key);
        strbuf_addf(&out, "= %s ", e->key);
        if (v->value)
            add_json_string(&out, v->value);
        else
            strbuf_addstr(&out, "<unresolved>");
        if (v->origin == ORIGIN_PROCESS)
            strbuf_addstr(&out, " (process)");
        strbuf_addch(&out, '\n');
    }
    add_diags(&out, &dl);
    diag_list_release(&dl);
    envset_release(&set);
    dotenv_release(&d);
    for (size_t i = 0; i < np; i++)
        free(process[i]);
    free(process);
    strbuf_release(&raw);
    return strbuf_detach(&out, NULL);
}

struct section {
    const char *start;
    size_t len;
};

static void test_dotenv_cases(void **state)
{
    (void)state;
    const char *src = getenv("SRC");
    assert_non_null(src);
    char *path = xasprintf("%s/tests/dotenv/cases.txt", src);
    struct strbuf file = STRBUF_INIT;
    assert_int_equal(strbuf_read_file(&file, path, 0), 0);
    free(path);
    bool print = getenv("OTAP_DOTENV_PRINT") != NULL;
    int ncases = 0, nfailed = 0;

    const char *p = file.buf, *end = file.buf + file.len;
    if (print) {
        const char *first = strstr(p, "### ");
        fwrite(p, 1, first ? (size_t)(first - p) : file.len, stdout);
    }
    while ((p = strstr(p, "### "))) {
        const char *name_end = strchr(p, '\n');
        assert_non_null(name_end);
        char *name = xstrndup(p + 4, (size_t)(name_end - p - 4));
        const char *body = name_end + 1;
        const char *next = strstr(body, "\n### ");
        next = next ? next + 1 : end;
        const char *env_mark = strstr(body, "--- env\n");
        const char *exp_mark = strstr(body, "--- expect\n");
        if (env_mark && env_mark > next)
            env_mark = NULL;
        assert_true(print || (exp_mark && exp_mark < next));
        if (exp_mark && exp_mark > next)
            exp_mark = NULL;
        const char *input_end = env_mark ? env_mark : exp_mark ? exp_mark : next;
        char *env =
            env_mark ? xstrndup(env_mark + 8, (size_t)((exp_mark ? exp_mark : next) - env_mark - 8))
                     : NULL;
        char *actual = run_case(body, (size_t)(input_end - body), env);
        ncases++;
        if (print) {
            /* the case as written, without the blank lines that separate cases */
            const char *stop = env_mark ? (exp_mark ? exp_mark : next) : input_end;
            while (stop > body + 1 && stop[-1] == '\n' && stop[-2] == '\n')
                stop--;
            fwrite(p, 1, (size_t)(stop - p), stdout);
            printf("--- expect\n%s", actual);
            if (next < end)
                printf("\n");
        } else {
            size_t elen = (size_t)(next - exp_mark - 11);
            char *expect = xstrndup(exp_mark + 11, elen);
            /* a blank line separates cases */
            size_t el = strlen(expect);
            while (el && expect[el - 1] == '\n' && (el < 2 || expect[el - 2] == '\n'))
                expect[--el] = '\0';
            if (strcmp(expect, actual)) {
                nfailed++;
                print_message("case '%s'\n--- want\n%s--- have\n%s", name, expect, actual);
            }
            free(expect);
        }
        free(actual);
        free(env);
        free(name);
        p = next;
    }
    strbuf_release(&file);
    if (!print) {
        print_message("%d dotenv cases, %d failed\n", ncases, nfailed);
        assert_true(ncases >= 40);
        assert_int_equal(nfailed, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dotenv_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
