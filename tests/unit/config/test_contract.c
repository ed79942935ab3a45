/*
 * Unit tests for src/lib/contract.c on real files: a temporary project
 * with otap.yaml and dotenv layers, evaluated for one environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>

#include "config/contract.h"
#include "db/hardlock.h"
#include "base/xalloc.h"

static const char manifest_text[] =
    "project: t\n"
    "environments:\n"
    "  - { name: development }\n"
    "  - { name: staging }\n"
    "  - { name: production }\n"
    "config:\n"
    "  ENVIRONMENT: { type: enum, values: [development, staging, production], aliases: "
    "[PYTHON_ENV], required: true }\n"
    "  DATABASE_URL: { type: url, schemes: [postgresql], required: true, one_of: "
    "\"db:url\" }\n"
    "  POSTGRES_USER: { one_of: \"db:parts\" }\n"
    "  POSTGRES_PASSWORD: { type: secret, one_of: \"db:parts\" }\n"
    "  POSTGRES_DB: { one_of: \"db:parts\" }\n"
    "  POSTGRES_HOST: { one_of: \"db:parts\", default: localhost }\n"
    "  POSTGRES_PORT: { type: port, one_of: \"db:parts\", default: \"5432\" }\n"
    "  SECRET_KEY: { type: secret, min_length: 32, aliases: [JWT_SECRET], required: "
    "[staging, production], placeholders_in: [development] }\n"
    "  PORT: { type: port, default: \"9000\" }\n"
    "  DEBUG: { type: bool }\n"
    "  TIMEOUT: { type: duration }\n"
    "database: { url: DATABASE_URL }\n";

static const char good_secret[] = "Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA";

struct project {
    char dir[64];
    struct manifest *m;
};

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(path);
}

static int setup(void **state)
{
    struct project *p = calloc(1, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/otap-contract-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    write_file(p->dir, "otap.yaml", manifest_text);
    char *path = xasprintf("%s/otap.yaml", p->dir);
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    p->m = manifest_load_file(path, &dl);
    for (size_t i = 0; i < dl.n; i++)
        print_message("%d:%d: %s\n", dl.items[i].line, dl.items[i].col, dl.items[i].msg);
    assert_non_null(p->m);
    diag_list_release(&dl);
    free(path);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct project *p = *state;
    char *cmd = xasprintf("rm -rf '%s'", p->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    manifest_free(p->m);
    free(p);
    return 0;
}

/* Does some diagnostic (in file, at line; NULL/0 for any) contain needle? */
static int has(const struct contract_eval *ev, const char *file, int line, const char *needle)
{
    for (size_t i = 0; i < ev->diags.n; i++) {
        const struct diag *d = &ev->diags.items[i];
        if ((!file || !strcmp(diag_file(&ev->diags, d), file)) && (!line || d->line == line) &&
            strstr(d->msg, needle))
            return 1;
    }
    for (size_t i = 0; i < ev->diags.n; i++)
        print_message("  have %s:%d: %s\n", diag_file(&ev->diags, &ev->diags.items[i]),
                      ev->diags.items[i].line, ev->diags.items[i].msg);
    return 0;
}

static void eval(struct project *p, const char *env, char **process, struct contract_eval *ev)
{
    assert_int_equal(contract_eval(ev, p->m, "otap.yaml", env, process, NULL), 0);
}

static void test_contract_layers_and_sources(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env", "PORT=1111\nDEBUG=true\nDATABASE_URL=postgres://u@h/base\n");
    write_file(p->dir, ".env.local", "PORT=2222\n");
    write_file(p->dir, ".env.development", "PORT=3333\nTIMEOUT=5m\n");
    write_file(p->dir, ".env.development.local", "PORT=4444\n");
    char *process[] = {"DEBUG=false", NULL};
    struct contract_eval ev;
    eval(p, "dev", process, &ev);
    assert_string_equal(ev.env->name, "development");
    assert_int_equal(diag_count(&ev.diags, DIAG_ERROR), 0);
    const struct contract_value *v = contract_value_of(&ev, "PORT");
    assert_string_equal(v->value, "4444");
    assert_string_equal(v->source, ".env.development.local:1");
    assert_string_equal(contract_value_of(&ev, "DEBUG")->source, "process");
    assert_string_equal(contract_value_of(&ev, "TIMEOUT")->source, ".env.development:2");
    /* normalised, and ENVIRONMENT supplied by otap */
    v = contract_value_of(&ev, "DATABASE_URL");
    assert_string_equal(v->value, "postgresql://u@h/base");
    assert_string_equal(v->note, "normalised from postgres://");
    assert_string_equal(contract_value_of(&ev, "ENVIRONMENT")->value, "development");
    assert_string_equal(contract_value_of(&ev, "ENVIRONMENT")->source, "otap");
    contract_eval_release(&ev);
}

static void test_contract_aliases(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env",
               "DATABASE_URL=postgresql://h/db\nJWT_SECRET=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\n");
    struct contract_eval ev;
    eval(p, "development", NULL, &ev);
    const struct contract_value *v = contract_value_of(&ev, "SECRET_KEY");
    assert_string_equal(v->value, good_secret);
    assert_string_equal(v->alias, "JWT_SECRET");
    assert_true(has(&ev, ".env", 2, "'JWT_SECRET' is deprecated: rename it to 'SECRET_KEY'"));
    assert_int_equal(diag_count(&ev.diags, DIAG_ERROR), 0);
    contract_eval_release(&ev);

    char *process[] = {"SECRET_KEY=another-value-that-is-long-enough-1234", NULL};
    eval(p, "development", process, &ev);
    assert_true(has(&ev, ".env", 2,
                    "'JWT_SECRET' (an alias of 'SECRET_KEY') and 'SECRET_KEY' "
                    "are both set, to different values"));
    contract_eval_release(&ev);
}

static void test_contract_required_and_groups(void **state)
{
    struct project *p = *state;
    struct contract_eval ev;
    eval(p, "production", NULL, &ev);
    assert_true(has(&ev, "otap.yaml", 8,
                    "'DATABASE_URL' is required in production but not set; "
                    "set DATABASE_URL or POSTGRES_USER+POSTGRES_PASSWORD+"
                    "POSTGRES_DB+POSTGRES_HOST+POSTGRES_PORT"));
    assert_true(has(&ev, "otap.yaml", 14,
                    "'SECRET_KEY' is required in production but not set "
                    "(or its alias JWT_SECRET)"));
    contract_eval_release(&ev);

    /* the parts satisfy the group, and make the URL, percent-encoded */
    write_file(
        p->dir, ".env.production",
        "POSTGRES_USER=app\nPOSTGRES_PASSWORD=p@ss:w/rd%-long-enough-123\n"
        "POSTGRES_DB=app db\nPOSTGRES_HOST=::1\nSECRET_KEY=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\n");
    eval(p, "production", NULL, &ev);
    assert_int_equal(diag_count(&ev.diags, DIAG_ERROR), 0);
    const struct contract_value *v = contract_value_of(&ev, "DATABASE_URL");
    assert_string_equal(v->value,
                        "postgresql://app:p%40ss%3Aw%2Frd%25-long-enough-123@[::1]:5432/app%20db");
    assert_string_equal(v->note, "built from the POSTGRES_* parts");
    contract_eval_release(&ev);
}

static void test_contract_types(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env",
               "DATABASE_URL=mysql://h/db\nPORT=99999\nDEBUG=maybe\n"
               "TIMEOUT=soon\nENVIRONMENT=qa\n");
    struct contract_eval ev;
    eval(p, "development", NULL, &ev);
    assert_true(has(&ev, ".env", 1, "'DATABASE_URL' must use scheme postgresql, not 'mysql'"));
    assert_true(has(&ev, ".env", 2, "'PORT' must be a port number 1-65535, not '99999'"));
    assert_true(has(&ev, ".env", 3, "'DEBUG' must be true or false, not 'maybe'"));
    assert_true(has(&ev, ".env", 4, "'TIMEOUT' must be a duration"));
    assert_true(has(&ev, ".env", 5,
                    "'ENVIRONMENT' says 'qa', but the environment is "
                    "'development'"));
    contract_eval_release(&ev);
}

static void test_contract_unknown_keys(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env.local", "DATABASE_URL=postgresql://h/db\nSECRET_KYE=x\nFOO=1\n");
    struct contract_eval ev;
    eval(p, "development", NULL, &ev);
    assert_true(has(&ev, ".env.local", 2,
                    "'SECRET_KYE' is not in the config contract (did you "
                    "mean 'SECRET_KEY'?)"));
    assert_true(has(&ev, ".env.local", 3, "'FOO' is not in the config contract"));
    contract_eval_release(&ev);
}

static void test_contract_secrets(void **state)
{
    (void)state;
    assert_true(contract_is_placeholder("changeme"));
    assert_true(contract_is_placeholder("<your secret>"));
    assert_true(contract_is_placeholder("your-api-key-here"));
    assert_true(contract_is_placeholder("xxxxxxxx"));
    assert_true(contract_is_placeholder("Secret"));
    assert_true(contract_is_placeholder("${SECRET_KEY}"));
    assert_false(contract_is_placeholder(good_secret));
    assert_true(contract_secret_bits("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") < 1);
    assert_true(contract_secret_bits("passwordpassword") < 64);
    assert_true(contract_secret_bits(good_secret) > 128);

    struct contract_var v = {.name = "K", .type = CT_SECRET};
    char *msg = contract_check_value(&v, "short");
    assert_string_equal(msg, "'K' is shorter than 16 characters");
    free(msg);
    msg = contract_check_value(&v, "abababababababababababab");
    assert_non_null(strstr(msg, "too predictable"));
    assert_null(strstr(msg, "abab"));
    free(msg);
    assert_null(contract_check_value(&v, good_secret));
}

static void test_contract_shared_secret_across_environments(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env", "DATABASE_URL=postgresql://h/db\n");
    write_file(p->dir, ".env.staging", "SECRET_KEY=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\n");
    write_file(p->dir, ".env.production", "SECRET_KEY=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\n");
    char *process[] = {0};
    struct contract_eval ev;
    eval(p, "production", process, &ev);
    assert_true(has(&ev, ".env.production", 1,
                    "'SECRET_KEY' in production is the same as in "
                    "staging (.env.staging:1)"));
    contract_eval_release(&ev);
    write_file(p->dir, ".env.staging", "SECRET_KEY=Another0ne-Rand0m-Secret-Value-42xyz\n");
    eval(p, "production", process, &ev);
    assert_int_equal(diag_count(&ev.diags, DIAG_ERROR), 0);
    contract_eval_release(&ev);

    /* one .env read by every environment: one message, naming the file */
    write_file(p->dir, ".env.staging", "");
    write_file(p->dir, ".env.production", "");
    write_file(p->dir, ".env",
               "DATABASE_URL=postgresql://h/db\nSECRET_KEY=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA\n");
    eval(p, "production", process, &ev);
    size_t shared = 0;
    for (size_t i = 0; i < ev.diags.n; i++)
        shared += strstr(ev.diags.items[i].msg, "SECRET_KEY") != NULL;
    assert_int_equal(shared, 1);
    assert_true(has(&ev, ".env", 2, "'SECRET_KEY' comes from the shared .env for "));
    assert_true(has(&ev, ".env", 2, "staging and production; give each environment its own"));
    contract_eval_release(&ev);
}

/* placeholders_in: the template's placeholder runs locally; staging and production refuse it */
static void test_contract_placeholders_in(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env", "DATABASE_URL=postgresql://h/db\n");
    char *process[] = {"SECRET_KEY=changethis", NULL};
    struct contract_eval ev;
    eval(p, "development", process, &ev);
    assert_int_equal(diag_count(&ev.diags, DIAG_ERROR), 0);
    assert_true(has(&ev, NULL, 0,
                    "'SECRET_KEY' holds a placeholder, which otap.yaml allows in "
                    "development only"));
    contract_eval_release(&ev);
    eval(p, "production", process, &ev);
    assert_true(has(&ev, NULL, 0, "'SECRET_KEY' holds a placeholder, not a real secret"));
    contract_eval_release(&ev);

    /* never in a protected or acceptance stage, never an unknown environment */
    static const char *const bad[] = {"[production]", "[staging]", "[devlopment]"};
    static const char *const why[] = {"cannot allow placeholders in production",
                                      "cannot allow placeholders in staging",
                                      "allows placeholders in unknown environment 'devlopment'"};
    for (size_t i = 0; i < 3; i++) {
        char *text = xasprintf("project: t\nenvironments:\n  - { name: development }\n"
                               "  - { name: staging }\n  - { name: production }\n"
                               "config:\n  K: { type: secret, placeholders_in: %s }\n",
                               bad[i]);
        struct diag_list dl;
        diag_list_init(&dl, "otap.yaml");
        struct manifest *m = manifest_load_buffer(text, strlen(text), "otap.yaml", &dl);
        assert_null(m);
        bool found = false;
        for (size_t k = 0; k < dl.n; k++)
            found |= strstr(dl.items[k].msg, why[i]) != NULL;
        if (!found)
            fail_msg("no error '%s' for placeholders_in: %s", why[i], bad[i]);
        diag_list_release(&dl);
        free(text);
    }
}

static void test_contract_child_env(void **state)
{
    struct project *p = *state;
    write_file(p->dir, ".env", "PYTHON_ENV=development\nDATABASE_URL=postgresql+asyncpg://h/db\n");
    char *process[] = {"PATH=/bin", "JWT_SECRET=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA", "PORT=1234",
                       NULL};
    struct contract_eval ev;
    eval(p, "development", process, &ev);
    char **envp = contract_child_env(&ev, process);
    int path = 0, jwt = 0, secret = 0, port = 0, url = 0, envname = 0, python_env = 0;
    for (char **e = envp; *e; e++) {
        path += !strcmp(*e, "PATH=/bin");
        jwt += !strncmp(*e, "JWT_SECRET=", 11);
        python_env += !strncmp(*e, "PYTHON_ENV=", 11);
        secret += !strcmp(*e, "SECRET_KEY=Zq8vN3xT1pL6wR9yK2mB7cF4hJ0sD5gA");
        port += !strcmp(*e, "PORT=1234");
        url += !strcmp(*e, "DATABASE_URL=postgresql://h/db");
        envname += !strcmp(*e, "ENVIRONMENT=development");
    }
    assert_int_equal(path, 1);
    assert_int_equal(jwt, 0);
    assert_int_equal(python_env, 0);
    assert_int_equal(secret, 1);
    assert_int_equal(port, 1);
    assert_int_equal(url, 1);
    assert_int_equal(envname, 1);
    contract_child_env_free(envp);
    contract_eval_release(&ev);
}

static void test_contract_pg_urls(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"postgres://u:p@h:5432/d", "postgresql://u:p@h:5432/d"},
        {"postgresql://h/d", "postgresql://h/d"},
        {"postgresql+asyncpg://u@h/d?sslmode=require", "postgresql://u@h/d?sslmode=require"},
        {"POSTGRES+psycopg2://h/d", "postgresql://h/d"},
        {"mysql://h/d", NULL},
        {"not a url", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *r = contract_normalise_pg_url(cases[i].in);
        if (cases[i].out)
            assert_string_equal(r, cases[i].out);
        else
            assert_null(r);
        free(r);
    }
    char *u = contract_build_pg_url("us er", "p:w@/", "db.internal", "5432", "my/db");
    assert_string_equal(u, "postgresql://us%20er:p%3Aw%40%2F@db.internal:5432/my%2Fdb");
    free(u);
}

/*
 * The URL rule as a property, over 3,000 generated passwords:
 *  - one holding a character no URL may carry (space, quotes, <>, \\, ^,
 *    `, {, |, }) is always an error;
 *  - one holding '@', '/', '?', '#', '[', ']' or a stray '%' is an error,
 *    except where the URL reads as another valid URL (app:9/db?x=y@host is
 *    host 'app', port 9): there the redactor is what protects it;
 *  - one with neither passes, and so does any password percent-encoded;
 *  - no message quotes the password, nor 6 bytes of it.
 */
static void test_contract_url_password_property(void **state)
{
    struct project *p = *state;
    const struct contract_var *v = manifest_var_find(p->m, "DATABASE_URL");
    assert_non_null(v);
    uint64_t x = 0x2545F4914F6CDD1Dull;
    int reserved_caught = 0, reserved_seen = 0;
    for (int round = 0; round < 3000; round++) {
        char pw[64];
        size_t n = 8 + (x % 24);
        bool illegal = false, reserved = false;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            pw[i] = (char)(0x20 + x % 95);
        }
        pw[n] = '\0';
        for (size_t i = 0; i < n; i++) {
            illegal |= strchr(" \"<>\\^`{|}", pw[i]) != NULL;
            reserved |= strchr("@/?#[]", pw[i]) != NULL ||
                        (pw[i] == '%' && !(isxdigit((unsigned char)pw[i + 1]) &&
                                           isxdigit((unsigned char)pw[i + 2])));
        }
        char *url = xasprintf("postgresql://app:%s@db.internal:5432/app", pw);
        char *msg = contract_check_value(v, url);
        if (illegal && !msg)
            fail_msg("round %d: '%s' in a URL passed the contract", round, pw);
        if (!illegal && !reserved && msg)
            fail_msg("round %d: '%s' is a fine password, yet: %s", round, pw, msg);
        if (reserved && !illegal) {
            reserved_seen++;
            reserved_caught += msg != NULL;
        }
        for (size_t i = 0; msg && i + 6 <= n; i++)
            if (memmem(msg, strlen(msg), pw + i, 6))
                fail_msg("round %d: the message quotes the password: %s", round, msg);
        free(msg);
        free(url);
        /* percent-encoded, as contract_build_pg_url writes it */
        url = contract_build_pg_url("app", pw, "db.internal", "5432", "app");
        msg = contract_check_value(v, url);
        if (msg)
            fail_msg("round %d: the encoded URL failed: %s", round, msg);
        free(url);
    }
    /* the ambiguous readings are the exception, not the rule */
    print_message("reserved characters caught in %d of %d URLs\n", reserved_caught, reserved_seen);
    assert_true(reserved_caught * 10 >= reserved_seen * 9);
}

/* An unknown environment is an error that leaves nothing to release (ASan checks). */
static void test_contract_unknown_environment(void **state)
{
    struct project *p = *state;
    struct contract_eval ev;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(contract_eval(&ev, p->m, "otap.yaml", "nowhere", NULL, &err), OTAP_ENOTFOUND);
    assert_non_null(strstr(err.msg, "no environment 'nowhere'"));
    otap_err_release(&err);
}

/* One rule for "is this a secret", whoever asks. */
static void test_contract_is_secret(void **state)
{
    struct project *p = *state;
    struct contract_eval ev;
    eval(p, "development", NULL, &ev);
    assert_true(contract_is_secret(contract_value_of(&ev, "SECRET_KEY")->var, "SECRET_KEY"));
    assert_true(
        contract_is_secret(contract_value_of(&ev, "POSTGRES_PASSWORD")->var, "POSTGRES_PASSWORD"));
    /* a port is never a secret, whatever its name */
    assert_false(contract_is_secret(contract_value_of(&ev, "PORT")->var, "PORT"));
    /* names the contract does not know: by name */
    assert_true(contract_is_secret(NULL, "STRIPE_API_KEY"));
    assert_true(contract_is_secret(NULL, "GITHUB_TOKEN"));
    assert_false(contract_is_secret(NULL, "LOG_LEVEL"));
    contract_eval_release(&ev);
}

/*
 * The hard lock reads CONFIRM_PROD_MIGRATE from the process environment
 * it was handed (the server hands its own), not from otap's environ, and
 * never from a dotenv file.
 */
static void test_contract_hardlock_reads_handed_environment(void **state)
{
    struct project *p = *state;
    unsetenv("CONFIRM_PROD_MIGRATE");
    char *handed[] = {"CONFIRM_PROD_MIGRATE=YES", "ENVIRONMENT=production", NULL};
    struct contract_eval ev;
    eval(p, "production", handed, &ev);
    struct hardlock_input in;
    hardlock_gather(&in, &ev, "postgresql://h/db");
    assert_non_null(in.confirm);
    assert_string_equal(in.confirm, "YES");
    contract_eval_release(&ev);

    setenv("CONFIRM_PROD_MIGRATE", "YES", 1);
    char *none[] = {"ENVIRONMENT=production", NULL};
    eval(p, "production", none, &ev);
    hardlock_gather(&in, &ev, "postgresql://h/db");
    assert_null(in.confirm);
    contract_eval_release(&ev);
    unsetenv("CONFIRM_PROD_MIGRATE");

    write_file(p->dir, ".env.production", "CONFIRM_PROD_MIGRATE=YES\n");
    eval(p, "production", none, &ev);
    hardlock_gather(&in, &ev, "postgresql://h/db");
    assert_null(in.confirm);
    contract_eval_release(&ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_contract_layers_and_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_aliases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_required_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_unknown_keys, setup, teardown),
        cmocka_unit_test(test_contract_secrets),
        cmocka_unit_test_setup_teardown(test_contract_shared_secret_across_environments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contract_placeholders_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_child_env, setup, teardown),
        cmocka_unit_test(test_contract_pg_urls),
        cmocka_unit_test_setup_teardown(test_contract_unknown_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_url_password_property, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_is_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contract_hardlock_reads_handed_environment, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
