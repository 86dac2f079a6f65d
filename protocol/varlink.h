/* varlink.h: the Varlink message codec (cJSON) shared by the supervisor and
 * its clients: calls, replies, errors and typed parameter access. */
#ifndef DMF_VARLINK_H
#define DMF_VARLINK_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define VL_ERR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VL_ERR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VL_ERR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VL_ERR_EXPECTED_MORE "org.varlink.service.ExpectedMore"


struct vl_call {
	cJSON *root;
	const char *method;     /* "interface.Method" */
	const cJSON *params;    /* an object (empty if absent) */
	bool more, oneway;
};

/* Parse a call. On failure returns -1 and sets *why to a static text
 * naming the problem (the message is not a call). */
int vl_call_parse(const char *msg, struct vl_call *c, const char **why);
void vl_call_free(struct vl_call *c);

/* Serialise; these take ownership of PARAMS (may be NULL) and return a
 * malloc'd string, or NULL on allocation failure. */
char *vl_call_format(const char *method, cJSON *params, bool more);
char *vl_reply_format(cJSON *params, bool continues);
char *vl_error_format(const char *error, cJSON *params);
/* org.varlink.service.InvalidParameter naming parameter NAME. */
char *vl_invalid_parameter(const char *name);
/* An error whose parameters are {"message": TEXT} plus KEY/VALUE string
 * pairs given as NULL-terminated varargs. */
char *vl_error_message(const char *error, const char *text, ...)
	__attribute__((sentinel));

/* Parameter access. Each returns 0 when present and valid, 1 when absent
 * (OUT untouched), -1 when present but of the wrong type or out of range. */
int vl_param_int(const cJSON *params, const char *name, int64_t min,
		 int64_t max, int64_t *out);
int vl_param_str(const cJSON *params, const char *name, size_t maxlen,
		 const char **out);
int vl_param_bool(const cJSON *params, const char *name, bool *out);
/* First key of PARAMS not in the NULL-terminated list ALLOWED, or NULL. */
const char *vl_param_unknown(const cJSON *params, const char *const *allowed);

/* Add TEXT under KEY, with any invalid UTF-8 replaced by U+FFFD (text
 * from the kernel or file names is bytes, JSON is UTF-8). */
bool vl_add_text(cJSON *o, const char *key, const char *text);

/* A parsed reply (client side). */
struct vl_reply {
	cJSON *root;
	const char *error; /* NULL for a successful reply */
	const cJSON *params;
	bool continues;
};
int vl_reply_parse(const char *msg, struct vl_reply *r);
void vl_reply_free(struct vl_reply *r);

#endif
