/* varlink.c: the Varlink message codec (cJSON) shared by the supervisor and
 * its clients: calls, replies, errors and typed parameter access. */
#include "varlink.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* cJSON nests recursively; refuse deep documents before parsing them. */
#define VL_DEPTH_MAX 32

static bool too_deep(const char *s)
{
	int depth = 0;
	bool in_str = false;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = false;
		} else if (*s == '"') {
			in_str = true;
		} else if (*s == '{' || *s == '[') {
			if (++depth > VL_DEPTH_MAX)
				return true;
		} else if (*s == '}' || *s == ']') {
			depth--;
		}
	}
	return false;
}

/* Length of the strict UTF-8 sequence at S (no overlongs, surrogates or
 * values past U+10FFFF), or 0 if S does not start one. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = *s, n, cp, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 1, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n + 1;
}

/* What we echo back in replies must be valid JSON text. */
static bool utf8_valid(const unsigned char *s)
{
	size_t n;

	for (; *s; s += n)
		if (!(n = utf8_seq(s)))
			return false;
	return true;
}

bool vl_add_text(cJSON *o, const char *key, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	char *clean, *p;
	bool ok;

	if (utf8_valid(s))
		return cJSON_AddStringToObject(o, key, text) != NULL;
	/* bytes from the kernel or a file name: each invalid byte becomes
	 * U+FFFD, so that the reply stays valid JSON */
	if (!(clean = p = malloc(strlen(text) * 3 + 1)))
		return false;
	while (*s) {
		size_t n = utf8_seq(s);
		if (n) {
			memcpy(p, s, n);
			p += n;
			s += n;
		} else {
			memcpy(p, "\xef\xbf\xbd", 3);
			p += 3;
			s++;
		}
	}
	*p = '\0';
	ok = cJSON_AddStringToObject(o, key, clean) != NULL;
	free(clean);
	return ok;
}

static cJSON *parse_object(const char *msg, const char **why)
{
	cJSON *root;

	if (!utf8_valid((const unsigned char *)msg)) {
		*why = "not valid UTF-8";
		return NULL;
	}
	if (too_deep(msg)) {
		*why = "JSON nested too deeply";
		return NULL;
	}
	/* the whole message must be the one object: no trailing bytes */
	if (!(root = cJSON_ParseWithOpts(msg, NULL, 1))) {
		*why = "not valid JSON";
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*why = "not a JSON object";
		return NULL;
	}
	return root;
}

static int opt_bool(const cJSON *o, const char *name, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

int vl_call_parse(const char *msg, struct vl_call *c, const char **why)
{
	const cJSON *m, *p;

	memset(c, 0, sizeof(*c));
	if (!(c->root = parse_object(msg, why)))
		return -1;
	m = cJSON_GetObjectItemCaseSensitive(c->root, "method");
	if (!cJSON_IsString(m) || !strchr(m->valuestring, '.')) {
		*why = "no \"method\" string of the form interface.Method";
		goto bad;
	}
	c->method = m->valuestring;
	p = cJSON_GetObjectItemCaseSensitive(c->root, "parameters");
	if (p && !cJSON_IsNull(p) && !cJSON_IsObject(p)) {
		*why = "\"parameters\" is not an object";
		goto bad;
	}
	if (!p || cJSON_IsNull(p)) {
		cJSON *empty = cJSON_CreateObject();
		if (!empty) {
			*why = "out of memory";
			goto bad;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(c->root, "parameters");
		cJSON_AddItemToObject(c->root, "parameters", empty);
		p = empty;
	}
	c->params = p;
	if (opt_bool(c->root, "more", &c->more) ||
	    opt_bool(c->root, "oneway", &c->oneway)) {
		*why = "\"more\" or \"oneway\" is not a boolean";
		goto bad;
	}
	return 0;
bad:
	vl_call_free(c);
	return -1;
}

void vl_call_free(struct vl_call *c)
{
	cJSON_Delete(c->root);
	memset(c, 0, sizeof(*c));
}

static char *print_and_free(cJSON *root)
{
	char *s = root ? cJSON_PrintUnformatted(root) : NULL;

	cJSON_Delete(root);
	return s;
}

static cJSON *params_or_empty(cJSON *params)
{
	return params ? params : cJSON_CreateObject();
}

char *vl_call_format(const char *method, cJSON *params, bool more)
{
	cJSON *root = cJSON_CreateObject();

	params = params_or_empty(params);
	if (!root || !params || !cJSON_AddStringToObject(root, "method", method)) {
		cJSON_Delete(root);
		cJSON_Delete(params);
		return NULL;
	}
	cJSON_AddItemToObject(root, "parameters", params);
	if (more && !cJSON_AddTrueToObject(root, "more")) {
		cJSON_Delete(root);
		return NULL;
	}
	return print_and_free(root);
}

char *vl_reply_format(cJSON *params, bool continues)
{
	cJSON *root = cJSON_CreateObject();

	params = params_or_empty(params);
	if (!root || !params) {
		cJSON_Delete(root);
		cJSON_Delete(params);
		return NULL;
	}
	cJSON_AddItemToObject(root, "parameters", params);
	if (continues && !cJSON_AddTrueToObject(root, "continues")) {
		cJSON_Delete(root);
		return NULL;
	}
	return print_and_free(root);
}

char *vl_error_format(const char *error, cJSON *params)
{
	cJSON *root = cJSON_CreateObject();

	params = params_or_empty(params);
	if (!root || !params || !cJSON_AddStringToObject(root, "error", error)) {
		cJSON_Delete(root);
		cJSON_Delete(params);
		return NULL;
	}
	cJSON_AddItemToObject(root, "parameters", params);
	return print_and_free(root);
}

char *vl_error_message(const char *error, const char *text, ...)
{
	cJSON *p = cJSON_CreateObject();
	const char *k;
	va_list ap;

	if (!p || !cJSON_AddStringToObject(p, "message", text)) {
		cJSON_Delete(p);
		return NULL;
	}
	va_start(ap, text);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		if (!cJSON_AddStringToObject(p, k, v ? v : "")) {
			va_end(ap);
			cJSON_Delete(p);
			return NULL;
		}
	}
	va_end(ap);
	return vl_error_format(error, p);
}

int vl_param_int(const cJSON *params, const char *name, int64_t min,
		 int64_t max, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);
	double d;

	if (!v || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	/* integers only, and exactly representable */
	if (!isfinite(d) || d != floor(d) || d < (double)min ||
	    d > (double)max || fabs(d) > 9007199254740992.0)
		return -1;
	*out = (int64_t)d;
	return 0;
}

int vl_param_str(const cJSON *params, const char *name, size_t maxlen,
		 const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);

	if (!v || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsString(v) || strlen(v->valuestring) > maxlen)
		return -1;
	*out = v->valuestring;
	return 0;
}

int vl_param_bool(const cJSON *params, const char *name, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);

	if (!v || cJSON_IsNull(v))
		return 1;
	if (!cJSON_IsBool(v))
		return -1;
	*out = cJSON_IsTrue(v);
	return 0;
}

const char *vl_param_unknown(const cJSON *params, const char *const *allowed)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, params)
	{
		const char *const *a;
		for (a = allowed; *a; a++)
			if (it->string && !strcmp(it->string, *a))
				break;
		if (!*a)
			return it->string ? it->string : "";
	}
	return NULL;
}

int vl_reply_parse(const char *msg, struct vl_reply *r)
{
	const char *why;
	const cJSON *e;
	bool cont = false;

	memset(r, 0, sizeof(*r));
	if (!(r->root = parse_object(msg, &why)))
		return -1;
	e = cJSON_GetObjectItemCaseSensitive(r->root, "error");
	if (e && !cJSON_IsString(e))
		goto bad;
	r->error = e ? e->valuestring : NULL;
	r->params = cJSON_GetObjectItemCaseSensitive(r->root, "parameters");
	if (r->params && !cJSON_IsObject(r->params))
		goto bad;
	if (opt_bool(r->root, "continues", &cont))
		goto bad;
	r->continues = cont;
	return 0;
bad:
	vl_reply_free(r);
	return -1;
}

void vl_reply_free(struct vl_reply *r)
{
	cJSON_Delete(r->root);
	memset(r, 0, sizeof(*r));
}

char *vl_invalid_parameter(const char *name)
{
	cJSON *p = cJSON_CreateObject();

	if (p && !cJSON_AddStringToObject(p, "parameter", name)) {
		cJSON_Delete(p);
		return NULL;
	}
	return vl_error_format(VL_ERR_INVALID_PARAMETER, p);
}
