/*
 * The audit signing keys. One 32-byte root seed per deployment is drawn at first boot, sealed
 * under the master key (envelope kind "audit_signing_key") and stored in audit_keys; it never
 * touches disk or a log in the clear. Each organization's log has its own Ed25519 key, derived
 * as seed_org = HMAC-SHA256(root, "vaultterm audit signing key v1" ‖ 0x00 ‖ org uuid bytes), whose
 * C2SP key name is the log's origin "<deployment>/audit/<org uuid>" — so a checkpoint of one org
 * can never verify as another's, and the public key of every org is reproducible from the root.
 */
#ifndef VT_AUDIT_SIGNING_H
#define VT_AUDIT_SIGNING_H

#include <stddef.h>

#include "base/encode.h"
#include "base/util.h"
#include "crypto/keyring.h"
#include "crypto/note.h"
#include "db/db.h"

#define AUDIT_DEPLOYMENT_MAX 128
#define AUDIT_SEED_LEN 32
/* "<deployment>/audit/<36-char uuid>" */
#define AUDIT_ORIGIN_MAX (AUDIT_DEPLOYMENT_MAX + 7 + 36)

struct audit_keys;

/*
 * Reads the sealed root (creating it on first use, with deployment as its name; NULL → the host
 * name) and opens it into guarded memory. VT_ERR_CRYPTO when it does not open under this master
 * key, VT_ERR_INVALID for a deployment name that cannot be part of an origin.
 */
int audit_keys_load(struct db_pool *pool, const struct keyring *kr, const char *deployment,
    struct audit_keys **out) VT_WUR;
/* The keys of an already opened root (copied into guarded memory); VT_ERR_INVALID for a name. */
int audit_keys_from_seed(const char *deployment, const uint8_t seed[static AUDIT_SEED_LEN],
    struct audit_keys **out) VT_WUR;
void audit_keys_free(struct audit_keys *k);
const char *audit_keys_deployment(const struct audit_keys *k);

/* The origin (and key name) of org's log, NUL-terminated. */
void audit_origin(const struct audit_keys *k, const struct vt_uuid *org,
    char out[static AUDIT_ORIGIN_MAX + 1]);
/* org's signing key / its public key (owned by the caller). */
int audit_keys_signer(const struct audit_keys *k, const struct vt_uuid *org,
    struct note_signer **out) VT_WUR;
int audit_keys_verifier(const struct audit_keys *k, const struct vt_uuid *org,
    struct note_verifier **out) VT_WUR;

/* Master key rotation: re-wraps the sealed root under the current master key version. */
int audit_keys_rewrap(struct db_pool *pool, const struct keyring *kr) VT_WUR;

#endif
