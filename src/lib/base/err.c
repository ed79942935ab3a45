/*
 * The error detail shared by every library module, so that the CLI and the
 * server report the same failure in the same words.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdlib.h>

#include "base/xalloc.h"
#include "base/banned.h"

int otap_err_set(struct otap_err *err, int code, const char *fmt, ...)
{
    if (!err || err->msg)
        return code;
    va_list ap;
    va_start(ap, fmt);
    err->msg = xvasprintf(fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

void otap_err_release(struct otap_err *err)
{
    if (!err)
        return;
    free(err->msg);
    err->msg = NULL;
    err->code = 0;
}
