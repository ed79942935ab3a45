/*
 * The local stack (otap up): every service of an environment started in
 * depends_on order by one supervisor, each with the environment's
 * canonical config and its PORT, a dependent waiting for the condition it
 * names (started, healthy, completed), restarts by the service's policy,
 * health re-checked while it runs, and everything stopped in reverse order.
 *
 * The supervisor writes .otap/run/stack.json (its pid and start time, each
 * service's pid, state, restarts, health) whenever something changes, so
 * ps, logs, restart and down find it; a supervisor killed with kill -9 is
 * recognised by its start time and its services are stopped by down.
 * Each service's output goes to .otap/logs/<service>.log, capped and
 * rotated to <service>.log.1.
 */
#ifndef OTAP_STACK_H
#define OTAP_STACK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/strvec.h"
#include "manifest/manifest.h"

/* A service's output line, for a foreground up. */
typedef void (*stack_line_fn)(void *ctx, const char *service, const char *line, size_t len);
/* A supervisor event ("db healthy in 38 ms"), for a foreground up. */
typedef void (*stack_event_fn)(void *ctx, const char *service, const char *what);

struct stack_opts {
    const struct manifest *m;
    const char *manifest_name;
    const char *env;   /* default development */
    char *const *only; /* these services and what they depend on; NULL: all */
    size_t nonly;
    bool detach;
    char *const *process_env;
    const char *otap; /* this binary, for 'db migrate' after a built-in PostgreSQL */
    stack_line_fn line;
    stack_event_fn event;
    void *ctx;
};

/*
 * Checks first and starts nothing unless every check holds (refusals are
 * appended, OTAP_EREFUSED): the contract of the environment, no stack up
 * already, every port free. Then starts the stack. In the foreground it
 * returns when the stack stops (SIGINT, SIGTERM, or a service that failed
 * to start); detached, once every service is up (0) or one failed
 * (OTAP_EFOUND, the stack stopped again).
 */
int stack_up(const struct stack_opts *o, struct strvec *refusals, struct otap_err *err);

/* Stops the stack (its supervisor, or what a dead supervisor left); *was_up tells. */
int stack_down(const struct manifest *m, bool *was_up, struct otap_err *err);

/* stack.json with each pid checked now; NULL in *out when no stack ran. */
int stack_status(const struct manifest *m, json_t **out, struct otap_err *err);

/* Asks the supervisor to restart service. */
int stack_restart(const struct manifest *m, const char *service, struct otap_err *err);

/* The log file of a service (caller frees). */
char *stack_log_path(const struct manifest *m, const char *service);

#endif
