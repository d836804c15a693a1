/*
 * Unit tests for guarded secret memory (src/base/secmem.h): zeroed allocation up to SECMEM_MAX
 * and refusal past it, zero-length secrets, duplication, truncation that wipes the cut-off tail
 * and aborts if asked to grow, constant-time equality that also compares lengths, and NULL-safe
 * free. Under the asan preset secmem falls back to malloc, so the sanitizer checks the bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/secmem.h"

static int
setup_sodium(void **state)
{
	(void)state;
	return secmem_init();
}

static int
all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != 0)
			return 0;
	}
	return 1;
}

static void
test_init_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(secmem_init(), 0);
	assert_int_equal(secmem_init(), 0);
}

static void
test_new_is_zeroed_and_writable(void **state)
{
	struct secmem *s = secmem_new(64);

	(void)state;
	assert_non_null(s);
	assert_int_equal(secmem_len(s), 64);
	assert_non_null(secmem_ptr(s));
	assert_true(all_zero(secmem_ptr(s), 64));
	memset(secmem_ptr(s), 0x5a, 64);
	assert_int_equal(secmem_ptr(s)[0], 0x5a);
	assert_int_equal(secmem_ptr(s)[63], 0x5a);
	secmem_free(s);
	secmem_free(NULL);
}

static void
test_zero_length(void **state)
{
	struct secmem *a = secmem_new(0), *b = secmem_dup(NULL, 0);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(secmem_len(a), 0);
	assert_non_null(secmem_ptr(a));
	assert_true(secmem_eq(a, b));
	secmem_free(a);
	secmem_free(b);
}

static void
test_max_boundary(void **state)
{
	struct secmem *s = secmem_new(SECMEM_MAX);

	(void)state;
	assert_non_null(s);
	assert_int_equal(secmem_len(s), SECMEM_MAX);
	assert_true(all_zero(secmem_ptr(s), SECMEM_MAX));
	secmem_ptr(s)[SECMEM_MAX - 1] = 1;
	secmem_free(s);
	assert_null(secmem_new(SECMEM_MAX + 1));
	assert_null(secmem_new(SIZE_MAX));
	assert_null(secmem_dup("x", SECMEM_MAX + 1));
}

static void
test_dup_copies(void **state)
{
	uint8_t key[32];
	struct secmem *s;

	(void)state;
	randombytes_buf(key, sizeof(key));
	s = secmem_dup(key, sizeof(key));
	assert_non_null(s);
	assert_int_equal(secmem_len(s), 32);
	assert_memory_equal(secmem_ptr(s), key, 32);
	/* A copy, not an alias. */
	assert_ptr_not_equal(secmem_ptr(s), key);
	key[0] ^= 0xff;
	assert_int_equal(secmem_ptr(s)[0], key[0] ^ 0xff);
	sodium_memzero(key, sizeof(key));
	secmem_free(s);
}

static void
test_truncate_wipes_tail(void **state)
{
	struct secmem *s = secmem_dup("abcdef", 6);
	uint8_t *p = secmem_ptr(s);

	(void)state;
	secmem_truncate(s, 6); /* same length: no-op */
	assert_int_equal(secmem_len(s), 6);
	assert_memory_equal(p, "abcdef", 6);
	secmem_truncate(s, 3);
	assert_int_equal(secmem_len(s), 3);
	assert_memory_equal(p, "abc", 3);
	/* The bytes past the new length are still allocated, and must be zero. */
	assert_true(all_zero(p + 3, 3));
	secmem_truncate(s, 0);
	assert_int_equal(secmem_len(s), 0);
	assert_true(all_zero(p, 6));
	secmem_free(s);
}

static void
test_truncate_never_grows(void **state)
{
	pid_t pid;
	int status = 0;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct secmem *s = secmem_new(4);

		/* cmocka may trap signals; the child must die of the real SIGABRT. */
		signal(SIGABRT, SIG_DFL);
		if (s == NULL || freopen("/dev/null", "w", stderr) == NULL)
			_exit(3);
		secmem_truncate(s, 5);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void
test_eq(void **state)
{
	struct secmem *a = secmem_dup("secret-value", 12);
	struct secmem *b = secmem_dup("secret-value", 12);
	struct secmem *c = secmem_dup("secret-valuf", 12);
	struct secmem *d = secmem_dup("Secret-value", 12);
	struct secmem *e = secmem_dup("secret-valu", 11);
	struct secmem *f = secmem_dup("secret-value!", 13);

	(void)state;
	assert_true(secmem_eq(a, b));
	assert_true(secmem_eq(b, a));
	assert_true(secmem_eq(a, a));
	assert_false(secmem_eq(a, c)); /* last byte */
	assert_false(secmem_eq(a, d)); /* first byte */
	assert_false(secmem_eq(a, e)); /* a prefix is not equal */
	assert_false(secmem_eq(e, a));
	assert_false(secmem_eq(a, f));
	/* After truncation to the same length they compare equal. */
	secmem_truncate(f, 12);
	assert_true(secmem_eq(a, f));
	secmem_truncate(a, 11);
	assert_true(secmem_eq(a, e));
	secmem_free(a);
	secmem_free(b);
	secmem_free(c);
	secmem_free(d);
	secmem_free(e);
	secmem_free(f);
}

static void
test_many_allocations(void **state)
{
	struct secmem *s[64];
	size_t i;

	(void)state;
	for (i = 0; i < VT_NELEM(s); i++) {
		s[i] = secmem_new(i * 37 + 1);
		assert_non_null(s[i]);
		memset(secmem_ptr(s[i]), (int)i, i * 37 + 1);
	}
	for (i = 0; i < VT_NELEM(s); i++) {
		assert_int_equal(secmem_len(s[i]), i * 37 + 1);
		assert_int_equal(secmem_ptr(s[i])[i * 37], (uint8_t)i);
		secmem_free(s[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_idempotent),
		cmocka_unit_test(test_new_is_zeroed_and_writable),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_max_boundary),
		cmocka_unit_test(test_dup_copies),
		cmocka_unit_test(test_truncate_wipes_tail),
		cmocka_unit_test(test_truncate_never_grows),
		cmocka_unit_test(test_eq),
		cmocka_unit_test(test_many_allocations),
	};

	return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
