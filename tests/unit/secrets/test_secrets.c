/*
 * The secret scanner's engine: every built-in rule's own examples, then
 * what the engine adds around the rules (masking, positions, dedupe,
 * allow comments, custom rules and allowlists, the compiled-database
 * cache).
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
#include <stdbool.h>

#include "secrets/secrets_engine.h"
#include "secrets/secrets_rules.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static struct secrets_engine engine;
static char cache[] = "/tmp/otap-test-secrets-XXXXXX";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(cache))
        return -1;
    setenv("OTAP_CACHE_DIR", cache, 1);
    struct otap_err err = OTAP_ERR_INIT;
    return secrets_engine_build(&engine, NULL, true, &err);
}

static int teardown(void **state)
{
    (void)state;
    secrets_engine_release(&engine);
    char *cmd = xasprintf("rm -rf '%s'", cache);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

/* Scans text with e; the findings are the caller's to release. */
static void scan(const struct secrets_engine *e, const char *text, struct secret_findings *out,
                 struct secrets_counts *counts)
{
    struct secrets_worker w;
    struct otap_err err = OTAP_ERR_INIT;
    struct secrets_counts ignored = {0};
    memset(out, 0, sizeof(*out));
    assert_int_equal(secrets_worker_init(&w, e, &err), 0);
    assert_int_equal(
        secrets_scan_buffer(&w, "test.txt", 0, text, strlen(text), out, counts ? counts : &ignored),
        0);
    secrets_worker_release(&w);
}

static const struct secret_finding *find_rule(const struct secrets_engine *e,
                                              const struct secret_findings *f, const char *id)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(e->rules[f->items[i].rule].id, id))
            return &f->items[i];
    return NULL;
}

/*
 * The generic rules on real code: a literal value, never a name, a call, a
 * type, a member access or a reference. Each line is scanned as part of
 * the file it stands in (source code needs a quoted literal; config files
 * take an unquoted value). found: whether a generic rule reports it.
 */
static void test_generic_rules_in_context(void **state)
{
    (void)state;
    const struct secrets_engine *e = &engine;
    static const struct {
        const char *file, *line;
        bool found;
    } cases[] = {
        /* literals */
        {"app/config.py", "DB_PASSWORD = \"q8Zt2mXv9LwR\"", true},
        {"src/client.ts", "const apiToken = 'Zx9Cv8Bn7Mq6Wl5E';", true},
        {".env", "SMTP_PASSWORD=q8Zt2mXv9LwR", true},
        {"deploy/values.yaml", "  password: q8Zt2mXv9LwR", true},
        {"notes.txt", "admin password = q8Zt2mXv9LwR", true},
        /* letters only, no digit: still no name (a bench plant once read as one) */
        {"app/db.py", "    db_password = \"kXvQeRtYuIoPaSdFgH\"", true},
        /* calls, identifiers, members, types: the right-hand side of code */
        {"tests/utils.py", "    password = random_lower_string()", false},
        {"tests/utils.py", "    new_password = random_lower_string()", false},
        {"src/login.ts", "  const password = randomPassword()", false},
        {"src/client.ts", "export type UpdatePasswordError = UpdatePasswordErrors[keyof X];",
         false},
        {"src/gen/api.ts", "    createAPITokenRequestBody: CreateAPITokenRequestBody,", false},
        {"app/crud.py", "        hashed_password = get_password_hash(password)", false},
        {"app/users.py", "    current_user.hashed_password = hashed_password", false},
        {"app/users.py", "    data = {\"new_password\": new_password, \"token\": token}", false},
        {"pkg/auth.go", "\tsecret := os.Getenv(\"APP_SECRET\")", false},
        {"app/settings.rb", "  config.secret_key = ENV.fetch('SECRET_KEY')", false},
        /* references and templates */
        {"compose.yml", "      - POSTGRES_PASSWORD=${POSTGRES_PASSWORD?Variable not set}", false},
        {"compose.yml",
         "      FIRST_SUPERUSER_PASSWORD: ${FIRST_SUPERUSER_PASSWORD:?Variable not set}", false},
        {"compose.yml", "      DATABASE_URL: postgresql://app:${POSTGRES_PASSWORD:-x}@db/app",
         false},
        {"charts/values.yaml", "  password: {{ .Values.db.password }}", false},
        {"app/alembic/env.py", "    return f\"postgresql://{user}:{password}@{server}/{db}\"",
         false},
        {"README.md", "  -v \"$PWD\":/workspaces/kargo -w /workspaces/kargo", false},
        /* names of secrets, not secrets */
        {"chart.yaml", "  secretName: kargo-api-server-token", false},
        {"pkg/labels.go", "\tLabelKeyAPIToken = \"rbac.kargo.akuity.io/api-token\"", false},
        {"src/types.ts", "export const CredentialTypeLabelKey = 'kargo.akuity.io/cred-type';",
         false},
        {"app/forms.py", "    password_field = \"Xq8Zt2mXv9\"", false},
        /* placeholders: one list with the contract */
        {".env", "FIRST_SUPERUSER_PASSWORD=changethis", false},
        {"test_login.py", "    data = {\"new_password\": \"changethis\", \"token\": \"invalid\"}",
         false},
        {"spec.ts", "      const password1 = 'password1';", false},
        /* NAME= with nothing after it is no assignment of the next line */
        {".env", "SMTP_PASSWORD=\nEMAILS_FROM_EMAIL=info@example.com", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct secrets_worker w;
        struct otap_err err = OTAP_ERR_INIT;
        struct secrets_counts counts = {0};
        struct secret_findings f = {0};
        assert_int_equal(secrets_worker_init(&w, e, &err), 0);
        assert_int_equal(secrets_scan_buffer(&w, cases[i].file, 0, cases[i].line,
                                             strlen(cases[i].line), &f, &counts),
                         0);
        secrets_worker_release(&w);
        bool generic = find_rule(e, &f, "generic-password") || find_rule(e, &f, "generic-secret");
        if (generic != cases[i].found)
            fail_msg("%s: '%s' should %sbe reported", cases[i].file, cases[i].line,
                     cases[i].found ? "" : "not ");
        secret_findings_release(&f);
    }
}

static void test_rule_set_shape(void **state)
{
    (void)state;
    assert_true(secret_builtin_nrules >= 80);
    for (size_t i = 0; i < secret_builtin_nrules; i++) {
        const struct secret_rule_def *d = &secret_builtin_rules[i];
        assert_non_null(d->id);
        assert_true(d->description && *d->description);
        assert_non_null(d->positive[0]);
        assert_non_null(d->negative[0]);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(secret_builtin_rules[k].id, d->id))
                fail_msg("rule id '%s' is used twice", d->id);
    }
    assert_int_equal(engine.nrules, secret_builtin_nrules);
}

/* Each positive is reported by its rule, masked; each negative by no rule at all. */
static void test_rule_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < secret_builtin_nrules; i++) {
        const struct secret_rule_def *d = &secret_builtin_rules[i];
        for (size_t k = 0; d->positive[k]; k++) {
            struct secret_findings f;
            scan(&engine, d->positive[k], &f, NULL);
            const struct secret_finding *hit = find_rule(&engine, &f, d->id);
            if (!hit)
                fail_msg("rule '%s' misses its positive example %zu: %s", d->id, k + 1,
                         d->positive[k]);
            char *secret = xstrndup(d->positive[k] + hit->sstart, hit->send - hit->sstart);
            if (strstr(hit->excerpt, secret))
                fail_msg("rule '%s': the excerpt shows the secret: %s", d->id, hit->excerpt);
            assert_int_equal(strlen(hit->fingerprint), 32);
            free(secret);
            secret_findings_release(&f);
        }
        for (size_t k = 0; d->negative[k]; k++) {
            struct secret_findings f;
            scan(&engine, d->negative[k], &f, NULL);
            if (f.n)
                fail_msg("rule '%s' negative example %zu is reported by '%s': %s", d->id, k + 1,
                         engine.rules[f.items[0].rule].id, d->negative[k]);
            secret_findings_release(&f);
        }
    }
}

static void test_positions_and_excerpt(void **state)
{
    (void)state;
    const char *text = "line one\n"
                       "\tkey: ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5 and "
                       "ghr_Zq8Wm2Xn4Yb6Vc8Td0Se2Rf4Ug6Ih8Jk0LnP\n";
    struct secret_findings f;
    scan(&engine, text, &f, NULL);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.items[0].line, 2);
    assert_int_equal(f.items[0].col, 7);
    assert_int_equal(f.items[0].end_line, 2);
    assert_int_equal(f.items[0].end_col, 7 + 40 - 1);
    /* both secrets are masked in each excerpt; the tab became a space */
    for (size_t i = 0; i < f.n; i++) {
        assert_null(strstr(f.items[i].excerpt, "aB3dE5fG7hJ9"));
        assert_null(strstr(f.items[i].excerpt, "Zq8Wm2Xn4Yb6"));
        assert_string_equal(f.items[i].excerpt, " key: ghp_***** and ghr_*****");
    }
    secret_findings_release(&f);
}

/* The same secret written again where the rule does not match is masked too. */
static void test_repeated_secret_is_masked(void **state)
{
    (void)state;
    struct secret_findings f;
    scan(
        &engine,
        "id=xghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5 t=ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5\n",
        &f, NULL);
    assert_int_equal(f.n, 1);
    assert_null(strstr(f.items[0].excerpt, "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"));
    assert_string_equal(f.items[0].excerpt, "id=xghp_***** t=ghp_*****");
    secret_findings_release(&f);
}

static void test_format_rule_beats_generic(void **state)
{
    (void)state;
    struct secret_findings f;
    scan(&engine, "GITHUB_TOKEN = \"ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5\"\n", &f, NULL);
    assert_int_equal(f.n, 1);
    assert_string_equal(engine.rules[f.items[0].rule].id, "github-pat");
    secret_findings_release(&f);
}

static void test_allow_comment(void **state)
{
    (void)state;
    struct secret_findings f;
    struct secrets_counts c = {0};
    scan(&engine,
         "a = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'  # otap:allow test fixture\n"
         "b = 'ghp_Zq8Wm2Xn4Yb6Vc8Td0Se2Rf4Ug6Ih8Jk0LnP'\n",
         &f, &c);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].line, 2);
    assert_int_equal(c.inline_allowed, 1);
    secret_findings_release(&f);
}

static void test_private_key_block(void **state)
{
    (void)state;
    const char *text = "const key = `\n"
                       "-----BEGIN EC PRIVATE KEY-----\n"
                       "MHcCAQEEIBkZk3Lb5o0aQ1cK2xYtq7sW9pV4mN8rT6uE3wF5gH2joAoGCCqGSM49\n"
                       "AwEHoUQDQgAE8fQ2kLm4nP6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6lM8nO0pQ2rS\n"
                       "-----END EC PRIVATE KEY-----\n`;\n";
    struct secret_findings f;
    scan(&engine, text, &f, NULL);
    assert_int_equal(f.n, 1);
    assert_string_equal(engine.rules[f.items[0].rule].id, "private-key");
    assert_int_equal(f.items[0].line, 2);
    assert_int_equal(f.items[0].end_line, 5);
    assert_string_equal(f.items[0].excerpt, "-----BEGIN EC PRIVATE KEY-----");
    secret_findings_release(&f);

    /* a 4096-bit RSA key's block is over 3 kB: confirmed whole all the same */
    struct strbuf big = STRBUF_INIT;
    strbuf_addstr(&big, "-----BEGIN RSA PRIVATE KEY-----\n");
    for (int line = 0; line < 52; line++) {
        for (int i = 0; i < 64; i++)
            strbuf_addch(&big, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
                                   [(line * 7 + i * 13) % 64]);
        strbuf_addch(&big, '\n');
    }
    strbuf_addstr(&big, "-----END RSA PRIVATE KEY-----\n");
    scan(&engine, big.buf, &f, NULL);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.items[0].end_line, 54);
    secret_findings_release(&f);
    strbuf_release(&big);
}

static void test_fingerprint_is_stable(void **state)
{
    (void)state;
    struct secret_findings a, b;
    scan(&engine, "x = ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5\n", &a, NULL);
    scan(&engine, "\n\n\n    y: ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5\n", &b, NULL);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    /* the line moved; the finding is the same one */
    assert_string_equal(a.items[0].fingerprint, b.items[0].fingerprint);
    secret_findings_release(&a);
    secret_findings_release(&b);
}

static void test_custom_rules_and_allowlists(void **state)
{
    (void)state;
    char *kw[] = {"acme_"};
    struct manifest_secret_rule rule = {
        .id = "acme-token",
        .description = "ACME internal token",
        .pattern = "\\b(acme_[a-z0-9]{24})\\b",
        .keywords = kw,
        .nkeywords = 1,
        .entropy = 3.0,
        .group = -1,
    };
    struct manifest_regex allow = {"^ghp_aB3d", {1, 1}};
    char *stop[] = {"TESTONLY"};
    char *disable[] = {"jwt"};
    struct manifest_secrets cfg = {
        .rules = &rule,
        .nrules = 1,
        .disable = disable,
        .ndisable = 1,
        .allow_patterns = &allow,
        .nallow_patterns = 1,
        .stopwords = stop,
        .nstopwords = 1,
    };
    struct secrets_engine e;
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(secrets_engine_build(&e, &cfg, true, &err), 0);
    assert_int_equal(e.nrules, secret_builtin_nrules);
    struct secret_findings f;
    scan(&e,
         "t1 = acme_k3j5h7g9f1d3s5a7q9w1e3r5\n"
         "t2 = acme_testonly9f1d3s5a7q9w1e3r\n"
         "t3 = ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5\n"
         "t4 = "
         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
         "XgL0n3I9PlFUP0THsR8U\n",
         &f, NULL);
    assert_int_equal(f.n, 1);
    assert_string_equal(e.rules[f.items[0].rule].id, "acme-token");
    assert_int_equal(f.items[0].line, 1);
    secret_findings_release(&f);
    secrets_engine_release(&e);
}

static void test_database_cache(void **state)
{
    (void)state;
    /* setup compiled into an empty cache; the same rules now load from it */
    struct secrets_engine e;
    struct otap_err err = OTAP_ERR_INIT;
    assert_false(engine.cache_hit);
    assert_int_equal(secrets_engine_build(&e, NULL, true, &err), 0);
    assert_true(e.cache_hit);
    struct secret_findings f;
    scan(&e, "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5", &f, NULL);
    assert_int_equal(f.n, 1);
    secret_findings_release(&f);
    secrets_engine_release(&e);
}

static void test_entropy_and_printable(void **state)
{
    (void)state;
    assert_true(secrets_entropy("aaaa", 4) == 0);
    assert_true(secrets_entropy("abab", 4) == 1);
    char *p = secrets_printable("a\tb\x01\xff\xc3\xa9", 7);
    assert_string_equal(p, "a b??\xc3\xa9");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_set_shape),
        cmocka_unit_test(test_rule_examples),
        cmocka_unit_test(test_generic_rules_in_context),
        cmocka_unit_test(test_positions_and_excerpt),
        cmocka_unit_test(test_repeated_secret_is_masked),
        cmocka_unit_test(test_format_rule_beats_generic),
        cmocka_unit_test(test_allow_comment),
        cmocka_unit_test(test_private_key_block),
        cmocka_unit_test(test_fingerprint_is_stable),
        cmocka_unit_test(test_custom_rules_and_allowlists),
        cmocka_unit_test(test_database_cache),
        cmocka_unit_test(test_entropy_and_printable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
