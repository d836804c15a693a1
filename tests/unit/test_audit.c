/*
 * Unit tests for the database-free parts of audit/: the canonical row encoding that the Merkle log
 * hashes ("VTAUDIT1", then each field as a u32 big-endian length and its bytes, 0xFFFFFFFF for an
 * absent value, UUIDs as 16 raw bytes, the time as u64 big-endian microseconds), checked against
 * byte arrays written out by hand, plus the event catalog and the actor-type and outcome names.
 */
#include "audit/audit.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/secmem.h"

static void
fill_uuid(struct vt_uuid *u, uint8_t first, int step)
{
	int i;

	for (i = 0; i < 16; i++)
		u->b[i] = (uint8_t)(first + step * i);
}

/* A user login: every field present. */
static struct audit_row
row_full(void)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	fill_uuid(&r.id, 0x00, 1);
	r.has_org = 1;
	fill_uuid(&r.org, 0x10, 1);
	r.time_us = 1700000000123456; /* 0x00060A2418202240 */
	r.actor_type = "user";
	r.has_actor_id = 1;
	fill_uuid(&r.actor_id, 0x20, 1);
	r.actor_email = "a@b.io";
	r.action = "LOGIN_SUCCEEDED";
	r.resource_type = "user";
	r.resource_id = "r1";
	r.outcome = "success";
	r.source_ip = "127.0.0.1";
	r.request_id = "req-1";
	r.detail = "{}";
	r.seq = 42;
	return r;
}

static const uint8_t ROW_FULL_BYTES[] = {
	'V', 'T', 'A', 'U', 'D', 'I', 'T', '1',
	/* id */
	0x00, 0x00, 0x00, 0x10,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	/* org */
	0x00, 0x00, 0x00, 0x10,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	/* time_us */
	0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40,
	/* actor_type */
	0x00, 0x00, 0x00, 0x04, 'u', 's', 'e', 'r',
	/* actor_id */
	0x00, 0x00, 0x00, 0x10,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	/* actor_email */
	0x00, 0x00, 0x00, 0x06, 'a', '@', 'b', '.', 'i', 'o',
	/* action */
	0x00, 0x00, 0x00, 0x0f,
	'L', 'O', 'G', 'I', 'N', '_', 'S', 'U', 'C', 'C', 'E', 'E', 'D', 'E', 'D',
	/* resource_type */
	0x00, 0x00, 0x00, 0x04, 'u', 's', 'e', 'r',
	/* resource_id */
	0x00, 0x00, 0x00, 0x02, 'r', '1',
	/* outcome */
	0x00, 0x00, 0x00, 0x07, 's', 'u', 'c', 'c', 'e', 's', 's',
	/* source_ip */
	0x00, 0x00, 0x00, 0x09, '1', '2', '7', '.', '0', '.', '0', '.', '1',
	/* request_id */
	0x00, 0x00, 0x00, 0x05, 'r', 'e', 'q', '-', '1',
	/* detail */
	0x00, 0x00, 0x00, 0x02, '{', '}',
};

/* A system row: no org, no actor id, NULLs, and an empty (not NULL) resource id. */
static struct audit_row
row_sparse(void)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	fill_uuid(&r.id, 0xff, -1);
	r.has_org = 0;
	fill_uuid(&r.org, 0x55, 0); /* ignored: has_org is 0 */
	r.time_us = 0x0102030405060708;
	r.actor_type = "system";
	r.has_actor_id = 0;
	fill_uuid(&r.actor_id, 0x66, 0); /* ignored */
	r.actor_email = NULL;
	r.action = "LOGIN_FAILED";
	r.resource_type = NULL;
	r.resource_id = "";
	r.outcome = "failure";
	r.source_ip = NULL;
	r.request_id = NULL;
	r.detail = "{\"n\":1}";
	return r;
}

static const uint8_t ROW_SPARSE_BYTES[] = {
	'V', 'T', 'A', 'U', 'D', 'I', 'T', '1',
	/* id */
	0x00, 0x00, 0x00, 0x10,
	0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8,
	0xf7, 0xf6, 0xf5, 0xf4, 0xf3, 0xf2, 0xf1, 0xf0,
	/* org: absent */
	0xff, 0xff, 0xff, 0xff,
	/* time_us */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	/* actor_type */
	0x00, 0x00, 0x00, 0x06, 's', 'y', 's', 't', 'e', 'm',
	/* actor_id: absent */
	0xff, 0xff, 0xff, 0xff,
	/* actor_email: NULL */
	0xff, 0xff, 0xff, 0xff,
	/* action */
	0x00, 0x00, 0x00, 0x0c, 'L', 'O', 'G', 'I', 'N', '_', 'F', 'A', 'I', 'L', 'E', 'D',
	/* resource_type: NULL */
	0xff, 0xff, 0xff, 0xff,
	/* resource_id: empty string */
	0x00, 0x00, 0x00, 0x00,
	/* outcome */
	0x00, 0x00, 0x00, 0x07, 'f', 'a', 'i', 'l', 'u', 'r', 'e',
	/* source_ip, request_id: NULL */
	0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff,
	/* detail */
	0x00, 0x00, 0x00, 0x07, '{', '"', 'n', '"', ':', '1', '}',
};

static void
expect_encoding(const struct audit_row *row, const uint8_t *want, size_t wantlen)
{
	struct vbuf *b = vbuf_new(4096);

	assert_int_equal(audit_row_canonical(row, b), 0);
	assert_int_equal(vbuf_len(b), wantlen);
	assert_memory_equal(vbuf_ptr(b), want, wantlen);
	vbuf_free(b);
}

static void
test_canonical_full(void **state)
{
	struct audit_row r = row_full();

	expect_encoding(&r, ROW_FULL_BYTES, sizeof(ROW_FULL_BYTES));
}

static void
test_canonical_sparse(void **state)
{
	struct audit_row r = row_sparse();

	expect_encoding(&r, ROW_SPARSE_BYTES, sizeof(ROW_SPARSE_BYTES));
}

/* Times before the epoch are the two's complement u64, not clamped. */
static void
test_canonical_negative_time(void **state)
{
	struct audit_row r = row_sparse();
	uint8_t want[sizeof(ROW_SPARSE_BYTES)];

	memcpy(want, ROW_SPARSE_BYTES, sizeof(want));
	r.time_us = -1;
	memset(want + 8 + 20 + 4, 0xff, 8);
	expect_encoding(&r, want, sizeof(want));
}

/* The encoding is appended after whatever the buffer already holds. */
static void
test_canonical_appends(void **state)
{
	struct audit_row r = row_sparse();
	struct vbuf *b = vbuf_new(4096);

	assert_int_equal(vbuf_put(b, "xy", 2), 0);
	assert_int_equal(audit_row_canonical(&r, b), 0);
	assert_int_equal(vbuf_len(b), 2 + sizeof(ROW_SPARSE_BYTES));
	assert_memory_equal(vbuf_ptr(b), "xy", 2);
	assert_memory_equal(vbuf_ptr(b) + 2, ROW_SPARSE_BYTES, sizeof(ROW_SPARSE_BYTES));
	vbuf_free(b);
}

static void
test_canonical_too_small(void **state)
{
	struct audit_row r = row_full();
	struct vbuf *b = vbuf_new(sizeof(ROW_FULL_BYTES) - 1);

	assert_int_equal(audit_row_canonical(&r, b), VT_ERR_TOO_LARGE);
	vbuf_free(b);
	b = vbuf_new(sizeof(ROW_FULL_BYTES));
	assert_int_equal(audit_row_canonical(&r, b), 0);
	vbuf_free(b);
}

static int
same_encoding(const struct audit_row *a, const struct audit_row *b)
{
	struct vbuf *x = vbuf_new(4096), *y = vbuf_new(4096);
	int same;

	assert_int_equal(audit_row_canonical(a, x), 0);
	assert_int_equal(audit_row_canonical(b, y), 0);
	same = vbuf_len(x) == vbuf_len(y) &&
	    memcmp(vbuf_ptr(x), vbuf_ptr(y), vbuf_len(x)) == 0; /* checksrc:ok public bytes */
	vbuf_free(x);
	vbuf_free(y);
	return same;
}

#define EXPECT_CHANGES(stmt)                                    \
	do {                                                    \
		struct audit_row m = base;                      \
		stmt;                                           \
		assert_false(same_encoding(&base, &m));         \
	} while (0)

static void
test_canonical_every_field_matters(void **state)
{
	struct audit_row base = row_full(), copy = row_full();
	int i;

	assert_true(same_encoding(&base, &copy));
	for (i = 0; i < 16; i++) {
		EXPECT_CHANGES(m.id.b[i] ^= 0x01);
		EXPECT_CHANGES(m.org.b[i] ^= 0x01);
		EXPECT_CHANGES(m.actor_id.b[i] ^= 0x01);
	}
	EXPECT_CHANGES(m.has_org = 0);
	EXPECT_CHANGES(m.has_actor_id = 0);
	EXPECT_CHANGES(m.time_us += 1);
	EXPECT_CHANGES(m.time_us -= 1);
	EXPECT_CHANGES(m.time_us = -m.time_us);
	EXPECT_CHANGES(m.time_us += (int64_t)1 << 40);
	EXPECT_CHANGES(m.actor_type = "api_token");
	EXPECT_CHANGES(m.actor_type = "User");
	EXPECT_CHANGES(m.actor_type = NULL);
	EXPECT_CHANGES(m.actor_email = "a@b.iO");
	EXPECT_CHANGES(m.actor_email = "");
	EXPECT_CHANGES(m.actor_email = NULL);
	EXPECT_CHANGES(m.action = "LOGIN_FAILED");
	EXPECT_CHANGES(m.action = NULL);
	EXPECT_CHANGES(m.resource_type = "org");
	EXPECT_CHANGES(m.resource_type = NULL);
	EXPECT_CHANGES(m.resource_id = "r2");
	EXPECT_CHANGES(m.resource_id = "");
	EXPECT_CHANGES(m.resource_id = NULL);
	EXPECT_CHANGES(m.outcome = "denied");
	EXPECT_CHANGES(m.outcome = NULL);
	EXPECT_CHANGES(m.source_ip = "127.0.0.2");
	EXPECT_CHANGES(m.source_ip = NULL);
	EXPECT_CHANGES(m.request_id = "req-2");
	EXPECT_CHANGES(m.request_id = NULL);
	EXPECT_CHANGES(m.detail = "{ }");
	EXPECT_CHANGES(m.detail = "");
	EXPECT_CHANGES(m.detail = NULL);
	/* Bytes moved across a field boundary (length prefixes keep the encoding injective). */
	EXPECT_CHANGES((m.action = "LOGIN_SUCCEEDEDu", m.resource_type = "ser"));
	EXPECT_CHANGES((m.source_ip = "127.0.0.1r", m.request_id = "eq-1"));
	EXPECT_CHANGES((m.actor_email = NULL, m.action = NULL, m.resource_type = "LOGIN_SUCCEEDED"));
	/* An absent org differs from the nil org, and an absent string from an empty one. */
	{
		struct audit_row a = row_sparse(), b = row_sparse();

		b.has_org = 1;
		memset(b.org.b, 0, sizeof(b.org.b));
		assert_false(same_encoding(&a, &b));
		b = row_sparse();
		b.source_ip = "";
		assert_false(same_encoding(&a, &b));
	}
}

/* Absent optional ids are absent whatever stale bytes the struct holds. */
static void
test_canonical_absent_ignores_bytes(void **state)
{
	struct audit_row a = row_sparse(), b = row_sparse();

	fill_uuid(&b.org, 0x99, 3);
	fill_uuid(&b.actor_id, 0x42, 7);
	assert_true(same_encoding(&a, &b));
}

static void
test_catalog_known(void **state)
{
	const struct audit_catalog_entry *e;

	e = audit_catalog_lookup("LOGIN_FAILED");
	assert_string_equal(e->action, "LOGIN_FAILED");
	assert_string_equal(e->title, "Login failed");
	assert_string_equal(e->category, "authentication");
	assert_string_equal(e->severity, "medium");

	e = audit_catalog_lookup("USER_REGISTERED");
	assert_string_equal(e->action, "USER_REGISTERED");
	assert_string_equal(e->title, "User registered");
	assert_string_equal(e->category, "identity");
	assert_string_equal(e->severity, "info");

	e = audit_catalog_lookup("MFA_DISABLED");
	assert_string_equal(e->category, "authentication");
	assert_string_equal(e->severity, "high");

	e = audit_catalog_lookup("API_TOKEN_CREATED");
	assert_string_equal(e->title, "API token created");
	assert_string_equal(e->category, "credentials");
	assert_string_equal(e->severity, "medium");

	e = audit_catalog_lookup("AUDIT_ROLLBACK_DETECTED");
	assert_string_equal(e->title, "Audit rollback detected");
	assert_string_equal(e->category, "integrity");
	assert_string_equal(e->severity, "critical");
}

/* Every action src/ records today (and LOGIN_RATE_LIMITED) has an entry with a known severity. */
static void
test_catalog_actions_covered(void **state)
{
	static const char *const actions[] = {
		"USER_REGISTERED", "LOGIN_SUCCEEDED", "LOGIN_FAILED", "LOGIN_RATE_LIMITED",
		"MFA_ENROLL_STARTED", "MFA_ENABLED", "MFA_DISABLED", "ORG_SWITCHED", "ORG_UPDATED",
		"INVITE_CREATED", "INVITE_REVOKED", "INVITE_ACCEPTED", "MEMBER_ROLE_CHANGED",
		"MEMBER_REMOVED", "API_TOKEN_CREATED", "API_TOKEN_REVOKED",
	};
	static const char *const severities[] = { "info", "low", "medium", "high", "critical" };
	size_t i, j;

	for (i = 0; i < VT_NELEM(actions); i++) {
		const struct audit_catalog_entry *e = audit_catalog_lookup(actions[i]);
		int ok = 0;

		assert_string_equal(e->action, actions[i]);
		assert_string_not_equal(e->title, "Audit event");
		assert_string_not_equal(e->category, "other");
		for (j = 0; j < VT_NELEM(severities); j++)
			ok |= strcmp(e->severity, severities[j]) == 0;
		assert_true(ok);
	}
}

static void
expect_unknown(const char *action)
{
	const struct audit_catalog_entry *e = audit_catalog_lookup(action);

	assert_non_null(e);
	assert_string_equal(e->action, "");
	assert_string_equal(e->title, "Audit event");
	assert_string_equal(e->category, "other");
	assert_string_equal(e->severity, "info");
}

static void
test_catalog_unknown(void **state)
{
	expect_unknown("NOT_AN_ACTION");
	expect_unknown("");
	expect_unknown("login_failed");   /* case matters */
	expect_unknown("LOGIN");          /* prefix */
	expect_unknown("LOGIN_FAILED_");  /* extension */
	expect_unknown(" LOGIN_FAILED");
	/* The unknown entry is one shared value: repeated lookups agree. */
	assert_ptr_equal(audit_catalog_lookup("X"), audit_catalog_lookup("Y"));
}

static void
test_actor_type_str(void **state)
{
	assert_string_equal(audit_actor_type_str(AUDIT_ACTOR_USER), "user");
	assert_string_equal(audit_actor_type_str(AUDIT_ACTOR_API_TOKEN), "api_token");
	assert_string_equal(audit_actor_type_str(AUDIT_ACTOR_SYSTEM), "system");
	assert_string_equal(audit_actor_type_str(AUDIT_ACTOR_ANONYMOUS), "anonymous");
}

static void
test_outcome_str(void **state)
{
	assert_string_equal(audit_outcome_str(AUDIT_SUCCESS), "success");
	assert_string_equal(audit_outcome_str(AUDIT_FAILURE), "failure");
	assert_string_equal(audit_outcome_str(AUDIT_DENIED), "denied");
	/* A value outside the enumerators (but inside the enum's range) reads as a failure. */
	assert_string_equal(audit_outcome_str((enum audit_outcome)3), "failure");
}

static int
group_setup(void **state)
{
	return secmem_init() == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_full),
		cmocka_unit_test(test_canonical_sparse),
		cmocka_unit_test(test_canonical_negative_time),
		cmocka_unit_test(test_canonical_appends),
		cmocka_unit_test(test_canonical_too_small),
		cmocka_unit_test(test_canonical_every_field_matters),
		cmocka_unit_test(test_canonical_absent_ignores_bytes),
		cmocka_unit_test(test_catalog_known),
		cmocka_unit_test(test_catalog_actions_covered),
		cmocka_unit_test(test_catalog_unknown),
		cmocka_unit_test(test_actor_type_str),
		cmocka_unit_test(test_outcome_str),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
