/*
 * The dashboard's files (web/: HTML, CSS, JavaScript, hand-written, no
 * framework), built into the binary: cmake/embed.cmake turns them into a
 * C array at build time, so otap serve needs nothing on disk.
 */
#ifndef OTAP_WEB_H
#define OTAP_WEB_H

#include <stddef.h>

struct web_asset {
    const char *path; /* "/index.html" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
};

/* Every file, ending with a zeroed entry (web_assets.c, generated). */
extern const struct web_asset web_assets[];

/* The file at path ("/" is /index.html), or NULL. */
const struct web_asset *web_asset_find(const char *path);
/* All the files' bytes together (the page's weight). */
size_t web_total_bytes(void);

#endif
