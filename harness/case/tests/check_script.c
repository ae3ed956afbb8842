/* check_script.c — table tests of the case parser (harness/case/script*.c): good case texts and the JSON fragment
 * each must yield (MODEL.md §1), bad case texts and the exact first error each must yield (FORMAT.md). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "case/case.h"
#include "testing/testing.h"

/* Building blocks: HEAD is lines 1-3, CLI three lines, EXP two lines. */
#define HEAD "case xhr/t\ntitle T\nspec https://x.test/#a\n"
#define CLI "client xhr\n  open GET {A}/x\n  send\n"
#define EXP "expect client\n  never load\n"
#define SRV(steps) HEAD "server GET /x\n" steps CLI EXP     /* steps from line 5 */
#define CLIENT(sec) HEAD sec EXP                             /* the section from line 4 */
#define EXPECT(lines) HEAD CLI "expect client\n" lines       /* lines from line 8 */
#define EXPSRV(lines) HEAD CLI EXP "expect server\n" lines   /* lines from line 10 */

static char fixtures[256];
static char topics[300]; /* the WPT topic list the rows use (CH_WPT_TOPICS) */

/* ---- good inputs: PATH into the first case, and a JSON fragment that must be a subset of what is there */

static const struct good {
    const char *text, *path, *json;
} good[] = {
    /* meta (§2) */
    {HEAD CLI EXP, "", "{\"id\":\"xhr/t\",\"title\":\"T\",\"spec\":[\"https://x.test/#a\"],\"tags\":[],\"needs\":[\"xhr\"],"
                       "\"deadline_ms\":10000,\"settle_ms\":200,\"page\":\"A\",\"source\":{\"file\":\"t.case\",\"line\":1},"
                       "\"server\":[],\"client\":{\"handlers\":[]}}"},
    {"# comment\n\ncase   xhr/a.b/c_d-1\ntitle  Two  words\nspec https://x.test/#frag\ntags headline timing\n"
     "needs cors cookies\ndeadline 5s\nsettle 0ms\npage B\n" CLI EXP,
     "", "{\"id\":\"xhr/a.b/c_d-1\",\"title\":\"Two  words\",\"tags\":[\"headline\",\"timing\"],"
         "\"needs\":[\"cookies\",\"cors\",\"page-b\",\"xhr\"],\"deadline_ms\":5000,\"settle_ms\":0,\"page\":\"B\","
         "\"source\":{\"line\":3}}"},
    {HEAD "spec https://x.test/#b\ndeadline 1.5s\n" CLI EXP, "", "{\"spec\":[\"https://x.test/#a\",\"https://x.test/#b\"],\"deadline_ms\":1500}"},
    /* the TLS origins (§1.8, §2): a TLS page or placeholder implies tls (and the tag), D host-d */
    {HEAD "page SA\n" CLI EXP, "", "{\"tags\":[\"tls\"],\"needs\":[\"page-sa\",\"tls\",\"xhr\"],\"page\":\"SA\"}"},
    {HEAD "page B sandboxed\n" CLI EXP, "", "{\"needs\":[\"page-b\",\"page-opaque\",\"xhr\"],\"page\":\"B\",\"page_sandboxed\":true}"},
    {HEAD "page A sandboxed\n" CLI EXP, "", "{\"needs\":[\"page-opaque\",\"xhr\"],\"page\":\"A\",\"page_sandboxed\":true}"},
    /* `page X windows-1252`: a windows-1252 case page, a document (library clients have none) */
    {HEAD "page A windows-1252\n" CLI EXP, "", "{\"needs\":[\"document\",\"xhr\"],\"page\":\"A\",\"page_encoding\":\"windows-1252\"}"},
    {HEAD "page B windows-1252 sandboxed\n" CLI EXP, "",
     "{\"needs\":[\"document\",\"page-b\",\"page-opaque\",\"xhr\"],\"page\":\"B\",\"page_sandboxed\":true,\"page_encoding\":\"windows-1252\"}"},
    {HEAD "tags tls timing\npage D\n" CLI EXP, "", "{\"tags\":[\"tls\",\"timing\"],\"needs\":[\"host-d\",\"page-d\",\"xhr\"]}"},
    /* `global worker` (§2): the program runs in a dedicated worker, which implies the capability worker */
    {HEAD "global worker\n" CLI EXP, "", "{\"global\":\"worker\",\"needs\":[\"worker\",\"xhr\"]}"},
    {HEAD "global window\n" CLI EXP, "", "{\"needs\":[\"xhr\"]}"}, /* the default: no "global" key (script.c) */
    /* `global worker from PATH`: the worker is started at the case's route PATH, on the page's origin */
    {HEAD "global worker from /w\nserver GET /w\n  status 302\n" CLI EXP, "",
     "{\"global\":\"worker\",\"worker_from\":\"/w\",\"needs\":[\"worker\",\"xhr\"]}"},
    {HEAD "page B\nglobal worker from /w\nserver GET /w origin B\n  status 302\n" CLI EXP, "",
     "{\"global\":\"worker\",\"worker_from\":\"/w\"}"},
    {HEAD "client xhr\n  open GET {SF-expired}/x\n  send\n" EXP, "", "{\"tags\":[\"tls\"],\"needs\":[\"tls\",\"xhr\"]}"},
    {HEAD "client websocket\n  new wss://{host-SC}/c/{token}/w\nexpect client\n  never open\n", "",
     "{\"needs\":[\"tls\",\"websocket\"]}"},
    {HEAD "client xhr\n  open GET {D}/x\n  send\n" EXP, "", "{\"tags\":[\"tls\"],\"needs\":[\"host-d\",\"xhr\"]}"},
    {HEAD "server GET /x origin SB\n  status 200\n  header X: {origin-SA}\n" CLI EXP, "",
     "{\"needs\":[\"tls\",\"xhr\"],\"server\":[{\"origin\":\"SB\"}]}"},
    {SRV("  status 200\n  body \"a\"\n  notify\n  wait 1s\n  close bare\n"), "server.0.steps",
     "[{},{},{\"op\":\"notify\",\"line\":7},{\"op\":\"wait\"},{\"op\":\"close\",\"bare\":true,\"line\":9}]"},
    {SRV("  ws-accept\n  notify\n  hold\n"), "server.0.steps", "[{\"op\":\"ws-accept\"},{\"op\":\"notify\"},{\"op\":\"hold\"}]"},
    {HEAD CLI EXP, "wpt", "[]"},
    {HEAD "wpt xhr/a.htm xhr/sub/b.any.js\nwpt eventsource/c.htm\n" CLI EXP, "wpt",
     "[\"xhr/a.htm\",\"xhr/sub/b.any.js\",\"eventsource/c.htm\"]"},
    /* server sections (§4) */
    {SRV("  status 200 OK\n"), "server.0", "{\"method\":\"GET\",\"path\":\"/x\",\"prefix\":false,\"nth\":null,"
                                           "\"nth_plus\":false,\"origin\":null,\"line\":4,"
                                           "\"steps\":[{\"op\":\"status\",\"code\":200,\"reason\":\"OK\",\"line\":5}]}"},
    {HEAD "server GET /r when If-None-Match \"\\\"v1\\\"\"\n  status 304\nserver GET /r when if-none-match \"\\\"v2\\\"\"\n"
          "  status 304\nserver GET /r nth 2 origin B when X-A 1\n  status 200\nserver GET /r\n  status 200\n" CLI EXP,
     "server", "[{\"when\":{\"name\":\"If-None-Match\",\"value\":\"\\\"v1\\\"\"}},{\"when\":{\"name\":\"if-none-match\"}},"
               "{\"nth\":2,\"origin\":\"B\",\"when\":{\"name\":\"X-A\",\"value\":\"1\"}},{\"nth\":null}]"},
    {SRV("  status 599 Weird  Reason\n"), "server.0.steps.0", "{\"code\":599,\"reason\":\"Weird  Reason\"}"},
    {SRV("  status 0\n"), "server.0.steps.0", "{\"code\":0,\"reason\":\"\"}"},
    {SRV("  status 200\n  header Content-Type: text/plain; charset=utf-8\n"), "server.0.steps.1",
     "{\"op\":\"header\",\"name\":\"Content-Type\",\"value\":\"text/plain; charset=utf-8\",\"line\":6}"},
    {SRV("  status 200\n  header X-Empty:\n"), "server.0.steps.1", "{\"name\":\"X-Empty\",\"value\":\"\"}"},
    {SRV("  status 200\n  header Access-Control-Allow-Origin: {origin-A}\n  header X-R: {req:Origin} {{x}}\n"),
     "server.0.steps.2", "{\"value\":\"{req:Origin} {{x}}\"}"},
    {SRV("  status 200\n  header-raw \"X-Fold: a\\r\\n b\"\n"), "server.0.steps.1",
     "{\"op\":\"header-raw\",\"text\":\"X-Fold: a\\r\\n b\"}"},
    {SRV("  status 200\n  body \"h\\u{e9}llo\\n\"\n"), "server.0.steps.1", "{\"op\":\"body\",\"text\":\"h\\u00e9llo\\n\"}"},
    {SRV("  status 200\n  body \"a\\0b\\xff{{\"\n"), "server.0.steps.1", "{\"op\":\"body\",\"hex\":\"610062ff7b\"}"},
    {SRV("  status 200\n  body hex 48 65 6C\n"), "server.0.steps.1", "{\"op\":\"body\",\"hex\":\"48656c\"}"},
    {SRV("  status 200\n  body gen 100 chunks 10 20\n  chunk-end\n"), "server.0.steps",
     "[{},{\"op\":\"body\",\"gen\":100,\"chunks\":[10,20]},{\"op\":\"chunk-end\"}]"},
    {SRV("  status 200\n  body file a.txt chunks 3\n"), "server.0.steps.1", "{\"file\":\"a.txt\",\"chunks\":[3]}"},
    {SRV("  status 200\n  chunk \"hello\"\n  chunk hex 00ff\n  chunk gen 7\n  echo\n"), "server.0.steps",
     "[{},{\"op\":\"chunk\",\"text\":\"hello\"},{\"op\":\"chunk\",\"hex\":\"00ff\"},{\"op\":\"chunk\",\"gen\":7},{\"op\":\"echo\"}]"},
    {SRV("  send \"HTTP/1.1 200 OK\\r\\n\"\n  send hex 0d0a\n  shutdown\n  wait 1.5s\n  reset\n"), "server.0.steps",
     "[{\"op\":\"send\",\"text\":\"HTTP/1.1 200 OK\\r\\n\"},{\"op\":\"send\",\"hex\":\"0d0a\"},{\"op\":\"shutdown\"},"
     "{\"op\":\"wait\",\"ms\":1500},{\"op\":\"reset\"}]"},
    {SRV("  wait 0ms\n  trickle 5 every 100ms\n  status 200\n  trickle off\n  body \"x\"\n  hold\n"), "server.0.steps",
     "[{\"op\":\"wait\",\"ms\":0},{\"op\":\"trickle\",\"bytes\":5,\"ms\":100},{},{\"op\":\"trickle-off\"},{},{\"op\":\"hold\"}]"},
    {SRV("  close\n"), "server.0.steps", "[{\"op\":\"close\",\"line\":5}]"},
    {SRV("  status 200\n  header Content-Encoding: gzip\n  compress gzip\n  body \"x\"\n  compress off\n"),
     "server.0.steps", "[{},{},{\"op\":\"compress\",\"coding\":\"gzip\",\"line\":7},{},{\"op\":\"compress\",\"coding\":\"off\"}]"},
    {SRV("  compress deflate\n  status 200\n"), "server.0.steps.0", "{\"op\":\"compress\",\"coding\":\"deflate\"}"},
    {SRV("  status 200\n  sse-event retry 400ms id 1 data \"a\" \"b\\nc\" eol crlf\n  sse-event retry \"0{ms:400}\" event e\n"
         "  sse-field \"\\u{FEFF}data\" x\n  sse-field id\n  sse-comment\n  sse-comment \"keep\" eol cr\n  sse-line \"data:x\"\n"
         "  sse-dispatch eol lf\n  close\n"),
     "server.0.steps", "[{},{\"op\":\"sse-event\",\"fields\":[[\"retry\",400],[\"id\",\"1\"],[\"data\",\"a\"],[\"data\",\"b\\nc\"]],"
                       "\"eol\":\"crlf\"},{\"fields\":[[\"retry\",\"0{ms:400}\"],[\"event\",\"e\"]]},"
                       "{\"op\":\"sse-field\",\"name\":\"\\ufeffdata\",\"value\":\"x\"},{\"op\":\"sse-field\",\"name\":\"id\"},"
                       "{\"op\":\"sse-comment\"},{\"op\":\"sse-comment\",\"value\":\"keep\",\"eol\":\"cr\"},"
                       "{\"op\":\"sse-line\",\"value\":\"data:x\"},{\"op\":\"sse-dispatch\",\"eol\":\"lf\"},{\"op\":\"close\"}]"},
    {HEAD "server GET /x* nth 2+ origin B\n  close\n" CLI EXP, "server.0",
     "{\"method\":\"GET\",\"path\":\"/x\",\"prefix\":true,\"nth\":2,\"nth_plus\":true,\"origin\":\"B\"}"},
    {HEAD "server * /a\n  close\nserver GET /s nth 1\n  close\nserver GET /s nth 2+\n  close\n"
          "server GET /t origin C\n  close\n" CLI EXP,
     "server", "[{\"method\":\"*\"},{\"nth\":1,\"nth_plus\":false},{\"nth\":2},{\"origin\":\"C\"}]"},
    /* client sections (§5) */
    {CLIENT("client xhr\n  open GET {A}/x sync user u password \"p w\"\n"), "client.steps",
     "[{\"obj\":\"xhr\",\"op\":\"new\",\"line\":4},{\"obj\":\"xhr\",\"op\":\"open\",\"method\":\"GET\",\"url\":\"{A}/x\","
     "\"async\":false,\"user\":\"u\",\"password\":\"p w\",\"line\":5}]"},
    {CLIENT("client xhr\n  open GET {A}/x sync\n"), "needs", "[\"xhr\",\"xhr-sync\"]"},
    {CLIENT("client xhr\n  open patch {B}/x#frag\n  header X-Test \"a b\"\n  mime text/xml\n"), "client.steps",
     "[{},{\"method\":\"patch\",\"url\":\"{B}/x#frag\"},{\"op\":\"header\",\"name\":\"X-Test\",\"value\":\"a b\"},"
     "{\"op\":\"mime\",\"type\":\"text/xml\"}]"},
    {CLIENT("client xhr\n  set timeout 300ms\n  set responseType json\n  set responseType \"\"\n"
            "  set responseType \"bogus\"\n  set withCredentials true\n"),
     "client.steps", "[{},{\"op\":\"set\",\"prop\":\"timeout\",\"ms\":300},{\"prop\":\"responseType\",\"value\":\"json\"},"
                     "{\"value\":\"\"},{\"value\":\"bogus\"},{\"prop\":\"withCredentials\",\"value\":true}]"},
    {CLIENT("client xhr\n  open POST {A}/u\n  listen upload\n  send text \"hi\"\n"), "",
     "{\"needs\":[\"xhr\",\"xhr-upload\"],\"client\":{\"steps\":[{},{},{\"op\":\"listen\",\"target\":\"upload\"},"
     "{\"op\":\"send\",\"body\":{\"type\":\"text\",\"value\":\"hi\"}}]}}"},
    {CLIENT("client xhr\n  send urlencoded \"a=1&b=2\"\n  send form a=\"1\" f=file:a.txt:text/plain:\"x\"\n"), "",
     "{\"needs\":[\"blob\",\"formdata\",\"xhr\"],\"client\":{\"steps\":[{},{\"body\":{\"type\":\"urlencoded\",\"value\":\"a=1&b=2\"}},"
     "{\"body\":{\"type\":\"form\",\"fields\":[{\"name\":\"a\",\"value\":\"1\"},"
     "{\"name\":\"f\",\"file\":{\"name\":\"a.txt\",\"type\":\"text/plain\",\"value\":\"x\"}}]}}]}}"},
    {CLIENT("client xhr\n  formdata form \"<form></form>\" submitter \"#s\"\n"), "",
     "{\"needs\":[\"document\",\"formdata\",\"xhr\"],\"client\":{\"steps\":[{},{\"method\":\"form\",\"html\":\"<form></form>\",\"submitter\":\"#s\"}]}}"},
    {CLIENT("client xhr\n  formdata form undefined submitter null\n  formdata form null\n  formdata form params:\"a=b\" submitter undefined\n"
            "  formdata form string:\"<form>\"\n  formdata form utf16:003CDC01 submitter s\n"), "",
     "{\"needs\":[\"document\",\"formdata\",\"xhr\"],\"client\":{\"steps\":[{},{\"method\":\"form\",\"html\":{\"undefined\":true},\"submitter\":null},"
     "{\"method\":\"form\",\"html\":null},{\"method\":\"form\",\"html\":{\"params\":\"a=b\"},\"submitter\":{\"undefined\":true}},"
     "{\"method\":\"form\",\"html\":{\"string\":\"<form>\"}},{\"method\":\"form\",\"html\":{\"utf16\":\"003CDC01\"},\"submitter\":\"s\"}]}}"},
    {CLIENT("client xhr\n  formdata append a \"s\" filename \"f n\"\n  formdata set b params:\"\" filename null\n"
            "  formdata set c fileobject:n.txt:text/plain:\"x\" filename g\n  formdata set d blob::\"y\" filename h\n"), "",
     "{\"needs\":[\"blob\",\"formdata\",\"xhr\"],\"client\":{\"steps\":[{},"
     "{\"method\":\"append\",\"name\":\"a\",\"value\":\"s\",\"filename\":\"f n\"},"
     "{\"method\":\"set\",\"name\":\"b\",\"params\":\"\",\"filename\":null},"
     "{\"method\":\"set\",\"name\":\"c\",\"blob\":{\"file\":\"n.txt\",\"type\":\"text/plain\",\"value\":\"x\",\"filename\":\"g\"}},"
     "{\"method\":\"set\",\"name\":\"d\",\"blob\":{\"type\":\"\",\"value\":\"y\",\"filename\":\"h\"}}]}}"},
    /* formdata steps (§5.1): mutations, reads as read(LABEL), `send formdata`; a blob value implies blob */
    {CLIENT("client xhr\n  formdata append a \"1\"\n  formdata set utf16:0061D800 null\n  formdata delete undefined\n"
            "  formdata append f file:x.txt:text/plain:\"c\"\n  formdata getall a as all\n"
            "  formdata iterate as it after a append b blob::\"z\"\n  send formdata\n"),
     "", "{\"needs\":[\"blob\",\"formdata\",\"xhr\"],\"client\":{\"steps\":[{},"
         "{\"op\":\"formdata\",\"method\":\"append\",\"name\":\"a\",\"value\":\"1\"},"
         "{\"method\":\"set\",\"name\":{\"utf16\":\"0061D800\"},\"value\":null},"
         "{\"method\":\"delete\",\"name\":{\"undefined\":true}},"
         "{\"method\":\"append\",\"name\":\"f\",\"blob\":{\"filename\":\"x.txt\",\"type\":\"text/plain\",\"value\":\"c\"}},"
         "{\"method\":\"getAll\",\"name\":\"a\",\"label\":\"all\"},"
         "{\"method\":\"iterate\",\"label\":\"it\",\"after\":\"a\",\"then\":{\"method\":\"append\",\"name\":\"b\","
         "\"blob\":{\"type\":\"\",\"value\":\"z\"}}},"
         "{\"op\":\"send\",\"body\":{\"type\":\"formdata\"}}]}}"},
    {CLIENT("client xhr\n  send blob \"x\" type text/plain\n  send blob hex 00 FF\n  send buffer hex 0001\n"
            "  send typed Int16Array hex 0100 0200\n"),
     "client.steps", "[{},{\"body\":{\"type\":\"blob\",\"value\":\"x\",\"mime\":\"text/plain\"}},{\"body\":{\"type\":\"blob\",\"hex\":\"00ff\"}},"
                     "{\"body\":{\"type\":\"buffer\",\"hex\":\"0001\"}},{\"body\":{\"type\":\"typed\",\"array\":\"Int16Array\",\"hex\":\"01000200\"}}]"},
    {CLIENT("client xhr\n  send object\n  send object tostring undefined\n  send object tostring throws FooError\n"
            "  send object tostring \"o\" calling open GET {A}/b sync\n"),
     "", "{\"needs\":[\"xhr\",\"xhr-sync\"],\"client\":{\"steps\":[{},{\"body\":{\"type\":\"object\"}},"
         "{\"body\":{\"type\":\"object\",\"tostring\":{\"returns\":{\"undefined\":true}}}},"
         "{\"body\":{\"type\":\"object\",\"tostring\":{\"throws\":\"FooError\"}}},"
         "{\"body\":{\"type\":\"object\",\"tostring\":{\"returns\":\"o\"},"
         "\"calling\":{\"op\":\"open\",\"method\":\"GET\",\"url\":\"{A}/b\",\"async\":false}}}]}}"},
    {CLIENT("client xhr\n  send document xml \"<r/>\"\n"), "",
     "{\"needs\":[\"document\",\"xhr\"],\"client\":{\"steps\":[{},{\"body\":{\"type\":\"document\",\"kind\":\"xml\",\"value\":\"<r/>\"}}]}}"},
    /* `open ... utf16 hex`: code units appended to the URL (a lone surrogate) */
    {CLIENT("client xhr\n  open GET \"{A}/r?\" sync utf16 hex D83D 0061\n"), "client.steps",
     "[{},{\"op\":\"open\",\"method\":\"GET\",\"url\":\"{A}/r?\",\"async\":false,\"url_utf16\":\"d83d0061\"}]"},
    {CLIENT("client xhr\n  send shared\n  send shared DataView\n"), "client.steps",
     "[{},{\"body\":{\"type\":\"shared\"}},{\"body\":{\"type\":\"shared\",\"array\":\"DataView\"}}]"},
    {CLIENT("client xhr\n  send document created\n  send document created element a:b attr a:b \"g\" attr x utf16 hex D800 0061\n"
            "  document-domain\n"), "",
     "{\"needs\":[\"document\",\"xhr\"],\"client\":{\"steps\":[{},{\"body\":{\"type\":\"document\",\"kind\":\"created\"}},"
     "{\"body\":{\"type\":\"document\",\"kind\":\"created\",\"element\":\"a:b\",\"attrs\":[{\"name\":\"a:b\",\"value\":\"g\"},"
     "{\"name\":\"x\",\"utf16\":\"d8000061\"}]}},{\"op\":\"document-domain\"}]}}"},
    {CLIENT("client xhr\n  open GET blob \"blah\" sync\n"), "",
     "{\"needs\":[\"blob\",\"xhr\",\"xhr-sync\"],\"client\":{\"steps\":[{},{\"op\":\"open\",\"method\":\"GET\",\"blob\":\"blah\",\"async\":false}]}}"},
    {HEAD "client websocket\n  new {A}/ws\n  send value null\n  send value 7\n  send utf16 hex 0061 D800\n"
          "  send blob hex 00ff\n  send binary \"ab\"*2\n  send typed Uint16Array hex 00010203 offset 2 length 1\n  send typed DataView hex 0001 offset 1\n"
          "  send value\n  send value [1,\"a\"]\n  send typed Float64Array hex 000000000000f03f\n"
          "expect client\n  never error\n",
     "client.steps", "[{},{\"body\":{\"type\":\"value\",\"values\":[null]}},{\"body\":{\"type\":\"value\",\"values\":[7]}},"
                     "{\"body\":{\"type\":\"utf16\",\"hex\":\"0061d800\"}},{\"body\":{\"type\":\"blob\",\"hex\":\"00ff\"}},"
                     "{\"body\":{\"type\":\"binary\",\"hex\":\"61626162\"}},"
                     "{\"body\":{\"type\":\"typed\",\"array\":\"Uint16Array\",\"hex\":\"00010203\",\"offset\":2,\"length\":1}},"
                     "{\"body\":{\"type\":\"typed\",\"array\":\"DataView\",\"hex\":\"0001\",\"offset\":1}},"
                     "{\"body\":{\"type\":\"value\",\"values\":[]}},{\"body\":{\"type\":\"value\",\"values\":[[1,\"a\"]]}},"
                     "{\"body\":{\"type\":\"typed\",\"array\":\"Float64Array\",\"hex\":\"000000000000f03f\"}}]"},
    {CLIENT("client xhr\n  abort\n  get-header Content-Type\n  all-headers\n  read readyState response.bytes as after-abort\n"
            "  read status\n"),
     "client.steps", "[{},{\"op\":\"abort\"},{\"op\":\"get-header\",\"name\":\"Content-Type\"},{\"op\":\"all-headers\"},"
                     "{\"op\":\"read\",\"props\":[\"readyState\",\"response.bytes\"],\"label\":\"after-abort\"},{\"props\":[\"status\"]}]"},
    /* `read ... of NAME`: a step of an earlier section's object, at this section's place (FORMAT.md §5). */
    {HEAD "client websocket ws\n  new {A}/w\n  send text \"a\"\nclient xhr\n  read bufferedAmount of ws as later\n"
          "  read status\nexpect client ws\n  at read(later) bufferedAmount=1\n",
     "client.steps", "[{},{},{\"obj\":\"xhr\",\"op\":\"new\"},"
                     "{\"obj\":\"ws\",\"op\":\"read\",\"props\":[\"bufferedAmount\"],\"label\":\"later\"},"
                     "{\"obj\":\"xhr\",\"props\":[\"status\"]}]"},
    {CLIENT("client xhr\n  open get {A}/x objects user u\n  get-header \" X\\n\" as odd\n  same response responseXML as twice\n"
            "  same response response\n"),
     "client.steps", "[{},{\"op\":\"open\",\"method\":\"get\",\"url\":\"{A}/x\",\"async\":true,\"objects\":true,\"user\":\"u\"},"
                     "{\"op\":\"get-header\",\"name\":\" X\\n\",\"label\":\"odd\"},"
                     "{\"op\":\"same\",\"props\":[\"response\",\"responseXML\"],\"label\":\"twice\"},"
                     "{\"op\":\"same\",\"props\":[\"response\",\"response\"]}]"},
    {CLIENT("client xhr\n  base {A}/sub/\n  open GET r\n"), "",
     "{\"needs\":[\"document\",\"xhr\"],\"client\":{\"steps\":[{},{\"op\":\"base\",\"url\":\"{A}/sub/\"},"
     "{\"op\":\"open\",\"url\":\"r\"}]}}"},
    {CLIENT("client xhr\n  watch responseText response.bytes\n  send utf16 hex 0061 D800 dc00\n"), "client.steps",
     "[{},{\"op\":\"watch\",\"props\":[\"responseText\",\"response.bytes\"]},"
     "{\"op\":\"send\",\"body\":{\"type\":\"utf16\",\"hex\":\"0061d800dc00\"}}]"},
    {CLIENT("client xhr\n  listen upload\n  await loadend count 2\n  await upload.progress(loaded=3)\n  wait 100ms\n"), "client.steps",
     "[{},{\"op\":\"listen\"},{\"op\":\"await\",\"event\":{\"type\":\"loadend\"},\"count\":2},"
     "{\"event\":{\"type\":\"upload.progress\",\"props\":{\"loaded\":3}},\"count\":1},{\"op\":\"wait\",\"ms\":100}]"},
    {CLIENT("client xhr\n  on readystatechange(2) abort\n  on load read status as at-load\n"), "client.handlers",
     "[{\"obj\":\"xhr\",\"event\":{\"type\":\"readystatechange\",\"arg\":2},\"step\":{\"op\":\"abort\"},\"line\":5},"
     "{\"event\":{\"type\":\"load\"},\"step\":{\"op\":\"read\",\"props\":[\"status\"],\"label\":\"at-load\"}}]"},
    /* `block DURATION` (§5): a long task, for every kind */
    {CLIENT("client xhr\n  send\n  block 1s\n"), "client.steps", "[{},{\"op\":\"send\"},{\"op\":\"block\",\"ms\":1000}]"},
    {HEAD "client eventsource es\n  new {A}/s credentials\n  listen ping pong\n  await ping\n  close\n"
          "expect client es\n  count ping 1+\n",
     "client", "{\"objects\":[{\"name\":\"es\",\"kind\":\"eventsource\"}],\"steps\":[{\"obj\":\"es\",\"op\":\"new\",\"url\":\"{A}/s\","
               "\"credentials\":true,\"line\":5},{\"op\":\"listen\",\"events\":[\"ping\",\"pong\"]},{\"event\":{\"type\":\"ping\"}},"
               "{\"op\":\"close\"}]}"},
    {HEAD "client websocket\n  new {A}/ws protocol a \"b c\"\n  set binaryType arraybuffer\n  send text \"x\"\n"
          "  send binary hex 0102\n  close 1000 \"bye\"\n  close value null \"1000\" 1.5 true undefined\n  close\n"
          "  close 1000 utf16 hex D807 0061\n"
          "expect client\n  never error\n",
     "client.steps", "[{\"op\":\"new\",\"url\":\"{A}/ws\",\"protocols\":[\"a\",\"b c\"]},{\"prop\":\"binaryType\",\"value\":\"arraybuffer\"},"
                     "{\"body\":{\"type\":\"text\",\"value\":\"x\"}},{\"body\":{\"type\":\"binary\",\"hex\":\"0102\"}},"
                     "{\"op\":\"close\",\"code\":1000,\"reason\":\"bye\"},{\"values\":[null,\"1000\",1.5,true,{\"undefined\":true}]},{\"op\":\"close\"},"
                     "{\"op\":\"close\",\"code\":1000,\"reason_utf16\":\"d8070061\"}]"},
    /* `as LABEL` after a websocket send/close: the return value is recorded (a `read` labelled so, with
     * `returnType`), which only the WebIDL interface has: websocket-api. */
    {HEAD "client websocket\n  new {A}/ws\n  send text \"as\" as s1\n  send value as v\n  close 1000 \"as\" as c1\n"
          "  close as c2\n  send text \"x\"\nexpect client\n  at read(s1) returnType=\"undefined\"\n  at read(c2) returnType=\"undefined\"\n",
     "", "{\"needs\":[\"websocket\",\"websocket-api\"],\"client\":{\"steps\":[{},{\"op\":\"send\",\"label\":\"s1\","
         "\"body\":{\"type\":\"text\",\"value\":\"as\"}},{\"label\":\"v\",\"body\":{\"type\":\"value\",\"values\":[]}},"
         "{\"op\":\"close\",\"label\":\"c1\",\"code\":1000,\"reason\":\"as\"},{\"op\":\"close\",\"label\":\"c2\"},"
         "{\"op\":\"send\",\"body\":{\"type\":\"text\",\"value\":\"x\"}}]}}"},
    /* `set onEVENT ...`: an event handler IDL attribute given a function, a {handleEvent} object or a raw value;
     * the attributes are the interface's: websocket-api. `handler(NAME)` is heard once a handler is set. */
    {HEAD "client websocket\n  new {A}/ws\n  set onopen handler h1\n  set onmessage handle-event h.2\n"
          "  set onerror value undefined\n  set onclose value \";\"\n  set onclose value []\n"
          "expect client\n  at handler(h1) type=open this=websocket\n  at open interface=Event eventPhase=2\n"
          "  at message ports.length=0 source=null\n",
     "", "{\"needs\":[\"websocket\",\"websocket-api\"],\"client\":{\"steps\":[{},{\"op\":\"set\",\"prop\":\"onopen\",\"handler\":\"h1\"},"
         "{\"prop\":\"onmessage\",\"handleEvent\":\"h.2\"},{\"prop\":\"onerror\",\"value\":{\"undefined\":true}},"
         "{\"prop\":\"onclose\",\"value\":\";\"},{\"prop\":\"onclose\",\"value\":[]}]}}"},
    /* EventTarget's methods: add-listener and remove-listener name a recording function (handler(NAME) is heard
     * without any `set`), dispatch an event type; all websocket-api. */
    {HEAD "client websocket\n  new {A}/ws\n  add-listener open l1\n  remove-listener message l1\n  dispatch close\n"
          "expect client\n  at handler(l1) isTrusted=true\n",
     "", "{\"needs\":[\"websocket\",\"websocket-api\"],\"client\":{\"steps\":[{},{\"op\":\"add-listener\",\"event\":\"open\",\"handler\":\"l1\"},"
         "{\"op\":\"remove-listener\",\"event\":\"message\",\"handler\":\"l1\"},{\"op\":\"dispatch\",\"event\":\"close\"}]}}"},
    /* On an xhr the same words are XMLHttpRequest's (its onreadystatechange, EventTarget's methods): they imply
     * no websocket-api (capability rules are per kind); `new value` first passes raw constructor arguments. */
    {HEAD "client xhr\n  new value {\"anon\":true}\n  set onreadystatechange handler h\n  add-listener load l1\n"
          "  remove-listener load l1\n  open GET {A}/x\n  send\n"
          "expect client\n  at handler(h) type=readystatechange this=xhr\n",
     "", "{\"needs\":[\"xhr\"],\"client\":{\"steps\":[{\"op\":\"new\",\"values\":[{\"anon\":true}]},"
         "{\"op\":\"set\",\"prop\":\"onreadystatechange\",\"handler\":\"h\"},{\"op\":\"add-listener\",\"event\":\"load\",\"handler\":\"l1\"},"
         "{\"op\":\"remove-listener\",\"event\":\"load\",\"handler\":\"l1\"},{\"op\":\"open\"},{\"op\":\"send\"}]}}"},
    /* `shape` and `construct` (FORMAT.md §5.7): what they record is known to the lint (interface, each member or
     * prop); an object argument is one JSON word. */
    {HEAD "client xhr\n  shape XMLHttpRequest DONE send as s\n  construct ProgressEvent \"p\" {\"loaded\":2} read loaded as p\n"
          "expect client\n  at read(s) interface=\"function XMLHttpRequest length=0\" inherits=X class-string=X global=x DONE=\"const 4\"\n"
          "  at read(p) interface=ProgressEvent loaded=2\n",
     "", "{\"needs\":[\"xhr\"],\"client\":{\"steps\":[{},{\"op\":\"shape\",\"interface\":\"XMLHttpRequest\",\"members\":[\"DONE\",\"send\"],"
         "\"label\":\"s\"},{\"op\":\"construct\",\"interface\":\"ProgressEvent\",\"values\":[\"p\",{\"loaded\":2}],\"props\":[\"loaded\"],"
         "\"label\":\"p\"}]}}"},
    /* `new value`: raw constructor arguments (none, a stray third, an array for the URL): websocket-api. */
    {HEAD "client websocket\n  new value \"ws://{host-A}/c/{token}/e\" [] \"x\"\nclient websocket w2\n  new value\nexpect client w2\n  never open\n", "",
     "{\"needs\":[\"websocket\",\"websocket-api\"],\"client\":{\"steps\":[{\"op\":\"new\",\"values\":[\"ws://{host-A}/c/{token}/e\",[],\"x\"]},"
     "{\"op\":\"new\",\"obj\":\"w2\",\"values\":[]}]}}"},
    {HEAD "client script\n  load {B}/a.js crossorigin anonymous\n  load {B}/b.js callback f crossorigin use-credentials\n"
          "expect client\n  never error\n",
     "client.steps", "[{},{\"url\":\"{B}/a.js\",\"crossorigin\":\"anonymous\"},"
                     "{\"url\":\"{B}/b.js\",\"callback\":\"f\",\"crossorigin\":\"use-credentials\"}]"},
    {HEAD "client img\n  load {C}/p.png\nclient script s\n  load {B}/j.js callback cb_1\n"
          "client fetch\n  fetch PUT {B}/f mode cors credentials include header X-A 1 header X-B \"2\" body \"b\"\n"
          "client http\n  request GET {A}/h header Accept */* timeout 2s\n"
          "expect client img\n  never error\n",
     "", "{\"needs\":[\"fetch\",\"http\",\"img\",\"script\"],\"client\":{\"objects\":[{\"kind\":\"img\"},{\"name\":\"s\",\"kind\":\"script\"},"
         "{\"kind\":\"fetch\"},{\"kind\":\"http\"}],\"steps\":[{\"op\":\"new\"},{\"op\":\"load\",\"url\":\"{C}/p.png\"},{\"obj\":\"s\"},"
         "{\"obj\":\"s\",\"url\":\"{B}/j.js\",\"callback\":\"cb_1\"},{},{\"op\":\"fetch\",\"method\":\"PUT\",\"mode\":\"cors\","
         "\"credentials\":\"include\",\"headers\":[[\"X-A\",\"1\"],[\"X-B\",\"2\"]],\"body\":\"b\"},{},"
         "{\"op\":\"request\",\"headers\":[[\"Accept\",\"*/*\"]],\"ms\":2000}]}}"},
    /* client expectations (§6.1, §6.2) */
    {EXPECT("  events readystatechange(1) loadstart (readystatechange(3) progress)+ readystatechange(4) (load | error) loadend\n"),
     "expect.0", "{\"kind\":\"events\",\"obj\":\"xhr\",\"line\":8,\"pattern\":{\"seq\":[{\"atom\":{\"type\":\"readystatechange\",\"arg\":1}},"
                 "{\"atom\":{\"type\":\"loadstart\"}},{\"repeat\":{\"seq\":[{\"atom\":{\"arg\":3}},{\"atom\":{\"type\":\"progress\"}}]},"
                 "\"min\":1,\"max\":null},{},{\"alt\":[{\"atom\":{\"type\":\"load\"}},{\"atom\":{\"type\":\"error\"}}]},{}]}}"},
    {EXPECT("  events .* progress{2} load{0,3} error? | abort\n"), "expect.0.pattern",
     "{\"alt\":[{\"seq\":[{\"repeat\":{\"atom\":{\"type\":\".\"}},\"min\":0,\"max\":null},{\"repeat\":{},\"min\":2,\"max\":2},"
     "{\"repeat\":{},\"min\":0,\"max\":3},{\"repeat\":{\"atom\":{\"type\":\"error\"}},\"min\":0,\"max\":1}]},{\"atom\":{\"type\":\"abort\"}}]}"},
    {EXPECT("  never progress(loaded=0, total=0,lengthComputable=false) exception(InvalidStateError) read\n"), "expect.0.atoms",
     "[{\"type\":\"progress\",\"props\":{\"loaded\":0,\"total\":0,\"lengthComputable\":false}},"
     "{\"type\":\"exception\",\"arg\":\"InvalidStateError\"},{\"type\":\"read\"}]"},
    {EXPECT("  count progress 2+\n  count load 0\n"), "expect", "[{\"kind\":\"count\",\"atom\":{\"type\":\"progress\"},\"n\":2,"
                                                          "\"at_least\":true},{\"n\":0,\"at_least\":false}]"},
    {EXPECT("  at readystatechange(4)#2 status=200 statusText=\"OK\"\n  at timeout readyState=4\n"), "expect",
     "[{\"kind\":\"at\",\"atom\":{\"arg\":4},\"nth\":2,\"props\":{\"status\":200,\"statusText\":\"OK\"}},{\"nth\":null}]"},
    {EXPECT("  final response.bytes=12 responseURL={A}/x statusText=\"\" timeout=-1.5e3 status=null response=word\n"),
     "expect.0.props", "{\"response.bytes\":12,\"responseURL\":\"{A}/x\",\"statusText\":\"\",\"timeout\":-1500.0,\"status\":null,"
                       "\"response\":\"word\"}"},
    {EXPECT("  within loadstart timeout 200ms +- 50ms\n    rule \"it must\"\n  within load loadend >= 1s\n    rule \"must\"\n"
            "  within load loadend <= 20ms\n    rule \"must\"\n"), "expect",
     "[{\"kind\":\"within\",\"from\":{\"type\":\"loadstart\"},\"to\":{\"type\":\"timeout\"},\"ms\":200,\"tol_ms\":50},"
     "{\"ms\":1000,\"bound\":\"min\"},{\"ms\":20,\"bound\":\"max\"}]"},
    {EXPECT("  never load\n    rule \"should not \\\"load\\\" after an error\"\n    spec https://x.test/#b\n    level should\n  never error\n"),
     "expect", "[{\"text\":\"never load\",\"rule\":\"should not \\\"load\\\" after an error\",\"spec\":\"https://x.test/#b\",\"level\":\"should\"},"
               "{\"text\":\"never error\",\"rule\":\"never error\",\"spec\":\"https://x.test/#a\",\"level\":\"must\"}]"},
    {HEAD "client eventsource\n  new {A}/s\nexpect client\n  events open message(\"hi, (there)\") error(readyState=2)\n",
     "expect.0.pattern.seq", "[{},{\"atom\":{\"type\":\"message\",\"arg\":\"hi, (there)\"}},{\"atom\":{\"props\":{\"readyState\":2}}}]"},
    {HEAD "client xhr a\n  send\nclient xhr b\n  send\nexpect client b\n  never load\n", "expect.0.obj", "\"b\""},
    /* server expectations (§6.3) */
    {EXPSRV("  requests GET /a, POST /b#2,#3\n"), "expect",
     "[{},{\"kind\":\"requests\",\"line\":10,\"list\":[{\"method\":\"GET\",\"path\":\"/a\",\"n\":null},"
     "{\"method\":\"POST\",\"path\":\"/b\",\"n\":2},{\"index\":3}]}]"},
    {EXPSRV("  requests none\n"), "expect", "[{},{\"kind\":\"requests\",\"list\":[]}]"},
    {EXPSRV("  count OPTIONS /a 2\n"), "expect.1", "{\"kind\":\"request-count\",\"method\":\"OPTIONS\",\"path\":\"/a\",\"n\":2}"},
    {EXPSRV("  header GET /a Host = {host-A}\n  header #1 Origin absent\n  header GET /a#2 Accept ~ ^text/.*$\n"
            "  header GET /a X = \"two  spaces\"\n"),
     "expect", "[{},{\"kind\":\"request-header\",\"sel\":{\"method\":\"GET\"},\"name\":\"Host\",\"op\":\"eq\",\"value\":\"{host-A}\"},"
               "{\"sel\":{\"index\":1},\"op\":\"absent\"},{\"sel\":{\"n\":2},\"op\":\"match\",\"value\":\"^text/.*$\"},{\"value\":\"two  spaces\"}]"},
    {EXPSRV("  body POST /b = \"x\"\n  body POST /b sha256 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\n"
            "  body #2 size 3\n"),
     "expect", "[{},{\"kind\":\"request-body\",\"op\":\"eq\",\"value\":\"x\"},"
               "{\"op\":\"sha256\",\"value\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"},{\"op\":\"size\",\"value\":3}]"},
    {EXPSRV("  body POST /b ~ \"name=\\\"a\\\"\\r\\n\"\n  body #2 ~ ^x{{2}}$\n"), "expect",
     "[{},{\"kind\":\"request-body\",\"op\":\"match\",\"value\":\"name=\\\"a\\\"\\r\\n\"},{\"op\":\"match\",\"value\":\"^x{{2}}$\"}]"},
    {EXPSRV("  query GET /a = a=1&b=%20\n  query #2 absent\n  query GET /a#2 ~ (^|&)cb=\n"), "expect",
     "[{},{\"kind\":\"request-query\",\"sel\":{\"method\":\"GET\"},\"op\":\"eq\",\"value\":\"a=1&b=%20\"},"
     "{\"sel\":{\"index\":2},\"op\":\"absent\"},{\"op\":\"match\",\"value\":\"(^|&)cb=\"}]"},
    {EXPSRV("  closed GET /a by server rst\n  closed #1 by client\n"), "expect",
     "[{},{\"kind\":\"closed\",\"by\":\"server\",\"how\":\"rst\"},{\"by\":\"client\"}]"},
    {EXPSRV("  interval request(GET /a) end(GET /a#2) 1s +- 100ms\n    rule \"must\"\n"), "expect.1",
     "{\"kind\":\"interval\",\"from\":{\"at\":\"request\",\"sel\":{\"path\":\"/a\"}},\"to\":{\"at\":\"end\",\"sel\":{\"n\":2}},"
     "\"ms\":1000,\"tol_ms\":100}"},
    /* string expressions (§1.4): wherever a STRING is taken, the same JSON as the string spelled out */
    {SRV("  status 200\n  body \"ab\"*3+\"c\"\n"), "server.0.steps.1", "{\"op\":\"body\",\"text\":\"abababc\"}"},
    {SRV("  status 200\n  body \"\\xff\"*3 chunks 1 1\n"), "server.0.steps.1", "{\"op\":\"body\",\"hex\":\"ffffff\",\"chunks\":[1,1]}"},
    {SRV("  status 200\n  header-raw \"X-A: \"+\"a\"*3\n  chunk \"{{\"*2\n"), "server.0.steps",
     "[{},{\"op\":\"header-raw\",\"text\":\"X-A: aaa\"},{\"op\":\"chunk\",\"text\":\"{{{{\"}]"},
    {SRV("  ws-accept\n  ws-close 1000 \"\\u{e9}\"*2+\"a\"\n  ws-send ping \"p\"*3\n"), "server.0.steps",
     "[{},{\"op\":\"ws-close\",\"code\":1000,\"text\":\"\\u00e9\\u00e9a\"},{\"op\":\"ws-send\",\"kind\":\"ping\",\"text\":\"ppp\"}]"},
    {SRV("  status 200\n  sse-event data \"x\"*3 \"y\"\n  sse-event retry \"1\"+\"0\"*3\n"), "server.0.steps",
     "[{},{\"fields\":[[\"data\",\"xxx\"],[\"data\",\"y\"]]},{\"fields\":[[\"retry\",\"1000\"]]}]"},
    {HEAD "client websocket\n  new {A}/w\n  close 1000 \"a\"*5\n  send text \"\"*9+\"b\"\nexpect client\n  at close reason=\"a\"*5\n",
     "", "{\"client\":{\"steps\":[{},{\"op\":\"close\",\"reason\":\"aaaaa\"},{\"body\":{\"value\":\"b\"}}]},"
         "\"expect\":[{\"props\":{\"reason\":\"aaaaa\"},\"text\":\"at close reason=\\\"a\\\"*5\"}]}"},
    {CLIENT("client xhr\n  open GET {A}/x\n  header X-A \"v\"*2\n  send form a=\"x\"*2\n"), "client.steps",
     "[{},{},{\"name\":\"X-A\",\"value\":\"vv\"},{\"body\":{\"fields\":[{\"name\":\"a\",\"value\":\"xx\"}]}}]"},
    {EXPECT("  final responseText=\"ab\"*2\n  never exception(\"a\"*2)\n"), "expect",
     "[{\"props\":{\"responseText\":\"abab\"}},{\"atoms\":[{\"type\":\"exception\",\"arg\":\"aa\"}]}]"},
    {EXPSRV("  body POST /b = \"a\"*4\n  header GET /a X = \"b\"*2\n  header GET /a Y = \"c\"x\n"), "expect",
     "[{},{\"value\":\"aaaa\"},{\"value\":\"bb\"},{\"value\":\"\\\"c\\\"x\"}]"}, /* not an expression: the rest, as written */
    {"case ws/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis n 0 3\n" "client websocket\n  new {A}/w\n  close 1000 \"a\"*$n\n"
     "expect client\n  never error\n", "client.steps.1", "{\"reason\":\"\"}"},
    /* literal blocks (§1.5): lines as written, the closing line's indentation removed, each line ending as named */
    {SRV("  send <<HTTP(crlf)\n    HTTP/1.1 200 OK\n    X-T: {token}\n\n      # text, not a comment\n    HTTP\n  close\n"),
     "server.0.steps", "[{\"op\":\"send\",\"text\":\"HTTP/1.1 200 OK\\r\\nX-T: {token}\\r\\n\\r\\n  # text, not a comment\\r\\n\","
                       "\"line\":5},{\"op\":\"close\",\"line\":11}]"},
    {SRV("  status 200\n  body <<B(lf, chomp)\n    a\n    b\n    B\n  close\n"), "server.0.steps",
     "[{},{\"op\":\"body\",\"text\":\"a\\nb\",\"line\":6},{\"op\":\"close\",\"line\":10}]"},
    {SRV("  status 200\n  body <<B(cr)\n  a\tb  \n  B\n"), "server.0.steps.1", "{\"text\":\"a\\tb\\r\"}"},
    {SRV("  status 200\n  body <<B(lf)\n  B\n  body <<B(lf,chomp)\n  B\n"), "server.0.steps", "[{},{\"text\":\"\"},{\"text\":\"\"}]"},
    {SRV("  status 200\n  body <<B(lf) chunks 1\nx\nB\n"), "server.0.steps.1", "{\"text\":\"x\\n\",\"chunks\":[1]}"},
    {SRV("  ws-accept\n  ws-send text <<T(lf, chomp) fin false\n    hi\n    T\n"), "server.0.steps.1",
     "{\"kind\":\"text\",\"text\":\"hi\",\"fin\":false}"},
    {CLIENT("client xhr\n  open POST {A}/x\n  send text <<T(crlf)\n    a=1\n    T\n"), "client.steps.2",
     "{\"op\":\"send\",\"body\":{\"type\":\"text\",\"value\":\"a=1\\r\\n\"},\"line\":6}"},
    {EXPECT("  final responseText=<<T(lf)\n      x\n    y\n    T\n    rule <<R(lf, chomp)\n      two\n      lines\n      R\n"),
     "expect.0", "{\"props\":{\"responseText\":\"  x\\ny\\n\"},\"line\":8,\"text\":\"final responseText=<<T(lf)\",\"rule\":\"two\\nlines\"}"},
    {EXPSRV("  body POST /b = <<B(crlf, chomp)\n    a\n    B\n  header GET /a X ~ <<R(lf,chomp)\n    ^a b$\n    R\n"), "expect",
     "[{},{\"op\":\"eq\",\"value\":\"a\"},{\"op\":\"match\",\"value\":\"^a b$\"}]"},
    {"case http/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis code ok=\"200\" gone=\"410\"\nserver GET /x\n"
     "  send <<R(crlf)\n    HTTP/1.1 $code $$\n    R\n" CLI EXP, "server.0.steps.0", "{\"text\":\"HTTP/1.1 200 $\\r\\n\"}"},
    {SRV("  send <<B(lf)\n[a=x] not a guard\n  # not a comment\nsend\nB\n"), "server.0.steps.0",
     "{\"text\":\"[a=x] not a guard\\n  # not a comment\\nsend\\n\"}"},
    {SRV("  status 200\n  header X-A: a<<B(lf)\n"), "server.0.steps.1", "{\"value\":\"a<<B(lf)\"}"}, /* mid-word: text */
    {HEAD "client eventsource\n  new {A}/s\nexpect client\n  never message(<<M(lf, chomp))\n    a b\n    M\n",
     "expect.0.atoms.0", "{\"type\":\"message\",\"arg\":\"a b\"}"},
    {"case http/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x y\nserver GET /x\n  [a=y] send <<R(crlf)\n    y\n    R\n"
     "  [a=x] send \"x\"\n" CLI EXP, "server.0.steps", "[{\"op\":\"send\",\"text\":\"x\",\"line\":10}]"},
    /* matrices (§3) */
    {"case xhr/m\ntitle T $method\nspec https://x.test/#a\nmatrix\n  axis method GET POST\n  axis ct none plain=\"text/plain\"\n"
     "  exclude method=GET ct=plain\nserver $method /x\n  status 200\n  [ct!=none] header Content-Type: $ct\n"
     "client xhr\n  open $method {A}/x\n  send\nexpect client\n  never load\n",
     "", "{\"id\":\"xhr/m/get-none\",\"title\":\"T GET\",\"cell\":{\"method\":\"GET\",\"ct\":\"none\"},"
         "\"server\":[{\"method\":\"GET\",\"steps\":[{\"op\":\"status\"}]}]}"},
    {"case xhr/m\ntitle ${m}$$\nspec https://x.test/#a\nmatrix\n  axis m A b\n[m=b] tags only-b\n[m=b] server GET /z\n"
     "  close\nclient xhr\n  send\nexpect client\n  never load\n",
     "", "{\"id\":\"xhr/m/a\",\"title\":\"A$\",\"tags\":[],\"server\":[]}"},
};

/* The parser's errors, one a line, "line:col: message [cell C]". */
static void error_text(const json_t *errs, char *out, size_t n)
{
    size_t i, w = 0;
    json_t *e;
    out[0] = '\0';
    json_array_foreach(errs, i, e) {
        const char *cell = json_string_value(json_object_get(e, "cell"));
        int k = snprintf(out + w, n - w, "%d:%d: %s%s%s%s\n", (int)json_integer_value(json_object_get(e, "line")),
                         (int)json_integer_value(json_object_get(e, "col")), json_string_value(json_object_get(e, "message")),
                         cell ? " [cell " : "", cell ? cell : "", cell ? "]" : "");
        if (k < 0 || (size_t)k >= n - w) break;
        w += (size_t)k;
    }
}

START_TEST(good_table)
{
    const struct good *g = &good[_i];
    json_t *out = json_array(), *errs = json_array(), *want;
    json_error_t jerr;
    char text[4096];
    int n = ch_script_parse_text("t.case", g->text, strlen(g->text), fixtures, out, errs);
    error_text(errs, text, sizeof text);
    ck_assert_msg(n == 0, "row %d: unexpected errors:\n%s", _i, text);
    want = json_loads(g->json, JSON_DECODE_ANY, &jerr);
    ck_assert_msg(want != NULL, "row %d: bad expected JSON: %s", _i, jerr.text);
    json_t *got = walk(json_array_get(out, 0), g->path);
    char *dump = got ? json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("(nothing)");
    ck_assert_msg(subset(want, got), "row %d: at '%s' got %s", _i, g->path, dump);
    free(dump);
    json_decref(want);
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* ---- bad inputs: the exact first error, "line:col: message" (@F is the fixtures directory); an expected
 * text ending in a newline is the whole list, one error a line ------------------------------------------ */

static const struct bad {
    const char *text, *error;
} bad[] = {
    /* lexical (§1) */
    {HEAD "server GET /x\n\tstatus 200\n" CLI EXP, "5:1: a tab in the indentation (indent with spaces)"},
    {HEAD "server GET /x\n  \tstatus 200\n" CLI EXP, "5:3: a tab in the indentation (indent with spaces)"},
    {SRV("  status 200\n  body \"abc\n"), "6:8: an unterminated string"},
    {SRV("  status 200\n  body \"a\\qb\"\n"), "6:10: a bad escape '\\q'"},
    {SRV("  status 200\n  body \"\\xZ1\"\n"), "6:9: a bad escape: \\x takes two hex digits"},
    {SRV("  status 200\n  body \"\\u{D800}\"\n"), "6:9: a bad escape: \\u{D800} is not a Unicode scalar value"},
    {SRV("  status 200\n  body \"\\u{110000}\"\n"), "6:9: a bad escape: \\u{110000} is not a Unicode scalar value"},
    {SRV("  status 200\n  body \"\\u{1234567}\"\n"), "6:9: a bad escape: \\u{...} takes 1 to 6 hex digits"},
    {"case xhr/t\ntitle caf\xc3\n" "spec https://x.test/#a\n" CLI EXP, "2:10: the line is not UTF-8 text"},
    {EXPECT("  never progress(loaded=1\n"), "8:17: an unbalanced '(' (no matching ')')"},
    /* meta (§2) */
    {"title T\nspec https://x.test/#a\n" CLI EXP, "1:1: missing the 'case ID' line"},
    {"case xhr/t\nspec https://x.test/#a\n" CLI EXP, "1:1: missing the 'title' line"},
    {"case xhr/t\ntitle T\n" CLI EXP, "1:1: missing a 'spec URL' line (at least one)"},
    {HEAD EXP, "4:8: there is no client object to check"},
    {HEAD CLI, "1:1: no expect section (at least one)"},
    {HEAD CLI "expect server\n  requests none\n" "case xhr/u\n", "9:1: a second 'case' line (the first is line 1)"},
    {"case xhr/Upper\ntitle T\nspec https://x.test/#a\n" CLI EXP, "1:6: a bad case id (segments of [a-z0-9][a-z0-9._-]* joined by '/')"},
    {"case xhrx/t\ntitle T\nspec https://x.test/#a\n" CLI EXP, "1:6: unknown family 'xhrx' (xhr cors sse ws comet jsonp img fetch http tls)"},
    {HEAD "spec x.test/#a\n" CLI EXP, "4:6: a spec reference is an http(s) URL"},
    {HEAD "needs cookie\n" CLI EXP, "4:7: unknown capability 'cookie' (blob cookies cors document eventsource fetch formdata host-d http img page-b page-c page-d page-opaque page-sa page-sb page-sc script tls user-prompts websocket websocket-api worker xhr xhr-sync "
     "xhr-upload)"},
    {HEAD "tags a b a\n" CLI EXP, "4:10: tag 'a' named twice"},
    {HEAD "wpt\n" CLI EXP, "4:4: missing words (write: wpt PATH...)"},
    {HEAD "wpt xhr/a.htm xhr/nope.htm\n" CLI EXP, "4:15: 'xhr/nope.htm' is not a test file of the WPT topic list (@T)"},
    {HEAD "wpt xhr/a.htm\nwpt xhr/a.htm\n" CLI EXP, "5:5: 'xhr/a.htm' named twice"},
    {HEAD "wpt \"xhr/a.htm\"\n" CLI EXP, "4:5: '\"xhr/a.htm\"' is not a test file of the WPT topic list (@T)"},
    {HEAD "wpt xhr/worker.htm\n" CLI EXP, "4:5: 'xhr/worker.htm' (topic X02) cannot be checked here: no workers"},
    {HEAD "wpt xhr/h2.htm\n" CLI EXP, "4:5: 'xhr/h2.htm' (topic X01) cannot be checked here: HTTP/2"},
    {HEAD "deadline 10\n" CLI EXP, "4:10: '10' is a number, not a duration (add ms or s)"},
    {HEAD "settle 1.5ms\n" CLI EXP, "4:8: '1.5ms' is not a whole number of milliseconds"},
    {HEAD "settle 2m\n" CLI EXP, "4:8: '2m' is not a duration (units: ms, s)"},
    {HEAD "page E\n" CLI EXP, "4:6: the page is on origin A, B, C, SA, SB, SC or D"},
    {HEAD "page sa\n" CLI EXP, "4:6: the page is on origin A, B, C, SA, SB, SC or D"},
    {HEAD "page A sandbox\n" CLI EXP, "4:8: after the origin only 'sandboxed' and 'windows-1252' may follow, each once"},
    {HEAD "page A windows-1252 windows-1252\n" CLI EXP, "4:21: after the origin only 'sandboxed' and 'windows-1252' may follow, each once"},
    {HEAD "page A windows-1252\nglobal worker\n" CLI EXP, "5:1: 'global worker' runs the program in a worker, which has no "
                                                       "document: it cannot need document, img or script"},
    {HEAD "page SA sandboxed\n" CLI EXP, "4:9: only a page on A, B or C (an iframe) can be sandboxed; SA is a top-level window"},
    {HEAD "page A sandboxed\nglobal worker\n" CLI EXP, "4:8: a sandboxed page (an opaque origin) cannot start the case's "
                                                    "worker (its script is on the page URL's origin): 'global worker' runs on a plain page"},
    {HEAD "page A sandboxed x\n" CLI EXP, "4:18: after the origin only 'sandboxed' and 'windows-1252' may follow, each once"},
    {HEAD "page A sandboxed windows-1252 x\n" CLI EXP, "4:31: unexpected 'x' (write: page A|B|C|SA|SB|SC|D [sandboxed] [windows-1252])"},
    {HEAD "global Worker\n" CLI EXP, "4:8: the global is 'window' or 'worker'"},
    {HEAD "global window from /w\n" CLI EXP, "4:15: after 'worker' only 'from PATH' may follow (write: global worker from /w)"},
    {HEAD "global worker to /w\n" CLI EXP, "4:15: after 'worker' only 'from PATH' may follow (write: global worker from /w)"},
    {HEAD "global worker from\n" CLI EXP, "4:15: after 'worker' only 'from PATH' may follow (write: global worker from /w)"},
    {HEAD "global worker from w\n" CLI EXP, "4:20: PATH is a route's path: '/' and more, no query or fragment"},
    {HEAD "global worker from /w?x\n" CLI EXP, "4:20: PATH is a route's path: '/' and more, no query or fragment"},
    {HEAD "global worker from /w x\n" CLI EXP, "4:23: unexpected 'x' (write: global window|worker [from PATH])"},
    {HEAD "global worker from /w\n" CLI EXP, "4:1: 'global worker from /w': no 'server GET /w' route on the page's origin A"},
    {HEAD "global worker from /w\nserver GET /w origin B\n  status 302\n" CLI EXP,
     "4:1: 'global worker from /w': no 'server GET /w' route on the page's origin A"},
    {HEAD "global worker\nglobal worker\n" CLI EXP, "5:1: a second 'global' line (the first is line 4)"},
    {HEAD "global worker\nneeds document\n" CLI EXP, "4:1: 'global worker' runs the program in a worker, which has no document: it cannot need document, img or script"},
    {HEAD "global worker\nclient img\n  load {A}/i\n" EXP, "4:1: 'global worker' runs the program in a worker, which has no document: it cannot need document, img or script"},
    {SRV("  status 200\n  close barely\n"), "6:9: write: close, or close bare"},
    {SRV("  status 200\n  notify\n  body \"x\"\n"), "7:3: only wait, close, reset or hold may follow 'notify'"},
    {HEAD "server GET /x origin E\n  status 200\n" CLI EXP, "4:22: the origin is A, B, C, SA, SB, SC or D"},
    {HEAD "titel T\n" CLI EXP, "4:1: unknown word 'titel' (a meta line: case title spec tags needs deadline settle page global wpt; or a section: server client expect matrix)"},
    {HEAD "  stray\n" CLI EXP, "4:3: an indented line under a meta line (it belongs to no section)"},
    {HEAD "tags x\n  stray\n" CLI EXP, "5:3: an indented line under a meta line (it belongs to no section)"},
    {HEAD "sever GET /x\n  status 200\n" CLI EXP, "4:1: unknown word 'sever' (a meta line: case title spec tags needs deadline settle page global wpt; or a section: server client expect matrix)\n"},
    /* server sections (§4) */
    {SRV("  sattus 200\n"), "5:3: unknown step 'sattus' in a server section"},
    {SRV("  status 1000\n"), "5:10: status code 1000 is out of range 0-999"},
    {SRV("  status abc\n"), "5:10: bad status code 'abc' (an integer 0-999)"},
    {SRV("  status 200\n  header X-A b\n"), "6:13: a bad header (write: header NAME: VALUE; use header-raw for anything else)"},
    {SRV("  status 200\n  header X-A:b\n"), "6:14: a space after the colon (write: header NAME: VALUE)"},
    {SRV("  header X-A: b\n"), "5:3: 'header' before 'status'"},
    {SRV("  status 200\n  status 201\n"), "6:3: a second 'status'"},
    {SRV("  status 200\n  body \"x\"\n  header X: y\n"), "7:3: 'header' after the head ended (any step but status, header and header-raw ends it)"},
    {SRV("  status 200\n  wait 1s\n  header X: y\n"), "7:3: 'header' after the head ended (any step but status, header and header-raw ends it)"},
    {SRV("  body \"x\"\n"), "5:3: 'body' before 'status' (use send for raw bytes)"},
    {SRV("  send \"x\"\n  status 200\n"), "6:3: a section that starts with 'send' writes raw bytes only (send, wait, trickle, close, reset, shutdown, hold)"},
    {SRV("  status 200\n  close\n  wait 1s\n"), "7:3: no step may follow 'close'"},
    {SRV("  status 200\n  shutdown\n  body \"x\"\n"), "7:3: only wait, close, reset or hold may follow 'shutdown'"},
    {SRV("  status 200\n  body hex 4g\n"), "6:13: 'g' is not a hex digit"},
    {SRV("  status 200\n  body hex 48 6\n"), "6:15: an odd number of hex digits"},
    {SRV("  status 200\n  header X: {foo}\n"), "6:13: unknown placeholder {foo} in server text"},
    {SRV("  status 200\n  body \"a\\0{A}\"\n"), "6:8: placeholders are filled only in UTF-8 text without NUL (split the step)"},
    {SRV("  status 200\n  body file ../x\n"), "6:13: '..' in a body file path"},
    {SRV("  status 200\n  body file /etc/passwd\n"), "6:13: an absolute path (body file paths are relative to the fixtures directory)"},
    {SRV("  status 200\n  body file missing.txt\n"), "6:13: no file 'missing.txt' under @F/"},
    {SRV("  status 200\n  body \"abc\" chunks 2 2\n"), "6:14: the chunks add up to 4 bytes, more than the body's 3"},
    {SRV("  status 200\n  chunk \"\"\n"), "6:9: an empty chunk ends the body (write chunk-end)"},
    {SRV("  trickle 5 every 10\n"), "5:19: '10' is a number, not a duration (add ms or s)"},
    {SRV("  wait 300\n"), "5:8: '300' is a number, not a duration (add ms or s)"},
    {SRV("  status 200\n  compress br\n"), "6:12: the coding is gzip, deflate or off"},
    {SRV("  status 200\n  compress\n"), "6:11: missing words (write: compress gzip|deflate|off)"},
    {SRV("  status 200\n  compress gzip\n  header X: 1\n"), "7:3: 'header' after the head ended (any step but status, header and header-raw ends it)"},
    {SRV("  sse-event data x\n"), "5:3: 'sse-event' before 'status' (use send for raw bytes)"},
    {SRV("  status 200\n  sse-event id \"a\\nb\"\n"), "6:16: a line end in a value written on one line (use send)"},
    {SRV("  status 200\n  sse-event id 1 id 2\n"), "6:18: 'id' given twice (write duplicates with sse-field)"},
    {SRV("  status 200\n  sse-event name x\n"), "6:13: unknown sse-event field 'name' (id, event, retry, data)"},
    {SRV("  status 200\n  sse-event data\n"), "6:17: data takes at least one value"},
    {SRV("  status 200\n  sse-event retry 400\n"), "6:19: '400' is a number, not a duration (add ms or s)"},
    {SRV("  status 200\n  sse-comment a eol lff\n"), "6:21: eol takes lf, cr or crlf"},
    {SRV("  status 200\n  sse-line\n"), "6:11: write: sse-line STRING [eol E]"},
    {HEAD "server GET /a\n  close\nserver * /a\n  close\n" CLI EXP, "6:1: this section matches the same requests as the section at line 4"},
    {HEAD "server GET /a/*\n  close\nserver GET /a/b nth 2 origin A\n  close\nserver GET /a/b\n  close\n" CLI EXP,
     "8:1: this section matches the same requests as the section at line 4"},
    {HEAD "server GET /a nth 2\n  close\nserver GET /a origin B\n  close\n" CLI EXP,
     "6:1: this section matches the same requests as the section at line 4"},
    {HEAD "server GET a\n  close\n" CLI EXP, "4:12: a path starts with '/' (the part after /c/<token>)"},
    {HEAD "server GET /a?b=1\n  close\n" CLI EXP, "4:14: a path has no query or fragment"},
    {HEAD "server GET /a nth 0\n  close\n" CLI EXP, "4:19: write: nth N or nth N+ (N from 1)"},
    {HEAD "client script\n  load {B}/a.js crossorigin none\nexpect client\n  never error\n", "5:29: unknown crossorigin 'none' (a string for any other value)"},
    {HEAD "client script\n  load {B}/a.js callback f cors\nexpect client\n  never error\n",
     "5:28: write: load URL [callback NAME] [crossorigin anonymous|use-credentials]"},
    /* `when NAME VALUE`: a condition on one header; two on different names can both hold (a conflict), two
     * values of one name cannot (tested among the good rows) */
    {HEAD "server GET /a when X-A 1\n  close\nserver GET /a when X-B 1\n  close\n" CLI EXP,
     "6:1: this section matches the same requests as the section at line 4"},
    {HEAD "server GET /a when X-A\n  close\n" CLI EXP, "4:15: write: when NAME VALUE"},
    {HEAD "server GET /a when X:A 1\n  close\n" CLI EXP, "4:20: a bad header name (a token)"},
    {HEAD "server GET /a when X-A \"{token}\"\n  close\n" CLI EXP, "4:24: a when value holds no placeholder, brace, CR, LF or NUL"},
    {HEAD "server GET /a when X-A 1 when X-A 2\n  close\n" CLI EXP, "4:26: 'when' given twice"},
    {HEAD "server GET /a\n" CLI EXP, "4:1: a server section needs at least one step"},
    /* client sections (§5) */
    {CLIENT("client xmlhttp\n  send\n"), "4:8: unknown client kind 'xmlhttp' (xhr eventsource websocket img script fetch http)"},
    {CLIENT("client xhr\n  opne GET {A}/x\n"), "5:3: unknown step 'opne' in a client xhr section"},
    {CLIENT("client xhr\n  load {A}/x\n"), "5:3: 'load' is not a step of client xhr"},
    {CLIENT("client xhr\n  await loda\n"), "5:9: xhr objects never fire 'loda'"},
    {CLIENT("client img\n  on progress abort\n"), "5:6: img objects never fire 'progress'"},
    {CLIENT("client xhr\n  on load await loadend\n"), "5:11: 'await' cannot run inside an event listener"},
    {CLIENT("client xhr\n  on load block 1s\n"), "5:11: 'block' cannot run inside an event listener"},
    {CLIENT("client xhr\n  block\n"), "5:8: missing words (write: block DURATION)"},
    {CLIENT("client xhr\n  on load on error abort\n"), "5:11: 'on' cannot nest (on EVENT STEP takes one plain step)"},
    {HEAD "client eventsource\n  new {A}/s\n  await ping\n  listen ping\n" EXP, "6:9: eventsource 'eventsource' never fires 'ping' (name it in 'listen' first)"},
    {HEAD "client eventsource\n  listen ping\n" EXP, "5:3: a client eventsource section starts with 'new URL'"},
    {HEAD "client xhr\n  send\nclient xhr\n  send\n" EXP, "6:8: a second object named 'xhr' (name them: client xhr NAME)"},
    {CLIENT("client xhr\n  set responseType jsn\n"), "5:20: unknown responseType 'jsn' (a string for any other value)"},
    {CLIENT("client xhr\n  set timeout 300\n"), "5:15: '300' is a number, not a duration (add ms or s)"},
    {CLIENT("client xhr\n  send typed Int16Array hex 01\n"), "5:29: Int16Array needs a multiple of 2 bytes"},
    {CLIENT("client xhr\n  open GET {X}/a\n"), "5:12: unknown placeholder {X} in client text"},
    {CLIENT("client xhr\n  send text \"{body-length}\"\n"), "5:13: unknown placeholder {body-length} in client text"},
    {CLIENT("client xhr\n  send\n    rule \"x\"\n"), "6:5: only expectations take attachments (rule, spec, level)"},
    {CLIENT("client xhr\n  await readystatechange(7)\n"), "5:9: readystatechange takes a readyState, 0 to 4"},
    {HEAD "client websocket\n  new {A}/w\n  close 70000\n" EXP, "6:9: close code 70000 is out of range 0-65535"},
    {CLIENT("client xhr\n  send form a=1\n"), "5:15: a form value is a string (name=\"value\")"},
    {CLIENT("client xhr\n  formdata form \"<form></form>\" by x\n"), "5:33: write: formdata form HTML|null|undefined|params:\"QUERY\"|string:\"S\" [submitter SELECTOR|null|undefined]"},
    {CLIENT("client xhr\n  formdata form undefined submitter \"#s\"\n"), "5:37: no markup to select a submitter in: write submitter null or submitter undefined"},
    {CLIENT("client xhr\n  formdata form params:\"a\"x\n"), "5:27: unexpected 'x' after the string"},
    {CLIENT("client xhr\n  formdata form utf16:3C\n"), "5:17: utf16: takes UTF-16 code units, 4 hex digits each"},
    {CLIENT("client xhr\n  formdata form string:\"a\"b\n"), "5:27: unexpected 'b' after the string"},
    {CLIENT("client xhr\n  formdata get a\n"), "5:12: write: formdata get|getall|has NAME as LABEL"},
    {CLIENT("client xhr\n  formdata append a\n"), "5:12: write: formdata append|set NAME VALUE [filename FILENAME]"},
    {CLIENT("client xhr\n  formdata append a \"v\" name f\n"), "5:25: write: formdata append|set NAME VALUE [filename FILENAME]"},
    {CLIENT("client xhr\n  formdata append a file:x.txt::\"v\" filename f\n"), "5:37: a file: value carries its filename: write blob:TYPE:\"content\" filename FILENAME"},
    {CLIENT("client xhr\n  formdata set a fileobject:x.txt\n"), "5:18: write: fileobject:NAME:TYPE:\"content\""},
    {CLIENT("client xhr\n  formdata append utf16:D80 x\n"), "5:19: utf16: takes UTF-16 code units, 4 hex digits each"},
    {CLIENT("client xhr\n  formdata append a blob:text/plain\n"), "5:21: write: blob:TYPE:\"content\""},
    {CLIENT("client xhr\n  formdata values as v after a delete a\n"), "5:24: values names no entry: write after NAME with iterate, entries or keys"},
    {CLIENT("client xhr\n  formdata keys as v after a get a\n"), "5:30: write: " "formdata form HTML [submitter S], formdata append|set NAME VALUE [filename F], formdata delete NAME, formdata get|getall|has NAME as LABEL, formdata iterate|entries|keys|values as LABEL [after NAME MUTATION]"},
    {CLIENT("client xhr\n  send formdata x\n"), "5:17: unexpected 'x' (write: send formdata)"},
    {CLIENT("client xhr\n  send utf16 hex 00 61 62\n"), "5:18: UTF-16 code units are 4 hex digits each"},
    {CLIENT("client xhr\n  send utf16 0061\n"), "5:14: write: send utf16 hex HHHH..."},
    {CLIENT("client xhr\n  send document svg \"<r/>\"\n"), "5:17: write: send document html|xml STRING"},
    {CLIENT("client xhr\n  send document xml\n"), "5:20: missing words (write: send document html|xml STRING)"},
    {CLIENT("client xhr\n  base\n"), "5:7: missing words (write: base URL)"},
    {CLIENT("client xhr\n  send shared Blob\n"), "5:15: unknown array type (Int8Array Uint8Array Int16Array Uint16Array "
                                                  "Int32Array Uint32Array Float32Array Float64Array DataView)"},
    {CLIENT("client xhr\n  document-domain x\n"), "5:19: unexpected 'x' (write: document-domain)"},
    {CLIENT("client xhr\n  send document created attr x \"1\"\n"),
     "5:25: write: send document created [element NAME [attr NAME STRING | attr NAME utf16 hex HHHH...]...]"},
    {CLIENT("client xhr\n  send document created element e attr x utf16 hex 00\n"), "5:52: UTF-16 code units are 4 hex digits each"},
    {CLIENT("client xhr\n  read status of ws\n"), "5:18: no object 'ws' declared by an earlier client section"},
    {CLIENT("client xhr\n  read status of xhr\n"), "5:15: 'of xhr' names this section's own object: leave it out"},
    {CLIENT("client xhr\n  read of xhr\n"), "5:8: missing properties (write: read PROP... [of NAME] [as LABEL])"},
    {CLIENT("client xhr A\n  send\nclient xhr\n  read status of A B\n"), "7:15: write: read PROP... of NAME (one object name)"},
    {CLIENT("client xhr A\n  send\nclient xhr\n  on load read status of A\n"), "7:23: 'of NAME' cannot be used inside 'on'"},
    {CLIENT("client xhr\n  open GET {A}/x objects sync\n"), "5:26: write: open METHOD URL [sync | objects] [user U] [password P] [utf16 hex HHHH...]"},
    {CLIENT("client xhr\n  open GET {A}/x utf16 D83D\n"), "5:18: write: utf16 hex HHHH..."},
    {CLIENT("client xhr\n  open GET {A}/x utf16 hex D83D00\n"), "5:28: UTF-16 code units are 4 hex digits each"},
    {CLIENT("client xhr\n  open GET blob \"b\" utf16 hex D83D\n"), "5:21: write: open METHOD URL [sync | objects] [user U] [password P] [utf16 hex HHHH...]"},
    {CLIENT("client xhr\n  get-header X as\n"), "5:16: write: get-header NAME [as LABEL]"},
    {CLIENT("client xhr\n  get-header X as Bad\n"), "5:19: a bad label (write [a-z0-9][a-z0-9._-]*)"},
    {CLIENT("client xhr\n  same response\n"), "5:16: missing words (write: same PROP PROP [as LABEL])"},
    {CLIENT("client xhr\n  same response response as\n"), "5:26: write: same PROP PROP [as LABEL]"},
    {CLIENT("client xhr\n  same response response to x\n"), "5:26: write: same PROP PROP [as LABEL]"},
    {CLIENT("client xhr\n  same response \"x\"\n"), "5:17: a bad property name '\"x\"'"},
    {CLIENT("client xhr\n  send object tostring\n"), "5:23: write: send object [tostring VALUE | tostring throws NAME] [calling STEP]"},
    {CLIENT("client xhr\n  send object tostring throws 9x\n"), "5:31: an exception name (write [A-Za-z][A-Za-z0-9_-]*)"},
    {CLIENT("client xhr\n  send object tostring nul\n"), "5:24: not a JSON value (null, true, false, a number or a \"string\")"},
    {CLIENT("client xhr\n  send object calling await load\n"), "5:23: 'await' cannot run inside an event listener"},
    {CLIENT("client xhr\n  send object calling on load abort\n"), "5:23: 'on' cannot nest (on EVENT STEP takes one plain step)"},

    {CLIENT("client websocket\n  new {A}/ws\n  close 1000 utf16 D807\n"), "6:20: write: close CODE utf16 hex HHHH..."},
    {CLIENT("client websocket\n  new {A}/ws\n  close 1000 utf16 hex 0061 62\n"), "6:24: UTF-16 code units are 4 hex digits each"},
    {CLIENT("client xhr\n  send typed Int16Array hex 000102 offset 1\n"), "5:36: Int16Array needs an offset that is a multiple of 2"},
    {CLIENT("client xhr\n  send typed Int16Array hex 000102 offset 2 length 2\n"), "5:36: the view ends past the 3 bytes"},
    {CLIENT("client xhr\n  send typed Uint8Array hex 00 length 1 length 1\n"), "5:41: given twice"},
    {CLIENT("client xhr\n  send typed Uint8Array hex 00 offset 2\n"), "5:39: offset 2 is out of range 0-1"},
    {HEAD "client websocket\n  new {A}/w\n  send text \"x\" as X\nexpect client\n  never error\n", "6:20: a bad label (write [a-z0-9][a-z0-9._-]*)"},
    {HEAD "client websocket\n  new {A}/w\n  close as c\nexpect client\n  at read(c) readyState=2\n",
     "8:14: websocket 'websocket' records no property 'readyState' at 'read': name it in a 'read' step first"},
    {HEAD "client xhr\n  new {A}/x\n" EXP, "5:7: write: new value [JSON...]"},
    {HEAD "client xhr\n  open GET {A}/x\n  new value\n" EXP, "6:3: 'new' comes once, first"},
    {HEAD "client xhr\n  set onreadystatechange handler\n" EXP, "5:33: write: set onEVENT handler NAME | set onEVENT handle-event NAME | set onEVENT value JSON"},
    {HEAD "client websocket\n  new {A}/w\n  add-listener open\n" EXP, "6:20: missing words (write: add-listener EVENT NAME | remove-listener EVENT NAME)"},
    {HEAD "client websocket\n  new {A}/w\n  add-listener 1x l\n" EXP, "6:16: a bad event name (write [A-Za-z][A-Za-z0-9_-]*)"},
    {HEAD "client websocket\n  new {A}/w\n  remove-listener open L\n" EXP, "6:24: a bad handler name (write [a-z0-9][a-z0-9._-]*)"},
    {HEAD "client websocket\n  new {A}/w\n  dispatch open close\n" EXP, "6:17: unexpected 'close' (write: dispatch EVENT)"},
    {HEAD "client websocket\n  new {A}/w\n  set onopen handler\n" EXP,
     "6:21: write: set onEVENT handler NAME | set onEVENT handle-event NAME | set onEVENT value JSON"},
    {HEAD "client websocket\n  new {A}/w\n  set onopen function f\n" EXP,
     "6:14: write: set onEVENT handler NAME | set onEVENT handle-event NAME | set onEVENT value JSON"},
    {HEAD "client websocket\n  new {A}/w\n  set onopen handler F\n" EXP, "6:22: a bad handler name (write [a-z0-9][a-z0-9._-]*)"},
    {HEAD "client websocket\n  new {A}/w\n  set onopen value nul\n" EXP, "6:20: not a JSON value (null, true, false, a number or a \"string\")"},
    {HEAD "client websocket\n  new {A}/w\n  set onping value null\n" EXP,
     "6:7: unknown property (binaryType onopen onmessage onerror onclose)"},
    {HEAD "client websocket\n  new {A}/w\n  set onmessage handle-event h\nexpect client\n  never handler(h)\n",
     "8:9: websocket 'websocket' never records 'handler': its program has no 'set onEVENT handler NAME' or 'add-listener EVENT NAME' step "
     "(add it, before the step that can fire the event, or drop this atom: a check on it can never fail)"},
    {HEAD "client websocket\n  new {A}/w\nexpect client\n  at message ports=0\n",
     "7:14: websocket 'websocket' records no property 'ports' at 'message' (it records: readyState protocol extensions "
     "binaryType bufferedAmount data origin lastEventId source ports.length interface bubbles cancelable isTrusted eventPhase "
     "target currentTarget; `watch"},
    {HEAD "client websocket\n  new {A}/w\n  send value [1,\n" EXP, "6:14: not a JSON array or object (one word, no blanks: [1,2] or {\"a\":1})"},
    /* shape and construct (FORMAT.md §5.7): a bad interface name, no members, a bad member, a missing read. */
    {HEAD "client xhr\n  shape 1X a\n" EXP, "5:9: a bad interface name (write [A-Za-z][A-Za-z0-9_]*)"},
    {HEAD "client xhr\n  shape X as s\n" EXP, "5:11: missing members (write: shape INTERFACE MEMBER... [as LABEL])"},
    {HEAD "client xhr\n  shape X a.b\n" EXP, "5:11: a bad member name 'a.b' (an identifier)"},
    {HEAD "client xhr\n  shape X a as s t\n" EXP, "5:13: write: shape INTERFACE MEMBER... [as LABEL] (one label, last)"},
    {HEAD "client xhr\n  construct X \"t\" as c\n" EXP, "5:19: missing properties (write: construct INTERFACE [JSON...] read PROP... [as LABEL])"},
    {HEAD "client xhr\n  construct X {\"a\":1 read a\n" EXP, "5:15: not a JSON array or object (one word, no blanks: [1,2] or {\"a\":1})"},
    {HEAD "client xhr\n  shape X a as s\nexpect client\n  at read(s) b=\"x\"\n",
     "7:14: xhr 'xhr' records no property 'b' at 'read': name it in a 'read' step first"},
    {HEAD "client websocket\n  new {A}/w\n  send value 1 2\n" EXP, "6:16: unexpected '2' (write: send value [JSON])"},
    {HEAD "client websocket\n  new value ws://x\n" EXP, "5:13: not a JSON value (null, true, false, a number or a \"string\")"},
    {HEAD "client websocket\n  new {A}/w\n  send value nul\n" EXP, "6:14: not a JSON value (null, true, false, a number or a \"string\")"},
    {HEAD "client websocket\n  new {A}/w\n  send form a=\"1\"\n" EXP, "6:8: write: send text STRING | send binary hex HEX | send binary STRING | send blob ... | send typed ... | "
                                                                    "send utf16 hex ... | "
                                                                    "send value [JSON]"},
    {HEAD "client websocket\n  new {A}/w\n  send binary x\n" EXP, "6:15: a string expected (\"...\")"},
    {CLIENT("client xhr\n  watch\n"), "5:8: missing properties (write: watch PROP...)"},
    {CLIENT("client xhr\n  watch 3x\n"), "5:9: a bad property name '3x'"},
    /* expect sections (§6) */
    {HEAD CLI "expect client foo\n  never load\n", "7:15: no client object named 'foo'"},
    {HEAD "client xhr a\n  send\nclient xhr b\n  send\nexpect client\n  never load\n", "8:8: name the object: expect client NAME (the case has 2)"},
    {EXPECT("  nevr load\n"), "8:3: unknown expectation 'nevr'"},
    {EXPECT("  requests none\n"), "8:3: 'requests' is not an expectation of expect client"},
    {EXPSRV("  final status=0\n"), "10:3: 'final' is not an expectation of expect server"},
    {HEAD CLI "expect cors\n  never load\n", "7:8: there is no cors section to check"},
    {HEAD CLI "expect corz\n  never load\n", "7:8: unknown expect section 'corz' (client, server, cors)"},
    {EXPECT("  never 9x\n"), "8:9: a bad event atom (an event name like load or upload.progress, or '.')"},
    {EXPECT("  events load)\n"), "8:14: an unbalanced ')' in the pattern"},
    {EXPECT("  events *load\n"), "8:10: a quantifier with nothing before it"},
    {EXPECT("  events load{3,1}\n"), "8:14: a bad repeat: {n,m} needs m >= n"},
    {EXPECT("  events load+*\n"), "8:15: a second quantifier (group the item first)"},
    {EXPECT("  events load |\n"), "8:16: an empty pattern or alternative"},
    {EXPECT("  count load x\n"), "8:14: bad count 'x' (write N or N+)"},
    {EXPECT("  at load\n"), "8:10: missing words (write: at ATOM[#n] PROP=VALUE...)"},
    {EXPECT("  final readyState\n"), "8:19: '=' expected after the property name"},
    {EXPECT("  final status=0 status=1\n"), "8:18: property 'status' named twice"},
    {EXPECT("  within load loadend 1s 10ms\n"), "8:30: missing words (write: within ATOM ATOM DURATION +- DURATION | >= DURATION | <= DURATION)"},
    {EXPECT("  within load loadend 1s + 10ms\n"), "8:26: '+-' expected (DURATION +- DURATION, >= DURATION or <= DURATION)"},
    {EXPECT("  never load\n    ruel \"x\"\n"), "9:5: unknown attachment 'ruel' (rule, spec, level)"},
    {EXPECT("  never load\n    rule x\n"), "9:10: a string expected (\"...\")"},
    {EXPECT("  never load\n    level may\n"), "9:11: the level is must or should"},
    {EXPECT("  never load\n    rule \"a\"\n    rule \"b\"\n"), "10:5: a second 'rule' on one expectation"},
    {EXPECT("  final responseURL={nope}\n"), "8:21: unknown placeholder {nope} in expect text"},
    {EXPSRV("  count GET 2\n"), "10:13: a selector is METHOD PATH[#n] or #n (PATH from '/')"},
    {EXPSRV("  count GET /a#2 1\n"), "10:9: count takes METHOD PATH (every request to it), not one request"},
    {EXPSRV("  requests GET /a,, GET /b\n"), "10:19: an empty request selector"},
    {EXPSRV("  interval begin(GET /a) end(GET /a) 1s +- 1ms\n"), "10:12: a point is request(SEL), end(SEL) or closed(SEL)"},
    {EXPSRV("  body GET /a sha256 abc\n"), "10:22: a SHA-256 is 64 hex digits"},
    {EXPSRV("  closed GET /a by nobody\n"), "10:17: write: closed SELECTOR by client|server [fin|rst]"},
    {EXPSRV("  header #0 Host present\n"), "10:10: a bad request number (write #n, n from 1)"},
    {HEAD CLI "expect client\n", "7:1: an expect section needs at least one expectation"},
    /* string expressions (§1.4) */
    {SRV("  status 200\n  body \"a\"*\n"), "6:12: a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)"},
    {SRV("  status 200\n  body \"a\"*2*3\n"), "6:13: a second '*' (one count per string: \"ab\"*6, not \"ab\"*2*3)"},
    {SRV("  status 200\n  body \"a\"+b\n"), "6:12: a string after '+' (write \"a\"+\"b\", without blanks)"},
    {SRV("  status 200\n  body \"a\"*3x\n"), "6:13: unexpected 'x' after the string (no blanks in \"a\"*3+\"b\")"},
    {SRV("  status 200\n  body \"a\" *3\n"), "6:12: unexpected words after the string"},
    {SRV("  status 200\n  body \"ab\"*8388609\n"), "6:12: the string would hold more than 16777216 bytes (write a shorter count)"},
    {SRV("  status 200\n  body \"{x}\"*2\n"), "6:8: unknown placeholder {x} in server text"},
    {SRV("  ws-accept\n  ws-send ping \"p\"*126\n"), "6:3: a control frame payload of 126 bytes (over 125, RFC 6455 §5.5): add `oversize` if the case means it"},
    {EXPECT("  at load responseText=\"a\"*x\n"), "8:28: a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)"},
    {EXPSRV("  header GET /a X = \"a\"*\n"), "10:25: a count after '*': 0 to 16777216, no leading zeros (write \"a\"*123)"},
    {SRV("  send \"a\"*16777216\n  send \"a\"*16777216\n  send \"a\"*16777216\n  send \"a\"*16777216\n  send \"a\"*16777216\n"),
     "9:11: string expressions make more than 67108864 bytes in this file (all its cells together)"},
    /* literal blocks (§1.5) */
    {SRV("  send <<HTTP(crlf)\n    x\n"), "5:8: an unterminated block: no line 'HTTP' closes it (the rest of the file is its text)"},
    {SRV("  send <<HTTP\n    x\n    HTTP\n"), "5:14: a block names its line end: write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end"},
    {SRV("  send <<HTTP(lf, nl)\n    x\n    HTTP\n"), "5:19: a bad block option (write <<TAG(crlf), <<TAG(lf) or <<TAG(cr), and chomp after a comma to drop the last line end)"},
    {SRV("  send <<B(lf)\n    x\n  y\n    B\n"), "7:3: a block line indented less than the line that closes the block (4 spaces)"},
    {SRV("  send <<B(lf)\n    caf\xc3\n    B\n"), "6:8: the line is not UTF-8 text"},
    {SRV("  send <<B(lf)\n    B\n"), "5:8: an empty send writes nothing"},
    {SRV("  status 200\n  header X-A: <<B(lf)\n    B\n"), "6:15: nothing here takes a block (a block stands where a STRING does)"},
    {HEAD "tags <<B(lf)\n  B\n" CLI EXP, "4:6: a bad tag (letters, digits and ._- only)"},
    {CLIENT("client xhr\n  header <<A(lf) <<B(lf)\n  A\n"), "5:18: a block opens only where <<TAG is written in the file, once a line (not from $NAME)"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x\nserver GET /x\n  send <<B(lf)\n    $nope\n    B\n" CLI EXP,
     "8:5: unknown axis '$nope'"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis v b=\"<<B(lf)\"\nserver GET /x\n  send $v\n" CLI EXP,
     "7:8: a block opens only where <<TAG is written in the file, once a line (not from $NAME) [cell b]"},
    {SRV("  send <<B(lf)x\n    B\n"), "5:15: unexpected 'x' after the block's opener"},
    {SRV("  send <<B(lf)\n    {nope}\n    B\n"), "5:8: unknown placeholder {nope} in server text"}, /* at the opener */
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis v x=\"a\"*3\n" CLI EXP,
     "5:12: a bad axis value: after '=' comes a string"},
    /* matrices (§3) */
    {HEAD "title2 $nope\n" CLI EXP, "4:1: unknown word 'title2' (a meta line: case title spec tags needs deadline settle page global wpt; or a section: server client expect matrix)"},
    {"case xhr/m\ntitle T $nope\nspec https://x.test/#a\nmatrix\n  axis a x y\n" CLI EXP, "2:9: unknown axis '$nope'"},
    {"case xhr/m\ntitle costs $5\nspec https://x.test/#a\nmatrix\n  axis a x\n" CLI EXP, "2:13: a lone '$' (write '$$' for a literal '$')"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x\n[a=z] tags t\n" CLI EXP, "6:4: axis 'a' has no label 'z'"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x\n[b=x] tags t\n" CLI EXP, "6:2: unknown axis 'b' in a guard"},
    {HEAD "[a=b] tags t\n" CLI EXP, "4:1: a guard, but the file declares no matrix"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis m GET get\n" CLI EXP, "5:14: a duplicate label 'get' in axis 'm'"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis m -x\n" CLI EXP, "5:10: a bad axis value (write label or label=\"text\"; labels are [a-z0-9][a-z0-9._]*)"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis m a\n  exclude n=a\n" CLI EXP, "6:11: unknown axis 'n'"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis m a\n  exclude m=a\n" CLI EXP, "4:1: the excludes remove every cell of the matrix"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n" CLI EXP, "4:1: a matrix section needs at least one axis"},
    {"case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis code ok=\"200\" big=\"1000\"\nserver GET /x\n  status $code\n" CLI EXP,
     "7:10: status code 1000 is out of range 0-999 [cell big]"},
};

START_TEST(bad_table)
{
    const struct bad *b = &bad[_i];
    json_t *out = json_array(), *errs = json_array();
    char text[4096], want[1024], first[4096];
    const char *at = strstr(b->error, "@F"), *tat = strstr(b->error, "@T");
    if (at) snprintf(want, sizeof want, "%.*s%s%s", (int)(at - b->error), b->error, fixtures, at + 2);
    else if (tat) snprintf(want, sizeof want, "%.*s%s%s", (int)(tat - b->error), b->error, topics, tat + 2);
    else snprintf(want, sizeof want, "%s", b->error);
    int n = ch_script_parse_text("t.case", b->text, strlen(b->text), fixtures, out, errs);
    error_text(errs, text, sizeof text);
    ck_assert_msg(n > 0, "row %d: no error (wanted %s)", _i, want);
    ck_assert_int_eq(json_array_size(out), 0);
    size_t wl = strlen(want);
    if (wl > 0 && want[wl - 1] == '\n') snprintf(first, sizeof first, "%s", text);
    else snprintf(first, sizeof first, "%.*s", (int)strcspn(text, "\n"), text);
    ck_assert_msg(strcmp(first, want) == 0, "row %d:\n  want %s\n  got  %s", _i, want, text);
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* A matrix expands to one case per kept cell, in axis order (first axis slowest). */
START_TEST(matrix_cells)
{
    const char *text = "case cors/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x y\n  axis b P Q\n"
                       "  exclude a=y b=p\n" CLI EXP;
    json_t *out = json_array(), *errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, strlen(text), fixtures, out, errs), 0);
    ck_assert_int_eq(json_array_size(out), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "id")), "cors/m/x-p");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 1), "id")), "cors/m/x-q");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 2), "id")), "cors/m/y-q");
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* Every error is reported, not just the first, and a repeat across cells only once. */
START_TEST(all_errors)
{
    const char *text = "case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x y\n"
                       "server GET /x\n  sattus 200\n  status 9999\n" CLI "expect client\n  nevr load\n";
    json_t *out = json_array(), *errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, strlen(text), fixtures, out, errs), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "cell")), "x");
    json_decref(out);
    json_decref(errs);
    /* Lines under a header in error are still checked. */
    text = HEAD "server GET nopath\n  sattus 200\n" CLI "expect client nobody\n  nevr load\n";
    out = json_array();
    errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, strlen(text), fixtures, out, errs), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errs, 3), "line")), 10);
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* An error repeated by every cell is listed once; one whose message differs by cell, once per message; a word cut
 * inside a UTF-8 sequence in a message becomes '?', so the list stays JSON text (words.c, add_error). */
START_TEST(errors_listed_once_by_place_and_message)
{
    const char *text = "case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x y\n"
                       "server GET /x\n  sattus 200\n  sattus 200\n"
                       "client xhr\n  open GET {A}/x\n  bogus$a\n  aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\u00e9\n" EXP;
    json_t *out = json_array(), *errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, strlen(text), fixtures, out, errs), 5);
    ck_assert_int_eq(json_array_size(errs), 5);
    static const struct { int line, col; const char *message, *cell; } want[] = {
        {7, 3, "unknown step 'sattus' in a server section", "x"},
        {8, 3, "unknown step 'sattus' in a server section", "x"},
        {11, 3, "unknown step 'bogusx' in a client xhr section", "x"},
        {12, 3, "unknown step 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?' in a client xhr section", "x"},
        {11, 3, "unknown step 'bogusy' in a client xhr section", "y"},
    };
    for (size_t i = 0; i < 5; i++) {
        json_t *e = json_array_get(errs, i);
        ck_assert_int_eq(json_integer_value(json_object_get(e, "line")), want[i].line);
        ck_assert_int_eq(json_integer_value(json_object_get(e, "col")), want[i].col);
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), want[i].message));
        ck_assert_str_eq(json_string_value(json_object_get(e, "cell")), want[i].cell);
    }
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* SC_MAX_ERRORS (100) errors, which the second cell repeats: they are all, and "too many errors" is said only
 * for a new one after them. */
START_TEST(too_many_errors_only_for_a_new_one)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "case xhr/m\ntitle T\nspec https://x.test/#a\nmatrix\n  axis a x y\n"
                                                   "server GET /x\n");
    for (int i = 0; i < 100; i++) n += (size_t)snprintf(text + n, sizeof text - n, "  sattus 200\n");
    n += (size_t)snprintf(text + n, sizeof text - n, CLI EXP);
    json_t *out = json_array(), *errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, n, fixtures, out, errs), 100);
    for (size_t i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(errs, i), "message")), "sattus"));
    json_decref(out);
    json_decref(errs);
    n -= strlen(CLI EXP); /* one error more, in every cell */
    n += (size_t)snprintf(text + n, sizeof text - n, "  sattus 200\n" CLI EXP);
    out = json_array();
    errs = json_array();
    ck_assert_int_eq(ch_script_parse_text("t.case", text, n, fixtures, out, errs), 101);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 100), "message")),
                     "too many errors; the rest of the file is not checked");
    json_decref(out);
    json_decref(errs);
}
END_TEST

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* ch_script_load walks directories in sorted order, reads only *.case, and refuses an id defined twice. */
START_TEST(load_tree)
{
    char dir[] = "/tmp/check_script_XXXXXX", path[512], *paths[1] = {dir};
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub", dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/b.case", dir);
    write_file(path, HEAD CLI EXP);
    snprintf(path, sizeof path, "%s/sub/a.case", dir);
    write_file(path, "case xhr/other\ntitle T\nspec https://x.test/#a\n" CLI EXP);
    snprintf(path, sizeof path, "%s/sub/notes.txt", dir);
    write_file(path, "not a case");
    snprintf(path, sizeof path, "%s/sub/c.case", dir);
    write_file(path, "\n\ncase  xhr/t\ntitle T\nspec https://x.test/#a\n" CLI EXP);
    json_t *out = json_array(), *errs = json_array();
    ck_assert_int_eq(ch_script_load(paths, 1, fixtures, out, errs), 1);
    ck_assert_int_eq(json_array_size(out), 2);
    json_t *e = json_array_get(errs, 0);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "line")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(e, "col")), 7);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "message")), "duplicate case id 'xhr/t' (also defined at"));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "file")), "sub/c.case"));
    json_decref(out);
    json_decref(errs);
    errs = json_array();
    out = json_array();
    snprintf(path, sizeof path, "%s/none.case", dir);
    paths[0] = path;
    ck_assert_int_eq(ch_script_load(paths, 1, fixtures, out, errs), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(errs, 0), "line")), 0);
    json_decref(out);
    json_decref(errs);
}
END_TEST

/* The printed form is file:line:col: message [cell C]. */
START_TEST(print_errors)
{
    json_t *errs = json_pack("[{s:s, s:i, s:i, s:s, s:s}]", "file", "a.case", "line", 7, "col", 3, "message", "m", "cell", "x-y");
    char buf[256] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    ch_script_print_errors(errs, f);
    fclose(f);
    ck_assert_str_eq(buf, "a.case:7:3: m [cell x-y]\n");
    json_decref(errs);
}
END_TEST

/* Creates the fixtures directory the rows parse against, with a.txt of 3 bytes. */
static void make_fixtures(void)
{
    char path[300];
    snprintf(fixtures, sizeof fixtures, "/tmp/check_script_fixtures_XXXXXX");
    if (!mkdtemp(fixtures)) abort();
    snprintf(path, sizeof path, "%s/a.txt", fixtures);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs("abc", f);
    fclose(f);
    snprintf(topics, sizeof topics, "%s/topics.json", fixtures);
    f = fopen(topics, "w");
    if (!f) abort();
    fputs("{\"topics\": [{\"id\": \"X01\", \"files\": [\"xhr/a.htm\", \"xhr/sub/b.any.js\", \"xhr/h2.htm\"],"
          " \"files_not_here\": {\"xhr/h2.htm\": \"HTTP/2\"}},"
          " {\"id\": \"X02\", \"files\": [\"xhr/worker.htm\"], \"not_here\": \"no workers\"},"
          " {\"id\": \"E01\", \"files\": [\"eventsource/c.htm\"]}]}", f);
    fclose(f);
    setenv("CH_WPT_TOPICS", topics, 1);
}

int main(void)
{
    make_fixtures();
    int rc = ch_check_main("script", 0,
                           CH_LOOPS(CH_LOOP(good_table, good), CH_LOOP(bad_table, bad)),
                           CH_TESTS(matrix_cells, all_errors, errors_listed_once_by_place_and_message,
                                  too_many_errors_only_for_a_new_one, load_tree, print_errors));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixtures);
    return system(cmd) == 0 ? rc : EXIT_FAILURE;
}
