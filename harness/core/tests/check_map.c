/* check_map.c — unit tests of harness/core/map.c: set/get/del under growth and deletion in probe runs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"
#include "testing/testing.h"

START_TEST(set_get_delete_many)
{
    struct ch_map *m = ch_map_new();
    char key[32];
    static int values[2000];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ch_map_set(m, key, &values[i]);
    }
    ck_assert_uint_eq(ch_map_count(m), 2000);
    for (int i = 0; i < 2000; i += 2) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_ptr_eq(ch_map_del(m, key), &values[i]);
    }
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ck_assert_ptr_eq(ch_map_get(m, key), i % 2 ? &values[i] : NULL);
    }
    size_t pos = 0, n = 0;
    const char *k;
    while (ch_map_next(m, &pos, &k)) n++;
    ck_assert_uint_eq(n, 1000);
    ck_assert_ptr_null(ch_map_del(m, "absent"));
    ch_map_free(m);
}
END_TEST

START_TEST(replace_keeps_count)
{
    struct ch_map *m = ch_map_new();
    int a, b;
    ch_map_set(m, "x", &a);
    ch_map_set(m, "x", &b);
    ck_assert_uint_eq(ch_map_count(m), 1);
    ck_assert_ptr_eq(ch_map_get(m, "x"), &b);
    ch_map_free(m);
}
END_TEST

int main(void)
{
    return ch_check_main("map", 0, NULL, CH_TESTS(set_get_delete_many, replace_keeps_count));
}
