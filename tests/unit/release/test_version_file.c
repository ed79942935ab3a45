/*
 * Unit tests for src/lib/release/version_file.c: the version read from
 * VERSION, package.json, pyproject.toml and Cargo.toml, written back with
 * every other byte kept, and the files that are refused (with their line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "release/version_file.h"

static void roundtrip(const char *path, const char *text, const char *want_version,
                      const char *want_text)
{
    struct otap_err err = OTAP_ERR_INIT;
    char *v = NULL;
    if (version_file_read(path, text, strlen(text), &v, &err) < 0)
        fail_msg("%s: %s", path, err.msg);
    if (want_version ? !v || strcmp(v, want_version) : v != NULL)
        fail_msg("%s: read '%s', want '%s'", path, v ? v : "(none)",
                 want_version ? want_version : "(none)");
    free(v);
    char *out = NULL;
    size_t n = 0;
    if (version_file_update(path, text, strlen(text), "2.0.0", &out, &n, &err) < 0)
        fail_msg("%s: %s", path, err.msg);
    assert_int_equal(n, strlen(out));
    if (strcmp(out, want_text))
        fail_msg("%s: wrote\n%s\nwant\n%s", path, out, want_text);
    free(out);
}

static void refused(const char *path, const char *text, const char *want)
{
    struct otap_err err = OTAP_ERR_INIT;
    char *v = NULL, *out = NULL;
    size_t n;
    int rc = version_file_read(path, text, strlen(text), &v, &err);
    if (rc == 0)
        rc = version_file_update(path, text, strlen(text), "2.0.0", &out, &n, &err);
    if (rc != OTAP_EINVALID || !err.msg || !strstr(err.msg, want))
        fail_msg("%s: rc %d, '%s', want '%s'", path, rc, err.msg ? err.msg : "", want);
    free(v);
    free(out);
    otap_err_release(&err);
}

static void test_kinds(void **state)
{
    (void)state;
    roundtrip("VERSION", "1.4.2\n", "1.4.2", "2.0.0\n");
    roundtrip("VERSION", "  1.4.2  \n\n", "1.4.2", "  2.0.0  \n\n");
    roundtrip("VERSION", "", NULL, "2.0.0\n");
    roundtrip("sub/VERSION.txt", "0.1.0", "0.1.0", "2.0.0");
    /* package.json: only the top-level field, formatting kept */
    roundtrip("package.json",
              "{\n  \"name\": \"x\",\n  \"dependencies\": {\"version\": \"9.9.9\"},\n"
              "  \"version\" :  \"1.0.0-rc.1\",\n  \"scripts\": {}\n}\n",
              "1.0.0-rc.1",
              "{\n  \"name\": \"x\",\n  \"dependencies\": {\"version\": \"9.9.9\"},\n"
              "  \"version\" :  \"2.0.0\",\n  \"scripts\": {}\n}\n");
    roundtrip("web/package.json",
              "{\"description\": \"a \\\"version\\\": \\\"0\\\"\", \"version\":\"3.1.4\"}", "3.1.4",
              "{\"description\": \"a \\\"version\\\": \\\"0\\\"\", \"version\":\"2.0.0\"}");
    /* pyproject.toml: [project], else [tool.poetry]; comments kept */
    roundtrip("pyproject.toml",
              "[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"app\"\n"
              "version = \"0.3.1\"  # bumped by otap\n\n[tool.other]\nversion = \"7\"\n",
              "0.3.1",
              "[build-system]\nrequires = [\"hatchling\"]\n\n[project]\nname = \"app\"\n"
              "version = \"2.0.0\"  # bumped by otap\n\n[tool.other]\nversion = \"7\"\n");
    roundtrip("pyproject.toml", "[tool.poetry]\nname = 'app'\nversion = '1.2.0'\n", "1.2.0",
              "[tool.poetry]\nname = 'app'\nversion = '2.0.0'\n");
    /* a [project] table without a version yet gets one */
    roundtrip("pyproject.toml", "[project]\nname = \"app\"\n", NULL,
              "[project]\nversion = \"2.0.0\"\nname = \"app\"\n");
    roundtrip("Cargo.toml", "[package]\nname = \"c\"\nversion = \"0.1.0\"\n\n[dependencies]\n",
              "0.1.0", "[package]\nname = \"c\"\nversion = \"2.0.0\"\n\n[dependencies]\n");
    roundtrip("Cargo.toml", "[[bin]]\nversion = \"1\"\n[package]\nversion = \"0.2.0\"\n", "0.2.0",
              "[[bin]]\nversion = \"1\"\n[package]\nversion = \"2.0.0\"\n");
}

static void test_refusals(void **state)
{
    (void)state;
    refused("package.json", "{\"version\": 1}", "\"version\" is not a string");
    refused("package.json", "{\"name\": \"x\",}", "package.json:1: not JSON");
    refused("package.json", "[1]", "not a JSON object");
    refused("package.json", "{\"name\": \"x\"}", "no \"version\" field");
    refused("pyproject.toml", "[project]\nname = \"a\"\ndynamic = [\"version\"]\n",
            "pyproject.toml:3: the version is dynamic");
    refused("pyproject.toml", "[project]\nversion = 1\n",
            "pyproject.toml:2: version is not a quoted");
    refused("pyproject.toml", "[tool.black]\nline-length = 100\n", "no [project] table");
    refused("VERSION", "1.0.0\nand more\n", "VERSION:2: a VERSION file holds the version alone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
