/*
 * register, login, logout, whoami and mfa. Passwords are read without echo from the terminal, or
 * as one line from stdin with --password-stdin (for scripts); never from argv, where every local
 * user could read them in /proc.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
save_from(const json_t *resp)
{
	const char *tok = json_string_value(json_object_get(resp, "token"));

	if (tok == NULL) {
		fprintf(stderr, "vaultterm: the server did not return a token\n");
		return CLI_EXIT_LOCAL;
	}
	return cli_token_save(tok);
}

static void
print_session(const struct cli_args *a, const json_t *resp, const char *verb)
{
	if (a->format == CLI_FORMAT_JSON) {
		json_t *copy = json_deep_copy(resp);

		json_object_del(copy, "token"); /* saved, not printed */
		cli_print_json(copy);
		json_decref(copy);
		return;
	}
	printf("%s %s (org %s, %s). Token saved.\n", verb,
	    json_string_value(json_object_get(json_object_get(resp, "user"), "email")),
	    json_string_value(json_object_get(json_object_get(resp, "org"), "name")),
	    json_string_value(json_object_get(json_object_get(resp, "org"), "id")));
}

int
cmd_register_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "email", 1, 0 }, { "name", 1, 0 }, { "password-stdin", 0, 0 },
	};
	static const char usage[] =
	    "usage: vaultterm register --email EMAIL [--name NAME] [--password-stdin]\n\n"
	    "Creates an account and its own organization (you are its owner), then saves the\n"
	    "session token. The password (at least 12 characters) is prompted for, or read from\n"
	    "stdin with --password-stdin.\n";
	struct cli_args a;
	json_t *body, *resp = NULL;
	char *pw = NULL, *pw2 = NULL;
	int r, from_stdin;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), usage, &a)) != 0)
		return r == 1 ? 0 : r;
	if (cli_opt(&a, "email") == NULL || a.npositional > 0) {
		fprintf(stderr, "vaultterm register: --email is required\n\n%s", usage);
		return CLI_EXIT_USAGE;
	}
	from_stdin = cli_opt(&a, "password-stdin") != NULL;
	if ((pw = cli_read_secret("Password: ", from_stdin)) == NULL) {
		fprintf(stderr, "vaultterm register: no password given\n");
		return CLI_EXIT_USAGE;
	}
	if (!from_stdin && isatty(STDIN_FILENO)) {
		pw2 = cli_read_secret("Repeat password: ", 0);
		if (pw2 == NULL || strcmp(pw, pw2) != 0) {
			fprintf(stderr, "vaultterm register: the passwords do not match\n");
			vt_str_wipe_free(pw);
			vt_str_wipe_free(pw2);
			return CLI_EXIT_USAGE;
		}
	}
	body = json_pack("{s:s, s:s}", "email", cli_opt(&a, "email"), "password", pw);
	if (cli_opt(&a, "name") != NULL)
		json_object_set_new(body, "name", json_string(cli_opt(&a, "name")));
	r = cli_call("POST", "/api/auth/register", body, 0, &resp);
	json_object_del(body, "password");
	json_decref(body);
	vt_str_wipe_free(pw);
	vt_str_wipe_free(pw2);
	if (r == 0 && (r = save_from(resp)) == 0)
		print_session(&a, resp, "Registered");
	json_decref(resp);
	return r;
}

int
cmd_login_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = {
		{ "email", 1, 0 }, { "password-stdin", 0, 0 }, { "totp", 1, 0 },
	};
	static const char usage[] =
	    "usage: vaultterm login --email EMAIL [--password-stdin] [--totp CODE]\n\n"
	    "Logs in and saves the session token (0600, ~/.vaultterm/token or\n"
	    "$VAULTTERM_CONFIG_DIR/token). With TOTP enabled, pass --totp or answer the prompt.\n";
	struct cli_args a;
	json_t *body, *resp = NULL;
	char *pw = NULL, *code = NULL;
	int r;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), usage, &a)) != 0)
		return r == 1 ? 0 : r;
	if (cli_opt(&a, "email") == NULL || a.npositional > 0) {
		fprintf(stderr, "vaultterm login: --email is required\n\n%s", usage);
		return CLI_EXIT_USAGE;
	}
	if ((pw = cli_read_secret("Password: ", cli_opt(&a, "password-stdin") != NULL)) == NULL) {
		fprintf(stderr, "vaultterm login: no password given\n");
		return CLI_EXIT_USAGE;
	}
	body = json_pack("{s:s, s:s}", "email", cli_opt(&a, "email"), "password", pw);
	if (cli_opt(&a, "totp") != NULL) {
		json_object_set_new(body, "totp_code", json_string(cli_opt(&a, "totp")));
	} else if (isatty(STDIN_FILENO) && cli_opt(&a, "password-stdin") == NULL) {
		/* Ask for a code only when the server says one is needed. */
		r = cli_call("POST", "/api/auth/login", body, 0, &resp);
		if (r == CLI_EXIT_API) {
			code = cli_read_secret("TOTP code (if enabled): ", 0);
			if (code != NULL && code[0] != '\0') {
				json_object_set_new(body, "totp_code", json_string(code));
				r = cli_call("POST", "/api/auth/login", body, 0, &resp);
			}
		}
		goto done;
	}
	r = cli_call("POST", "/api/auth/login", body, 0, &resp);
 done:
	json_object_del(body, "password");
	json_decref(body);
	vt_str_wipe_free(pw);
	vt_str_wipe_free(code);
	if (r == 0 && (r = save_from(resp)) == 0)
		print_session(&a, resp, "Logged in as");
	json_decref(resp);
	return r;
}

int
cmd_logout_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = { { "all", 0, 0 } };
	static const char usage[] =
	    "usage: vaultterm logout [--all]\n\n"
	    "Ends this session on the server (its token stops working at once) and forgets the\n"
	    "saved token. --all ends every session of your account, on every device.\n"
	    "API tokens are not sessions: revoke them with `vaultterm token revoke`.\n";
	struct cli_args a;
	json_t *resp = NULL;
	const char *env = getenv("VAULTTERM_TOKEN");
	int r, rs = 0, from_env = env != NULL && env[0] != '\0';

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), usage, &a)) != 0)
		return r == 1 ? 0 : r;
	if (a.npositional > 0) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (!cli_token_present() && cli_opt(&a, "all") != NULL) {
		fprintf(stderr, "vaultterm: not logged in: there is no session to end everywhere\n");
		return CLI_EXIT_AUTH;
	}
	if (cli_token_present()) {
		rs = cli_call("POST", cli_opt(&a, "all") != NULL ? "/api/auth/logout-all" :
		    "/api/auth/logout", NULL, 1, &resp);
		json_decref(resp);
		/* An already dead session (401) is logged out; anything else is reported. */
		if (rs == CLI_EXIT_AUTH)
			rs = 0;
	}
	/* The session in VAULTTERM_TOKEN is not the saved file's: leave the file alone then. */
	if (!from_env && (r = cli_token_delete()) != 0)
		return r;
	if (from_env)
		fprintf(stderr, "vaultterm: ended the session in VAULTTERM_TOKEN; unset the variable "
				"(the saved token file, if any, was left as it is)\n");
	if (rs != 0) {
		fprintf(stderr, "vaultterm: the saved token was removed, but the server did not "
				"confirm the session ended\n");
		return rs;
	}
	printf(cli_opt(&a, "all") != NULL ? "Logged out everywhere.\n" : "Logged out.\n");
	return 0;
}

int
cmd_passwd_main(int argc, char **argv)
{
	static const struct cli_optspec specs[] = { { "password-stdin", 0, 0 }, { "totp", 1, 0 } };
	static const char usage[] =
	    "usage: vaultterm passwd [--password-stdin] [--totp CODE]\n\n"
	    "Changes your password. Every other session of your account ends; this one continues\n"
	    "with a new saved token. Prompts for the current and the new password (twice), or reads\n"
	    "two lines (current, new) from stdin with --password-stdin. With MFA on, pass --totp.\n";
	struct cli_args a;
	json_t *body = NULL, *resp = NULL;
	char *cur = NULL, *next = NULL, *again = NULL;
	const char *tok;
	int r, from_stdin;

	if ((r = cli_parse(argc, argv, specs, VT_NELEM(specs), usage, &a)) != 0)
		return r == 1 ? 0 : r;
	if (a.npositional > 0) {
		fputs(usage, stderr);
		return CLI_EXIT_USAGE;
	}
	from_stdin = cli_opt(&a, "password-stdin") != NULL;
	cur = cli_read_secret("Current password: ", from_stdin);
	next = cur != NULL ? cli_read_secret("New password: ", from_stdin) : NULL;
	if (next != NULL && !from_stdin && isatty(STDIN_FILENO)) {
		again = cli_read_secret("Repeat new password: ", 0);
		if (again == NULL || strcmp(again, next) != 0) {
			fprintf(stderr, "vaultterm passwd: the new passwords do not match\n");
			r = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if (cur == NULL || next == NULL) {
		fprintf(stderr, "vaultterm passwd: the current and the new password are needed\n");
		r = CLI_EXIT_USAGE;
		goto out;
	}
	body = json_pack("{s:s, s:s}", "current_password", cur, "new_password", next);
	if (cli_opt(&a, "totp") != NULL)
		json_object_set_new(body, "totp_code", json_string(cli_opt(&a, "totp")));
	if ((r = cli_call("POST", "/api/auth/password", body, 1, &resp)) != 0)
		goto out;
	tok = json_string_value(json_object_get(resp, "token"));
	if (tok == NULL) {
		fprintf(stderr, "vaultterm passwd: the server did not return a token\n");
		r = CLI_EXIT_LOCAL;
		goto out;
	}
	if ((r = cli_token_save(tok)) == 0) {
		printf("Password changed. Other sessions have ended; the new token is saved.\n");
		if (getenv("VAULTTERM_TOKEN") != NULL && getenv("VAULTTERM_TOKEN")[0] != '\0')
			fprintf(stderr, "vaultterm: VAULTTERM_TOKEN still holds the ended session; "
					"unset it to use the saved token\n");
	}
 out:
	json_decref(body);
	json_decref(resp);
	vt_str_wipe_free(cur);
	vt_str_wipe_free(next);
	vt_str_wipe_free(again);
	return r;
}

int
cmd_whoami_main(int argc, char **argv)
{
	static const char usage[] = "usage: vaultterm whoami\n\nShows the current user (or API "
				    "token), the active organization and role.\n";
	static const char *const keys[] = { "user.email", "user.id", "user.mfa_enabled", "org.name",
		"org.id", "org_role", "token.name", "token.scopes" };
	static const char *const labels[] = { "User", "User id", "MFA", "Org", "Org id", "Role",
		"Token", "Scopes" };
	static const char *const cols[] = { "id", "name", "org_role" };
	static const char *const hdrs[] = { "ORG ID", "NAME", "ROLE" };
	struct cli_args a;
	json_t *resp = NULL;
	int r;

	if ((r = cli_parse(argc, argv, NULL, 0, usage, &a)) != 0)
		return r == 1 ? 0 : r;
	if ((r = cli_call("GET", "/api/auth/me", NULL, 1, &resp)) != 0)
		return r;
	if (a.format == CLI_FORMAT_JSON) {
		cli_print_json(resp);
	} else if (json_is_object(json_object_get(resp, "token"))) {
		cli_print_object(resp, keys + 3, labels + 3, 5);
	} else {
		cli_print_object(resp, keys, labels, 6);
		if (json_array_size(json_object_get(resp, "orgs")) > 1) {
			printf("\nOrganizations:\n");
			cli_print_table(json_object_get(resp, "orgs"), cols, hdrs, 3);
		}
	}
	json_decref(resp);
	return 0;
}

int
cmd_mfa_main(int argc, char **argv)
{
	static const char usage[] =
	    "usage: vaultterm mfa enroll | confirm CODE | disable CODE\n\n"
	    "  enroll         start TOTP enrolment: prints the seed and otpauth:// URI once\n"
	    "  confirm CODE   enable MFA with a code from the authenticator app\n"
	    "  disable CODE   turn MFA off (needs a current code)\n";
	struct cli_args a;
	json_t *resp = NULL, *body;
	const char *sub;
	int r;

	if ((r = cli_parse(argc, argv, NULL, 0, usage, &a)) != 0)
		return r == 1 ? 0 : r;
	sub = a.npositional > 0 ? a.positional[0] : "";
	if (strcmp(sub, "enroll") == 0 && a.npositional == 1) {
		if ((r = cli_call("POST", "/api/auth/totp/enroll", NULL, 1, &resp)) != 0)
			return r;
		if (a.format == CLI_FORMAT_JSON) {
			cli_print_json(resp);
		} else {
			printf("Add this to your authenticator app, then run `vaultterm mfa confirm "
			       "CODE`:\n\n  secret: %s\n  uri:    %s\n",
			    json_string_value(json_object_get(resp, "secret_base32")),
			    json_string_value(json_object_get(resp, "otpauth_uri")));
		}
		json_decref(resp);
		return 0;
	}
	if ((strcmp(sub, "confirm") == 0 || strcmp(sub, "disable") == 0) && a.npositional == 2) {
		char *path = xasprintf("/api/auth/totp/%s", sub);

		body = json_pack("{s:s}", "code", a.positional[1]);
		r = cli_call("POST", path, body, 1, &resp);
		json_decref(body);
		json_decref(resp);
		free(path);
		if (r == 0)
			printf("MFA %s.\n", strcmp(sub, "confirm") == 0 ? "enabled" : "disabled");
		return r;
	}
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}
