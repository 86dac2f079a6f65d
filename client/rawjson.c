/* rawjson.c: the raw text of a value inside JSON that cJSON has accepted,
 * for printing numbers past 2^53 exactly as the supervisor wrote them. */
#include "rawjson.h"

#include <stdbool.h>
#include <string.h>

const char *json_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* Past the value at S. */
const char *json_skip(const char *s)
{
	int depth = 0;

	do {
		s = json_ws(s);
		switch (*s) {
		case '\0':
			return s;
		case '"':
			for (s++; *s && *s != '"'; s++)
				if (*s == '\\' && s[1])
					s++;
			if (*s)
				s++;
			break;
		case '{':
		case '[':
			depth++;
			s++;
			break;
		case '}':
		case ']':
			depth--;
			s++;
			break;
		case ',':
		case ':':
			s++;
			break;
		default: /* number, true, false, null */
			while (*s && !strchr(",:]} \t\r\n", *s))
				s++;
		}
	} while (depth > 0);
	return s;
}

/* The value of member KEY (first of that name) of the object at OBJ. */
const char *json_member(const char *obj, const char *key)
{
	const char *s = json_ws(obj), *k, *v;
	size_t klen = strlen(key);
	bool match;

	if (*s++ != '{')
		return NULL;
	for (;;) {
		s = json_ws(s);
		if (*s != '"')
			return NULL;
		k = s + 1;
		s = json_skip(s);
		match = (size_t)(s - k) == klen + 1 && !memcmp(k, key, klen);
		s = json_ws(s);
		if (*s != ':')
			return NULL;
		v = json_ws(s + 1);
		if (match)
			return v;
		s = json_ws(json_skip(v));
		if (*s++ != ',')
			return NULL;
	}
}

