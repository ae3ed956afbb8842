/* check_ws_script.c — the parser's WebSocket words (harness/case/script_ws.c, the ws rows of script_server.c and
 * script_expect.c; cases/FORMAT.md §4.4 and §6.3): good lines and the JSON steps they must yield
 * (harness/MODEL.md §1.1, §1.3), bad lines and the exact first error each must yield. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case/case.h"
#include "testing/testing.h"

#define HEAD "case ws/t\ntitle T\nspec https://x.test/#a\n"
#define CLI "client websocket\n  new ws://{host-A}/c/{token}/x\n  await open\n"
#define EXP "expect client\n  never error\n"
#define SRV(steps) HEAD "server GET /x\n" steps CLI EXP   /* steps from line 5 */
#define EXPSRV(lines) HEAD "server GET /x\n  ws-accept\n" CLI EXP "expect server\n" lines /* lines from line 12 */

static const struct {
    const char *text, *path, *json;
} good[] = {
    {SRV("  ws-accept\n"), "server.0.steps", "[{\"op\":\"ws-accept\",\"line\":5}]"},
    {SRV("  wait 1s\n  ws-accept protocol chat extension \"x-a; b=1\" fault bad-accept fault no-upgrade\n"),
     "server.0.steps", "[{\"op\":\"wait\",\"ms\":1000},{\"op\":\"ws-accept\",\"protocol\":\"chat\",\"extension\":\"x-a; b=1\","
                       "\"faults\":[\"bad-accept\",\"no-upgrade\"]}]"},
    {SRV("  ws-accept header \"Set-Cookie: a={token}; Path=/\" protocol p header \"X-Y: z\"\n"), "server.0.steps.0",
     "{\"op\":\"ws-accept\",\"protocol\":\"p\",\"headers\":[\"Set-Cookie: a={token}; Path=/\",\"X-Y: z\"]}"},
    {SRV("  ws-accept\n  ws-send text \"hi {token}\"\n  ws-send binary hex 00FF\n  ws-send ping\n"),
     "server.0.steps", "[{},{\"op\":\"ws-send\",\"kind\":\"text\",\"text\":\"hi {token}\",\"line\":6},"
                       "{\"kind\":\"binary\",\"hex\":\"00ff\"},{\"kind\":\"ping\",\"text\":\"\"}]"},
    {SRV("  ws-accept\n  ws-send text \"a\\0b\" fin false rsv 4 opcode 3 masked\n"), "server.0.steps.1",
     "{\"kind\":\"text\",\"hex\":\"610062\",\"fin\":false,\"rsv\":4,\"opcode\":3,\"masked\":true}"},
    {SRV("  ws-accept\n  ws-send continuation hex ceff\n  ws-send pong \"p\" fin true\n"), "server.0.steps",
     "[{},{\"kind\":\"continuation\",\"hex\":\"ceff\"},{\"kind\":\"pong\",\"text\":\"p\",\"fin\":true}]"},
    {SRV("  ws-accept\n  ws-close 4001 \"bye\"\n  ws-close 1005 hex ff\n  ws-close 0\n  ws-close empty\n"
         "  ws-close raw hex 03\n"),
     "server.0.steps", "[{},{\"op\":\"ws-close\",\"form\":\"code\",\"code\":4001,\"text\":\"bye\"},"
                       "{\"form\":\"code\",\"code\":1005,\"hex\":\"ff\"},{\"form\":\"code\",\"code\":0},{\"form\":\"empty\"},"
                       "{\"form\":\"raw\",\"hex\":\"03\"}]"},
    {SRV("  ws-accept\n  ws-close 1000 \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
         "234567890123456789012345678901234567890123\" oversize\n"),
     "server.0.steps.1", "{\"form\":\"code\",\"code\":1000,\"oversize\":true}"},
    {SRV("  ws-accept\n  ws-echo\n  ws-echo off\n  ws-await message count 3\n  ws-await close\n"
         "  ws-on-close delay 500ms\n  ws-on-close ignore\n  send hex 8100\n  wait 10ms\n  hold\n"),
     "server.0.steps", "[{},{\"op\":\"ws-echo\",\"on\":true},{\"on\":false},{\"op\":\"ws-await\",\"what\":\"message\",\"count\":3},"
                       "{\"what\":\"close\",\"count\":1},{\"op\":\"ws-on-close\",\"policy\":\"delay\",\"ms\":500},"
                       "{\"policy\":\"ignore\"},{\"op\":\"send\"},{\"op\":\"wait\"},{\"op\":\"hold\"}]"},
    {SRV("  ws-accept\n  ws-await pong \"p{token}\"\n  ws-await ping hex 00ff count 2\n"),
     "server.0.steps", "[{},{\"op\":\"ws-await\",\"what\":\"pong\",\"text\":\"p{token}\",\"count\":1},"
                       "{\"what\":\"ping\",\"hex\":\"00ff\",\"count\":2}]"},
    {EXPSRV("  ws-close GET /x first=client client.code=null clean=true reason=\"r\"\n  ws-close #1 failed.code=1002\n"),
     "expect", "[{},{\"kind\":\"ws-close\",\"sel\":{\"method\":\"GET\",\"path\":\"/x\"},\"props\":{\"first\":\"client\","
               "\"client.code\":null,\"clean\":true,\"reason\":\"r\"},\"line\":12},{\"sel\":{\"index\":1},"
               "\"props\":{\"failed.code\":1002}}]"},
};

static const struct {
    const char *text, *error;
} bad[] = {
    {SRV("  ws-send text \"x\"\n"), "5:3: 'ws-send' before ws-accept"},
    {SRV("  status 101\n  ws-accept\n"), "6:3: ws-accept comes first (only wait may come before it)"},
    {SRV("  ws-accept\n  ws-accept\n"), "6:3: 'ws-accept' cannot follow ws-accept (ws-* words, wait, send, notify, close, reset, hold)"},
    {SRV("  ws-accept\n  status 200\n"), "6:3: 'status' cannot follow ws-accept (ws-* words, wait, send, notify, close, reset, hold)"},
    {SRV("  ws-accept\n  trickle 1 every 1ms\n"), "6:3: 'trickle' cannot follow ws-accept (ws-* words, wait, send, notify, close, reset, hold)"},
    {SRV("  ws-accept\n  close\n  ws-echo\n"), "7:3: no step may follow 'close'"},
    {SRV("  ws-accept fault bad\n"), "5:19: a fault is bad-accept, no-accept, no-upgrade or no-connection"},
    {SRV("  ws-accept protocol\n"), "5:13: write: ws-accept [protocol P] [extension E] [header \"NAME: VALUE\"]... [fault bad-accept|no-accept|no-upgrade|no-connection]..."},
    {SRV("  ws-accept header \"Set-Cookie:a\"\n"), "5:20: a header line \"NAME: VALUE\" (a token, a colon and a space; no CR, LF or NUL)"},
    {SRV("  ws-accept header \"X: a\\r\\nY: b\"\n"), "5:20: a header line \"NAME: VALUE\" (a token, a colon and a space; no CR, LF or NUL)"},
    {SRV("  ws-accept header \"X: {nope}\"\n"), "5:20: unknown placeholder {nope} in server text"},
    {SRV("  ws-accept protocol a protocol b\n"), "5:24: 'protocol' given twice"},
    {SRV("  ws-accept\n  ws-send frame \"x\"\n"), "6:11: write: ws-send text|binary|continuation|ping|pong [DATA] [options]"},
    {SRV("  ws-accept\n  ws-send text \"x\" rsv 8\n"), "6:24: RSV bits (0-7, RSV1 = 4) 8 is out of range 0-7"},
    {SRV("  ws-accept\n  ws-send text \"x\" fin no\n"), "6:24: fin true|false"},
    {SRV("  ws-accept\n  ws-send text \"x\" loud\n"), "6:20: unknown ws-send option (fin false, rsv N, opcode N, masked, oversize)"},
    {SRV("  ws-accept\n  ws-send text hex zz\n"), "6:20: 'z' is not a hex digit"},
    {SRV("  ws-accept\n  ws-send ping \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
         "23456789012345678901234567890123456789012345\"\n"),
     "6:3: a control frame payload of 126 bytes (over 125, RFC 6455 §5.5): add `oversize` if the case means it"},
    {SRV("  ws-accept\n  ws-close 1000 \"0123456789012345678901234567890123456789012345678901234567890123456789012345678901"
         "234567890123456789012345678901234567890123\"\n"),
     "6:3: a Close payload of 126 bytes (over 125, RFC 6455 §5.5): add `oversize` if the case means it"},
    {SRV("  ws-accept\n  ws-close\n"), "6:11: write: ws-close CODE [REASON] | ws-close empty | ws-close raw DATA (then oversize, if meant)"},
    {SRV("  ws-accept\n  ws-close 65536\n"), "6:12: close code (0-65535) 65536 is out of range 0-65535"},
    {SRV("  ws-accept\n  ws-close 1000 \"a\" \"b\"\n"), "6:21: unexpected words (write: ws-close CODE [REASON] | ws-close empty | ws-close raw DATA (then oversize, if meant))"},
    {SRV("  ws-accept\n  ws-close empty \"x\"\n"), "6:18: nothing follows 'empty'"},
    {SRV("  ws-accept\n  ws-echo maybe\n"), "6:11: on or off"},
    {SRV("  ws-accept\n  ws-await frame\n"),
     "6:12: write: ws-await message|close|ping|pong [count N] (ping and pong: [DATA] before count)"},
    {SRV("  ws-accept\n  ws-await message \"x\"\n"),
     "6:20: write: ws-await message|close|ping|pong [count N] (ping and pong: [DATA] before count)"},
    {SRV("  ws-accept\n  ws-await pong \"x\" 2\n"),
     "6:21: write: ws-await message|close|ping|pong [count N] (ping and pong: [DATA] before count)"},
    {SRV("  ws-accept\n  ws-await pong \"a\"*126\n"), "6:17: a pong payload is at most 125 bytes (RFC 6455 §5.5)"},
    {SRV("  ws-accept\n  ws-await close count 2\n"), "6:24: a client sends one Close: count 1"},
    {SRV("  ws-accept\n  ws-on-close delay\n"), "6:20: write: ws-on-close echo|ignore|delay DURATION"},
    {SRV("  ws-accept\n  ws-on-close delay 5\n"), "6:21: '5' is a number, not a duration (add ms or s)"},
    {EXPSRV("  ws-close GET /x\n"), "12:18: write: ws-close SELECTOR PROP=VALUE..."},
    {EXPSRV("  ws-close GET /x colour=red\n"),
     "12:19: 'colour' is not a field of the ws-close summary (first, code, reason, clean, handshake_completed, client.code, ...)"},
};

static void first_error(const json_t *errs, char *out, size_t n)
{
    const json_t *e = json_array_get(errs, 0);
    snprintf(out, n, "%d:%d: %s", (int)json_integer_value(json_object_get(e, "line")),
             (int)json_integer_value(json_object_get(e, "col")), json_string_value(json_object_get(e, "message")));
}

START_TEST(good_table)
{
    json_t *out = json_array(), *errs = json_array(), *want;
    json_error_t jerr;
    char text[1024];
    int n = ch_script_parse_text("t.case", good[_i].text, strlen(good[_i].text), "fixtures", out, errs);
    first_error(errs, text, sizeof text);
    ck_assert_msg(n == 0, "row %d: unexpected error %s", _i, text);
    want = json_loads(good[_i].json, JSON_DECODE_ANY, &jerr);
    ck_assert_msg(want != NULL, "row %d: bad expected JSON: %s", _i, jerr.text);
    json_t *got = walk(json_array_get(out, 0), good[_i].path);
    char *dump = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(nothing)");
    ck_assert_msg(subset(want, got), "row %d: at '%s' got %s", _i, good[_i].path, dump);
    free(dump);
    json_decref(want);
    json_decref(out);
    json_decref(errs);
}
END_TEST

START_TEST(bad_table)
{
    json_t *out = json_array(), *errs = json_array();
    char text[1024];
    int n = ch_script_parse_text("t.case", bad[_i].text, strlen(bad[_i].text), "fixtures", out, errs);
    first_error(errs, text, sizeof text);
    ck_assert_msg(n > 0, "row %d: no error (want %s)", _i, bad[_i].error);
    ck_assert_msg(!strcmp(text, bad[_i].error), "row %d:\n got  %s\n want %s", _i, text, bad[_i].error);
    json_decref(out);
    json_decref(errs);
}
END_TEST

int main(void)
{
    return ch_check_main("ws_script", 0, CH_LOOPS(CH_LOOP(good_table, good), CH_LOOP(bad_table, bad)), NULL);
}
