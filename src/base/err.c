/*
 * One table maps each stable error number to its API code, HTTP status and a generic message.
 * Verification failures deliberately share one code and one message so a response never
 * reveals which check failed.
 */
#include "base/err.h"

#include "base/util.h"

struct err_row {
	int err;
	const char *code;
	int http;
	const char *message;
};

static const struct err_row ERR_TABLE[VT_ERR_COUNT] = {
	{ VT_OK, "ok", 200, "OK." },
	{ VT_ERR_INTERNAL, "internal", 500, "Internal error." },
	{ VT_ERR_NOMEM, "internal", 500, "Internal error." },
	{ VT_ERR_INVALID, "invalid_request", 400, "The request is malformed." },
	{ VT_ERR_VALIDATION, "validation_failed", 400, "The request failed validation." },
	{ VT_ERR_UNAUTHORIZED, "unauthorized", 401, "Authentication is required." },
	{ VT_ERR_FORBIDDEN, "forbidden", 403, "You are not allowed to do this." },
	{ VT_ERR_MFA_REQUIRED, "mfa_required", 403, "A valid TOTP code is required." },
	{ VT_ERR_STEP_UP_REQUIRED, "step_up_required", 403, "A fresh second factor is required." },
	{ VT_ERR_NOT_FOUND, "not_found", 404, "Not found." },
	{ VT_ERR_CONFLICT, "conflict", 409, "The request conflicts with the current state." },
	{ VT_ERR_VERSION_MISMATCH, "version_mismatch", 409, "The version does not match." },
	{ VT_ERR_TOO_LARGE, "too_large", 413, "The request body is too large." },
	{ VT_ERR_RATE_LIMITED, "rate_limited", 429, "Too many requests; try again later." },
	{ VT_ERR_UNAVAILABLE, "unavailable", 503, "The service is temporarily unavailable." },
	{ VT_ERR_CRYPTO, "internal", 500, "Internal error." },
	{ VT_ERR_DB, "internal", 500, "Internal error." },
	{ VT_ERR_IO, "internal", 500, "Internal error." },
	{ VT_ERR_CONFIG, "internal", 500, "Invalid configuration." },
	{ VT_ERR_METHOD, "method_not_allowed", 405, "Method not allowed for this path." },
	{ VT_ERR_MEDIA_TYPE, "unsupported_media_type", 415,
	  "The request body must be application/json." },
	{ VT_ERR_VERIFY, "unauthorized", 401, "Authentication failed." },
	{ VT_ERR_RANGE, "validation_failed", 400, "A value is out of range." },
	{ VT_ERR_HEADERS_TOO_LARGE, "headers_too_large", 431, "The request headers are too large." },
};

static const struct err_row *
err_row(int err)
{
	if (err > 0 || err <= -VT_ERR_COUNT) /* not -err: negating INT_MIN overflows */
		return &ERR_TABLE[1];
	VT_ASSERT(ERR_TABLE[-err].err == err);
	return &ERR_TABLE[-err];
}

const char *
vt_err_str(int err)
{
	return err_row(err)->code;
}

int
vt_err_http(int err)
{
	return err_row(err)->http;
}

const char *
vt_err_message(int err)
{
	return err_row(err)->message;
}
