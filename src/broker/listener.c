/*
 * The broker's listener: binds SSH_BROKER_PORT with the deployment's host key and modern
 * algorithms only, accepts on one thread, and gives every connection its own detached thread
 * (small stack) for its whole life. Past SSH_BROKER_MAX_SESSIONS a connection is closed at once.
 */
#include "broker/broker_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/num.h"
#include "base/secmem.h"
#include "base/util.h"
#include "base/vtime.h"

struct conn {
	struct broker *b;
	ssh_session ss;
	char addr[INET6_ADDRSTRLEN + 8];
};

static void *
conn_main(void *arg)
{
	struct conn *c = arg;
	struct broker *b = c->b;

	broker_session_run(b, c->ss, c->addr);
	free(c);
	pthread_mutex_lock(&b->mu);
	b->sessions--;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* The peer address of an accepted session, as text. */
static void
peer_addr(ssh_session ss, char *out, size_t outsz)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd = ssh_get_fd(ss);

	snprintf(out, outsz, "unknown");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
		return;
	if (sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, out, (socklen_t)outsz);
	else if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, out, (socklen_t)outsz);
}

static void
accept_one(struct broker *b)
{
	pthread_attr_t attr;
	pthread_t t;
	struct conn *c;
	ssh_session ss = ssh_new();
	int busy, one = 1;

	if (ss == NULL)
		return;
	if (ssh_bind_accept(b->bind, ss) != SSH_OK) {
		log_warn("ssh broker: accept failed: %s", ssh_get_error(b->bind));
		ssh_free(ss);
		return;
	}
	/*
	 * No Nagle: a login is a dozen small packets, each answered before the next is sent, and
	 * Nagle holding one until the peer's delayed ACK cost 40 ms per exchange (about 90 ms of a
	 * login here). OpenSSH does the same. Should it fail, logins are only slower.
	 */
	(void)setsockopt(ssh_get_fd(ss), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_mutex_lock(&b->mu);
	busy = b->sessions >= b->max_sessions;
	if (!busy)
		b->sessions++;
	pthread_mutex_unlock(&b->mu);
	if (busy) {
		log_warn("ssh broker: %d sessions already (SSH_BROKER_MAX_SESSIONS): connection "
			 "refused", b->max_sessions);
		ssh_disconnect(ss);
		ssh_free(ss);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->b = b;
	c->ss = ss;
	peer_addr(ss, c->addr, sizeof(c->addr));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, BROKER_STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		log_error("ssh broker: cannot start a session thread");
		ssh_disconnect(ss);
		ssh_free(ss);
		free(c);
		pthread_mutex_lock(&b->mu);
		b->sessions--;
		pthread_cond_broadcast(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
	pthread_attr_destroy(&attr);
}

/* Closes sessions a crashed server left open (their heartbeat stopped). */
static void
sweep(struct broker *b)
{
	struct db_tx *tx = NULL;
	struct db_params prm;
	struct db_res *res = NULL;
	int64_t n = 0;
	int r;

	db_params_init(&prm);
	db_param_int(&prm, BROKER_STALE_S);
	if ((r = db_tx_begin(b->pool, &tx)) == 0 &&
	    (r = db_query(tx, "SELECT vt_terminal_sessions_sweep($1)", &prm, &res)) == 0 &&
	    (r = db_res_int(res, 0, 0, &n)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	db_params_free(&prm);
	db_res_free(res);
	if (r != 0)
		log_warn("ssh broker: cannot close sessions left open by a stopped server (%s)",
		    vt_err_str(r));
	else if (n > 0)
		log_info("ssh broker: closed %lld session(s) left open by a stopped server as "
			 "interrupted", (long long)n);
}

static void *
acceptor_main(void *arg)
{
	struct broker *b = arg;
	struct pollfd pf[2];
	uint64_t next_sweep = 0;
	int n;

	pf[0].fd = ssh_bind_get_fd(b->bind);
	pf[0].events = POLLIN;
	pf[1].fd = b->wake[0];
	pf[1].events = POLLIN;
	while (!atomic_load(&b->stopping)) {
		if (vtime_mono_ms() >= next_sweep) {
			sweep(b);
			next_sweep = vtime_mono_ms() + BROKER_SWEEP_MS;
		}
		pf[0].revents = pf[1].revents = 0;
		if ((n = poll(pf, 2, BROKER_SWEEP_MS)) < 0) {
			if (errno == EINTR)
				continue;
			log_error("ssh broker: poll: %s", strerror(errno));
			break;
		}
		if (n == 0)
			continue;
		if (pf[1].revents != 0)
			break;
		if (pf[0].revents & POLLIN)
			accept_one(b);
	}
	return NULL;
}

static int
bind_set(struct broker *b, enum ssh_bind_options_e opt, const void *v, const char *what,
    char err[static BROKER_ERR_MAX])
{
	if (ssh_bind_options_set(b->bind, opt, v) == SSH_OK)
		return 0;
	snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot set %s: %s", what,
	    ssh_get_error(b->bind));
	return VT_ERR_CONFIG;
}

/* The port the kernel gave the listening socket. */
static int
bound_port(ssh_bind bind)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd = ssh_bind_get_fd(bind);

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	if (sa.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&sa)->sin_port);
	if (sa.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
	return -1;
}

int
broker_start(const struct broker_config *cfg, struct db_pool *pool, struct keyring *kr,
    const struct scan_db *scan, struct broker **out, char err[static BROKER_ERR_MAX])
{
	struct broker *b;
	struct secmem *priv = NULL;
	ssh_key key = NULL;
	char *pem = NULL;
	bool no = false;
	int port, r;

	*out = NULL;
	err[0] = '\0';
	if (ssh_init() != SSH_OK) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: libssh does not initialize");
		return VT_ERR_INTERNAL;
	}
	b = xcalloc(1, sizeof(*b));
	b->pool = pool;
	b->kr = kr;
	b->scan = scan;
	b->fpcache = cfg->fpcache;
	b->wake[0] = b->wake[1] = -1;
	b->bind_address = xstrdup(cfg->bind_address != NULL ? cfg->bind_address : "127.0.0.1");
	b->public_host = xstrdup(cfg->public_host != NULL ? cfg->public_host : b->bind_address);
	b->max_sessions = cfg->max_sessions > 0 ? cfg->max_sessions : 1000;
	b->login_timeout_ms = cfg->idle_timeout_ms > 0 ? cfg->idle_timeout_ms : 30000;
	atomic_init(&b->stopping, 0);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	/* A test knob (docs/operations.md), read once here: every session uses b->fp_refresh_ms. */
	b->fp_refresh_ms = BROKER_FP_REFRESH_MS;
	if (getenv(BROKER_FP_REFRESH_ENV) != NULL && num_parse_u64(getenv(BROKER_FP_REFRESH_ENV),
	    100, 86400000, &b->fp_refresh_ms) != 0) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: %s: must be milliseconds between 100 and "
					      "86400000", BROKER_FP_REFRESH_ENV);
		r = VT_ERR_CONFIG;
		goto fail;
	}

	if ((r = broker_host_key_load(pool, kr, &priv, &b->host_public_line, err)) != 0)
		goto fail;
	/* libssh wants the key text NUL-terminated: a wiped heap copy for the import only. */
	pem = xmalloc(secmem_len(priv) + 1);
	memcpy(pem, secmem_ptr(priv), secmem_len(priv));
	pem[secmem_len(priv)] = '\0';
	r = ssh_pki_import_privkey_base64(pem, NULL, NULL, NULL, &key);
	sodium_memzero(pem, secmem_len(priv));
	free(pem);
	secmem_free(priv);
	priv = NULL;
	if (r != SSH_OK) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: the host key does not import");
		r = VT_ERR_CRYPTO;
		goto fail;
	}
	if ((b->bind = ssh_bind_new()) == NULL) {
		ssh_key_free(key);
		r = VT_ERR_NOMEM;
		goto fail;
	}
	port = cfg->port;
	/* Never read /etc/ssh/libssh_server_config: the algorithms are ours, not the host's. */
	if ((r = bind_set(b, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no, "config processing", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_BINDADDR, b->bind_address, "the bind address",
	    err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_BINDPORT, &port, "the port", err)) != 0) {
		ssh_key_free(key);
		goto fail;
	}
	if (ssh_bind_options_set(b->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
		ssh_key_free(key);
		snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot use the host key");
		r = VT_ERR_CRYPTO;
		goto fail;
	}
	key = NULL; /* the bind owns it now */
	if ((r = bind_set(b, SSH_BIND_OPTIONS_KEY_EXCHANGE, BROKER_KEX, "key exchanges", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_CIPHERS_C_S, BROKER_CIPHERS, "ciphers", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_CIPHERS_S_C, BROKER_CIPHERS, "ciphers", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_HMAC_C_S, BROKER_MACS, "MACs", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_HMAC_S_C, BROKER_MACS, "MACs", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, BROKER_HOSTKEYS,
	    "host key algorithms", err)) != 0 ||
	    (r = bind_set(b, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, BROKER_PUBKEY_TYPES,
	    "accepted key types", err)) != 0)
		goto fail;
	if (ssh_bind_listen(b->bind) != SSH_OK) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot listen on %s:%d: %s",
		    b->bind_address, cfg->port, ssh_get_error(b->bind));
		r = VT_ERR_CONFIG;
		goto fail;
	}
	if ((b->port = bound_port(b->bind)) <= 0) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot read the bound port");
		r = VT_ERR_INTERNAL;
		goto fail;
	}
	if (pipe2(b->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: pipe: %s", strerror(errno));
		r = VT_ERR_IO;
		goto fail;
	}
	if (pthread_create(&b->acceptor, NULL, acceptor_main, b) != 0) {
		snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot start the acceptor thread");
		r = VT_ERR_INTERNAL;
		goto fail;
	}
	b->acceptor_started = 1;
	log_info("ssh broker listening on %s:%d (host key %s)", b->bind_address, b->port,
	    b->host_public_line);
	*out = b;
	return 0;
 fail:
	if (err[0] == '\0')
		snprintf(err, BROKER_ERR_MAX, "ssh broker: cannot start");
	broker_stop(b);
	return r != 0 ? r : VT_ERR_INTERNAL;
}

int
broker_port(const struct broker *b)
{
	return b->port;
}

const char *
broker_public_host(const struct broker *b)
{
	return b->public_host;
}

const char *
broker_host_public_key(const struct broker *b)
{
	return b->host_public_line;
}

void
broker_stop(struct broker *b)
{
	char one = 1;

	if (b == NULL)
		return;
	atomic_store(&b->stopping, 1);
	if (b->acceptor_started) {
		if (write(b->wake[1], &one, 1) < 0)
			log_warn("ssh broker: cannot wake the acceptor");
		pthread_join(b->acceptor, NULL);
	}
	/* Sessions see `stopping` within BROKER_POLL_MS and end themselves (recorded, audited). */
	pthread_mutex_lock(&b->mu);
	while (b->sessions > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
	if (b->bind != NULL)
		ssh_bind_free(b->bind);
	if (b->wake[0] >= 0)
		close(b->wake[0]);
	if (b->wake[1] >= 0)
		close(b->wake[1]);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->bind_address);
	free(b->public_host);
	free(b->host_public_line);
	free(b);
}
