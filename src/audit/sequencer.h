/*
 * The audit sequencer (docs/audit.md §7): one thread per server. The server that holds the
 * PostgreSQL advisory lock (session-level, on the thread's own connection) is the leader; the
 * others wait and take over when the leader's connection goes away. The leader, in a loop:
 *
 *  1. takes the next committed rows of finished transactions (txid below the snapshot xmin),
 *     in (txid, seq) order, gives each its index in its org's Merkle log (audit_index) and
 *     advances the tree's frontier (audit_log_state) — O(new rows);
 *  2. seals each org whose rows waited AUDIT_CHECKPOINT_INTERVAL_MS, or that has
 *     AUDIT_CHECKPOINT_ROWS waiting, with a C2SP signed checkpoint hash-linked to the previous
 *     one and stamped with the license counter, reserved durably before the COMMIT and marked
 *     committed after it; each note also goes to AUDIT_WITNESS_FILE;
 *  3. compares the database's newest counter with the license state file: a database behind
 *     the file lost checkpoints (restored from an older copy, or edited) — AUDIT_ROLLBACK_DETECTED,
 *     and in production the API refuses to serve until `vaultterm operator ack-rollback`;
 *  4. re-verifies the chain in the background (the offline verifier's checks on an export) and
 *     records AUDIT_TAMPER_DETECTED with the first bad index.
 * Everything of one cycle is one transaction: a crash leaves the previous state.
 */
#ifndef VT_AUDIT_SEQUENCER_H
#define VT_AUDIT_SEQUENCER_H

#include <stddef.h>
#include <stdint.h>

#include "audit/signing.h"
#include "base/util.h"
#include "crypto/keyring.h"
#include "db/db.h"

#define SEQUENCER_BATCH 5000            /* rows per cycle (one transaction) */
#define SEQUENCER_POLL_MS 200           /* idle wait between cycles */
#define SEQUENCER_LOCK_KEY1 1448362325  /* 'VTAU' */
#define SEQUENCER_LOCK_KEY2 1
#define SEQUENCER_REASON_MAX 512

struct sequencer_config {
	int enabled;                     /* AUDIT_SEQUENCER=on: may become the leader */
	int production;                  /* halt the API on a rollback until acknowledged */
	uint64_t checkpoint_interval_ms;
	uint64_t checkpoint_rows;
	uint64_t verify_interval_ms;     /* 0: no background verification */
	const char *witness_file;        /* NULL: none */
	const char *license_state_path;  /* required when enabled */
};

struct sequencer;

/*
 * Opens its own connection (conninfo, the app role), and starts the thread. When the lock is
 * free the first cycle, with the rollback check, has run before this returns, so a production
 * server never answers a request from a rolled-back database. keys and kr are borrowed and must
 * outlive the sequencer; cfg strings are copied.
 */
int sequencer_start(const char *conninfo, const struct keyring *kr, const struct audit_keys *keys,
    const struct sequencer_config *cfg, struct sequencer **out) VT_WUR;
/* Stops the thread and closes its connection (releasing the lock). NULL-safe. */
void sequencer_stop(struct sequencer *s);
/*
 * 1 while the deployment is halted by an unacknowledged rollback (any server sees it within a
 * poll), with the reason copied into reason when not NULL.
 */
int sequencer_halted(struct sequencer *s, char *reason, size_t len);
/* 1 if this server is the leader. */
int sequencer_is_leader(struct sequencer *s);

/*
 * The acknowledgement MAC an operator's ack-rollback command stores: HMAC-SHA256 under
 * keyring_derive("audit-rollback-ack") over "vaultterm rollback ack v1\n" ‖ reason ‖ "\n" ‖
 * halt time (the text PostgreSQL returns for halt_at).
 */
int sequencer_ack_mac(const struct keyring *kr, const char *reason, const char *halt_at,
    uint8_t out[static 32]) VT_WUR;

/*
 * `vaultterm operator ack-rollback`: stores the acknowledgement MAC for the pending halt and
 * records AUDIT_ROLLBACK_ACKNOWLEDGED (a system row and one per org with a chain) with the
 * operator's note, in one transaction. The leader then re-anchors the license counter and
 * resumes. VT_ERR_NOT_FOUND when nothing is pending; msg gets the halt reason or that fact.
 */
int sequencer_ack_rollback(struct db_pool *pool, const struct keyring *kr, const char *note,
    char msg[static SEQUENCER_REASON_MAX]) VT_WUR;

#endif
