/*
 * Unit tests for vault/fpcache.c with the database replaced by injected operations (a "tx" here is
 * a struct fake_tx: the org, the generation it sees, whether the load fails; the load builds a set
 * of gen fingerprints, so a set tells which generation it came from; the clock is a variable):
 * sharing of one set by every holder of one org and generation, a reload on any other generation
 * (newer or older) while holders of the old set keep a valid one until they release it, an org
 * without a set cached as such, failures cached as nothing, the idle drop and the memory bound
 * taking only sets nobody holds (least recently used first), the sweeper thread starting and
 * stopping, and threads: concurrent acquirers of one org and generation share one load, and a
 * randomized run of acquire/release/generation changes/sweeps from several threads (under ASan,
 * a set freed while held would be a use after free).
 */
#include "vault/fpcache.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/encode.h"
#include "base/err.h"
#include "scan/scan.h"

struct fake_tx {
	struct vt_uuid org;
	int has_org;
	int64_t gen;
	int fail_gen;
	int fail_load;
	int no_set;       /* the org has no scanner key: the load gives NULL */
	int slow_load_ms; /* the load sleeps this long */
};

static atomic_int loads_run;
static _Atomic uint64_t clock_ms;

static const struct vt_uuid *
fake_org(struct db_tx *tx)
{
	struct fake_tx *t = (struct fake_tx *)(void *)tx;

	return t->has_org ? &t->org : NULL;
}

static int
fake_generation(struct db_tx *tx, int64_t *gen)
{
	struct fake_tx *t = (struct fake_tx *)(void *)tx;

	*gen = 0;
	if (t->fail_gen)
		return VT_ERR_DB;
	*gen = t->gen;
	return 0;
}

/* A set with gen fingerprints (at most 64), under keys made from the org's first byte. */
static int
fake_load(struct db_tx *tx, struct keyring *kr, struct scan_fpset **out)
{
	struct fake_tx *t = (struct fake_tx *)(void *)tx;
	uint8_t keys[SCAN_FP_KEYS_LEN];
	struct scan_fpset *s = NULL;
	struct scan_fp fp;
	int64_t i;
	int r;

	(void)kr;
	*out = NULL;
	atomic_fetch_add(&loads_run, 1);
	if (t->slow_load_ms > 0) {
		struct timespec ts = { 0, (long)t->slow_load_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	if (t->fail_load)
		return VT_ERR_DB;
	if (t->no_set)
		return 0;
	memset(keys, t->org.b[0], sizeof(keys));
	if ((r = scan_fpset_new(keys, &s)) != 0)
		return r;
	for (i = 0; i < t->gen && i < 64; i++) {
		memset(&fp, 0, sizeof(fp));
		fp.anchor_sip = 0x1000 + (uint64_t)i;
		fp.anchor_off = 0;
		fp.len = 16;
		fp.mac[0] = (uint8_t)i;
		if ((r = scan_fpset_add(s, &fp, "label")) != 0) {
			scan_fpset_free(s);
			return r;
		}
	}
	*out = s;
	return 0;
}

static uint64_t
fake_now(void)
{
	return atomic_load(&clock_ms);
}

static const struct vault_fpcache_ops OPS = { fake_org, fake_generation, fake_load, fake_now };

static struct vault_fpcache *
mkcache(uint64_t idle_ms, size_t max_bytes)
{
	struct vault_fpcache_config cfg = { idle_ms, max_bytes, 0, &OPS };
	struct vault_fpcache *c = NULL;

	assert_int_equal(vault_fpcache_new(&cfg, &c), 0);
	assert_non_null(c);
	atomic_store(&loads_run, 0);
	atomic_store(&clock_ms, 1000);
	return c;
}

static void
tx_init(struct fake_tx *t, uint8_t org, int64_t gen)
{
	memset(t, 0, sizeof(*t));
	memset(t->org.b, 0, sizeof(t->org.b));
	t->org.b[0] = org;
	t->org.b[15] = org;
	t->has_org = 1;
	t->gen = gen;
}

static struct vault_fpref *
acq(struct vault_fpcache *c, struct fake_tx *t)
{
	struct vault_fpref *ref = NULL;

	assert_int_equal(vault_fpset_acquire(c, (struct db_tx *)(void *)t, NULL, &ref), 0);
	assert_non_null(ref);
	return ref;
}

static struct vault_fpcache_stats
stats(struct vault_fpcache *c)
{
	struct vault_fpcache_stats st;

	vault_fpcache_stats(c, &st);
	return st;
}

/* The set of ref is the one of generation gen (and still readable: ASan checks). */
static void
assert_gen(const struct vault_fpref *ref, int64_t gen)
{
	assert_non_null(vault_fpref_set(ref));
	assert_int_equal(scan_fpset_count(vault_fpref_set(ref)), (size_t)gen);
}

static void
test_share(void **state)
{
	struct vault_fpcache *c = mkcache(0, 0);
	struct vault_fpref *a, *b, *d;
	struct fake_tx t;

	(void)state;
	tx_init(&t, 1, 3);
	a = acq(c, &t);
	b = acq(c, &t);
	assert_ptr_equal(a, b);
	assert_ptr_equal(vault_fpref_set(a), vault_fpref_set(b));
	assert_gen(a, 3);
	assert_int_equal(atomic_load(&loads_run), 1);
	assert_int_equal(stats(c).hits, 1);
	assert_int_equal(stats(c).loads, 1);
	assert_int_equal(stats(c).idle, 0);
	vault_fpset_release(a);
	assert_int_equal(stats(c).idle, 0); /* b still holds it */
	vault_fpset_release(b);
	assert_int_equal(stats(c).idle, 1);
	assert_int_equal(stats(c).entries, 1);
	assert_true(stats(c).bytes >= scan_fpset_memory(vault_fpref_set(a)));
	/* Released and taken again: still the same set, no new load. */
	d = acq(c, &t);
	assert_ptr_equal(d, a);
	assert_int_equal(atomic_load(&loads_run), 1);
	assert_int_equal(stats(c).idle, 0);
	vault_fpset_release(d);
	vault_fpset_release(NULL);
	vault_fpcache_free(c);
	vault_fpcache_free(NULL);
}

static void
test_generation_change(void **state)
{
	struct vault_fpcache *c = mkcache(0, 0);
	struct vault_fpref *g1, *g2, *g2b, *old, *g3;
	struct fake_tx t;

	(void)state;
	tx_init(&t, 7, 1);
	g1 = acq(c, &t);
	assert_gen(g1, 1);
	/* A writer committed: the next acquirer sees generation 2 and loads a new set... */
	t.gen = 2;
	g2 = acq(c, &t);
	assert_ptr_not_equal(g1, g2);
	assert_gen(g2, 2);
	assert_int_equal(atomic_load(&loads_run), 2);
	/* ...while g1's holder keeps its old set, readable, until it releases it. */
	assert_gen(g1, 1);
	assert_int_equal(stats(c).entries, 1);
	g2b = acq(c, &t);
	assert_ptr_equal(g2, g2b);
	vault_fpset_release(g1); /* replaced: freed now (ASan would see a later use) */
	assert_int_equal(stats(c).entries, 1);
	assert_int_equal(stats(c).idle, 0);
	vault_fpset_release(g2);
	vault_fpset_release(g2b);
	assert_int_equal(stats(c).idle, 1);
	/* A transaction with an older snapshot (generation 1) loads its own, tagged 1. */
	t.gen = 1;
	old = acq(c, &t);
	assert_gen(old, 1);
	assert_int_equal(atomic_load(&loads_run), 3);
	vault_fpset_release(old);
	/* ...and the next one at 3 is not answered by either. */
	t.gen = 3;
	g3 = acq(c, &t);
	assert_gen(g3, 3);
	assert_int_equal(atomic_load(&loads_run), 4);
	assert_int_equal(stats(c).entries, 1);
	vault_fpset_release(g3);
	vault_fpcache_free(c);
}

static void
test_orgs_apart(void **state)
{
	struct vault_fpcache *c = mkcache(0, 0);
	struct vault_fpref *a, *b;
	struct fake_tx ta, tb;
	int i;

	(void)state;
	/* Same generation number, different orgs: never each other's set. */
	tx_init(&ta, 1, 5);
	tx_init(&tb, 2, 5);
	a = acq(c, &ta);
	b = acq(c, &tb);
	assert_ptr_not_equal(vault_fpref_set(a), vault_fpref_set(b));
	assert_int_equal(stats(c).entries, 2);
	vault_fpset_release(a);
	vault_fpset_release(b);
	/* Many orgs in few buckets (org bytes 0 and 15 vary): each finds its own. */
	for (i = 0; i < 600; i++) {
		tx_init(&ta, (uint8_t)(i % 256), 1 + i / 256);
		ta.org.b[1] = (uint8_t)(i >> 8);
		a = acq(c, &ta);
		assert_gen(a, 1 + i / 256);
		vault_fpset_release(a);
	}
	for (i = 0; i < 600; i++) {
		tx_init(&ta, (uint8_t)(i % 256), 1 + i / 256);
		ta.org.b[1] = (uint8_t)(i >> 8);
		a = acq(c, &ta);
		assert_gen(a, 1 + i / 256);
		vault_fpset_release(a);
	}
	assert_int_equal(atomic_load(&loads_run), 2 + 600);
	vault_fpcache_free(c);
}

static void
test_no_set_and_errors(void **state)
{
	struct vault_fpcache *c = mkcache(0, 0);
	struct vault_fpref *r1, *r2, *ref = NULL;
	struct fake_tx t;

	(void)state;
	/* An org without a scanner key: NULL set, remembered like any other. */
	tx_init(&t, 3, 0);
	t.no_set = 1;
	r1 = acq(c, &t);
	assert_null(vault_fpref_set(r1));
	r2 = acq(c, &t);
	assert_ptr_equal(r1, r2);
	assert_int_equal(atomic_load(&loads_run), 1);
	vault_fpset_release(r1);
	vault_fpset_release(r2);
	/* Its first fingerprinted write moves the generation: now it has a set. */
	t.no_set = 0;
	t.gen = 4;
	r1 = acq(c, &t);
	assert_gen(r1, 4);
	vault_fpset_release(r1);

	/* A failed load: the error, nothing cached, the next acquire loads again. */
	tx_init(&t, 4, 2);
	t.fail_load = 1;
	assert_int_equal(vault_fpset_acquire(c, (struct db_tx *)(void *)&t, NULL, &ref), VT_ERR_DB);
	assert_null(ref);
	assert_int_equal(stats(c).entries, 1);
	t.fail_load = 0;
	r1 = acq(c, &t);
	assert_gen(r1, 2);
	vault_fpset_release(r1);
	/* The generation cannot be read: the error, no load. */
	tx_init(&t, 5, 2);
	t.fail_gen = 1;
	loads_run = 0;
	assert_int_equal(vault_fpset_acquire(c, (struct db_tx *)(void *)&t, NULL, &ref), VT_ERR_DB);
	assert_null(ref);
	assert_int_equal(atomic_load(&loads_run), 0);
	/* No org in the transaction: refused. */
	tx_init(&t, 6, 2);
	t.has_org = 0;
	assert_int_equal(vault_fpset_acquire(c, (struct db_tx *)(void *)&t, NULL, &ref),
	    VT_ERR_INTERNAL);
	assert_null(ref);
	assert_int_equal(atomic_load(&loads_run), 0);
	vault_fpcache_free(c);
}

static void
test_idle_drop(void **state)
{
	struct vault_fpcache *c = mkcache(5000, 0);
	struct vault_fpref *held, *r;
	struct fake_tx ta, tb;

	(void)state;
	tx_init(&ta, 1, 2);
	tx_init(&tb, 2, 3);
	held = acq(c, &ta);
	r = acq(c, &tb);
	vault_fpset_release(r); /* B idle since 1000 */
	atomic_store(&clock_ms, 1000 + 4999);
	vault_fpcache_sweep(c);
	assert_int_equal(stats(c).entries, 2);
	assert_int_equal(stats(c).idle, 1);
	atomic_store(&clock_ms, 1000 + 5000);
	vault_fpcache_sweep(c);
	assert_int_equal(stats(c).entries, 1); /* B dropped */
	assert_int_equal(stats(c).idle, 0);
	/* A is held: however long, a sweep never frees it. */
	atomic_store(&clock_ms, 1000 + 1000000);
	vault_fpcache_sweep(c);
	assert_int_equal(stats(c).entries, 1);
	assert_gen(held, 2);
	/* Released now: idle from now, not from when it was loaded. */
	vault_fpset_release(held);
	vault_fpcache_sweep(c);
	assert_int_equal(stats(c).entries, 1);
	atomic_store(&clock_ms, 1000 + 1000000 + 5000);
	vault_fpcache_sweep(c);
	assert_int_equal(stats(c).entries, 0);
	assert_int_equal(stats(c).bytes, 0);
	/* B again: loaded again. */
	loads_run = 0;
	r = acq(c, &tb);
	assert_gen(r, 3);
	assert_int_equal(atomic_load(&loads_run), 1);
	vault_fpset_release(r);
	/* An acquire or release also drops what has been idle long enough, without the sweeper. */
	atomic_store(&clock_ms, 1000 + 2000000);
	r = acq(c, &ta);
	assert_int_equal(stats(c).entries, 1); /* B went when A was loaded */
	vault_fpset_release(r);
	vault_fpcache_free(c);
}

static void
test_memory_bound_lru(void **state)
{
	struct vault_fpcache *c;
	struct vault_fpref *a, *b, *d, *held;
	struct fake_tx ta, tb, td;
	size_t one;

	(void)state;
	/* The size of one entry of 8 fingerprints, to set the bound at two and a half of them. */
	c = mkcache(0, 0);
	tx_init(&ta, 1, 8);
	a = acq(c, &ta);
	vault_fpset_release(a);
	one = stats(c).bytes;
	assert_true(one > sizeof(void *));
	vault_fpcache_free(c);

	c = mkcache(0, one * 5 / 2);
	tx_init(&ta, 1, 8);
	tx_init(&tb, 2, 8);
	tx_init(&td, 3, 8);
	vault_fpset_release(acq(c, &ta));
	vault_fpset_release(acq(c, &tb));
	/* A used again: B is now the least recently used. */
	atomic_store(&clock_ms, 2000);
	vault_fpset_release(acq(c, &ta));
	assert_int_equal(stats(c).entries, 2);
	atomic_store(&clock_ms, 3000);
	vault_fpset_release(acq(c, &td)); /* three do not fit: B goes */
	assert_int_equal(stats(c).entries, 2);
	assert_true(stats(c).bytes <= one * 5 / 2);
	loads_run = 0;
	vault_fpset_release(acq(c, &ta));
	vault_fpset_release(acq(c, &td));
	assert_int_equal(atomic_load(&loads_run), 0); /* A and D stayed */
	vault_fpset_release(acq(c, &tb));
	assert_int_equal(atomic_load(&loads_run), 1); /* B had gone */
	vault_fpcache_free(c);

	/* Held sets are never dropped to meet the bound, even when they alone exceed it. */
	c = mkcache(0, one / 2);
	held = acq(c, &ta);
	b = acq(c, &tb);
	d = acq(c, &td);
	assert_int_equal(stats(c).entries, 3);
	vault_fpset_release(b); /* over the bound and nobody holds it: dropped */
	assert_int_equal(stats(c).entries, 2);
	assert_gen(held, 8);
	assert_gen(d, 8);
	vault_fpset_release(d);
	assert_int_equal(stats(c).entries, 1);
	assert_gen(held, 8);
	vault_fpset_release(held);
	assert_int_equal(stats(c).entries, 0);
	vault_fpcache_free(c);
}

static void
test_sweeper_thread(void **state)
{
	struct vault_fpcache_config cfg = { 0, 0, 1, &OPS };
	struct vault_fpcache *c = NULL;
	struct fake_tx t;

	(void)state;
	/* Started and stopped (joined) promptly; its sets freed with the cache. */
	assert_int_equal(vault_fpcache_new(&cfg, &c), 0);
	tx_init(&t, 9, 2);
	vault_fpset_release(acq(c, &t));
	vault_fpcache_free(c);
}

/* ---- threads --------------------------------------------------------------------------------- */

struct same_arg {
	struct vault_fpcache *c;
	struct fake_tx *t;
	struct vault_fpref *ref;
	pthread_barrier_t *start;
};

static void *
same_main(void *arg)
{
	struct same_arg *a = arg;

	pthread_barrier_wait(a->start);
	if (vault_fpset_acquire(a->c, (struct db_tx *)(void *)a->t, NULL, &a->ref) != 0)
		a->ref = NULL;
	return NULL;
}

static void
test_concurrent_one_load(void **state)
{
	struct vault_fpcache *c = mkcache(0, 0);
	struct same_arg a[8];
	pthread_t th[8];
	pthread_barrier_t start;
	struct fake_tx t;
	int i;

	(void)state;
	tx_init(&t, 1, 6);
	t.slow_load_ms = 200; /* every other thread arrives while the first one loads */
	pthread_barrier_init(&start, NULL, 8);
	for (i = 0; i < 8; i++) {
		a[i].c = c;
		a[i].t = &t;
		a[i].ref = NULL;
		a[i].start = &start;
		assert_int_equal(pthread_create(&th[i], NULL, same_main, &a[i]), 0);
	}
	for (i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	assert_int_equal(atomic_load(&loads_run), 1);
	for (i = 0; i < 8; i++) {
		assert_non_null(a[i].ref);
		assert_ptr_equal(a[i].ref, a[0].ref);
		assert_gen(a[i].ref, 6);
	}
	assert_int_equal(stats(c).hits, 7);
	for (i = 0; i < 8; i++)
		vault_fpset_release(a[i].ref);
	assert_int_equal(stats(c).idle, 1);
	vault_fpcache_free(c);
}

#define STRESS_THREADS 6
#define STRESS_ITERS 3000
#define STRESS_ORGS 5

static _Atomic int64_t stress_gen[STRESS_ORGS];

struct stress_arg {
	struct vault_fpcache *c;
	unsigned seed;
	int errors;
};

static unsigned
next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

static void *
stress_main(void *arg)
{
	struct stress_arg *a = arg;
	struct vault_fpref *held[4] = { NULL, NULL, NULL, NULL };
	int64_t held_gen[4] = { 0, 0, 0, 0 };
	struct fake_tx t;
	int i, k, o;

	for (i = 0; i < STRESS_ITERS; i++) {
		k = (int)(next_rand(&a->seed) % 4);
		if (held[k] != NULL) {
			/* What we hold is still the set of the generation we acquired. */
			if (vault_fpref_set(held[k]) == NULL ||
			    scan_fpset_count(vault_fpref_set(held[k])) != (size_t)held_gen[k])
				a->errors++;
			vault_fpset_release(held[k]);
			held[k] = NULL;
			continue;
		}
		o = (int)(next_rand(&a->seed) % STRESS_ORGS);
		if (next_rand(&a->seed) % 8 == 0)
			atomic_fetch_add(&stress_gen[o], 1); /* a writer commits */
		tx_init(&t, (uint8_t)(o + 1), 1 + atomic_load(&stress_gen[o]) % 60);
		/* Now and then an older snapshot. */
		if (next_rand(&a->seed) % 16 == 0 && t.gen > 1)
			t.gen--;
		if (vault_fpset_acquire(a->c, (struct db_tx *)(void *)&t, NULL, &held[k]) != 0) {
			a->errors++;
			continue;
		}
		held_gen[k] = t.gen;
		if (next_rand(&a->seed) % 32 == 0) {
			atomic_fetch_add(&clock_ms, 700);
			vault_fpcache_sweep(a->c);
		}
	}
	for (k = 0; k < 4; k++)
		vault_fpset_release(held[k]);
	return NULL;
}

static void
test_concurrent_stress(void **state)
{
	/* A small bound and a short idle time: drops happen all the time. */
	struct vault_fpcache *c = mkcache(2000, 3000);
	struct stress_arg a[STRESS_THREADS];
	pthread_t th[STRESS_THREADS];
	struct vault_fpcache_stats st;
	int i;

	(void)state;
	for (i = 0; i < STRESS_THREADS; i++) {
		a[i].c = c;
		a[i].seed = 0x5eed0000u + (unsigned)i;
		a[i].errors = 0;
		assert_int_equal(pthread_create(&th[i], NULL, stress_main, &a[i]), 0);
	}
	for (i = 0; i < STRESS_THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < STRESS_THREADS; i++)
		assert_int_equal(a[i].errors, 0);
	st = stats(c);
	assert_int_equal(st.idle, st.entries); /* everything released */
	assert_true(st.hits > 0);
	assert_true(st.drops > 0);
	vault_fpcache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_generation_change),
		cmocka_unit_test(test_orgs_apart),
		cmocka_unit_test(test_no_set_and_errors),
		cmocka_unit_test(test_idle_drop),
		cmocka_unit_test(test_memory_bound_lru),
		cmocka_unit_test(test_sweeper_thread),
		cmocka_unit_test(test_concurrent_one_load),
		cmocka_unit_test(test_concurrent_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
