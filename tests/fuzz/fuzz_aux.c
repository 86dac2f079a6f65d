/* fuzz_aux.c: libFuzzer target for the kernel's text, which any root tool
 * can shape: @stats_list rows and DMS_GROUP descriptors (auxdata.c). */
#include "core/auxdata.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct aux_list l;
	struct aux_group g;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (aux_list_parse(s, &l) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			if (aux_group_parse(l.regions[i].aux_data, &g) == 1) {
				char *t = aux_group_format(&g);
				struct aux_group g2;
				/* what we write, we must read back the same */
				if (t && aux_group_parse(t, &g2) != 1)
					abort();
				if (t && (g2.n != g.n ||
					  memcmp(g2.members, g.members,
						 g.n * sizeof(*g.members)) ||
					  strcmp(g2.alias, g.alias)))
					abort();
				if (t)
					aux_group_free(&g2);
				free(t);
				aux_group_free(&g);
			}
		}
		aux_list_free(&l);
	}
	if (aux_group_parse(s, &g) == 1)
		aux_group_free(&g);
	free(s);
	return 0;
}
