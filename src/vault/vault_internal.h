/*
 * Helpers shared by the vault module's files. Not for use outside src/vault/.
 */
#ifndef VT_VAULT_INTERNAL_H
#define VT_VAULT_INTERNAL_H

#include "authz/authz.h"
#include "vault/vault.h"

/*
 * Checks that the principal passes `gate` on vault `vault` (in the transaction's org). *eff gets
 * the effective role. VT_ERR_NOT_FOUND for a missing vault, another org's vault, or one the
 * caller may not read; VT_ERR_FORBIDDEN when it can read but not pass the gate.
 */
int vault_access(struct db_tx *tx, const struct principal *p, const struct vt_uuid *vault,
    enum vault_gate gate, enum vault_role *eff) VT_WUR;

/*
 * Replaces the fingerprints of secret `secret` (in the transaction's org) with those of `fields`
 * (validated, of type t): the org's scanner key is created on first need (sealed under the
 * current master key version), opened into guarded memory and wiped after. Fails closed: any
 * error must fail the write that called it.
 */
int secret_fingerprints_replace(struct keyring *kr, struct db_tx *tx, const struct vt_uuid *secret,
    enum secret_type t, const json_t *fields) VT_WUR;

/*
 * Rotation: re-wraps org `org`'s scanner key under master key version `to` if it is under an
 * older one, in its own transaction under the org's RLS context. *done = 1 when it did.
 */
int vault_scanner_key_rewrap(struct db_pool *pool, struct keyring *kr, const struct vt_uuid *org,
    uint32_t to, int *done) VT_WUR;

#endif
