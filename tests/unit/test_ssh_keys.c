/*
 * Unit tests for broker/sshkey.c, the public key lines of broker login keys and pinned host keys.
 * Fixed vectors (keys made once with ssh-keygen, fingerprints as `ssh-keygen -lf` printed them)
 * for Ed25519, ECDSA P-256/384/521 and RSA 2048/3072; then fresh keys made by ssh-keygen at test
 * time, each compared with `ssh-keygen -lf` on the same file; the known_hosts forms (host lists,
 * hashed hosts); and every refusal with its reason: RSA 1024, DSA, security-key keys,
 * certificates, signature algorithm names, unknown types, authorized_keys options, markers, a
 * blob of another type than the line names, trailing or missing blob bytes, bad base64, several
 * lines, control characters, empty and oversized input. A randomized loop mutates valid lines
 * and checks that whatever parses has a fingerprint consistent with its stored line.
 */
#include "broker/sshkey.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "crypto/hash.h"

struct vector {
	const char *type;
	int bits;
	const char *fingerprint;
	const char *line;
};

static const struct vector VECTORS[] = {
	{ "ssh-ed25519", 256, "SHA256:6sjGc76gpu6Frfhsfnhj0z+U5fyk2xBnPyNol2EPTFg",
	    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNAgAMC8j6DVO5I9G1pW8CbKUv2mtrEmCQ+kp3R4Tig"
	    " vec-ed25519" },
	{ "ecdsa-sha2-nistp256", 256, "SHA256:bnqwPlx3DggXxbeRFtJGFU65Ivgqz++Q/nnRTAgv60U",
	    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOrd2oLF"
	    "9E2dsyQ2finb8+PvwOacTD9tYDQGZBSRLQJYMM0M/6H3HdP/CLrr6HMGUO6wRgfd+kfBjpJRfja+Uaw="
	    " vec-ecdsab256" },
	{ "ecdsa-sha2-nistp384", 384, "SHA256:NY76qABc5MVcQOj9UpRwzd43dLk1GlI7CCa6zj+2hac",
	    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBI/mgVf"
	    "Jt6Lrh2ev5lsugVBa6A59UtNZfYA9MBHo4t9SMv2k4XJUmdqeLKQf+o3Jn6LlltkdsyS04elO77NxxYL"
	    "k9xrBxPAmu63iYjtW69umbCQjtmjatnp3MxjzfITIA== vec-ecdsab384" },
	{ "ecdsa-sha2-nistp521", 521, "SHA256:x/wHV/j01Kp3ajctTXBKBmTaH3bZrHxS3GxJrWgmTps",
	    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACHCi/8"
	    "LBqAUY/TotqVQq7Qatvlpr8mX5ZfXioqJSZWuUnQQkbBn2S149fk4b59kVMzHlLKS5d8HDwIKDc1/vPd"
	    "vQFoEt1M7Di7i320tzkx4cQVZng9P6db+fDhssCpESvJ2UycsvDXdrpnhDrXs2K/rMgSqGAhTemxtJTJ"
	    "OSVVx7IRMw== vec-ecdsab521" },
	{ "ssh-rsa", 2048, "SHA256:bwOCIWGo2KGWCrtBajz8Fhke0NSZTfI2C+N+PPNGHDE",
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCabzAETYybeNpqtH3+QIGwrHXj+NCH2hNDmKVh7UH5"
	    "ifa9T7oE4ghEa7+py8tGCrmfjO99Two3wFmz7WOrsBdZWtwspvuqlo7YVj9RrVJlfO4aQFYjGWEXnxLz"
	    "rSI/LIdNCSnmANme5xMlbus5FfB2Z2/FQzw2ayHpNfdjjKMlLQY+nl5fsa83nqF7ZNc8H9VlY8K3SF6T"
	    "TGLpsGt0fOQJIxYq0E87jilbpr2adqatDQM6KFK3uYsbshbsj1+flqkjUTG4ywhdOUtOTLXlhGz5+5em"
	    "eD/3C4c5gITpA73RPdEelVYWkO+z5s9qB9dJ/wMqD7xIgZA6BCOmof9E9uYr vec-rsab2048" },
	{ "ssh-rsa", 3072, "SHA256:HP+V86jzQYy2U3+fqVIOuZzTrWTVgHEuY0hIZ1CVKLk",
	    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCI0n6gH+fLmDEhFuVH2TCgCksakH7CehTWOV94Wz1l"
	    "pX1N+ul2FVsj10UOA8RX6Dw39r8PRt9H3i8BRFGuQO8+MrMqlMQMTKg2dsg4eJNTrnLu/Ebf6L9darQO"
	    "3A2l7VkcIAifcdi151YTNIR1AgM/31dmB21gIRsI2wWOqmOxrH2+vZQ1mGN9MjWezHm3MAClLh2xoQFA"
	    "PgQ0eZ2mnNsyISJeuK4Bf0jb5zFwDrtQbFrbwy/G/m80tV6XDXW4dFjS7npJnTlUh7JAItBLt7pvmHND"
	    "cUkV7o3gCGQJHGBOr3EMsITkGuFeFGOo6UP1ZXVtngfRRzLpC/YfE7OvO6eH7tWmtoIV2eSQzzm0vfmN"
	    "1sU2SXN8BW0VTB/zWcK2HnAFhEyQ8Q+7K86HmU+qb5raCY1qSf9r1ux5+U2FAZte1w05VOOTXBr73H7P"
	    "acR0c06ouVslU+COzwQyjzqMswTNGuKTtvS+2NQdcBxD13V9eaXv01vxPh0VWvfxV5dWny8= vec-rsa"
	    "b3072" },
};
static const char RSA_1024[] =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDhp5H+7BT+o8ku+S5Bpmt8XC3zX1R17xmvE9gHLpMS"
    "12Y2CLeYGbBFHYEV/82jbrfkdTk1n/A+yKJB+iiNMY/LggicMQECV/UHvg2p58xC8TmzQL3xqyzfJSyn"
    "/Qb8pOe49m+zJ9XSbseEUjYAnLXIbU/2cH9OgdwMlmXl8rPc/w== vec-rsab1024";
static const char DSA_KEY[] =
    "ssh-dss AAAAB3NzaC1kc3MAAACBANLMp0M8kmMkxUbm8iR825aCwTQzYNUCX8xfp2n0D0JQ478xRYB5"
    "Qw1rVO+gHUOVPBX9Nmztgm096kSERx4bTkV/OvnWyJNp2LqgtIyoSbXjPwvdSadyEoFDcv+P+RX884bg"
    "tM1sA2B2oRPlLIrCVXyLvgRk9lW2lEJItH1B4iypAAAAFQCXTQYD1mUzyAslm1yUuzxP75lESwAAAIBL"
    "Z+ekia38sYsahXfkz+//HB37Ali0XH3Uu7CaWul6QN0h34FR/YDw1Ujyd/RhKAiIAS4zaDhJidBANxJq"
    "UBxCkLhtbKd9Jg+SCb1oTvhYoF2t95g+/Bc5AD/sH1wN7RSrXXfzxuSnvtmiXf+2b591522aB2uFzpr+"
    "yrKK15GQQAAAAIA15IJnq4zXi5S7tcFxWds8W07afpbJW/IuCDkTOQxUR0XG5nDhXs/S0sLA1aryH4SB"
    "j7gYLwy4Hf/enZNJBu42OQj2RNGteP2ASN5V62wI5F2HPfa4uT9x51aUJq/mvkLyjYurgXsgr/fbXBLj"
    "K8qUg46R9jiDXPi3bqz7rXo6Sw== vec-dsa";
static const char CERT_KEY[] =
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29"
    "tAAAAIPW2xlxKKe4c0lQoxY+ZWimviD11dmso44T/Vn+y5IK0AAAAIGNAgAMC8j6DVO5I9G1pW8CbKUv"
    "2mtrEmCQ+kp3R4TigAAAAAAAAAAAAAAABAAAABHRlc3QAAAAJAAAABWFsaWNlAAAAAAAAAAD////////"
    "//wAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcnd"
    "hcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAA"
    "ADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAINZuI7hb7QqIp6Feytt"
    "VBoWolweb3aPKNYBaHrcbH8NYAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEBXYHkUo3rmvZdkKs04yYHSv+E"
    "gAwNTqM61/66wjdWKFZbgH1/YmzksXwaJ1vbg8+ltjfNhQ1wNf3YXS1+Hq8wK vec-ed25519";


/* A security-key Ed25519 key (public key bytes 0..31, application "ssh:"). */
static const char SK_KEY[] =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAABAgMEBQYHCAkKCwwN"
    "Dg8QERITFBUWFxgZGhscHR4fAAAABHNzaDo=";

/* The "<type> <base64>" part of a vector's line (without the comment). Caller frees. */
static char *
bare(const char *line)
{
	const char *sp = strchr(line, ' ');
	const char *end = strchr(sp + 1, ' ');

	return end != NULL ? xstrndup(line, (size_t)(end - line)) : xstrdup(line);
}

/* Parses text in form and expects a refusal whose message contains `why`. */
static void
expect_refused(const char *text, enum sshkey_form form, const char *why)
{
	struct sshkey_pub k;
	char err[SSH_ERR_MAX] = "";
	int r = sshkey_parse(text, form, &k, err);

	if (r != VT_ERR_VALIDATION || strstr(err, why) == NULL)
		fail_msg("expected a refusal containing '%s', got %d '%s' for: %.80s", why, r, err,
		    text != NULL ? text : "(null)");
	assert_null(k.line);
	assert_int_equal(k.fingerprint[0], '\0');
}

static void
test_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(VECTORS); i++) {
		const struct vector *v = &VECTORS[i];
		char err[SSH_ERR_MAX] = "", fp[SSH_FINGERPRINT_LEN + 1];
		struct sshkey_pub k;
		char *want = bare(v->line);

		assert_int_equal(sshkey_parse(v->line, SSHKEY_FORM_PUBLIC, &k, err), 0);
		assert_string_equal(k.type, v->type);
		assert_int_equal(k.bits, v->bits);
		assert_string_equal(k.fingerprint, v->fingerprint);
		assert_int_equal(strlen(k.fingerprint), SSH_FINGERPRINT_LEN);
		/* Normalized: no comment. */
		assert_string_equal(k.line, want);
		/* The stored line's fingerprint, without libssh, is the same. */
		assert_int_equal(sshkey_line_fingerprint(k.line, fp), 0);
		assert_string_equal(fp, v->fingerprint);
		sshkey_pub_clear(&k);
		assert_null(k.line);
		/* The known_hosts form accepts the plain line too. */
		assert_int_equal(sshkey_parse(v->line, SSHKEY_FORM_KNOWN_HOSTS, &k, err), 0);
		assert_string_equal(k.line, want);
		sshkey_pub_clear(&k);
		free(want);
	}
}

static void
test_line_shapes(void **state)
{
	const struct vector *v = &VECTORS[0];
	char err[SSH_ERR_MAX] = "";
	struct sshkey_pub k;
	char *want = bare(v->line), *s;

	(void)state;
	/* Trailing newline, CRLF, blanks around, tabs between, a comment with spaces. */
	s = xasprintf("%s\n", v->line);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_PUBLIC, &k, err), 0);
	assert_string_equal(k.line, want);
	sshkey_pub_clear(&k);
	free(s);
	s = xasprintf("  %s\r\n", want);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_PUBLIC, &k, err), 0);
	assert_string_equal(k.line, want);
	sshkey_pub_clear(&k);
	free(s);
	s = xasprintf("ssh-ed25519\t%s\tmy laptop key (2026)", strchr(want, ' ') + 1);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_PUBLIC, &k, err), 0);
	assert_string_equal(k.line, want);
	assert_string_equal(k.fingerprint, v->fingerprint);
	sshkey_pub_clear(&k);
	free(s);
	/* known_hosts lines: a host list, a hashed host, with a comment. */
	s = xasprintf("db.internal,10.0.0.5 %s", want);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_KNOWN_HOSTS, &k, err), 0);
	assert_string_equal(k.line, want);
	assert_string_equal(k.fingerprint, v->fingerprint);
	sshkey_pub_clear(&k);
	/* ...which a login key does not accept (that shape is authorized_keys options there). */
	expect_refused(s, SSHKEY_FORM_PUBLIC, "authorized_keys options are not accepted");
	free(s);
	s = xasprintf("|1|F1E1KeoE/eEWhi10WpGv4OdiO6Y=|3988QV0VE8wmZL7suNrYQLITLCg= %s c", want);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_KNOWN_HOSTS, &k, err), 0);
	assert_string_equal(k.line, want);
	sshkey_pub_clear(&k);
	free(s);
	s = xasprintf("[db.internal]:2222 %s", want);
	assert_int_equal(sshkey_parse(s, SSHKEY_FORM_KNOWN_HOSTS, &k, err), 0);
	sshkey_pub_clear(&k);
	free(s);
	s = xasprintf("@cert-authority *.internal %s", want);
	expect_refused(s, SSHKEY_FORM_KNOWN_HOSTS, "markers");
	free(s);
	s = xasprintf("from=\"10.0.0.0/8\",no-pty %s", want);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "options are not accepted");
	free(s);
	free(want);
}

static void
test_refusals(void **state)
{
	const struct vector *ed = &VECTORS[0], *rsa = &VECTORS[4];
	char *ed_b64 = xstrdup(strchr(ed->line, ' ') + 1), *rsa_b64, *s;
	uint8_t blob[SSHKEY_BLOB_MAX + 64];
	char b64[2 * SSHKEY_BLOB_MAX];
	size_t n;

	(void)state;
	*strchr(ed_b64, ' ') = '\0';
	rsa_b64 = xstrdup(strchr(rsa->line, ' ') + 1);
	*strchr(rsa_b64, ' ') = '\0';

	expect_refused(RSA_1024, SSHKEY_FORM_PUBLIC, "at least 2048 bits (this one has 1024)");
	expect_refused(RSA_1024, SSHKEY_FORM_KNOWN_HOSTS, "at least 2048 bits");
	expect_refused(DSA_KEY, SSHKEY_FORM_PUBLIC, "ssh-dss (DSA) keys are obsolete");
	expect_refused(SK_KEY, SSHKEY_FORM_PUBLIC, "security-key (sk-) keys are not supported");
	expect_refused(CERT_KEY, SSHKEY_FORM_PUBLIC, "certificates are not accepted");
	s = xasprintf("rsa-sha2-256 %s", rsa_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "is a signature algorithm, not a key type");
	free(s);
	s = xasprintf("ssh-foo %s", ed_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "'ssh-foo' is not a supported key type");
	free(s);
	expect_refused("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
	    SSHKEY_FORM_PUBLIC, "looks like a private key");
	expect_refused("AAAAC3NzaC1lZDI1NTE5AAAAIGNAgAMC8j6DVO5I9G1pW8CbKUv2mtrEmCQ+kp3R4Tig",
	    SSHKEY_FORM_PUBLIC, "is not an OpenSSH public key line");
	expect_refused("", SSHKEY_FORM_PUBLIC, "is empty");
	expect_refused(NULL, SSHKEY_FORM_PUBLIC, "is empty");
	expect_refused(" \t \n", SSHKEY_FORM_PUBLIC, "is empty");
	expect_refused("ssh-ed25519", SSHKEY_FORM_PUBLIC, "has no key data");
	s = xasprintf("ssh-ed25519 %s\nssh-ed25519 %s", ed_b64, ed_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "one key on one line");
	free(s);
	s = xasprintf("ssh-ed25519 %s a\001b", ed_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "control characters");
	free(s);
	expect_refused("ssh-ed25519 AAAA$$$$", SSHKEY_FORM_PUBLIC, "not valid base64");
	expect_refused("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNAgAMC8j6DVO5I9G1pW8CbKUv2mtrEmCQ+kp3R4Ti",
	    SSHKEY_FORM_PUBLIC, "not valid base64");
	/* The line names one type, the blob is another. */
	s = xasprintf("ssh-ed25519 %s", rsa_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "not of the type the line names");
	free(s);
	s = xasprintf("ssh-rsa %s", ed_b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "not of the type the line names");
	free(s);
	/* Trailing bytes after a valid blob, and a truncated blob. */
	assert_int_equal(b64_decode(ed_b64, strlen(ed_b64), blob, sizeof(blob), &n), 0);
	memcpy(blob + n, "\0\0\0\0", 4);
	b64_encode(blob, n + 4, b64, sizeof(b64));
	s = xasprintf("ssh-ed25519 %s", b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "canonical encoding");
	free(s);
	b64_encode(blob, n - 1, b64, sizeof(b64));
	s = xasprintf("ssh-ed25519 %s", b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "does not parse as an ssh-ed25519 public key");
	free(s);
	/* Too large: a blob past SSHKEY_BLOB_MAX, a line past SSH_PUBKEY_MAX. */
	memset(blob, 'A', sizeof(blob));
	b64_encode(blob, sizeof(blob), b64, sizeof(b64));
	s = xasprintf("ssh-rsa %s", b64);
	expect_refused(s, SSHKEY_FORM_PUBLIC, "too large");
	free(s);
	s = xmalloc(SSH_PUBKEY_MAX + 2);
	memset(s, 'A', SSH_PUBKEY_MAX + 1);
	memcpy(s, "ssh-rsa ", 8);
	s[SSH_PUBKEY_MAX + 1] = '\0';
	expect_refused(s, SSHKEY_FORM_PUBLIC, "longer than");
	free(s);
	free(ed_b64);
	free(rsa_b64);
}

/* Runs a shell command; its first output line into out (NUL-terminated, newline dropped). */
static int
run(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if ((f = popen(cmd, "r")) == NULL)
		return -1;
	out[0] = '\0';
	if (fgets(out, (int)outsz, f) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(f) != EOF)
		;
	rc = pclose(f);
	return rc;
}

static char *
slurp(const char *path)
{
	char buf[SSH_PUBKEY_MAX + 2];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return xstrdup(buf);
}

/* The leading decimal number of s (the bits `ssh-keygen -lf` prints first). */
static long
lead_int(const char *s)
{
	long v = 0;

	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

/* Fresh keys from ssh-keygen: our fingerprint is what `ssh-keygen -lf` prints, every time. */
static void
test_fresh_keys_vs_ssh_keygen(void **state)
{
	static const char *const TYPES[] = { "-t ed25519", "-t ecdsa -b 256", "-t ecdsa -b 384",
		"-t ecdsa -b 521", "-t rsa -b 2048", "-t rsa -b 4096" };
	char dir[] = "/tmp/vt-test-ssh-keys.XXXXXX", line[512], err[SSH_ERR_MAX];
	size_t i;
	int round;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (round = 0; round < 2; round++) {
		for (i = 0; i < VT_NELEM(TYPES); i++) {
			char path[256], *text, fp_word[128] = "";
			struct sshkey_pub k;
			ssh_key key = NULL;
			char fp[SSH_FINGERPRINT_LEN + 1], *kl = NULL;

			snprintf(path, sizeof(path), "%s/k%d_%zu", dir, round, i);
			if (run(line, sizeof(line), "ssh-keygen -q %s -N '' -C 'fresh %zu' -f '%s' "
			    "</dev/null 2>&1", TYPES[i], i, path) != 0)
				fail_msg("ssh-keygen %s failed (is openssh-client installed?): %s",
				    TYPES[i], line);
			assert_int_equal(run(line, sizeof(line), "ssh-keygen -lf '%s.pub'", path), 0);
			/* "<bits> SHA256:... <comment> (<TYPE>)" */
			assert_non_null(strchr(line, ' '));
			snprintf(fp_word, sizeof(fp_word), "%.*s", (int)strcspn(strchr(line, ' ') + 1,
			    " "), strchr(line, ' ') + 1);
			snprintf(path + strlen(path), sizeof(path) - strlen(path), ".pub");
			assert_non_null(text = slurp(path));
			assert_int_equal(sshkey_parse(text, SSHKEY_FORM_PUBLIC, &k, err), 0);
			assert_string_equal(k.fingerprint, fp_word);
			assert_int_equal(k.bits, (int)lead_int(line));
			/* libssh's own view of the same file agrees: line and fingerprint. */
			assert_int_equal(ssh_pki_import_pubkey_file(path, &key), SSH_OK);
			assert_int_equal(sshkey_fingerprint(key, fp), 0);
			assert_string_equal(fp, fp_word);
			assert_int_equal(sshkey_line(key, &kl), 0);
			assert_string_equal(kl, k.line);
			free(kl);
			ssh_key_free(key);
			sshkey_pub_clear(&k);
			free(text);
		}
	}
	assert_int_equal(run(line, sizeof(line), "rm -rf '%s'", dir), 0);
}

/*
 * Random mutations of valid lines (a byte of the base64 changed, a cut, a byte inserted): no
 * crash, and anything accepted has a fingerprint that matches its own stored line.
 */
static void
test_mutations(void **state)
{
	static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t@-";
	char err[SSH_ERR_MAX], fp[SSH_FINGERPRINT_LEN + 1];
	int i, accepted = 0, refused = 0;

	(void)state;
	for (i = 0; i < 3000; i++) {
		const struct vector *v = &VECTORS[(size_t)i % VT_NELEM(VECTORS)];
		char *s = xstrdup(v->line);
		size_t n = strlen(s);
		uint32_t rnd[3];
		struct sshkey_pub k;

		random_bytes(rnd, sizeof(rnd));
		switch (rnd[0] % 3) {
		case 0:
			s[rnd[1] % n] = ALPHA[rnd[2] % (sizeof(ALPHA) - 1)];
			break;
		case 1:
			s[rnd[1] % n] = '\0';
			break;
		default: {
			char *t = xasprintf("%.*s%c%s", (int)(rnd[1] % n), s,
			    ALPHA[rnd[2] % (sizeof(ALPHA) - 1)], s + rnd[1] % n);

			free(s);
			s = t;
			break;
		}
		}
		if (sshkey_parse(s, SSHKEY_FORM_KNOWN_HOSTS, &k, err) == 0) {
			accepted++;
			assert_int_equal(sshkey_line_fingerprint(k.line, fp), 0);
			assert_string_equal(fp, k.fingerprint);
			sshkey_pub_clear(&k);
		} else {
			refused++;
			assert_true(err[0] != '\0');
		}
		free(s);
	}
	/* Most mutations break the key; comment edits and cuts in the comment do not. */
	assert_true(refused > 1000);
	assert_true(accepted > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_line_shapes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_fresh_keys_vs_ssh_keygen),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
