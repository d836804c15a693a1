/*
 * Embedded PostgreSQL management. The postmaster runs as our direct child in its own process
 * group (so a terminal Ctrl-C reaches only us and we stop it after draining requests) with
 * PR_SET_PDEATHSIG, so it also stops if we die abruptly. We start `postgres` directly instead of
 * through `pg_ctl start` because pg_ctl daemonizes the postmaster, and then nothing ties its
 * lifetime to ours; initdb is used as is. Role passwords reach the server only as SCRAM verifiers
 * computed client-side (PQencryptPasswordConn), never as plaintext in SQL.
 */
#include "db/cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "base/err.h"
#include "base/log.h"
#include "base/vtime.h"

struct pg_cluster {
	char *data_dir;
	char *pgdata;
	char *sockdir;
	char *logfile;
	char *bindir;
	pid_t pid;
	int drop_privs;
	uid_t uid;
	gid_t gid;
	char *conn_app;
	char *conn_owner;
	char *conn_super;
};

#define CFAIL(...)                                                                                 \
	do {                                                                                       \
		snprintf(err, CLUSTER_ERR_MAX, __VA_ARGS__);                                       \
		r = VT_ERR_IO;                                                                     \
		goto out;                                                                          \
	} while (0)

/* Highest /usr/lib/postgresql/<ver>/bin with initdb, or PG_BINDIR, or the PATH. */
static char *
find_bindir(void)
{
	const char *env = getenv("PG_BINDIR");
	DIR *d;
	struct dirent *e;
	int best = -1;
	char *path = NULL;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if ((d = opendir("/usr/lib/postgresql")) != NULL) {
		while ((e = readdir(d)) != NULL) {
			char *cand;
			int v = 0;
			const char *p;

			for (p = e->d_name; *p >= '0' && *p <= '9' && v < 1000; p++)
				v = v * 10 + (*p - '0');
			if (*p != '\0' || p == e->d_name)
				continue;
			cand = xasprintf("/usr/lib/postgresql/%s/bin/initdb", e->d_name);
			if (access(cand, X_OK) == 0 && v > best) {
				best = v;
				free(path);
				path = xasprintf("/usr/lib/postgresql/%s/bin", e->d_name);
			}
			free(cand);
		}
		closedir(d);
	}
	return path;
}

/* Quotes a conninfo value: 'value' with \ and ' escaped. */
static char *
conn_quote(const char *v)
{
	size_t n = strlen(v), i, o = 0;
	char *q = xmalloc(2 * n + 3);

	q[o++] = '\'';
	for (i = 0; i < n; i++) {
		if (v[i] == '\\' || v[i] == '\'')
			q[o++] = '\\';
		q[o++] = v[i];
	}
	q[o++] = '\'';
	q[o] = '\0';
	return q;
}

static char *
make_conninfo(const char *sockdir, const char *db, const char *user, const char *pw)
{
	char *qs = conn_quote(sockdir), *qd = conn_quote(db), *qu = conn_quote(user);
	char *qp = conn_quote(pw);
	char *s = xasprintf("host=%s dbname=%s user=%s password=%s connect_timeout=10", qs, qd, qu,
	    qp);

	free(qs);
	free(qd);
	free(qu);
	vt_str_wipe_free(qp);
	return s;
}

/*
 * Forks a child that drops to the postgres user (when root), detaches into its own process group,
 * sends stdout/stderr to logfile, and execs argv. Returns the pid or -1.
 */
static pid_t
spawn(const struct pg_cluster *c, char *const argv[], int own_pgrp, int pdeath)
{
	pid_t pid;
	int fd;

	fd = open(c->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (c->drop_privs && fchown(fd, c->uid, c->gid) != 0) {
		close(fd);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (own_pgrp)
			setpgid(0, 0);
		if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		if (c->drop_privs) {
			if (setgroups(0, NULL) != 0 || setgid(c->gid) != 0 || setuid(c->uid) != 0) {
				dprintf(STDERR_FILENO, "vaultterm: cannot switch to user postgres\n");
				_exit(126);
			}
		}
		/* Set after the credential change: a uid change clears the parent-death signal. */
		if (pdeath && prctl(PR_SET_PDEATHSIG, SIGINT) != 0)
			_exit(126);
		if (pdeath && getppid() == 1)
			_exit(126);
		if (access(c->pgdata, R_OK | W_OK | X_OK) != 0) {
			dprintf(STDERR_FILENO,
			    "vaultterm: the cluster user cannot access %s (every parent directory "
			    "must be searchable by it)\n", c->pgdata);
			_exit(126);
		}
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "vaultterm: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	return pid;
}

static int
run_wait(const struct pg_cluster *c, char *const argv[])
{
	int status;
	pid_t pid = spawn(c, argv, 1, 1);

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Whether the cluster's OS user can reach (search, read, write) the directory. */
static int
cluster_user_can_reach(const struct pg_cluster *c, const char *dir)
{
	pid_t pid;
	int status;

	if (!c->drop_privs)
		return 1;
	if ((pid = fork()) < 0)
		return 0;
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(c->gid) != 0 || setuid(c->uid) != 0)
			_exit(2);
		_exit(access(dir, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 0;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int
file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static int
cluster_initdb(struct pg_cluster *c, const char *superpw, char err[static CLUSTER_ERR_MAX])
{
	char *initdb = xasprintf("%s/initdb", c->bindir);
	char *pwfile = xasprintf("%s/.initdb-pw", c->data_dir);
	char *pwarg = xasprintf("--pwfile=%s", pwfile);
	char *argv[] = { initdb, (char *)"-D", c->pgdata, (char *)"-U", (char *)CLUSTER_SUPERUSER,
		(char *)"--auth=scram-sha-256", (char *)"--encoding=UTF8", (char *)"--locale=C",
		pwarg, (char *)"--no-instructions", NULL };
	int fd = -1, r = VT_ERR_IO, rc;
	size_t n = strlen(superpw);

	log_info("creating PostgreSQL cluster in %s", c->pgdata);
	fd = open(pwfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, superpw, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    (c->drop_privs && fchown(fd, c->uid, c->gid) != 0))
		CFAIL("cannot write %s: %s", pwfile, strerror(errno));
	close(fd);
	fd = -1;
	rc = run_wait(c, argv);
	if (rc != 0)
		CFAIL("initdb failed (exit %d); see %s", rc, c->logfile);
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	unlink(pwfile);
	free(initdb);
	free(pwfile);
	free(pwarg);
	return r;
}

static int
cluster_spawn_postmaster(struct pg_cluster *c, char err[static CLUSTER_ERR_MAX])
{
	char *postgres = xasprintf("%s/postgres", c->bindir);
	char *sockarg = xasprintf("unix_socket_directories=%s", c->sockdir);
	char *argv[] = { postgres, (char *)"-D", c->pgdata, (char *)"-c", (char *)"listen_addresses=",
		(char *)"-c", sockarg, (char *)"-c", (char *)"unix_socket_permissions=0700",
		(char *)"-c", (char *)"logging_collector=off", (char *)"-c",
		(char *)"log_min_messages=warning", NULL };
	int r = 0;

	c->pid = spawn(c, argv, 1, 1);
	if (c->pid < 0) {
		snprintf(err, CLUSTER_ERR_MAX, "cannot start postgres: %s", strerror(errno));
		r = VT_ERR_IO;
	}
	free(postgres);
	free(sockarg);
	return r;
}

static int
cluster_wait_ready(struct pg_cluster *c, char err[static CLUSTER_ERR_MAX])
{
	char *qs = conn_quote(c->sockdir);
	char *ping = xasprintf("host=%s dbname=postgres user=" CLUSTER_SUPERUSER
			       " connect_timeout=2", qs);
	uint64_t start = vtime_mono_ms();
	int r = VT_ERR_UNAVAILABLE, status;

	free(qs);
	while (vtime_mono_ms() - start < CLUSTER_START_TIMEOUT_MS) {
		if (PQping(ping) == PQPING_OK) {
			r = 0;
			break;
		}
		if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
			c->pid = -1;
			snprintf(err, CLUSTER_ERR_MAX,
			    "postgres exited during start-up; see %s", c->logfile);
			goto out;
		}
		usleep(50 * 1000);
	}
	if (r != 0)
		snprintf(err, CLUSTER_ERR_MAX, "postgres did not become ready within %d s; see %s",
		    CLUSTER_START_TIMEOUT_MS / 1000, c->logfile);
 out:
	free(ping);
	return r;
}

static int
sql_ok(PGconn *pg, const char *sql, char err[static CLUSTER_ERR_MAX])
{
	PGresult *res = PQexec(pg, sql);
	int st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(err, CLUSTER_ERR_MAX, "cluster bootstrap failed: %s",
		    m != NULL ? m : PQerrorMessage(pg));
		PQclear(res);
		return VT_ERR_DB;
	}
	PQclear(res);
	return 0;
}

/* CREATE ROLE if missing, then set its attributes and SCRAM verifier. */
static int
ensure_role(PGconn *pg, const char *role, const char *pw, char err[static CLUSTER_ERR_MAX])
{
	char *verifier = PQencryptPasswordConn(pg, pw, role, "scram-sha-256");
	char *lit = NULL, *sql = NULL;
	int r = VT_ERR_DB;

	if (verifier == NULL) {
		snprintf(err, CLUSTER_ERR_MAX, "cannot compute a SCRAM verifier: %s",
		    PQerrorMessage(pg));
		return VT_ERR_DB;
	}
	lit = PQescapeLiteral(pg, verifier, strlen(verifier));
	if (lit == NULL)
		goto out;
	sql = xasprintf("DO $$ BEGIN "
			"IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s') THEN "
			"CREATE ROLE %s; END IF; END $$; "
			"ALTER ROLE %s LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS "
			"NOREPLICATION PASSWORD %s",
	    role, role, role, lit);
	r = sql_ok(pg, sql, err);
 out:
	if (lit != NULL)
		PQfreemem(lit);
	free(sql);
	PQfreemem(verifier);
	return r;
}

static int
cluster_bootstrap(struct pg_cluster *c, const struct cluster_passwords *pw,
    char err[static CLUSTER_ERR_MAX])
{
	PGconn *pg = NULL;
	PGresult *res = NULL;
	char *conn_pg = make_conninfo(c->sockdir, "postgres", CLUSTER_SUPERUSER, pw->superuser);
	int r = VT_ERR_DB;

	pg = PQconnectdb(conn_pg);
	if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, CLUSTER_ERR_MAX,
		    "cannot connect to the embedded cluster as %s (was the data dir created with a "
		    "different secrets file?): %s", CLUSTER_SUPERUSER,
		    pg != NULL ? PQerrorMessage(pg) : "out of memory");
		goto out;
	}
	if ((r = sql_ok(pg, "SET client_min_messages = warning", err)) != 0)
		goto out;
	if ((r = ensure_role(pg, CLUSTER_OWNER_ROLE, pw->owner, err)) != 0 ||
	    (r = ensure_role(pg, CLUSTER_APP_ROLE, pw->app, err)) != 0)
		goto out;
	res = PQexec(pg, "SELECT 1 FROM pg_database WHERE datname = '" CLUSTER_DB_NAME "'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, CLUSTER_ERR_MAX, "cluster bootstrap failed: %s", PQerrorMessage(pg));
		r = VT_ERR_DB;
		goto out;
	}
	if (PQntuples(res) == 0 &&
	    (r = sql_ok(pg, "CREATE DATABASE " CLUSTER_DB_NAME " OWNER " CLUSTER_OWNER_ROLE
			    " ENCODING 'UTF8' TEMPLATE template0", err)) != 0)
		goto out;
	if ((r = sql_ok(pg, "REVOKE ALL ON DATABASE " CLUSTER_DB_NAME " FROM PUBLIC; "
			    "GRANT CONNECT ON DATABASE " CLUSTER_DB_NAME " TO " CLUSTER_OWNER_ROLE
			    ", " CLUSTER_APP_ROLE, err)) != 0)
		goto out;
	r = 0;
 out:
	PQclear(res);
	if (pg != NULL)
		PQfinish(pg);
	vt_str_wipe_free(conn_pg);
	return r;
}

static int
ensure_dir(const char *path, mode_t mode, const struct pg_cluster *c, int chown_pg)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST)
		return -1;
	if (chmod(path, mode) != 0)
		return -1;
	if (chown_pg && c->drop_privs && chown(path, c->uid, c->gid) != 0)
		return -1;
	return 0;
}

int
cluster_start(const char *data_dir, const struct cluster_passwords *pw, struct pg_cluster **out,
    char err[static CLUSTER_ERR_MAX])
{
	struct pg_cluster *c = xcalloc(1, sizeof(*c));
	struct sockaddr_un sun;
	int r = VT_ERR_IO;
	char *pgversion = NULL;

	*out = NULL;
	err[0] = '\0';
	c->pid = -1;
	c->data_dir = xstrdup(data_dir);
	c->pgdata = xasprintf("%s/pg", data_dir);
	c->sockdir = xasprintf("%s/run", data_dir);
	c->logfile = xasprintf("%s/postgres.log", data_dir);
	if ((c->bindir = find_bindir()) == NULL)
		CFAIL("PostgreSQL server binaries not found (install the postgresql package, or "
		      "set PG_BINDIR)");
	if (strlen(c->sockdir) + sizeof("/.s.PGSQL.5432") > sizeof(sun.sun_path))
		CFAIL("data dir path is too long for a Unix socket (%zu bytes max): %s",
		    sizeof(sun.sun_path) - sizeof("/run/.s.PGSQL.5432"), data_dir);
	if (geteuid() == 0) {
		struct passwd *p = getpwnam("postgres");

		if (p == NULL)
			CFAIL("running as root, but there is no `postgres` OS user to run the "
			      "cluster as (install the postgresql package)");
		c->drop_privs = 1;
		c->uid = p->pw_uid;
		c->gid = p->pw_gid;
	}
	/* The data dir holds our 0600 secrets; when root, postgres only needs to traverse it. */
	if (ensure_dir(data_dir, c->drop_privs ? 0711 : 0700, c, 0) != 0)
		CFAIL("cannot create %s: %s", data_dir, strerror(errno));
	if (ensure_dir(c->sockdir, 0700, c, 1) != 0)
		CFAIL("cannot create %s: %s", c->sockdir, strerror(errno));
	if (ensure_dir(c->pgdata, 0700, c, 1) != 0)
		CFAIL("cannot create %s: %s", c->pgdata, strerror(errno));
	if (!cluster_user_can_reach(c, c->pgdata))
		CFAIL("the `postgres` OS user cannot reach %s: every parent directory must be "
		      "searchable by it (use a data dir outside /root, e.g. --data-dir "
		      "/var/lib/vaultterm-dev)", c->pgdata);
	pgversion = xasprintf("%s/PG_VERSION", c->pgdata);
	if (!file_exists(pgversion)) {
		if ((r = cluster_initdb(c, pw->superuser, err)) != 0)
			goto out;
	}
	if ((r = cluster_spawn_postmaster(c, err)) != 0)
		goto out;
	if ((r = cluster_wait_ready(c, err)) != 0)
		goto out;
	if ((r = cluster_bootstrap(c, pw, err)) != 0)
		goto out;
	c->conn_app = make_conninfo(c->sockdir, CLUSTER_DB_NAME, CLUSTER_APP_ROLE, pw->app);
	c->conn_owner = make_conninfo(c->sockdir, CLUSTER_DB_NAME, CLUSTER_OWNER_ROLE, pw->owner);
	log_info("PostgreSQL cluster ready (pid %d, socket %s)", (int)c->pid, c->sockdir);
	*out = c;
	c = NULL;
	r = 0;
 out:
	free(pgversion);
	cluster_stop(c);
	return r;
}

char *
cluster_conninfo_for(const char *data_dir, const char *role, const char *password)
{
	char *sock = xasprintf("%s/run", data_dir);
	char *s = make_conninfo(sock, CLUSTER_DB_NAME, role, password);

	free(sock);
	return s;
}

const char *
cluster_conninfo_app(const struct pg_cluster *c)
{
	return c->conn_app;
}

const char *
cluster_conninfo_owner(const struct pg_cluster *c)
{
	return c->conn_owner;
}

pid_t
cluster_pid(const struct pg_cluster *c)
{
	return c->pid;
}

static int
wait_exit(pid_t pid, uint64_t timeout_ms)
{
	uint64_t start = vtime_mono_ms();
	int status;

	while (vtime_mono_ms() - start < timeout_ms) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno == ECHILD))
			return 0;
		usleep(20 * 1000);
	}
	return -1;
}

void
cluster_stop(struct pg_cluster *c)
{
	if (c == NULL)
		return;
	if (c->pid > 0) {
		kill(c->pid, SIGINT); /* fast shutdown: abort transactions, checkpoint, exit */
		if (wait_exit(c->pid, CLUSTER_STOP_TIMEOUT_MS) != 0) {
			log_warn("postgres did not stop in time; sending SIGQUIT");
			kill(c->pid, SIGQUIT);
			(void)wait_exit(c->pid, 5000);
		} else {
			log_info("PostgreSQL cluster stopped");
		}
	}
	free(c->data_dir);
	free(c->pgdata);
	free(c->sockdir);
	free(c->logfile);
	free(c->bindir);
	vt_str_wipe_free(c->conn_app);
	vt_str_wipe_free(c->conn_owner);
	vt_str_wipe_free(c->conn_super);
	free(c);
}
