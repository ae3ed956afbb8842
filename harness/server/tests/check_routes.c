/* check_routes.c — unit tests of harness/server/routes.c: compiling routes (unknown ops refused) and choosing the
 * route for a request (FORMAT.md §4). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "core/core.h"
#include "testing/testing.h"

/* Route choice (FORMAT.md §4): exact nth > nth N+ > none; origin > none; method > `*`; path > prefix. */
static const struct {
    const char *method, *path;
    int nth, origin;
    int expect_line;
} match_rows[] = {
    {"GET", "/a", 1, 0, 3}, {"GET", "/a", 2, 0, 1}, {"GET", "/a", 3, 0, 2}, {"GET", "/a", 9, 0, 2},
    {"GET", "/a", 1, 1, 4}, {"PUT", "/a", 1, 0, 5}, {"PUT", "/abc", 1, 0, 6}, {"GET", "/zzz", 1, 0, 0},
    {"patch", "/a", 1, 0, 5},
};

START_TEST(route_choice)
{
    char err[CH_ERR_LEN];
    struct ch_case k;
    json_t *j = json_loads(
        "{\"id\":\"m\",\"server\":["
        "{\"method\":\"GET\",\"path\":\"/a\",\"nth\":2,\"line\":1,\"steps\":[]},"
        "{\"method\":\"GET\",\"path\":\"/a\",\"nth\":3,\"nth_plus\":true,\"line\":2,\"steps\":[]},"
        "{\"method\":\"GET\",\"path\":\"/a\",\"line\":3,\"steps\":[]},"
        "{\"method\":\"GET\",\"path\":\"/a\",\"origin\":\"B\",\"line\":4,\"steps\":[]},"
        "{\"method\":\"*\",\"path\":\"/a\",\"line\":5,\"steps\":[]},"
        "{\"method\":\"*\",\"path\":\"/ab\",\"prefix\":true,\"line\":6,\"steps\":[]}]}", 0, NULL);
    ck_assert_int_eq(ch_case_compile(&k, j, err), 0);
    const struct ch_route *r = ch_case_match(&k, match_rows[_i].method, match_rows[_i].path, match_rows[_i].origin,
                                             match_rows[_i].nth, NULL);
    ck_assert_int_eq(r ? r->line : 0, match_rows[_i].expect_line);
    ch_case_release(&k);
    json_decref(j);
}
END_TEST

/* `when NAME VALUE`: the route fits only a request whose first NAME field is exactly VALUE, and then beats the
 * routes without a condition, an exact nth included. */
static const struct {
    const char *head; /* "Name\0value\0" pairs, one field, or NULL for none */
    int nth, expect_line;
} when_rows[] = {
    {NULL, 2, 2}, {"If-None-Match\0\"v1\"", 2, 1}, {"if-none-match\0\"v1\"", 5, 1},
    {"If-None-Match\0\"v2\"", 2, 2}, {"If-None-Match\0\"v1\" ", 3, 3}, {"X-Other\0\"v1\"", 3, 3},
};

START_TEST(when_route)
{
    char err[CH_ERR_LEN], head[64];
    struct ch_case k;
    json_t *j = json_loads(
        "{\"id\":\"w\",\"server\":["
        "{\"method\":\"GET\",\"path\":\"/r\",\"when\":{\"name\":\"If-None-Match\",\"value\":\"\\\"v1\\\"\"},\"line\":1,\"steps\":[]},"
        "{\"method\":\"GET\",\"path\":\"/r\",\"nth\":2,\"line\":2,\"steps\":[]},"
        "{\"method\":\"GET\",\"path\":\"/r\",\"line\":3,\"steps\":[]}]}", 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(ch_case_compile(&k, j, err), 0);
    struct ch_header field = {0, 0, 0, 0};
    struct ch_request req = {.head = head, .fields = &field, .nfields = 0};
    if (when_rows[_i].head) {
        size_t nl = strlen(when_rows[_i].head), vl = strlen(when_rows[_i].head + nl + 1);
        memcpy(head, when_rows[_i].head, nl + vl + 2);
        field = (struct ch_header){0, (uint32_t)nl, (uint32_t)nl + 1, (uint32_t)vl};
        req.nfields = 1;
    }
    const struct ch_route *r = ch_case_match(&k, "GET", "/r", 0, when_rows[_i].nth, when_rows[_i].head ? &req : NULL);
    ck_assert_int_eq(r ? r->line : 0, when_rows[_i].expect_line);
    ch_case_release(&k);
    json_decref(j);
}
END_TEST

START_TEST(unknown_op_is_refused)
{
    char err[CH_ERR_LEN];
    struct ch_case k;
    json_t *j = json_loads("{\"id\":\"m\",\"server\":[{\"method\":\"GET\",\"path\":\"/a\",\"line\":1,"
                           "\"steps\":[{\"op\":\"teleport\",\"line\":2}]}]}", 0, NULL);
    ck_assert_int_eq(ch_case_compile(&k, j, err), -1);
    ck_assert_str_eq(err, "m: line 2: no engine runs the server step 'teleport'");
    ch_case_release(&k);
    json_decref(j);
}
END_TEST

/* A case's precision (runs.c shares timing cases by it): its deadline, lowered by a shorter scripted wait; 0 when
 * its client opens a synchronous request, which blocks the page process every case beside it shares, or when it is
 * tagged `alone`. */
static const struct {
    const char *client;
    int expect_ms;
    const char *tags;
} precision_rows[] = {
    {"{\"steps\":[{\"obj\":\"x\",\"op\":\"open\",\"async\":true}]}", 15000, "[\"timing\"]"},
    {"{\"steps\":[{\"obj\":\"x\",\"op\":\"open\",\"async\":true}]}", 0, "[\"timing\",\"alone\"]"},
    {"{\"steps\":[{\"obj\":\"x\",\"op\":\"wait\",\"ms\":6000}]}", 6000, "[]"},
    {"{\"steps\":[{\"obj\":\"x\",\"op\":\"wait\",\"ms\":6000},{\"obj\":\"x\",\"op\":\"open\",\"async\":false}]}", 0, "[]"},
};

START_TEST(precision)
{
    char text[512];
    snprintf(text, sizeof text, "{\"id\":\"p\",\"deadline_ms\":15000,\"tags\":%s,\"client\":%s}",
             precision_rows[_i].tags, precision_rows[_i].client);
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(ch_case_precision_ms(j), precision_rows[_i].expect_ms);
    json_decref(j);
}
END_TEST

int main(void)
{
    return ch_check_main("route", 0, CH_LOOPS(CH_LOOP(route_choice, match_rows), CH_LOOP(when_route, when_rows),
                                                  CH_LOOP(precision, precision_rows)),
                         CH_TESTS(unknown_op_is_refused));
}
