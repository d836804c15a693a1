/*
 * Forward-only schema migrations compiled into the binary (src/db/migrations/NNNN_name.sql),
 * applied by the owner role under a PostgreSQL advisory lock so several servers may start at once,
 * tracked with a SHA-256 checksum in schema_migrations. An applied migration whose text changed is
 * refused. `{{app_role}}` in a migration is replaced by the quoted app role name.
 */
#ifndef VT_DB_MIGRATE_H
#define VT_DB_MIGRATE_H

#include <stddef.h>

#include "base/util.h"

#define MIGRATE_ERR_MAX 512
/* Advisory lock key of the migration run: 0x76745f6d69677261 ("vt_migra"). */
#define MIGRATE_LOCK_KEY_STR "8535552117298393697"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration MIGRATIONS[];
extern const size_t MIGRATIONS_COUNT;

/* The newest version compiled in. */
int migrate_latest_version(void);

/* Applies pending migrations as the owner role. 0, or an error with one line in err. */
int migrate_run(const char *owner_conninfo, const char *app_role,
    char err[static MIGRATE_ERR_MAX]) VT_WUR;

/*
 * Checks, as the app role, that the schema is at the compiled-in version and that the app role is
 * NOSUPERUSER, NOBYPASSRLS and owns no table (the server refuses to start otherwise).
 */
int migrate_check_app(const char *app_conninfo, char err[static MIGRATE_ERR_MAX]) VT_WUR;

#endif
