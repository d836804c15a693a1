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

#endif
