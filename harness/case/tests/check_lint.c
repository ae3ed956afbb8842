/* check_lint.c — the lint of `runner check` (harness/case/lint.c, cases/FORMAT.md §9): for every rule, a case that
 * triggers it (the exact error, at its line and column) and a case like it that does not (no error at all). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "testing/testing.h"

/* A case head (lines 1-3), a GET of /x (lines 4-5), an xhr that fetches it (lines 6-9). */
#define HEAD "case xhr/t\ntitle T\nspec https://x.test/#a\nserver GET /x\n  status 200\n"
#define XHR "client xhr\n  open GET {A}/x\n  send\n  await loadend\n"
/* An xhr case whose expect client lines start at line 11. */
#define CLIENT(lines) HEAD XHR "expect client\n" lines
/* The same with an extra client step (line 10) and expectations from line 12. */
#define CLIENT1(step, lines) HEAD "client xhr\n  open GET {A}/x\n  send\n  await loadend\n" step "expect client\n" lines
/* An xhr case whose expect server lines start at line 13. */
#define SERVER(lines) CLIENT("  never timeout\n") "expect server\n" lines
/* The end of every `exclusive` error. */
#define EXCL "one always fails, so the case can never PASS; keep the one the spec requires (readings it allows alike go in one line: `|`, N+)"
#define ES(lines) HEAD "client eventsource\n  new {A}/x\n  await message\nexpect client\n" lines /* from line 10 */

static const struct row {
    const char *rule, *text, *error; /* error: the first error, "" for none */
} rows[] = {
    /* unknown-property: final, at, an atom's key=value; read and watch record more */
    {"unknown-property", CLIENT("  final readystate=4\n"),
     "11:9: xhr 'xhr' records no property 'readystate' in its final state: did you mean 'readyState'?"},
    {"unknown-property", CLIENT("  final readyState=4 response.bytes=3\n"), ""},
    {"unknown-property", ES("  at message lastEventID=\"7\"\n"),
     "10:14: eventsource 'eventsource' records no property 'lastEventID' at 'message': did you mean 'lastEventId'?"},
    {"unknown-property", ES("  at message lastEventId=\"7\" readyState=1\n"), ""},
    {"unknown-property", CLIENT("  count progress(load=1) 1\n"),
     "11:18: xhr 'xhr' records no property 'load' at 'progress' (it records: readyState status statusText responseURL "
     "loaded total lengthComputable; `watch PROP` records another property at its events)"},
    {"unknown-property", CLIENT("  count progress(loaded=1) 1\n"), ""},
    {"unknown-property", CLIENT("  at load responseText=\"\"\n"),
     "11:11: xhr 'xhr' records no property 'responseText' at 'load' (it records: readyState status statusText responseURL "
     "loaded total lengthComputable; `watch PROP` records another property at its events)"},
    {"unknown-property", CLIENT1("  watch responseText\n", "  at load responseText=\"\"\n"), ""},
    {"unknown-property", CLIENT1("  read readyState as r\n", "  at read(r) status=0\n"),
     "12:14: xhr 'xhr' records no property 'status' at 'read': name it in a 'read' step first"},
    {"unknown-property", CLIENT1("  read status as r\n  get-header X-A\n", "  at read(r) status=0\n  never read(header:X-A=\"1\")\n"), ""},
    {"unknown-property", CLIENT1("  get-header \"X \" as sp\n  same response response as two\n",
                                 "  at read(sp) header=null\n  at read(two) same=true\n"), ""},
    {"unknown-property", CLIENT1("  get-header \"X \" as sp\n", "  at read(sp) header:X=null\n"),
     "12:15: xhr 'xhr' records no property 'header:X' at 'read': name it in a 'read' step first"},
    {"unknown-property", CLIENT1("  read status as r\n", "  at read(r) order=1\n"),
     "12:14: xhr 'xhr' records no property 'order' at 'read': name it in a 'read' step first"},
    {"unknown-property", CLIENT("  at exception name=\"TypeError\" message=\"m\"\n  never skipped(reason=\"r\")\n"), ""},
    /* unheard-event: an event whose step the program lacks */
    {"unheard-event", CLIENT("  never upload.loadstart\n"),
     "11:9: xhr 'xhr' never records 'upload.loadstart': its program has no 'listen upload' step (add it, before the "
     "step that can fire the event, or drop this atom: a check on it can never fail)"},
    {"unheard-event", HEAD "client xhr\n  open POST {A}/x\n  listen upload\n  send text \"a\"\n  await loadend\n"
                      "expect client\n  never upload.error\n", ""},
    {"unheard-event", HEAD "client script\n  load {A}/x\n  await .\nexpect client\n  never callback\n",
     "10:9: script 'script' never records 'callback': its program has no 'load URL callback NAME' step (add it, "
     "before the step that can fire the event, or drop this atom: a check on it can never fail)"},
    {"unheard-event", HEAD "client script\n  load {A}/x callback f\n  await .\nexpect client\n  never callback\n", ""},
    {"unheard-event", HEAD "client xhr\n  open GET {A}/x\n  await upload.load\n  send\nexpect client\n  never load\n",
     "8:9: xhr 'xhr' never records 'upload.load': its program has no 'listen upload' step (add it, before the step that "
     "can fire the event, or drop this atom: a check on it can never fail)"},
    {"unheard-event", HEAD "client img\n  wait 10ms\nclient xhr\n  open GET {A}/x\n  send\nexpect client img\n  never error\n",
     "12:9: img 'img' never records 'error': its program has no 'load URL' step (add it, before the step that can fire "
     "the event, or drop this atom: a check on it can never fail)"},
    {"unheard-event", HEAD "client img\n  load {A}/x\nexpect client img\n  never error\n", ""},
    {"unheard-event", HEAD "client http\n  wait 10ms\nexpect client\n  never error\n",
     "9:9: http 'http' never records 'error': its program has no 'request' step (add it, before the step that can fire "
     "the event, or drop this atom: a check on it can never fail)"},
    /* matches-anything */
    {"matches-anything", CLIENT("  events .*\n"),
     "11:10: this pattern matches every event sequence, so the check can never fail: write the events it must see "
     "(`.*` only around them)"},
    {"matches-anything", CLIENT("  events (load | .)* .?\n"),
     "11:10: this pattern matches every event sequence, so the check can never fail: write the events it must see "
     "(`.*` only around them)"},
    {"matches-anything", CLIENT("  events .* | load\n"),
     "11:10: this pattern matches every event sequence, so the check can never fail: write the events it must see "
     "(`.*` only around them)"},
    {"matches-anything", CLIENT("  events .* load .*\n  events .+\n  events (load | error)*\n"), ""},
    {"matches-anything", CLIENT("  count load 0+\n"),
     "11:14: '0+' holds for every sequence, so the check can never fail: write N+ with N >= 1, or an exact count"},
    {"matches-anything", CLIENT("  count load 0\n  count progress 1+\n"), ""},
    /* cannot-fail: a section of SHOULD lines; informational says why, and only there */
    {"cannot-fail", SERVER("  requests GET /x\n    rule \"should\"\n    level should\n"),
     "12:1: every line of this section is SHOULD, so it can never FAIL: grade the line the spec requires MUST, or say "
     "why it is informational (a line `informational \"WHY\"` in the section)"},
    {"cannot-fail", SERVER("  informational \"the text only says should\"\n  requests GET /x\n    rule \"should\"\n"
                           "    level should\n"), ""},
    {"cannot-fail", SERVER("  informational \"why\"\n  requests GET /x\n"),
     "13:3: 'informational' marks a section that can never FAIL, but line 14 is MUST (drop 'informational')"},
    {"cannot-fail", SERVER("  requests GET /x\n  count GET /x 1\n    rule \"should\"\n    level should\n"), ""},
    /* exclusive: lines that cannot both hold */
    {"exclusive", SERVER("  requests GET /x\n  requests GET /x, GET /x\n"),
     "14:3: this line and line 13 cannot both hold (two different exact request lists): " EXCL},
    {"exclusive", SERVER("  requests GET /x\n  requests #1\n  count GET /x 1\n"), ""},
    {"exclusive", SERVER("  requests GET /x\n  count GET /x 2\n"),
     "14:3: this line and line 13 cannot both hold (a request list and a count that disagree): " EXCL},
    {"exclusive", CLIENT("  count load 1\n  count load 2\n"),
     "12:3: this line and line 11 cannot both hold (two counts of one event that disagree): " EXCL},
    {"exclusive", CLIENT("  count load 1\n  count load 1+\n  count error 0\n"), ""},
    {"exclusive", CLIENT("  final status=200\n  final status=0\n"),
     "12:3: this line and line 11 cannot both hold (two final values of one property): " EXCL},
    /* absent-vacuous */
    {"absent-vacuous", SERVER("  header GET /x Cookie absent\n"),
     "13:17: 'Cookie absent' can never fail: no cookie is stored (no Set-Cookie, no cors `cookie` line) (check it where "
     "the case gives the client a reason to send it, or drop the line)"},
    {"absent-vacuous", "case xhr/t\ntitle T\nspec https://x.test/#a\nserver GET /x\n  status 200\n"
                       "  header Set-Cookie: a=1\n" XHR "expect server\n  header GET /x Cookie absent\n", ""},
    {"absent-vacuous", SERVER("  header GET /x X-A absent\n"),
     "13:17: 'X-A absent' can never fail: no step of the case sets it, and it is not a header a client adds by itself "
     "(check it where the case gives the client a reason to send it, or drop the line)"},
    {"absent-vacuous", HEAD "client xhr\n  open GET {A}/x\n  header x-a 1\n  send\nexpect server\n  header GET /x X-A absent\n",
     ""},
    {"absent-vacuous", SERVER("  header GET /x Last-Event-ID absent\n"),
     "13:17: 'Last-Event-ID absent' can never fail: the case has no eventsource (check it where the case gives the "
     "client a reason to send it, or drop the line)"},
    {"absent-vacuous", SERVER("  header GET /x Origin absent\n  header GET /x Content-Type absent\n"
                              "  header GET /x Sec-Fetch-Mode absent\n"), ""},
    {"absent-vacuous", SERVER("  header GET /x Authorization absent\n"),
     "13:17: 'Authorization absent' can never fail: no credentials are given (no `open ... user U password P`, no "
     "WWW-Authenticate challenge) (check it where the case gives the client a reason to send it, or drop the line)"},
    {"absent-vacuous", HEAD "client xhr\n  open GET {A}/x user u password p\n  send\nexpect server\n"
                       "  header GET /x Authorization absent\n", ""},
    /* unquoted-level: SHOULD lines and MUST time bounds quote their normative word */
    {"unquoted-level", CLIENT("  never error\n    level should\n"),
     "12:5: a SHOULD line quotes the normative word it rests on in its rule (the spec's \"should\", \"may\", "
     "\"optionally\"...): add a rule \"...\" that does"},
    {"unquoted-level", CLIENT("  never error\n    rule \"a UA may retry\"\n    level should\n  never timeout\n"), ""},
    {"unquoted-level", CLIENT("  within loadstart load 1s +- 100ms\n"),
     "11:3: a MUST time bound with an upper end quotes the normative word it rests on in its rule (\"must\", ...); a "
     "spec that sets no upper limit is at most `level should`, and a lower bound alone is `>= DURATION`"},
    {"unquoted-level", CLIENT("  within loadstart load <= 1s\n    rule \"fires at once\"\n"),
     "12:5: a MUST time bound with an upper end quotes the normative word it rests on in its rule (\"must\", ...); a "
     "spec that sets no upper limit is at most `level should`"},
    {"unquoted-level", SERVER("  interval request(GET /x) end(GET /x) >= 1s\n"),
     "13:3: a MUST time bound quotes the normative word it rests on in its rule (\"must\", ...); a spec that sets no "
     "such limit is at most `level should`"},
    {"unquoted-level", SERVER("  interval request(GET /x) end(GET /x) >= 1s\n    rule \"it MUST wait\"\n"
                              "  interval request(GET /x) end(GET /x) 1s +- 1s\n    rule \"mustard\"\n    level should\n"),
     "16:5: a SHOULD line quotes the normative word it rests on in its rule (the spec's \"should\", \"may\", "
     "\"optionally\"...): add a rule \"...\" that does"},
};

START_TEST(lint_table)
{
    const struct row *r = &rows[_i];
    json_t *out = json_array(), *errs = json_array();
    ch_script_parse_text("t.case", r->text, strlen(r->text), "fixtures", out, errs);
    char got[1024] = "";
    const json_t *e = json_array_get(errs, 0);
    if (e)
        snprintf(got, sizeof got, "%d:%d: %s", (int)json_integer_value(json_object_get(e, "line")),
                 (int)json_integer_value(json_object_get(e, "col")), json_string_value(json_object_get(e, "message")));
    ck_assert_msg(strcmp(got, r->error) == 0, "row %d (%s):\n  want %s\n  got  %s", _i, r->rule, r->error[0] ? r->error : "(none)",
                  got[0] ? got : "(none)");
    if (!r->error[0]) ck_assert_msg(json_array_size(out) == 1, "row %d (%s): no case", _i, r->rule);
    json_decref(out);
    json_decref(errs);
}
END_TEST

int main(void)
{
    return ch_check_main("lint", 0, CH_LOOPS(CH_LOOP(lint_table, rows)), CH_TESTS(NULL));
}
