/*
 * The SSH broker (ARCHITECTURE.md §9, docs/broker.md): a libssh server on SSH_BROKER_PORT that
 * users reach with plain OpenSSH (`ssh -p 2222 <profile>@broker`), authenticated by a public key
 * registered through /api/ssh/keys or by a one-time ticket from /api/ssh/tickets. For each
 * session it re-checks access to the profile's vault credential, opens the credential in guarded
 * memory only to authenticate upstream (pinned host key), wipes it, relays shell / exec / PTY,
 * scans every output byte for exposed secrets, records an envelope-encrypted asciicast with the
 * secrets redacted, and audits start, injection, commands, detections and end.
 *
 * One thread accepts; each connection gets its own thread (small stack) for its whole life.
 */
#ifndef VT_BROKER_BROKER_H
#define VT_BROKER_BROKER_H

#include <stdint.h>

#include "base/util.h"
#include "crypto/keyring.h"
#include "db/db.h"
#include "scan/scan.h"

#define BROKER_ERR_MAX 256
#define BROKER_DB_POOL_SIZE 4 /* the broker's own database connections (not the API's) */

struct vault_fpcache;

struct broker_config {
	const char *bind_address;  /* borrowed */
	int port;                  /* 0: an ephemeral port (tests), see broker_port() */
	int max_sessions;          /* connections beyond this are refused at once */
	const char *public_host;   /* host name put in tickets' ssh_command; NULL: bind address */
	uint64_t idle_timeout_ms;  /* an unauthenticated connection is dropped after this */
	/* Borrowed, must outlive the broker: the server's shared fingerprint sets (NULL: each
	   session loads its own). */
	struct vault_fpcache *fpcache;
};

struct broker;

/*
 * Loads (or, on the deployment's first start, generates and stores sealed) the host key, binds
 * and starts accepting. pool, kr and scan are borrowed and must outlive the broker.
 */
int broker_start(const struct broker_config *cfg, struct db_pool *pool, struct keyring *kr,
    const struct scan_db *scan, struct broker **out, char err[static BROKER_ERR_MAX]) VT_WUR;
/* The port actually bound. */
int broker_port(const struct broker *b);
/* The host name for ssh commands shown to users (SSH_BROKER_PUBLIC_HOST, else the bind address). */
const char *broker_public_host(const struct broker *b);
/* The broker's public host key line ("ssh-ed25519 AAAA..."), for clients to pin. */
const char *broker_host_public_key(const struct broker *b);
/* Stops accepting, ends every session (recorded as ended_reason "shutdown"), joins, frees. */
void broker_stop(struct broker *b);

/* --- hostkey.c ------------------------------------------------------------------------------ */
/*
 * The deployment's broker host key as an OpenSSH private key in base64 (guarded memory, owned by
 * the caller) and its public "ssh-ed25519 AAAA..." line. Generated and stored sealed (envelope
 * kind "broker_host_key") by the first server that needs it.
 */
struct secmem;
int broker_host_key_load(struct db_pool *pool, const struct keyring *kr, struct secmem **priv_b64,
    char **public_line, char err[static BROKER_ERR_MAX]) VT_WUR;
/* Rotation: re-wraps the sealed host key under the keyring's current master key version (a no-op
 * when it is already, or when no server has created it yet). */
int broker_host_key_rewrap(struct db_pool *pool, const struct keyring *kr) VT_WUR;

#endif
