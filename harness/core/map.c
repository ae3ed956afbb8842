/* map.c — see core.h. Deletion uses backward-shift, so there are no tombstones. */
#include "core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
    char *key;
    void *value;
};

struct ch_map {
    struct slot *slots;
    size_t cap, count; /* cap is a power of two */
};

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

struct ch_map *ch_map_new(void)
{
    struct ch_map *m = ch_xcalloc(1, sizeof *m);
    m->cap = 16;
    m->slots = ch_xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void ch_map_free(struct ch_map *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static size_t find(const struct ch_map *m, const char *key)
{
    size_t i = hash(key) & (m->cap - 1);
    while (m->slots[i].key && strcmp(m->slots[i].key, key) != 0) i = (i + 1) & (m->cap - 1);
    return i;
}

static void grow(struct ch_map *m)
{
    struct slot *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = ch_xcalloc(oldcap * 2, sizeof *m->slots);
    m->cap = oldcap * 2;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key) m->slots[find(m, old[i].key)] = old[i];
    free(old);
}

void ch_map_set(struct ch_map *m, const char *key, void *value)
{
    if ((m->count + 1) * 2 > m->cap) grow(m);
    size_t i = find(m, key);
    if (!m->slots[i].key) {
        m->slots[i].key = ch_xstrdup(key);
        m->count++;
    }
    m->slots[i].value = value;
}

void *ch_map_get(const struct ch_map *m, const char *key)
{
    size_t i = find(m, key);
    return m->slots[i].key ? m->slots[i].value : NULL;
}

void *ch_map_del(struct ch_map *m, const char *key)
{
    size_t i = find(m, key), mask = m->cap - 1;
    if (!m->slots[i].key) return NULL;
    void *value = m->slots[i].value;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    /* Backward shift: move later members of the probe run into the hole when their home allows it. */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = hash(m->slots[j].key) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return value;
}

size_t ch_map_count(const struct ch_map *m) { return m->count; }

void *ch_map_next(const struct ch_map *m, size_t *pos, const char **key)
{
    for (; *pos < m->cap; (*pos)++) {
        if (m->slots[*pos].key) {
            if (key) *key = m->slots[*pos].key;
            return m->slots[(*pos)++].value;
        }
    }
    return NULL;
}
