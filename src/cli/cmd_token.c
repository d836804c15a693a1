/*
 * `vaultterm token create|ls|revoke`: org-owned API tokens (org owners and admins).
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/num.h"

static const char TOKEN_USAGE[] =
    "usage: vaultterm token <subcommand>\n\n"
    "  create --name NAME --scope SCOPE [--scope SCOPE ...] [--ttl DURATION]\n"
    "         scopes: vault:read vault:write audit:read ssh:connect admin scim\n"
    "         (comma-separated also works); DURATION like 3600, 90m, 12h, 30d.\n"
    "         The token is printed once and cannot be shown again.\n"
    "  ls     list tokens (never their values)\n"
    "  revoke TOKEN_ID\n";

int
cmd_token_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "name", 1, 0 }, { "scope", 1, 1 }, { "ttl", 1, 0 },
	};
	struct cli_args a;
	json_t *resp = NULL, *body, *scopes;
	const char *sub;
	char *path;
	int r, i;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), TOKEN_USAGE, &a)) != 0)
		return r == 1 ? 0 : r;
	sub = a.npositional > 0 ? a.positional[0] : "";
	if (strcmp(sub, "create") == 0 && a.npositional == 1) {
		if (cli_opt(&a, "name") == NULL || cli_opt_count(&a, "scope") == 0) {
			fprintf(stderr, "vaultterm token create: --name and --scope are required\n");
			return CLI_EXIT_USAGE;
		}
		scopes = json_array();
		for (i = 0; i < cli_opt_count(&a, "scope"); i++) {
			char *copy = xstrdup(cli_opt_at(&a, "scope", i)), *s, *next;

			for (s = copy; s != NULL; s = next) {
				if ((next = strchr(s, ',')) != NULL)
					*next++ = '\0';
				if (s[0] != '\0')
					json_array_append_new(scopes, json_string(s));
			}
			free(copy);
		}
		body = json_pack("{s:s, s:o}", "name", cli_opt(&a, "name"), "scopes", scopes);
		if (cli_opt(&a, "ttl") != NULL) {
			uint64_t ms;

			if (num_parse_duration_ms(cli_opt(&a, "ttl"), 60000, 3650ULL * 86400000,
			    &ms) != 0) {
				fprintf(stderr, "vaultterm token create: --ttl must be a duration "
						"between 60s and 3650d\n");
				json_decref(body);
				return CLI_EXIT_USAGE;
			}
			json_object_set_new(body, "expires_in_seconds",
			    json_integer((json_int_t)(ms / 1000)));
		}
		r = cli_call("POST", "/api/tokens", body, 1, &resp);
		json_decref(body);
		if (r != 0)
			return r;
		if (a.format == CLI_FORMAT_JSON)
			cli_print_json(resp);
		else
			printf("Created token %s (%s). Copy it now; it is not shown again:\n\n%s\n",
			    json_string_value(json_object_get(resp, "id")),
			    json_string_value(json_object_get(resp, "name")),
			    json_string_value(json_object_get(resp, "token")));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "ls") == 0 && a.npositional == 1) {
		static const char *const cols[] = { "id", "name", "scopes", "created_at",
			"expires_at", "revoked_at" };
		static const char *const hdrs[] = { "ID", "NAME", "SCOPES", "CREATED", "EXPIRES",
			"REVOKED" };

		if ((r = cli_call("GET", "/api/tokens", NULL, 1, &resp)) != 0)
			return r;
		if (a.format == CLI_FORMAT_JSON)
			cli_print_json(resp);
		else
			cli_print_table(json_object_get(resp, "items"), cols, hdrs, 6);
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "revoke") == 0 && a.npositional == 2) {
		path = xasprintf("/api/tokens/%s", a.positional[1]);
		r = cli_call("DELETE", path, NULL, 1, &resp);
		free(path);
		json_decref(resp);
		if (r == 0)
			printf("Token revoked.\n");
		return r;
	}
	fputs(TOKEN_USAGE, stderr);
	return CLI_EXIT_USAGE;
}
