/* rawjson.h: the raw text of a value inside JSON that cJSON has accepted,
 * for printing numbers past 2^53 exactly as the supervisor wrote them. */
#ifndef DMF_RAWJSON_H
#define DMF_RAWJSON_H

/* S past any JSON white space. */
const char *json_ws(const char *s);
/* Past the JSON value at S. */
const char *json_skip(const char *s);
/* The value of member KEY (the first of that name) of the object at OBJ,
 * or NULL. */
const char *json_member(const char *obj, const char *key);

#endif
