/*
 * The keyring's master key versions shared through the database. A server's keyring starts with
 * the root (version 1) and loads the newer versions a rotation stored (wrapped under the root) at
 * most every KEYSTORE_SYNC_INTERVAL_MS, or at once when it meets an envelope under a version it
 * does not have. At boot, the keyring check proves the root is the one the database was created
 * with.
 */
#ifndef VT_DB_KEYSTORE_H
#define VT_DB_KEYSTORE_H

#include "base/util.h"
#include "crypto/keyring.h"
#include "db/db.h"

#define KEYSTORE_SYNC_INTERVAL_MS 2000 /* how stale a server's view of master keys may be */

/*
 * Loads master key versions stored by a rotation that this keyring does not have yet. A stored
 * version that does not open under this root is logged and skipped (it cannot wrap or unwrap
 * anything), so one bad row cannot stop every write.
 */
int keystore_sync(struct db_tx *tx, struct keyring *kr) VT_WUR;
/* keystore_sync at most every KEYSTORE_SYNC_INTERVAL_MS (or now when force is set). */
int keystore_maybe_sync(struct db_tx *tx, struct keyring *kr, int force) VT_WUR;
/*
 * Boot check: opens the keyring check envelope (sealed under the root at first boot, which it
 * creates). VT_ERR_CRYPTO when this root key is not the one the database was created with.
 */
int keystore_verify(struct db_tx *tx, struct keyring *kr) VT_WUR;

/*
 * Rotation of a deployment-wide sealed key kept in one row behind SECURITY DEFINER functions
 * (the audit signing root, the broker's host key): select_sql returns its envelope in column 0
 * (no row: no server created it yet, nothing to do); replace_sql ($1 the old envelope, $2 the new
 * one, $3 its master key version) returns whether it swapped. Re-wraps under the keyring's
 * current version when the envelope is older; VT_ERR_CONFLICT when another writer changed the
 * row meanwhile.
 */
struct envelope_ctx;
int keystore_rewrap_sealed(struct db_pool *pool, const struct keyring *kr,
    const struct envelope_ctx *ctx, size_t max, const char *select_sql,
    const char *replace_sql) VT_WUR;

#endif
