/* map.h — a string-keyed hash map of pointers (open addressing, linear probing, grows at 50% load).
 * Keys are copied; values are borrowed. Used for case ids, tokens and runs. */
#ifndef CH_MAP_H
#define CH_MAP_H

#include <stddef.h>

struct ch_map;

struct ch_map *ch_map_new(void);
/* Frees the map and its key copies, not the values. NULL is a no-op. */
void ch_map_free(struct ch_map *m);
/* Sets key -> value (replacing any). Returns 0, or -1 when out of memory. */
int ch_map_set(struct ch_map *m, const char *key, void *value);
/* The value for key, or NULL. */
void *ch_map_get(const struct ch_map *m, const char *key);
/* Removes key; returns its value or NULL. */
void *ch_map_del(struct ch_map *m, const char *key);
size_t ch_map_count(const struct ch_map *m);
/* Iterates: start with *pos = 0; returns the next value (and its key in *key) or NULL at the end. */
void *ch_map_next(const struct ch_map *m, size_t *pos, const char **key);

#endif
