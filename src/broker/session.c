/*
 * One brokered connection, on its own thread, from key exchange to teardown:
 *
 *  1. login: a registered public key (any of the (org, user) pairs it belongs to) or a one-time
 *     ticket given as the password; the SSH user name is the profile's name;
 *  2. one session channel: an optional PTY, then a shell or one command (subsystems, port
 *     forwarding and agent forwarding are refused);
 *  3. the profile is resolved in the login's org and the principal's access to its credential
 *     checked (refusals: one line on stderr, audited, the same words whether or not the profile
 *     exists); the terminal session row and SESSION_STARTED are committed;
 *  4. upstream: connect, check the pinned host key (trust on first use, audited; a mismatch is
 *     refused and audited as critical), open the credential (CREDENTIAL_INJECTED committed
 *     first), authenticate, wipe it;
 *  5. relay both ways without blocking on either side (a side's window is honoured, so a slow
 *     reader slows its writer instead of filling memory), every output byte through the
 *     recorder (scanning always, recording when the org records);
 *  6. teardown: exit status to the client, session row and SESSION_ENDED (and COMMAND_EXECUTED).
 */
#include "broker/broker_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/callbacks.h>
#include <sodium.h>

#include "auth/auth.h"
#include "base/encode.h"
#include "base/err.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "base/vtime.h"
#include "broker/recorder.h"
#include "vault/fpcache.h"
#include "vault/vault.h"

enum req_kind {
	REQ_NONE,
	REQ_SHELL,
	REQ_EXEC,
};

struct bsession {
	struct broker *b;
	ssh_session ss;
	ssh_event ev;
	char client_addr[64];
	uint64_t t0_ms;

	/* login (libssh keeps a pointer to scb for the whole session) */
	struct ssh_server_callbacks_struct scb;
	char user[SSH_PROFILE_NAME_MAX + 1];
	struct ssh_login cand[SSH_LOGIN_CANDIDATES_MAX];
	int ncand;
	int authed;
	int auth_attempts;
	const char *auth_fail_reason;

	/* the client's channel */
	ssh_channel ch;
	struct ssh_channel_callbacks_struct ccb;
	int pty;
	char term[64];
	int cols, rows;
	enum req_kind req;
	char *command;
	int refused_subsystem;
	const char *refused_forward; /* the first forwarding request refused, or NULL */
	int told_forward;
	int resize_pending;
	char *signal_pending;

	/* upstream */
	ssh_session up;
	ssh_channel upch;
	struct ssh_channel_callbacks_struct ucb;
	int exit_status;
	int have_exit_status;
	char *exit_signal;
	int up_eof_sent;     /* we sent EOF upstream (the client's EOF) */
	int client_eof_sent; /* we sent EOF to the client (upstream's EOF) */

	/* the session */
	struct ssh_login login;
	struct principal p;
	struct audit_actor who;
	struct ssh_profile prof;
	int have_prof;
	struct vt_uuid sid;
	char sid_s[UUID_STR_LEN + 1];
	int have_row;
	struct vault_fpref *fpref; /* the org's shared fingerprint set the scan reads */
	struct vault_fpref *fpnext; /* a newer one handed to the recorder, not taken yet */
	struct recorder *rec;
	int64_t start_us;
	uint64_t bytes_in, bytes_out;
	uint32_t exposures;
	int failed;          /* fail closed: an exposure or row could not be written */
	const char *end_reason;
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int
stopping(const struct bsession *s)
{
	return atomic_load(&s->b->stopping);
}

/* One line to the client's stderr (and its terminal), then the channel is closed by the caller. */
static void
tell(struct bsession *s, const char *msg)
{
	char line[BROKER_ERR_MAX + 32];
	int n;

	if (s->ch == NULL || !ssh_channel_is_open(s->ch))
		return;
	n = snprintf(line, sizeof(line), "vaultterm: %s\r\n", msg);
	if (n > 0)
		(void)ssh_channel_write_stderr(s->ch, line, (uint32_t)strnlen(line, sizeof(line)));
}

/* Ends the client's channel with exit status `status`. */
static void
client_finish(struct bsession *s, int status)
{
	if (s->ch == NULL || !ssh_channel_is_open(s->ch))
		return;
	uint64_t until = vtime_mono_ms() + 2000;

	(void)ssh_channel_request_send_exit_status(s->ch, status);
	(void)ssh_channel_send_eof(s->ch);
	(void)ssh_channel_close(s->ch);
	(void)ssh_blocking_flush(s->ss, 2000);
	/* Let the client close its side and leave first: a disconnect from us now would read as
	 * "Connection closed by remote host" after a perfectly good command. */
	while (s->ev != NULL && !(ssh_get_status(s->ss) & (SSH_CLOSED | SSH_CLOSED_ERROR)) &&
	    vtime_mono_ms() < until) {
		if (ssh_event_dopoll(s->ev, 100) == SSH_ERROR)
			break;
	}
}

/* audit_record() that takes ownership of detail (audit_record only borrows it). */
static int
audit_take(struct db_tx *tx, const struct audit_actor *who, const char *action,
    const char *rtype, const char *rid, enum audit_outcome outcome, json_t *detail)
{
	int r = audit_record(tx, who, action, rtype, rid, outcome, detail);

	json_decref(detail);
	return r;
}

/* An audit row in the session's org, in its own transaction. 0 when committed. */
static int
audit_now(struct bsession *s, const char *action, const char *rtype, const char *rid,
    enum audit_outcome outcome, json_t *detail)
{
	struct db_tx *tx = NULL;
	int r;

	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0 &&
	    (r = audit_record(tx, &s->who, action, rtype, rid, outcome, detail)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	json_decref(detail);
	if (r != 0)
		log_error("ssh broker: cannot write the %s audit row (%s)", action, vt_err_str(r));
	return r;
}

/* A refusal the user sees as one line, audited as SESSION_DENIED in the login's org. */
static void
deny(struct bsession *s, const char *reason, const char *msg)
{
	(void)audit_now(s, "SESSION_DENIED", "ssh_profile", NULL, AUDIT_DENIED,
	    json_packx("{s:s, s:s, s:s}", "profile", s->user, "reason", reason, "client_addr",
		s->client_addr));
	tell(s, msg);
	client_finish(s, 1);
	s->end_reason = "denied";
}

/* ---- login ------------------------------------------------------------------------------ */

static int
user_ok(const char *user)
{
	size_t n = strlen(user);

	return n > 0 && n <= SSH_PROFILE_NAME_MAX;
}

static int
auth_pubkey(ssh_session ss, const char *user, struct ssh_key_struct *pubkey,
    char signature_state, void *ud)
{
	struct bsession *s = ud;
	struct ssh_login cand[SSH_LOGIN_CANDIDATES_MAX];
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	struct db_tx *tx = NULL;
	int n = 0, r;

	(void)ss;
	s->auth_attempts++;
	if (!user_ok(user) || (signature_state != SSH_PUBLICKEY_STATE_NONE &&
	    signature_state != SSH_PUBLICKEY_STATE_VALID)) {
		s->auth_fail_reason = "bad_request";
		return SSH_AUTH_DENIED;
	}
	if (ssh_get_publickey_hash(pubkey, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0 ||
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) == NULL) {
		ssh_clean_pubkey_hash(&hash);
		return SSH_AUTH_DENIED;
	}
	ssh_clean_pubkey_hash(&hash);
	if ((r = db_tx_begin(s->b->pool, &tx)) == 0 &&
	    (r = ssh_login_by_key(tx, fp, cand, &n)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	ssh_string_free_char(fp);
	if (r != 0 || n <= 0) {
		s->auth_fail_reason = r != 0 ? "unavailable" : "unknown_key";
		return SSH_AUTH_DENIED;
	}
	if (signature_state == SSH_PUBLICKEY_STATE_NONE)
		return SSH_AUTH_SUCCESS; /* the key is acceptable: the client signs next */
	memcpy(s->cand, cand, sizeof(cand));
	s->ncand = n;
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->authed = 1;
	return SSH_AUTH_SUCCESS;
}

static int
auth_password(ssh_session ss, const char *user, const char *password, void *ud)
{
	struct bsession *s = ud;
	struct db_tx *tx = NULL;
	struct ssh_login login;
	size_t plen = strnlen(password, SSH_TICKET_MAX + 1);
	int r;

	(void)ss;
	s->auth_attempts++;
	/* Only tickets are passwords here; anything else is refused without a lookup. */
	if (!user_ok(user) || plen > SSH_TICKET_MAX ||
	    strncmp(password, SSH_TICKET_PREFIX, strlen(SSH_TICKET_PREFIX)) != 0) {
		s->auth_fail_reason = "bad_ticket";
		return SSH_AUTH_DENIED;
	}
	memset(&login, 0, sizeof(login));
	if ((r = db_tx_begin(s->b->pool, &tx)) == 0 &&
	    (r = ssh_login_by_ticket(tx, password, &login)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	if (r != 0) {
		s->auth_fail_reason = r == VT_ERR_NOT_FOUND ? "bad_ticket" : "unavailable";
		return SSH_AUTH_DENIED;
	}
	s->cand[0] = login;
	s->ncand = 1;
	snprintf(s->user, sizeof(s->user), "%s", user);
	s->authed = 1;
	return SSH_AUTH_SUCCESS;
}

/* ---- the client's channel ---------------------------------------------------------------- */

static int
ch_pty(ssh_session ss, ssh_channel ch, const char *term, int w, int h, int pw, int ph, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch, (void)pw, (void)ph;
	if (s->req != REQ_NONE || w < 0 || h < 0 || w > 10000 || h > 10000)
		return SSH_ERROR;
	s->pty = 1;
	snprintf(s->term, sizeof(s->term), "%s", term != NULL && term[0] != '\0' ? term : "xterm");
	/* A client without a terminal of its own (ssh -tt < file) sends 0x0. */
	s->cols = w > 0 ? w : 80;
	s->rows = h > 0 ? h : 24;
	return SSH_OK;
}

static int
ch_shell(ssh_session ss, ssh_channel ch, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch;
	if (s->req != REQ_NONE)
		return SSH_ERROR;
	s->req = REQ_SHELL;
	return SSH_OK;
}

static int
ch_exec(ssh_session ss, ssh_channel ch, const char *command, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch;
	if (s->req != REQ_NONE || command == NULL || strlen(command) > BROKER_COMMAND_MAX)
		return SSH_ERROR;
	s->command = xstrdup(command);
	s->req = REQ_EXEC;
	return SSH_OK;
}

static int
ch_subsystem(ssh_session ss, ssh_channel ch, const char *subsystem, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch, (void)subsystem;
	if (s->req != REQ_NONE || s->refused_subsystem)
		return SSH_ERROR;
	s->refused_subsystem = 1;
	/*
	 * Accepted, then refused in words: broker_session_run() sends one line on stderr and exit
	 * status 1, as sshd does for a forced command. A failure reply would make ssh exit at once,
	 * before it printed a line sent just ahead of it (with TCP_NODELAY the two arrive together).
	 */
	return SSH_OK;
}

static int
ch_env(ssh_session ss, ssh_channel ch, const char *name, const char *value, void *ud)
{
	(void)ss, (void)ch, (void)name, (void)value, (void)ud;
	return SSH_ERROR; /* the target's environment is the target's */
}

static int
ch_winch(ssh_session ss, ssh_channel ch, int w, int h, int pw, int ph, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch, (void)pw, (void)ph;
	if (w <= 0 || h <= 0 || w > 10000 || h > 10000)
		return SSH_ERROR;
	s->cols = w;
	s->rows = h;
	s->resize_pending = 1;
	return SSH_OK;
}

static void
ch_signal(ssh_session ss, ssh_channel ch, const char *sig, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch;
	if (sig != NULL && strlen(sig) < 16) {
		free(s->signal_pending);
		s->signal_pending = xstrdup(sig);
	}
}

static ssh_channel
open_session(ssh_session ss, void *ud)
{
	struct bsession *s = ud;

	if (!s->authed || s->ch != NULL)
		return NULL; /* one session channel per connection */
	if ((s->ch = ssh_channel_new(ss)) == NULL)
		return NULL;
	memset(&s->ccb, 0, sizeof(s->ccb));
	s->ccb.userdata = s;
	s->ccb.channel_pty_request_function = ch_pty;
	s->ccb.channel_shell_request_function = ch_shell;
	s->ccb.channel_exec_request_function = ch_exec;
	s->ccb.channel_subsystem_request_function = ch_subsystem;
	s->ccb.channel_env_request_function = ch_env;
	s->ccb.channel_pty_window_change_function = ch_winch;
	s->ccb.channel_signal_function = ch_signal;
	ssh_callbacks_init(&s->ccb);
	ssh_set_channel_callbacks(s->ch, &s->ccb);
	return s->ch;
}

/* Requests no callback above handles: forwarding is refused (libssh's default reply), and a
 * session channel, if there is one, says why in words. */
static int
on_message(ssh_session ss, ssh_message msg, void *ud)
{
	struct bsession *s = ud;
	int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);

	(void)ss;
	if (s->refused_forward != NULL)
		return 1; /* not handled here: the default reply refuses it */
	if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_DIRECT_TCPIP)
		s->refused_forward = "local"; /* -L, -W, -D */
	else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_X11)
		s->refused_forward = "x11";
	else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_FORWARDED_TCPIP)
		s->refused_forward = "remote";
	else if (type == SSH_REQUEST_GLOBAL && (sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD ||
	    sub == SSH_GLOBAL_REQUEST_CANCEL_TCPIP_FORWARD))
		s->refused_forward = "remote"; /* -R */
	return 1;
}

/* ---- upstream channel callbacks ---------------------------------------------------------- */

static void
up_exit_status(ssh_session ss, ssh_channel ch, int status, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch;
	s->exit_status = status;
	s->have_exit_status = 1;
}

static void
up_exit_signal(ssh_session ss, ssh_channel ch, const char *sig, int core, const char *msg,
    const char *lang, void *ud)
{
	struct bsession *s = ud;

	(void)ss, (void)ch, (void)core, (void)msg, (void)lang;
	if (sig != NULL && strlen(sig) < 16 && s->exit_signal == NULL)
		s->exit_signal = xstrdup(sig);
}

/*
 * FORWARDING_DENIED for the first forwarding request refused (once per connection: a client may
 * retry in a loop), on the session when there is one, else on the profile (ssh -W opens no
 * session). The request was refused all the same if the row cannot be written.
 */
static void
forward_audit(struct bsession *s)
{
	char pid[UUID_STR_LEN + 1];

	uuid_format(&s->prof.id, pid);
	if (audit_now(s, "FORWARDING_DENIED", s->have_row ? "terminal_session" : "ssh_profile",
	    s->have_row ? s->sid_s : pid, AUDIT_DENIED, json_packx("{s:s, s:s}", "profile_id",
	    pid, "kind", s->refused_forward)) != 0)
		log_error("ssh broker: a refused forwarding could not be audited");
}

/* ---- steps ------------------------------------------------------------------------------- */

/* Key exchange, login and the channel request, with the login timeout. 0: ready to broker. */
static int
handshake(struct bsession *s)
{
	uint64_t deadline = s->t0_ms + s->b->login_timeout_ms;
	long kex_timeout = (long)(s->b->login_timeout_ms / 1000) + 1;

	memset(&s->scb, 0, sizeof(s->scb));
	s->scb.userdata = s;
	s->scb.auth_pubkey_function = auth_pubkey;
	s->scb.auth_password_function = auth_password;
	s->scb.channel_open_request_session_function = open_session;
	ssh_callbacks_init(&s->scb);
	(void)ssh_options_set(s->ss, SSH_OPTIONS_TIMEOUT, &kex_timeout);
	if (ssh_set_server_callbacks(s->ss, &s->scb) != SSH_OK)
		return -1;
	ssh_set_message_callback(s->ss, on_message, s);
	if (ssh_handle_key_exchange(s->ss) != SSH_OK) {
		log_info("ssh broker: key exchange with %s failed: %s", s->client_addr,
		    ssh_get_error(s->ss));
		return -1;
	}
	ssh_set_auth_methods(s->ss, SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD);
	ssh_set_blocking(s->ss, 0);
	if ((s->ev = ssh_event_new()) == NULL || ssh_event_add_session(s->ev, s->ss) != SSH_OK)
		return -1;
	while (!stopping(s)) {
		if (s->ch != NULL && (s->req != REQ_NONE || s->refused_subsystem))
			break;
		if (vtime_mono_ms() > deadline) {
			log_info("ssh broker: %s did not log in within %llu ms", s->client_addr,
			    (unsigned long long)s->b->login_timeout_ms);
			return -1;
		}
		if (ssh_event_dopoll(s->ev, BROKER_POLL_MS) == SSH_ERROR ||
		    ssh_get_status(s->ss) & (SSH_CLOSED | SSH_CLOSED_ERROR))
			return -1;
	}
	return stopping(s) ? -1 : 0;
}

/* The login's principal, audit actor and profile. 0, or the refusal was sent. */
static int
resolve(struct bsession *s)
{
	struct db_tx *tx = NULL;
	int i, r = VT_ERR_NOT_FOUND, hits = 0;
	struct ssh_profile pr;
	struct principal p;

	for (i = 0; i < s->ncand; i++) {
		memset(&pr, 0, sizeof(pr));
		memset(&p, 0, sizeof(p));
		if ((r = db_tx_begin_as(s->b->pool, &s->cand[i].org_id, NULL, &tx)) != 0)
			break;
		r = ssh_profile_resolve(tx, &s->cand[i], s->user, &p, &pr);
		/* Kept when it resolved: the login key's last_used_at. */
		if (r == 0 && (r = db_tx_commit(tx)) != 0)
			ssh_profile_clear(&pr);
		else if (r != 0)
			db_tx_rollback(tx);
		tx = NULL;
		if (r == VT_ERR_NOT_FOUND)
			continue;
		if (r != 0)
			break;
		if (hits++ == 0) {
			s->login = s->cand[i];
			s->p = p;
			s->prof = pr;
			s->have_prof = 1;
		} else {
			ssh_profile_clear(&pr);
		}
	}
	/* Refusals are audited in the first candidate's org (a key's or ticket's own). */
	if (!s->have_prof)
		s->login = s->cand[0];
	auth_actor(s->have_prof ? &s->p : NULL, s->client_addr, NULL, &s->who);
	if (!s->have_prof) {
		s->who.type = s->login.has_user ? AUDIT_ACTOR_USER : AUDIT_ACTOR_API_TOKEN;
		s->who.has_id = 1;
		s->who.id = s->login.has_user ? s->login.user_id : s->login.token_id;
		s->who.email = s->login.email[0] != '\0' ? s->login.email : NULL;
	}
	if (s->have_prof && hits > 1) {
		deny(s, "ambiguous", "this profile name exists in more than one of your "
				     "organizations: connect with `vaultterm ssh` (a ticket names the "
				     "organization)");
		return -1;
	}
	if (s->have_prof)
		return 0;
	if (r == VT_ERR_NOT_FOUND || r == VT_ERR_FORBIDDEN) {
		deny(s, r == VT_ERR_FORBIDDEN ? "forbidden" : "no_profile",
		    "no such profile, or you may not use it");
		return -1;
	}
	tell(s, "the broker cannot check your access right now; try again");
	client_finish(s, 1);
	s->end_reason = "error";
	return -1;
}

/* Whether the principal may still read the profile's credential (the vault's read gate). */
static int
credential_readable(struct bsession *s)
{
	struct db_tx *tx = NULL;
	int readable = 0, r;

	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0)
		r = vault_secrets_readable(tx, &s->p, &s->prof.credential_secret_id, 1, &readable);
	db_tx_rollback(tx);
	return r == 0 ? readable : -1;
}

/* The session row, SESSION_STARTED, and the org's fingerprints, in one transaction. */
static int
session_begin(struct bsession *s)
{
	struct db_tx *tx = NULL;
	struct db_params prm;
	char pid[UUID_STR_LEN + 1];
	int r;

	uuid_random(&s->sid);
	uuid_format(&s->sid, s->sid_s);
	uuid_format(&s->prof.id, pid);
	s->start_us = vtime_now_us();
	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) != 0)
		return r;
	db_params_init(&prm);
	db_param_uuid(&prm, &s->sid);
	db_param_uuid(&prm, &s->login.org_id);
	db_param_uuid(&prm, &s->prof.id);
	db_param_text(&prm, s->prof.name);
	db_param_uuid(&prm, s->login.has_user ? &s->login.user_id : NULL);
	db_param_uuid(&prm, s->login.has_token ? &s->login.token_id : NULL);
	db_param_text(&prm, s->req == REQ_EXEC ? "exec" : "shell");
	db_param_text(&prm, s->pty ? s->term : NULL);
	db_param_int(&prm, s->pty ? s->cols : 80);
	db_param_int(&prm, s->pty ? s->rows : 24);
	db_param_text(&prm, s->client_addr);
	r = db_exec_one(tx, "INSERT INTO terminal_sessions (id, org_id, profile_id, profile_name, "
			    "user_id, token_id, kind, term, width, height, client_addr, started_at) "
			    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())", &prm);
	db_params_free(&prm);
	if (r == 0)
		r = audit_take(tx, &s->who, "SESSION_STARTED", "terminal_session", s->sid_s,
		    AUDIT_SUCCESS, json_packx("{s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b}", "profile_id",
			pid, "profile", s->prof.name, "kind", s->req == REQ_EXEC ? "exec" : "shell",
			"host", s->prof.host, "port", s->prof.port, "client_addr", s->client_addr,
			"pty", s->pty, "recording", s->prof.recording_enabled));
	if (r == 0)
		r = vault_fpset_acquire(s->b->fpcache, tx, s->b->kr, &s->fpref);
	if (r == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	if (r == 0)
		s->have_row = 1;
	return r;
}

/* An exposure the recorder found for the first time in this session: audited before the
 * session goes on (a nonzero return ends the session). */
static int
on_exposure(void *ud, const struct scan_match *m)
{
	struct bsession *s = ud;
	struct vt_uuid secret;
	char field[VAULT_FP_FIELD_MAX + 1], sec[UUID_STR_LEN + 1];
	json_t *d;
	int r;

	d = json_packx("{s:s, s:s, s:s, s:I, s:s}", "session_id", s->sid_s, "rule_id", m->rule_id,
	    "severity", scan_severity_str(m->severity), "offset", (json_int_t)m->start, "source",
	    "ssh_broker");
	if (m->label != NULL && vault_fp_label_parse(m->label, &secret, field) == 0) {
		uuid_format(&secret, sec);
		json_object_set_new(d, "secret_id", json_string(sec));
		json_object_set_new(d, "field", json_string(field));
	}
	r = audit_now(s, "CREDENTIAL_EXPOSURE_DETECTED", "terminal_session", s->sid_s,
	    AUDIT_SUCCESS, d);
	if (r == 0)
		s->exposures++;
	return r;
}

/* Connect, pin or check the host key, inject the credential. 0, or the refusal was sent. */
static int
go_upstream(struct bsession *s)
{
	struct upstream_target t = {
		.host = s->prof.host, .port = s->prof.port, .username = s->prof.username,
		.pinned = s->prof.host_key,
	};
	enum upstream_hostkey hk;
	enum secret_type type;
	int64_t version;
	json_t *fields = NULL;
	char err[BROKER_ERR_MAX], *seen = NULL, pid[UUID_STR_LEN + 1];
	struct db_tx *tx = NULL;
	int pinned = 0, r;

	uuid_format(&s->prof.id, pid);
	if ((r = upstream_connect(&t, &s->up, &seen, &hk, err)) != 0) {
		(void)audit_now(s, "SESSION_DENIED", "terminal_session", s->sid_s, AUDIT_FAILURE,
		    json_packx("{s:s, s:s, s:s}", "profile_id", pid, "reason", "unreachable",
			"error", err));
		tell(s, err);
		client_finish(s, 1);
		s->end_reason = "upstream_unreachable";
		return -1;
	}
	if (hk == UPSTREAM_HOSTKEY_MISMATCH) {
		(void)audit_now(s, "HOST_KEY_MISMATCH", "ssh_profile", pid, AUDIT_DENIED,
		    json_packx("{s:s, s:s, s:i, s:s, s:s}", "session_id", s->sid_s, "host",
			s->prof.host, "port", s->prof.port, "pinned", s->prof.host_key, "presented",
			seen));
		tell(s, "the target's host key does not match the key pinned on this profile: "
			"refused (HOST_KEY_MISMATCH)");
		client_finish(s, 1);
		s->end_reason = "host_key_mismatch";
		free(seen);
		return -1;
	}
	if (hk == UPSTREAM_HOSTKEY_NEW) {
		if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0 &&
		    (r = ssh_profile_pin(tx, &s->prof.id, seen, &pinned)) == 0 &&
		    (!pinned || (r = audit_take(tx, &s->who, "HOST_KEY_PINNED", "ssh_profile", pid,
		    AUDIT_SUCCESS, json_packx("{s:s, s:s, s:i, s:s}", "session_id", s->sid_s,
			"host", s->prof.host, "port", s->prof.port, "host_key", seen))) == 0))
			r = db_tx_commit(tx);
		else
			db_tx_rollback(tx);
		tx = NULL;
		if (r != 0 || !pinned) {
			/* Another connection pinned a key meanwhile: only that key is trusted now. */
			tell(s, r != 0 ? "the broker cannot record the target's host key; try again" :
			    "the target's host key was pinned by another connection meanwhile; "
			    "connect again");
			client_finish(s, 1);
			s->end_reason = "error";
			free(seen);
			return -1;
		}
	}
	free(seen);

	/* Open the credential only now, with its audit row committed first. */
	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0 &&
	    (r = secret_open_for_inject(s->b->kr, tx, &s->p, &s->prof.credential_secret_id,
	    &s->who, json_packx("{s:s, s:s, s:s}", "session_id", s->sid_s, "profile_id", pid,
		"target", s->prof.host), &type, &version, &fields)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	tx = NULL;
	if (r != 0) {
		json_decref(fields);
		if (r == VT_ERR_NOT_FOUND || r == VT_ERR_FORBIDDEN) {
			deny(s, "credential_forbidden", "no such profile, or you may not use it");
			return -1;
		}
		tell(s, "the broker cannot open the profile's credential right now");
		client_finish(s, 1);
		s->end_reason = "error";
		return -1;
	}
	if (type != SECRET_SSH_KEY && type != SECRET_PASSWORD) {
		json_decref(fields);
		deny(s, "credential_type", "the profile's credential is not an SSH key or a password");
		return -1;
	}
	/* Blocking upstream until the relay starts. */
	ssh_set_blocking(s->up, 1);
	r = upstream_auth(s->up, type == SECRET_SSH_KEY, fields, err);
	json_decref(fields); /* wipes: the credential is gone from this process */
	fields = NULL;
	if (r != 0) {
		(void)audit_now(s, "UPSTREAM_AUTH_FAILED", "terminal_session", s->sid_s,
		    AUDIT_FAILURE, json_packx("{s:s, s:s, s:I}", "profile_id", pid, "error", err,
			"version", (json_int_t)version));
		tell(s, err);
		client_finish(s, 1);
		s->end_reason = "upstream_auth_failed";
		return -1;
	}
	return 0;
}

/* The upstream channel: PTY, then the shell or the command. */
static int
open_upstream_channel(struct bsession *s)
{
	char err[BROKER_ERR_MAX];

	if ((s->upch = ssh_channel_new(s->up)) == NULL || ssh_channel_open_session(s->upch) !=
	    SSH_OK) {
		snprintf(err, sizeof(err), "the target refused a session channel");
		goto fail;
	}
	memset(&s->ucb, 0, sizeof(s->ucb));
	s->ucb.userdata = s;
	s->ucb.channel_exit_status_function = up_exit_status;
	s->ucb.channel_exit_signal_function = up_exit_signal;
	ssh_callbacks_init(&s->ucb);
	ssh_set_channel_callbacks(s->upch, &s->ucb);
	if (s->pty && ssh_channel_request_pty_size(s->upch, s->term, s->cols, s->rows) != SSH_OK) {
		snprintf(err, sizeof(err), "the target refused a terminal");
		goto fail;
	}
	if (s->req == REQ_EXEC ? ssh_channel_request_exec(s->upch, s->command) != SSH_OK :
	    ssh_channel_request_shell(s->upch) != SSH_OK) {
		snprintf(err, sizeof(err), "the target refused the %s",
		    s->req == REQ_EXEC ? "command" : "shell");
		goto fail;
	}
	ssh_set_blocking(s->up, 0);
	return 0;
 fail:
	tell(s, err);
	client_finish(s, 1);
	s->end_reason = "upstream_refused";
	return -1;
}

/*
 * One direction of the relay. Bytes read from the source but not yet accepted by the destination
 * (a key re-exchange in progress on it: libssh then takes nothing) wait in `pend`, and nothing
 * more is read from the source until they are through: the source's window then stays shut and
 * its peer waits, as it should.
 */
struct lane {
	uint8_t pend[BROKER_RELAY_BUF];
	size_t off, len;
};

static int
lane_write(ssh_channel dst, int is_stderr, const uint8_t *p, size_t n)
{
	return is_stderr ? ssh_channel_write_stderr(dst, p, (uint32_t)n) :
	    ssh_channel_write(dst, p, (uint32_t)n);
}

/* Writes what waits in the lane. 1 when it is empty, 0 when some still waits, -1 on error. */
static int
lane_flush(struct lane *l, ssh_channel dst, int is_stderr)
{
	uint32_t win;
	int w;

	while (l->len > 0) {
		if (!ssh_channel_is_open(dst))
			return -1;
		if ((win = ssh_channel_window_size(dst)) == 0)
			return 0;
		w = lane_write(dst, is_stderr, l->pend + l->off, l->len < win ? l->len : win);
		if (w == SSH_ERROR || w < 0)
			return -1;
		if (w == 0)
			return 0;
		l->off += (size_t)w;
		l->len -= (size_t)w;
	}
	l->off = 0;
	return 1;
}

/*
 * Moves what the destination's window allows from src (stream is_stderr) to dst, through the
 * recorder when `output`. Returns bytes moved, or -1 when the session must end.
 */
static int
pump(struct bsession *s, ssh_channel src, ssh_channel dst, int is_stderr, int output,
    struct lane *l)
{
	uint32_t win;
	int n, w, f, moved = 0;

	for (;;) {
		if ((f = lane_flush(l, dst, is_stderr)) <= 0)
			return f < 0 ? -1 : moved;
		win = ssh_channel_window_size(dst);
		if (win == 0 || !ssh_channel_is_open(dst))
			return moved;
		n = ssh_channel_read_nonblocking(src, l->pend, win < BROKER_RELAY_BUF ? win :
		    BROKER_RELAY_BUF, is_stderr);
		if (n == SSH_ERROR)
			return moved > 0 ? moved : -1;
		if (n <= 0)
			return moved;
		if (output) {
			/* Scanned (and recorded) before the client sees it: fail closed. */
			if (recorder_output(s->rec, vtime_now_us(), l->pend, (size_t)n) != 0) {
				s->failed = 1;
				return -1;
			}
			s->bytes_out += (uint64_t)n;
		} else {
			s->bytes_in += (uint64_t)n;
		}
		moved += n;
		w = lane_write(dst, is_stderr, l->pend, (size_t)n);
		if (w == SSH_ERROR || w < 0)
			return -1;
		if (w < n) {
			/* The rest waits in the lane (already scanned and counted). */
			l->off = (size_t)w;
			l->len = (size_t)(n - w);
			return moved;
		}
	}
}

/* Tells the other servers this session is alive (and how far it got). */
static void
heartbeat(struct bsession *s)
{
	struct db_tx *tx = NULL;
	struct db_params prm;
	int r;

	db_params_init(&prm);
	db_param_uuid(&prm, &s->sid);
	db_param_int(&prm, (int64_t)s->bytes_in);
	db_param_int(&prm, (int64_t)s->bytes_out);
	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0 &&
	    (r = db_exec_one(tx, "UPDATE terminal_sessions SET heartbeat_at = now(), bytes_in = $2, "
				 "bytes_out = $3 WHERE id = $1 AND ended_at IS NULL", &prm)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	db_params_free(&prm);
	if (r != 0)
		log_warn("ssh broker: session %s: heartbeat not written (%s)", s->sid_s,
		    vt_err_str(r));
}

/*
 * Re-reads the org's fingerprint set (shared, generation-checked: usually a cache hit) so secrets
 * stored or rotated since the session began are scanned for. A newer set goes to the recorder;
 * the current one is held until the recorder no longer reads it (fp_settle). On failure the
 * session keeps scanning with the set it has.
 */
static void
fp_refresh(struct bsession *s)
{
	struct db_tx *tx = NULL;
	struct vault_fpref *ref = NULL;
	int r;

	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) == 0 &&
	    (r = vault_fpset_acquire(s->b->fpcache, tx, s->b->kr, &ref)) == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
	if (r != 0) {
		vault_fpset_release(ref);
		log_warn("ssh broker: session %s: fingerprints not refreshed (%s): scanning with "
			 "the set it has", s->sid_s, vt_err_str(r));
		return;
	}
	if (vault_fpref_set(ref) == vault_fpref_set(s->fpref) ||
	    (s->fpnext != NULL && vault_fpref_set(ref) == vault_fpref_set(s->fpnext))) {
		vault_fpset_release(ref); /* nothing new */
		return;
	}
	/* Replaces a newer set not taken yet: the recorder never read that one. */
	recorder_set_fps(s->rec, vault_fpref_set(ref));
	vault_fpset_release(s->fpnext);
	s->fpnext = ref;
}

/* Once the recorder scans with the newer set, the older one is given back. */
static void
fp_settle(struct bsession *s)
{
	if (s->fpnext == NULL || recorder_fps(s->rec) != vault_fpref_set(s->fpnext))
		return;
	vault_fpset_release(s->fpref);
	s->fpref = s->fpnext;
	s->fpnext = NULL;
}

/* The relay loop. Returns when either side is done. */
static void
relay(struct bsession *s)
{
	struct lane *lanes = xcalloc(3, sizeof(*lanes)); /* out, err, in */
	int progress, a, b, c, timeout;
	int64_t now, dl;
	uint64_t next_beat = vtime_mono_ms() + BROKER_HEARTBEAT_MS;
	uint64_t next_fp = vtime_mono_ms() + s->b->fp_refresh_ms;

	if (ssh_event_add_session(s->ev, s->up) != SSH_OK) {
		free(lanes);
		s->end_reason = "error";
		return;
	}
	s->end_reason = "closed";
	while (!stopping(s)) {
		progress = 0;
		if (s->resize_pending) {
			s->resize_pending = 0;
			(void)ssh_channel_change_pty_size(s->upch, s->cols, s->rows);
			if (recorder_resize(s->rec, vtime_now_us(), s->cols, s->rows) != 0) {
				s->failed = 1;
				break;
			}
		}
		if (s->refused_forward != NULL && !s->told_forward) {
			s->told_forward = 1;
			tell(s, "port forwarding is not offered by the broker: refused");
			forward_audit(s);
		}
		if (s->signal_pending != NULL) {
			(void)ssh_channel_request_send_signal(s->upch, s->signal_pending);
			free(s->signal_pending);
			s->signal_pending = NULL;
		}
		/* target → client (stdout and stderr), client → target */
		a = pump(s, s->upch, s->ch, 0, 1, &lanes[0]);
		b = pump(s, s->upch, s->ch, 1, 1, &lanes[1]);
		c = s->up_eof_sent ? 0 : pump(s, s->ch, s->upch, 0, 0, &lanes[2]);
		if (a < 0 || b < 0 || c < 0) {
			s->end_reason = s->failed ? "error" : "closed";
			break;
		}
		progress = a + b + c;
		/* The client's EOF, once its data is through, goes upstream. */
		if (!s->up_eof_sent && lanes[2].len == 0 && ssh_channel_poll(s->ch, 0) == SSH_EOF) {
			(void)ssh_channel_send_eof(s->upch);
			s->up_eof_sent = 1;
		}
		/* The target's EOF, once its data is through, goes to the client. */
		if (!s->client_eof_sent && lanes[0].len == 0 && lanes[1].len == 0 &&
		    ssh_channel_poll(s->upch, 0) == SSH_EOF && ssh_channel_poll(s->upch, 1) == SSH_EOF) {
			(void)ssh_channel_send_eof(s->ch);
			s->client_eof_sent = 1;
		}
		if (s->client_eof_sent && (ssh_channel_is_closed(s->upch) ||
		    !ssh_is_connected(s->up))) {
			s->end_reason = "upstream_closed";
			break;
		}
		if (ssh_channel_is_closed(s->upch) && lanes[0].len == 0 && lanes[1].len == 0 &&
		    ssh_channel_poll(s->upch, 0) <= 0 && ssh_channel_poll(s->upch, 1) <= 0) {
			s->end_reason = "upstream_closed";
			break;
		}
		if (ssh_channel_is_closed(s->ch) || !ssh_is_connected(s->ss)) {
			s->end_reason = "closed";
			break;
		}
		if (vtime_mono_ms() >= next_beat) {
			heartbeat(s);
			next_beat = vtime_mono_ms() + BROKER_HEARTBEAT_MS;
		}
		if (vtime_mono_ms() >= next_fp) {
			fp_refresh(s);
			next_fp = vtime_mono_ms() + s->b->fp_refresh_ms;
		}
		now = vtime_now_us();
		if (recorder_tick(s->rec, now) != 0) {
			s->failed = 1;
			s->end_reason = "error";
			break;
		}
		fp_settle(s);
		if (progress > 0) {
			timeout = 0;
		} else {
			dl = recorder_deadline(s->rec);
			timeout = BROKER_POLL_MS;
			if (dl != INT64_MAX && dl > now && (dl - now) / 1000 < timeout)
				timeout = (int)((dl - now) / 1000) + 1;
			else if (dl != INT64_MAX && dl <= now)
				timeout = 0;
		}
		(void)ssh_event_dopoll(s->ev, timeout);
	}
	if (stopping(s))
		s->end_reason = "shutdown";
	sodium_memzero(lanes, 3 * sizeof(*lanes));
	free(lanes);
	(void)ssh_event_remove_session(s->ev, s->up);
}

/* Collects the matches of a short buffer (an exec request). */
struct match_acc {
	struct scan_match m[64];
	size_t n;
	int overflow;
};

static int
match_collect(void *ud, const struct scan_match *m)
{
	struct match_acc *acc = ud;

	if (acc->n == VT_NELEM(acc->m)) {
		acc->overflow = 1;
		return 1;
	}
	acc->m[acc->n++] = *m;
	return 0;
}

/*
 * The exec request with detected secrets replaced by [REDACTED:<rule>], for the session row and
 * the audit trail (a password typed on a command line must not land there). A command the
 * scanner cannot process, or with too many findings to redact, is not kept at all.
 */
static char *
redacted_command(struct bsession *s)
{
	struct match_acc acc;
	struct vbuf *out;
	char *cmd = NULL;

	if (s->command == NULL)
		return NULL;
	memset(&acc, 0, sizeof(acc));
	if (scan_buffer(s->b->scan, vault_fpref_set(s->fpref), s->command, strlen(s->command),
	    match_collect, &acc) != 0 || acc.overflow)
		return xstrdup("[REDACTED:unscannable]");
	out = vbuf_new(BROKER_COMMAND_MAX * 4);
	if (scan_redact_buffer(s->command, strlen(s->command), acc.m, acc.n, SCAN_REDACT_LABEL,
	    out) == 0 && vbuf_len(out) <= BROKER_COMMAND_MAX) {
		cmd = xmalloc(vbuf_len(out) + 1);
		memcpy(cmd, vbuf_ptr(out), vbuf_len(out));
		cmd[vbuf_len(out)] = '\0';
	} else {
		cmd = xstrdup("[REDACTED:unscannable]");
	}
	vbuf_free(out);
	return cmd;
}

/* Session row, SESSION_ENDED and COMMAND_EXECUTED, in one transaction. */
static void
session_end(struct bsession *s, const struct recorder_stats *st)
{
	struct db_tx *tx = NULL;
	struct db_params prm;
	int64_t dur_ms = (vtime_now_us() - s->start_us) / 1000;
	char *cmd = redacted_command(s);
	int r;

	if ((r = db_tx_begin_as(s->b->pool, &s->login.org_id, NULL, &tx)) != 0)
		goto out;
	db_params_init(&prm);
	db_param_uuid(&prm, &s->sid);
	db_param_int(&prm, (int64_t)s->bytes_in);
	db_param_int(&prm, (int64_t)s->bytes_out);
	if (s->have_exit_status)
		db_param_int(&prm, s->exit_status);
	else
		db_param_text(&prm, NULL);
	db_param_bool(&prm, st->recorded);
	db_param_int(&prm, s->exposures);
	db_param_text(&prm, s->end_reason);
	db_param_text(&prm, cmd);
	r = db_exec_one(tx, "UPDATE terminal_sessions SET ended_at = now(), heartbeat_at = now(), "
			    "bytes_in = $2, bytes_out = $3, exit_status = $4::integer, "
			    "recorded = $5, exposures = $6, end_reason = $7, command = $8 "
			    "WHERE id = $1", &prm);
	db_params_free(&prm);
	if (r == 0 && s->req == REQ_EXEC)
		r = audit_take(tx, &s->who, "COMMAND_EXECUTED", "terminal_session", s->sid_s,
		    AUDIT_SUCCESS, json_packx("{s:s?, s:o, s:s?}", "command", cmd, "exit_status",
			s->have_exit_status ? json_integer(s->exit_status) : json_null(),
			"exit_signal", s->exit_signal));
	if (r == 0)
		r = audit_take(tx, &s->who, "SESSION_ENDED", "terminal_session", s->sid_s,
		    AUDIT_SUCCESS, json_packx("{s:I, s:I, s:I, s:i, s:b, s:s, s:o}", "bytes_in",
			(json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out,
			"duration_ms", (json_int_t)dur_ms, "exposures", (int)s->exposures,
			"recorded", st->recorded, "reason", s->end_reason, "exit_status",
			s->have_exit_status ? json_integer(s->exit_status) : json_null()));
	if (r == 0)
		r = db_tx_commit(tx);
	else
		db_tx_rollback(tx);
 out:
	if (r != 0)
		log_error("ssh broker: session %s: cannot record its end (%s)", s->sid_s,
		    vt_err_str(r));
	free(cmd);
}

/* ---- the thread -------------------------------------------------------------------------- */

void
broker_session_run(struct broker *b, ssh_session ss, const char *client_addr)
{
	struct bsession *s = xcalloc(1, sizeof(*s));
	struct recorder_params rp;
	struct recorder_stats st;
	char title[SSH_PROFILE_NAME_MAX + 16];
	int readable;

	s->b = b;
	s->ss = ss;
	s->t0_ms = vtime_mono_ms();
	s->exit_status = -1;
	snprintf(s->client_addr, sizeof(s->client_addr), "%s", client_addr);
	memset(&st, 0, sizeof(st));

	if (handshake(s) != 0) {
		if (!s->authed && s->auth_attempts > 0) {
			struct db_tx *tx = NULL;
			struct audit_event ev = {
				.action = "SSH_LOGIN_DENIED", .actor_type = AUDIT_ACTOR_ANONYMOUS,
				.resource_type = "ssh_broker", .outcome = AUDIT_DENIED,
				.source_ip = s->client_addr,
			};
			json_t *d = json_packx("{s:s, s:i, s:s}", "reason", s->auth_fail_reason != NULL ?
			    s->auth_fail_reason : "no_method", "attempts", s->auth_attempts, "user",
			    s->user[0] != '\0' ? s->user : "");

			ev.detail = d;
			if (db_tx_begin(b->pool, &tx) == 0 && audit_append_system(tx, &ev) == 0) {
				if (db_tx_commit(tx) != 0)
					log_error("ssh broker: cannot audit a refused login");
			} else {
				db_tx_rollback(tx);
			}
			json_decref(d);
		} else if (s->authed && s->ch == NULL && s->refused_forward != NULL &&
		    resolve(s) == 0) {
			forward_audit(s); /* ssh -W: a forwarding channel only, refused */
		}
		goto done;
	}
	if (resolve(s) != 0)
		goto done;
	if (s->refused_subsystem && s->req == REQ_NONE) {
		deny(s, "subsystem", "subsystems (sftp) are not offered by the broker yet; use a "
				     "shell or a command");
		goto done;
	}
	if ((readable = credential_readable(s)) != 1) {
		if (readable == 0)
			deny(s, "credential_forbidden", "no such profile, or you may not use it");
		else {
			tell(s, "the broker cannot check your access right now; try again");
			client_finish(s, 1);
		}
		goto done;
	}
	if (session_begin(s) != 0) {
		tell(s, "the broker cannot record this session, so it does not start");
		client_finish(s, 1);
		goto done;
	}
	snprintf(title, sizeof(title), "%s", s->prof.name);
	memset(&rp, 0, sizeof(rp));
	rp.org = &s->login.org_id;
	rp.session = &s->sid;
	rp.record = s->prof.recording_enabled;
	rp.width = s->pty ? s->cols : 80;
	rp.height = s->pty ? s->rows : 24;
	rp.term = s->pty ? s->term : NULL;
	rp.title = title;
	rp.start_us = s->start_us;
	rp.on_exposure = on_exposure;
	rp.ud = s;
	if (recorder_open(b->pool, b->kr, b->scan, vault_fpref_set(s->fpref), &rp,
	    &s->rec) != 0) {
		tell(s, "the broker cannot scan this session, so it does not start");
		client_finish(s, 1);
		s->end_reason = "error";
		goto end;
	}
	if (go_upstream(s) != 0 || open_upstream_channel(s) != 0)
		goto end;
	relay(s);
	if (s->failed)
		tell(s, "the session ended: an exposure could not be recorded");
	client_finish(s, s->have_exit_status ? s->exit_status : (s->failed ? 1 : 255));
 end:
	if (recorder_close(s->rec, vtime_now_us(), &st) != 0)
		log_error("ssh broker: session %s: the recording could not be completed", s->sid_s);
	s->rec = NULL;
	if (s->end_reason == NULL)
		s->end_reason = "error";
	session_end(s, &st);
 done:
	if (s->upch != NULL) {
		ssh_channel_close(s->upch);
		ssh_channel_free(s->upch);
	}
	if (s->up != NULL) {
		ssh_disconnect(s->up);
		ssh_free(s->up);
	}
	if (s->ev != NULL) {
		(void)ssh_event_remove_session(s->ev, s->ss);
		ssh_event_free(s->ev);
	}
	if (s->ch != NULL)
		ssh_channel_free(s->ch);
	ssh_disconnect(s->ss);
	ssh_free(s->ss);
	vault_fpset_release(s->fpnext);
	vault_fpset_release(s->fpref);
	if (s->have_prof)
		ssh_profile_clear(&s->prof);
	free(s->command);
	free(s->signal_pending);
	free(s->exit_signal);
	sodium_memzero(s, sizeof(*s));
	free(s);
}
