/*
 * The broker's client side: connects to a profile's target with libssh, checks the target's host
 * key against the profile's pin (trust on first use when there is none), and authenticates with
 * the credential the session opened just for this. No ssh config file, known_hosts file or agent
 * is ever consulted: the profile is the whole truth about the target.
 */
#include "broker/broker_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/json.h"
#include "base/util.h"

static int
opt(ssh_session s, enum ssh_options_e o, const void *v)
{
	return ssh_options_set(s, o, v) == SSH_OK ? 0 : -1;
}

/* "keytype base64" of a key (owned), or NULL. */
static char *
key_line(ssh_key key)
{
	char *b64 = NULL, *line;

	if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return NULL;
	line = xasprintf("%s %s", ssh_key_type_to_char(ssh_key_type(key)), b64);
	ssh_string_free_char(b64);
	return line;
}

/* Whether pinned ("keytype base64 [comment]") is the same public key as key. */
static int
pin_matches(const char *pinned, ssh_key key)
{
	char type[64], *b64;
	const char *sp = strchr(pinned, ' ');
	ssh_key pk = NULL;
	size_t n;
	int ok = 0;

	if (sp == NULL || (size_t)(sp - pinned) >= sizeof(type))
		return 0;
	memcpy(type, pinned, (size_t)(sp - pinned));
	type[sp - pinned] = '\0';
	b64 = xstrdup(sp + 1);
	n = strcspn(b64, " \t\r\n");
	b64[n] = '\0';
	if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type), &pk) == SSH_OK &&
	    ssh_key_cmp(pk, key, SSH_KEY_CMP_PUBLIC) == 0)
		ok = 1;
	ssh_key_free(pk);
	free(b64);
	return ok;
}

int
upstream_connect(const struct upstream_target *t, ssh_session *out, char **seen,
    enum upstream_hostkey *hk, char err[static BROKER_ERR_MAX])
{
	ssh_session s;
	ssh_key key = NULL;
	long timeout = BROKER_UPSTREAM_TIMEOUT_S;
	unsigned int port = (unsigned int)t->port;
	bool no = false;
	int one = 1; /* TCP_NODELAY: see accept_one() in listener.c */
	int strict = 0, r = VT_ERR_UNAVAILABLE;

	*out = NULL;
	*seen = NULL;
	if ((s = ssh_new()) == NULL)
		return VT_ERR_NOMEM;
	if (opt(s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    opt(s, SSH_OPTIONS_HOST, t->host) != 0 || opt(s, SSH_OPTIONS_PORT, &port) != 0 ||
	    opt(s, SSH_OPTIONS_USER, t->username) != 0 ||
	    opt(s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
	    opt(s, SSH_OPTIONS_NODELAY, &one) != 0 ||
	    opt(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict) != 0 ||
	    opt(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    opt(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") != 0 ||
	    opt(s, SSH_OPTIONS_KEY_EXCHANGE, BROKER_KEX) != 0 ||
	    opt(s, SSH_OPTIONS_CIPHERS_C_S, BROKER_CIPHERS) != 0 ||
	    opt(s, SSH_OPTIONS_CIPHERS_S_C, BROKER_CIPHERS) != 0 ||
	    opt(s, SSH_OPTIONS_HMAC_C_S, BROKER_MACS) != 0 ||
	    opt(s, SSH_OPTIONS_HMAC_S_C, BROKER_MACS) != 0 ||
	    opt(s, SSH_OPTIONS_HOSTKEYS, BROKER_PUBKEY_TYPES) != 0 ||
	    opt(s, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, BROKER_PUBKEY_TYPES) != 0) {
		snprintf(err, BROKER_ERR_MAX, "the target's address or user name is not usable");
		r = VT_ERR_VALIDATION;
		goto out;
	}
	if (ssh_connect(s) != SSH_OK) {
		snprintf(err, BROKER_ERR_MAX, "cannot reach the target %s:%d (%s)", t->host, t->port,
		    ssh_get_error(s));
		goto out;
	}
	if (ssh_get_server_publickey(s, &key) != SSH_OK || (*seen = key_line(key)) == NULL) {
		snprintf(err, BROKER_ERR_MAX, "the target sent no usable host key");
		goto out;
	}
	if (t->pinned == NULL || t->pinned[0] == '\0')
		*hk = UPSTREAM_HOSTKEY_NEW;
	else
		*hk = pin_matches(t->pinned, key) ? UPSTREAM_HOSTKEY_MATCH : UPSTREAM_HOSTKEY_MISMATCH;
	*out = s;
	s = NULL;
	r = 0;
 out:
	ssh_key_free(key);
	if (s != NULL) {
		ssh_disconnect(s);
		ssh_free(s);
	}
	if (r != 0) {
		free(*seen);
		*seen = NULL;
	}
	return r;
}

int
upstream_auth(ssh_session up, int is_ssh_key, const json_t *fields,
    char err[static BROKER_ERR_MAX])
{
	const char *priv, *pass;
	ssh_key key = NULL;
	int rc;

	if (is_ssh_key) {
		priv = json_get_str(fields, "private_key");
		pass = json_get_str(fields, "passphrase");
		if (priv == NULL) {
			snprintf(err, BROKER_ERR_MAX, "the credential has no private key");
			return VT_ERR_VALIDATION;
		}
		if (pass != NULL && pass[0] == '\0')
			pass = NULL;
		if (ssh_pki_import_privkey_base64(priv, pass, NULL, NULL, &key) != SSH_OK) {
			snprintf(err, BROKER_ERR_MAX, "the credential's private key does not open "
						      "(wrong passphrase, or an unsupported key)");
			return VT_ERR_VALIDATION;
		}
		rc = ssh_userauth_publickey(up, NULL, key);
		ssh_key_free(key); /* OpenSSL clears the key material it frees */
	} else {
		pass = json_get_str(fields, "password");
		if (pass == NULL || pass[0] == '\0') {
			snprintf(err, BROKER_ERR_MAX, "the credential has no password");
			return VT_ERR_VALIDATION;
		}
		rc = ssh_userauth_password(up, NULL, pass);
	}
	if (rc == SSH_AUTH_SUCCESS)
		return 0;
	if (rc == SSH_AUTH_ERROR) {
		snprintf(err, BROKER_ERR_MAX, "the target dropped the connection during "
					      "authentication (%s)", ssh_get_error(up));
		return VT_ERR_UNAVAILABLE;
	}
	snprintf(err, BROKER_ERR_MAX, "the target refused the injected credential");
	return VT_ERR_UNAUTHORIZED;
}
