/*
 * The deployment-wide monotonic license counter, kept OUTSIDE the database in one small file
 * (LICENSE_STATE_PATH, default <data dir>/license-state) so that restoring the database from an
 * older copy, or deleting checkpoints, is detected: every signed audit checkpoint is stamped with
 * a counter value, and the database's newest stamped value (db_max) must never fall behind what
 * the file says was committed. The file is authenticated with HMAC-SHA256 under a 32-byte key the
 * caller derives from the master key (keyring_derive(k, "license-counter", &key)), so someone
 * without the master key cannot forge it or lower it to a value of their choosing.
 *
 * Two-phase protocol, so that a crash never raises a false alarm. The file holds `committed` (the
 * highest counter known to be in the database) and `reserved` (the highest counter ever handed
 * out; committed <= reserved). Before the sequencer commits checkpoints stamped with C it calls
 * counter_reserve (reserved = C, durable); after the database COMMIT succeeds it calls
 * counter_commit(C) (committed = C, durable). A crash in between leaves db_max at committed or C,
 * and counter_check accepts both.
 *
 * File format (ASCII, exactly; decimal without leading zeros, at most 20 digits, each value at
 * most COUNTER_MAX; the MAC in lower-case hex over every byte before the "mac" line):
 *
 *     vaultterm-license-state 1\n
 *     committed <u64>\n
 *     reserved <u64>\n
 *     mac <64 hex of HMAC-SHA256(key, all preceding bytes)>\n
 *
 * Writes are atomic and durable (<path>.tmp, fsync, rename, fsync of the directory); an exclusive
 * flock on <path>.lock, held from counter_open to counter_close, keeps two processes on one host
 * from advancing the same counter. Design, threat model and limits: docs/license-counter.md.
 *
 * WARNING: the MAC does not stop anyone who can write the data directory from DELETING the file or
 * replacing it with an OLDER valid copy. A missing file with db_max > 0 is therefore a
 * rollback-class event, never a first boot: counter_read returns VT_ERR_NOT_FOUND, and the caller
 * must pass st = NULL to counter_check, which returns COUNTER_MISSING unless db_max == 0. An older
 * copy of the file combined with an older copy of the database is NOT detected here; the licensing
 * work will bind the counter to the signed license for that.
 *
 * One sequencer thread is the intended user; a mutex makes concurrent calls on one handle safe.
 */
#ifndef VT_AUDIT_COUNTER_H
#define VT_AUDIT_COUNTER_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define COUNTER_KEY_LEN 32
/*
 * Largest counter value: the largest PostgreSQL bigint, where checkpoints store it (as the Merkle
 * tree sizes they sign). The file syntax allows 20 digits; a value above this is malformed.
 */
#define COUNTER_MAX ((uint64_t)INT64_MAX)
#define COUNTER_DIGITS_MAX 20
#define COUNTER_DEFAULT_NAME "license-state" /* in the data directory */
#define COUNTER_PATH_MAX 4096                /* bytes of the path given to counter_open */
/* Bytes of the largest valid file: header, two 20-digit lines, the mac line. */
#define COUNTER_FILE_MAX                                                                           \
	(sizeof("vaultterm-license-state 1\n") - 1 + sizeof("committed \n") - 1 +                \
	    COUNTER_DIGITS_MAX + sizeof("reserved \n") - 1 + COUNTER_DIGITS_MAX +                   \
	    sizeof("mac \n") - 1 + 64)
#define COUNTER_REASON_MAX 256 /* a reason buffer of this size is never truncated */

/* Handle on one counter file: holds the lock, the directory and the key (guarded memory). */
struct license_counter;

/* The two values of the file. Invariant: committed <= reserved <= COUNTER_MAX. */
struct counter_state {
	uint64_t committed; /* highest counter known to be in the database */
	uint64_t reserved;  /* highest counter ever handed out */
};

/* What counter_check concluded; not an error code. */
enum counter_verdict {
	COUNTER_OK = 0,       /* committed <= db_max <= reserved (or no file and db_max == 0) */
	COUNTER_ROLLBACK = 1, /* db_max < committed: the database lost checkpoints */
	COUNTER_AHEAD = 2,    /* db_max > reserved: the file is behind (other server, old file) */
	COUNTER_MISSING = 3,  /* no file but db_max > 0: deleted state, treat like a rollback */
};

/*
 * Opens the counter at `path` (its parent directory must exist; nothing is created but the lock
 * file) and takes a non-blocking exclusive flock on "<path>.lock". key (borrowed) is copied into
 * guarded memory; the caller wipes its own copy. *out is owned by the caller (counter_close).
 * VT_ERR_CONFLICT if another process (or another handle) holds the lock; VT_ERR_CONFIG if the
 * parent directory is missing or the lock file is a symlink or not a regular file; VT_ERR_INVALID
 * for an empty path, one ending in '/', or one longer than COUNTER_PATH_MAX; VT_ERR_IO otherwise.
 */
int counter_open(const char *path, const uint8_t key[static COUNTER_KEY_LEN],
    struct license_counter **out) VT_WUR;

/*
 * Reads and verifies the file into *st (zeroed unless 0 is returned). VT_ERR_NOT_FOUND if it does
 * not exist (see the WARNING above); VT_ERR_CONFIG if it is a symlink, not a regular file, or
 * writable by group or others; VT_ERR_VERIFY if the MAC does not match (wrong key or tampering;
 * checked in constant time before any value is parsed); VT_ERR_INVALID if malformed; VT_ERR_IO.
 */
int counter_read(struct license_counter *c, struct counter_state *st) VT_WUR;

/*
 * Replaces the file with *st, atomically and durably (a stale <path>.tmp is removed first).
 * VT_ERR_RANGE unless committed <= reserved <= COUNTER_MAX; VT_ERR_CONFIG if something other than
 * a regular file is at the path; VT_ERR_IO. Low level: the sequencer uses reserve/commit/rebase.
 */
int counter_write(struct license_counter *c, const struct counter_state *st) VT_WUR;

/*
 * Phase one: *next = max(reserved, db_max) + 1 is durably written as `reserved` (and committed is
 * raised to db_max if it was lower) before it is returned; *next is 0 on failure. Errors of
 * counter_read (VT_ERR_NOT_FOUND: initialize with counter_rebase first), VT_ERR_CONFLICT if
 * db_max < committed (a rollback: nothing is written until an operator runs counter_rebase),
 * VT_ERR_RANGE if db_max or the next value would exceed COUNTER_MAX.
 */
int counter_reserve(struct license_counter *c, uint64_t db_max, uint64_t *next) VT_WUR;

/*
 * Phase two, after the database COMMIT of checkpoints stamped with `value`: committed =
 * max(committed, value), written durably (no write if unchanged). VT_ERR_RANGE if value was never
 * reserved (value > reserved: a sequencer bug); errors of counter_read and counter_write.
 */
int counter_commit(struct license_counter *c, uint64_t value) VT_WUR;

/*
 * Compares the file's state with db_max, the database's newest checkpoint counter (0 when it has
 * none), and logs the verdict when it is not COUNTER_OK. st = NULL means counter_read returned
 * VT_ERR_NOT_FOUND: COUNTER_OK only when db_max == 0 (first boot), COUNTER_MISSING otherwise. A
 * one-line, secret-free explanation goes to reason (NUL-terminated, truncated to reason_len;
 * reason may be NULL when reason_len is 0) for the audit event or the operator.
 */
enum counter_verdict counter_check(const struct counter_state *st, uint64_t db_max, char *reason,
    size_t reason_len);

/*
 * Re-anchors the counter on the database, after an operator acknowledged a ROLLBACK or MISSING
 * verdict, and on first boot (db_max = 0): committed = db_max, reserved = max(db_max, reserved of
 * the current file when it verifies), so a counter value handed out before is never handed out
 * again. An absent, unverifiable or malformed file is replaced (committed = reserved = db_max);
 * an unsafe one (VT_ERR_CONFIG) is not. VT_ERR_RANGE above COUNTER_MAX; errors of counter_write.
 */
int counter_rebase(struct license_counter *c, uint64_t db_max) VT_WUR;

/* Releases the lock, wipes the key and frees; NULL-safe. The lock file stays (it is reused). */
void counter_close(struct license_counter *c);

#endif
