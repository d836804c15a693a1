/*
 * Unit tests for authz/: the complete org decision table for users of each role and for API tokens
 * with each single scope, no scope and all scopes (tokens never manage members, tokens or the
 * org), the role-assignment matrix, and the role and scope name tables including unknown and
 * missing names. Expected values are written out as tables so a changed rule fails loudly.
 */
#include "authz/authz.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"

#define OK 0
#define NO VT_ERR_FORBIDDEN

static const enum org_perm PERMS[] = {
	ORG_PERM_VIEW,
	ORG_PERM_LIST_MEMBERS,
	ORG_PERM_MANAGE_MEMBERS,
	ORG_PERM_MANAGE_TOKENS,
	ORG_PERM_READ_AUDIT,
	ORG_PERM_MANAGE_ORG,
};
#define NPERMS VT_NELEM(PERMS)

static struct principal
user(enum org_role role)
{
	struct principal p;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_USER;
	p.org_id.b[0] = 1;
	p.user_id.b[0] = 2;
	p.org_role = role;
	return p;
}

static struct principal
token(uint32_t scopes)
{
	struct principal p;

	memset(&p, 0, sizeof(p));
	p.kind = PRINCIPAL_API_TOKEN;
	p.org_id.b[0] = 1;
	p.token_id.b[0] = 3;
	p.scopes = scopes;
	return p;
}

static void
expect_row(const struct principal *p, const int want[NPERMS])
{
	size_t i;

	for (i = 0; i < NPERMS; i++) {
		int got = authz_org_check(p, PERMS[i]);

		if (got != want[i])
			fail_msg("perm %d: got %d, want %d", (int)PERMS[i], got, want[i]);
	}
}

static void
test_user_table(void **state)
{
	/* VIEW, LIST_MEMBERS, MANAGE_MEMBERS, MANAGE_TOKENS, READ_AUDIT, MANAGE_ORG */
	static const struct {
		enum org_role role;
		int want[NPERMS];
	} T[] = {
		{ ORG_ROLE_OWNER, { OK, OK, OK, OK, OK, OK } },
		{ ORG_ROLE_ADMIN, { OK, OK, OK, OK, OK, NO } },
		{ ORG_ROLE_MEMBER, { OK, OK, NO, NO, NO, NO } },
		{ ORG_ROLE_NONE, { NO, NO, NO, NO, NO, NO } },
	};
	size_t i;

	for (i = 0; i < VT_NELEM(T); i++) {
		struct principal p = user(T[i].role);

		expect_row(&p, T[i].want);
		/* Scopes mean nothing for a user: all of them do not lift a member. */
		p.scopes = 0xffffffffu;
		expect_row(&p, T[i].want);
	}
}

static void
test_token_table(void **state)
{
	/* VIEW, LIST_MEMBERS, MANAGE_MEMBERS, MANAGE_TOKENS, READ_AUDIT, MANAGE_ORG */
	static const struct {
		uint32_t scopes;
		int want[NPERMS];
	} T[] = {
		{ 0, { OK, NO, NO, NO, NO, NO } },
		{ SCOPE_VAULT_READ, { OK, NO, NO, NO, NO, NO } },
		{ SCOPE_VAULT_WRITE, { OK, NO, NO, NO, NO, NO } },
		{ SCOPE_AUDIT_READ, { OK, NO, NO, NO, OK, NO } },
		{ SCOPE_SSH_CONNECT, { OK, NO, NO, NO, NO, NO } },
		{ SCOPE_ADMIN, { OK, OK, NO, NO, OK, NO } },
		{ SCOPE_SCIM, { OK, OK, NO, NO, NO, NO } },
		{ SCOPE_VAULT_READ | SCOPE_VAULT_WRITE | SCOPE_SSH_CONNECT,
		    { OK, NO, NO, NO, NO, NO } },
		{ SCOPE_AUDIT_READ | SCOPE_SCIM, { OK, OK, NO, NO, OK, NO } },
		{ SCOPE_VAULT_READ | SCOPE_VAULT_WRITE | SCOPE_AUDIT_READ | SCOPE_SSH_CONNECT |
			SCOPE_ADMIN | SCOPE_SCIM,
		    { OK, OK, NO, NO, OK, NO } },
		{ 0xffffffffu, { OK, OK, NO, NO, OK, NO } },
		/* Bits beyond the known scopes grant nothing. */
		{ 0xffffffffu & ~(uint32_t)(SCOPE_AUDIT_READ | SCOPE_ADMIN | SCOPE_SCIM),
		    { OK, NO, NO, NO, NO, NO } },
	};
	size_t i;

	for (i = 0; i < VT_NELEM(T); i++) {
		struct principal p = token(T[i].scopes);

		expect_row(&p, T[i].want);
		/* A stray org_role on a token is ignored: the kind decides. */
		p.org_role = ORG_ROLE_OWNER;
		expect_row(&p, T[i].want);
	}
}

static void
test_no_principal(void **state)
{
	struct principal p = user(ORG_ROLE_OWNER);
	size_t i;

	p.kind = PRINCIPAL_NONE;
	p.scopes = 0xffffffffu;
	for (i = 0; i < NPERMS; i++) {
		assert_int_equal(authz_org_check(NULL, PERMS[i]), VT_ERR_UNAUTHORIZED);
		assert_int_equal(authz_org_check(&p, PERMS[i]), VT_ERR_UNAUTHORIZED);
	}
}

/* A permission value that is not one of the enumerators fails closed for everyone. */
static void
test_unknown_perm(void **state)
{
	struct principal u = user(ORG_ROLE_OWNER), t = token(0xffffffffu);

	assert_int_equal(authz_org_check(&u, (enum org_perm)6), VT_ERR_FORBIDDEN);
	assert_int_equal(authz_org_check(&u, (enum org_perm)7), VT_ERR_FORBIDDEN);
	assert_int_equal(authz_org_check(&t, (enum org_perm)6), VT_ERR_FORBIDDEN);
	assert_int_equal(authz_org_check(&t, (enum org_perm)7), VT_ERR_FORBIDDEN);
}

static void
test_can_assign_role(void **state)
{
	static const enum org_role R[] = { ORG_ROLE_NONE, ORG_ROLE_MEMBER, ORG_ROLE_ADMIN,
		ORG_ROLE_OWNER };
	/* rows: actor NONE, MEMBER, ADMIN, OWNER; columns: target in the same order */
	static const int want[4][4] = {
		{ 0, 0, 0, 0 },
		{ 0, 0, 0, 0 },
		{ 0, 1, 1, 0 },
		{ 0, 1, 1, 1 },
	};
	size_t a, t;

	for (a = 0; a < 4; a++)
		for (t = 0; t < 4; t++)
			if (authz_can_assign_role(R[a], R[t]) != want[a][t])
				fail_msg("actor %d target %d: got %d", (int)R[a], (int)R[t],
				    authz_can_assign_role(R[a], R[t]));
}

static void
test_role_strings(void **state)
{
	static const enum org_role R[] = { ORG_ROLE_MEMBER, ORG_ROLE_ADMIN, ORG_ROLE_OWNER };
	size_t i;

	assert_string_equal(authz_role_str(ORG_ROLE_OWNER), "owner");
	assert_string_equal(authz_role_str(ORG_ROLE_ADMIN), "admin");
	assert_string_equal(authz_role_str(ORG_ROLE_MEMBER), "member");
	assert_string_equal(authz_role_str(ORG_ROLE_NONE), "none");
	for (i = 0; i < VT_NELEM(R); i++)
		assert_int_equal(authz_role_parse(authz_role_str(R[i])), R[i]);

	assert_int_equal(authz_role_parse("none"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse(""), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse(NULL), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("Owner"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("OWNER"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("owner "), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse(" admin"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("own"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("superadmin"), ORG_ROLE_NONE);
	assert_int_equal(authz_role_parse("viewer"), ORG_ROLE_NONE);
}

static void
test_scope_strings(void **state)
{
	static const struct {
		const char *name;
		uint32_t bit;
	} S[] = {
		{ "vault:read", SCOPE_VAULT_READ },
		{ "vault:write", SCOPE_VAULT_WRITE },
		{ "audit:read", SCOPE_AUDIT_READ },
		{ "ssh:connect", SCOPE_SSH_CONNECT },
		{ "admin", SCOPE_ADMIN },
		{ "scim", SCOPE_SCIM },
	};
	size_t i;

	for (i = 0; i < VT_NELEM(S); i++) {
		assert_int_equal(authz_scope_parse(S[i].name), S[i].bit);
		assert_string_equal(authz_scope_str(S[i].bit), S[i].name);
	}
	/* Unknown names. */
	assert_int_equal(authz_scope_parse(""), 0);
	assert_int_equal(authz_scope_parse("vault"), 0);
	assert_int_equal(authz_scope_parse("vault:READ"), 0);
	assert_int_equal(authz_scope_parse("Admin"), 0);
	assert_int_equal(authz_scope_parse("admin "), 0);
	assert_int_equal(authz_scope_parse("vault:read vault:write"), 0);
	assert_int_equal(authz_scope_parse("vault:*"), 0);
	assert_int_equal(authz_scope_parse("*"), 0);
	assert_int_equal(authz_scope_parse("owner"), 0);
	/* A missing name (e.g. a non-string JSON array element) is unknown, not a crash. */
	assert_int_equal(authz_scope_parse(NULL), 0);
	/* Values that are not exactly one known bit have no name. */
	assert_null(authz_scope_str(0));
	assert_null(authz_scope_str(SCOPE_VAULT_READ | SCOPE_VAULT_WRITE));
	assert_null(authz_scope_str(1u << 6));
	assert_null(authz_scope_str(1u << 31));
	assert_null(authz_scope_str(0xffffffffu));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_table),
		cmocka_unit_test(test_token_table),
		cmocka_unit_test(test_no_principal),
		cmocka_unit_test(test_unknown_perm),
		cmocka_unit_test(test_can_assign_role),
		cmocka_unit_test(test_role_strings),
		cmocka_unit_test(test_scope_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
