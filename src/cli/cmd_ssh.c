/*
 * `vaultterm ssh PROFILE [-- ssh args...]`: connects through the SSH broker with the system's
 * OpenSSH client and a one-time ticket the user never sees or types: the ticket is requested
 * here, handed to ssh through SSH_ASKPASS (this very binary, which fetches it from a ticket server
 * child over a private Unix socket and prints it when ssh asks) and
 * the broker's host key, fetched from the API, is the only key ssh will accept for the broker.
 * Also `vaultterm ssh keys add|list|rm` (the caller's broker login keys) and `vaultterm ssh
 * profiles list|show|add|rm` (the org's connection profiles).
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "base/num.h"
#include "base/secmem.h"
#include "base/vtime.h"

#define SSH_CLI_FILE_MAX (64 * 1024)   /* a public key file or a host key line */
#define SSH_CLI_ARGS_MAX 64            /* extra ssh arguments */
#define SSH_CLI_TICKET_LEN (4 + 43)    /* "vtt_" + base64url of 32 bytes */
#define SSH_KNOWN_HOSTS_FILE "broker_known_hosts"
#define SSH_ASKPASS_WAIT_MS 60000     /* the ticket's lifetime: the server process waits no longer */

static const char SSH_USAGE[] =
    "usage: vaultterm ssh PROFILE [-- SSH_ARGS...]\n"
    "       vaultterm ssh connect PROFILE [-- SSH_ARGS...]\n"
    "       vaultterm ssh keys add|list|rm ...\n"
    "       vaultterm ssh profiles list|show|add|rm ...\n\n"
    "Connects to PROFILE through the VaultTerm SSH broker with your system's ssh and a\n"
    "one-time ticket (valid 60 s), so you type no password and never see the target's\n"
    "credential. The broker's host key comes from the server and is the only one ssh\n"
    "accepts for it. SSH_ARGS go to ssh after the destination: options (-t, -v) or a\n"
    "command to run (`vaultterm ssh prod -- uptime`). Use `ssh connect` for a profile\n"
    "named keys or profiles.\n\n"
    "  keys      your broker login keys, for `ssh -p PORT PROFILE@broker` with a key\n"
    "  profiles  the organization's connection profiles\n\n"
    "Run `vaultterm ssh keys --help` or `vaultterm ssh profiles --help` for details.\n";

static const char KEYS_USAGE[] =
    "usage: vaultterm ssh keys <subcommand>\n\n"
    "  add NAME FILE   register the public key in FILE (e.g. ~/.ssh/id_ed25519.pub; - reads\n"
    "                  stdin) as one of your broker login keys in this organization\n"
    "  list            your login keys: id, name, type, fingerprint, last use\n"
    "  rm KEY_ID       delete one of your login keys\n\n"
    "Accepted: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa of 2048 bits or more.\n";
static const char KEYS_ADD_USAGE[] =
    "usage: vaultterm ssh keys add NAME FILE\n\n"
    "Registers the OpenSSH public key in FILE (one line \"<type> <base64> [comment]\"; - reads\n"
    "stdin) as your broker login key NAME. Never give it a private key.\n";
static const char KEYS_LIST_USAGE[] =
    "usage: vaultterm ssh keys list\n\nLists your broker login keys in this organization.\n";
static const char KEYS_RM_USAGE[] =
    "usage: vaultterm ssh keys rm KEY_ID\n\nDeletes one of your broker login keys.\n";

static const char PROFILES_USAGE[] =
    "usage: vaultterm ssh profiles <subcommand>\n\n"
    "  list                       the organization's connection profiles\n"
    "  show PROFILE               one profile (PROFILE: its name or id)\n"
    "  add NAME --host HOST --user USER --credential SECRET_ID [--port PORT]\n"
    "      [--host-key LINE|@FILE]  create a profile (admins and owners)\n"
    "  rm PROFILE                 delete a profile (admins and owners)\n";
static const char PROFILES_LIST_USAGE[] =
    "usage: vaultterm ssh profiles list\n\n"
    "Lists the organization's connection profiles: name, target, user, pinned host key.\n";
static const char PROFILES_SHOW_USAGE[] =
    "usage: vaultterm ssh profiles show PROFILE\n\nShows one profile (PROFILE: name or id).\n";
static const char PROFILES_ADD_USAGE[] =
    "usage: vaultterm ssh profiles add NAME --host HOST --user USER --credential SECRET_ID\n"
    "                                  [--port PORT] [--host-key LINE|@FILE]\n\n"
    "Creates a connection profile (admins and owners). NAME is what users type:\n"
    "`vaultterm ssh NAME`, or `ssh -p PORT NAME@broker`. SECRET_ID is an SSH_KEY or PASSWORD\n"
    "secret you can read; the broker injects it at connect time. --host-key pins the\n"
    "target's key (a known_hosts or .pub line, or @FILE); without it the first connection\n"
    "pins it (trust on first use, audited).\n";
static const char PROFILES_RM_USAGE[] =
    "usage: vaultterm ssh profiles rm PROFILE\n\nDeletes a profile (admins and owners).\n";

/* Reads a small text file (or stdin for "-") into a string. NULL with a message on failure. */
static char *
read_small(const char *path)
{
	char *buf = xmalloc(SSH_CLI_FILE_MAX + 1);
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "vaultterm: cannot read %s: %s\n", path, strerror(errno));
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, SSH_CLI_FILE_MAX + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > SSH_CLI_FILE_MAX) {
		fprintf(stderr, "vaultterm: %s is larger than %d bytes: not a public key\n", path,
		    SSH_CLI_FILE_MAX);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (strlen(buf) != n) {
		fprintf(stderr, "vaultterm: %s contains NUL bytes: not a public key\n", path);
		free(buf);
		return NULL;
	}
	return buf;
}

/* --- keys ------------------------------------------------------------------------------------ */

static int
keys_add(const struct cli_args *a)
{
	json_t *body, *resp = NULL;
	char *text;
	int r;

	if ((text = read_small(a->positional[2])) == NULL)
		return CLI_EXIT_LOCAL;
	body = json_pack("{s:s, s:s}", "name", a->positional[1], "public_key", text);
	/* Wiped anyway: a private key given by mistake must not linger. */
	sodium_memzero(text, strlen(text));
	free(text);
	if (body == NULL) {
		fprintf(stderr, "vaultterm ssh keys add: the name or the file is not valid UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	r = cli_call("POST", "/api/ssh/keys", body, 1, &resp);
	json_decref(body);
	if (r != 0)
		return r;
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		printf("Added key %s (%s %s).\n", json_string_value(json_object_get(resp, "id")),
		    json_string_value(json_object_get(resp, "type")),
		    json_string_value(json_object_get(resp, "fingerprint")));
	json_decref(resp);
	return 0;
}

static int
keys_list(const struct cli_args *a)
{
	static const char *const cols[] = { "id", "name", "type", "fingerprint", "last_used_at" };
	static const char *const hdrs[] = { "ID", "NAME", "TYPE", "FINGERPRINT", "LAST USED" };
	json_t *items = NULL;
	int r;

	if ((r = cli_list_all("/api/ssh/keys", &items)) != 0)
		return r;
	return cli_print_items(a, items, cols, hdrs, VT_NELEM(cols));
}

static int
keys_rm(const struct cli_args *a)
{
	json_t *resp = NULL;
	char *path;
	int r;

	if (!cli_is_uuid(a->positional[1])) {
		fprintf(stderr, "vaultterm ssh keys rm: '%s' is not a key id (see `vaultterm ssh keys "
				"list`)\n", a->positional[1]);
		return CLI_EXIT_USAGE;
	}
	path = xasprintf("/api/ssh/keys/%s", a->positional[1]);
	r = cli_call("DELETE", path, NULL, 1, &resp);
	free(path);
	json_decref(resp);
	if (r != 0)
		return r;
	if (a->format == CLI_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:b}", "id", a->positional[1], "deleted", 1);

		cli_print_json(o);
		json_decref(o);
	} else {
		printf("Key deleted.\n");
	}
	return 0;
}

/* --- profiles -------------------------------------------------------------------------------- */

/*
 * The profile named ref (or with id ref): *out is its JSON (owned by the caller). Prints why
 * not and returns CLI_EXIT_API when there is none.
 */
static int
profile_resolve(const char *ref, json_t **out)
{
	json_t *items = NULL, *v;
	char *path;
	size_t i;
	int r;

	*out = NULL;
	if (cli_is_uuid(ref)) {
		path = xasprintf("/api/ssh/profiles/%s", ref);
		r = cli_call("GET", path, NULL, 1, out);
		free(path);
		return r;
	}
	if ((r = cli_list_all("/api/ssh/profiles?limit=500", &items)) != 0)
		return r;
	json_array_foreach(items, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));

		if (name != NULL && strcmp(name, ref) == 0) {
			*out = json_incref(v);
			break;
		}
	}
	json_decref(items);
	if (*out == NULL) {
		fprintf(stderr, "vaultterm: this organization has no connection profile named '%s' "
				"(see `vaultterm ssh profiles list`)\n", ref);
		return CLI_EXIT_API;
	}
	return 0;
}

static int
profiles_list(const struct cli_args *a)
{
	static const char *const cols[] = { "name", "host", "port", "username",
		"host_key_fingerprint", "id" };
	static const char *const hdrs[] = { "NAME", "HOST", "PORT", "USER", "HOST KEY", "ID" };
	json_t *items = NULL;
	int r;

	if ((r = cli_list_all("/api/ssh/profiles?limit=500", &items)) != 0)
		return r;
	return cli_print_items(a, items, cols, hdrs, VT_NELEM(cols));
}

static void
profile_print(const struct cli_args *a, const json_t *p)
{
	static const char *const keys[] = { "id", "name", "host", "port", "username",
		"credential_secret_id", "host_key_fingerprint", "host_key_pinned_at", "created_at",
		"updated_at" };
	static const char *const labels[] = { "id", "name", "host", "port", "user", "credential",
		"host key", "pinned at", "created", "updated" };

	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(p);
	else
		cli_print_object(p, keys, labels, VT_NELEM(keys));
}

static int
profiles_show(const struct cli_args *a)
{
	json_t *p = NULL;
	int r;

	if ((r = profile_resolve(a->positional[1], &p)) != 0)
		return r;
	profile_print(a, p);
	json_decref(p);
	return 0;
}

static int
profiles_add(const struct cli_args *a)
{
	const char *host = cli_opt(a, "host"), *user = cli_opt(a, "user");
	const char *cred = cli_opt(a, "credential"), *port = cli_opt(a, "port");
	const char *hk = cli_opt(a, "host-key");
	json_t *body = NULL, *resp = NULL;
	char *hk_text = NULL;
	uint64_t pv;
	int r;

	if (host == NULL || user == NULL || cred == NULL) {
		fprintf(stderr, "vaultterm ssh profiles add: --host, --user and --credential are "
				"required\n\n%s", PROFILES_ADD_USAGE);
		return CLI_EXIT_USAGE;
	}
	body = json_pack("{s:s, s:s, s:s, s:s}", "name", a->positional[1], "host", host,
	    "username", user, "credential_secret_id", cred);
	if (body == NULL) {
		fprintf(stderr, "vaultterm ssh profiles add: an argument is not valid UTF-8\n");
		return CLI_EXIT_USAGE;
	}
	if (port != NULL) {
		if (num_parse_u64(port, 1, 65535, &pv) != 0) {
			fprintf(stderr, "vaultterm ssh profiles add: --port must be 1 to 65535\n");
			r = CLI_EXIT_USAGE;
			goto out;
		}
		json_object_set_new(body, "port", json_integer((json_int_t)pv));
	}
	if (hk != NULL) {
		if (hk[0] == '@' && (hk_text = read_small(hk + 1)) == NULL) {
			r = CLI_EXIT_LOCAL;
			goto out;
		}
		if (json_object_set_new(body, "host_key", json_string(hk_text != NULL ? hk_text :
		    hk)) != 0) {
			fprintf(stderr, "vaultterm ssh profiles add: --host-key is not valid UTF-8\n");
			r = CLI_EXIT_USAGE;
			goto out;
		}
	}
	if ((r = cli_call("POST", "/api/ssh/profiles", body, 1, &resp)) != 0)
		goto out;
	if (a->format == CLI_FORMAT_JSON)
		cli_print_json(resp);
	else
		printf("Created profile %s (%s). Connect with `vaultterm ssh %s`.\n",
		    json_string_value(json_object_get(resp, "name")),
		    json_string_value(json_object_get(resp, "id")),
		    json_string_value(json_object_get(resp, "name")));
 out:
	free(hk_text);
	json_decref(body);
	json_decref(resp);
	return r;
}

static int
profiles_rm(const struct cli_args *a)
{
	json_t *p = NULL, *resp = NULL;
	char *path;
	int r;

	if ((r = profile_resolve(a->positional[1], &p)) != 0)
		return r;
	path = xasprintf("/api/ssh/profiles/%s", json_string_value(json_object_get(p, "id")));
	r = cli_call("DELETE", path, NULL, 1, &resp);
	free(path);
	json_decref(resp);
	if (r == 0) {
		if (a->format == CLI_FORMAT_JSON) {
			json_t *o = json_pack("{s:O, s:b}", "id", json_object_get(p, "id"), "deleted",
			    1);

			cli_print_json(o);
			json_decref(o);
		} else {
			printf("Profile %s deleted.\n", json_string_value(json_object_get(p, "name")));
		}
	}
	json_decref(p);
	return r;
}

/* --- connect --------------------------------------------------------------------------------- */

/*
 * Writes the broker's host key as the only line of a known_hosts file under the CLI config dir
 * (0600, replaced atomically). *path owned by the caller.
 */
static int
known_hosts_write(const char *host, long port, const char *host_key, char **path)
{
	char *dir = cli_config_dir(), *tmp = NULL, *line = NULL;
	size_t n;
	int fd = -1, r = CLI_EXIT_LOCAL;

	*path = NULL;
	if (dir == NULL) {
		fprintf(stderr, "vaultterm ssh: set HOME or VAULTTERM_CONFIG_DIR (the broker's host "
				"key is kept there)\n");
		return r;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "vaultterm ssh: cannot create %s: %s\n", dir, strerror(errno));
		goto out;
	}
	/* OpenSSH's known_hosts names a host on a port other than 22 as [host]:port. */
	line = port == 22 ? xasprintf("%s %s\n", host, host_key) :
	    xasprintf("[%s]:%ld %s\n", host, port, host_key);
	n = strlen(line);
	*path = xasprintf("%s/%s", dir, SSH_KNOWN_HOSTS_FILE);
	tmp = xasprintf("%s/.%s.%ld", dir, SSH_KNOWN_HOSTS_FILE, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, line, n) != (ssize_t)n || close(fd) != 0) {
		fprintf(stderr, "vaultterm ssh: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, *path) != 0) {
		fprintf(stderr, "vaultterm ssh: cannot write %s: %s\n", *path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	r = 0;
 out:
	if (r != 0) {
		free(*path);
		*path = NULL;
	}
	free(dir);
	free(tmp);
	free(line);
	return r;
}

/* sa for the Unix socket at path; -1 if the path does not fit. */
static int
unix_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n = strlen(path);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* The parent pid of pid (from /proc/PID/stat), or -1. */
static pid_t
parent_of(pid_t pid)
{
	char path[64], buf[512], *p, *end;
	FILE *f;
	int pp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold blanks and ')', the last ')' ends it */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
		return -1;
	if ((end = strchr(p + 4, ' ')) == NULL)
		return -1;
	*end = '\0';
	if (num_parse_int(p + 4, 0, INT_MAX, &pp) != 0)
		return -1;
	return (pid_t)pp;
}

/*
 * The ticket server: a child forked just before this process becomes ssh. It holds the ticket in
 * its memory only and hands it once, over a Unix socket in a 0700 directory, to a process whose
 * parent is ssh (the askpass program ssh runs: this binary again) and of this user; anyone else
 * is hung up on. Then, or after SSH_ASKPASS_WAIT_MS, it removes the socket and exits. So the
 * ticket is in no environment (/proc/PID/environ is readable by every process of the user), and
 * the server is not dumpable: no core file, and no ptrace or /proc/PID/mem by the user's other
 * processes (its memory also still holds the API's response, which the parent wiped in its own).
 */
static void __attribute__((noreturn))
ticket_server(int lfd, const char *dir, const char *sock, char *ticket)
{
	uint64_t until = vtime_mono_ms() + SSH_ASKPASS_WAIT_MS, now;
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct ucred cr;
	socklen_t crlen;
	size_t len = strlen(ticket);
	int cfd, served = 0;

	(void)secmem_no_dumps();
	(void)signal(SIGINT, SIG_IGN); /* ^C at the prompt is ssh's to handle */
	(void)signal(SIGQUIT, SIG_IGN);
	while (!served) {
		if ((now = vtime_mono_ms()) >= until || getppid() == 1)
			break; /* expired, or ssh is gone */
		if (poll(&pfd, 1, until - now > 1000 ? 1000 : (int)(until - now)) <= 0)
			continue;
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		crlen = sizeof(cr);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == 0 &&
		    crlen == sizeof(cr) && cr.uid == getuid() && parent_of(cr.pid) == getppid() &&
		    write(cfd, ticket, len) == (ssize_t)len)
			served = 1;
		close(cfd);
	}
	sodium_memzero(ticket, len);
	close(lfd);
	(void)unlink(sock);
	(void)rmdir(dir);
	_exit(served ? 0 : 1);
}

/*
 * Starts the ticket server for ticket (copied into it) and sets VAULTTERM_ASKPASS_SOCK to its
 * socket. 0, or a CLI exit status with the reason printed.
 */
static int
ticket_server_start(const char *ticket)
{
	char dir[] = "/tmp/vaultterm-askpass.XXXXXX", *sock = NULL, *copy;
	struct sockaddr_un sa;
	pid_t pid;
	int lfd = -1, r = CLI_EXIT_LOCAL;

	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "vaultterm ssh: cannot make a private directory: %s\n",
		    strerror(errno));
		return r;
	}
	sock = xasprintf("%s/s", dir);
	if (unix_addr(sock, &sa) != 0 || (lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "vaultterm ssh: cannot make the askpass socket: %s\n",
		    strerror(errno));
		goto fail;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4) != 0) {
		fprintf(stderr, "vaultterm ssh: cannot listen on the askpass socket: %s\n",
		    strerror(errno));
		goto fail;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "vaultterm ssh: cannot fork: %s\n", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		copy = xstrdup(ticket);
		/* the response's copy, this process's own since the fork: only copy is kept */
		sodium_memzero((void *)(uintptr_t)ticket, strlen(ticket));
		ticket_server(lfd, dir, sock, copy);
	}
	close(lfd);
	if (setenv("VAULTTERM_ASKPASS_SOCK", sock, 1) != 0) {
		fprintf(stderr, "vaultterm ssh: cannot set the environment: %s\n", strerror(errno));
		kill(pid, SIGTERM);
		free(sock);
		return r;
	}
	free(sock);
	return 0;
 fail:
	if (lfd >= 0)
		close(lfd);
	(void)unlink(sock);
	(void)rmdir(dir);
	free(sock);
	return r;
}

/* A host name or address from the server that is safe on ssh's command line. */
static int
host_safe(const char *h)
{
	size_t i, n = h != NULL ? strlen(h) : 0;

	if (n == 0 || n > 253 || h[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == ':' || c == '_'))
			return 0;
	}
	return 1;
}

static int
ssh_connect(int argc, char **argv)
{
	struct cli_args a;
	json_t *prof = NULL, *broker = NULL, *body = NULL, *ticket_resp = NULL;
	const char *name, *host, *hostkey, *ticket;
	char *kh = NULL, *port_s = NULL, *khopt = NULL, *dest = NULL, self[PATH_MAX];
	char *args[SSH_CLI_ARGS_MAX + 20];
	json_int_t port;
	ssize_t sn;
	int r, i, n = 0;

	if ((r = cli_parse(argc, argv, NULL, 0, SSH_USAGE, &a)) != 0)
		return r == 1 ? 0 : r;
	if (a.npositional < 1) {
		fputs(SSH_USAGE, stderr);
		return CLI_EXIT_USAGE;
	}
	if (a.npositional - 1 > SSH_CLI_ARGS_MAX) {
		fprintf(stderr, "vaultterm ssh: more than %d ssh arguments\n", SSH_CLI_ARGS_MAX);
		return CLI_EXIT_USAGE;
	}
	if ((sn = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		fprintf(stderr, "vaultterm ssh: cannot find this program's path (/proc/self/exe): "
				"%s\n", strerror(errno));
		return CLI_EXIT_LOCAL;
	}
	self[sn] = '\0';
	if ((r = profile_resolve(a.positional[0], &prof)) != 0)
		goto out;
	name = json_string_value(json_object_get(prof, "name"));
	if ((r = cli_call("GET", "/api/ssh/broker", NULL, 1, &broker)) != 0)
		goto out;
	host = json_string_value(json_object_get(broker, "host"));
	hostkey = json_string_value(json_object_get(broker, "host_key"));
	port = json_integer_value(json_object_get(broker, "port"));
	if (name == NULL || !host_safe(host) || hostkey == NULL || strchr(hostkey, '\n') != NULL ||
	    port < 1 || port > 65535) {
		fprintf(stderr, "vaultterm ssh: the server's broker address or host key is not "
				"usable\n");
		r = CLI_EXIT_API;
		goto out;
	}
	if ((r = known_hosts_write(host, (long)port, hostkey, &kh)) != 0)
		goto out;
	/* Last, just before exec: the 60 s start now. */
	body = json_pack("{s:O}", "profile_id", json_object_get(prof, "id"));
	if ((r = cli_call("POST", "/api/ssh/tickets", body, 1, &ticket_resp)) != 0)
		goto out;
	ticket = json_string_value(json_object_get(ticket_resp, "ticket"));
	if (ticket == NULL || strlen(ticket) != SSH_CLI_TICKET_LEN) {
		fprintf(stderr, "vaultterm ssh: the server sent no usable ticket\n");
		r = CLI_EXIT_API;
		goto out;
	}
	port_s = xasprintf("%lld", (long long)port);
	khopt = xasprintf("UserKnownHostsFile=%s", kh);
	dest = xasprintf("%s@%s", name, host);
	args[n++] = "ssh";
	args[n++] = "-p";
	args[n++] = port_s;
	args[n++] = "-o";
	args[n++] = khopt;
	args[n++] = "-o";
	args[n++] = "GlobalKnownHostsFile=/dev/null";
	args[n++] = "-o";
	args[n++] = "StrictHostKeyChecking=yes";
	args[n++] = "-o";
	args[n++] = "PreferredAuthentications=keyboard-interactive,password";
	args[n++] = "-o";
	args[n++] = "PubkeyAuthentication=no";
	args[n++] = "-o";
	args[n++] = "NumberOfPasswordPrompts=1";
	args[n++] = dest;
	/* After the destination: ssh still reads options there (-t, -v), then the command. */
	for (i = 1; i < a.npositional; i++)
		args[n++] = (char *)a.positional[i];
	args[n] = NULL;
	/*
	 * ssh runs this binary as its askpass program; main() then fetches the ticket from the
	 * ticket server and prints it.
	 */
	if (setenv("SSH_ASKPASS", self, 1) != 0 || setenv("SSH_ASKPASS_REQUIRE", "force", 1) != 0) {
		fprintf(stderr, "vaultterm ssh: cannot set the environment: %s\n", strerror(errno));
		r = CLI_EXIT_LOCAL;
		goto out;
	}
	if ((r = ticket_server_start(ticket)) != 0)
		goto out;
	json_decref(ticket_resp); /* wiped: the ticket server holds the only copy now */
	ticket_resp = NULL;
	fflush(stdout);
	fflush(stderr);
	execvp("ssh", args);
	fprintf(stderr, "vaultterm ssh: cannot run ssh: %s (is openssh-client installed?)\n",
	    strerror(errno));
	r = CLI_EXIT_LOCAL;
 out:
	json_decref(prof);
	json_decref(broker);
	json_decref(body);
	json_decref(ticket_resp);
	free(kh);
	free(port_s);
	free(khopt);
	free(dest);
	return r;
}

int
cmd_ssh_askpass(const char *sock)
{
	struct sockaddr_un sa;
	char ticket[SSH_CLI_TICKET_LEN + 2];
	size_t n = 0;
	ssize_t k;
	int fd, r = CLI_EXIT_LOCAL;

	(void)secmem_no_dumps(); /* it holds the ticket until ssh has read it */
	if (sock == NULL || unix_addr(sock, &sa) != 0 ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		fprintf(stderr, "vaultterm (askpass): no ticket server\n");
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "vaultterm (askpass): the ticket server is gone (the ticket is "
				"used or expired): %s\n", strerror(errno));
		close(fd);
		return r;
	}
	while (n < sizeof(ticket) && (k = read(fd, ticket + n, sizeof(ticket) - n)) > 0)
		n += (size_t)k;
	close(fd);
	/* Only a ticket's shape is ever printed: this is not a general echo. */
	if (n != SSH_CLI_TICKET_LEN || strncmp(ticket, "vtt_", 4) != 0) {
		fprintf(stderr, "vaultterm (askpass): the ticket server sent no ticket\n");
		goto out;
	}
	ticket[n] = '\0';
	if (printf("%s\n", ticket) >= 0 && fflush(stdout) == 0)
		r = 0;
 out:
	sodium_memzero(ticket, sizeof(ticket));
	return r;
}

int
cmd_ssh_main(int argc, char **argv)
{
	static const struct cli_subcmd key_subs[] = {
		{ "add", KEYS_ADD_USAGE, NULL, 0, 2, 2, keys_add },
		{ "list", KEYS_LIST_USAGE, NULL, 0, 0, 0, keys_list },
		{ "ls", KEYS_LIST_USAGE, NULL, 0, 0, 0, keys_list },
		{ "rm", KEYS_RM_USAGE, NULL, 0, 1, 1, keys_rm },
	};
	static const struct cli_optspec add_specs[] = {
		{ "host", 1, 0 }, { "user", 1, 0 }, { "credential", 1, 0 }, { "port", 1, 0 },
		{ "host-key", 1, 0 },
	};
	static const struct cli_subcmd profile_subs[] = {
		{ "list", PROFILES_LIST_USAGE, NULL, 0, 0, 0, profiles_list },
		{ "ls", PROFILES_LIST_USAGE, NULL, 0, 0, 0, profiles_list },
		{ "show", PROFILES_SHOW_USAGE, NULL, 0, 1, 1, profiles_show },
		{ "add", PROFILES_ADD_USAGE, add_specs, VT_NELEM(add_specs), 1, 1, profiles_add },
		{ "rm", PROFILES_RM_USAGE, NULL, 0, 1, 1, profiles_rm },
	};
	const struct cli_subcmd *sub;
	struct cli_args a;
	int r;

	if (argc < 2) {
		fputs(SSH_USAGE, stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-help") == 0) {
		fputs(SSH_USAGE, stdout);
		return 0;
	}
	if (strcmp(argv[1], "keys") == 0) {
		r = cli_parse_sub(argc - 1, argv + 1, key_subs, VT_NELEM(key_subs), KEYS_USAGE, &sub,
		    &a);
		return r != 0 ? (r == 1 ? 0 : r) : sub->run(&a);
	}
	if (strcmp(argv[1], "profiles") == 0) {
		r = cli_parse_sub(argc - 1, argv + 1, profile_subs, VT_NELEM(profile_subs),
		    PROFILES_USAGE, &sub, &a);
		return r != 0 ? (r == 1 ? 0 : r) : sub->run(&a);
	}
	if (strcmp(argv[1], "connect") == 0)
		return ssh_connect(argc - 1, argv + 1);
	return ssh_connect(argc, argv);
}
