/* check_wpt.c — the WPT topic list loader (harness/case/wpt.c): a good list maps each file to its topic and its
 * reason not to run here; a bad list is refused with the topic and field named. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "case/case.h"
#include "core/core.h"
#include "testing/testing.h"

static char dir[64];

static const char *write_list(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/topics.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(good_list)
{
    char err[CH_ERR_LEN] = "";
    json_t *m = ch_wpt_load(write_list("{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\", \"xhr/b.htm\"],"
                                       " \"files_not_here\": {\"xhr/b.htm\": \"HTTP/2\"}},"
                                       " {\"id\": \"E26\", \"files\": [\"eventsource/w/c.js\"], \"not_here\": \"workers\"}]}"),
                            err);
    ck_assert_msg(m != NULL, "%s", err);
    ck_assert_int_eq(json_object_size(m), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "xhr/a.htm"), "topic")), "X01");
    ck_assert_ptr_null(json_object_get(json_object_get(m, "xhr/a.htm"), "not_here"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "xhr/b.htm"), "not_here")), "HTTP/2");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(m, "eventsource/w/c.js"), "not_here")), "workers");
    json_decref(m);
}
END_TEST

static const struct bad {
    const char *text, *error; /* error: what the message must contain */
} bad[] = {
    {"{\"topics\": [", "topics.json:1:"},
    {"{\"topic\": []}", "has no \"topics\" array"},
    {"{\"topics\": [{\"files\": [\"xhr/a.htm\"]}]}", "topic 1 has no \"id\" string"},
    {"{\"topics\": [{\"id\": \"X01\"}]}", "topic X01 has no \"files\""},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": []}]}", "topic X01 has no \"files\""},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"../a.htm\"]}]}", "topic X01: file 1 is not a WPT path"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a b.htm\"]}]}", "topic X01: file 1 is not a WPT path"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"/xhr/a.htm\"]}]}", "topic X01: file 1 is not a WPT path"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\"]}, {\"id\": \"X02\", \"files\": [\"xhr/a.htm\"]}]}",
     "xhr/a.htm is in topics X01 and X02"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\"], \"not_here\": \"\"}]}", "\"not_here\" is a non-empty string"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\"], \"files_not_here\": {\"xhr/z.htm\": \"x\"}}]}",
     "files_not_here names xhr/z.htm, which is not one of its files"},
    {"{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\"], \"files_not_here\": {\"xhr/a.htm\": 3}}]}",
     "files_not_here[xhr/a.htm] is a non-empty string"},
};

START_TEST(bad_list)
{
    char err[CH_ERR_LEN] = "";
    json_t *m = ch_wpt_load(write_list(bad[_i].text), err);
    ck_assert_msg(m == NULL, "row %d: accepted", _i);
    ck_assert_msg(strstr(err, bad[_i].error) != NULL, "row %d: %s", _i, err);
}
END_TEST

START_TEST(missing_list)
{
    char err[CH_ERR_LEN] = "";
    ck_assert_ptr_null(ch_wpt_load("/nonexistent/topics.json", err));
    ck_assert_msg(strstr(err, "/nonexistent/topics.json") != NULL, "%s", err);
}
END_TEST

START_TEST(path_from_environment)
{
    setenv("CH_WPT_TOPICS", "/x/t.json", 1);
    ck_assert_str_eq(ch_wpt_topics_path(), "/x/t.json");
    setenv("CH_WPT_TOPICS", "", 1);
    ck_assert_str_eq(ch_wpt_topics_path(), "cases/wpt/topics.json");
    unsetenv("CH_WPT_TOPICS");
    ck_assert_str_eq(ch_wpt_topics_path(), "cases/wpt/topics.json");
}
END_TEST

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/check_wpt_XXXXXX");
    if (!mkdtemp(dir)) abort();
    int rc = ch_check_main("wpt", 0, CH_LOOPS(CH_LOOP(bad_list, bad)),
                           CH_TESTS(good_list, missing_list, path_from_environment));
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) rc = EXIT_FAILURE;
    return rc;
}
