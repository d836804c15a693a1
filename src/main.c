/*
 * vaultterm: one binary. `vaultterm server` runs the daemon; every other subcommand is a client of
 * the HTTP API. This file is only the subcommand table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "base/json.h"
#include "cli/cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_help_main(int argc, char **argv);
static int cmd_version_main(int argc, char **argv);

static const struct command COMMANDS[] = {
	{ "server", cmd_server_main, "run the API server (--dev: embedded PostgreSQL)" },
	{ "migrate", cmd_migrate_main, "apply schema migrations (DATABASE_OWNER_URL)" },
	{ "operator", cmd_operator_main, "operator tasks: rotate-master" },
	{ "register", cmd_register_main, "create an account and its organization" },
	{ "login", cmd_login_main, "log in and save the token" },
	{ "logout", cmd_logout_main, "end this session (--all: every session) and forget the token" },
	{ "passwd", cmd_passwd_main, "change your password (ends your other sessions)" },
	{ "whoami", cmd_whoami_main, "show the current user, org and role" },
	{ "org", cmd_org_main, "organization: members, invite, accept, switch, role, remove" },
	{ "token", cmd_token_main, "API tokens: create, ls, revoke" },
	{ "mfa", cmd_mfa_main, "TOTP MFA: enroll, confirm, disable" },
	{ "audit", cmd_audit_main, "audit log: ls, events, export, verify, prove, checkpoint" },
	{ "vault", cmd_vault_main, "vaults: ls, create, rm, members, grant, revoke" },
	{ "secret", cmd_secret_main, "secrets: put, get, reveal, ls, rm, totp" },
	{ "scan", cmd_scan_main, "find credentials in a file or stdin, locally (no server)" },
	{ "ssh", cmd_ssh_main, "connect through the SSH broker; keys, profiles" },
	{ "recording", cmd_recording_main, "terminal sessions' recordings: ls, cat, play, get" },
	{ "version", cmd_version_main, "print the version" },
	{ "help", cmd_help_main, "this list" },
};

static int
is_command(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (strcmp(s, COMMANDS[i].name) == 0)
			return 1;
	return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0 || strcmp(s, "-v") == 0 ||
	    strcmp(s, "--version") == 0;
}

/* `version` and `help` take no arguments but -h/--help (0 if the caller should go on). */
static int
no_args(int argc, char **argv, const char *usage, int *rc)
{
	if (argc < 2)
		return 0;
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(usage, stdout);
		*rc = 0;
		return 1;
	}
	fprintf(stderr, "vaultterm %s: unexpected argument '%s'\n\n%s", argv[0], argv[1], usage);
	*rc = 2;
	return 1;
}

static int
cmd_version_main(int argc, char **argv)
{
	int rc;

	if (no_args(argc, argv, "usage: vaultterm version\n\nPrints the version.\n", &rc))
		return rc;
	printf("vaultterm %s\n", VT_VERSION);
	return 0;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: vaultterm <command> [args]\n\nCommands:\n");
	for (i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].help);
	fprintf(f, "\nClient commands use VAULTTERM_ADDR (default http://127.0.0.1:4000) and\n"
		   "VAULTTERM_TOKEN (default: the token saved by `vaultterm login`).\n"
		   "Run `vaultterm <command> --help` for details.\n");
}

static int
cmd_help_main(int argc, char **argv)
{
	int rc;

	if (no_args(argc, argv, "usage: vaultterm help\n\nLists the commands.\n", &rc))
		return rc;
	usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	/* Request bodies (passwords) and responses (tokens) are wiped when jansson frees them. */
	json_use_wiping_allocator();
	/*
	 * Run by ssh as SSH_ASKPASS under `vaultterm ssh`: the only argument is ssh's prompt, which
	 * is never a command name. Print the ticket and nothing else.
	 */
	if (getenv("VAULTTERM_ASKPASS_SOCK") != NULL && argc <= 2 &&
	    (argc < 2 || !is_command(argv[1])))
		return cmd_ssh_askpass(getenv("VAULTTERM_ASKPASS_SOCK"));
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cmd_help_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)
		return cmd_version_main(argc - 1, argv + 1);
	for (i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (strcmp(argv[1], COMMANDS[i].name) == 0)
			return COMMANDS[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vaultterm: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
