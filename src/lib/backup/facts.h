/*
 * What a backup must restore to, read from the database in the very
 * snapshot pg_dump dumps (pg_export_snapshot, pg_dump --snapshot): the
 * PostgreSQL version, the marker, the applied migrations, every user
 * table's row count and a hash of the schema (columns, constraints,
 * indexes). A drill reads the same from its restored copy and compares.
 */
#ifndef OTAP_BACKUP_FACTS_H
#define OTAP_BACKUP_FACTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "base/err.h"

/*
 * Opens a read-only repeatable-read transaction on url and exports its
 * snapshot (*snapshot: its id, for pg_dump --snapshot). desc names the
 * database in messages (redacted).
 */
int bk_snapshot_open(PGconn **out, const char *url, const char *desc, char **snapshot,
                     struct otap_err *err);

/*
 * The facts, in the transaction open on c (or in autocommit):
 * {pg_version, marker, migrations: [...], tables: {"schema.table": rows},
 * schema_hash}. marker_table: the marker's table (its row is read, not
 * hashed).
 */
int bk_facts_collect(PGconn *c, const char *marker_table, json_t **facts, struct otap_err *err);

/*
 * Where got differs from want (schema hash, migrations, tables and their
 * row counts), one message each, appended to out (a JSON array).
 * Returns how many.
 */
size_t bk_facts_compare(json_t *want, json_t *got, json_t *out);

#endif
