/*
 * `vaultterm server [--dev] [--data-dir DIR]` and `vaultterm migrate`. Start-up order: process
 * hygiene before any secret exists → configuration and boot guards → key material into guarded
 * memory → (dev) the embedded PostgreSQL cluster → migrations as the owner role → app-role checks
 * → connection pool → HTTP. Shutdown (SIGINT/SIGTERM): stop accepting, drain in-flight requests
 * for up to SHUTDOWN_GRACE_MS, stop HTTP, close the pool, stop the cluster, wipe keys.
 */
#include "api/app.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/password.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/num.h"
#include "base/secmem.h"
#include "broker/broker.h"
#include "crypto/hash.h"
#include "db/cluster.h"
#include "db/migrate.h"
#include "db/keystore.h"
#include "scan/scan.h"
#include "vault/fpcache.h"
#include "vault/vault.h"

#define DEV_DATA_DIR_DEFAULT ".vaultterm-dev"
#define DEV_SECRETS_FILE "dev-secrets.env"
#define DEV_SECRETS_MAX 8192

/* Secrets generated for --dev, stored 0600 in the data dir; values are hex. */
static const char *const DEV_KEYS[] = { "DEV_MASTER_KEY", "JWT_SECRET", "PG_SUPERUSER_PASSWORD",
	"PG_OWNER_PASSWORD", "PG_APP_PASSWORD" };
#define DEV_NKEYS (sizeof(DEV_KEYS) / sizeof(DEV_KEYS[0]))

struct dev_secrets {
	struct secmem *buf;                /* file contents, NUL-separated in place */
	const char *values[DEV_NKEYS];     /* point into buf */
};

static void
hygiene(void)
{
	umask(077);
	/* No core dumps and no ptrace by other users: a dump would contain keys and plaintext. */
	if (secmem_no_dumps() != 0)
		log_warn("cannot disable core dumps and ptrace: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

static void
dev_secrets_free(struct dev_secrets *s)
{
	secmem_free(s->buf);
	memset(s, 0, sizeof(*s));
}

static int
dev_secrets_generate(const char *path)
{
	uint8_t rnd[32];
	char hex[65];
	struct vbuf *b = vbuf_new(DEV_SECRETS_MAX);
	size_t i;
	int fd, r = VT_ERR_IO;

	if (vbuf_put_cstr(b, "# VaultTerm development secrets (generated; keep private).\n") != 0)
		goto out;
	for (i = 0; i < DEV_NKEYS; i++) {
		random_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		if (vbuf_put_cstr(b, DEV_KEYS[i]) != 0 || vbuf_put_cstr(b, "=") != 0 ||
		    vbuf_put_cstr(b, hex) != 0 || vbuf_put_cstr(b, "\n") != 0)
			goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_error("cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	if (write(fd, vbuf_ptr(b), vbuf_len(b)) != (ssize_t)vbuf_len(b) || fsync(fd) != 0) {
		log_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		goto out;
	}
	close(fd);
	r = 0;
 out:
	sodium_memzero(rnd, sizeof(rnd));
	sodium_memzero(hex, sizeof(hex));
	vbuf_free(b);
	return r;
}

static int
dev_secrets_load(const char *dir, struct dev_secrets *s)
{
	char *path = xasprintf("%s/" DEV_SECRETS_FILE, dir);
	struct stat st;
	ssize_t n;
	char *p, *line, *eol;
	size_t i;
	int fd = -1, r = VT_ERR_IO;

	memset(s, 0, sizeof(*s));
	if (stat(path, &st) != 0 && errno == ENOENT) {
		if ((r = dev_secrets_generate(path)) != 0)
			goto out;
		log_info("generated development secrets in %s (0600)", path);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0) {
		log_error("cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		log_error("%s is readable by others (mode %o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size >= DEV_SECRETS_MAX) {
		log_error("%s has an unexpected size", path);
		goto out;
	}
	if ((s->buf = secmem_new((size_t)st.st_size + 1)) == NULL)
		goto out;
	n = read(fd, secmem_ptr(s->buf), (size_t)st.st_size);
	if (n != st.st_size) {
		log_error("cannot read %s", path);
		goto out;
	}
	p = (char *)secmem_ptr(s->buf);
	p[n] = '\0';
	for (line = p; line != NULL && *line != '\0'; line = eol) {
		if ((eol = strchr(line, '\n')) != NULL)
			*eol++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (i = 0; i < DEV_NKEYS; i++) {
			size_t kl = strlen(DEV_KEYS[i]);

			if (strncmp(line, DEV_KEYS[i], kl) == 0 && line[kl] == '=')
				s->values[i] = line + kl + 1;
		}
	}
	for (i = 0; i < DEV_NKEYS; i++) {
		if (s->values[i] == NULL || s->values[i][0] == '\0') {
			log_error("%s lacks %s", path, DEV_KEYS[i]);
			goto out;
		}
	}
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	if (r != 0)
		dev_secrets_free(s);
	free(path);
	return r;
}

/* Environment lookup that falls back to the dev secrets for the two keys they provide. */
static const char *
dev_getenv(void *ctx, const char *name)
{
	const struct dev_secrets *s = ctx;
	const char *v = getenv(name);

	if (v != NULL && v[0] != '\0')
		return v;
	if (s != NULL && strcmp(name, "DEV_MASTER_KEY") == 0)
		return s->values[0];
	if (s != NULL && strcmp(name, "JWT_SECRET") == 0)
		return s->values[1];
	return v;
}

/* Overwrites secret-bearing variables in our environment, then removes them. */
static void
scrub_environment(void)
{
	size_t i;

	for (i = 0; CONFIG_SECRET_VARS[i] != NULL; i++) {
		char *v = getenv(CONFIG_SECRET_VARS[i]);

		if (v != NULL)
			sodium_memzero(v, strlen(v));
		unsetenv(CONFIG_SECRET_VARS[i]);
	}
}

/*
 * What the server and the operator commands share: guarded memory, (dev) secrets, configuration
 * and its boot guards, a scrubbed environment, and the keyring with the root key. 0 or 1 (the
 * reason is logged).
 */
static int
boot_load(struct app *app, int dev_mode, const char *data_dir, struct dev_secrets *dev)
{
	char err[CONFIG_ERR_MAX];

	if (secmem_init() != 0) {
		log_fatal("libsodium failed to initialize");
		return 1;
	}
	json_use_wiping_allocator();
	if (dev_mode) {
		if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
			log_fatal("cannot create data dir %s: %s", data_dir, strerror(errno));
			return 1;
		}
		if (dev_secrets_load(data_dir, dev) != 0)
			return 1;
	}
	if (config_load(&app->cfg, dev_getenv, dev_mode ? dev : NULL, err) != 0) {
		log_fatal("configuration: %s", err);
		return 1;
	}
	log_set_level((enum log_level)app->cfg.log_level);
	if (config_check_boot(&app->cfg, err) != 0) {
		log_fatal("refusing to start: %s", err);
		return 1;
	}
	if (app->cfg.jwt_secret_ephemeral)
		log_warn("JWT_SECRET is not set: using a random per-process secret, so sessions end "
			 "when the server restarts");
	scrub_environment();
	if (keyring_new_local(app->cfg.master_key, 1, &app->keyring) != 0) {
		app->cfg.master_key = NULL;
		log_fatal("cannot load the master key");
		return 1;
	}
	app->cfg.master_key = NULL; /* owned by the keyring now */
	return 0;
}

/* The root key must be the one the database was created with; load rotated versions too. */
static int
boot_keys(struct app *app)
{
	struct db_tx *tx = NULL;
	int r;

	if ((r = db_tx_begin(app->pool, &tx)) != 0)
		return r;
	if ((r = keystore_verify(tx, app->keyring)) != 0 ||
	    (r = keystore_sync(tx, app->keyring)) != 0) {
		db_tx_rollback(tx);
		return r;
	}
	return db_tx_commit(tx);
}

static void
server_usage(FILE *f)
{
	fprintf(f, "usage: vaultterm server [--dev] [--data-dir DIR]\n\n"
		   "Runs the VaultTerm API server.\n\n"
		   "  --dev            embedded mode: create (first run) and run a PostgreSQL cluster\n"
		   "                   in the data dir, generate dev keys into DIR/" DEV_SECRETS_FILE
		   " (0600)\n"
		   "  --data-dir DIR   data directory for --dev (default ./" DEV_DATA_DIR_DEFAULT ")\n"
		   "  -h, --help       this help\n\n"
		   "Without --dev, DATABASE_URL (app role) is required; set DATABASE_OWNER_URL to run\n"
		   "migrations at boot.\n\n");
	config_print_help(f);
}

static int
wait_for_signal(pid_t cluster_pid)
{
	sigset_t set;
	int sig, status;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("received %s: draining requests and shutting down",
			    sig == SIGINT ? "SIGINT" : "SIGTERM");
			return 0;
		}
		if (sig == SIGCHLD && cluster_pid > 0 &&
		    waitpid(cluster_pid, &status, WNOHANG) == cluster_pid) {
			log_fatal("the embedded PostgreSQL cluster exited unexpectedly; shutting down");
			return 1;
		}
	}
}

int
cmd_server_main(int argc, char **argv)
{
	struct app app;
	struct dev_secrets dev;
	struct pg_cluster *cluster = NULL;
	struct http_server *http = NULL;
	char merr[MIGRATE_ERR_MAX], cerr[CLUSTER_ERR_MAX];
	const char *data_dir = NULL, *app_conn, *owner_conn;
	struct db_pool *broker_pool = NULL;
	sigset_t set;
	int i, dev_mode = 0, port = 0, rc = 1, unclean = 0;

	memset(&app, 0, sizeof(app));
	memset(&dev, 0, sizeof(dev));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dev") == 0 || strcmp(argv[i], "-dev") == 0) {
			dev_mode = 1;
		} else if ((strcmp(argv[i], "--data-dir") == 0 || strcmp(argv[i], "-data-dir") == 0) &&
		    i + 1 < argc) {
			data_dir = argv[++i];
		} else if (strncmp(argv[i], "--data-dir=", 11) == 0) {
			data_dir = argv[i] + 11;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			server_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vaultterm server: unknown argument '%s'\n\n", argv[i]);
			server_usage(stderr);
			return 2;
		}
	}
	if (data_dir != NULL && !dev_mode) {
		fprintf(stderr, "vaultterm server: --data-dir needs --dev\n");
		return 2;
	}
	if (dev_mode && data_dir == NULL)
		data_dir = DEV_DATA_DIR_DEFAULT;

	hygiene();
	/* Signals go to sigwait() in this thread only; every thread created later inherits this. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (boot_load(&app, dev_mode, data_dir, &dev) != 0)
		goto out;
	if (password_init() != 0) {
		log_fatal("cannot initialize password hashing (argon2id needs 64 MiB)");
		goto out;
	}

	if (dev_mode) {
		struct cluster_passwords pw = { dev.values[2], dev.values[3], dev.values[4] };

		if (app.cfg.database_url != NULL)
			log_warn("--dev: ignoring DATABASE_URL; using the embedded cluster");
		if (cluster_start(data_dir, &pw, &cluster, cerr) != 0) {
			log_fatal("embedded PostgreSQL: %s", cerr);
			goto out;
		}
		app_conn = cluster_conninfo_app(cluster);
		owner_conn = cluster_conninfo_owner(cluster);
		if (migrate_run(owner_conn, CLUSTER_APP_ROLE, merr) != 0) {
			log_fatal("migrations: %s", merr);
			goto out;
		}
	} else {
		if (app.cfg.database_url == NULL) {
			log_fatal("refusing to start: DATABASE_URL is not set (or use --dev for the "
				  "embedded PostgreSQL)");
			goto out;
		}
		app_conn = app.cfg.database_url;
		owner_conn = app.cfg.database_owner_url;
		if (owner_conn != NULL && migrate_run(owner_conn, app.cfg.database_app_role, merr) != 0) {
			log_fatal("migrations: %s", merr);
			goto out;
		}
	}
	dev_secrets_free(&dev);
	if (migrate_check_app(app_conn, merr) != 0) {
		log_fatal("refusing to start: %s", merr);
		goto out;
	}
	if (db_pool_open(app_conn, app.cfg.db_pool_size, &app.pool) != 0) {
		log_fatal("cannot open the database pool");
		goto out;
	}
	if ((i = boot_keys(&app)) != 0) {
		if (i == VT_ERR_CRYPTO)
			log_fatal("refusing to start: the master key (DEV_MASTER_KEY) is not the one "
				  "this database was created with");
		else
			log_fatal("refusing to start: cannot read the keyring check from the "
				  "database");
		goto out;
	}
	if ((i = audit_keys_load(app.pool, app.keyring, app.cfg.audit_deployment_name,
	    &app.audit_keys)) != 0) {
		log_fatal("refusing to start: cannot load the audit signing key (%s)",
		    i == VT_ERR_CRYPTO ? "it does not open under this master key" : vt_err_str(i));
		goto out;
	}
	{
		struct sequencer_config sc;
		char *lsp = app.cfg.license_state_path != NULL ?
		    xstrdup(app.cfg.license_state_path) : dev_mode ?
		    xasprintf("%s/license-state", data_dir) : NULL;

		memset(&sc, 0, sizeof(sc));
		sc.enabled = app.cfg.audit_sequencer;
		sc.production = app.cfg.production;
		sc.checkpoint_interval_ms = app.cfg.audit_checkpoint_interval_ms;
		sc.checkpoint_rows = app.cfg.audit_checkpoint_rows;
		sc.verify_interval_ms = app.cfg.audit_verify_interval_ms;
		sc.witness_file = app.cfg.audit_witness_file;
		sc.license_state_path = lsp;
		if (sc.enabled && lsp == NULL) {
			log_fatal("refusing to start: LICENSE_STATE_PATH is required without --dev "
				  "(the audit chain's anti-rollback counter), or set "
				  "AUDIT_SEQUENCER=off on a server that must never sequence");
			goto out;
		}
		i = sequencer_start(app_conn, app.keyring, app.audit_keys, &sc, &app.sequencer);
		free(lsp);
		if (i != 0) {
			log_fatal("refusing to start: the audit sequencer cannot start (%s)",
			    vt_err_str(i));
			goto out;
		}
	}
	{
		char serr[SCAN_ERR_MAX];

		if (scan_db_open(&app.scan_db, serr) != 0) {
			log_fatal("refusing to start: the scanner rules do not compile: %s", serr);
			goto out;
		}
	}
	{
		struct vault_fpcache_config fc = { 0, 0, 1, NULL };

		if (vault_fpcache_new(&fc, &app.fpcache) != 0) {
			log_fatal("refusing to start: cannot start the fingerprint cache");
			goto out;
		}
	}
	if (app.cfg.ssh_broker_port >= 0) {
		/* Its own connections: 500 sessions starting at once must not starve the API. */
		struct broker_config bc = {
			.bind_address = app.cfg.ssh_broker_bind != NULL ? app.cfg.ssh_broker_bind :
			    app.cfg.bind_address,
			.port = app.cfg.ssh_broker_port,
			.max_sessions = app.cfg.ssh_broker_max_sessions,
			.public_host = app.cfg.ssh_broker_public_host,
			.idle_timeout_ms = app.cfg.ssh_broker_login_timeout_ms,
			.fpcache = app.fpcache,
		};
		char berr[BROKER_ERR_MAX];

		if (db_pool_open(app_conn, BROKER_DB_POOL_SIZE, &broker_pool) != 0) {
			log_fatal("refusing to start: the SSH broker cannot connect to the database");
			goto out;
		}
		if (broker_start(&bc, broker_pool, app.keyring, app.scan_db, &app.broker,
		    berr) != 0) {
			log_fatal("refusing to start: %s (SSH_BROKER_PORT=off disables the broker)",
			    berr);
			goto out;
		}
	}
	app.env.pool = app.pool;
	app.env.keyring = app.keyring;
	app.env.jwt_key = app.cfg.jwt_secret;
	app.env.jwt_ttl_ms = app.cfg.jwt_ttl_ms;
	app.env.rate_max = app.cfg.auth_rate_max;
	app.env.rate_window_ms = app.cfg.auth_rate_window_ms;
	app.env.base_url = app.cfg.app_base_url;
	{
		static struct http_hooks hooks = { api_authenticate, api_dispatch, NULL };

		hooks.app = &app;
		if (http_server_start(app.cfg.bind_address, app.cfg.port, app.cfg.http_threads,
		    API_ROUTES, API_ROUTES_COUNT, &hooks, &http, &port) != 0) {
			log_fatal("cannot start the HTTP server on %s:%d", app.cfg.bind_address,
			    app.cfg.port);
			goto out;
		}
	}
	if (app.cfg.app_base_url_default && port != app.cfg.port) {
		/* PORT=0: invite links must name the port actually bound. */
		free(app.cfg.app_base_url);
		app.cfg.app_base_url = xasprintf("http://localhost:%d", port);
		app.env.base_url = app.cfg.app_base_url;
	}
	log_info("VaultTerm %s listening on http://%s:%d%s", VT_VERSION, app.cfg.bind_address,
	    port, dev_mode ? " (development mode)" : "");
	printf("\nVaultTerm %s is running%s.\n\n"
	       "  API:        http://%s:%d   (health: curl http://%s:%d/health)\n",
	    VT_VERSION, dev_mode ? " in development mode" : "", app.cfg.bind_address, port,
	    app.cfg.bind_address, port);
	if (dev_mode)
		printf("  Data dir:   %s  (PostgreSQL cluster, dev secrets in %s)\n", data_dir,
		    DEV_SECRETS_FILE);
	printf("\n  Get started in another terminal:\n"
	       "    export VAULTTERM_ADDR=http://%s:%d\n"
	       "    vaultterm register --email you@example.com\n"
	       "    vaultterm whoami\n"
	       "    vaultterm token create --name ci --scope audit:read\n\n"
	       "  Stop with Ctrl-C.\n\n",
	    app.cfg.bind_address, port);
	fflush(stdout);

	unclean = wait_for_signal(cluster != NULL ? cluster_pid(cluster) : -1);
	http_server_quiesce(http);
	if (http_server_drain(http, app.cfg.shutdown_grace_ms) != 0)
		log_warn("shutdown grace period over with requests still in flight");
	rc = unclean;
 out:
	http_server_stop(http);
	broker_stop(app.broker);
	db_pool_close(broker_pool);
	vault_fpcache_free(app.fpcache); /* after the last request and session: wipes every set */
	scan_db_free(app.scan_db);
	sequencer_stop(app.sequencer);
	audit_keys_free(app.audit_keys);
	db_pool_close(app.pool);
	cluster_stop(cluster);
	keyring_free(app.keyring);
	config_free(&app.cfg);
	dev_secrets_free(&dev);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int
cmd_migrate_main(int argc, char **argv)
{
	char merr[MIGRATE_ERR_MAX];
	const char *owner = getenv("DATABASE_OWNER_URL");
	const char *role = getenv("DATABASE_APP_ROLE");

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: vaultterm migrate\n\n"
		       "Applies pending schema migrations as the owner role (DATABASE_OWNER_URL),\n"
		       "granting the app role (DATABASE_APP_ROLE, default vaultterm_app) its "
		       "privileges.\nSafe to run concurrently with starting servers (advisory lock).\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "vaultterm migrate: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	if (owner == NULL || owner[0] == '\0') {
		fprintf(stderr, "vaultterm migrate: DATABASE_OWNER_URL is not set\n");
		return 2;
	}
	if (migrate_run(owner, role != NULL && role[0] != '\0' ? role : "vaultterm_app", merr) != 0) {
		fprintf(stderr, "vaultterm migrate: %s\n", merr);
		return 1;
	}
	printf("schema is at version %d\n", migrate_latest_version());
	return 0;
}

static void
operator_usage(FILE *f)
{
	fprintf(f, "usage: vaultterm operator rotate-master [--dev] [--data-dir DIR] "
		   "[--settle-ms N]\n"
		   "       vaultterm operator ack-rollback [--dev] [--data-dir DIR] "
		   "[--note TEXT]\n\n"
		   "  rotate-master   add a master key version (stored only wrapped under the root\n"
		   "                  key) and re-wrap every data key under it: secret versions of\n"
		   "                  every org and users' TOTP seeds. No data is re-encrypted.\n"
		   "                  Audited as MASTER_KEY_ROTATED in each org's trail.\n\n"
		   "  ack-rollback    acknowledge an AUDIT_ROLLBACK_DETECTED halt (the database is\n"
		   "                  behind the license counter) after investigating it: the\n"
		   "                  sequencer re-anchors the counter on the database and a\n"
		   "                  production server serves again. Needs the master key;\n"
		   "                  audited as AUDIT_ROLLBACK_ACKNOWLEDGED with --note.\n\n"
		   "  --dev, --data-dir DIR   use the running embedded cluster of `vaultterm server "
		   "--dev`\n"
		   "                  (default ./" DEV_DATA_DIR_DEFAULT "); otherwise DATABASE_URL\n"
		   "  --settle-ms N   how long to wait for running servers to start wrapping new data\n"
		   "                  keys under the new version before re-wrapping (default %d)\n\n"
		   "It reads the same configuration as the server (DEV_MASTER_KEY, KEY_PROVIDER, ...).\n",
	    2 * KEYSTORE_SYNC_INTERVAL_MS + 1000);
}

int
cmd_operator_main(int argc, char **argv)
{
	struct app app;
	struct dev_secrets dev;
	struct rotate_report rep;
	char verr[VAULT_ERR_MAX];
	const char *data_dir = NULL;
	char *conn = NULL;
	uint64_t settle = 2 * KEYSTORE_SYNC_INTERVAL_MS + 1000;
	const char *note = NULL;
	int i, dev_mode = 0, rc = 1;

	memset(&app, 0, sizeof(app));
	memset(&dev, 0, sizeof(dev));
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		operator_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "rotate-master") != 0 && strcmp(argv[1], "ack-rollback") != 0) {
		fprintf(stderr, "vaultterm operator: unknown subcommand '%s'\n\n", argv[1]);
		operator_usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--dev") == 0 || strcmp(argv[i], "-dev") == 0) {
			dev_mode = 1;
		} else if ((strcmp(argv[i], "--data-dir") == 0 || strcmp(argv[i], "-data-dir") == 0) &&
		    i + 1 < argc) {
			data_dir = argv[++i];
			dev_mode = 1;
		} else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc) {
			note = argv[++i];
		} else if (strcmp(argv[i], "--settle-ms") == 0 && i + 1 < argc) {
			if (num_parse_u64(argv[++i], 0, 600000, &settle) != 0) {
				fprintf(stderr, "vaultterm operator: --settle-ms must be 0 to 600000\n");
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			operator_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "vaultterm operator: unknown argument '%s'\n\n", argv[i]);
			operator_usage(stderr);
			return 2;
		}
	}
	if (dev_mode && data_dir == NULL)
		data_dir = DEV_DATA_DIR_DEFAULT;
	hygiene();
	if (boot_load(&app, dev_mode, data_dir, &dev) != 0)
		goto out;
	if (dev_mode)
		conn = cluster_conninfo_for(data_dir, CLUSTER_APP_ROLE, dev.values[4]);
	else if (app.cfg.database_url != NULL)
		conn = xstrdup(app.cfg.database_url);
	dev_secrets_free(&dev);
	if (conn == NULL) {
		log_fatal("DATABASE_URL is not set (or use --dev with the embedded cluster)");
		goto out;
	}
	if (db_pool_open(conn, 2, &app.pool) != 0) {
		log_fatal(dev_mode ? "cannot reach the embedded cluster: is `vaultterm server --dev` "
				     "running on this data dir?" : "cannot connect with DATABASE_URL");
		goto out;
	}
	if ((i = boot_keys(&app)) != 0) {
		log_fatal(i == VT_ERR_CRYPTO ? "the master key is not the one this database was "
					       "created with; refusing to go on" :
					       "cannot read the keyring check from the database");
		goto out;
	}
	if (strcmp(argv[1], "ack-rollback") == 0) {
		char msg[SEQUENCER_REASON_MAX];

		i = sequencer_ack_rollback(app.pool, app.keyring, note, msg);
		if (i == VT_ERR_NOT_FOUND) {
			printf("%s; nothing to acknowledge\n", msg);
			rc = 0;
		} else if (i != 0) {
			log_fatal("ack-rollback: cannot record the acknowledgement (%s)",
			    vt_err_str(i));
		} else {
			printf("acknowledged: %s\nThe sequencer re-anchors the license counter within "
			       "a second; recorded as AUDIT_ROLLBACK_ACKNOWLEDGED.\n", msg);
			rc = 0;
		}
		goto out;
	}
	if (vault_rotate_master(app.pool, app.keyring, settle, &rep, verr) != 0) {
		log_fatal("rotate-master: %s", verr);
		goto out;
	}
	if ((i = broker_host_key_rewrap(app.pool, app.keyring)) != 0) {
		log_fatal("rotate-master: the SSH broker's host key was not re-wrapped (%s); run "
			  "the rotation again", vt_err_str(i));
		goto out;
	}
	printf("master key version %u is current; re-wrapped %llu secret versions in %llu "
	       "organizations, %llu recording chunks, %llu scanner keys and %llu TOTP seeds\n",
	    rep.new_version, (unsigned long long)rep.secret_versions, (unsigned long long)rep.orgs,
	    (unsigned long long)rep.recording_chunks, (unsigned long long)rep.scanner_keys,
	    (unsigned long long)rep.totp_seeds);
	rc = 0;
 out:
	vt_str_wipe_free(conn);
	db_pool_close(app.pool);
	keyring_free(app.keyring);
	config_free(&app.cfg);
	dev_secrets_free(&dev);
	return rc;
}
