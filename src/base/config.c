/*
 * Environment configuration. The table below is the single source of truth for variable names,
 * defaults and help text. Each parse failure produces one line that names the variable and what
 * was expected, never the value (it may be a secret).
 */
#include "base/config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/log.h"
#include "base/num.h"

const char *const CONFIG_SECRET_VARS[] = { "JWT_SECRET", "DEV_MASTER_KEY", "DATABASE_URL",
	"DATABASE_OWNER_URL", NULL };

struct config_var {
	const char *name;
	const char *dflt; /* NULL: empty/unset */
	const char *help;
};

static const struct config_var VARS[] = {
	{ "PORT", "4000", "TCP port of the public API (0 picks a free port)" },
	{ "BIND_ADDRESS", "127.0.0.1", "address the API listens on (0.0.0.0 for all interfaces)" },
	{ "APP_BASE_URL", "http://localhost:<PORT>", "public URL used in invite links" },
	{ "DATABASE_URL", NULL,
	  "libpq URL of the app role (NOSUPERUSER NOBYPASSRLS); unset with --dev" },
	{ "DATABASE_OWNER_URL", NULL,
	  "libpq URL of the schema owner role; when set, migrations run at boot" },
	{ "DATABASE_APP_ROLE", "vaultterm_app", "name of the app role that migrations grant to" },
	{ "JWT_SECRET", "random per process",
	  "HS256 signing secret; required (>= 32 bytes) in production" },
	{ "JWT_TTL", "12h", "lifetime of user access tokens (e.g. 15m, 12h, 1d)" },
	{ "KEY_PROVIDER", "local", "master key provider: local (DEV_MASTER_KEY)" },
	{ "DEV_MASTER_KEY", NULL, "32-byte master key as 64 hex digits (local provider)" },
	{ "AUTH_RATE_MAX", "30", "max requests per window on unauthenticated auth endpoints" },
	{ "AUTH_RATE_WINDOW_MS", "60000", "auth rate-limit window in milliseconds" },
	{ "SCAN_RATE_MAX", "60", "max POST /api/vault/scan requests per window per user or API "
	  "token" },
	{ "SCAN_RATE_WINDOW_MS", "60000", "scan rate-limit window in milliseconds" },
	{ "APP_ENV", "development", "production enables the boot guards (NODE_ENV is an alias)" },
	{ "LOG_LEVEL", "info", "debug, info, warn or error" },
	{ "HTTP_THREADS", "8", "HTTP worker threads" },
	{ "DB_POOL_SIZE", "<HTTP_THREADS + 2>", "PostgreSQL connections held by the server" },
	{ "SHUTDOWN_GRACE_MS", "30000", "how long SIGTERM waits for in-flight requests" },
	{ "AUDIT_SEQUENCER", "on", "on: this server may sequence and checkpoint the audit log "
	  "(one server at a time); off (not in production): never" },
	{ "AUDIT_CHECKPOINT_INTERVAL_MS", "1000", "longest wait before new audit rows are sealed "
	  "by a signed checkpoint" },
	{ "AUDIT_CHECKPOINT_ROWS", "1000", "seal a checkpoint as soon as this many rows wait" },
	{ "AUDIT_VERIFY_INTERVAL_MS", "5000", "background re-verification of the audit chain "
	  "(0: off)" },
	{ "AUDIT_WITNESS_FILE", NULL, "append every checkpoint to this file (ship it off the box)" },
	{ "AUDIT_DEPLOYMENT_NAME", "<hostname>", "deployment name in checkpoint origins, fixed "
	  "when the audit key is created" },
	{ "LICENSE_STATE_PATH", "<data dir>/license-state", "monotonic anti-rollback counter "
	  "file; required without --dev" },
	{ "SSH_BROKER_PORT", "2222", "port of the SSH broker (0: any free port; off: no broker)" },
	{ "SSH_BROKER_BIND", "<BIND_ADDRESS>", "address the SSH broker listens on" },
	{ "SSH_BROKER_MAX_SESSIONS", "1000", "concurrent broker connections; more are refused" },
	{ "SSH_BROKER_PUBLIC_HOST", "<SSH_BROKER_BIND>", "host name put in tickets' ssh_command" },
	{ "SSH_BROKER_LOGIN_TIMEOUT_MS", "30000", "a connection that has not authenticated "
	  "by then is dropped" },
};

const char *
config_getenv_process(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

void
config_print_help(FILE *f)
{
	size_t i;

	fprintf(f, "Environment variables (default in brackets):\n");
	for (i = 0; i < VT_NELEM(VARS); i++)
		fprintf(f, "  %-20s %s [%s]\n", VARS[i].name, VARS[i].help,
		    VARS[i].dflt != NULL ? VARS[i].dflt : "unset");
}

static const char *
var(config_getenv_fn get, void *ctx, const char *name, const char *dflt)
{
	const char *v = get(ctx, name);

	return (v != NULL && v[0] != '\0') ? v : dflt;
}

#define CFG_FAIL(...)                                                                              \
	do {                                                                                       \
		snprintf(err, CONFIG_ERR_MAX, __VA_ARGS__);                                        \
		r = VT_ERR_CONFIG;                                                                 \
		goto out;                                                                          \
	} while (0)

int
config_load(struct config *c, config_getenv_fn get, void *ctx, char err[static CONFIG_ERR_MAX])
{
	const char *v;
	uint64_t u;
	int r = VT_ERR_CONFIG;
	size_t i;
	enum log_level lvl;

	memset(c, 0, sizeof(*c));
	err[0] = '\0';

	for (i = 0; i < VT_NELEM(VARS); i++) {
		v = get(ctx, VARS[i].name);
		if (v != NULL && strlen(v) > CONFIG_VALUE_MAX)
			CFG_FAIL("%s: value is longer than %d bytes", VARS[i].name,
			    CONFIG_VALUE_MAX);
	}

	if (num_parse_int(var(get, ctx, "PORT", "4000"), 0, 65535, &c->port) != 0)
		CFG_FAIL("PORT: must be a number between 0 and 65535");
	c->bind_address = xstrdup(var(get, ctx, "BIND_ADDRESS", "127.0.0.1"));
	if ((v = var(get, ctx, "APP_BASE_URL", NULL)) != NULL) {
		if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
			CFG_FAIL("APP_BASE_URL: must start with http:// or https://");
		c->app_base_url = xstrndup(v, strlen(v) - (v[strlen(v) - 1] == '/'));
	} else {
		c->app_base_url = xasprintf("http://localhost:%d", c->port);
		c->app_base_url_default = 1;
	}
	if ((v = var(get, ctx, "DATABASE_URL", NULL)) != NULL)
		c->database_url = xstrdup(v);
	if ((v = var(get, ctx, "DATABASE_OWNER_URL", NULL)) != NULL)
		c->database_owner_url = xstrdup(v);
	v = var(get, ctx, "DATABASE_APP_ROLE", "vaultterm_app");
	for (i = 0; v[i] != '\0'; i++) {
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
			CFG_FAIL("DATABASE_APP_ROLE: use lower-case letters, digits and _ only");
	}
	if (i > 63)
		CFG_FAIL("DATABASE_APP_ROLE: at most 63 characters");
	c->database_app_role = xstrdup(v);

	if ((v = var(get, ctx, "JWT_SECRET", NULL)) != NULL) {
		if ((c->jwt_secret = secmem_dup(v, strlen(v))) == NULL)
			CFG_FAIL("JWT_SECRET: cannot allocate guarded memory (check RLIMIT_MEMLOCK)");
		c->jwt_secret_is_dev_default = strlen(v) == strlen(CONFIG_DEV_JWT_SECRET) &&
		    vt_ct_eq(v, CONFIG_DEV_JWT_SECRET, strlen(v));
	} else {
		/*
		 * Never fall back to a published string: anyone could forge sessions with it. An
		 * unset secret outside production is random per process (sessions end at restart);
		 * in production config_check_boot refuses it.
		 */
		if ((c->jwt_secret = secmem_new(32)) == NULL)
			CFG_FAIL("JWT_SECRET: cannot allocate guarded memory (check RLIMIT_MEMLOCK)");
		randombytes_buf(secmem_ptr(c->jwt_secret), 32);
		c->jwt_secret_is_dev_default = 1;
		c->jwt_secret_ephemeral = 1;
	}
	if (num_parse_duration_ms(var(get, ctx, "JWT_TTL", "12h"), 60000, 30ULL * 86400000,
	    &c->jwt_ttl_ms) != 0)
		CFG_FAIL("JWT_TTL: must be a duration between 1m and 30d (e.g. 12h)");

	c->key_provider = xstrdup(var(get, ctx, "KEY_PROVIDER", "local"));
	if (strcmp(c->key_provider, "local") != 0 && strcmp(c->key_provider, "hcv-transit") != 0)
		CFG_FAIL("KEY_PROVIDER: must be local or hcv-transit");
	if ((v = var(get, ctx, "DEV_MASTER_KEY", NULL)) != NULL) {
		if ((c->master_key = secmem_new(CONFIG_MASTER_KEY_LEN)) == NULL)
			CFG_FAIL("DEV_MASTER_KEY: cannot allocate guarded memory");
		if (hex_decode(v, strlen(v), secmem_ptr(c->master_key), CONFIG_MASTER_KEY_LEN) !=
		    0) {
			secmem_free(c->master_key);
			c->master_key = NULL;
			c->master_key_malformed = 1;
		}
	}

	if (num_parse_int(var(get, ctx, "AUTH_RATE_MAX", "30"), 1, 1000000, &c->auth_rate_max) !=
	    0)
		CFG_FAIL("AUTH_RATE_MAX: must be a number between 1 and 1000000");
	if (num_parse_u64(var(get, ctx, "AUTH_RATE_WINDOW_MS", "60000"), 1000, 86400000, &u) != 0)
		CFG_FAIL("AUTH_RATE_WINDOW_MS: must be milliseconds between 1000 and 86400000");
	c->auth_rate_window_ms = u;
	/* Each scan is a dictionary oracle against the org's stored values: bound its rate. */
	if (num_parse_int(var(get, ctx, "SCAN_RATE_MAX", "60"), 1, 1000000, &c->scan_rate_max) !=
	    0)
		CFG_FAIL("SCAN_RATE_MAX: must be a number between 1 and 1000000");
	if (num_parse_u64(var(get, ctx, "SCAN_RATE_WINDOW_MS", "60000"), 1000, 86400000, &u) != 0)
		CFG_FAIL("SCAN_RATE_WINDOW_MS: must be milliseconds between 1000 and 86400000");
	c->scan_rate_window_ms = u;

	v = var(get, ctx, "APP_ENV", NULL);
	if (v == NULL)
		v = var(get, ctx, "NODE_ENV", "development");
	if (strcmp(v, "production") == 0)
		c->production = 1;
	else if (strcmp(v, "development") != 0 && strcmp(v, "test") != 0)
		CFG_FAIL("APP_ENV: must be production, development or test");

	if (log_level_parse(var(get, ctx, "LOG_LEVEL", "info"), &lvl) != 0)
		CFG_FAIL("LOG_LEVEL: must be debug, info, warn or error");
	c->log_level = (int)lvl;
	if (num_parse_int(var(get, ctx, "HTTP_THREADS", "8"), 1, 256, &c->http_threads) != 0)
		CFG_FAIL("HTTP_THREADS: must be a number between 1 and 256");
	if ((v = var(get, ctx, "DB_POOL_SIZE", NULL)) != NULL) {
		if (num_parse_int(v, 1, 512, &c->db_pool_size) != 0)
			CFG_FAIL("DB_POOL_SIZE: must be a number between 1 and 512");
	} else {
		c->db_pool_size = c->http_threads + 2;
	}
	if (num_parse_u64(var(get, ctx, "SHUTDOWN_GRACE_MS", "30000"), 0, 3600000,
	    &c->shutdown_grace_ms) != 0)
		CFG_FAIL("SHUTDOWN_GRACE_MS: must be milliseconds between 0 and 3600000");
	v = var(get, ctx, "AUDIT_SEQUENCER", "on");
	if (strcmp(v, "on") == 0)
		c->audit_sequencer = 1;
	else if (strcmp(v, "off") == 0)
		c->audit_sequencer = 0;
	else
		CFG_FAIL("AUDIT_SEQUENCER: must be on or off");
	if (num_parse_u64(var(get, ctx, "AUDIT_CHECKPOINT_INTERVAL_MS", "1000"), 10, 3600000,
	    &c->audit_checkpoint_interval_ms) != 0)
		CFG_FAIL("AUDIT_CHECKPOINT_INTERVAL_MS: must be milliseconds between 10 and 3600000");
	if (num_parse_u64(var(get, ctx, "AUDIT_CHECKPOINT_ROWS", "1000"), 1, 1000000,
	    &c->audit_checkpoint_rows) != 0)
		CFG_FAIL("AUDIT_CHECKPOINT_ROWS: must be a number between 1 and 1000000");
	if (num_parse_u64(var(get, ctx, "AUDIT_VERIFY_INTERVAL_MS", "5000"), 0, 86400000,
	    &c->audit_verify_interval_ms) != 0)
		CFG_FAIL("AUDIT_VERIFY_INTERVAL_MS: must be milliseconds between 0 and 86400000");
	if ((v = var(get, ctx, "AUDIT_WITNESS_FILE", NULL)) != NULL)
		c->audit_witness_file = xstrdup(v);
	if ((v = var(get, ctx, "AUDIT_DEPLOYMENT_NAME", NULL)) != NULL) {
		for (i = 0; v[i] != '\0'; i++) {
			if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
			    (v[i] >= '0' && v[i] <= '9') || (i > 0 && (v[i] == '.' || v[i] == '-' ||
			    v[i] == '_'))))
				CFG_FAIL("AUDIT_DEPLOYMENT_NAME: use letters, digits, '.', '-' and '_' "
					 "(starting with a letter or digit)");
		}
		if (i > 128)
			CFG_FAIL("AUDIT_DEPLOYMENT_NAME: at most 128 characters");
		c->audit_deployment_name = xstrdup(v);
	}
	if ((v = var(get, ctx, "LICENSE_STATE_PATH", NULL)) != NULL) {
		if (v[0] != '/')
			CFG_FAIL("LICENSE_STATE_PATH: must be an absolute path");
		c->license_state_path = xstrdup(v);
	}
	v = var(get, ctx, "SSH_BROKER_PORT", "2222");
	if (strcmp(v, "off") == 0)
		c->ssh_broker_port = -1;
	else if (num_parse_u64(v, 0, 65535, &u) != 0)
		CFG_FAIL("SSH_BROKER_PORT: must be a port between 0 and 65535, or off");
	else
		c->ssh_broker_port = (int)u;
	if ((v = var(get, ctx, "SSH_BROKER_BIND", NULL)) != NULL) {
		if (v[0] == '\0')
			CFG_FAIL("SSH_BROKER_BIND: must not be empty");
		c->ssh_broker_bind = xstrdup(v);
	}
	if (num_parse_u64(var(get, ctx, "SSH_BROKER_MAX_SESSIONS", "1000"), 1, 100000, &u) != 0)
		CFG_FAIL("SSH_BROKER_MAX_SESSIONS: must be a number between 1 and 100000");
	c->ssh_broker_max_sessions = (int)u;
	if ((v = var(get, ctx, "SSH_BROKER_PUBLIC_HOST", NULL)) != NULL) {
		for (i = 0; v[i] != '\0'; i++) {
			if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
			    (v[i] >= '0' && v[i] <= '9') || v[i] == '.' || v[i] == '-' || v[i] == ':' ||
			    v[i] == '[' || v[i] == ']'))
				CFG_FAIL("SSH_BROKER_PUBLIC_HOST: must be a host name or an IP address");
		}
		if (i == 0 || i > 253)
			CFG_FAIL("SSH_BROKER_PUBLIC_HOST: must be 1 to 253 characters");
		c->ssh_broker_public_host = xstrdup(v);
	}
	if (num_parse_u64(var(get, ctx, "SSH_BROKER_LOGIN_TIMEOUT_MS", "30000"), 100, 600000,
	    &c->ssh_broker_login_timeout_ms) != 0)
		CFG_FAIL("SSH_BROKER_LOGIN_TIMEOUT_MS: must be milliseconds between 100 and 600000");
	r = 0;
 out:
	if (r != 0)
		config_free(c);
	return r;
}

int
config_check_boot(const struct config *c, char err[static CONFIG_ERR_MAX])
{
	err[0] = '\0';
	if (strcmp(c->key_provider, "hcv-transit") == 0) {
		snprintf(err, CONFIG_ERR_MAX,
		    "KEY_PROVIDER=hcv-transit: the Vault Transit provider is not implemented in this "
		    "build yet; use KEY_PROVIDER=local");
		return VT_ERR_CONFIG;
	}
	if (c->master_key_malformed) {
		snprintf(err, CONFIG_ERR_MAX,
		    "DEV_MASTER_KEY: must be exactly 64 hex digits (a 32-byte key)");
		return VT_ERR_CONFIG;
	}
	if (c->master_key == NULL) {
		snprintf(err, CONFIG_ERR_MAX,
		    "DEV_MASTER_KEY: is required with KEY_PROVIDER=local (64 hex digits; "
		    "generate with: openssl rand -hex 32)");
		return VT_ERR_CONFIG;
	}
	if (!c->production)
		return 0;
	if (c->jwt_secret_is_dev_default) {
		snprintf(err, CONFIG_ERR_MAX,
		    "JWT_SECRET: must be set in production (it is unset or the development default)");
		return VT_ERR_CONFIG;
	}
	if (secmem_len(c->jwt_secret) < CONFIG_JWT_SECRET_MIN) {
		snprintf(err, CONFIG_ERR_MAX, "JWT_SECRET: must be at least %d bytes in production",
		    CONFIG_JWT_SECRET_MIN);
		return VT_ERR_CONFIG;
	}
	if (c->database_url == NULL) {
		snprintf(err, CONFIG_ERR_MAX, "DATABASE_URL: is required in production");
		return VT_ERR_CONFIG;
	}
	if (!c->audit_sequencer) {
		snprintf(err, CONFIG_ERR_MAX, "AUDIT_SEQUENCER=off: not allowed in production (the "
		    "audit chain would stop being sealed); servers that should not sequence simply "
		    "wait for the leader's lock");
		return VT_ERR_CONFIG;
	}
	if (c->license_state_path == NULL) {
		snprintf(err, CONFIG_ERR_MAX, "LICENSE_STATE_PATH: is required in production (the "
		    "anti-rollback counter must live on a persistent volume)");
		return VT_ERR_CONFIG;
	}
	return 0;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->bind_address);
	free(c->app_base_url);
	vt_str_wipe_free(c->database_url);
	vt_str_wipe_free(c->database_owner_url);
	free(c->database_app_role);
	secmem_free(c->jwt_secret);
	free(c->key_provider);
	secmem_free(c->master_key);
	free(c->audit_witness_file);
	free(c->audit_deployment_name);
	free(c->license_state_path);
	free(c->ssh_broker_bind);
	free(c->ssh_broker_public_host);
	memset(c, 0, sizeof(*c));
}
