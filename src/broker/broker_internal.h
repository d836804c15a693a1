/*
 * Shared by the broker's files; not for use outside src/broker/.
 */
#ifndef VT_BROKER_INTERNAL_H
#define VT_BROKER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"
#include "broker/profiles.h"

#define BROKER_STACK_SIZE (512 * 1024) /* per session thread: libssh, OpenSSL, libpq, scanner */
#define BROKER_POLL_MS 200             /* longest wait of a session loop (stop, timers) */
#define BROKER_UPSTREAM_TIMEOUT_S 15   /* TCP connect + key exchange + auth upstream */
#define BROKER_COMMAND_MAX 16384       /* bytes of an exec request */
#define BROKER_RELAY_BUF (64 * 1024)   /* bytes moved per read */
#define BROKER_HEARTBEAT_MS 30000      /* a running session's row is touched this often */
#define BROKER_SWEEP_MS 60000          /* how often a server closes sessions of dead servers */
#define BROKER_STALE_S 120             /* a session silent this long has no server any more */
/*
 * A running session re-reads its org's fingerprint set this often (secrets stored or rotated
 * since it began are then scanned for). SSH_BROKER_FP_REFRESH_MS overrides it (tests), read once
 * when the broker starts: milliseconds, 100 .. 86400000.
 */
#define BROKER_FP_REFRESH_MS 30000
#define BROKER_FP_REFRESH_ENV "SSH_BROKER_FP_REFRESH_MS"

/* What the broker and its upstream connections accept: modern algorithms only (docs/broker.md). */
#define BROKER_KEX "curve25519-sha256,curve25519-sha256@libssh.org"
#define BROKER_CIPHERS "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com," \
	"aes128-gcm@openssh.com"
#define BROKER_MACS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com"
#define BROKER_HOSTKEYS "ssh-ed25519"
/* Keys users log in with, and target host keys the broker accepts upstream. */
#define BROKER_PUBKEY_TYPES "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

struct broker {
	struct db_pool *pool;
	struct keyring *kr;
	const struct scan_db *scan;
	struct vault_fpcache *fpcache; /* borrowed: the server's shared fingerprint sets */
	char *bind_address;
	char *public_host;
	char *host_public_line;
	int port;
	int max_sessions;
	uint64_t login_timeout_ms;
	uint64_t fp_refresh_ms;   /* BROKER_FP_REFRESH_MS, or the environment's override */
	ssh_bind bind;
	int wake[2];              /* a byte here stops the acceptor */
	pthread_t acceptor;
	int acceptor_started;
	atomic_int stopping;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int sessions;             /* running session threads */
};

/* session.c: the life of one accepted connection, on its own thread. Takes ownership of ss. */
void broker_session_run(struct broker *b, ssh_session ss, const char *client_addr);

/* upstream.c: the broker's client side. */
struct upstream_target {
	const char *host;
	int port;
	const char *username;
	const char *pinned;       /* "keytype base64", or NULL: trust on first use */
};
enum upstream_hostkey {
	UPSTREAM_HOSTKEY_MATCH,
	UPSTREAM_HOSTKEY_NEW,     /* nothing pinned: *seen is the key to pin */
	UPSTREAM_HOSTKEY_MISMATCH,
};
/*
 * Connects and runs the key exchange (no authentication yet). *seen gets the target's host key as
 * "keytype base64" (owned). Options: no ssh config files, no known_hosts, modern algorithms only.
 */
int upstream_connect(const struct upstream_target *t, ssh_session *out, char **seen,
    enum upstream_hostkey *hk, char err[static BROKER_ERR_MAX]) VT_WUR;
/*
 * Authenticates with the opened credential fields of an SSH_KEY ({private_key, passphrase?}) or
 * PASSWORD ({password}) secret. Nothing of the credential is kept; the caller wipes the fields.
 * VT_ERR_UNAUTHORIZED when the target refuses it.
 */
int upstream_auth(ssh_session up, int is_ssh_key, const json_t *fields,
    char err[static BROKER_ERR_MAX]) VT_WUR;

#endif
