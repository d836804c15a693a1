/*
 * The embedded PostgreSQL cluster of `vaultterm server --dev`: created with initdb on first run in
 * <data-dir>/pg, started as a child process (as the `postgres` OS user when we run as root), Unix
 * socket only (listen_addresses empty, socket directory <data-dir>/run with mode 0700), SCRAM
 * passwords for every role. The cluster bootstraps the owner and app roles and the database, and
 * stops with the server. See docs/operations.md.
 */
#ifndef VT_DB_CLUSTER_H
#define VT_DB_CLUSTER_H

#include <sys/types.h>

#include "base/util.h"

#define CLUSTER_ERR_MAX 512
#define CLUSTER_START_TIMEOUT_MS 60000
#define CLUSTER_STOP_TIMEOUT_MS 30000
#define CLUSTER_DB_NAME "vaultterm"
#define CLUSTER_SUPERUSER "postgres"
#define CLUSTER_OWNER_ROLE "vaultterm_owner"
#define CLUSTER_APP_ROLE "vaultterm_app"

struct pg_cluster;

/* Role passwords (borrowed for the duration of cluster_start). */
struct cluster_passwords {
	const char *superuser;
	const char *owner;
	const char *app;
};

/*
 * Creates the cluster if <data_dir>/pg does not exist yet, starts it, and makes sure the roles
 * and database exist with the given passwords. 0, or an error with one line in err.
 */
int cluster_start(const char *data_dir, const struct cluster_passwords *pw, struct pg_cluster **out,
    char err[static CLUSTER_ERR_MAX]) VT_WUR;

/* libpq conninfo strings for each role (owned by the cluster; contain the passwords). */
const char *cluster_conninfo_app(const struct pg_cluster *c);
const char *cluster_conninfo_owner(const struct pg_cluster *c);
/*
 * conninfo for a role of a running embedded cluster in data_dir (for operator commands that run
 * beside the server). Caller wipes and frees.
 */
char *cluster_conninfo_for(const char *data_dir, const char *role, const char *password);
/* PID of the postmaster (a child of this process). */
pid_t cluster_pid(const struct pg_cluster *c);

/* Fast shutdown (SIGINT), waits, then immediate (SIGQUIT) if needed; frees. NULL-safe. */
void cluster_stop(struct pg_cluster *c);

#endif
