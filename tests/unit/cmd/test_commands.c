/* The dispatch table is data: sorted, unique, and every entry has help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

static void test_commands_sorted_unique_with_help(void **state)
{
    (void)state;
    size_t n = 0;
    for (const struct cmd *const *c = otap_commands; *c; c++, n++) {
        assert_non_null((*c)->name);
        assert_non_null((*c)->run);
        assert_true((*c)->summary && strlen((*c)->summary) > 10);
        assert_true((*c)->usage && !strncmp((*c)->usage, "usage: otap ", 12));
        if (c != otap_commands)
            assert_true(strcmp(c[-1]->name, (*c)->name) < 0);
        assert_ptr_equal(cli_find_command((*c)->name), *c);
    }
    assert_true(n >= 6);
    assert_null(cli_find_command("nope"));
    assert_string_equal(cli_suggest_command("chekc"), "check");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commands_sorted_unique_with_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
