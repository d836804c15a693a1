/*
 * The command-line client: every subcommand except `server`/`migrate` talks to the HTTP API at
 * VAULTTERM_ADDR with VAULTTERM_TOKEN or the token saved by `vaultterm login` (a 0600 file under
 * ~/.vaultterm or $VAULTTERM_CONFIG_DIR). Output is a table by default or JSON with -format=json.
 *
 * Exit codes: 0 success; 1 the server refused the request (4xx/5xx); 2 usage error;
 * 3 cannot reach the server or a local error; 4 not authenticated (no token, or 401).
 */
#ifndef VT_CLI_CLI_H
#define VT_CLI_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "base/util.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_API 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_LOCAL 3
#define CLI_EXIT_AUTH 4

#define CLI_RESPONSE_MAX ((size_t)16 << 20)
#define CLI_TIMEOUT_S 30
#define CLI_MAX_OPTS 16
#define CLI_MAX_POSITIONAL 64  /* `secret put` takes one per field */
#define CLI_MAX_MULTI 16
#define CLI_LIST_MAX_PAGES 1000 /* cli_list_all stops (an error) after this many pages */

enum cli_format {
	CLI_FORMAT_TABLE,
	CLI_FORMAT_JSON,
};

struct cli_optspec {
	const char *name;  /* without dashes */
	int takes_value;
	int multi;         /* may repeat (values collected) */
};

struct cli_args {
	const char *values[CLI_MAX_OPTS][CLI_MAX_MULTI];
	int counts[CLI_MAX_OPTS];
	const char *positional[CLI_MAX_POSITIONAL];
	int npositional;
	enum cli_format format;
	const struct cli_optspec *specs;
	size_t nspecs;
};

/*
 * Parses argv[1..] against specs (plus the common -format and -h/--help). Accepts --opt v,
 * --opt=v, -opt v, -opt=v. Returns 0, 1 if help was requested (usage printed, exit 0), or
 * CLI_EXIT_USAGE after printing the error and usage.
 */
int cli_parse(int argc, char **argv, const struct cli_optspec *specs, size_t nspecs,
    const char *usage, struct cli_args *a);

/* One subcommand of a command with subcommands (`vault ls`, `secret put`, ...). */
struct cli_subcmd {
	const char *name;
	const char *usage;               /* its own usage: `<command> <name> --help` prints it */
	const struct cli_optspec *specs;
	size_t nspecs;
	int min_args, max_args;          /* positional arguments after the name (max -1: any) */
	int (*run)(const struct cli_args *a);
};

/*
 * Finds the subcommand (the first argument that is not an option) and parses argv against its
 * specs and usage, checking the number of arguments; a->positional[0] is the subcommand's name.
 * Without a known subcommand, --help prints `usage`. Returns 0 with *sub set, 1 if help was
 * printed (exit 0), or CLI_EXIT_USAGE after printing the error and the usage.
 */
int cli_parse_sub(int argc, char **argv, const struct cli_subcmd *subs, size_t nsubs,
    const char *usage, const struct cli_subcmd **sub, struct cli_args *a);
/* Value of an option (the last one if repeated) or NULL. */
const char *cli_opt(const struct cli_args *a, const char *name);
/* Number of values of a repeatable option; cli_opt_at gives each. */
int cli_opt_count(const struct cli_args *a, const char *name);
const char *cli_opt_at(const struct cli_args *a, const char *name, int i);

/* Sends a request. body may be NULL. auth: attach the saved/env token. Returns a CLI exit code;
 * on success *resp holds the parsed JSON (NULL for an empty body). Errors are printed. */
int cli_call(const char *method, const char *path, const json_t *body, int auth, json_t **resp);
/*
 * GET path (which may carry a query) and every further page through next_cursor; *items (owned
 * by the caller) receives all the "items". Returns a CLI exit code (errors printed).
 */
int cli_list_all(const char *path, json_t **items);
/*
 * GET path (authenticated; a text/plain answer) written to f, at most max bytes (0: unlimited).
 * Errors are printed; returns a CLI exit code.
 */
#define CLI_TEXT_STALL_S 300 /* cli_get_text gives up below 1 byte/s for this long */
int cli_get_text(const char *path, FILE *f, size_t max);
/* 1 if s has the shape of a UUID (8-4-4-4-12 hex digits), else 0. */
int cli_is_uuid(const char *s);
/* Percent-encodes a query value. Caller frees. */
char *cli_urlencode(const char *s);

/* Reads a secret from the terminal without echo (or one line from stdin when not a tty).
 * Returns a heap string (caller wipes with vt_str_wipe_free) or NULL. */
char *cli_read_secret(const char *prompt, int from_stdin);

/* The CLI's config directory ($VAULTTERM_CONFIG_DIR or ~/.vaultterm), or NULL. Caller frees. */
char *cli_config_dir(void);

/* Token storage. */
int cli_token_save(const char *token);
int cli_token_delete(void);
/* 1 if a token is available (VAULTTERM_TOKEN or the saved file), else 0. */
int cli_token_present(void);

/* Output: JSON (pretty) or an aligned table of `cols` keys from each object in `items`. */
void cli_print_json(const json_t *v);
void cli_print_table(const json_t *items, const char *const *cols, const char *const *headers,
    size_t ncols);
/*
 * A fetched list (owned; freed here): with -format=json as {"items": [...], "next_cursor":
 * null} (everything was fetched), else as a table of `cols`.
 */
int cli_print_items(const struct cli_args *a, json_t *items, const char *const *cols,
    const char *const *headers, size_t ncols);
/* Prints one object as key: value lines. */
void cli_print_object(const json_t *obj, const char *const *keys, const char *const *labels,
    size_t n);

/* Subcommands. */
int cmd_register_main(int argc, char **argv);
int cmd_login_main(int argc, char **argv);
int cmd_logout_main(int argc, char **argv);
int cmd_passwd_main(int argc, char **argv);
int cmd_whoami_main(int argc, char **argv);
int cmd_org_main(int argc, char **argv);
int cmd_token_main(int argc, char **argv);
int cmd_mfa_main(int argc, char **argv);
int cmd_audit_main(int argc, char **argv);
int cmd_vault_main(int argc, char **argv);
int cmd_secret_main(int argc, char **argv);
int cmd_scan_main(int argc, char **argv);
int cmd_ssh_main(int argc, char **argv);
/*
 * `vaultterm` run by ssh as its SSH_ASKPASS program (cmd_ssh.c): fetches the ticket from the
 * ticket server `vaultterm ssh` left behind at VAULTTERM_ASKPASS_SOCK (sock) and prints it and a
 * newline. Returns the exit code.
 */
int cmd_ssh_askpass(const char *sock);
int cmd_recording_main(int argc, char **argv);

/*
 * References to vaults and users (cmd_vault.c). A UUID is taken as an id as is; otherwise a vault
 * name is looked up among the caller's vaults, an e-mail among the org's members. Exactly one
 * match sets *id (owned by the caller); none or several print an error and return CLI_EXIT_API.
 */
int cli_vault_resolve(const char *ref, char **id);
int cli_user_resolve(const char *ref, char **id);

#endif
