/*
 * OpenSSH public key lines for the broker: users' login keys (authorized_keys form, "<type>
 * <base64> [comment]") and targets' pinned host keys (that form, or a known_hosts line "<hosts>
 * <type> <base64> [comment]"). Parsed with libssh, checked against a short list of key types, and
 * normalized to "<type> <base64>" with the SHA-256 fingerprint exactly as `ssh-keygen -lf` prints
 * it ("SHA256:" + unpadded base64). Public data only: nothing here is secret.
 */
#ifndef VT_BROKER_SSHKEY_H
#define VT_BROKER_SSHKEY_H

#include <stddef.h>

#include <libssh/libssh.h>

#include "base/util.h"
#include "broker/profiles.h"

#define SSHKEY_TYPE_MAX 40       /* longest accepted type name is 19 bytes */
#define SSHKEY_RSA_MIN_BITS 2048
#define SSHKEY_BLOB_MAX 4096     /* an RSA-16384 blob is ~2 KiB; anything larger is refused */

/*
 * Which line forms are accepted. The accepted key types are the same for both: ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521 and ssh-rsa of at least SSHKEY_RSA_MIN_BITS bits. Refused with a
 * message that says why: security-key (sk-) keys, certificates, ssh-dss, short RSA keys,
 * authorized_keys options, several lines, anything else.
 */
enum sshkey_form {
	SSHKEY_FORM_PUBLIC,      /* "<type> <base64> [comment]" */
	SSHKEY_FORM_KNOWN_HOSTS, /* that, or "<hosts> <type> <base64> [comment]" */
};

struct sshkey_pub {
	char type[SSHKEY_TYPE_MAX + 1];                 /* "ssh-ed25519", ... */
	char fingerprint[SSH_FINGERPRINT_LEN + 1];      /* "SHA256:..." */
	int bits;                                       /* RSA modulus, ECDSA curve, 256 (Ed25519) */
	char *line;                                     /* owned: "<type> <base64>", no comment */
};

/*
 * Parses one key line (a trailing newline is allowed, nothing after it). 0 and *out, or
 * VT_ERR_VALIDATION with a sentence in err that does not start with a field name (the caller adds
 * "field 'x': "). *out is cleared on entry and set only on success; release with
 * sshkey_pub_clear.
 */
int sshkey_parse(const char *text, enum sshkey_form form, struct sshkey_pub *out,
    char err[static SSH_ERR_MAX]) VT_WUR;
void sshkey_pub_clear(struct sshkey_pub *k);

/* The fingerprint of a libssh public key (e.g. one a client or a target presented). */
int sshkey_fingerprint(const ssh_key key, char out[static SSH_FINGERPRINT_LEN + 1]) VT_WUR;
/* The normalized "<type> <base64>" line of a libssh public key. *line owned by the caller. */
int sshkey_line(const ssh_key key, char **line) VT_WUR;
/*
 * The fingerprint of a stored, already normalized line (no libssh: hashes the decoded blob).
 * VT_ERR_INVALID if the line does not have that shape.
 */
int sshkey_line_fingerprint(const char *line, char out[static SSH_FINGERPRINT_LEN + 1]) VT_WUR;

#endif
