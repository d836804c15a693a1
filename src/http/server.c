/*
 * libmicrohttpd glue. A request moves through three callbacks: the first (headers only) matches
 * the route, authenticates and fixes the body limit; upload calls append to a bounded buffer;
 * the last runs the dispatch hook and queues the response. The completion callback writes the one
 * access-log line (method, path without query, status, size, duration, address, request id, actor:
 * never headers, bodies or tokens) and frees the request.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <malloc.h>

#include <microhttpd.h>
#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "base/num.h"
#include "base/vtime.h"
#include "crypto/hash.h"

struct http_server {
	struct MHD_Daemon *mhd;
	int listen_fd;
	const struct http_route *routes;
	size_t nroutes;
	struct http_hooks hooks;
	atomic_int inflight; /* requests between their headers and their completion */
	atomic_int fresh;    /* accepted connections whose first request has not started yet */
};

/* Per-connection state: whether the connection is still counted in `fresh`. */
struct conn_state {
	int fresh;
};

static const struct {
	const char *name;
	enum http_method m;
} METHODS[] = {
	{ "GET", HTTP_GET }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT }, { "PATCH", HTTP_PATCH },
	{ "DELETE", HTTP_DELETE }, { "HEAD", HTTP_HEAD },
};

/* Matches path against pattern, capturing {x} segments into req->params. */
static int
route_match(const char *pattern, const char *path, struct http_req *req)
{
	const char *p = pattern, *s = path;
	size_t o = 0;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			size_t len;

			VT_ASSERT(pe != NULL);
			if (se == NULL)
				se = s + strlen(s);
			len = (size_t)(se - s);
			if (len == 0 || n >= HTTP_MAX_PATH_PARAMS || o + len + 1 > sizeof(req->param_buf))
				return 0;
			memcpy(req->param_buf + o, s, len);
			req->param_buf[o + len] = '\0';
			req->params[n++] = req->param_buf + o;
			o += len + 1;
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*p != '\0' || *s != '\0')
		return 0;
	req->nparams = n;
	return 1;
}

static const struct http_route *
route_find(struct http_server *srv, struct http_req *req)
{
	size_t i;

	unsigned want = req->method == HTTP_HEAD ? (HTTP_HEAD | HTTP_GET) : req->method;

	req->allowed = 0;
	for (i = 0; i < srv->nroutes; i++) {
		if (!route_match(srv->routes[i].pattern, req->path, req))
			continue;
		if (srv->routes[i].methods & want)
			return &srv->routes[i];
		req->allowed |= srv->routes[i].methods;
	}
	req->nparams = 0;
	return NULL;
}

int
http_fail(struct http_req *req, int err, const char *fmt, ...)
{
	va_list ap;

	req->err = err;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(req->err_msg, sizeof(req->err_msg), fmt, ap);
		va_end(ap);
	} else {
		req->err_msg[0] = '\0';
	}
	return err;
}

static void
reply_clear(struct http_req *req)
{
	json_decref(req->resp_json);
	req->resp_json = NULL;
	free(req->resp_body);
	req->resp_body = NULL;
	req->resp_len = 0;
}

void
http_reply_json(struct http_req *req, int status, json_t *body)
{
	reply_clear(req);
	req->status = status;
	req->resp_json = body;
	req->resp_type = "application/json";
}

void
http_reply_empty(struct http_req *req, int status)
{
	reply_clear(req);
	req->status = status;
	req->resp_type = NULL;
}

void
http_reply_text(struct http_req *req, int status, const char *type, const char *text)
{
	reply_clear(req);
	req->status = status;
	req->resp_body = xstrdup(text);
	req->resp_len = strlen(text);
	req->resp_type = type;
}

const char *
http_query(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_header(struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int
http_body_json(struct http_req *req, const struct jfield *fields, size_t n, json_t **out)
{
	char err[JSON_ERR_MAX];
	const char *type = http_header(req, "Content-Type");
	const char *s;
	json_t *v = NULL;
	int r;

	*out = NULL;
	if (type == NULL || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] != '\0' && type[16] != ';' && type[16] != ' '))
		return http_fail(req, VT_ERR_MEDIA_TYPE, "the request body must be sent as "
							 "Content-Type: application/json");
	if (vbuf_cstr(req->body, &s) != 0)
		return http_fail(req, VT_ERR_INVALID, "the request body contains a NUL byte");
	if ((r = json_parse_object(s, vbuf_len(req->body), &v, err)) != 0)
		return http_fail(req, r, "%s", err);
	if ((r = json_check(v, fields, n, err)) != 0) {
		json_decref(v);
		return http_fail(req, r, "%s", err);
	}
	*out = v;
	return 0;
}

int
http_param_uuid(struct http_req *req, int idx, struct vt_uuid *u)
{
	if (idx >= req->nparams || uuid_parse(req->params[idx], u) != 0)
		return http_fail(req, VT_ERR_INVALID, "the id in the path is not a valid UUID");
	return 0;
}

int
http_query_limit(struct http_req *req, int dflt, int max, int *out)
{
	const char *s = http_query(req, "limit");

	*out = dflt;
	if (s == NULL)
		return 0;
	if (num_parse_int(s, 1, max, out) != 0)
		return http_fail(req, VT_ERR_VALIDATION,
		    "query 'limit': must be a number between 1 and %d", max);
	return 0;
}

static void
add_common_headers(struct MHD_Response *resp, struct http_req *req)
{
	MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
}

/* Turns req->err (if set) into the error body of API.md. */
static void
finalize_error(struct http_req *req)
{
	const char *msg;

	if (req->err == 0)
		return;
	msg = req->err_msg[0] != '\0' ? req->err_msg : vt_err_message(req->err);
	http_reply_json(req, vt_err_http(req->err),
	    json_packx("{s:{s:s, s:s, s:s}}", "error", "code", vt_err_str(req->err), "message",
		msg, "request_id", req->request_id));
}

/* Response bodies can carry tokens (login, token creation): wipe them when MHD is done. */
static void
wipe_free_body(void *p)
{
	if (p != NULL) {
		sodium_memzero(p, malloc_usable_size(p));
		free(p);
	}
}

static enum MHD_Result
send_reply(struct http_req *req)
{
	struct MHD_Response *resp;
	char *body = NULL;
	size_t len = 0;
	enum MHD_Result ret;

	finalize_error(req);
	if (req->resp_json != NULL) {
		body = json_dumps(req->resp_json, JSON_COMPACT);
		VT_ASSERT(body != NULL);
		len = strlen(body);
		resp = MHD_create_response_from_buffer_with_free_callback(len, body,
		    wipe_free_body);
	} else if (req->resp_body != NULL) {
		len = req->resp_len;
		body = req->resp_body;
		req->resp_body = NULL;
		resp = MHD_create_response_from_buffer_with_free_callback(len, body,
		    wipe_free_body);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (resp == NULL) {
		wipe_free_body(body);
		return MHD_NO;
	}
	add_common_headers(resp, req);
	if (req->resp_type != NULL)
		MHD_add_response_header(resp, "Content-Type", req->resp_type);
	if (req->status == 405) {
		char allow[64] = "";
		size_t i, o = 0;

		if (req->allowed & HTTP_GET)
			req->allowed |= HTTP_HEAD; /* HEAD is served wherever GET is */
		for (i = 0; i < VT_NELEM(METHODS); i++)
			if (req->allowed & METHODS[i].m)
				o += (size_t)snprintf(allow + o, sizeof(allow) - o, "%s%s",
				    o > 0 ? ", " : "", METHODS[i].name);
		MHD_add_response_header(resp, "Allow", allow);
	}
	if (req->status == 429 && req->retry_after_s > 0) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", req->retry_after_s);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	if (req->status == 413 || req->status == 431)
		MHD_add_response_header(resp, "Connection", "close");
	req->resp_len = len;
	ret = MHD_queue_response(req->conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	req->replied = 1;
	return ret;
}

static void
req_free(struct http_req *req)
{
	if (req == NULL)
		return;
	vbuf_free(req->body);
	json_decref(req->resp_json);
	free(req->resp_body);
	VT_ASSERT(req->tx == NULL); /* dispatch always finishes its transaction */
	memset(&req->principal, 0, sizeof(req->principal));
	free(req);
}

static void
client_ip(struct MHD_Connection *conn, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	snprintf(out, outsz, "unknown");
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		    (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)outsz);
}

static struct http_req *
req_new(struct http_server *srv, struct MHD_Connection *conn, const char *url, const char *method)
{
	struct http_req *req = xcalloc(1, sizeof(*req));
	uint8_t rnd[HTTP_REQUEST_ID_LEN / 2];
	size_t i;

	req->conn = conn;
	req->app = srv->hooks.app;
	req->start_ms = vtime_mono_ms();
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), req->request_id);
	client_ip(conn, req->source_ip, sizeof(req->source_ip));
	req->method_str = "OTHER";
	for (i = 0; i < VT_NELEM(METHODS); i++) {
		if (strcmp(method, METHODS[i].name) == 0) {
			req->method = METHODS[i].m;
			req->method_str = METHODS[i].name;
		}
	}
	if (strlen(url) <= HTTP_PATH_MAX)
		memcpy(req->path, url, strlen(url) + 1);
	req->body_limit = HTTP_BODY_MAX_ANON;
	return req;
}

/* Headers are in: route, authenticate, decide the body limit. 1 when a reply was queued. */
static int
req_begin(struct http_server *srv, struct http_req *req, const char *url)
{
	const char *auth, *clen;
	uint64_t n;

	if (strlen(url) > HTTP_PATH_MAX) {
		http_fail(req, VT_ERR_INVALID, "the request path is too long");
		return 1;
	}
	req->route = route_find(srv, req);
	if (req->method == 0) {
		/* 405 carries Allow for a known path; an unknown path is 404 whatever the method. */
		if (req->allowed != 0)
			http_fail(req, VT_ERR_METHOD, "method not supported");
		else
			http_fail(req, VT_ERR_NOT_FOUND, "no such endpoint");
		return 1;
	}
	if (req->route == NULL) {
		if (req->allowed != 0)
			http_fail(req, VT_ERR_METHOD, "method %s is not allowed on this path",
			    req->method_str);
		else
			http_fail(req, VT_ERR_NOT_FOUND, "no such endpoint");
		return 1;
	}
	auth = http_header(req, "Authorization");
	if (auth != NULL) {
		req->has_bearer = 1;
		if (strncasecmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0')
			req->auth_err = VT_ERR_UNAUTHORIZED;
		else
			req->auth_err = srv->hooks.authenticate(req, auth + 7);
		if (req->auth_err == 0)
			req->body_limit = HTTP_BODY_MAX_AUTH;
	}
	clen = http_header(req, "Content-Length");
	if (clen != NULL && (num_parse_u64(clen, 0, UINT64_MAX, &n) != 0 || n > req->body_limit)) {
		http_fail(req, VT_ERR_TOO_LARGE, "the request body exceeds %zu bytes",
		    req->body_limit);
		return 1;
	}
	req->body = vbuf_new(req->body_limit);
	return 0;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *req = *con_cls;

	(void)version;
	if (req == NULL) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct conn_state *cs = ci != NULL ? ci->socket_context : NULL;

		atomic_fetch_add(&srv->inflight, 1);
		if (cs != NULL && cs->fresh) {
			cs->fresh = 0;
			atomic_fetch_sub(&srv->fresh, 1);
		}
		req = req_new(srv, conn, url, method);
		*con_cls = req;
		if (req_begin(srv, req, url))
			return send_reply(req);
		return MHD_YES;
	}
	if (req->replied) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/*
		 * Over the limit (only a chunked body gets here: a Content-Length over it is refused
		 * up front). MHD cannot queue a reply in the middle of an upload, so the rest is
		 * dropped, up to one more limit's worth, and the 413 goes out once the body ends;
		 * a client that keeps sending beyond that is disconnected.
		 */
		if (req->err == 0 && vbuf_put(req->body, upload_data, *upload_data_size) != 0)
			http_fail(req, VT_ERR_TOO_LARGE, "the request body exceeds %zu bytes",
			    req->body_limit);
		if (req->err != 0)
			req->discarded += *upload_data_size;
		*upload_data_size = 0;
		return req->discarded > req->body_limit ? MHD_NO : MHD_YES;
	}
	if (req->err != 0)
		return send_reply(req); /* the body was over the limit: never dispatched */
	req->status = 500;
	if (srv->hooks.dispatch(req, req->route) != 0 && req->err == 0)
		http_fail(req, VT_ERR_INTERNAL, NULL);
	return send_reply(req);
}

/*
 * The path as logged: MHD hands over the decoded path, so a client could send "%20ip=...%20req=..."
 * and forge the fields that follow it. Space, '%', control and non-ASCII bytes are re-encoded,
 * and the path is capped so those fields are never truncated away.
 */
static void
log_path(const char *in, char out[static HTTP_LOG_PATH_MAX + 4])
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		if (o + 3 > HTTP_LOG_PATH_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c <= 0x20 || c >= 0x7f || c == '%') {
			out[o++] = '%';
			out[o++] = hexd[c >> 4];
			out[o++] = hexd[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct http_req *req = *con_cls;
	char actor[64] = "-";
	char id[UUID_STR_LEN + 1];
	char path[HTTP_LOG_PATH_MAX + 4];

	(void)conn;
	if (req == NULL)
		return;
	log_path(req->path[0] != '\0' ? req->path : "-", path);
	if (req->principal.kind == PRINCIPAL_USER) {
		uuid_format(&req->principal.user_id, id);
		snprintf(actor, sizeof(actor), "user:%s", id);
	} else if (req->principal.kind == PRINCIPAL_API_TOKEN) {
		uuid_format(&req->principal.token_id, id);
		snprintf(actor, sizeof(actor), "token:%s", id);
	}
	log_info("%s %s %d %zu %llums ip=%s req=%s actor=%s%s", req->method_str,
	    path, req->replied ? req->status : 0, req->resp_len,
	    (unsigned long long)(vtime_mono_ms() - req->start_ms), req->source_ip,
	    req->request_id, actor, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
	req_free(req);
	*con_cls = NULL;
	atomic_fetch_sub(&srv->inflight, 1);
}

/*
 * Counts accepted connections until their first request starts, so a graceful shutdown also
 * waits for a request that was accepted but whose headers had not been read yet.
 */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;
	struct conn_state *cs = *socket_context;

	(void)conn;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		cs = xcalloc(1, sizeof(*cs));
		cs->fresh = 1;
		atomic_fetch_add(&srv->fresh, 1);
		*socket_context = cs;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && cs != NULL) {
		if (cs->fresh)
			atomic_fetch_sub(&srv->fresh, 1);
		free(cs);
		*socket_context = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warn("libmicrohttpd: %s", buf);
}

static int
listen_socket(const char *addr, int port, int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		log_error("BIND_ADDRESS %s is not an IPv4 or IPv6 address", addr);
		return -1;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 512) != 0) {
		log_error("cannot listen on %s:%d: %s", addr, port, strerror(errno));
		close(fd);
		return -1;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		close(fd);
		return -1;
	}
	*bound_port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
						      ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int
http_server_start(const char *addr, int port, int threads, const struct http_route *routes,
    size_t nroutes, const struct http_hooks *hooks, struct http_server **out, int *bound_port)
{
	struct http_server *s;

	*out = NULL;
	*bound_port = 0;
	s = xcalloc(1, sizeof(*s));
	s->routes = routes;
	s->nroutes = nroutes;
	s->hooks = *hooks;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->fresh, 0);
	if ((s->listen_fd = listen_socket(addr, port, bound_port)) < 0) {
		free(s);
		return VT_ERR_IO;
	}
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
		MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_HEADERS_MAX,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
	    MHD_OPTION_END);
	if (s->mhd == NULL) {
		log_error("cannot start the HTTP server");
		close(s->listen_fd);
		free(s);
		return VT_ERR_IO;
	}
	*out = s;
	return 0;
}

void
http_server_quiesce(struct http_server *s)
{
	MHD_socket fd = MHD_quiesce_daemon(s->mhd);

	if (fd != MHD_INVALID_SOCKET) {
		close(fd);
		s->listen_fd = -1;
	}
}

int
http_server_drain(struct http_server *s, uint64_t timeout_ms)
{
	uint64_t start = vtime_mono_ms();

	while (atomic_load(&s->inflight) > 0 || atomic_load(&s->fresh) > 0) {
		if (vtime_mono_ms() - start >= timeout_ms)
			return -1;
		usleep(10 * 1000);
	}
	return 0;
}

void
http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	MHD_stop_daemon(s->mhd);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s);
}
