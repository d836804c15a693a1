/*
 * The HTTP/1.1 server (libmicrohttpd, internal thread pool) and router. It owns request parsing
 * limits, request ids, the access log, JSON error bodies and response headers; it never runs SQL.
 * The application plugs in two hooks: `authenticate` (called once the headers are in, so the body
 * limit can depend on whether the caller is authenticated) and `dispatch` (called with the whole
 * body; runs the route's handler inside the request's transaction).
 */
#ifndef VT_HTTP_HTTP_H
#define VT_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "base/encode.h"
#include "base/json.h"
#include "base/util.h"
#include "base/vbuf.h"

#define HTTP_BODY_MAX_AUTH ((size_t)1 << 20)  /* 1 MiB for authenticated requests */
#define HTTP_BODY_MAX_ANON ((size_t)16 << 10) /* 16 KiB otherwise */
#define HTTP_HEADERS_MAX ((size_t)32 << 10)   /* request line + headers; larger → 431 */
#define HTTP_PATH_MAX 1024
#define HTTP_MAX_PATH_PARAMS 4
#define HTTP_REQUEST_ID_LEN 32                /* hex of 16 random bytes */
#define HTTP_ERR_MSG_MAX 256
#define HTTP_CONNECTION_LIMIT 2048
#define HTTP_CONNECTION_TIMEOUT_S 60
#define HTTP_LOG_PATH_MAX 512                 /* path bytes in an access-log line (encoded) */

enum http_method {
	HTTP_GET = 1,
	HTTP_POST = 2,
	HTTP_PUT = 4,
	HTTP_PATCH = 8,
	HTTP_DELETE = 16,
	HTTP_HEAD = 32,
};

enum http_route_flags {
	ROUTE_PUBLIC = 0,            /* no bearer needed (a bearer, if sent, is still checked) */
	ROUTE_AUTH = 1 << 0,         /* bearer required */
	ROUTE_RATE_LIMIT = 1 << 1,   /* unauthenticated auth endpoint: per-address rate limit */
	ROUTE_NO_TX = 1 << 2,        /* handler manages its own database access (health) */
	ROUTE_SCAN_RATE_LIMIT = 1 << 3, /* with ROUTE_AUTH: per-principal scan rate limit */
};

struct http_req;
struct http_route;
typedef int (*http_handler_fn)(struct http_req *req);

struct http_route {
	unsigned methods;     /* enum http_method bits */
	const char *pattern;  /* "/api/tokens/{id}": {x} matches one non-empty segment */
	http_handler_fn fn;
	unsigned flags;
};

struct http_hooks {
	/* Resolves the bearer into req->principal. 0 or an error code (kept in req->auth_err). */
	int (*authenticate)(struct http_req *req, const char *bearer);
	/* Runs the route. Returns 0 (a reply was set) or an error (turned into the error body). */
	int (*dispatch)(struct http_req *req, const struct http_route *route);
	void *app;
};

struct http_req {
	/* Request (read-only for handlers). */
	enum http_method method;
	const char *method_str;
	char path[HTTP_PATH_MAX + 1];
	const char *params[HTTP_MAX_PATH_PARAMS];
	int nparams;
	char request_id[HTTP_REQUEST_ID_LEN + 1];
	char source_ip[64];
	struct vbuf *body;
	int has_bearer;
	int auth_err;
	struct principal principal;
	void *app;

	/* Per-request state owned by the dispatch hook. */
	struct db_tx *tx;
	int commit_on_error; /* commit the transaction even though the handler failed */

	/* Response. */
	int status;
	json_t *resp_json;
	char *resp_body;
	size_t resp_len;
	const char *resp_type;
	int err;
	char err_msg[HTTP_ERR_MSG_MAX];
	unsigned retry_after_s; /* a 429 carries Retry-After: this many seconds (0: no header) */

	/* Internal. */
	struct MHD_Connection *conn;
	const struct http_route *route;
	char param_buf[HTTP_PATH_MAX + 1];
	uint64_t start_ms;
	size_t body_limit;
	size_t discarded; /* body bytes dropped after the limit was hit (chunked uploads) */
	int replied;
	unsigned allowed; /* methods of a path that matched with another method (405) */
};

struct http_server;

/*
 * Binds addr:port (port 0 picks a free one, reported in *bound_port) and starts `threads` worker
 * threads. Routes and hooks are borrowed for the server's lifetime.
 */
int http_server_start(const char *addr, int port, int threads, const struct http_route *routes,
    size_t nroutes, const struct http_hooks *hooks, struct http_server **out,
    int *bound_port) VT_WUR;
/* Stops accepting new connections; in-flight requests continue. */
void http_server_quiesce(struct http_server *s);
/* Waits until no request is in flight or timeout_ms passes; 0 if drained. */
int http_server_drain(struct http_server *s, uint64_t timeout_ms);
/* Stops all threads and frees; NULL-safe. */
void http_server_stop(struct http_server *s);

/* Handler helpers. */
const char *http_query(struct http_req *req, const char *name);
const char *http_header(struct http_req *req, const char *name);
/* Records an error with a human message (never a secret) and returns err. */
int http_fail(struct http_req *req, int err, const char *fmt, ...) VT_PRINTF(3, 4);
/* Replies with JSON (takes the reference). */
void http_reply_json(struct http_req *req, int status, json_t *body);
void http_reply_empty(struct http_req *req, int status);
/* Replies with text of the given content type (copied). */
void http_reply_text(struct http_req *req, int status, const char *type, const char *text);
/*
 * Parses the body as one JSON object and checks it against the schema; on failure the error is
 * recorded (400 invalid_request / validation_failed) and returned. *out is a new reference.
 */
int http_body_json(struct http_req *req, const struct jfield *fields, size_t n, json_t **out) VT_WUR;
/* Path parameter idx as a UUID; 400 invalid_request when malformed. */
int http_param_uuid(struct http_req *req, int idx, struct vt_uuid *u) VT_WUR;
/* Query parameter `limit` in [1, max] (default dflt); 400 when malformed. */
int http_query_limit(struct http_req *req, int dflt, int max, int *out) VT_WUR;

#endif
