/*
 * The list of owned strings that refusals and conditions are collected
 * in (strvec.h), so that each caller does not grow its own char **.
 */
#include "base/strvec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "base/banned.h"

void strvec_push_owned(struct strvec *v, char *s)
{
    *XPUSH(&v->items, &v->n, &v->alloc) = s;
}

void strvec_push(struct strvec *v, const char *s)
{
    strvec_push_owned(v, xstrdup(s));
}

void strvec_pushf(struct strvec *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strvec_push_owned(v, xvasprintf(fmt, ap));
    va_end(ap);
}

void strvec_release(struct strvec *v)
{
    xfree_strv(v->items, v->n);
    memset(v, 0, sizeof(*v));
}
