/* test_varlink.c: unit tests for protocol/varlink.h (call parsing, typed
 * parameter access, reply/error/call formatting, reply parsing).
 * Written against the header's specification, not the implementation. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmfilemap.h"
#include "varlink.h"

/* ------------------------------------------------------------------ */
/* helpers                                                            */

/* A message that vl_call_parse must refuse, with a reason. */
static void expect_bad_call(const char *msg)
{
	struct vl_call c;
	const char *why = NULL;
	int rc = vl_call_parse(msg, &c, &why);

	if (rc != -1) {
		print_error("call unexpectedly accepted: %.200s\n", msg);
		vl_call_free(&c);
	}
	assert_int_equal(rc, -1);
	assert_non_null(why);
	assert_true(why[0] != '\0');
	/* the struct is left freeable (and nothing leaks: ASan checks) */
	vl_call_free(&c);
}

static void parse_ok(const char *msg, struct vl_call *c)
{
	const char *why = NULL;
	int rc = vl_call_parse(msg, c, &why);

	if (rc != 0)
		print_error("call refused (%s): %.200s\n", why ? why : "?", msg);
	assert_int_equal(rc, 0);
	assert_non_null(c->root);
	assert_non_null(c->method);
	assert_non_null(c->params);
	assert_true(cJSON_IsObject(c->params));
}

static char *repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * n + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int rc = vasprintf(&s, fmt, ap);
	va_end(ap);
	assert_true(rc >= 0);
	return s;
}

/* A call whose "parameters" holds DEPTH - 2 nested arrays, so the whole
 * document is DEPTH levels deep (root object and parameters included). */
static char *nested_call(size_t depth)
{
	size_t arrays = depth - 2;
	char *open = repeat("[", arrays), *close = repeat("]", arrays);
	char *s = xasprintf("{\"method\":\"a.B\",\"parameters\":{\"x\":%s%s}}",
			    open, close);
	free(open);
	free(close);
	return s;
}

static cJSON *parse_json(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	if (!j)
		print_error("not JSON: %s\n", s);
	assert_non_null(j);
	return j;
}

static const cJSON *item(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* ------------------------------------------------------------------ */
/* vl_call_parse                                                      */

static void test_call_valid(void **state)
{
	(void)state;
	struct vl_call c;

	parse_ok("{\"method\":\"io.dmfilemap.Supervisor.Add\","
		 "\"parameters\":{\"fd\":0,\"path\":\"/a\"},\"more\":true}",
		 &c);
	assert_string_equal(c.method, "io.dmfilemap.Supervisor.Add");
	assert_true(c.more);
	assert_false(c.oneway);
	assert_int_equal(cJSON_GetArraySize(c.params), 2);
	assert_string_equal(cJSON_GetStringValue(item(c.params, "path")), "/a");
	vl_call_free(&c);
	/* freeing twice is harmless (the struct is cleared) */
	vl_call_free(&c);

	parse_ok("{\"method\":\"a.B\",\"parameters\":{},\"oneway\":true,"
		 "\"more\":false}", &c);
	assert_string_equal(c.method, "a.B");
	assert_false(c.more);
	assert_true(c.oneway);
	assert_int_equal(cJSON_GetArraySize(c.params), 0);
	vl_call_free(&c);

	/* whitespace, key order and explicit nulls */
	parse_ok(" \n{ \"more\" : null , \"parameters\" : { \"k\" : \"v\" } ,"
		 " \"method\" : \"x.y.z.M\" , \"oneway\" : null }\t", &c);
	assert_string_equal(c.method, "x.y.z.M");
	assert_false(c.more);
	assert_false(c.oneway);
	assert_string_equal(cJSON_GetStringValue(item(c.params, "k")), "v");
	vl_call_free(&c);

	/* unknown top-level keys are tolerated (Varlink allows extensions) */
	parse_ok("{\"method\":\"a.B\",\"upgrade\":false,\"x\":1}", &c);
	assert_string_equal(c.method, "a.B");
	vl_call_free(&c);
}

static void test_call_absent_parameters(void **state)
{
	(void)state;
	struct vl_call c;

	parse_ok("{\"method\":\"org.varlink.service.GetInfo\"}", &c);
	assert_string_equal(c.method, "org.varlink.service.GetInfo");
	assert_int_equal(cJSON_GetArraySize(c.params), 0);
	assert_false(c.more);
	assert_false(c.oneway);
	vl_call_free(&c);

	parse_ok("{\"method\":\"a.B\",\"parameters\":null}", &c);
	assert_int_equal(cJSON_GetArraySize(c.params), 0);
	vl_call_free(&c);
}

static void test_call_bad_method(void **state)
{
	(void)state;
	expect_bad_call("{}");
	expect_bad_call("{\"parameters\":{}}");
	expect_bad_call("{\"method\":1}");
	expect_bad_call("{\"method\":null}");
	expect_bad_call("{\"method\":true}");
	expect_bad_call("{\"method\":[\"a.B\"]}");
	expect_bad_call("{\"method\":{\"a\":\"b.C\"}}");
	expect_bad_call("{\"method\":\"GetInfo\"}");
	expect_bad_call("{\"method\":\"\"}");
	/* keys are case-sensitive */
	expect_bad_call("{\"Method\":\"a.B\"}");
}

static void test_call_bad_parameters(void **state)
{
	(void)state;
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":[]}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":[1,2]}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":1}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":\"x\"}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":true}");
}

static void test_call_bad_flags(void **state)
{
	(void)state;
	expect_bad_call("{\"method\":\"a.B\",\"more\":1}");
	expect_bad_call("{\"method\":\"a.B\",\"more\":\"true\"}");
	expect_bad_call("{\"method\":\"a.B\",\"more\":{}}");
	expect_bad_call("{\"method\":\"a.B\",\"oneway\":0}");
	expect_bad_call("{\"method\":\"a.B\",\"oneway\":\"yes\"}");
	expect_bad_call("{\"method\":\"a.B\",\"oneway\":[]}");
}

static void test_call_not_json(void **state)
{
	(void)state;
	expect_bad_call("");
	expect_bad_call(" ");
	expect_bad_call("{");
	expect_bad_call("}");
	expect_bad_call("nonsense");
	expect_bad_call("{\"method\":\"a.B\"");
	expect_bad_call("{\"method\":\"a.B\",}");
	expect_bad_call("{method:\"a.B\"}");
	expect_bad_call("{'method':'a.B'}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":{\"n\":NaN}}");
	expect_bad_call("{\"method\":\"a.B\",\"parameters\":{\"n\":Infinity}}");
}

/* One message is one JSON value: text after it is not JSON. */
static void test_call_trailing_garbage(void **state)
{
	(void)state;
	expect_bad_call("{\"method\":\"a.B\"}}");
	expect_bad_call("{\"method\":\"a.B\"}x");
	expect_bad_call("{\"method\":\"a.B\"} {\"method\":\"c.D\"}");
	expect_bad_call("{\"method\":\"a.B\",\"more\":false}true");
}

static void test_call_not_object(void **state)
{
	(void)state;
	expect_bad_call("[]");
	expect_bad_call("[{\"method\":\"a.B\"}]");
	expect_bad_call("1");
	expect_bad_call("-2.5e3");
	expect_bad_call("\"a.B\"");
	expect_bad_call("true");
	expect_bad_call("null");
}

static void test_call_deep_nesting(void **state)
{
	(void)state;
	struct vl_call c;
	char *s;

	/* 32 levels: accepted */
	s = nested_call(32);
	parse_ok(s, &c);
	vl_call_free(&c);
	free(s);

	/* 33 levels and far beyond: refused, without crashing */
	s = nested_call(33);
	expect_bad_call(s);
	free(s);
	s = nested_call(1000);
	expect_bad_call(s);
	free(s);
	s = nested_call(200000);
	expect_bad_call(s);
	free(s);

	/* objects count as much as arrays */
	char *open = repeat("{\"a\":", 100), *close = repeat("}", 100);
	s = xasprintf("{\"method\":\"a.B\",\"parameters\":%s1%s}", open,
		      close);
	expect_bad_call(s);
	free(s);
	free(open);
	free(close);

	/* unbalanced, never closed: refused */
	open = repeat("[", 100000);
	expect_bad_call(open);
	free(open);

	/* brackets inside strings (escaped quotes too) are not nesting */
	open = repeat("[{", 200);
	s = xasprintf("{\"method\":\"a.B\",\"parameters\":{\"s\":\"\\\"%s\","
		      "\"t\":\"\\\\\"}}", open);
	parse_ok(s, &c);
	assert_int_equal(strlen(cJSON_GetStringValue(item(c.params, "s"))),
			 1 + strlen(open));
	assert_string_equal(cJSON_GetStringValue(item(c.params, "t")), "\\");
	vl_call_free(&c);
	free(s);
	free(open);

	/* many siblings are width, not depth */
	open = repeat("[1],", 5000);
	s = xasprintf("{\"method\":\"a.B\",\"parameters\":{\"a\":[%s[2]]}}",
		      open);
	parse_ok(s, &c);
	assert_int_equal(cJSON_GetArraySize(item(c.params, "a")), 5001);
	vl_call_free(&c);
	free(s);
	free(open);
}

/* ------------------------------------------------------------------ */
/* vl_param_int                                                       */

static cJSON *params_of(const char *json)
{
	cJSON *p = parse_json(json);
	assert_true(cJSON_IsObject(p));
	return p;
}

static void test_param_int(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"a\":5,\"neg\":-3,\"zero\":0,\"mz\":-0,"
			     "\"mz2\":-0.0,\"exp\":1e3,\"null\":null}");
	int64_t v = 77;

	assert_int_equal(vl_param_int(p, "a", 0, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(vl_param_int(p, "neg", -3, -3, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(vl_param_int(p, "zero", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	v = 77;
	assert_int_equal(vl_param_int(p, "mz", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	v = 77;
	assert_int_equal(vl_param_int(p, "mz2", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(vl_param_int(p, "exp", 0, 1000, &v), 0);
	assert_int_equal(v, 1000);

	/* absent (or null): 1, OUT untouched */
	v = 77;
	assert_int_equal(vl_param_int(p, "missing", 0, 10, &v), 1);
	assert_int_equal(v, 77);
	assert_int_equal(vl_param_int(p, "null", 0, 10, &v), 1);
	assert_int_equal(v, 77);
	/* names are case-sensitive */
	assert_int_equal(vl_param_int(p, "A", 0, 10, &v), 1);
	assert_int_equal(v, 77);

	/* bounds are inclusive; outside them: -1, OUT untouched */
	assert_int_equal(vl_param_int(p, "a", 5, 5, &v), 0);
	v = 77;
	assert_int_equal(vl_param_int(p, "a", 0, 4, &v), -1);
	assert_int_equal(v, 77);
	assert_int_equal(vl_param_int(p, "a", 6, 10, &v), -1);
	assert_int_equal(vl_param_int(p, "neg", 0, 10, &v), -1);
	assert_int_equal(vl_param_int(p, "neg", -2, 10, &v), -1);
	assert_int_equal(v, 77);
	cJSON_Delete(p);
}

static void test_param_int_wrong_type(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"s\":\"5\",\"t\":true,\"f\":false,\"a\":[5],"
			     "\"o\":{\"v\":5},\"e\":\"\"}");
	const char *names[] = { "s", "t", "f", "a", "o", "e" };
	int64_t v = 77;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(vl_param_int(p, names[i], INT64_MIN, INT64_MAX,
					      &v), -1);
		assert_int_equal(v, 77);
	}
	cJSON_Delete(p);
}

static void test_param_int_not_integer(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"half\":1.5,\"tiny\":1e-300,\"nhalf\":-0.5,"
			     "\"huge\":1e300,\"nhuge\":-1e300,"
			     "\"big\":1e19,\"over\":9007199254740994,"
			     "\"limit\":9007199254740992,"
			     "\"nlimit\":-9007199254740992}");
	int64_t v = 77;

	assert_int_equal(vl_param_int(p, "half", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "tiny", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "nhalf", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "huge", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "nhuge", INT64_MIN, INT64_MAX, &v), -1);
	/* beyond int64 even where max is INT64_MAX */
	assert_int_equal(vl_param_int(p, "big", INT64_MIN, INT64_MAX, &v), -1);
	/* not exactly representable in a double: refused */
	assert_int_equal(vl_param_int(p, "over", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(v, 77);
	/* 2^53 itself is still exact */
	assert_int_equal(vl_param_int(p, "limit", 0, INT64_MAX, &v), 0);
	assert_int_equal(v, 9007199254740992LL);
	assert_int_equal(vl_param_int(p, "nlimit", INT64_MIN, 0, &v), 0);
	assert_int_equal(v, -9007199254740992LL);
	cJSON_Delete(p);

	/* NaN and infinities cannot come from JSON text, but a cJSON tree
	 * built in memory may hold them */
	p = cJSON_CreateObject();
	assert_non_null(p);
	assert_non_null(cJSON_AddNumberToObject(p, "nan", NAN));
	assert_non_null(cJSON_AddNumberToObject(p, "inf", INFINITY));
	assert_non_null(cJSON_AddNumberToObject(p, "ninf", -INFINITY));
	assert_non_null(cJSON_AddNumberToObject(p, "mz", -0.0));
	v = 77;
	assert_int_equal(vl_param_int(p, "nan", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "inf", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(vl_param_int(p, "ninf", INT64_MIN, INT64_MAX, &v), -1);
	assert_int_equal(v, 77);
	assert_int_equal(vl_param_int(p, "mz", 0, 0, &v), 0);
	assert_int_equal(v, 0);
	cJSON_Delete(p);
}

/* ------------------------------------------------------------------ */
/* vl_param_str, vl_param_bool                                        */

static void test_param_str(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"s\":\"/srv/a.img\",\"e\":\"\",\"n\":5,"
			     "\"t\":true,\"a\":[\"x\"],\"o\":{},\"z\":null,"
			     "\"u\":\"\\u00e9t\\u00e9\"}");
	const char *s = "untouched";

	assert_int_equal(vl_param_str(p, "s", 100, &s), 0);
	assert_string_equal(s, "/srv/a.img");
	/* maxlen is inclusive */
	assert_int_equal(vl_param_str(p, "s", strlen("/srv/a.img"), &s), 0);
	s = "untouched";
	assert_int_equal(vl_param_str(p, "s", strlen("/srv/a.img") - 1, &s),
			 -1);
	assert_string_equal(s, "untouched");
	assert_int_equal(vl_param_str(p, "e", 0, &s), 0);
	assert_string_equal(s, "");
	/* UTF-8: é is two bytes each */
	assert_int_equal(vl_param_str(p, "u", 100, &s), 0);
	assert_string_equal(s, "\xc3\xa9t\xc3\xa9");

	s = "untouched";
	assert_int_equal(vl_param_str(p, "missing", 100, &s), 1);
	assert_int_equal(vl_param_str(p, "z", 100, &s), 1);
	assert_int_equal(vl_param_str(p, "S", 100, &s), 1);
	assert_int_equal(vl_param_str(p, "n", 100, &s), -1);
	assert_int_equal(vl_param_str(p, "t", 100, &s), -1);
	assert_int_equal(vl_param_str(p, "a", 100, &s), -1);
	assert_int_equal(vl_param_str(p, "o", 100, &s), -1);
	assert_string_equal(s, "untouched");
	cJSON_Delete(p);
}

static void test_param_bool(void **state)
{
	(void)state;
	cJSON *p = params_of("{\"t\":true,\"f\":false,\"one\":1,\"zero\":0,"
			     "\"s\":\"true\",\"a\":[],\"z\":null}");
	bool b = true;

	assert_int_equal(vl_param_bool(p, "t", &b), 0);
	assert_true(b);
	assert_int_equal(vl_param_bool(p, "f", &b), 0);
	assert_false(b);
	b = true;
	assert_int_equal(vl_param_bool(p, "missing", &b), 1);
	assert_true(b);
	assert_int_equal(vl_param_bool(p, "z", &b), 1);
	assert_true(b);
	assert_int_equal(vl_param_bool(p, "one", &b), -1);
	assert_int_equal(vl_param_bool(p, "zero", &b), -1);
	assert_int_equal(vl_param_bool(p, "s", &b), -1);
	assert_int_equal(vl_param_bool(p, "a", &b), -1);
	assert_true(b);
	b = false;
	assert_int_equal(vl_param_bool(p, "one", &b), -1);
	assert_false(b);
	cJSON_Delete(p);
}

/* ------------------------------------------------------------------ */
/* vl_param_unknown                                                   */

static void test_param_unknown(void **state)
{
	(void)state;
	static const char *const allowed[] = { "fd", "path", "group_id", NULL };
	static const char *const none[] = { NULL };
	cJSON *p;

	p = params_of("{\"fd\":0,\"path\":\"/a\",\"group_id\":1}");
	assert_null(vl_param_unknown(p, allowed));
	assert_string_equal(vl_param_unknown(p, none), "fd");
	cJSON_Delete(p);

	p = params_of("{}");
	assert_null(vl_param_unknown(p, allowed));
	assert_null(vl_param_unknown(p, none));
	cJSON_Delete(p);

	p = params_of("{\"fd\":0,\"bogus\":1,\"path\":\"/a\"}");
	assert_string_equal(vl_param_unknown(p, allowed), "bogus");
	cJSON_Delete(p);

	/* case-sensitive; prefixes and extensions are not the same name */
	p = params_of("{\"Path\":\"/a\"}");
	assert_string_equal(vl_param_unknown(p, allowed), "Path");
	cJSON_Delete(p);
	p = params_of("{\"pat\":\"/a\"}");
	assert_string_equal(vl_param_unknown(p, allowed), "pat");
	cJSON_Delete(p);
	p = params_of("{\"paths\":\"/a\"}");
	assert_string_equal(vl_param_unknown(p, allowed), "paths");
	cJSON_Delete(p);
	/* a null value still names a parameter */
	p = params_of("{\"other\":null}");
	assert_string_equal(vl_param_unknown(p, allowed), "other");
	cJSON_Delete(p);
	/* the empty key */
	p = params_of("{\"\":1}");
	assert_non_null(vl_param_unknown(p, allowed));
	assert_string_equal(vl_param_unknown(p, allowed), "");
	cJSON_Delete(p);
}

/* ------------------------------------------------------------------ */
/* formatting, parsed back                                            */

static void test_reply_format(void **state)
{
	(void)state;
	cJSON *p = cJSON_CreateObject(), *j;
	char *s;

	assert_non_null(cJSON_AddNumberToObject(p, "n", 42));
	assert_non_null(cJSON_AddStringToObject(p, "s", "a\"b\\c\n\x01\xc3\xa9"));
	s = vl_reply_format(p, false);
	assert_non_null(s);
	j = parse_json(s);
	assert_null(item(j, "error"));
	assert_null(item(j, "continues")); /* or false: only true is wrong */
	assert_true(cJSON_IsObject(item(j, "parameters")));
	assert_int_equal(cJSON_GetNumberValue(item(item(j, "parameters"), "n")),
			 42);
	assert_string_equal(
		cJSON_GetStringValue(item(item(j, "parameters"), "s")),
		"a\"b\\c\n\x01\xc3\xa9");
	/* one line: the framing is NUL, but a reply must not hold one */
	assert_null(strchr(s, '\n'));
	cJSON_Delete(j);
	free(s);

	s = vl_reply_format(NULL, true);
	assert_non_null(s);
	j = parse_json(s);
	assert_true(cJSON_IsObject(item(j, "parameters")));
	assert_int_equal(cJSON_GetArraySize(item(j, "parameters")), 0);
	assert_true(cJSON_IsTrue(item(j, "continues")));
	cJSON_Delete(j);
	free(s);
}

static void test_error_format(void **state)
{
	(void)state;
	cJSON *p = cJSON_CreateObject(), *j;
	char *s;

	assert_non_null(cJSON_AddStringToObject(p, "parameter", "fd"));
	s = vl_error_format(VL_ERR_INVALID_PARAMETER, p);
	assert_non_null(s);
	j = parse_json(s);
	assert_string_equal(cJSON_GetStringValue(item(j, "error")),
			    "org.varlink.service.InvalidParameter");
	assert_string_equal(
		cJSON_GetStringValue(item(item(j, "parameters"), "parameter")),
		"fd");
	assert_false(cJSON_IsTrue(item(j, "continues")));
	cJSON_Delete(j);
	free(s);

	s = vl_error_format(VL_ERR_EXPECTED_MORE, NULL);
	assert_non_null(s);
	j = parse_json(s);
	assert_string_equal(cJSON_GetStringValue(item(j, "error")),
			    "org.varlink.service.ExpectedMore");
	/* parameters, if present, is an object */
	if (item(j, "parameters"))
		assert_true(cJSON_IsObject(item(j, "parameters")));
	cJSON_Delete(j);
	free(s);
}

static void test_error_message(void **state)
{
	(void)state;
	cJSON *j;
	const cJSON *p;
	char *s;

	s = vl_error_message(DMF_ERR("BadFile"), "cannot monitor /a: \"x\"",
			     NULL);
	assert_non_null(s);
	j = parse_json(s);
	assert_string_equal(cJSON_GetStringValue(item(j, "error")),
			    "io.dmfilemap.Supervisor.BadFile");
	p = item(j, "parameters");
	assert_int_equal(cJSON_GetArraySize(p), 1);
	assert_string_equal(cJSON_GetStringValue(item(p, "message")),
			    "cannot monitor /a: \"x\"");
	cJSON_Delete(j);
	free(s);

	s = vl_error_message(DMF_ERR("NoSuchMonitor"), "no monitor for /b",
			     "path", "/b", "other", "v", NULL);
	assert_non_null(s);
	j = parse_json(s);
	p = item(j, "parameters");
	assert_int_equal(cJSON_GetArraySize(p), 3);
	assert_string_equal(cJSON_GetStringValue(item(p, "message")),
			    "no monitor for /b");
	assert_string_equal(cJSON_GetStringValue(item(p, "path")), "/b");
	assert_string_equal(cJSON_GetStringValue(item(p, "other")), "v");
	cJSON_Delete(j);
	free(s);

	/* a NULL value: still a string (methods.c passes path = NULL) */
	s = vl_error_message(DMF_ERR("NoSuchMonitor"), "no monitor 3", "path",
			     (const char *)NULL, NULL);
	assert_non_null(s);
	j = parse_json(s);
	p = item(j, "parameters");
	assert_string_equal(cJSON_GetStringValue(item(p, "message")),
			    "no monitor 3");
	assert_true(cJSON_IsString(item(p, "path")) ||
		    cJSON_IsNull(item(p, "path")) || !item(p, "path"));
	cJSON_Delete(j);
	free(s);
}

static void test_call_format(void **state)
{
	(void)state;
	struct vl_call c;
	cJSON *p = cJSON_CreateObject();
	char *s;

	assert_non_null(cJSON_AddNumberToObject(p, "fd", 0));
	assert_non_null(cJSON_AddStringToObject(p, "path", "/a b/\"c\""));
	s = vl_call_format("io.dmfilemap.Supervisor.Add", p, true);
	assert_non_null(s);
	parse_ok(s, &c);
	assert_string_equal(c.method, "io.dmfilemap.Supervisor.Add");
	assert_true(c.more);
	assert_false(c.oneway);
	assert_string_equal(cJSON_GetStringValue(item(c.params, "path")),
			    "/a b/\"c\"");
	assert_int_equal(cJSON_GetNumberValue(item(c.params, "fd")), 0);
	vl_call_free(&c);
	free(s);

	s = vl_call_format("io.dmfilemap.Supervisor.List", NULL, false);
	assert_non_null(s);
	parse_ok(s, &c);
	assert_string_equal(c.method, "io.dmfilemap.Supervisor.List");
	assert_false(c.more);
	assert_int_equal(cJSON_GetArraySize(c.params), 0);
	vl_call_free(&c);
	/* and "more" is not spelled out as true */
	cJSON *j = parse_json(s);
	assert_false(cJSON_IsTrue(item(j, "more")));
	cJSON_Delete(j);
	free(s);
}

/* ------------------------------------------------------------------ */
/* vl_reply_parse                                                     */

static void test_reply_parse(void **state)
{
	(void)state;
	struct vl_reply r;

	assert_int_equal(vl_reply_parse("{\"parameters\":{\"a\":1}}", &r), 0);
	assert_null(r.error);
	assert_false(r.continues);
	assert_non_null(r.params);
	assert_int_equal(cJSON_GetNumberValue(item(r.params, "a")), 1);
	vl_reply_free(&r);
	vl_reply_free(&r); /* cleared: harmless */

	assert_int_equal(vl_reply_parse("{\"parameters\":{},\"continues\":true}",
					&r), 0);
	assert_null(r.error);
	assert_true(r.continues);
	vl_reply_free(&r);

	assert_int_equal(vl_reply_parse("{\"parameters\":{},\"continues\":false}",
					&r), 0);
	assert_false(r.continues);
	vl_reply_free(&r);

	assert_int_equal(
		vl_reply_parse("{\"error\":\"io.dmfilemap.Supervisor.BadFile\","
			       "\"parameters\":{\"message\":\"m\"}}", &r), 0);
	assert_non_null(r.error);
	assert_string_equal(r.error, "io.dmfilemap.Supervisor.BadFile");
	assert_string_equal(cJSON_GetStringValue(item(r.params, "message")),
			    "m");
	vl_reply_free(&r);

	/* no parameters at all: a valid (empty) reply */
	assert_int_equal(vl_reply_parse("{}", &r), 0);
	assert_null(r.error);
	assert_false(r.continues);
	assert_true(!r.params || (cJSON_IsObject(r.params) &&
				  cJSON_GetArraySize(r.params) == 0));
	vl_reply_free(&r);

	/* round trip through the formatters */
	char *s = vl_error_message(DMF_ERR("NotDeviceMapper"), "nope", "path",
				   "/x", NULL);
	assert_non_null(s);
	assert_int_equal(vl_reply_parse(s, &r), 0);
	assert_string_equal(r.error, "io.dmfilemap.Supervisor.NotDeviceMapper");
	assert_string_equal(cJSON_GetStringValue(item(r.params, "path")), "/x");
	vl_reply_free(&r);
	free(s);
	s = vl_reply_format(NULL, true);
	assert_non_null(s);
	assert_int_equal(vl_reply_parse(s, &r), 0);
	assert_null(r.error);
	assert_true(r.continues);
	vl_reply_free(&r);
	free(s);
}

/* Bytes that are not UTF-8 (an alias written by another tool, a file
 * name) are replaced, so that replies stay valid JSON. */
static void test_add_text_cleans_invalid_utf8(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *out;

	(void)state;
	assert_true(vl_add_text(o, "ok", "caf\xc3\xa9"));
	assert_true(vl_add_text(o, "bad", "a\x01\xff\xc3z\xed\xa0\x80"));
	out = cJSON_PrintUnformatted(o);
	assert_non_null(out);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "ok")),
			    "caf\xc3\xa9");
	/* \x01 is valid (escaped by cJSON); \xff, a lone \xc3 and a
	 * surrogate's 3 bytes each become U+FFFD */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "bad")),
			    "a\x01\xef\xbf\xbd\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	struct vl_reply r;
	char *msg = vl_reply_format(o, false);
	assert_non_null(msg);
	assert_int_equal(vl_reply_parse(msg, &r), 0); /* the client takes it */
	vl_reply_free(&r);
	free(msg);
	free(out);
}

static void test_reply_parse_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"{",
		"nonsense",
		"[]",
		"[{\"parameters\":{}}]",
		"1",
		"\"x\"",
		"null",
		"{\"error\":1}",
		"{\"error\":true,\"parameters\":{}}",
		"{\"error\":{},\"parameters\":{}}",
		"{\"parameters\":[]}",
		"{\"parameters\":\"x\"}",
		"{\"parameters\":1}",
		"{\"parameters\":{},\"continues\":1}",
		"{\"parameters\":{},\"continues\":\"true\"}",
	};
	struct vl_reply r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = vl_reply_parse(bad[i], &r);
		if (rc != -1) {
			print_error("reply unexpectedly accepted: %s\n", bad[i]);
			vl_reply_free(&r);
		}
		assert_int_equal(rc, -1);
		vl_reply_free(&r);
	}

	/* deep nesting: refused without crashing */
	char *open = repeat("[", 300000);
	char *s = xasprintf("{\"parameters\":{\"a\":%s}}", open);
	assert_int_equal(vl_reply_parse(s, &r), -1);
	vl_reply_free(&r);
	free(s);
	free(open);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_text_cleans_invalid_utf8),
		cmocka_unit_test(test_call_valid),
		cmocka_unit_test(test_call_absent_parameters),
		cmocka_unit_test(test_call_bad_method),
		cmocka_unit_test(test_call_bad_parameters),
		cmocka_unit_test(test_call_bad_flags),
		cmocka_unit_test(test_call_not_json),
		cmocka_unit_test(test_call_trailing_garbage),
		cmocka_unit_test(test_call_not_object),
		cmocka_unit_test(test_call_deep_nesting),
		cmocka_unit_test(test_param_int),
		cmocka_unit_test(test_param_int_wrong_type),
		cmocka_unit_test(test_param_int_not_integer),
		cmocka_unit_test(test_param_str),
		cmocka_unit_test(test_param_bool),
		cmocka_unit_test(test_param_unknown),
		cmocka_unit_test(test_reply_format),
		cmocka_unit_test(test_error_format),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_call_format),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_parse_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
