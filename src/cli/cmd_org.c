/*
 * `vaultterm org ...`: the active organization, its members and invites, switching org.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ORG_USAGE[] =
    "usage: vaultterm org <subcommand>\n\n"
    "  show                              the active organization\n"
    "  members                           list members\n"
    "  invite --email EMAIL [--role R]   invite (role: member (default), admin, owner);\n"
    "                                    prints the invite link and token\n"
    "  invites                           list pending invites\n"
    "  revoke-invite INVITE_ID           revoke a pending invite\n"
    "  accept TOKEN|- [--name N] [--password-stdin]\n"
    "                                    accept an invite (new account: sets its password;\n"
    "                                    existing account: log in first). With -, the token\n"
    "                                    is read from stdin (first line; the password, if\n"
    "                                    --password-stdin, on the next), keeping it out of argv\n"
    "  switch ORG_ID                     make another of your orgs the active one\n"
    "  role USER_ID ROLE                 change a member's role\n"
    "  remove USER_ID                    remove a member (your own id: leave)\n";

static int
print_or(const struct cli_args *a, json_t *resp, const char *const *cols,
    const char *const *hdrs, size_t n)
{
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		cli_print_table(json_object_get(resp, "items"), cols, hdrs, n);
	json_decref(resp);
	return 0;
}

static int
needs(const struct cli_args *a, int n)
{
	if (a->npositional != n) {
		fputs(ORG_USAGE, stderr);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int
cmd_org_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "email", 1, 0 }, { "role", 1, 0 }, { "name", 1, 0 }, { "password-stdin", 0, 0 },
	};
	struct cli_args a;
	json_t *resp = NULL, *body = NULL;
	const char *sub;
	char *path = NULL;
	int r;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), ORG_USAGE, &a)) != 0)
		return r == 1 ? 0 : r;
	sub = a.npositional > 0 ? a.positional[0] : "";
	if (strcmp(sub, "show") == 0) {
		static const char *const keys[] = { "name", "id", "created_at" };
		static const char *const labels[] = { "Name", "Id", "Created" };

		if ((r = needs(&a, 1)) != 0 ||
		    (r = cli_call("GET", "/api/orgs/current", NULL, 1, &resp)) != 0)
			return r;
		if (a.format == CLI_FORMAT_JSON)
			cli_print_json(resp);
		else
			cli_print_object(resp, keys, labels, 3);
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "members") == 0) {
		static const char *const cols[] = { "user_id", "email", "name", "org_role",
			"joined_at" };
		static const char *const hdrs[] = { "USER ID", "EMAIL", "NAME", "ROLE", "JOINED" };

		if ((r = needs(&a, 1)) != 0 ||
		    (r = cli_call("GET", "/api/orgs/current/members?limit=500", NULL, 1, &resp)) != 0)
			return r;
		return print_or(&a, resp, cols, hdrs, 5);
	}
	if (strcmp(sub, "invites") == 0) {
		static const char *const cols[] = { "id", "email", "org_role", "expires_at" };
		static const char *const hdrs[] = { "INVITE ID", "EMAIL", "ROLE", "EXPIRES" };

		if ((r = needs(&a, 1)) != 0 ||
		    (r = cli_call("GET", "/api/orgs/current/invites", NULL, 1, &resp)) != 0)
			return r;
		return print_or(&a, resp, cols, hdrs, 4);
	}
	if (strcmp(sub, "invite") == 0) {
		if ((r = needs(&a, 1)) != 0)
			return r;
		if (cli_opt(&a, "email") == NULL) {
			fprintf(stderr, "vaultterm org invite: --email is required\n");
			return CLI_EXIT_USAGE;
		}
		body = json_pack("{s:s, s:s}", "email", cli_opt(&a, "email"), "org_role",
		    cli_opt(&a, "role") != NULL ? cli_opt(&a, "role") : "member");
		r = cli_call("POST", "/api/orgs/current/invites", body, 1, &resp);
		json_decref(body);
		if (r != 0)
			return r;
		if (a.format == CLI_FORMAT_JSON)
			cli_print_json(resp);
		else
			printf("Invited %s as %s (expires %s).\n  link:  %s\n  token: %s\n",
			    json_string_value(json_object_get(resp, "email")),
			    json_string_value(json_object_get(resp, "org_role")),
			    json_string_value(json_object_get(resp, "expires_at")),
			    json_string_value(json_object_get(resp, "invite_url")),
			    json_string_value(json_object_get(resp, "invite_token")));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "revoke-invite") == 0) {
		if ((r = needs(&a, 2)) != 0)
			return r;
		path = xasprintf("/api/orgs/current/invites/%s", a.positional[1]);
		r = cli_call("DELETE", path, NULL, 1, &resp);
		free(path);
		json_decref(resp);
		if (r == 0)
			printf("Invite revoked.\n");
		return r;
	}
	if (strcmp(sub, "accept") == 0) {
		char *pw = NULL, *invite = NULL;
		const char *tok, *env_tok = getenv("VAULTTERM_TOKEN");
		int authed = env_tok != NULL && env_tok[0] != '\0';

		if ((r = needs(&a, 2)) != 0)
			return r;
		/* "-": read the invite token from stdin (first line), keeping it out of argv. */
		if (strcmp(a.positional[1], "-") == 0) {
			if ((invite = cli_read_secret("Invite token: ", 0)) == NULL ||
			    invite[0] == '\0') {
				vt_str_wipe_free(invite);
				fprintf(stderr, "vaultterm org accept: no invite token given\n");
				return CLI_EXIT_USAGE;
			}
		}
		body = json_pack("{s:s}", "invite_token", invite != NULL ? invite : a.positional[1]);
		vt_str_wipe_free(invite);
		if (cli_opt(&a, "name") != NULL)
			json_object_set_new(body, "name", json_string(cli_opt(&a, "name")));
		/*
		 * A new account sets its password here; an existing one is already logged in. Probe
		 * only with a token at hand, so a new account does not see a "not logged in" error.
		 */
		if ((cli_opt(&a, "password-stdin") != NULL || !authed) && cli_token_present()) {
			r = cli_call("GET", "/api/auth/me", NULL, 1, &resp);
			json_decref(resp);
			resp = NULL;
			authed = r == 0;
		}
		if (!authed) {
			if ((pw = cli_read_secret("New account password: ",
			    cli_opt(&a, "password-stdin") != NULL)) == NULL) {
				json_decref(body);
				fprintf(stderr, "vaultterm org accept: no password given\n");
				return CLI_EXIT_USAGE;
			}
			json_object_set_new(body, "password", json_string(pw));
			vt_str_wipe_free(pw);
		}
		r = cli_call("POST", "/api/auth/accept-invite", body, authed, &resp);
		json_object_del(body, "password");
		json_decref(body);
		if (r != 0)
			return r;
		tok = json_string_value(json_object_get(resp, "token"));
		if (tok != NULL && (r = cli_token_save(tok)) != 0) {
			json_decref(resp);
			return r;
		}
		printf("Joined %s as %s. Token saved.\n",
		    json_string_value(json_object_get(json_object_get(resp, "org"), "name")),
		    json_string_value(json_object_get(resp, "org_role")));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "switch") == 0) {
		const char *tok;

		if ((r = needs(&a, 2)) != 0)
			return r;
		body = json_pack("{s:s}", "org_id", a.positional[1]);
		r = cli_call("POST", "/api/auth/switch-org", body, 1, &resp);
		json_decref(body);
		if (r != 0)
			return r;
		tok = json_string_value(json_object_get(resp, "token"));
		if (tok == NULL || (r = cli_token_save(tok)) != 0) {
			json_decref(resp);
			return r != 0 ? r : CLI_EXIT_LOCAL;
		}
		printf("Switched to %s. Token saved.\n",
		    json_string_value(json_object_get(json_object_get(resp, "org"), "name")));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "role") == 0) {
		if ((r = needs(&a, 3)) != 0)
			return r;
		path = xasprintf("/api/orgs/current/members/%s", a.positional[1]);
		body = json_pack("{s:s}", "org_role", a.positional[2]);
		r = cli_call("PATCH", path, body, 1, &resp);
		free(path);
		json_decref(body);
		json_decref(resp);
		if (r == 0)
			printf("Role changed to %s.\n", a.positional[2]);
		return r;
	}
	if (strcmp(sub, "remove") == 0) {
		if ((r = needs(&a, 2)) != 0)
			return r;
		path = xasprintf("/api/orgs/current/members/%s", a.positional[1]);
		r = cli_call("DELETE", path, NULL, 1, &resp);
		free(path);
		json_decref(resp);
		if (r == 0)
			printf("Member removed.\n");
		return r;
	}
	fputs(ORG_USAGE, stderr);
	return CLI_EXIT_USAGE;
}
