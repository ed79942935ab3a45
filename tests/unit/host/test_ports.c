/*
 * Unit tests for src/lib/ports.c: the registry's rules on small manifests,
 * and, with a real listening socket and real child processes, who holds a
 * port and how a holder is stopped.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/ports.h"
#include "base/xalloc.h"

static struct manifest *load(const char *text)
{
    struct diag_list dl;
    diag_list_init(&dl, "otap.yaml");
    struct manifest *m = manifest_load_buffer(text, strlen(text), "otap.yaml", &dl);
    for (size_t i = 0; !m && i < dl.n; i++)
        print_message("%d:%d: %s\n", dl.items[i].line, dl.items[i].col, dl.items[i].msg);
    diag_list_release(&dl);
    assert_non_null(m);
    return m;
}

static int check(const char *text, struct diag_list *dl)
{
    struct manifest *m = load(text);
    diag_list_init(dl, "otap.yaml");
    int n = (int)ports_check_registry(m, dl);
    manifest_free(m);
    return n;
}

static int has(const struct diag_list *dl, int line, const char *needle)
{
    for (size_t i = 0; i < dl->n; i++)
        if (dl->items[i].line == line && strstr(dl->items[i].msg, needle))
            return 1;
    for (size_t i = 0; i < dl->n; i++)
        print_message("  have %d: %s\n", dl->items[i].line, dl->items[i].msg);
    return 0;
}

#define HEAD "project: x\nenvironments: [{ name: development }]\n"

static void test_ports_registry_clean(void **state)
{
    (void)state;
    struct diag_list dl;
    assert_int_equal(check(HEAD "services: { api: { port: 9000 }, minio: { port: 9022 } }\n"
                                "ports:\n"
                                "  range: 9000-9099\n"
                                "  blocks:\n"
                                "    core: 9000-9005\n"
                                "    database: 9020-9029\n"
                                "    storage: { range: 9022-9023, within: database }\n",
                           &dl),
                     0);
    diag_list_release(&dl);
}

static void test_ports_registry_nested_without_within(void **state)
{
    (void)state;
    struct diag_list dl;
    assert_int_equal(check(HEAD "ports:\n"
                                "  range: 9000-9099\n"
                                "  blocks:\n"
                                "    database: 9020-9029\n"
                                "    storage: 9022-9023\n",
                           &dl),
                     1);
    assert_true(has(&dl, 7,
                    "'storage' (9022-9023) lies inside 'database' (9020-9029); if that is "
                    "on purpose, declare it with 'within: database'"));
    diag_list_release(&dl);
}

static void test_ports_registry_every_rule(void **state)
{
    (void)state;
    struct diag_list dl;
    int n = check(HEAD "services:\n"
                       "  a: { port: 9000 }\n"
                       "  b: { port: 9000 }\n"
                       "  c: { port: 9010 }\n"
                       "  d: { port: 8080 }\n"
                       "ports:\n"
                       "  range: 9000-9099\n"
                       "  blocks:\n"
                       "    core: 9000-9005\n"
                       "    x: 9004-9008\n"
                       "    wide: 9090-9100\n"
                       "    y: { range: 9030-9031, within: core }\n",
                  &dl);
    assert_true(has(&dl, 5, "services 'a' and 'b' both use port 9000"));
    assert_true(has(&dl, 6, "service 'c' uses port 9010, which is in no port block"));
    assert_true(has(&dl, 7, "service 'd' uses port 8080, outside the allowed range 9000-9099"));
    assert_true(has(&dl, 12, "port blocks 'core' (9000-9005) and 'x' (9004-9008) overlap"));
    assert_true(has(&dl, 13, "'wide' (9090-9100) is outside the allowed range"));
    assert_true(has(&dl, 14, "says it is within 'core' (9000-9005) but is not inside it"));
    assert_int_equal(n, 6);
    diag_list_release(&dl);
}

static void test_ports_block_of_innermost(void **state)
{
    (void)state;
    struct manifest *m = load(HEAD "ports:\n"
                                   "  blocks:\n"
                                   "    database: 9020-9029\n"
                                   "    storage: { range: 9022-9023, within: database }\n");
    assert_string_equal(ports_block_of(m, 9022)->name, "storage");
    assert_string_equal(ports_block_of(m, 9021)->name, "database");
    assert_null(ports_block_of(m, 9000));
    /* without a range, the blocks are the registry */
    assert_true(ports_in_registry(m, 9025));
    assert_false(ports_in_registry(m, 9030));
    manifest_free(m);
}

/* A real socket listening on 127.0.0.1 on a kernel-chosen port. */
static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_ports_listeners_finds_us(void **state)
{
    (void)state;
    int port;
    int fd = listen_any(&port);
    struct port_listeners ls = {0};
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(ports_listeners(port, port, &ls, &err), 0);
    assert_int_equal(ls.n, 1);
    assert_int_equal(ls.items[0].port, port);
    assert_int_equal(ls.items[0].pid, getpid());
    assert_string_equal(ls.items[0].address, "127.0.0.1");
    assert_non_null(ls.items[0].command);
    ports_listeners_release(&ls);
    close(fd);
    assert_int_equal(ports_listeners(port, port, &ls, &err), 0);
    assert_int_equal(ls.n, 0);
    ports_listeners_release(&ls);
}

static void test_ports_listeners_ipv6(void **state)
{
    (void)state;
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) {
        skip(); /* a kernel without IPv6 */
        return;
    }
    struct sockaddr_in6 a = {0};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        skip(); /* IPv6 present but no ::1 */
        return;
    }
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    int port = ntohs(a.sin6_port);
    struct port_listeners ls = {0};
    struct otap_err err = OTAP_ERR_INIT;
    assert_int_equal(ports_listeners(port, port, &ls, &err), 0);
    assert_int_equal(ls.n, 1);
    assert_true(ls.items[0].ipv6);
    assert_string_equal(ls.items[0].address, "::1");
    assert_int_equal(ls.items[0].pid, getpid());
    ports_listeners_release(&ls);
    close(fd);
}

static pid_t spawn(int ignore_term)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (ignore_term)
            signal(SIGTERM, SIG_IGN);
        close(p[0]);
        if (write(p[1], "r", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char ch;
    assert_int_equal(read(p[0], &ch, 1), 1); /* the child is set up */
    close(p[0]);
    return pid;
}

static void test_ports_stop_terminates_then_kills(void **state)
{
    (void)state;
    int status;
    pid_t polite = spawn(0);
    assert_int_equal(ports_stop(polite, 2000, NULL), PORTS_STOP_TERMINATED);
    waitpid(polite, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

    pid_t stubborn = spawn(1);
    assert_int_equal(ports_stop(stubborn, 100, NULL), PORTS_STOP_KILLED);
    waitpid(stubborn, &status, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    /* reaped: it is gone */
    assert_int_equal(ports_stop(stubborn, 100, NULL), PORTS_STOP_GONE);
}

static void test_ports_stop_refuses_init_and_self(void **state)
{
    (void)state;
    assert_int_equal(ports_stop(1, 100, NULL), PORTS_STOP_REFUSED);
    assert_int_equal(ports_stop(getpid(), 100, NULL), PORTS_STOP_REFUSED);
    assert_int_equal(ports_stop(0, 100, NULL), PORTS_STOP_REFUSED);
}

/* The plan of 'ports free': who holds which registry port; nothing outside it, ever. */
static void test_ports_free_plan(void **state)
{
    (void)state;
    int port;
    int fd = listen_any(&port);
    char *text = xasprintf(HEAD "ports:\n  range: %d-%d\n  blocks:\n    core: %d-%d\n", port,
                           port + 1, port, port + 1);
    struct manifest *m = load(text);
    int lo, hi;
    ports_registry_span(m, &lo, &hi);
    assert_int_equal(lo, port);
    assert_int_equal(hi, port + 1);

    struct ports_free_plan plan;
    struct otap_err err = OTAP_ERR_INIT;
    int outside[] = {port, 22};
    assert_int_equal(ports_free_plan(m, outside, 2, &plan, &err), OTAP_EREFUSED);
    assert_non_null(strstr(err.msg, "[22]"));
    otap_err_release(&err);

    int req[] = {port};
    assert_int_equal(ports_free_plan(m, req, 1, &plan, &err), 0);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.items[0].pid, getpid());
    assert_int_equal(plan.items[0].nports, 1);
    assert_int_equal(plan.items[0].ports[0], port);
    assert_int_equal(ports_free_run(&plan, true, 100), OTAP_OK);
    assert_string_equal(plan.items[0].result, "would stop");
    /* this test's own process: never stopped */
    assert_int_equal(ports_free_run(&plan, false, 100), OTAP_EREFUSED);
    assert_string_equal(plan.items[0].result, "refused");
    assert_non_null(plan.items[0].reason);
    ports_free_plan_release(&plan);

    /* no port named: every registry port */
    assert_int_equal(ports_free_plan(m, NULL, 0, &plan, &err), 0);
    assert_int_equal(plan.n, 1);
    ports_free_plan_release(&plan);
    close(fd);
    manifest_free(m);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports_free_plan),
        cmocka_unit_test(test_ports_registry_clean),
        cmocka_unit_test(test_ports_registry_nested_without_within),
        cmocka_unit_test(test_ports_registry_every_rule),
        cmocka_unit_test(test_ports_block_of_innermost),
        cmocka_unit_test(test_ports_listeners_finds_us),
        cmocka_unit_test(test_ports_listeners_ipv6),
        cmocka_unit_test(test_ports_stop_terminates_then_kills),
        cmocka_unit_test(test_ports_stop_refuses_init_and_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
