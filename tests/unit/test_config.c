/*
 * Unit tests for environment configuration (src/base/config.h) through a fake getenv: every
 * default, every variable's bounds (min, max, max+1 and junk), and every production boot guard in
 * config_check_boot (JWT_SECRET unset, equal to the development default or shorter than 32 bytes;
 * DEV_MASTER_KEY missing or malformed; KEY_PROVIDER=hcv-transit; DATABASE_URL missing), with
 * APP_ENV and its NODE_ENV alias. Error lines must name the variable and never its value. Also
 * covers log_level_parse, which config uses for LOG_LEVEL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"

#define SECRET "hunter2secret"
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define JWT_32 "0123456789abcdef0123456789abcdef"

struct fake_env {
	const char *name[32];
	const char *value[32];
	size_t n;
};

static const char *
fake_getenv(void *ctx, const char *name)
{
	const struct fake_env *e = ctx;
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	}
	return NULL;
}

static void
env_set(struct fake_env *e, const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		if (strcmp(e->name[i], name) == 0) {
			e->value[i] = value;
			return;
		}
	}
	assert_true(e->n < VT_NELEM(e->name));
	e->name[e->n] = name;
	e->value[e->n] = value;
	e->n++;
}

/* A development environment that passes config_check_boot. */
static void
env_dev(struct fake_env *e)
{
	memset(e, 0, sizeof(*e));
	env_set(e, "DEV_MASTER_KEY", KEY_HEX);
}

/* A production environment that passes config_check_boot. */
static void
env_prod(struct fake_env *e)
{
	env_dev(e);
	env_set(e, "APP_ENV", "production");
	env_set(e, "JWT_SECRET", JWT_32);
	env_set(e, "DATABASE_URL", "postgresql://app@127.0.0.1/vaultterm");
	env_set(e, "LICENSE_STATE_PATH", "/var/lib/vaultterm/license-state");
}

static int
setup_sodium(void **state)
{
	(void)state;
	return secmem_init();
}

static void
load_ok(struct fake_env *e, struct config *c)
{
	char err[CONFIG_ERR_MAX];

	if (config_load(c, fake_getenv, e, err) != 0)
		fail_msg("config_load failed: %s", err);
	assert_string_equal(err, "");
}

/* Loads and expects VT_ERR_CONFIG with exactly want_msg; c must come back zeroed. */
static void
load_fails(struct fake_env *e, const char *want_msg)
{
	static const struct config zero;
	char err[CONFIG_ERR_MAX];
	struct config c;

	memset(&c, 0xee, sizeof(c));
	assert_int_equal(config_load(&c, fake_getenv, e, err), VT_ERR_CONFIG);
	assert_string_equal(err, want_msg);
	assert_null(strstr(err, SECRET));
	assert_memory_equal(&c, &zero, sizeof(c));
}

static void
boot_ok(struct fake_env *e)
{
	char err[CONFIG_ERR_MAX];
	struct config c;

	load_ok(e, &c);
	if (config_check_boot(&c, err) != 0)
		fail_msg("config_check_boot refused: %s", err);
	assert_string_equal(err, "");
	config_free(&c);
}

static void
boot_fails(struct fake_env *e, const char *want_msg)
{
	char err[CONFIG_ERR_MAX];
	struct config c;

	load_ok(e, &c);
	assert_int_equal(config_check_boot(&c, err), VT_ERR_CONFIG);
	assert_string_equal(err, want_msg);
	assert_null(strstr(err, SECRET));
	config_free(&c);
}

/* One value of one variable on top of the dev environment. */
static void
var_ok(const char *name, const char *value, struct config *c)
{
	struct fake_env e;

	env_dev(&e);
	env_set(&e, name, value);
	load_ok(&e, c);
}

static void
var_fails(const char *name, const char *value, const char *want_msg)
{
	struct fake_env e;

	env_dev(&e);
	env_set(&e, name, value);
	load_fails(&e, want_msg);
}

#define MSG_MASTER_MISSING                                                                         \
	"DEV_MASTER_KEY: is required with KEY_PROVIDER=local (64 hex digits; generate with: "      \
	"openssl rand -hex 32)"
#define MSG_MASTER_MALFORMED "DEV_MASTER_KEY: must be exactly 64 hex digits (a 32-byte key)"
#define MSG_HCV                                                                                    \
	"KEY_PROVIDER=hcv-transit: the Vault Transit provider is not implemented in this build "   \
	"yet; use KEY_PROVIDER=local"
#define MSG_JWT_UNSET                                                                              \
	"JWT_SECRET: must be set in production (it is unset or the development default)"
#define MSG_JWT_SHORT "JWT_SECRET: must be at least 32 bytes in production"

/* ---- defaults ---- */

static void
test_defaults(void **state)
{
	struct fake_env e;
	struct config c;

	(void)state;
	memset(&e, 0, sizeof(e));
	load_ok(&e, &c);
	assert_int_equal(c.port, 4000);
	assert_string_equal(c.bind_address, "127.0.0.1");
	assert_string_equal(c.app_base_url, "http://localhost:4000");
	assert_null(c.database_url);
	assert_null(c.database_owner_url);
	assert_string_equal(c.database_app_role, "vaultterm_app");
	/* Unset: a random per-process secret, never the published development string. */
	assert_non_null(c.jwt_secret);
	assert_int_equal(secmem_len(c.jwt_secret), 32);
	assert_true(memcmp(secmem_ptr(c.jwt_secret), CONFIG_DEV_JWT_SECRET, 32) != 0);
	assert_int_equal(c.jwt_secret_is_dev_default, 1);
	assert_int_equal(c.jwt_secret_ephemeral, 1);
	assert_true(c.jwt_ttl_ms == 12ull * 3600 * 1000);
	assert_string_equal(c.key_provider, "local");
	assert_null(c.master_key);
	assert_int_equal(c.master_key_malformed, 0);
	assert_int_equal(c.auth_rate_max, 30);
	assert_true(c.auth_rate_window_ms == 60000);
	assert_int_equal(c.scan_rate_max, 60);
	assert_true(c.scan_rate_window_ms == 60000);
	assert_int_equal(c.production, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.http_threads, 8);
	assert_int_equal(c.db_pool_size, 10);
	assert_true(c.shutdown_grace_ms == 30000);
	config_free(&c);
	/* config_free leaves c zeroed and may run twice. */
	assert_null(c.bind_address);
	assert_null(c.jwt_secret);
	config_free(&c);
	config_free(NULL);
}

static void
test_empty_values_mean_unset(void **state)
{
	static const char *const names[] = { "PORT", "BIND_ADDRESS", "APP_BASE_URL", "DATABASE_URL",
		"DATABASE_OWNER_URL", "DATABASE_APP_ROLE", "JWT_SECRET", "JWT_TTL", "KEY_PROVIDER",
		"DEV_MASTER_KEY", "AUTH_RATE_MAX", "AUTH_RATE_WINDOW_MS", "SCAN_RATE_MAX",
		"SCAN_RATE_WINDOW_MS", "APP_ENV", "NODE_ENV", "LOG_LEVEL", "HTTP_THREADS",
		"DB_POOL_SIZE", "SHUTDOWN_GRACE_MS" };
	struct fake_env e;
	struct config c;
	size_t i;

	(void)state;
	memset(&e, 0, sizeof(e));
	for (i = 0; i < VT_NELEM(names); i++)
		env_set(&e, names[i], "");
	load_ok(&e, &c);
	assert_int_equal(c.port, 4000);
	assert_null(c.database_url);
	assert_null(c.master_key);
	assert_int_equal(c.master_key_malformed, 0);
	assert_int_equal(c.jwt_secret_is_dev_default, 1);
	assert_int_equal(c.production, 0);
	assert_int_equal(c.db_pool_size, 10);
	assert_int_equal(c.scan_rate_max, 60);
	assert_true(c.scan_rate_window_ms == 60000);
	config_free(&c);
}

static void
test_values_are_copied(void **state)
{
	struct fake_env e;
	struct config c;
	uint8_t key[32];
	int i;

	(void)state;
	env_dev(&e);
	env_set(&e, "BIND_ADDRESS", "0.0.0.0");
	env_set(&e, "DATABASE_URL", "postgresql://app:pw@db/vt");
	env_set(&e, "DATABASE_OWNER_URL", "postgresql://owner:pw@db/vt");
	env_set(&e, "DATABASE_APP_ROLE", "vt_app_2");
	env_set(&e, "JWT_SECRET", SECRET);
	env_set(&e, "KEY_PROVIDER", "local");
	load_ok(&e, &c);
	assert_string_equal(c.bind_address, "0.0.0.0");
	assert_string_equal(c.database_url, "postgresql://app:pw@db/vt");
	assert_string_equal(c.database_owner_url, "postgresql://owner:pw@db/vt");
	assert_string_equal(c.database_app_role, "vt_app_2");
	assert_int_equal(secmem_len(c.jwt_secret), strlen(SECRET));
	assert_memory_equal(secmem_ptr(c.jwt_secret), SECRET, strlen(SECRET));
	assert_int_equal(c.jwt_secret_is_dev_default, 0);
	assert_non_null(c.master_key);
	assert_int_equal(secmem_len(c.master_key), CONFIG_MASTER_KEY_LEN);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_memory_equal(secmem_ptr(c.master_key), key, 32);
	config_free(&c);
}

/* ---- DEV_MASTER_KEY ---- */

static void
test_master_key_upper_case(void **state)
{
	struct config c;
	uint8_t key[32];
	int i;

	(void)state;
	var_ok("DEV_MASTER_KEY",
	    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", &c);
	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_non_null(c.master_key);
	assert_memory_equal(secmem_ptr(c.master_key), key, 32);
	assert_int_equal(c.master_key_malformed, 0);
	config_free(&c);
}

static void
test_master_key_malformed(void **state)
{
	static const char *const bad[] = {
		KEY_HEX "0",                                          /* 65 */
		"00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", /* 63 */
		"000102030405060708090a0b0c0d0e0f",                   /* 32 (16 bytes) */
		"0",
		"g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", /* non-hex */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1z",
		"0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		" 00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		KEY_HEX "\n",
		"00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",       /* base64 of the key */
		SECRET,
	};
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(bad); i++) {
		struct fake_env e;
		struct config c;

		env_dev(&e);
		env_set(&e, "DEV_MASTER_KEY", bad[i]);
		load_ok(&e, &c);
		assert_null(c.master_key);
		assert_int_equal(c.master_key_malformed, 1);
		config_free(&c);
		boot_fails(&e, MSG_MASTER_MALFORMED);
		/* Same in production, where it must not fall through to other checks. */
		env_prod(&e);
		env_set(&e, "DEV_MASTER_KEY", bad[i]);
		boot_fails(&e, MSG_MASTER_MALFORMED);
	}
}

static void
test_master_key_missing(void **state)
{
	struct fake_env e;

	(void)state;
	memset(&e, 0, sizeof(e));
	boot_fails(&e, MSG_MASTER_MISSING);
	env_prod(&e);
	env_set(&e, "DEV_MASTER_KEY", "");
	boot_fails(&e, MSG_MASTER_MISSING);
	env_dev(&e);
	boot_ok(&e);
}

/* ---- KEY_PROVIDER ---- */

static void
test_key_provider(void **state)
{
	struct fake_env e;
	struct config c;

	(void)state;
	/* hcv-transit parses but the boot guard refuses it, in development and production. */
	var_ok("KEY_PROVIDER", "hcv-transit", &c);
	assert_string_equal(c.key_provider, "hcv-transit");
	config_free(&c);
	env_dev(&e);
	env_set(&e, "KEY_PROVIDER", "hcv-transit");
	boot_fails(&e, MSG_HCV);
	env_prod(&e);
	env_set(&e, "KEY_PROVIDER", "hcv-transit");
	boot_fails(&e, MSG_HCV);
	/* It is refused before the master key is even looked at. */
	memset(&e, 0, sizeof(e));
	env_set(&e, "KEY_PROVIDER", "hcv-transit");
	boot_fails(&e, MSG_HCV);

	var_fails("KEY_PROVIDER", "aws-kms", "KEY_PROVIDER: must be local or hcv-transit");
	var_fails("KEY_PROVIDER", "LOCAL", "KEY_PROVIDER: must be local or hcv-transit");
	var_fails("KEY_PROVIDER", "local ", "KEY_PROVIDER: must be local or hcv-transit");
	var_fails("KEY_PROVIDER", SECRET, "KEY_PROVIDER: must be local or hcv-transit");
}

/* ---- production and JWT_SECRET ---- */

static void
test_production_happy(void **state)
{
	struct fake_env e;
	struct config c;

	(void)state;
	env_prod(&e);
	load_ok(&e, &c);
	assert_int_equal(c.production, 1);
	assert_int_equal(c.jwt_secret_is_dev_default, 0);
	config_free(&c);
	boot_ok(&e);
}

static void
test_production_jwt_secret_unset_or_default(void **state)
{
	struct fake_env e;

	(void)state;
	env_prod(&e);
	env_set(&e, "JWT_SECRET", NULL);
	boot_fails(&e, MSG_JWT_UNSET);
	env_set(&e, "JWT_SECRET", "");
	boot_fails(&e, MSG_JWT_UNSET);
	env_set(&e, "JWT_SECRET", CONFIG_DEV_JWT_SECRET);
	boot_fails(&e, MSG_JWT_UNSET);
	/* The default with one byte more or less is merely a (long enough) secret. */
	env_set(&e, "JWT_SECRET", CONFIG_DEV_JWT_SECRET "x");
	boot_ok(&e);
	env_set(&e, "JWT_SECRET", "Vaultterm-dev-jwt-secret-not-for-production");
	boot_ok(&e);
	/* In development the default is fine. */
	env_dev(&e);
	boot_ok(&e);
}

static void
test_production_jwt_secret_length(void **state)
{
	char s31[32], s32[33];
	struct fake_env e;

	(void)state;
	memset(s31, 'k', 31);
	s31[31] = '\0';
	memset(s32, 'k', 32);
	s32[32] = '\0';
	env_prod(&e);
	env_set(&e, "JWT_SECRET", s31);
	boot_fails(&e, MSG_JWT_SHORT);
	env_set(&e, "JWT_SECRET", "x");
	boot_fails(&e, MSG_JWT_SHORT);
	env_set(&e, "JWT_SECRET", SECRET);
	boot_fails(&e, MSG_JWT_SHORT);
	env_set(&e, "JWT_SECRET", s32);
	boot_ok(&e);
	/* Short secrets are tolerated outside production. */
	env_dev(&e);
	env_set(&e, "JWT_SECRET", "x");
	boot_ok(&e);
}

static void
test_production_database_url(void **state)
{
	struct fake_env e;

	(void)state;
	env_prod(&e);
	env_set(&e, "DATABASE_URL", NULL);
	boot_fails(&e, "DATABASE_URL: is required in production");
	env_dev(&e);
	boot_ok(&e);
}

/* The audit chain: its anti-rollback counter must be persistent, and sequencing cannot be off. */
static void
test_production_audit_chain(void **state)
{
	struct fake_env e;
	struct config c;

	(void)state;
	env_prod(&e);
	env_set(&e, "LICENSE_STATE_PATH", NULL);
	boot_fails(&e, "LICENSE_STATE_PATH: is required in production (the anti-rollback counter "
		       "must live on a persistent volume)");
	env_prod(&e);
	env_set(&e, "AUDIT_SEQUENCER", "off");
	boot_fails(&e, "AUDIT_SEQUENCER=off: not allowed in production (the audit chain would "
		       "stop being sealed); servers that should not sequence simply wait for the "
		       "leader's lock");
	env_prod(&e);
	env_set(&e, "LICENSE_STATE_PATH", "relative/path");
	load_fails(&e, "LICENSE_STATE_PATH: must be an absolute path");
	env_dev(&e);
	env_set(&e, "AUDIT_SEQUENCER", "off");
	load_ok(&e, &c);
	assert_int_equal(c.audit_sequencer, 0);
	assert_null(c.license_state_path);
	assert_int_equal(c.audit_checkpoint_interval_ms, 1000);
	assert_int_equal(c.audit_checkpoint_rows, 1000);
	assert_int_equal(c.audit_verify_interval_ms, 5000);
	config_free(&c);
	env_set(&e, "AUDIT_SEQUENCER", "maybe");
	load_fails(&e, "AUDIT_SEQUENCER: must be on or off");
	env_set(&e, "AUDIT_SEQUENCER", NULL);
	env_set(&e, "AUDIT_CHECKPOINT_INTERVAL_MS", "5");
	load_fails(&e, "AUDIT_CHECKPOINT_INTERVAL_MS: must be milliseconds between 10 and 3600000");
	env_set(&e, "AUDIT_CHECKPOINT_INTERVAL_MS", NULL);
	env_set(&e, "AUDIT_CHECKPOINT_ROWS", "0");
	load_fails(&e, "AUDIT_CHECKPOINT_ROWS: must be a number between 1 and 1000000");
	env_set(&e, "AUDIT_CHECKPOINT_ROWS", NULL);
	env_set(&e, "AUDIT_DEPLOYMENT_NAME", "bad name");
	load_fails(&e, "AUDIT_DEPLOYMENT_NAME: use letters, digits, '.', '-' and '_' (starting with "
		       "a letter or digit)");
	env_set(&e, "AUDIT_DEPLOYMENT_NAME", "prod-eu.1");
	load_ok(&e, &c);
	assert_string_equal(c.audit_deployment_name, "prod-eu.1");
	config_free(&c);
}

/* The SSH broker's variables: defaults, "off", 0 (a free port) and every refusal. */
static void
test_ssh_broker(void **state)
{
	struct fake_env e;
	struct config c;

	(void)state;
	env_dev(&e);
	load_ok(&e, &c);
	assert_int_equal(c.ssh_broker_port, 2222);
	assert_null(c.ssh_broker_bind);
	assert_int_equal(c.ssh_broker_max_sessions, 1000);
	assert_null(c.ssh_broker_public_host);
	assert_int_equal(c.ssh_broker_login_timeout_ms, 30000);
	config_free(&c);
	env_set(&e, "SSH_BROKER_PORT", "off");
	load_ok(&e, &c);
	assert_int_equal(c.ssh_broker_port, -1);
	config_free(&c);
	env_set(&e, "SSH_BROKER_PORT", "0");
	env_set(&e, "SSH_BROKER_BIND", "0.0.0.0");
	env_set(&e, "SSH_BROKER_PUBLIC_HOST", "bastion.example.com");
	env_set(&e, "SSH_BROKER_MAX_SESSIONS", "500");
	load_ok(&e, &c);
	assert_int_equal(c.ssh_broker_port, 0);
	assert_string_equal(c.ssh_broker_bind, "0.0.0.0");
	assert_string_equal(c.ssh_broker_public_host, "bastion.example.com");
	assert_int_equal(c.ssh_broker_max_sessions, 500);
	config_free(&c);
	env_set(&e, "SSH_BROKER_PORT", "65536");
	load_fails(&e, "SSH_BROKER_PORT: must be a port between 0 and 65535, or off");
	env_set(&e, "SSH_BROKER_PORT", "on");
	load_fails(&e, "SSH_BROKER_PORT: must be a port between 0 and 65535, or off");
	env_set(&e, "SSH_BROKER_PORT", NULL);
	env_set(&e, "SSH_BROKER_MAX_SESSIONS", "0");
	load_fails(&e, "SSH_BROKER_MAX_SESSIONS: must be a number between 1 and 100000");
	env_set(&e, "SSH_BROKER_MAX_SESSIONS", NULL);
	env_set(&e, "SSH_BROKER_PUBLIC_HOST", "host; rm -rf /");
	load_fails(&e, "SSH_BROKER_PUBLIC_HOST: must be a host name or an IP address");
	env_set(&e, "SSH_BROKER_PUBLIC_HOST", NULL);
	env_set(&e, "SSH_BROKER_LOGIN_TIMEOUT_MS", "50");
	load_fails(&e, "SSH_BROKER_LOGIN_TIMEOUT_MS: must be milliseconds between 100 and 600000");
}

static void
test_app_env_and_node_env_alias(void **state)
{
	static const char *msg = "APP_ENV: must be production, development or test";
	struct fake_env e;
	struct config c;

	(void)state;
	var_ok("APP_ENV", "production", &c);
	assert_int_equal(c.production, 1);
	config_free(&c);
	var_ok("NODE_ENV", "production", &c);
	assert_int_equal(c.production, 1);
	config_free(&c);
	var_ok("APP_ENV", "development", &c);
	assert_int_equal(c.production, 0);
	config_free(&c);
	var_ok("APP_ENV", "test", &c);
	assert_int_equal(c.production, 0);
	config_free(&c);
	var_ok("NODE_ENV", "test", &c);
	assert_int_equal(c.production, 0);
	config_free(&c);

	/* APP_ENV takes precedence; an empty APP_ENV defers to NODE_ENV. */
	env_dev(&e);
	env_set(&e, "APP_ENV", "development");
	env_set(&e, "NODE_ENV", "production");
	load_ok(&e, &c);
	assert_int_equal(c.production, 0);
	config_free(&c);
	env_set(&e, "APP_ENV", "");
	load_ok(&e, &c);
	assert_int_equal(c.production, 1);
	config_free(&c);
	env_set(&e, "APP_ENV", "production");
	env_set(&e, "NODE_ENV", "development");
	load_ok(&e, &c);
	assert_int_equal(c.production, 1);
	config_free(&c);

	/* NODE_ENV=production turns on every boot guard. */
	env_prod(&e);
	env_set(&e, "APP_ENV", NULL);
	env_set(&e, "NODE_ENV", "production");
	env_set(&e, "JWT_SECRET", NULL);
	boot_fails(&e, MSG_JWT_UNSET);
	env_set(&e, "JWT_SECRET", "short");
	boot_fails(&e, MSG_JWT_SHORT);
	env_set(&e, "JWT_SECRET", JWT_32);
	env_set(&e, "DATABASE_URL", NULL);
	boot_fails(&e, "DATABASE_URL: is required in production");

	var_fails("APP_ENV", "prod", msg);
	var_fails("APP_ENV", "Production", msg);
	var_fails("APP_ENV", "production ", msg);
	var_fails("APP_ENV", "staging", msg);
	var_fails("NODE_ENV", "staging", msg);
	var_fails("NODE_ENV", "PRODUCTION", msg);
}

/* ---- numeric and enumerated variables ---- */

struct bound_case {
	const char *name;
	const char *value;
	int ok;
};

static void
run_bounds(const struct bound_case *cases, size_t n, const char *msg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (cases[i].ok) {
			struct config c;

			var_ok(cases[i].name, cases[i].value, &c);
			config_free(&c);
		} else {
			var_fails(cases[i].name, cases[i].value, msg);
		}
	}
}

static void
test_port_bounds(void **state)
{
	static const struct bound_case cases[] = {
		{ "PORT", "0", 1 }, { "PORT", "1", 1 }, { "PORT", "65535", 1 },
		{ "PORT", "65536", 0 }, { "PORT", "-1", 0 }, { "PORT", "+80", 0 },
		{ "PORT", "80 ", 0 }, { "PORT", "http", 0 }, { "PORT", "0x50", 0 },
		{ "PORT", "18446744073709551616", 0 }, { "PORT", SECRET, 0 },
	};
	struct config c;

	(void)state;
	run_bounds(cases, VT_NELEM(cases), "PORT: must be a number between 0 and 65535");
	var_ok("PORT", "8443", &c);
	assert_int_equal(c.port, 8443);
	assert_string_equal(c.app_base_url, "http://localhost:8443");
	config_free(&c);
}

static void
test_jwt_ttl_bounds(void **state)
{
	static const struct bound_case cases[] = {
		{ "JWT_TTL", "1m", 1 }, { "JWT_TTL", "60", 1 }, { "JWT_TTL", "60000ms", 1 },
		{ "JWT_TTL", "30d", 1 }, { "JWT_TTL", "720h", 1 }, { "JWT_TTL", "59s", 0 },
		{ "JWT_TTL", "59999ms", 0 }, { "JWT_TTL", "12", 0 }, { "JWT_TTL", "0", 0 },
		{ "JWT_TTL", "31d", 0 }, { "JWT_TTL", "721h", 0 },
		{ "JWT_TTL", "2592000001ms", 0 }, { "JWT_TTL", "12H", 0 }, { "JWT_TTL", "1w", 0 },
		{ "JWT_TTL", "-1h", 0 }, { "JWT_TTL", "213503982335d", 0 },
	};
	struct config c;

	(void)state;
	run_bounds(cases, VT_NELEM(cases),
	    "JWT_TTL: must be a duration between 1m and 30d (e.g. 12h)");
	var_ok("JWT_TTL", "15m", &c);
	assert_true(c.jwt_ttl_ms == 900000);
	config_free(&c);
	var_ok("JWT_TTL", "30d", &c);
	assert_true(c.jwt_ttl_ms == 2592000000ull);
	config_free(&c);
}

static void
test_auth_rate_bounds(void **state)
{
	static const struct bound_case max_cases[] = {
		{ "AUTH_RATE_MAX", "1", 1 }, { "AUTH_RATE_MAX", "1000000", 1 },
		{ "AUTH_RATE_MAX", "0", 0 }, { "AUTH_RATE_MAX", "1000001", 0 },
		{ "AUTH_RATE_MAX", "-5", 0 }, { "AUTH_RATE_MAX", "1e3", 0 },
	};
	static const struct bound_case win_cases[] = {
		{ "AUTH_RATE_WINDOW_MS", "1000", 1 }, { "AUTH_RATE_WINDOW_MS", "86400000", 1 },
		{ "AUTH_RATE_WINDOW_MS", "999", 0 }, { "AUTH_RATE_WINDOW_MS", "86400001", 0 },
		{ "AUTH_RATE_WINDOW_MS", "0", 0 }, { "AUTH_RATE_WINDOW_MS", "60s", 0 },
		{ "AUTH_RATE_WINDOW_MS", "18446744073709551616", 0 },
	};
	struct config c;

	(void)state;
	run_bounds(max_cases, VT_NELEM(max_cases),
	    "AUTH_RATE_MAX: must be a number between 1 and 1000000");
	run_bounds(win_cases, VT_NELEM(win_cases),
	    "AUTH_RATE_WINDOW_MS: must be milliseconds between 1000 and 86400000");
	var_ok("AUTH_RATE_MAX", "5", &c);
	assert_int_equal(c.auth_rate_max, 5);
	config_free(&c);
	var_ok("AUTH_RATE_WINDOW_MS", "1000", &c);
	assert_true(c.auth_rate_window_ms == 1000);
	config_free(&c);
}

static void
test_scan_rate_bounds(void **state)
{
	static const struct bound_case max_cases[] = {
		{ "SCAN_RATE_MAX", "1", 1 }, { "SCAN_RATE_MAX", "1000000", 1 },
		{ "SCAN_RATE_MAX", "0", 0 }, { "SCAN_RATE_MAX", "1000001", 0 },
		{ "SCAN_RATE_MAX", "-5", 0 }, { "SCAN_RATE_MAX", "1e3", 0 },
		{ "SCAN_RATE_MAX", "60 ", 0 }, { "SCAN_RATE_MAX", "off", 0 },
		{ "SCAN_RATE_MAX", "4294967357", 0 }, { "SCAN_RATE_MAX", SECRET, 0 },
	};
	static const struct bound_case win_cases[] = {
		{ "SCAN_RATE_WINDOW_MS", "1000", 1 }, { "SCAN_RATE_WINDOW_MS", "86400000", 1 },
		{ "SCAN_RATE_WINDOW_MS", "999", 0 }, { "SCAN_RATE_WINDOW_MS", "86400001", 0 },
		{ "SCAN_RATE_WINDOW_MS", "0", 0 }, { "SCAN_RATE_WINDOW_MS", "60s", 0 },
		{ "SCAN_RATE_WINDOW_MS", "-1000", 0 },
		{ "SCAN_RATE_WINDOW_MS", "18446744073709551616", 0 },
	};
	struct fake_env e;
	struct config c;

	(void)state;
	run_bounds(max_cases, VT_NELEM(max_cases),
	    "SCAN_RATE_MAX: must be a number between 1 and 1000000");
	run_bounds(win_cases, VT_NELEM(win_cases),
	    "SCAN_RATE_WINDOW_MS: must be milliseconds between 1000 and 86400000");
	var_ok("SCAN_RATE_MAX", "3", &c);
	assert_int_equal(c.scan_rate_max, 3);
	assert_true(c.scan_rate_window_ms == 60000);
	config_free(&c);
	var_ok("SCAN_RATE_MAX", "1000000", &c);
	assert_int_equal(c.scan_rate_max, 1000000);
	config_free(&c);
	var_ok("SCAN_RATE_WINDOW_MS", "86400000", &c);
	assert_true(c.scan_rate_window_ms == 86400000);
	assert_int_equal(c.scan_rate_max, 60);
	config_free(&c);
	/* Independent of the auth limits, both ways. */
	env_dev(&e);
	env_set(&e, "AUTH_RATE_MAX", "7");
	env_set(&e, "AUTH_RATE_WINDOW_MS", "2000");
	env_set(&e, "SCAN_RATE_MAX", "11");
	env_set(&e, "SCAN_RATE_WINDOW_MS", "3000");
	load_ok(&e, &c);
	assert_int_equal(c.auth_rate_max, 7);
	assert_true(c.auth_rate_window_ms == 2000);
	assert_int_equal(c.scan_rate_max, 11);
	assert_true(c.scan_rate_window_ms == 3000);
	config_free(&c);
}

static void
test_threads_and_pool_bounds(void **state)
{
	static const struct bound_case thr[] = {
		{ "HTTP_THREADS", "1", 1 }, { "HTTP_THREADS", "256", 1 },
		{ "HTTP_THREADS", "0", 0 }, { "HTTP_THREADS", "257", 0 },
		{ "HTTP_THREADS", "eight", 0 },
	};
	static const struct bound_case pool[] = {
		{ "DB_POOL_SIZE", "1", 1 }, { "DB_POOL_SIZE", "512", 1 },
		{ "DB_POOL_SIZE", "0", 0 }, { "DB_POOL_SIZE", "513", 0 },
		{ "DB_POOL_SIZE", " 4", 0 },
	};
	struct fake_env e;
	struct config c;

	(void)state;
	run_bounds(thr, VT_NELEM(thr), "HTTP_THREADS: must be a number between 1 and 256");
	run_bounds(pool, VT_NELEM(pool), "DB_POOL_SIZE: must be a number between 1 and 512");
	/* The pool defaults to HTTP_THREADS + 2, and an explicit value wins. */
	var_ok("HTTP_THREADS", "20", &c);
	assert_int_equal(c.http_threads, 20);
	assert_int_equal(c.db_pool_size, 22);
	config_free(&c);
	var_ok("HTTP_THREADS", "256", &c);
	assert_int_equal(c.db_pool_size, 258);
	config_free(&c);
	env_dev(&e);
	env_set(&e, "HTTP_THREADS", "20");
	env_set(&e, "DB_POOL_SIZE", "5");
	load_ok(&e, &c);
	assert_int_equal(c.db_pool_size, 5);
	config_free(&c);
}

static void
test_shutdown_grace_bounds(void **state)
{
	static const struct bound_case cases[] = {
		{ "SHUTDOWN_GRACE_MS", "0", 1 }, { "SHUTDOWN_GRACE_MS", "3600000", 1 },
		{ "SHUTDOWN_GRACE_MS", "3600001", 0 }, { "SHUTDOWN_GRACE_MS", "-1", 0 },
		{ "SHUTDOWN_GRACE_MS", "30s", 0 },
	};
	struct config c;

	(void)state;
	run_bounds(cases, VT_NELEM(cases),
	    "SHUTDOWN_GRACE_MS: must be milliseconds between 0 and 3600000");
	var_ok("SHUTDOWN_GRACE_MS", "0", &c);
	assert_true(c.shutdown_grace_ms == 0);
	config_free(&c);
}

static void
test_log_level_var(void **state)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct config c;
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(names); i++) {
		var_ok("LOG_LEVEL", names[i], &c);
		assert_int_equal(c.log_level, (int)i);
		config_free(&c);
	}
	var_fails("LOG_LEVEL", "fatal", "LOG_LEVEL: must be debug, info, warn or error");
	var_fails("LOG_LEVEL", "INFO", "LOG_LEVEL: must be debug, info, warn or error");
	var_fails("LOG_LEVEL", "trace", "LOG_LEVEL: must be debug, info, warn or error");
}

static void
test_app_base_url(void **state)
{
	static const char *msg = "APP_BASE_URL: must start with http:// or https://";
	struct config c;

	(void)state;
	var_ok("APP_BASE_URL", "https://vault.example.com/", &c);
	assert_string_equal(c.app_base_url, "https://vault.example.com");
	config_free(&c);
	var_ok("APP_BASE_URL", "http://10.0.0.1:4000", &c);
	assert_string_equal(c.app_base_url, "http://10.0.0.1:4000");
	config_free(&c);
	var_fails("APP_BASE_URL", "ftp://example.com", msg);
	var_fails("APP_BASE_URL", "example.com", msg);
	var_fails("APP_BASE_URL", "HTTPS://example.com", msg);
	var_fails("APP_BASE_URL", "javascript:alert(1)", msg);
	var_fails("APP_BASE_URL", "//example.com", msg);
}

static void
test_database_app_role(void **state)
{
	static const char *charset = "DATABASE_APP_ROLE: use lower-case letters, digits and _ only";
	char r63[64], r64[65];
	struct config c;

	(void)state;
	memset(r63, 'r', 63);
	r63[63] = '\0';
	memset(r64, 'r', 64);
	r64[64] = '\0';
	var_ok("DATABASE_APP_ROLE", r63, &c);
	assert_string_equal(c.database_app_role, r63);
	config_free(&c);
	var_fails("DATABASE_APP_ROLE", r64, "DATABASE_APP_ROLE: at most 63 characters");
	var_fails("DATABASE_APP_ROLE", "App", charset);
	var_fails("DATABASE_APP_ROLE", "a-b", charset);
	var_fails("DATABASE_APP_ROLE", "a b", charset);
	var_fails("DATABASE_APP_ROLE", "app\"; DROP ROLE x; --", charset);
	var_fails("DATABASE_APP_ROLE", "r\xc3\xa9", charset);
}

static void
test_value_length_limit(void **state)
{
	char *big = malloc(CONFIG_VALUE_MAX + 2);
	struct fake_env e;
	struct config c;

	(void)state;
	assert_non_null(big);
	memcpy(big, "postgresql://", 13);
	memset(big + 13, 'a', CONFIG_VALUE_MAX - 13);
	big[CONFIG_VALUE_MAX] = '\0';
	var_ok("DATABASE_URL", big, &c);
	assert_int_equal(strlen(c.database_url), CONFIG_VALUE_MAX);
	config_free(&c);
	big[CONFIG_VALUE_MAX] = 'a';
	big[CONFIG_VALUE_MAX + 1] = '\0';
	var_fails("DATABASE_URL", big, "DATABASE_URL: value is longer than 4096 bytes");
	/* The limit applies to secrets too, and the message does not quote them. */
	memcpy(big, SECRET, strlen(SECRET));
	var_fails("JWT_SECRET", big, "JWT_SECRET: value is longer than 4096 bytes");
	var_fails("DEV_MASTER_KEY", big, "DEV_MASTER_KEY: value is longer than 4096 bytes");
	/* A 4096-byte JWT secret is accepted. */
	big[CONFIG_VALUE_MAX] = '\0';
	env_prod(&e);
	env_set(&e, "JWT_SECRET", big);
	boot_ok(&e);
	free(big);
}

static void
test_errors_never_quote_secrets(void **state)
{
	static const char *const vars[] = { "PORT", "APP_BASE_URL", "DATABASE_APP_ROLE", "JWT_TTL",
		"KEY_PROVIDER", "AUTH_RATE_MAX", "AUTH_RATE_WINDOW_MS", "SCAN_RATE_MAX",
		"SCAN_RATE_WINDOW_MS", "APP_ENV", "LOG_LEVEL", "HTTP_THREADS", "DB_POOL_SIZE",
		"SHUTDOWN_GRACE_MS" };
	size_t i;

	(void)state;
	/* Every variable that can fail to parse, given a secret-looking value. */
	for (i = 0; i < VT_NELEM(vars); i++) {
		struct fake_env e;
		char err[CONFIG_ERR_MAX];
		struct config c;

		env_dev(&e);
		env_set(&e, "JWT_SECRET", SECRET);
		/* The dash makes it invalid for every variable, DATABASE_APP_ROLE included. */
		env_set(&e, vars[i], SECRET "-X");
		assert_int_equal(config_load(&c, fake_getenv, &e, err), VT_ERR_CONFIG);
		assert_null(strstr(err, SECRET));
		assert_null(strstr(err, "hunter"));
		assert_memory_equal(err, vars[i], strlen(vars[i]));
		assert_int_equal(err[strlen(vars[i])], ':');
	}
}

static void
test_secret_vars_list(void **state)
{
	size_t n;

	(void)state;
	for (n = 0; CONFIG_SECRET_VARS[n] != NULL; n++)
		;
	assert_int_equal(n, 4);
	assert_string_equal(CONFIG_SECRET_VARS[0], "JWT_SECRET");
	assert_string_equal(CONFIG_SECRET_VARS[1], "DEV_MASTER_KEY");
	assert_string_equal(CONFIG_SECRET_VARS[2], "DATABASE_URL");
	assert_string_equal(CONFIG_SECRET_VARS[3], "DATABASE_OWNER_URL");
}

static void
test_print_help_lists_every_variable(void **state)
{
	static const char *const names[] = { "PORT", "BIND_ADDRESS", "APP_BASE_URL", "DATABASE_URL",
		"DATABASE_OWNER_URL", "DATABASE_APP_ROLE", "JWT_SECRET", "JWT_TTL", "KEY_PROVIDER",
		"DEV_MASTER_KEY", "AUTH_RATE_MAX", "AUTH_RATE_WINDOW_MS", "SCAN_RATE_MAX",
		"SCAN_RATE_WINDOW_MS", "APP_ENV", "LOG_LEVEL", "HTTP_THREADS", "DB_POOL_SIZE",
		"SHUTDOWN_GRACE_MS" };
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	config_print_help(f);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < VT_NELEM(names); i++) {
		char needle[64];

		snprintf(needle, sizeof(needle), "  %s ", names[i]);
		if (strstr(buf, needle) == NULL)
			fail_msg("help does not list %s", names[i]);
	}
	assert_non_null(strstr(buf, "[4000]"));
	assert_non_null(strstr(buf, "[12h]"));
	assert_non_null(strstr(buf, "  SCAN_RATE_MAX        max POST /api/vault/scan requests per "
				    "window per user or API token [60]\n"));
	/* The development JWT secret is not advertised as a default. */
	assert_null(strstr(buf, CONFIG_DEV_JWT_SECRET));
	free(buf);
}

static void
test_getenv_process(void **state)
{
	(void)state;
	assert_int_equal(setenv("VT_TEST_CONFIG_VAR", "v1", 1), 0);
	assert_string_equal(config_getenv_process(NULL, "VT_TEST_CONFIG_VAR"), "v1");
	assert_int_equal(unsetenv("VT_TEST_CONFIG_VAR"), 0);
	assert_null(config_getenv_process(NULL, "VT_TEST_CONFIG_VAR"));
}

/* ---- log_level_parse ---- */

static void
test_log_level_parse(void **state)
{
	static const char *const bad[] = { "", "fatal", "DEBUG", "Info", "warning", "err",
		" info", "info ", "0", "1", SECRET };
	enum log_level l;
	size_t i;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_LEVEL_DEBUG);
	assert_int_equal(log_level_parse("info", &l), 0);
	assert_int_equal(l, LOG_LEVEL_INFO);
	assert_int_equal(log_level_parse("warn", &l), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LEVEL_ERROR);
	for (i = 0; i < VT_NELEM(bad); i++)
		assert_int_equal(log_level_parse(bad[i], &l), VT_ERR_VALIDATION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_values_mean_unset),
		cmocka_unit_test(test_values_are_copied),
		cmocka_unit_test(test_master_key_upper_case),
		cmocka_unit_test(test_master_key_malformed),
		cmocka_unit_test(test_master_key_missing),
		cmocka_unit_test(test_key_provider),
		cmocka_unit_test(test_production_happy),
		cmocka_unit_test(test_production_jwt_secret_unset_or_default),
		cmocka_unit_test(test_production_jwt_secret_length),
		cmocka_unit_test(test_production_database_url),
		cmocka_unit_test(test_production_audit_chain),
		cmocka_unit_test(test_ssh_broker),
		cmocka_unit_test(test_app_env_and_node_env_alias),
		cmocka_unit_test(test_port_bounds),
		cmocka_unit_test(test_jwt_ttl_bounds),
		cmocka_unit_test(test_auth_rate_bounds),
		cmocka_unit_test(test_scan_rate_bounds),
		cmocka_unit_test(test_threads_and_pool_bounds),
		cmocka_unit_test(test_shutdown_grace_bounds),
		cmocka_unit_test(test_log_level_var),
		cmocka_unit_test(test_app_base_url),
		cmocka_unit_test(test_database_app_role),
		cmocka_unit_test(test_value_length_limit),
		cmocka_unit_test(test_errors_never_quote_secrets),
		cmocka_unit_test(test_secret_vars_list),
		cmocka_unit_test(test_print_help_lists_every_variable),
		cmocka_unit_test(test_getenv_process),
		cmocka_unit_test(test_log_level_parse),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
