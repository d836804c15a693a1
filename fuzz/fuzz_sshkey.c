/*
 * Public key lines: every login key registered through /api/ssh/keys and every profile's pinned
 * host key goes through sshkey_parse (broker/sshkey.c), in both forms. This harness parses the
 * input as a C string in each form and checks the contract: a refusal leaves the output zero and
 * says why; an accepted key is one of the accepted types, its stored line is "<type> <base64>"
 * whose own fingerprint (hashed without libssh) is the one returned, and the stored line parses
 * again to exactly itself. The public-key form accepts nothing the known_hosts form refuses.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "broker/sshkey.h"
#include "fuzz.h"

static int
check(const char *s, enum sshkey_form form)
{
	char err[SSH_ERR_MAX], fp[SSH_FINGERPRINT_LEN + 1];
	struct sshkey_pub k, again;
	int r;

	memset(err, 'x', sizeof(err));
	r = sshkey_parse(s, form, &k, err);
	if (r != 0) {
		FUZZ_CHECK(r == VT_ERR_VALIDATION);
		FUZZ_CHECK(k.line == NULL && k.fingerprint[0] == '\0' && k.bits == 0);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(k.line != NULL && strncmp(k.line, k.type, strlen(k.type)) == 0 &&
	    k.line[strlen(k.type)] == ' ' && strchr(k.line + strlen(k.type) + 1, ' ') == NULL);
	FUZZ_CHECK(strcmp(k.type, "ssh-ed25519") == 0 || strcmp(k.type, "ssh-rsa") == 0 ||
	    strncmp(k.type, "ecdsa-sha2-nistp", 16) == 0);
	FUZZ_CHECK(k.bits >= 256 && (strcmp(k.type, "ssh-rsa") != 0 || k.bits >= 2048));
	FUZZ_CHECK(strlen(k.fingerprint) == SSH_FINGERPRINT_LEN);
	FUZZ_CHECK(sshkey_line_fingerprint(k.line, fp) == 0 && strcmp(fp, k.fingerprint) == 0);
	FUZZ_CHECK(sshkey_parse(k.line, SSHKEY_FORM_PUBLIC, &again, err) == 0);
	FUZZ_CHECK(strcmp(again.line, k.line) == 0 && strcmp(again.fingerprint, k.fingerprint) == 0);
	sshkey_pub_clear(&again);
	sshkey_pub_clear(&k);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	int pub = check(s, SSHKEY_FORM_PUBLIC);
	int kh = check(s, SSHKEY_FORM_KNOWN_HOSTS);

	FUZZ_CHECK(!pub || kh);
	free(s);
	return 0;
}
