/*
 * Validation of the scanner's rule table (src/scan/rules.c, docs/scanner-rules.md): the table's
 * shape (at least 60 rules, unique kebab-case ids, severities, two positives and two negatives
 * each, max_len equal to Vectorscan's longest match for bounded patterns and a cap for the
 * unbounded multi-line ones); every pattern compiles in Vectorscan's streaming mode alone and all
 * together (the database's stream state is printed) and as the engine's PCRE2 start finder; every
 * positive, bare and framed, gives exactly one finding with exactly the intended secret span —
 * through a block-mode Vectorscan scan + PCRE2 leftmost start + validate, through validate on a
 * longer window ending at the match, and through the real engine (scan_buffer); no negative is
 * found by any rule; other rules stay quiet on a positive except for the listed overlaps; random
 * hashes, UUIDs, base64, near-miss tokens and decoys give no finding; every positive shifted by
 * 0..63 bytes gives the same Vectorscan ends (Vectorscan 5.4.9 misses some shapes); and the rule
 * file, this test and docs/scanner-rules.md do not trip the rules themselves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/secmem.h"
#include "base/util.h"
#include "scan/scan.h"

#define MIN_RULES 60

/*
 * The secret inside positive idx of a rule, as the one capture group of a PCRE2 pattern run over
 * the positive. A positive without an entry is a secret from its first byte to its last.
 */
struct expect {
	const char *id;
	int idx;
	const char *re;
};

static const struct expect EXPECT[] = {
	{"aws-access-key-id", 1, "= (\\S+)"},
	{"aws-secret-access-key", 0, "= (\\S+)"},
	{"aws-secret-access-key", 1, ": \"([^\"]+)\""},
	{"aws-secret-access-key", 2, "=(\\S+)"},
	{"aws-session-token", 1, "= (\\S+)"},
	{"gcp-service-account-key", 0, "id\": \"([0-9a-f]{40}[\\s\\S]*-----END PRIVATE KEY-----)"},
	{"gcp-service-account-key", 1, "id\":\"([0-9a-f]{40}[\\s\\S]*-----END PRIVATE KEY-----)"},
	{"gcp-service-account-key-base64", 1, "=(\\S+)"},
	{"google-api-key", 1, "key=([^&]+)"},
	{"google-oauth-client-secret", 1, ":\"([^\"]+)\""},
	{"google-oauth-access-token", 1, "Bearer (\\S+)"},
	{"azure-storage-account-key", 0, "AccountKey=([^;]+)"},
	{"azure-storage-account-key", 1, "=(\\S+)"},
	{"azure-sas-token", 0, "&sig=(\\S+)"},
	{"azure-sas-token", 1, "&sig=(\\S+)"},
	{"azure-shared-access-key", 0, "SharedAccessKey=(\\S+)"},
	{"azure-shared-access-key", 1, "SharedAccessKey=([^;]+)"},
	{"azure-ad-client-secret", 1, "=(\\S+)"},
	{"alibaba-access-key-id", 1, "=(\\S+)"},
	{"digitalocean-pat", 1, "=(\\S+)"},
	{"digitalocean-oauth-token", 1, ": \"([^\"]+)\""},
	{"heroku-api-key", 1, "=(\\S+)"},
	{"heroku-api-key-legacy", 0, "=(\\S+)"},
	{"heroku-api-key-legacy", 1, ": \"([^\"]+)\""},
	{"cloudflare-api-token", 0, "=(\\S+)"},
	{"cloudflare-api-token", 1, ": \"([^\"]+)\""},
	{"cloudflare-global-api-key", 0, ": (\\S+)"},
	{"cloudflare-global-api-key", 1, "=(\\S+)"},
	{"cloudflare-origin-ca-key", 1, "=(\\S+)"},
	{"fastly-api-token", 0, "=(\\S+)"},
	{"fastly-api-token", 1, ": (\\S+)"},
	{"netlify-token", 1, "=(\\S+)"},
	{"vercel-token", 0, "=(\\S+)"},
	{"vercel-token", 1, ": \"([^\"]+)\""},
	{"supabase-token", 1, "=(\\S+)"},
	{"databricks-token", 1, "=(\\S+)"},
	{"tailscale-key", 1, "=(\\S+)"},
	{"fcm-server-key", 1, ": \"([^\"]+)\""},
	{"github-pat", 1, "=(\\S+)"},
	{"github-pat", 2, "\"([^\"]+)\""},
	{"github-fine-grained-pat", 1, "=(\\S+)"},
	{"github-oauth-token", 1, ": (\\S+)"},
	{"github-user-to-server-token", 1, "token (\\S+)"},
	{"github-server-to-server-token", 1, "token:([^@]+)@"},
	{"github-refresh-token", 1, ":\"([^\"]+)\""},
	{"gitlab-pat", 1, ": (\\S+)"},
	{"gitlab-pipeline-trigger-token", 1, "token=(\\S+)"},
	{"gitlab-runner-registration-token", 1, "token (\\S+)"},
	{"gitlab-runner-auth-token", 1, "= \"([^\"]+)\""},
	{"gitlab-token", 1, "=(\\S+)"},
	{"gitlab-ci-job-token", 1, "=(\\S+)"},
	{"bitbucket-app-password", 1, "=(\\S+)"},
	{"atlassian-api-token", 1, "TOKEN=(\\S+)"},
	{"bitbucket-access-token", 1, "TOKEN=(\\S+)"},
	{"npm-token", 1, "=(\\S+)"},
	{"npmrc-auth-token", 0, "_authToken=(\\S+)"},
	{"npmrc-auth-token", 1, "_auth=(\\S+)"},
	{"pypi-token", 1, "= (\\S+)"},
	{"rubygems-api-key", 1, "=(\\S+)"},
	{"nuget-api-key", 1, "-k (\\S+)"},
	{"docker-hub-token", 1, "echo (\\S+)"},
	{"docker-config-auth", 0, "\"auth\": \"([^\"]+)\""},
	{"docker-config-auth", 1, "\"auth\":\"([^\"]+)\""},
	{"artifactory-api-key", 1, ": (\\S+)"},
	{"jfrog-reference-token", 1, "=(\\S+)"},
	{"circleci-token", 1, "=(\\S+)"},
	{"buildkite-token", 1, "=(\\S+)"},
	{"terraform-cloud-token", 1, "= \"([^\"]+)\""},
	{"hashicorp-vault-token", 1, "=(\\S+)"},
	{"hashicorp-vault-legacy-token", 0, "=(\\S+)"},
	{"hashicorp-vault-legacy-token", 1, ": (\\S+)"},
	{"pulumi-token", 1, "=(\\S+)"},
	{"doppler-token", 1, "=(\\S+)"},
	{"postman-api-key", 1, ": (\\S+)"},
	{"linear-api-key", 1, "=(\\S+)"},
	{"notion-token", 1, "=(\\S+)"},
	{"airtable-pat", 1, "=(\\S+)"},
	{"huggingface-token", 1, "=(\\S+)"},
	{"groq-api-key", 1, "=(\\S+)"},
	{"slack-bot-token", 1, "=(\\S+)"},
	{"slack-user-token", 1, "=(\\S+)"},
	{"slack-app-token", 1, "=(\\S+)"},
	{"slack-token", 1, ": \"([^\"]+)\""},
	{"slack-webhook-url", 1, ": (\\S+)"},
	{"discord-bot-token", 0, "=(\\S+)"},
	{"discord-bot-token", 1, "Bot (\\S+)"},
	{"discord-webhook-url", 1, "=(\\S+)"},
	{"telegram-bot-token", 1, "=(\\S+)"},
	{"twilio-api-key-secret", 0, ":(\\S+)"},
	{"twilio-api-key-secret", 1, "=(\\S+)"},
	{"twilio-auth-token", 0, ":(\\S+)"},
	{"twilio-auth-token", 1, "=(\\S+)"},
	{"sendgrid-api-key", 1, "=(\\S+)"},
	{"mailgun-api-key", 0, "=(\\S+)"},
	{"mailgun-api-key", 1, "api:([^']+)'"},
	{"mailchimp-api-key", 1, "=(\\S+)"},
	{"brevo-api-key", 1, "=(\\S+)"},
	{"stripe-live-secret-key", 1, "=(\\S+)"},
	{"stripe-restricted-key", 1, ": \"([^\"]+)\""},
	{"stripe-test-key", 1, "=(\\S+)"},
	{"stripe-webhook-secret", 1, "=(\\S+)"},
	{"square-access-token", 1, "=(\\S+)"},
	{"square-oauth-secret", 1, "=(\\S+)"},
	{"braintree-access-token", 1, "TOKEN=(\\S+)"},
	{"shopify-access-token", 1, ": (\\S+)"},
	{"shopify-shared-secret", 1, "=(\\S+)"},
	{"facebook-access-token", 1, "=(\\S+)"},
	{"twitter-bearer-token", 1, "=(\\S+)"},
	{"openai-api-key", 1, "=(\\S+)"},
	{"anthropic-api-key", 1, "=(\\S+)"},
	{"mapbox-secret-token", 1, "=(\\S+)"},
	{"grafana-cloud-token", 1, "TOKEN=(\\S+)"},
	{"grafana-service-account-token", 1, "=(\\S+)"},
	{"newrelic-user-api-key", 1, "=(\\S+)"},
	{"newrelic-license-key", 1, ": (\\S+)"},
	{"dynatrace-token", 1, "=(\\S+)"},
	{"sentry-dsn-secret", 0, "[0-9a-f]:([0-9a-f]{32})@"},
	{"sentry-dsn-secret", 1, "[0-9a-f]:([0-9a-f]{32})@"},
	{"sentry-auth-token", 1, "=(\\S+)"},
	{"okta-api-token", 0, "SSWS (\\S+)"},
	{"okta-api-token", 1, "=(\\S+)"},
	{"pem-rsa-private-key", 1, "^(-----BEGIN[\\s\\S]*-----)\\r\\n$"},
	{"pem-ec-private-key", 0, "^(-----BEGIN[\\s\\S]*-----)\\n$"},
	{"pem-ec-private-key", 1, "^    (-----BEGIN[\\s\\S]*-----)$"},
	{"pem-dsa-private-key", 1, "^(-----BEGIN[\\s\\S]*-----)\\n$"},
	{"pem-pkcs8-private-key", 1, "^(-----BEGIN[\\s\\S]*-----)\\n$"},
	{"pem-encrypted-private-key", 1, "^(-----BEGIN[\\s\\S]*-----)\\n$"},
	{"openssh-private-key", 1, "^(-----BEGIN[\\s\\S]*-----)\\n$"},
	{"putty-private-key", 1, "^(PuTTY[\\s\\S]*[0-9a-f])\\n$"},
	{"base64-pem-private-key", 0, ": (\\S+)"},
	{"base64-pem-private-key", 1, ": (\\S+)"},
	{"pkcs12-base64", 1, ": \"([^\"]+)\""},
	{"age-secret-key", 1, "\\n(AGE\\S+)"},
	{"wireguard-private-key", 0, "PrivateKey = (\\S+)"},
	{"wireguard-private-key", 1, "=(\\S+)"},
	{"jwt", 1, "Bearer (\\S+)"},
	{"postgres-uri-password", 0, "app:([^@]+)@"},
	{"postgres-uri-password", 1, "svc_reports:([^@]+)@"},
	{"mysql-uri-password", 0, "root:([^@]+)@"},
	{"mysql-uri-password", 1, "etl:([^@]+)@"},
	{"mongodb-uri-password", 0, "admin:([^@]+)@"},
	{"mongodb-uri-password", 1, "reader:([^@]+)@"},
	{"redis-uri-password", 0, "//:([^@]+)@"},
	{"redis-uri-password", 1, "default:([^@]+)@"},
	{"amqp-uri-password", 0, "orders:([^@]+)@"},
	{"amqp-uri-password", 1, "worker:([^@]+)@"},
	{"basic-auth-url", 0, "deploy:([^@]+)@"},
	{"basic-auth-url", 1, "ci:([^@]+)@"},
	{"http-bearer-token", 0, "Bearer (\\S+)"},
	{"http-bearer-token", 1, "Bearer ([^\"]+)\""},
	{"http-basic-auth-header", 0, "Basic (\\S+)"},
	{"http-basic-auth-header", 1, "basic ([^']+)'"},
	{"netrc-password", 0, "password (\\S+)"},
	{"netrc-password", 1, "password (\\S+)"},
	{"generic-password-assignment", 0, "=(\\S+)"},
	{"generic-password-assignment", 1, ": \"([^\"]+)\""},
	{"generic-password-assignment", 2, ": (\\S+)"},
	{"generic-password-assignment", 3, "=(\\S+)"},
	{"generic-password-assignment", 4, "=(\\S+)"},
	{"generic-secret-assignment", 0, "=(\\S+)"},
	{"generic-secret-assignment", 1, ": (\\S+)"},
	{"generic-secret-assignment", 2, ": \"([^\"]+)\""},
	{"generic-api-key-assignment", 0, "=(\\S+)"},
	{"generic-api-key-assignment", 1, ": (\\S+)"},
	{"generic-api-key-assignment", 2, ": \"([^\"]+)\""},
	{"generic-token-assignment", 0, "=(\\S+)"},
	{"generic-token-assignment", 1, ": \"([^\"]+)\""},
	{"generic-token-assignment", 2, ": \"([^\"]+)\""},
	{"kubernetes-secret-yaml", 0, "password: (\\S+\\n  username: \\S+)"},
	{"kubernetes-secret-yaml", 1, "tls.key: (\\S+)"},
	{"kubernetes-secret-manifest", 0, "password: (\\S+)"},
	{"kubernetes-secret-manifest", 1, "API_TOKEN: \"([^\"]+)\""},
	{"kubernetes-secret-json", 0, "(\"password\": \"[^\"]+\")"},
	{"kubernetes-secret-json", 1, "(\"token\":\"[^\"]+\")"},
};

/*
 * Findings of another rule that a positive may also produce, because the text holds both (a GCP
 * key file holds a PKCS#8 key; a Kubernetes Secret's value may itself be a base64 PEM).
 */
static const char *const OVERLAPS[][2] = {
	{"gcp-service-account-key", "pem-pkcs8-private-key"},
	{"kubernetes-secret-yaml", "base64-pem-private-key"},
	/* "password: <base64>" in a Secret is also a password assignment ("generic-": all four) */
	{"kubernetes-secret-yaml", "generic-"},
	{"kubernetes-secret-manifest", "generic-"},
	{"kubernetes-secret-json", "generic-"},
};

/* The framings a positive is tried in: bare, after a shell prompt, inside a log line. */
static const char *const FRAMES[][2] = {
	{"", ""},
	{"$ cat out.txt\n", "\n$ "},
	{"2024-05-01T10:00:00Z INFO ", " \n"},
};

/* ---- helpers --------------------------------------------------------------------------------- */

struct span {
	size_t s, e;
};

struct spans {
	struct span v[64];
	size_t n;
};

struct ends {
	unsigned long long v[512];
	unsigned int id[512];
	size_t n;
};

static int
on_end(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
    void *ctx)
{
	struct ends *e = ctx;

	(void)from;
	(void)flags;
	if (e->n < VT_NELEM(e->v)) {
		e->v[e->n] = to;
		e->id[e->n] = id;
		e->n++;
	}
	return 0;
}

/* Per-rule compiled forms, built once. */
struct compiled {
	hs_database_t *block;   /* this rule alone, block mode */
	pcre2_code *start;      /* the engine's start finder: ENDANCHORED */
	unsigned int min_width, max_width;
};

static struct compiled *RT;
static hs_database_t *ALL_BLOCK;
static hs_scratch_t *SCRATCH;
static pcre2_match_data *MD;

static char *
frame(const char *pre, const char *p, const char *post, size_t *n)
{
	size_t a = strlen(pre), b = strlen(p), c = strlen(post);
	char *s = malloc(a + b + c + 1);

	assert_non_null(s);
	memcpy(s, pre, a);
	memcpy(s + a, p, b);
	memcpy(s + a + b, post, c + 1);
	*n = a + b + c;
	return s;
}

static const struct expect *
expect_for(const char *id, size_t idx)
{
	size_t i;

	for (i = 0; i < VT_NELEM(EXPECT); i++)
		if (strcmp(EXPECT[i].id, id) == 0 && (size_t)EXPECT[i].idx == idx)
			return &EXPECT[i];
	return NULL;
}

/* The intended secret span inside positive p. */
static struct span
expected_span(const struct scan_rule *ru, size_t idx, const char *p)
{
	const struct expect *x = expect_for(ru->id, idx);
	struct span sp = {0, strlen(p)};
	pcre2_code *re;
	pcre2_match_data *md;
	PCRE2_SIZE eoff, *ov;
	int ec, rc;

	if (x == NULL)
		return sp;
	re = pcre2_compile((PCRE2_SPTR)x->re, PCRE2_ZERO_TERMINATED, 0, &ec, &eoff, NULL);
	if (re == NULL)
		fail_msg("expectation for %s %zu does not compile", ru->id, idx);
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)p, strlen(p), 0, 0, md, NULL);
	if (rc < 2)
		fail_msg("expectation for %s positive %zu does not match it", ru->id, idx);
	ov = pcre2_get_ovector_pointer(md);
	sp.s = ov[2];
	sp.e = ov[3];
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return sp;
}

/* Leftmost start of a match of rule r ending exactly at e, at most max_len back; 0 if found. */
static int
leftmost(size_t r, const char *t, size_t e, size_t *start)
{
	size_t lo = e > SCAN_RULES[r].max_len ? e - SCAN_RULES[r].max_len : 0;
	int rc = pcre2_match(RT[r].start, (PCRE2_SPTR)t, e, lo, 0, MD, NULL);

	if (rc < 0)
		return -1;
	*start = pcre2_get_ovector_pointer(MD)[0];
	return 0;
}

/*
 * Findings of rule r in t the way the engine makes them: Vectorscan ends, the PCRE2 leftmost
 * start of each, the longest end per start, then validate on that match. With check_window, the
 * validator must also give the same span on the longer window [end - max_len, end).
 */
static void
rule_findings(size_t r, const char *t, size_t n, int check_window, struct spans *out)
{
	const struct scan_rule *ru = &SCAN_RULES[r];
	struct ends e = {.n = 0};
	struct span cand[64];
	size_t nc = 0, i, j;

	out->n = 0;
	assert_int_equal(hs_scan(RT[r].block, t, (unsigned int)n, 0, SCRATCH, on_end, &e),
	    HS_SUCCESS);
	if (getenv("RULES_DEBUG") != NULL)
		fprintf(stderr, "debug: %s: %zu ends in %zu bytes\n", ru->id, e.n, n);
	for (i = 0; i < e.n; i++) {
		size_t st = 0; /* fail_msg() does not return */

		if (leftmost(r, t, (size_t)e.v[i], &st) != 0)
			fail_msg("rule %s: Vectorscan ends at %llu, PCRE2 finds no start", ru->id,
			    e.v[i]);
		for (j = 0; j < nc && cand[j].s != st; j++)
			;
		if (j == nc) {
			assert_true(nc < VT_NELEM(cand));
			cand[nc].s = st;
			cand[nc++].e = (size_t)e.v[i];
		} else if (cand[j].e < e.v[i]) {
			cand[j].e = (size_t)e.v[i];
		}
	}
	for (i = 0; i < nc; i++) {
		size_t off = 0, len = 0, len_m = cand[i].e - cand[i].s;

		assert_true(len_m <= ru->max_len);
		if (ru->validate((const uint8_t *)t + cand[i].s, len_m, &off, &len) != 1) {
			if (getenv("RULES_DEBUG") != NULL)
				fprintf(stderr, "debug: %s rejects [%zu,%zu)\n", ru->id, cand[i].s,
				    cand[i].e);
			continue;
		}
		assert_true(len > 0 && off + len <= len_m);
		if (check_window) {
			size_t w0 = cand[i].e > ru->max_len ? cand[i].e - ru->max_len : 0;
			size_t off2 = 0, len2 = 0;
			const uint8_t *w = (const uint8_t *)t + w0;

			if (ru->validate(w, cand[i].e - w0, &off2, &len2) != 1 ||
			    w0 + off2 != cand[i].s + off || len2 != len)
				fail_msg("rule %s: validate on a longer window disagrees", ru->id);
		}
		assert_true(out->n < VT_NELEM(out->v));
		out->v[out->n].s = cand[i].s + off;
		out->v[out->n++].e = cand[i].s + off + len;
	}
}

static int
overlap_allowed(const char *a, const char *b)
{
	size_t i;

	for (i = 0; i < VT_NELEM(OVERLAPS); i++) {
		size_t l = strlen(OVERLAPS[i][1]);

		if (strcmp(OVERLAPS[i][0], a) == 0 && (strcmp(OVERLAPS[i][1], b) == 0 ||
		    (OVERLAPS[i][1][l - 1] == '-' && strncmp(OVERLAPS[i][1], b, l) == 0)))
			return 1;
	}
	return 0;
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int
setup(void **state)
{
	const char **pats;
	unsigned int *flags, *ids;
	hs_compile_error_t *ce = NULL;
	size_t i;

	(void)state;
	if (secmem_init() != 0)
		return -1;
	RT = calloc(SCAN_RULES_COUNT, sizeof(*RT));
	pats = calloc(SCAN_RULES_COUNT, sizeof(*pats));
	flags = calloc(SCAN_RULES_COUNT, sizeof(*flags));
	ids = calloc(SCAN_RULES_COUNT, sizeof(*ids));
	if (RT == NULL || pats == NULL || flags == NULL || ids == NULL)
		return -1;
	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		const struct scan_rule *ru = &SCAN_RULES[i];
		hs_expr_info_t *info = NULL;
		PCRE2_SIZE eoff;
		int ec;

		if (hs_compile(ru->pattern, ru->hs_flags, HS_MODE_BLOCK, NULL, &RT[i].block, &ce) !=
		    HS_SUCCESS) {
			fprintf(stderr, "rule %s: %s\n", ru->id, ce->message);
			return -1;
		}
		if (hs_expression_info(ru->pattern, ru->hs_flags, &info, &ce) != HS_SUCCESS)
			return -1;
		RT[i].min_width = info->min_width;
		RT[i].max_width = info->max_width;
		free(info);
		RT[i].start = pcre2_compile((PCRE2_SPTR)ru->pattern, PCRE2_ZERO_TERMINATED,
		    PCRE2_ENDANCHORED, &ec, &eoff, NULL);
		if (RT[i].start == NULL) {
			fprintf(stderr, "rule %s: PCRE2 refuses the pattern at %zu\n", ru->id,
			    (size_t)eoff);
			return -1;
		}
		if (hs_alloc_scratch(RT[i].block, &SCRATCH) != HS_SUCCESS)
			return -1;
		pats[i] = ru->pattern;
		flags[i] = ru->hs_flags;
		ids[i] = (unsigned int)i;
	}
	if (hs_compile_multi(pats, flags, ids, (unsigned int)SCAN_RULES_COUNT, HS_MODE_BLOCK, NULL,
	        &ALL_BLOCK, &ce) != HS_SUCCESS ||
	    hs_alloc_scratch(ALL_BLOCK, &SCRATCH) != HS_SUCCESS)
		return -1;
	MD = pcre2_match_data_create(4, NULL);
	free(pats);
	free(flags);
	free(ids);
	return MD == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		hs_free_database(RT[i].block);
		pcre2_code_free(RT[i].start);
	}
	free(RT);
	hs_free_database(ALL_BLOCK);
	hs_free_scratch(SCRATCH);
	pcre2_match_data_free(MD);
	return 0;
}

/* ---- the table ------------------------------------------------------------------------------- */

static int
kebab(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= SCAN_RULE_ID_MAX || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
		if (s[i] == '-' && s[i + 1] == '-')
			return 0;
	}
	return 1;
}

static void
test_table_shape(void **state)
{
	size_t i, j, bounded = 0, capped = 0;

	(void)state;
	printf("scan rules: %zu\n", SCAN_RULES_COUNT);
	assert_true(SCAN_RULES_COUNT >= MIN_RULES);
	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		const struct scan_rule *ru = &SCAN_RULES[i];
		size_t np = 0, nn = 0;

		if (!kebab(ru->id))
			fail_msg("rule id %s is not lower-case kebab", ru->id);
		for (j = 0; j < i; j++)
			if (strcmp(SCAN_RULES[j].id, ru->id) == 0)
				fail_msg("rule id %s twice", ru->id);
		assert_non_null(ru->description);
		assert_true(strlen(ru->description) > 10);
		assert_true(ru->severity >= SCAN_SEV_LOW && ru->severity <= SCAN_SEV_CRITICAL);
		assert_non_null(ru->pattern);
		/* inline (?i:...) and [\s\S] only: PCRE2 reads them the same */
		assert_int_equal(ru->hs_flags, 0);
		assert_non_null(ru->validate);     /* every rule narrows from the end and filters */
		assert_non_null(ru->positives);
		assert_non_null(ru->negatives);
		while (ru->positives[np] != NULL)
			np++;
		while (ru->negatives[nn] != NULL)
			nn++;
		if (np < 2 || nn < 2)
			fail_msg("rule %s: %zu positives, %zu negatives", ru->id, np, nn);
		if (RT[i].max_width != UINT_MAX) {
			/* bounded: max_len is exactly the longest possible match */
			if (ru->max_len != RT[i].max_width)
				fail_msg("rule %s: max_len %u, longest match %u", ru->id,
				    ru->max_len, RT[i].max_width);
			bounded++;
		} else {
			capped++; /* multi-KB formats: max_len caps how far back a match starts */
		}
		assert_true(ru->max_len > 0 && ru->max_len <= SCAN_RULE_MAX_LEN);
		assert_true(ru->max_len >= RT[i].min_width);
	}
	printf("scan rules: max_len exact for %zu bounded patterns, a cap for %zu unbounded ones\n",
	    bounded, capped);
}

static void
test_stream_mode(void **state)
{
	const char **pats = calloc(SCAN_RULES_COUNT, sizeof(*pats));
	unsigned int *flags = calloc(SCAN_RULES_COUNT, sizeof(*flags));
	unsigned int *ids = calloc(SCAN_RULES_COUNT, sizeof(*ids));
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	size_t i, ss = 0, ds = 0, maxss = 0;
	struct timespec t0, t1;

	(void)state;
	assert_non_null(pats);
	assert_non_null(flags);
	assert_non_null(ids);
	for (i = 0; i < SCAN_RULES_COUNT; i++) {
		const struct scan_rule *ru = &SCAN_RULES[i];

		if (hs_compile(ru->pattern, ru->hs_flags, HS_MODE_STREAM, NULL, &db, &ce) !=
		    HS_SUCCESS)
			fail_msg("rule %s: Vectorscan (stream mode): %s", ru->id, ce->message);
		assert_int_equal(hs_stream_size(db, &ss), HS_SUCCESS);
		if (ss > maxss)
			maxss = ss;
		hs_free_database(db);
		db = NULL;
		pats[i] = ru->pattern;
		flags[i] = ru->hs_flags;
		ids[i] = (unsigned int)i;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hs_compile_multi(pats, flags, ids, (unsigned int)SCAN_RULES_COUNT, HS_MODE_STREAM, NULL,
	        &db, &ce) != HS_SUCCESS)
		fail_msg("all rules (stream mode): rule %d: %s", ce->expression, ce->message);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(hs_stream_size(db, &ss), HS_SUCCESS);
	assert_int_equal(hs_database_size(db, &ds), HS_SUCCESS);
	printf("scan rules: Vectorscan stream state %zu bytes for all %zu rules (largest alone "
	       "%zu), database %zu bytes, compiled in %.2f s\n",
	    ss, SCAN_RULES_COUNT, maxss, ds,
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	assert_true(ss <= 4096);
	hs_free_database(db);
	free(pats);
	free(flags);
	free(ids);
}

/* ---- positives and negatives, rule by rule --------------------------------------------------- */

/* Positive j of rule r in frame k: exactly one finding, exactly the intended secret. */
static void
check_positive(size_t r, size_t j, size_t k)
{
	const struct scan_rule *ru = &SCAN_RULES[r];
	struct span want = expected_span(ru, j, ru->positives[j]);
	size_t n, pre = strlen(FRAMES[k][0]);
	char *t = frame(FRAMES[k][0], ru->positives[j], FRAMES[k][1], &n);
	struct spans f;

	rule_findings(r, t, n, 1, &f);
	if (f.n != 1)
		fail_msg("rule %s positive %zu frame %zu: %zu findings", ru->id, j, k, f.n);
	if (f.v[0].s != want.s + pre || f.v[0].e != want.e + pre)
		fail_msg("rule %s positive %zu frame %zu: secret at [%zu,%zu), expected [%zu,%zu)",
		    ru->id, j, k, f.v[0].s - pre, f.v[0].e - pre, want.s, want.e);
	free(t);
}

static void
test_positives(void **state)
{
	size_t r, j, k;

	(void)state;
	for (r = 0; r < SCAN_RULES_COUNT; r++)
		for (j = 0; SCAN_RULES[r].positives[j] != NULL; j++)
			for (k = 0; k < VT_NELEM(FRAMES); k++)
				check_positive(r, j, k);
}

static void
check_negative(size_t r, size_t j, size_t k)
{
	const struct scan_rule *ru = &SCAN_RULES[r];
	size_t n;
	char *t = frame(FRAMES[k][0], ru->negatives[j], FRAMES[k][1], &n);
	struct spans f;

	rule_findings(r, t, n, 0, &f);
	if (f.n != 0)
		fail_msg("rule %s negative %zu frame %zu: found at [%zu,%zu)", ru->id, j, k,
		    f.v[0].s, f.v[0].e);
	free(t);
}

static void
test_negatives(void **state)
{
	size_t r, j, k;

	(void)state;
	for (r = 0; r < SCAN_RULES_COUNT; r++)
		for (j = 0; SCAN_RULES[r].negatives[j] != NULL; j++)
			for (k = 0; k < VT_NELEM(FRAMES); k++)
				check_negative(r, j, k);
}

/* Findings of rules other than r (and its allowed overlaps) in test string s; prints each. */
static size_t
other_findings(size_t r, const char *s, int negative)
{
	const char *id = SCAN_RULES[r].id;
	struct ends e = {.n = 0};
	size_t n = strlen(s), i, bad = 0;

	assert_int_equal(hs_scan(ALL_BLOCK, s, (unsigned int)n, 0, SCRATCH, on_end, &e),
	    HS_SUCCESS);
	for (i = 0; i < e.n; i++) {
		size_t q = e.id[i];
		struct spans f;

		if (!negative && (q == r || overlap_allowed(id, SCAN_RULES[q].id)))
			continue;
		rule_findings(q, s, n, 0, &f);
		if (f.n == 0)
			continue;
		print_error("%s of rule %s is found by rule %s at [%zu,%zu)\n",
		    negative ? "a negative" : "a positive", id, SCAN_RULES[q].id, f.v[0].s,
		    f.v[0].e);
		bad++;
	}
	return bad;
}

/* All rules at once: a positive wakes only its rule (and listed overlaps), a negative none. */
static void
test_cross_talk(void **state)
{
	size_t r, j, bad = 0;

	(void)state;
	for (r = 0; r < SCAN_RULES_COUNT; r++) {
		for (j = 0; SCAN_RULES[r].positives[j] != NULL; j++)
			bad += other_findings(r, SCAN_RULES[r].positives[j], 0);
		for (j = 0; SCAN_RULES[r].negatives[j] != NULL; j++)
			bad += other_findings(r, SCAN_RULES[r].negatives[j], 1);
	}
	assert_int_equal(bad, 0);
}

/* ---- hard negatives: digests, UUIDs, base64 blobs, random words ------------------------------ */

/* Lines that look like credentials to a pattern and must not survive the validators. */
static const char *const DECOYS[] = {
	"token_expiry: 3600", "password: ********", "Authorization: Bearer $TOKEN",
	"postgres://localhost:5432/app", "git clone https://github.com/org/repo.git",
	"export GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}", "api_key: <your-api-key>",
	"secret: changeme-changeme", "-----BEGIN CERTIFICATE-----",
	"client_secret=xxxxxxxxxxxxxxxx",
	"mysql -u root -p", "password = os.environ[\"DB_PASSWORD\"]", "AKIAIOSFODNN7EXAMPLE",
	"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
	"redis://localhost:6379/0", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "token: null",
	"PASSWORD=[MASKED]", "password: [FILTERED]", "api_key: None", "SECRET_KEY=os.environ['X']",
};

static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static size_t
put_random(char *t, const char *alphabet, size_t k, uint64_t *seed)
{
	size_t i, a = strlen(alphabet);

	for (i = 0; i < k; i++)
		t[i] = alphabet[xorshift(seed) % a];
	return k;
}

/*
 * Half a megabyte of build-log-like text: SHA-1/SHA-256 digests, UUIDs, base64 lines, git short
 * hashes, base62 runs behind vendor-like prefixes with bad checksums, eyJ runs that are not JSON,
 * and the decoys above. No rule may report anything.
 */
static void
test_random_text(void **state)
{
	static const char hex[] = "0123456789abcdef";
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	static const char *const words[] = {"build", "ok", "error:", "warning", "step", "done",
		"make[2]:", "Compiling", "src/main.c", "PASS", "FAIL", "token", "key", "id="};
	size_t cap = 1 << 19, n = 0, i, k, piece, ends = 0;
	char *t = malloc(cap);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct ends e = {.n = 0};

	(void)state;
	assert_non_null(t);
	while (n + 300 < cap) {
		switch (xorshift(&seed) % 9) {
		case 0: /* a SHA-1 or SHA-256 digest */
			n += put_random(t + n, hex, xorshift(&seed) % 2 ? 40 : 64, &seed);
			break;
		case 1: /* a UUID */
			for (i = 0; i < 36; i++)
				t[n++] = (i == 8 || i == 13 || i == 18 || i == 23) ? '-'
				    : hex[xorshift(&seed) % 16];
			break;
		case 2: /* a line of a base64 blob */
			n += put_random(t + n, b64, 76, &seed);
			break;
		case 3: /* a git short hash */
			n += put_random(t + n, hex, 7, &seed);
			break;
		case 4: /* a GitHub-like token whose checksum is wrong (1 in 56.8e9 is right) */
			memcpy(t + n, "ghp_", 4);
			n += 4;
			n += put_random(t + n, b62, 36, &seed);
			break;
		case 5: /* base64url after eyJ that is neither JSON nor a JWT */
			memcpy(t + n, "eyJ", 3);
			n += 3;
			n += put_random(t + n, b64, 30, &seed);
			t[n++] = '.';
			n += put_random(t + n, b64, 30, &seed);
			break;
		case 6: {
			const char *d = DECOYS[xorshift(&seed) % VT_NELEM(DECOYS)];

			k = strlen(d);
			memcpy(t + n, d, k);
			n += k;
			break;
		}
		default: {
			const char *w = words[xorshift(&seed) % VT_NELEM(words)];

			k = strlen(w);
			memcpy(t + n, w, k);
			n += k;
			break;
		}
		}
		t[n++] = xorshift(&seed) % 3 ? ' ' : '\n';
	}
	for (i = 0; i < n; i += piece) {
		/* pieces that end at a line end and are small enough for the end buffer */
		piece = n - i < 4096 ? n - i : 4096;
		while (i + piece < n && piece > 1 && t[i + piece - 1] != '\n')
			piece--;
		e.n = 0;
		assert_int_equal(hs_scan(ALL_BLOCK, t + i, (unsigned int)piece, 0, SCRATCH, on_end,
		    &e), HS_SUCCESS);
		assert_true(e.n < VT_NELEM(e.v));
		ends += e.n;
		for (k = 0; k < e.n; k++) {
			struct spans f;

			rule_findings(e.id[k], t + i, piece, 0, &f);
			if (f.n != 0)
				fail_msg("random text: rule %s finds \"%.*s\"",
				    SCAN_RULES[e.id[k]].id, (int)(f.v[0].e - f.v[0].s),
				    t + i + f.v[0].s);
		}
	}
	printf("scan rules: %zu bytes of digests, UUIDs, base64, near-miss tokens and decoys: "
	       "%zu pattern ends, no finding\n", n, ends);
	free(t);
}

/*
 * Vectorscan 5.4.9 misses matches of some shapes ("-----BEGIN X-----[^-]{n,}-----END X-----" in
 * most cases): each positive, shifted by 0..63 bytes, must give the same ends from the database of
 * all rules — the shape the engine compiles.
 */
static void
check_shifts(size_t r, size_t j)
{
	const struct scan_rule *ru = &SCAN_RULES[r];
	size_t n = strlen(ru->positives[j]), base = 0, pad, i;
	char *t = malloc(n + 64);
	struct ends e;

	assert_non_null(t);
	for (pad = 0; pad < 64; pad++) {
		size_t cnt = 0, last = 0;

		memset(t, ' ', pad);
		memcpy(t + pad, ru->positives[j], n);
		e.n = 0;
		assert_int_equal(hs_scan(ALL_BLOCK, t, (unsigned int)(n + pad), 0, SCRATCH, on_end,
		    &e), HS_SUCCESS);
		for (i = 0; i < e.n; i++) {
			if (e.id[i] != r)
				continue;
			cnt++;
			last = (size_t)e.v[i] - pad;
		}
		if (pad == 0)
			base = last;
		if (cnt == 0 || last != base)
			fail_msg("rule %s positive %zu shifted by %zu: %zu ends, last %zu "
				 "(unshifted %zu)", ru->id, j, pad, cnt, last, base);
	}
	free(t);
}

static void
test_vectorscan_shapes(void **state)
{
	static const char shape[] = "-----BEGIN K-----[^-]{10,}-----END K-----";
	static const char text[] = "-----BEGIN K-----"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				   "-----END K-----";
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	struct ends e = {.n = 0};
	size_t r, j;

	(void)state;
	/* the reproducer: if this starts matching, the Vectorscan in use is fixed */
	assert_int_equal(hs_compile(shape, 0, HS_MODE_BLOCK, NULL, &db, &ce), HS_SUCCESS);
	assert_int_equal(hs_alloc_scratch(db, &SCRATCH), HS_SUCCESS);
	assert_int_equal(hs_scan(db, text, sizeof(text) - 1, 0, SCRATCH, on_end, &e), HS_SUCCESS);
	printf("scan rules: Vectorscan %s the [^-]{n,} shape\n", e.n ? "matches" : "MISSES");
	hs_free_database(db);
	for (r = 0; r < SCAN_RULES_COUNT; r++)
		for (j = 0; SCAN_RULES[r].positives[j] != NULL; j++)
			check_shifts(r, j);
}

/* ---- the real engine ------------------------------------------------------------------------- */

struct found {
	const char *id[64];
	uint64_t s[64], e[64];
	size_t n;
};

static int
on_match(void *ud, const struct scan_match *m)
{
	struct found *f = ud;

	if (f->n < VT_NELEM(f->id)) {
		f->id[f->n] = m->rule_id;
		f->s[f->n] = m->start;
		f->e[f->n] = m->end;
		f->n++;
	}
	return 0;
}

/* Positive j of rule r in frame k through scan_buffer: once, exactly the intended secret. */
static void
engine_positive(const struct scan_db *db, size_t r, size_t j, size_t k)
{
	const struct scan_rule *ru = &SCAN_RULES[r];
	struct span want = expected_span(ru, j, ru->positives[j]);
	size_t n, pre = strlen(FRAMES[k][0]), hits = 0, i;
	char *t = frame(FRAMES[k][0], ru->positives[j], FRAMES[k][1], &n);
	struct found f = {.n = 0};

	assert_int_equal(scan_buffer(db, NULL, t, n, on_match, &f), 0);
	for (i = 0; i < f.n; i++) {
		if (strcmp(f.id[i], ru->id) != 0) {
			if (!overlap_allowed(ru->id, f.id[i]))
				fail_msg("engine: positive %zu of %s also found by %s", j, ru->id,
				    f.id[i]);
			continue;
		}
		hits++;
		if (f.s[i] != want.s + pre || f.e[i] != want.e + pre)
			fail_msg("engine: rule %s positive %zu frame %zu at [%llu,%llu), expected "
				 "[%zu,%zu)", ru->id, j, k, (unsigned long long)(f.s[i] - pre),
			    (unsigned long long)(f.e[i] - pre), want.s, want.e);
	}
	if (hits != 1)
		fail_msg("engine: rule %s positive %zu frame %zu: %zu findings", ru->id, j, k,
		    hits);
	free(t);
}

static void
test_engine(void **state)
{
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];
	size_t r, j, k;

	(void)state;
	if (scan_db_open(&db, err) != 0)
		fail_msg("scan_db_open: %s", err);
	printf("scan rules: engine stream state %zu bytes per stream (window included)\n",
	    scan_db_stream_size(db));
	for (r = 0; r < SCAN_RULES_COUNT; r++) {
		const struct scan_rule *ru = &SCAN_RULES[r];

		for (j = 0; ru->positives[j] != NULL; j++)
			for (k = 0; k < VT_NELEM(FRAMES); k++)
				engine_positive(db, r, j, k);
		for (j = 0; ru->negatives[j] != NULL; j++) {
			struct found f = {.n = 0};

			assert_int_equal(scan_buffer(db, NULL, ru->negatives[j],
			    strlen(ru->negatives[j]), on_match, &f), 0);
			if (f.n != 0)
				fail_msg("engine: negative %zu of %s found by %s", j, ru->id,
				    f.id[0]);
		}
	}
	scan_db_free(db);
}

/* The rule file and its documentation hold only split or near-miss values: no finding in them. */
static void
test_self_scan(void **state)
{
	static const char *const files[] = {
		VT_TEST_DATA_DIR "/../../src/scan/rules.c",
		VT_TEST_DATA_DIR "/../../docs/scanner-rules.md",
		VT_TEST_DATA_DIR "/../unit/test_scan_rules.c",
	};
	struct scan_db *db = NULL;
	char err[SCAN_ERR_MAX];
	size_t i;

	(void)state;
	if (scan_db_open(&db, err) != 0)
		fail_msg("scan_db_open: %s", err);
	for (i = 0; i < VT_NELEM(files); i++) {
		FILE *f = fopen(files[i], "rb");
		struct found fd = {.n = 0};
		char *t;
		long n;

		if (f == NULL)
			fail_msg("%s: cannot open", files[i]);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		n = ftell(f);
		assert_true(n > 0);
		rewind(f);
		t = malloc((size_t)n);
		assert_non_null(t);
		assert_int_equal(fread(t, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		assert_int_equal(scan_buffer(db, NULL, t, (size_t)n, on_match, &fd), 0);
		if (fd.n != 0)
			fail_msg("%s: rule %s finds [%llu,%llu)", files[i], fd.id[0],
			    (unsigned long long)fd.s[0], (unsigned long long)fd.e[0]);
		free(t);
	}
	scan_db_free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_shape),
		cmocka_unit_test(test_stream_mode),
		cmocka_unit_test(test_positives),
		cmocka_unit_test(test_negatives),
		cmocka_unit_test(test_cross_talk),
		cmocka_unit_test(test_random_text),
		cmocka_unit_test(test_vectorscan_shapes),
		cmocka_unit_test(test_engine),
		cmocka_unit_test(test_self_scan),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
