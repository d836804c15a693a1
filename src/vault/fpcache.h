/*
 * One shared, generation-checked copy of each org's fingerprint set per server process
 * (docs/scanner.md "Vault fingerprints"). Every broker session and every POST /api/vault/scan
 * used to load its own copy (a query of every fingerprint row of the org and ~120 bytes per row);
 * now they borrow the process's copy, which is immutable (src/scan only reads a set while it
 * scans) and reference-counted.
 *
 * Invalidation: migration 0007 keeps a per-org generation that every change of the org's rows of
 * secret_fingerprints or scanner_keys moves to a new sequence value in the writer's own
 * transaction. Acquiring reads that generation in the caller's transaction (one indexed row)
 * BEFORE anything else: the same generation as the cached set shares it, another one loads a new
 * set (in the same transaction, so its rows are at least as new as the generation it is tagged
 * with: a concurrent writer can only make the tag older than the data, never newer) and replaces
 * the old one, which lives on until its last holder releases it. Correct across transactions and
 * across any number of server processes on one database; nothing is pushed between processes.
 *
 * Bounds: a set nobody holds is dropped after VAULT_FPCACHE_IDLE_MS, and the sets kept beyond
 * those in use are at most VAULT_FPCACHE_MAX_BYTES (scan_fpset_memory), least recently used
 * first. Dropping frees the set, which wipes its scanner keys (guarded memory) and entries; no
 * set holds a plaintext value.
 *
 * Threading: every function may be called from any thread; a cache outlives all its references.
 */
#ifndef VT_VAULT_FPCACHE_H
#define VT_VAULT_FPCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define VAULT_FPCACHE_IDLE_MS (300 * 1000)          /* a set nobody holds is dropped after this */
#define VAULT_FPCACHE_MAX_BYTES ((size_t)64 << 20)  /* total of the sets kept (64 MiB) */
#define VAULT_FPCACHE_SWEEP_MS (15 * 1000)          /* how often the sweeper drops idle sets */

struct db_tx;
struct keyring;
struct scan_fpset;
struct vt_uuid;

/* What the cache asks the outside world; NULL members (or NULL ops) are the real ones. */
struct vault_fpcache_ops {
	/* The transaction's org (db_tx_org). */
	const struct vt_uuid *(*org)(struct db_tx *tx);
	/* The org's generation as the transaction sees it: secret_fp_generations, 0 without a row. */
	int (*generation)(struct db_tx *tx, int64_t *gen);
	/* The org's set, owned by the caller, or *out = NULL: none (vault_fpset_load). */
	int (*load)(struct db_tx *tx, struct keyring *kr, struct scan_fpset **out);
	/* Monotonic milliseconds (vtime_mono_ms). */
	uint64_t (*now_ms)(void);
};

struct vault_fpcache_config {
	uint64_t idle_ms;   /* 0: VAULT_FPCACHE_IDLE_MS */
	size_t max_bytes;   /* 0: VAULT_FPCACHE_MAX_BYTES */
	int sweeper;        /* nonzero: a thread drops idle sets every VAULT_FPCACHE_SWEEP_MS */
	const struct vault_fpcache_ops *ops; /* NULL: the database (tests inject their own) */
};

struct vault_fpcache;
struct vault_fpref; /* one holder's reference to one org's set */

struct vault_fpcache_stats {
	size_t entries;     /* orgs cached (with a set or known to have none) */
	size_t bytes;       /* their total size */
	size_t idle;        /* of those, held by nobody (droppable) */
	uint64_t hits;      /* acquires answered from the cache (or from a load another one ran) */
	uint64_t loads;     /* acquires that loaded a set */
	uint64_t drops;     /* sets dropped (idle, over the bound, or replaced) */
};

/* A new, empty cache (cfg may be NULL: the defaults, no sweeper). Owned by the caller. */
int vault_fpcache_new(const struct vault_fpcache_config *cfg, struct vault_fpcache **out) VT_WUR;
/*
 * Stops the sweeper and frees every set (wiped). NULL-safe.
 * WARNING: every reference must have been released (a live one aborts: it would dangle).
 */
void vault_fpcache_free(struct vault_fpcache *c);

/*
 * A reference to the fingerprint set of tx's org (tx carries the org's RLS context and has not
 * itself changed the org's fingerprints), valid until vault_fpset_release. c may be NULL: a
 * private set, loaded for this reference only. Errors are those of the queries (nothing is
 * cached then).
 */
int vault_fpset_acquire(struct vault_fpcache *c, struct db_tx *tx, struct keyring *kr,
    struct vault_fpref **out) VT_WUR;
/* The set (read-only, shared), or NULL when the org has no scanner key yet. Borrowed from ref. */
const struct scan_fpset *vault_fpref_set(const struct vault_fpref *ref);
/* Gives the reference back; a set nobody holds stays cached (bounded as above). NULL-safe. */
void vault_fpset_release(struct vault_fpref *ref);

/* Drops the sets idle for the idle time now (the sweeper does this; tests call it). */
void vault_fpcache_sweep(struct vault_fpcache *c);
void vault_fpcache_stats(struct vault_fpcache *c, struct vault_fpcache_stats *st);

#endif
