/*
 * Unit tests for audit/counter, the MAC-protected license counter file. The exact bytes of the
 * documented format (MAC recomputed here with OpenSSL's HMAC, independently of the module), the
 * reserve/commit protocol and a crash between its phases, counter_check's verdicts at every
 * boundary, rebase never reusing a handed-out value, tampering (every single-byte change, every
 * truncation, a lowered number under the old MAC, another key), malformed files that carry a
 * valid MAC (so the parser itself is what refuses them), unsafe paths (symlink, directory, FIFO,
 * group/world-writable), the lock, a stale or planted .tmp, and a randomized reopen loop. Every
 * test runs in its own mkdtemp directory, removed afterwards.
 */
#include "audit/counter.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/secmem.h"
#include "crypto/hash.h"

static uint8_t KEY[COUNTER_KEY_LEN];
static uint8_t KEY2[COUNTER_KEY_LEN];

struct fixture {
	char dir[64];
	char path[128]; /* dir/license-state */
	char tmp[160];  /* path.tmp */
	char lock[160]; /* path.lock */
};

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vt-counter-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, COUNTER_DEFAULT_NAME);
	snprintf(f->tmp, sizeof(f->tmp), "%s.tmp", f->path);
	snprintf(f->lock, sizeof(f->lock), "%s.lock", f->path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r = nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(f);
	return r;
}

/* The whole file for body under key, MAC computed with OpenSSL directly. Caller frees. */
static char *
file_for(const uint8_t *key, const char *body)
{
	uint8_t mac[32];
	unsigned maclen = 0;
	char hex[65];
	size_t i, n = strlen(body);
	char *out = malloc(n + 70);

	assert_non_null(out);
	assert_non_null(HMAC(EVP_sha256(), key, COUNTER_KEY_LEN, (const uint8_t *)body, n, mac,
	    &maclen));
	assert_int_equal(maclen, 32);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(out, n + 70, "%smac %s\n", body, hex);
	return out;
}

static void
put_bytes(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Writes body with a valid MAC under key. */
static void
put_body(const char *path, const uint8_t *key, const char *body)
{
	char *s = file_for(key, body);

	put_bytes(path, s, strlen(s), 0600);
	free(s);
}

/* The file's bytes; *len receives the length. Caller frees. */
static char *
slurp(const char *path, size_t *len)
{
	char *buf = calloc(1, 4096);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	n = read(fd, buf, 4095);
	assert_true(n >= 0);
	close(fd);
	*len = (size_t)n;
	return buf;
}

static struct license_counter *
open_ok(const struct fixture *f, const uint8_t *key)
{
	struct license_counter *c = NULL;

	assert_int_equal(counter_open(f->path, key, &c), 0);
	assert_non_null(c);
	return c;
}

static void
assert_state(struct license_counter *c, uint64_t committed, uint64_t reserved)
{
	struct counter_state st;

	assert_int_equal(counter_read(c, &st), 0);
	assert_int_equal(st.committed, committed);
	assert_int_equal(st.reserved, reserved);
}

static void
test_round_trip_exact_bytes(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 3, .reserved = 5 }, got;
	char *want, *have;
	struct stat sb;
	size_t len;

	got.committed = got.reserved = 99;
	assert_int_equal(counter_read(c, &got), VT_ERR_NOT_FOUND);
	assert_int_equal(got.committed, 0); /* cleared on failure */
	assert_int_equal(got.reserved, 0);
	assert_int_equal(stat(f->lock, &sb), 0); /* the lock file exists, 0600 */
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_int_equal(counter_write(c, &st), 0);
	assert_state(c, 3, 5);
	want = file_for(KEY, "vaultterm-license-state 1\ncommitted 3\nreserved 5\n");
	have = slurp(f->path, &len);
	assert_int_equal(len, strlen(want));
	assert_string_equal(have, want);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(access(f->tmp, F_OK), -1); /* nothing left behind */
	free(want);
	free(have);

	/* Boundaries: 0/0, and COUNTER_MAX (19 digits) round-trip. */
	st.committed = st.reserved = 0;
	assert_int_equal(counter_write(c, &st), 0);
	assert_state(c, 0, 0);
	st.committed = COUNTER_MAX - 1;
	st.reserved = COUNTER_MAX;
	assert_int_equal(counter_write(c, &st), 0);
	assert_state(c, COUNTER_MAX - 1, COUNTER_MAX);
	have = slurp(f->path, &len);
	assert_non_null(strstr(have, "\nreserved 9223372036854775807\n"));
	free(have);

	/* A reopened handle (after close) reads the same. */
	counter_close(c);
	c = open_ok(f, KEY);
	assert_state(c, COUNTER_MAX - 1, COUNTER_MAX);
	counter_close(c);
}

static void
test_write_rejects_inconsistent(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 4, .reserved = 4 };

	assert_int_equal(counter_write(c, &st), 0);
	st.committed = 5;
	assert_int_equal(counter_write(c, &st), VT_ERR_RANGE);
	st.committed = 0;
	st.reserved = COUNTER_MAX + 1;
	assert_int_equal(counter_write(c, &st), VT_ERR_RANGE);
	st.reserved = UINT64_MAX;
	assert_int_equal(counter_write(c, &st), VT_ERR_RANGE);
	assert_state(c, 4, 4); /* untouched */
	counter_close(c);
}

static void
test_reserve_commit_sequence(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	uint64_t next = 77, i;

	/* Nothing to reserve from until the file exists. */
	assert_int_equal(counter_reserve(c, 0, &next), VT_ERR_NOT_FOUND);
	assert_int_equal(next, 0);
	assert_int_equal(counter_commit(c, 1), VT_ERR_NOT_FOUND);
	assert_int_equal(counter_rebase(c, 0), 0); /* first boot */
	assert_state(c, 0, 0);

	for (i = 1; i <= 5; i++) {
		assert_int_equal(counter_reserve(c, i - 1, &next), 0);
		assert_int_equal(next, i);
		assert_state(c, i - 1, i); /* reserved is durable before the value is used */
		assert_int_equal(counter_commit(c, next), 0);
		assert_state(c, i, i);
	}
	/* Committing an older value changes nothing; one never reserved is refused. */
	assert_int_equal(counter_commit(c, 3), 0);
	assert_state(c, 5, 5);
	assert_int_equal(counter_commit(c, 6), VT_ERR_RANGE);
	assert_state(c, 5, 5);

	/* Two reservations before a commit (a failed database transaction): never the same value. */
	assert_int_equal(counter_reserve(c, 5, &next), 0);
	assert_int_equal(next, 6);
	assert_int_equal(counter_reserve(c, 5, &next), 0);
	assert_int_equal(next, 7);
	assert_state(c, 5, 7);
	assert_int_equal(counter_commit(c, 7), 0);
	assert_state(c, 7, 7);

	/* db_max above reserved: continue after the database; committed follows db_max. */
	assert_int_equal(counter_reserve(c, 20, &next), 0);
	assert_int_equal(next, 21);
	assert_state(c, 20, 21);

	/* db_max below committed is a rollback: nothing is reserved or written. */
	assert_int_equal(counter_commit(c, 21), 0);
	next = 5;
	assert_int_equal(counter_reserve(c, 20, &next), VT_ERR_CONFLICT);
	assert_int_equal(next, 0);
	assert_state(c, 21, 21);

	/* The top of the range. */
	assert_int_equal(counter_reserve(c, COUNTER_MAX + 1, &next), VT_ERR_RANGE);
	assert_int_equal(counter_reserve(c, COUNTER_MAX - 1, &next), 0);
	assert_int_equal(next, COUNTER_MAX);
	assert_int_equal(counter_commit(c, COUNTER_MAX), 0);
	assert_int_equal(counter_reserve(c, COUNTER_MAX, &next), VT_ERR_RANGE);
	assert_int_equal(next, 0);
	assert_state(c, COUNTER_MAX, COUNTER_MAX);
	counter_close(c);
}

/* The process dies after counter_reserve, before or after the database COMMIT. */
static void
test_crash_between_reserve_and_commit(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st;
	uint64_t next;
	char why[COUNTER_REASON_MAX];

	assert_int_equal(counter_rebase(c, 4), 0);
	assert_int_equal(counter_reserve(c, 4, &next), 0);
	assert_int_equal(next, 5);
	counter_close(c); /* "crash": counter_commit never ran */

	c = open_ok(f, KEY);
	assert_int_equal(counter_read(c, &st), 0);
	assert_int_equal(st.committed, 4);
	assert_int_equal(st.reserved, 5);
	/* The database COMMIT did not happen (db_max 4) or did (db_max 5): both are fine. */
	assert_int_equal(counter_check(&st, 4, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(&st, 5, why, sizeof(why)), COUNTER_OK);
	assert_non_null(strstr(why, "within"));
	/* Restart when the COMMIT happened: the next reservation records committed = 5. */
	assert_int_equal(counter_reserve(c, 5, &next), 0);
	assert_int_equal(next, 6);
	assert_state(c, 5, 6);
	counter_close(c);

	/* ... and when it did not: the unused 5 stays retired, 6 is next. */
	c = open_ok(f, KEY);
	assert_int_equal(counter_rebase(c, 4), 0);
	assert_state(c, 4, 6);
	assert_int_equal(counter_reserve(c, 4, &next), 0);
	assert_int_equal(next, 7);
	counter_close(c);
}

static void
test_check_verdicts(void **state)
{
	struct counter_state st = { .committed = 7, .reserved = 9 };
	char why[COUNTER_REASON_MAX], tiny[8];

	(void)state;
	assert_int_equal(counter_check(&st, 6, why, sizeof(why)), COUNTER_ROLLBACK);
	assert_non_null(strstr(why, "counter 6 is below the committed license counter 7"));
	assert_int_equal(counter_check(&st, 0, why, sizeof(why)), COUNTER_ROLLBACK);
	assert_int_equal(counter_check(&st, 7, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(&st, 8, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(&st, 9, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(&st, 10, why, sizeof(why)), COUNTER_AHEAD);
	assert_non_null(strstr(why, "counter 10 is above the reserved license counter 9"));
	assert_int_equal(counter_check(&st, UINT64_MAX, why, sizeof(why)), COUNTER_AHEAD);

	/* No file: first boot only when the database has no checkpoints either. */
	assert_int_equal(counter_check(NULL, 0, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(NULL, 1, why, sizeof(why)), COUNTER_MISSING);
	assert_non_null(strstr(why, "missing"));

	/* The reason is optional and always NUL-terminated. */
	assert_int_equal(counter_check(&st, 6, NULL, 0), COUNTER_ROLLBACK);
	memset(tiny, 'x', sizeof(tiny));
	assert_int_equal(counter_check(&st, 6, tiny, sizeof(tiny)), COUNTER_ROLLBACK);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);

	/* The same at the extremes of the range. */
	st.committed = 0;
	st.reserved = 0;
	assert_int_equal(counter_check(&st, 0, why, sizeof(why)), COUNTER_OK);
	assert_int_equal(counter_check(&st, 1, why, sizeof(why)), COUNTER_AHEAD);
	st.committed = st.reserved = COUNTER_MAX;
	assert_int_equal(counter_check(&st, COUNTER_MAX - 1, why, sizeof(why)), COUNTER_ROLLBACK);
	assert_int_equal(counter_check(&st, COUNTER_MAX, why, sizeof(why)), COUNTER_OK);
}

/* A database restored from an older copy, detected through the file, then acknowledged. */
static void
test_rollback_detect_and_rebase(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st;
	uint64_t next, i;

	assert_int_equal(counter_rebase(c, 0), 0);
	for (i = 1; i <= 9; i++) {
		/* 8 and 9 are reserved but their database transactions fail. */
		assert_int_equal(counter_reserve(c, i <= 7 ? i - 1 : 7, &next), 0);
		assert_int_equal(next, i);
		if (i <= 7)
			assert_int_equal(counter_commit(c, next), 0);
	}
	assert_state(c, 7, 9);
	assert_int_equal(counter_read(c, &st), 0);
	/* The database now says 5: two committed checkpoints are gone. */
	assert_int_equal(counter_check(&st, 5, NULL, 0), COUNTER_ROLLBACK);
	assert_int_equal(counter_reserve(c, 5, &next), VT_ERR_CONFLICT);

	/* The operator acknowledges: committed follows the database, 6..9 stay retired. */
	assert_int_equal(counter_rebase(c, 5), 0);
	assert_state(c, 5, 9);
	assert_int_equal(counter_read(c, &st), 0);
	assert_int_equal(counter_check(&st, 5, NULL, 0), COUNTER_OK);
	assert_int_equal(counter_reserve(c, 5, &next), 0);
	assert_int_equal(next, 10);

	/* Rebase to a database ahead of the file: both follow it. */
	assert_int_equal(counter_rebase(c, 12), 0);
	assert_state(c, 12, 12);
	/* Rebase over a file that fails its MAC, or is malformed: re-created at db_max. */
	put_body(f->path, KEY2, "vaultterm-license-state 1\ncommitted 50\nreserved 60\n");
	assert_int_equal(counter_rebase(c, 8), 0);
	assert_state(c, 8, 8);
	put_bytes(f->path, "garbage\n", 8, 0600);
	assert_int_equal(counter_rebase(c, 3), 0);
	assert_state(c, 3, 3);
	/* ... and over no file at all. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(counter_rebase(c, 2), 0);
	assert_state(c, 2, 2);
	/* An unsafe file is not replaced by a rebase. */
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(counter_rebase(c, 1), VT_ERR_CONFIG);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_state(c, 2, 2);
	assert_int_equal(counter_rebase(c, COUNTER_MAX + 1), VT_ERR_RANGE);
	counter_close(c);
}

/* The database is ahead of the file: another server sequenced, or the file was restored. */
static void
test_ahead(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st;
	char *old;
	size_t len;
	uint64_t next;

	assert_int_equal(counter_rebase(c, 3), 0);
	old = slurp(f->path, &len); /* an older, valid copy */
	assert_int_equal(counter_reserve(c, 3, &next), 0);
	assert_int_equal(counter_commit(c, next), 0);
	assert_int_equal(counter_reserve(c, 4, &next), 0);
	assert_int_equal(counter_commit(c, next), 0);
	assert_state(c, 5, 5);

	/* Replaying the older copy verifies (the MAC cannot prevent that) but shows as AHEAD. */
	put_bytes(f->path, old, len, 0600);
	assert_int_equal(counter_read(c, &st), 0);
	assert_int_equal(st.committed, 3);
	assert_int_equal(counter_check(&st, 5, NULL, 0), COUNTER_AHEAD);
	/* The sequencer continues after the database, never reusing its values. */
	assert_int_equal(counter_reserve(c, 5, &next), 0);
	assert_int_equal(next, 6);
	assert_state(c, 5, 6);
	free(old);
	counter_close(c);
}

static void
test_tamper_every_byte(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 12, .reserved = 345 };
	char *orig, *buf;
	size_t len, i, body;
	int bit;

	assert_int_equal(counter_write(c, &st), 0);
	orig = slurp(f->path, &len);
	body = (size_t)(strstr(orig, "mac ") - orig);
	buf = malloc(len);
	assert_non_null(buf);
	log_set_level(LOG_LEVEL_FATAL); /* ~1,500 refusals, one error line each */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			int r;

			memcpy(buf, orig, len);
			buf[i] ^= (char)(1 << bit);
			put_bytes(f->path, buf, len, 0600);
			r = counter_read(c, &st);
			if (i < body)
				assert_int_equal(r, VT_ERR_VERIFY); /* the MAC is checked first */
			else
				assert_true(r == VT_ERR_VERIFY || r == VT_ERR_INVALID);
			assert_int_equal(st.committed, 0);
			assert_int_equal(st.reserved, 0);
		}
	}
	/* Every truncation, and one trailing byte. */
	for (i = 0; i < len; i++) {
		put_bytes(f->path, orig, i, 0600);
		assert_int_not_equal(counter_read(c, &st), 0);
	}
	log_set_level(LOG_LEVEL_INFO);
	put_bytes(f->path, orig, len, 0600);
	assert_state(c, 12, 345);
	{
		char *longer = malloc(len + 1);

		assert_non_null(longer);
		memcpy(longer, orig, len);
		longer[len] = '\n';
		put_bytes(f->path, longer, len + 1, 0600);
		assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
		free(longer);
	}
	free(buf);
	free(orig);
	counter_close(c);
}

/* Lowering a value (the attack this exists for) without the key: the old MAC does not fit. */
static void
test_tamper_number_keeps_mac(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 700, .reserved = 701 };
	char *buf, *p;
	size_t len;

	assert_int_equal(counter_write(c, &st), 0);
	buf = slurp(f->path, &len);
	p = strstr(buf, "committed 700");
	assert_non_null(p);
	p[10] = '6'; /* committed 600, same length, old MAC */
	put_bytes(f->path, buf, len, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_VERIFY);
	free(buf);

	/* A shorter number with the old MAC. */
	buf = file_for(KEY, "vaultterm-license-state 1\ncommitted 700\nreserved 701\n");
	p = strstr(buf, "mac ");
	{
		char forged[256];

		snprintf(forged, sizeof(forged), "vaultterm-license-state 1\ncommitted 7\n"
		    "reserved 701\n%s", p);
		put_bytes(f->path, forged, strlen(forged), 0600);
		assert_int_equal(counter_read(c, &st), VT_ERR_VERIFY);
	}
	free(buf);
	/* A MAC computed under another key. */
	put_body(f->path, KEY2, "vaultterm-license-state 1\ncommitted 700\nreserved 701\n");
	assert_int_equal(counter_read(c, &st), VT_ERR_VERIFY);
	put_body(f->path, KEY, "vaultterm-license-state 1\ncommitted 700\nreserved 701\n");
	assert_state(c, 700, 701);
	counter_close(c);
}

static void
test_wrong_key(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 1, .reserved = 2 };
	uint64_t next;

	assert_int_equal(counter_write(c, &st), 0);
	counter_close(c);
	c = open_ok(f, KEY2);
	assert_int_equal(counter_read(c, &st), VT_ERR_VERIFY);
	assert_int_equal(counter_reserve(c, 1, &next), VT_ERR_VERIFY);
	assert_int_equal(counter_commit(c, 2), VT_ERR_VERIFY);
	counter_close(c);
	c = open_ok(f, KEY);
	assert_state(c, 1, 2); /* the failed calls wrote nothing */
	counter_close(c);
}

/* Malformed bodies under a VALID MAC, so the parser (not the MAC) must refuse them. */
static void
test_malformed_with_valid_mac(void **state)
{
	static const char *const bad[] = {
		"vaultterm-license-state 1\ncommitted 03\nreserved 5\n",     /* leading zero */
		"vaultterm-license-state 1\ncommitted 3\nreserved 05\n",
		"vaultterm-license-state 1\ncommitted 00\nreserved 5\n",
		"vaultterm-license-state 1\ncommitted 3\nreserved 5\nextra 1\n", /* extra line */
		"vaultterm-license-state 1\ncommitted 3\nreserved 5\n\n",
		"vaultterm-license-state 1\n\ncommitted 3\nreserved 5\n",
		"vaultterm-license-state 1\ncommitted 3\nreserved 5",         /* missing newline */
		"vaultterm-license-state 1\ncommitted 3reserved 5\n",
		"vaultterm-license-state 1\ncommitted 6\nreserved 5\n",       /* committed > reserved */
		"vaultterm-license-state 1\ncommitted 1\nreserved 100000000000000000000\n", /* 21 */
		"vaultterm-license-state 1\ncommitted 1\nreserved 18446744073709551616\n", /* > u64 */
		"vaultterm-license-state 1\ncommitted 1\nreserved 18446744073709551615\n", /* > MAX */
		"vaultterm-license-state 1\ncommitted 1\nreserved 9223372036854775808\n",
		"vaultterm-license-state 1\ncommitted 1\nreserved 99999999999999999999\n",
		"vaultterm-license-state 2\ncommitted 3\nreserved 5\n",       /* version */
		"vaultterm-license-state 1 \ncommitted 3\nreserved 5\n",
		"vaultterm-license-state 1\nreserved 5\ncommitted 3\n",       /* order */
		"vaultterm-license-state 1\ncommitted 3\n",                   /* missing line */
		"vaultterm-license-state 1\ncommitted +3\nreserved 5\n",      /* sign */
		"vaultterm-license-state 1\ncommitted -3\nreserved 5\n",
		"vaultterm-license-state 1\ncommitted  3\nreserved 5\n",      /* spaces */
		"vaultterm-license-state 1\ncommitted 3 \nreserved 5\n",
		"vaultterm-license-state 1\ncommitted\t3\nreserved 5\n",
		"vaultterm-license-state 1\ncommitted \nreserved 5\n",        /* no digits */
		"vaultterm-license-state 1\ncommitted 0x3\nreserved 5\n",
		"vaultterm-license-state 1\r\ncommitted 3\r\nreserved 5\r\n", /* CRLF */
		"Vaultterm-license-state 1\ncommitted 3\nreserved 5\n",
		"vaultterm-license-state 1\nCommitted 3\nreserved 5\n",
		"vaultterm-license-state 1\ncommitted 3\nreserved 5\nmac 00\n", /* two mac lines */
	};
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st;
	size_t i;

	for (i = 0; i < VT_NELEM(bad); i++) {
		put_body(f->path, KEY, bad[i]);
		if (counter_read(c, &st) != VT_ERR_INVALID)
			fail_msg("accepted or misjudged variant %zu: %s", i, bad[i]);
		assert_int_equal(st.committed, 0);
		assert_int_equal(st.reserved, 0);
	}
	/* The largest accepted values and the smallest: 0 without a leading zero, COUNTER_MAX. */
	put_body(f->path, KEY, "vaultterm-license-state 1\ncommitted 0\n"
	    "reserved 9223372036854775807\n");
	assert_state(c, 0, COUNTER_MAX);
	counter_close(c);
}

/* Malformed framing around the MAC: checked before the MAC is computed. */
static void
test_malformed_framing(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st;
	char *good = file_for(KEY, "vaultterm-license-state 1\ncommitted 3\nreserved 5\n");
	char *p, buf[512];
	size_t len = strlen(good), i;

	/* Upper-case hex is not the format, even though it is the same MAC. */
	memcpy(buf, good, len);
	p = strstr(buf, "mac ") + 4;
	for (i = 0; i < 64; i++)
		if (p[i] >= 'a' && p[i] <= 'f')
			p[i] = (char)(p[i] - 'a' + 'A');
	put_bytes(f->path, buf, len, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
	/* Missing final newline. */
	put_bytes(f->path, good, len - 1, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
	/* "MAC " instead of "mac ". */
	memcpy(buf, good, len);
	memcpy(strstr(buf, "mac "), "MAC ", 4);
	put_bytes(f->path, buf, len, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
	/* A NUL inside the body. */
	memcpy(buf, good, len);
	buf[30] = '\0';
	put_bytes(f->path, buf, len, 0600);
	assert_int_not_equal(counter_read(c, &st), 0);
	/* Empty and oversized files. */
	put_bytes(f->path, "", 0, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
	memset(buf, '1', sizeof(buf));
	put_bytes(f->path, buf, COUNTER_FILE_MAX + 1, 0600);
	assert_int_equal(counter_read(c, &st), VT_ERR_INVALID);
	put_bytes(f->path, good, len, 0600);
	assert_state(c, 3, 5);
	free(good);
	counter_close(c);
}

static void
test_unsafe_paths(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 1, .reserved = 1 };
	char target[200];

	/* A symlink to a perfectly valid file is refused, for reading and for writing. */
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	put_body(target, KEY, "vaultterm-license-state 1\ncommitted 1\nreserved 1\n");
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(counter_write(c, &st), VT_ERR_CONFIG);
	assert_int_equal(counter_rebase(c, 0), VT_ERR_CONFIG);
	assert_int_equal(unlink(f->path), 0);
	/* A dangling symlink too. */
	assert_int_equal(symlink("/nonexistent/vt-counter", f->path), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(unlink(f->path), 0);
	/* A directory. */
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	st.committed = st.reserved = 1;
	assert_int_equal(counter_write(c, &st), VT_ERR_CONFIG);
	assert_int_equal(rmdir(f->path), 0);
	/* A FIFO: refused without blocking. */
	assert_int_equal(mkfifo(f->path, 0600), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(unlink(f->path), 0);

	/* World- and group-writable files are refused; group/world-readable is fine. */
	st.committed = st.reserved = 1;
	assert_int_equal(counter_write(c, &st), 0);
	assert_int_equal(chmod(f->path, 0602), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(chmod(f->path, 0620), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(counter_read(c, &st), VT_ERR_CONFIG);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_state(c, 1, 1);
	/* A write leaves 0600 behind, whatever the old mode. */
	assert_int_equal(counter_write(c, &st), 0);
	{
		struct stat sb;

		assert_int_equal(stat(f->path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	counter_close(c);

	/* The lock file: a symlink is refused, as is a world-writable one. */
	assert_int_equal(unlink(f->lock), 0);
	assert_int_equal(symlink(target, f->lock), 0);
	c = (struct license_counter *)1;
	assert_int_equal(counter_open(f->path, KEY, &c), VT_ERR_CONFIG);
	assert_null(c);
	assert_int_equal(unlink(f->lock), 0);
	put_bytes(f->lock, "", 0, 0666);
	assert_int_equal(counter_open(f->path, KEY, &c), VT_ERR_CONFIG);
	assert_int_equal(chmod(f->lock, 0600), 0);
	c = open_ok(f, KEY);
	counter_close(c);
}

static void
test_open_errors(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = NULL;
	char p[COUNTER_PATH_MAX + 16];

	assert_int_equal(counter_open("", KEY, &c), VT_ERR_INVALID);
	assert_null(c);
	snprintf(p, sizeof(p), "%s/", f->dir);
	assert_int_equal(counter_open(p, KEY, &c), VT_ERR_INVALID);
	snprintf(p, sizeof(p), "%s/..", f->dir);
	assert_int_equal(counter_open(p, KEY, &c), VT_ERR_INVALID);
	/* The parent directory is not created. */
	snprintf(p, sizeof(p), "%s/missing/license-state", f->dir);
	assert_int_equal(counter_open(p, KEY, &c), VT_ERR_CONFIG);
	assert_null(c);
	snprintf(p, sizeof(p), "%s/missing", f->dir);
	assert_int_equal(access(p, F_OK), -1);
	/* Too long a path. */
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[COUNTER_PATH_MAX + 1] = '\0';
	assert_int_equal(counter_open(p, KEY, &c), VT_ERR_INVALID);
	assert_null(c);
	counter_close(NULL);
}

static void
test_lock(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *a = open_ok(f, KEY), *b = (struct license_counter *)1;
	pid_t pid;
	int status;

	/* A second handle in this process conflicts (flock is per open file description). */
	assert_int_equal(counter_open(f->path, KEY, &b), VT_ERR_CONFLICT);
	assert_null(b);
	/* So does another process. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct license_counter *x = NULL;

		_exit(counter_open(f->path, KEY, &x) == VT_ERR_CONFLICT ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Closing releases it. */
	counter_close(a);
	b = open_ok(f, KEY);
	counter_close(b);
}

static void
test_stale_tmp(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct counter_state st = { .committed = 2, .reserved = 3 };
	char victim[200], *v;
	size_t len;

	/* A crash left a half-written, world-writable .tmp: removed and replaced. */
	put_bytes(f->tmp, "vaultterm-license-st", 20, 0666);
	assert_int_equal(counter_write(c, &st), 0);
	assert_int_equal(access(f->tmp, F_OK), -1);
	assert_state(c, 2, 3);

	/* A .tmp planted as a symlink to another file: the link goes, the target is untouched. */
	snprintf(victim, sizeof(victim), "%s/victim", f->dir);
	put_bytes(victim, "precious\n", 9, 0600);
	assert_int_equal(symlink(victim, f->tmp), 0);
	st.committed = 3;
	assert_int_equal(counter_write(c, &st), 0);
	assert_int_equal(access(f->tmp, F_OK), -1);
	v = slurp(victim, &len);
	assert_string_equal(v, "precious\n");
	free(v);
	assert_state(c, 3, 3);

	/* A directory in the way of the .tmp is an I/O error, and the state file is untouched. */
	assert_int_equal(mkdir(f->tmp, 0700), 0);
	st.reserved = 4;
	assert_int_equal(counter_write(c, &st), VT_ERR_IO);
	assert_int_equal(rmdir(f->tmp), 0);
	assert_state(c, 3, 3);
	counter_close(c);
}

struct worker {
	struct license_counter *c;
	uint64_t got[25];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < VT_NELEM(w->got); i++) {
		struct counter_state st;

		/* Reads interleave with the read-modify-write of the reservations. */
		if (counter_read(w->c, &st) != 0 || st.committed != 0 ||
		    counter_reserve(w->c, 0, &w->got[i]) != 0)
			w->got[i] = 0;
	}
	return NULL;
}

/* The mutex: threads sharing one handle never receive the same value. */
static void
test_threads_unique(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	struct worker w[4];
	pthread_t t[4];
	uint8_t seen[4 * 25 + 1];
	size_t i, j;

	assert_int_equal(counter_rebase(c, 0), 0);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 4; i++) {
		w[i].c = c;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < VT_NELEM(w[i].got); j++) {
			uint64_t v = w[i].got[j];

			assert_true(v >= 1 && v <= 100);
			assert_int_equal(seen[v], 0);
			seen[v] = 1;
		}
	}
	assert_state(c, 0, 100);
	assert_int_equal(counter_commit(c, 100), 0);
	assert_state(c, 100, 100);
	counter_close(c);
}

/* Random protocol runs with reopen ("restart") and crashes between phases. */
static void
test_random_protocol(void **state)
{
	const struct fixture *f = *state;
	struct license_counter *c = open_ok(f, KEY);
	uint64_t db_max = 0, last = 0, next;
	int i;

	assert_int_equal(counter_rebase(c, 0), 0);
	for (i = 0; i < 300; i++) {
		uint8_t rnd;
		struct counter_state st;

		random_bytes(&rnd, 1);
		assert_int_equal(counter_read(c, &st), 0);
		assert_int_equal(counter_check(&st, db_max, NULL, 0), COUNTER_OK);
		assert_int_equal(counter_reserve(c, db_max, &next), 0);
		assert_true(next > last); /* strictly increasing, never reused */
		last = next;
		if ((rnd & 3) != 0)
			db_max = next; /* the database COMMIT succeeded */
		if ((rnd & 12) != 0 && db_max == next)
			assert_int_equal(counter_commit(c, next), 0);
		if ((rnd & 0x70) == 0) { /* restart, possibly between the phases */
			counter_close(c);
			c = open_ok(f, KEY);
		}
	}
	counter_close(c);
}

static int
group_setup(void **state)
{
	size_t i;

	(void)state;
	if (secmem_init() != 0)
		return -1;
	for (i = 0; i < COUNTER_KEY_LEN; i++) {
		KEY[i] = (uint8_t)(0xa0 + i);
		KEY2[i] = (uint8_t)(0xa0 + i);
	}
	KEY2[COUNTER_KEY_LEN - 1] ^= 1; /* one bit apart */
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_exact_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_rejects_inconsistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_commit_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_between_reserve_and_commit, setup,
		    teardown),
		cmocka_unit_test(test_check_verdicts),
		cmocka_unit_test_setup_teardown(test_rollback_detect_and_rebase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ahead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper_number_keeps_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_with_valid_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_protocol, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
