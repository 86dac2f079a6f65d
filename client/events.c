/* events.c: monitor events and registration replies as text, shared by
 * dmfilemapctl and the dmfilemapd shim. */
#include "events.h"

#include <string.h>
#include <time.h>

void event_print(FILE *f, const cJSON *ev, int verbose)
{
	const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(ev, "event"));
	const char *reason =
		cJSON_GetStringValue(cJSON_GetObjectItem(ev, "reason"));
	double t = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "time"));
	time_t secs = (time_t)t;
	struct tm tm;
	char when[64] = "-";

	if (!kind)
		return;
	if (verbose < 1 && !strcmp(kind, "updated"))
		return;
	if (t == t && localtime_r(&secs, &tm))
		snprintf(when, sizeof(when),
			 "%04d-%02d-%02dT%02d:%02d:%02d.%03d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)((t - (double)secs) * 1000));
	fprintf(f, "%s %s id=%.0f group=%.0f regions=%.0f", when, kind,
		cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "id")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "group_id")),
		cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "regions")));
	if (reason)
		fprintf(f, " reason=%s", reason);
	fprintf(f, " %s: %s\n",
		cJSON_GetStringValue(cJSON_GetObjectItem(ev, "path")),
		cJSON_GetStringValue(cJSON_GetObjectItem(ev, "message")));
	fflush(f);
}

const char *added_note(const cJSON *params)
{
	if (!cJSON_IsTrue(cJSON_GetObjectItem(params, "existing")))
		return "";
	return cJSON_IsTrue(cJSON_GetObjectItem(params, "changed"))
		       ? " (already monitored: options changed)"
		       : " (already monitored)";
}
