/*
 * Public key lines: tokenized here, the key blob decoded strictly, its inner type name checked
 * against the line's (a line cannot name one type and carry another), imported by libssh and
 * re-exported: a blob that does not come back byte for byte
 * (trailing bytes, a padded integer) is refused, so the stored line, the fingerprint and what
 * OpenSSH prints for the same key always agree.
 */
#include "broker/sshkey.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/encode.h"
#include "base/err.h"
#include "base/vbuf.h"
#include "crypto/hash.h"

#define ACCEPTED_TYPES "ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 bits or more)"

enum type_class {
	TYPE_UNKNOWN,   /* not a key type name we know of: maybe a host list or options */
	TYPE_ACCEPTED,
	TYPE_SK,
	TYPE_CERT,
	TYPE_DSS,
	TYPE_SIGALG,
};

static const struct {
	const char *name;
	enum ssh_keytypes_e kt;
	int bits; /* 0: from the blob (RSA) */
} ACCEPTED[] = {
	{ "ssh-ed25519", SSH_KEYTYPE_ED25519, 256 },
	{ "ecdsa-sha2-nistp256", SSH_KEYTYPE_ECDSA_P256, 256 },
	{ "ecdsa-sha2-nistp384", SSH_KEYTYPE_ECDSA_P384, 384 },
	{ "ecdsa-sha2-nistp521", SSH_KEYTYPE_ECDSA_P521, 521 },
	{ "ssh-rsa", SSH_KEYTYPE_RSA, 0 },
};

static int
has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static enum type_class
type_classify(const char *t, size_t *idx)
{
	size_t i;

	for (i = 0; i < VT_NELEM(ACCEPTED); i++) {
		if (strcmp(t, ACCEPTED[i].name) == 0) {
			*idx = i;
			return TYPE_ACCEPTED;
		}
	}
	if (has_suffix(t, "-cert-v01@openssh.com"))
		return TYPE_CERT;
	if (strncmp(t, "sk-", 3) == 0 && has_suffix(t, "@openssh.com"))
		return TYPE_SK;
	if (strcmp(t, "ssh-dss") == 0)
		return TYPE_DSS;
	if (strcmp(t, "rsa-sha2-256") == 0 || strcmp(t, "rsa-sha2-512") == 0)
		return TYPE_SIGALG;
	return TYPE_UNKNOWN;
}

/* Whether a token has the shape of an SSH algorithm name (worth echoing in a message). */
static int
name_shaped(const char *t)
{
	size_t i, n = strlen(t);

	if (n == 0 || n > SSHKEY_TYPE_MAX || !((t[0] >= 'a' && t[0] <= 'z') ||
	    (t[0] >= 'A' && t[0] <= 'Z')))
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '@' || c == '_'))
			return 0;
	}
	return 1;
}

static int
type_refusal(const char *t, enum type_class c, char err[static SSH_ERR_MAX])
{
	switch (c) {
	case TYPE_SK:
		snprintf(err, SSH_ERR_MAX, "security-key (sk-) keys are not supported by the broker; "
		    "use an " ACCEPTED_TYPES " key");
		break;
	case TYPE_CERT:
		snprintf(err, SSH_ERR_MAX, "OpenSSH certificates are not accepted; send the plain "
		    "public key (" ACCEPTED_TYPES ")");
		break;
	case TYPE_DSS:
		snprintf(err, SSH_ERR_MAX, "ssh-dss (DSA) keys are obsolete and not accepted; use an "
		    ACCEPTED_TYPES " key");
		break;
	case TYPE_SIGALG:
		snprintf(err, SSH_ERR_MAX, "'%s' is a signature algorithm, not a key type: an RSA "
		    "key line starts with ssh-rsa", t);
		break;
	case TYPE_UNKNOWN:
	case TYPE_ACCEPTED:
		if (name_shaped(t))
			snprintf(err, SSH_ERR_MAX, "'%s' is not a supported key type (accepted: "
			    ACCEPTED_TYPES ")", t);
		else
			snprintf(err, SSH_ERR_MAX, "is not an OpenSSH public key line \"<type> "
			    "<base64> [comment]\" (accepted types: " ACCEPTED_TYPES ")");
		break;
	}
	return VT_ERR_VALIDATION;
}

/* Bits of an RSA modulus: the blob is string "ssh-rsa", mpint e, mpint n. */
static int
rsa_bits(const uint8_t *blob, size_t len, int *bits)
{
	struct vbuf *b = vbuf_view(blob, len);
	const uint8_t *p;
	size_t n;
	int r;

	*bits = 0;
	if ((r = vbuf_get_string_ptr(b, SSHKEY_TYPE_MAX, &p, &n)) != 0 ||
	    (r = vbuf_get_string_ptr(b, SSHKEY_BLOB_MAX, &p, &n)) != 0 ||
	    (r = vbuf_get_string_ptr(b, SSHKEY_BLOB_MAX, &p, &n)) != 0)
		goto out;
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n > 0) {
		uint8_t top = p[0];

		*bits = (int)(n - 1) * 8;
		while (top != 0) {
			(*bits)++;
			top >>= 1;
		}
	}
 out:
	vbuf_free(b);
	return r;
}

/*
 * Splits s (modified in place) at spaces and tabs into at most max tokens; *n is how many were
 * found (the rest of the line, a comment, is not needed).
 */
static void
tokenize(char *s, char **tok, int max, int *n)
{
	*n = 0;
	while (*s != '\0' && *n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		tok[(*n)++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
}

/* "SHA256:" + the unpadded base64 of a SHA-256 digest, as OpenSSH prints it. */
static int
fp_format(const uint8_t h[static HASH_SHA256_LEN], char out[static SSH_FINGERPRINT_LEN + 1])
{
	char b64[46];
	size_t n;

	b64_encode(h, HASH_SHA256_LEN, b64, sizeof(b64));
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	if (n != SSH_FINGERPRINT_LEN - 7)
		return VT_ERR_INTERNAL;
	memcpy(out, "SHA256:", 7);
	memcpy(out + 7, b64, n + 1);
	return 0;
}

int
sshkey_fingerprint(const ssh_key key, char out[static SSH_FINGERPRINT_LEN + 1])
{
	unsigned char *h = NULL;
	size_t hlen = 0;
	int r;

	out[0] = '\0';
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &h, &hlen) != SSH_OK)
		return VT_ERR_INVALID;
	r = hlen == HASH_SHA256_LEN ? fp_format(h, out) : VT_ERR_INTERNAL;
	ssh_clean_pubkey_hash(&h);
	return r;
}

int
sshkey_line_fingerprint(const char *line, char out[static SSH_FINGERPRINT_LEN + 1])
{
	uint8_t blob[SSHKEY_BLOB_MAX], h[HASH_SHA256_LEN];
	const char *sp = line != NULL ? strchr(line, ' ') : NULL;
	size_t len;

	out[0] = '\0';
	if (sp == NULL || b64_decode(sp + 1, strlen(sp + 1), blob, sizeof(blob), &len) != 0)
		return VT_ERR_INVALID;
	hash_sha256(blob, len, h);
	return fp_format(h, out);
}

int
sshkey_line(const ssh_key key, char **line)
{
	const char *type;
	char *b64 = NULL;

	*line = NULL;
	type = ssh_key_type_to_char(ssh_key_type(key));
	if (type == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
		return VT_ERR_INVALID;
	*line = xasprintf("%s %s", type, b64);
	ssh_string_free_char(b64);
	return 0;
}

void
sshkey_pub_clear(struct sshkey_pub *k)
{
	if (k == NULL)
		return;
	free(k->line);
	memset(k, 0, sizeof(*k));
}

/*
 * Imports blob (the line's key data, of the accepted type ACCEPTED[idx]) and checks that it
 * round-trips to b64. libssh's import is told the type; the type string inside the blob is
 * checked here first, so a line cannot name one type and carry another.
 */
static int
blob_import(const uint8_t *blob, size_t len, size_t idx, const char *b64, struct sshkey_pub *k,
    char err[static SSH_ERR_MAX])
{
	struct vbuf *b = vbuf_view(blob, len);
	const uint8_t *t;
	ssh_key key = NULL;
	char *again = NULL;
	size_t tn;
	int r = VT_ERR_VALIDATION;

	if (vbuf_get_string_ptr(b, SSHKEY_TYPE_MAX, &t, &tn) != 0 ||
	    tn != strlen(ACCEPTED[idx].name) ||
	    memcmp(t, ACCEPTED[idx].name, tn) != 0) { /* checksrc:ok a public type name */
		snprintf(err, SSH_ERR_MAX, "the key data is not of the type the line names (%s)",
		    ACCEPTED[idx].name);
		goto out;
	}
	if (ssh_pki_import_pubkey_base64(b64, ACCEPTED[idx].kt, &key) != SSH_OK || key == NULL ||
	    ssh_key_type(key) != ACCEPTED[idx].kt ||
	    ssh_pki_export_pubkey_base64(key, &again) != SSH_OK) {
		snprintf(err, SSH_ERR_MAX, "the key data does not parse as an %s public key",
		    ACCEPTED[idx].name);
		goto out;
	}
	if (strcmp(again, b64) != 0) {
		snprintf(err, SSH_ERR_MAX, "the key data is not in OpenSSH's canonical encoding "
		    "(extra or padded bytes)");
		goto out;
	}
	if ((r = sshkey_fingerprint(key, k->fingerprint)) != 0)
		goto out;
	r = 0;
 out:
	if (again != NULL)
		ssh_string_free_char(again);
	ssh_key_free(key);
	vbuf_free(b);
	return r;
}

int
sshkey_parse(const char *text, enum sshkey_form form, struct sshkey_pub *out,
    char err[static SSH_ERR_MAX])
{
	uint8_t blob[SSHKEY_BLOB_MAX];
	struct sshkey_pub k;
	char *copy = NULL, *tok[3], *type, *b64;
	enum type_class c0, c1 = TYPE_UNKNOWN;
	size_t n, i, idx = 0, blen = 0;
	int ntok, r = VT_ERR_VALIDATION;

	memset(out, 0, sizeof(*out));
	memset(&k, 0, sizeof(k));
	if (text == NULL || (n = strlen(text)) == 0) {
		snprintf(err, SSH_ERR_MAX, "is empty");
		return VT_ERR_VALIDATION;
	}
	if (n > SSH_PUBKEY_MAX) {
		snprintf(err, SSH_ERR_MAX, "is longer than %d bytes", SSH_PUBKEY_MAX);
		return VT_ERR_VALIDATION;
	}
	copy = xstrndup(text, n);
	/* One line: a trailing newline (and blanks) is fine, a second line is not. */
	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r' || copy[n - 1] == ' ' ||
	    copy[n - 1] == '\t'))
		copy[--n] = '\0';
	if (strstr(copy, "PRIVATE KEY") != NULL) {
		/* Say so without echoing any of it. */
		snprintf(err, SSH_ERR_MAX, "looks like a private key: send the public key (the .pub "
		    "file) instead, and keep the private key to yourself");
		goto out;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)copy[i];

		if (ch == '\n' || ch == '\r') {
			snprintf(err, SSH_ERR_MAX, "must be one key on one line");
			goto out;
		}
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(err, SSH_ERR_MAX, "contains control characters");
			goto out;
		}
	}
	tokenize(copy, tok, 3, &ntok);
	if (ntok == 0) {
		snprintf(err, SSH_ERR_MAX, "is empty");
		goto out;
	}
	if (tok[0][0] == '@') {
		snprintf(err, SSH_ERR_MAX, "known_hosts markers (@cert-authority, @revoked) are not "
		    "accepted; send the host's key line");
		goto out;
	}
	c0 = type_classify(tok[0], &idx);
	if (c0 == TYPE_UNKNOWN && ntok >= 3)
		c1 = type_classify(tok[1], &idx);
	if (c0 == TYPE_UNKNOWN && c1 != TYPE_UNKNOWN) {
		/* "<something> <type> <base64>": a known_hosts line, or authorized_keys options. */
		if (form != SSHKEY_FORM_KNOWN_HOSTS) {
			snprintf(err, SSH_ERR_MAX, "authorized_keys options are not accepted; send "
			    "only \"<type> <base64> [comment]\"");
			goto out;
		}
		type = tok[1];
		b64 = tok[2];
		c0 = c1;
	} else {
		type = tok[0];
		b64 = ntok >= 2 ? tok[1] : NULL;
	}
	if (c0 != TYPE_ACCEPTED) {
		r = type_refusal(type, c0, err);
		goto out;
	}
	if (b64 == NULL) {
		snprintf(err, SSH_ERR_MAX, "has no key data after the type");
		goto out;
	}
	if (strlen(b64) > (SSHKEY_BLOB_MAX / 3 + 1) * 4 ||
	    b64_decode(b64, strlen(b64), blob, sizeof(blob), &blen) != 0) {
		snprintf(err, SSH_ERR_MAX, strlen(b64) > (SSHKEY_BLOB_MAX / 3 + 1) * 4 ?
		    "the key data is too large" : "the key data is not valid base64");
		goto out;
	}
	if ((r = blob_import(blob, blen, idx, b64, &k, err)) != 0)
		goto out;
	k.bits = ACCEPTED[idx].bits;
	if (k.bits == 0 && (rsa_bits(blob, blen, &k.bits) != 0 || k.bits < SSHKEY_RSA_MIN_BITS)) {
		snprintf(err, SSH_ERR_MAX, "RSA keys must have at least %d bits (this one has %d)",
		    SSHKEY_RSA_MIN_BITS, k.bits);
		r = VT_ERR_VALIDATION;
		goto out;
	}
	snprintf(k.type, sizeof(k.type), "%s", ACCEPTED[idx].name);
	k.line = xasprintf("%s %s", k.type, b64);
	*out = k;
	memset(&k, 0, sizeof(k));
	r = 0;
 out:
	sshkey_pub_clear(&k);
	free(copy);
	return r;
}
