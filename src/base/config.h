/*
 * Server configuration from environment variables with the documented names. One table in
 * config.c declares every variable (name, default, help) and is used both to parse and to print
 * `vaultterm server --help`. Secrets (JWT_SECRET, DEV_MASTER_KEY) are copied into guarded memory.
 * Production boot guards are a separate check so the unit tests can exercise each one.
 */
#ifndef VT_BASE_CONFIG_H
#define VT_BASE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "base/secmem.h"
#include "base/util.h"

#define CONFIG_ERR_MAX 512
#define CONFIG_VALUE_MAX 4096       /* no env value we read may be longer */
#define CONFIG_JWT_SECRET_MIN 32    /* bytes, enforced in production */
#define CONFIG_DEV_JWT_SECRET "vaultterm-dev-jwt-secret-not-for-production"
#define CONFIG_MASTER_KEY_LEN 32

struct config {
	int port;
	char *bind_address;
	char *app_base_url;
	char *database_url;       /* app role; NULL with --dev (embedded cluster) */
	char *database_owner_url; /* owner role, runs migrations; NULL: migrations not run */
	char *database_app_role;
	struct secmem *jwt_secret;
	uint64_t jwt_ttl_ms;
	char *key_provider;
	struct secmem *master_key; /* DEV_MASTER_KEY decoded; NULL when unset */
	int master_key_malformed;  /* DEV_MASTER_KEY was set but not 64 hex digits */
	int auth_rate_max;
	uint64_t auth_rate_window_ms;
	int scan_rate_max;         /* POST /api/vault/scan per principal per window */
	uint64_t scan_rate_window_ms;
	int production;
	int log_level;
	int http_threads;
	int db_pool_size;
	uint64_t shutdown_grace_ms;
	int jwt_secret_is_dev_default; /* unset, or set to CONFIG_DEV_JWT_SECRET */
	int jwt_secret_ephemeral;      /* unset: a random per-process secret is in use */
	int app_base_url_default;      /* APP_BASE_URL unset: derived from the bound port */
	int audit_sequencer;           /* AUDIT_SEQUENCER=on */
	uint64_t audit_checkpoint_interval_ms;
	uint64_t audit_checkpoint_rows;
	uint64_t audit_verify_interval_ms;
	char *audit_witness_file;      /* NULL: no witness copy */
	char *audit_deployment_name;   /* NULL: the host name */
	char *license_state_path;      /* NULL: <data dir>/license-state with --dev */
	int ssh_broker_port;           /* -1: no broker (SSH_BROKER_PORT=off); 0: any free port */
	char *ssh_broker_bind;         /* NULL: bind_address */
	int ssh_broker_max_sessions;
	char *ssh_broker_public_host;  /* NULL: the bind address */
	uint64_t ssh_broker_login_timeout_ms;
};

/* Environment lookup; returns NULL when unset. */
typedef const char *(*config_getenv_fn)(void *ctx, const char *name);

/*
 * Fills c from the environment (defaults for unset variables). Returns 0, or VT_ERR_CONFIG with
 * one line naming the variable in err. Secret values never appear in err.
 */
int config_load(struct config *c, config_getenv_fn get, void *ctx,
    char err[static CONFIG_ERR_MAX]) VT_WUR;

/* Production boot guards (JWT secret strength, master key present and well formed, provider). */
int config_check_boot(const struct config *c, char err[static CONFIG_ERR_MAX]) VT_WUR;

/* Frees everything, wiping secrets. NULL-safe; leaves c zeroed. */
void config_free(struct config *c);

/* Prints every variable with its default and meaning. */
void config_print_help(FILE *f);

/* The process environment getter (getenv). */
const char *config_getenv_process(void *ctx, const char *name);

/* Names of the variables that hold secrets; the server scrubs them from its environment. */
extern const char *const CONFIG_SECRET_VARS[];

#endif
