/*
 * The one error enum of the project. Numbers are stable: append new codes, never renumber.
 * vt_err_str() gives the API's snake_case code, vt_err_http() its HTTP status, and
 * vt_err_message() a generic human sentence; all three come from one table in err.c.
 */
#ifndef VT_BASE_ERR_H
#define VT_BASE_ERR_H

enum vt_err {
	VT_OK = 0,
	VT_ERR_INTERNAL = -1,        /* 500 internal: unexpected path, fails closed */
	VT_ERR_NOMEM = -2,           /* 500 internal */
	VT_ERR_INVALID = -3,         /* 400 invalid_request: malformed syntax */
	VT_ERR_VALIDATION = -4,      /* 400 validation_failed: well-formed but not acceptable */
	VT_ERR_UNAUTHORIZED = -5,    /* 401 unauthorized */
	VT_ERR_FORBIDDEN = -6,       /* 403 forbidden */
	VT_ERR_MFA_REQUIRED = -7,    /* 403 mfa_required */
	VT_ERR_STEP_UP_REQUIRED = -8, /* 403 step_up_required */
	VT_ERR_NOT_FOUND = -9,       /* 404 not_found (also another org's ids) */
	VT_ERR_CONFLICT = -10,       /* 409 conflict */
	VT_ERR_VERSION_MISMATCH = -11, /* 409 version_mismatch */
	VT_ERR_TOO_LARGE = -12,      /* 413 too_large */
	VT_ERR_RATE_LIMITED = -13,   /* 429 rate_limited */
	VT_ERR_UNAVAILABLE = -14,    /* 503 unavailable (database down, shutting down) */
	VT_ERR_CRYPTO = -15,         /* 500 internal: a crypto operation failed (never says which) */
	VT_ERR_DB = -16,             /* 500 internal: a database statement failed */
	VT_ERR_IO = -17,             /* 500 internal: file or process I/O failed */
	VT_ERR_CONFIG = -18,         /* boot: bad configuration */
	VT_ERR_METHOD = -19,         /* 405 method_not_allowed */
	VT_ERR_MEDIA_TYPE = -20,     /* 415 unsupported_media_type */
	VT_ERR_VERIFY = -21,         /* 401 unauthorized: token/MAC/password/signature check failed */
	VT_ERR_RANGE = -22,          /* 400 validation_failed: number or length out of range */
	VT_ERR_HEADERS_TOO_LARGE = -23, /* 431 headers_too_large */
};

#define VT_ERR_COUNT 24

/* Stable snake_case code for the API error body ("internal" for unknown values). */
const char *vt_err_str(int err);
/* HTTP status for the code (500 for unknown values). */
int vt_err_http(int err);
/* A generic, secret-free human sentence for the code. */
const char *vt_err_message(int err);

#endif
