/*
 * A database's facts in one snapshot (facts.h).
 */
#include "backup/facts.h"

#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"
#include "base/xalloc.h"
#include "db/db.h"
#include "db/pgconn.h"
#include "base/banned.h"

static int query(PGconn *c, const char *sql, int nparams, const char *const *params, PGresult **out,
                 const char *what, struct otap_err *err)
{
    PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char *m = pgconn_message(c, r);
        PQclear(r);
        int rc = otap_err_set(err, OTAP_EEXTERNAL, "%s: %s", what, m);
        free(m);
        return rc;
    }
    *out = r;
    return 0;
}

int bk_snapshot_open(PGconn **out, const char *url, const char *desc, char **snapshot,
                     struct otap_err *err)
{
    *out = NULL;
    *snapshot = NULL;
    PGconn *c;
    int rc = pgconn_open(&c, url, "", desc, err);
    if (rc < 0)
        return rc;
    PGresult *r;
    rc = query(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, &r,
               "cannot begin a snapshot", err);
    if (rc == 0) {
        PQclear(r);
        rc = query(c, "SELECT pg_export_snapshot()", 0, NULL, &r, "cannot export a snapshot", err);
    }
    if (rc < 0) {
        PQfinish(c);
        return rc;
    }
    *snapshot = xstrdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    *out = c;
    return 0;
}

/* an identifier quoted for SQL */
static char *quote_ident(PGconn *c, const char *s)
{
    char *q = PQescapeIdentifier(c, s, strlen(s));
    char *out = xstrdup(q ? q : "\"\"");
    PQfreemem(q);
    return out;
}

/* The schema, in a stable order, hashed: what a restore must reproduce. */
static int schema_hash(PGconn *c, char hex[SHA256_HEX_LEN + 1], struct otap_err *err)
{
    /* one literal per query, in parentheses: they are three queries, not one */
    static const char *const parts[] = {
        ("SELECT table_schema, table_name, column_name, data_type, is_nullable, "
         "coalesce(column_default, '') FROM information_schema.columns WHERE table_schema NOT IN "
         "('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%' "
         "ORDER BY 1, 2, ordinal_position"),
        ("SELECT n.nspname, cl.relname, co.conname, pg_get_constraintdef(co.oid) FROM "
         "pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid "
         "= cl.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY "
         "1, 2, 3"),
        ("SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname NOT "
         "IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3"),
    };
    struct sha256 h;
    sha256_init(&h);
    for (size_t p = 0; p < sizeof parts / sizeof parts[0]; p++) {
        PGresult *r;
        int rc = query(c, parts[p], 0, NULL, &r, "cannot read the schema", err);
        if (rc < 0)
            return rc;
        for (int i = 0; i < PQntuples(r); i++)
            for (int k = 0; k < PQnfields(r); k++) {
                const char *v = PQgetvalue(r, i, k);
                sha256_update(&h, v, strlen(v) + 1);
            }
        sha256_update(&h, "\n", 1);
        PQclear(r);
    }
    sha256_final_hex(&h, hex);
    return 0;
}

int bk_facts_collect(PGconn *c, const char *marker_table, json_t **facts, struct otap_err *err)
{
    *facts = NULL;
    PGresult *r;
    int rc = query(c, "SHOW server_version", 0, NULL, &r, "cannot read the server's version", err);
    if (rc < 0)
        return rc;
    json_t *f = json_pack("{s:s}", "pg_version", PQgetvalue(r, 0, 0));
    PQclear(r);

    /* every user table: its rows */
    rc = query(c,
               "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
               "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
               "'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2",
               0, NULL, &r, "cannot list the tables", err);
    if (rc < 0) {
        json_decref(f);
        return rc;
    }
    json_t *tables = json_object();
    bool has_marker = false, has_migrations = false;
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *schema = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
        char *qs = quote_ident(c, schema), *qn = quote_ident(c, name);
        char *sql = xasprintf("SELECT count(*) FROM %s.%s", qs, qn);
        char *what = xasprintf("cannot count the rows of %s.%s", schema, name);
        PGresult *cr;
        rc = query(c, sql, 0, NULL, &cr, what, err);
        if (rc == 0) {
            char *key = xasprintf("%s.%s", schema, name);
            json_object_set_new(tables, key, json_integer(strtoll(PQgetvalue(cr, 0, 0), NULL, 10)));
            free(key);
            PQclear(cr);
        }
        if (!strcmp(schema, "public") && marker_table && !strcmp(name, marker_table))
            has_marker = true;
        if (!strcmp(schema, "public") && !strcmp(name, DB_MIGRATIONS_TABLE))
            has_migrations = true;
        free(qs);
        free(qn);
        free(sql);
        free(what);
    }
    PQclear(r);
    json_object_set_new(f, "tables", tables);

    json_t *migrations = json_array();
    if (rc == 0 && has_migrations) {
        rc = query(c, "SELECT version FROM " DB_MIGRATIONS_TABLE " ORDER BY version", 0, NULL, &r,
                   "cannot read the applied migrations", err);
        for (int i = 0; rc == 0 && i < PQntuples(r); i++)
            json_array_append_new(migrations, json_string(PQgetvalue(r, i, 0)));
        if (rc == 0)
            PQclear(r);
    }
    json_object_set_new(f, "migrations", migrations);

    json_t *marker = json_null();
    if (rc == 0 && has_marker) {
        char *qn = quote_ident(c, marker_table);
        char *sql = xasprintf("SELECT env FROM public.%s LIMIT 1", qn);
        rc = query(c, sql, 0, NULL, &r, "cannot read the marker", err);
        if (rc == 0) {
            if (PQntuples(r))
                marker = json_string(PQgetvalue(r, 0, 0));
            PQclear(r);
        }
        free(qn);
        free(sql);
    }
    json_object_set_new(f, "marker", marker);

    char hex[SHA256_HEX_LEN + 1];
    if (rc == 0 && (rc = schema_hash(c, hex, err)) == 0)
        json_object_set_new(f, "schema_hash", json_string(hex));
    if (rc < 0) {
        json_decref(f);
        return rc;
    }
    *facts = f;
    return 0;
}

size_t bk_facts_compare(json_t *want, json_t *got, json_t *out)
{
    size_t n = 0;
    const char *ws = json_string_value(json_object_get(want, "schema_hash"));
    const char *gs = json_string_value(json_object_get(got, "schema_hash"));
    if (!ws || !gs || strcmp(ws, gs)) {
        char *m = xasprintf("the schema differs (hash %.12s in the catalog, %.12s restored)",
                            ws ? ws : "none", gs ? gs : "none");
        json_array_append_new(out, json_string(m));
        free(m);
        n++;
    }
    if (!json_equal(json_object_get(want, "migrations"), json_object_get(got, "migrations"))) {
        char *a = json_dumps(json_object_get(want, "migrations"), JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(json_object_get(got, "migrations"), JSON_COMPACT | JSON_ENCODE_ANY);
        char *m = xasprintf("the applied migrations differ: %s in the catalog, %s restored",
                            a ? a : "none", b ? b : "none");
        json_array_append_new(out, json_string(m));
        free(m);
        free(a);
        free(b);
        n++;
    }
    json_t *wt = json_object_get(want, "tables"), *gt = json_object_get(got, "tables");
    const char *k;
    json_t *v;
    json_object_foreach(wt, k, v)
    {
        json_t *g = json_object_get(gt, k);
        char *m = NULL;
        if (!g)
            m = xasprintf("table %s is missing from the restored copy", k);
        else if (json_integer_value(g) != json_integer_value(v))
            m = xasprintf("table %s has %lld rows restored, %lld in the catalog", k,
                          (long long)json_integer_value(g), (long long)json_integer_value(v));
        if (m) {
            json_array_append_new(out, json_string(m));
            free(m);
            n++;
        }
    }
    json_object_foreach(gt, k, v)
    {
        if (!json_object_get(wt, k)) {
            char *m = xasprintf("table %s is in the restored copy but not in the catalog", k);
            json_array_append_new(out, json_string(m));
            free(m);
            n++;
        }
    }
    return n;
}
