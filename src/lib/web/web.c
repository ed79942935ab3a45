/*
 * The built-in files (web.h).
 */
#include "web/web.h"

#include <string.h>

#include "base/banned.h"

const struct web_asset *web_asset_find(const char *path)
{
    if (!strcmp(path, "/"))
        path = "/index.html";
    for (const struct web_asset *a = web_assets; a->path; a++)
        if (!strcmp(a->path, path))
            return a;
    return NULL;
}

size_t web_total_bytes(void)
{
    size_t n = 0;
    for (const struct web_asset *a = web_assets; a->path; a++)
        n += a->len;
    return n;
}
