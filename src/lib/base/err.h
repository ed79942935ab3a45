/*
 * Error codes and the error detail that library functions hand back.
 *
 * Contract: a library function returns 0 (or a non-negative count) on
 * success and a negative OTAP_E* code on failure; when the caller passed a
 * struct otap_err, the first failure's code and a one-line message are
 * stored there. The message is lower-case, names its subject in quotes and
 * carries no final full stop, in git's voice, and never contains a secret.
 * main.c alone maps codes to exit statuses (docs/exit-codes.md).
 */
#ifndef OTAP_ERR_H
#define OTAP_ERR_H

enum otap_code {
    OTAP_OK = 0,
    OTAP_EFOUND = -1,    /* a check ran and found problems: exit 1 */
    OTAP_EUSAGE = -2,    /* the command line is wrong: exit 2 */
    OTAP_EINVALID = -3,  /* the manifest or config is invalid: exit 3 */
    OTAP_EREFUSED = -4,  /* refused for safety, fail closed: exit 4 */
    OTAP_EEXTERNAL = -5, /* a database, server or the OS failed us: exit 5 */
    OTAP_ENOTFOUND = -6, /* a named thing does not exist (environment, build, service): exit 2 */
};

struct otap_err {
    int code;
    char *msg;
};

#define OTAP_ERR_INIT                                                                              \
    {                                                                                              \
        0, NULL                                                                                    \
    }

/*
 * Records the error in err (when err is not NULL and holds none yet) and
 * returns code, so that `return otap_err_set(err, ...)` reads naturally.
 */
int otap_err_set(struct otap_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void otap_err_release(struct otap_err *err);

#endif
