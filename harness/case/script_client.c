/* script_client.c — client sections (cases/FORMAT.md §5) into the client program of harness/MODEL.md §1.2:
 * objects, steps (each with "obj", "op", its fields, "line") and handlers (`on EVENT STEP`). Also the
 * kinds, their events and properties are declared in vocab.c, which also derives the capabilities a program
 * implies (§5.6) from the steps emitted here. Placeholders in URLs, header values and bodies are checked in context "client". */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"
#include "core/core.h"

#define ALL_KINDS 0x7fu
#define BIT(k) (1u << (k))

/* ---- shared word forms ----------------------------------------------------------------------------- */

/* Word k must be a quoted string (FORMAT.md writes STRING): its JSON string. */
static json_t *quoted(struct pctx *c, const struct stmt *st, size_t k)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!w || !sc_string_start(w, n)) return sc_err_word(c, st, k, "a string expected (\"...\")"), NULL;
    return sc_text(c, st, k, "client");
}

/* Words [from, to) as hex: lowercase digits without blanks. */
static json_t *hex_words(struct pctx *c, const struct stmt *st, size_t from, size_t to)
{
    unsigned char *b;
    size_t n, at = 0;
    char err[CH_ERR_LEN];
    if (from >= to) return sc_err_word(c, st, from, "missing hex digits"), NULL;
    size_t start = sc_off(st, from), end = sc_off(st, to - 1) + st->ln->tok[st->first + to - 1].len;
    if (ch_lex_hex(st->ln->text + start, end - start, &b, &n, &at, err) < 0) return sc_err(c, st->ln, start + at, "%s", err), NULL;
    json_t *v = ch_hex_json(b, n);
    free(b);
    return v;
}

/* The index of the first word from k on equal to w, or the word count. */
static size_t find_word(const struct stmt *st, size_t k, const char *w)
{
    while (k < sc_nwords(st) && !sc_is(st, k, w)) k++;
    return k;
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
    if (!v) return -1;
    json_object_set_new(obj, key, v);
    return 0;
}

/* ---- steps common to every kind (§5) --------------------------------------------------------------- */

static int step_await(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    long count = 1;
    if (sc_args(c, st, 1, 3, "await EVENT [count N]") < 0) return -1;
    if (set_new(step, "event", sc_atom_word(c, st, 1, o, "client", NULL)) < 0) return -1;
    if (sc_nwords(st) > 2) {
        if (!sc_is(st, 2, "count") || sc_nwords(st) != 4) return sc_err_word(c, st, 2, "write: await EVENT [count N]");
        if (sc_int(c, st, 3, 1, 100000, &count, "count") < 0) return -1;
    }
    json_object_set_new(step, "count", json_integer(count));
    return 0;
}

static int step_wait(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    long ms;
    if (sc_args(c, st, 1, 1, "wait DURATION") < 0 || sc_duration(c, st, 1, &ms) < 0) return -1;
    json_object_set_new(step, "ms", json_integer(ms));
    return 0;
}

/* `block DURATION`: the program's global runs nothing else for DURATION (a long task: the interpreter
 * busy-waits; FORMAT.md §5). */
static int step_block(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    long ms;
    (void)o;
    if (sc_args(c, st, 1, 1, "block DURATION") < 0 || sc_duration(c, st, 1, &ms) < 0) return -1;
    json_object_set_new(step, "ms", json_integer(ms));
    return 0;
}

static int is_prop_word(const char *w, size_t n)
{
    if (n == 0 || !((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z') || w[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') ||
              w[i] == '_' || w[i] == '.' || w[i] == ':' || w[i] == '-'))
            return 0;
    return 1;
}

static int is_label_word(const char *w, size_t n)
{
    if (n == 0 || !((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= '0' && w[0] <= '9'))) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '.' || w[i] == '_' || w[i] == '-'))
            return 0;
    return 1;
}

/* `of NAME` after read's properties: the read is a step of object NAME, declared by an earlier section, though it
 * runs at this section's place in the program (FORMAT.md §5): what another step of this section did to NAME is
 * read in the same task. Not inside `on` (a handler's step belongs to its own object). */
static int read_of(struct pctx *c, const struct stmt *st, size_t k, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    struct cobj *of;
    if (!json_object_get(step, "obj")) return sc_err_word(c, st, k - 1, "'of NAME' cannot be used inside 'on'");
    if (!(of = sc_find_obj(c, w, n)))
        return sc_err_word(c, st, k, "no object '%.*s' declared by an earlier client section", (int)(n > 40 ? 40 : n), w);
    if (of == o) return sc_err_word(c, st, k - 1, "'of %s' names this section's own object: leave it out", o->name);
    json_object_set_new(step, "obj", json_string(of->name));
    return 0;
}

/* `read PROP... [of NAME] [as LABEL]` */
static int step_read(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n, end = find_word(st, 1, "as"), of = find_word(st, 1, "of");
    const char *w;
    json_t *props = json_array();
    json_object_set_new(step, "props", props);
    if (of > end) of = end;
    if (of == 1 || end == 1) return sc_err_word(c, st, 1, "missing properties (write: read PROP... [of NAME] [as LABEL])");
    for (size_t k = 1; k < of; k++) {
        w = sc_word(st, k, &n);
        if (!is_prop_word(w, n)) return sc_err_word(c, st, k, "a bad property name '%.*s'", (int)(n > 40 ? 40 : n), w);
        json_array_append_new(props, json_stringn(w, n));
    }
    if (of < end) {
        if (end != of + 2) return sc_err_word(c, st, of, "write: read PROP... of NAME (one object name)");
        if (read_of(c, st, of + 1, o, step) < 0) return -1;
    }
    if (end == sc_nwords(st)) return 0;
    if (sc_nwords(st) != end + 2) return sc_err_word(c, st, end, "write: read PROP... as LABEL (one label, last)");
    w = sc_word(st, end + 1, &n);
    if (!is_label_word(w, n)) return sc_err_word(c, st, end + 1, "a bad label (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, "label", json_stringn(w, n));
    return 0;
}

/* `watch PROP...`: the properties every later event of the object records in its state. */
static int step_watch(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w;
    json_t *props = json_array();
    json_object_set_new(step, "props", props);
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "missing properties (write: watch PROP...)");
    for (size_t k = 1; k < sc_nwords(st); k++) {
        w = sc_word(st, k, &n);
        if (!is_prop_word(w, n)) return sc_err_word(c, st, k, "a bad property name '%.*s'", (int)(n > 40 ? 40 : n), w);
        json_array_append_new(props, json_stringn(w, n));
    }
    return 0;
}

static int step_plain(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w = sc_word(st, 0, &n);
    char usage[SC_NAME_LEN];
    snprintf(usage, sizeof usage, "%.*s", (int)n, w);
    return sc_args(c, st, 0, 0, usage);
}

/* ---- xhr (§5.1) ------------------------------------------------------------------------------------ */

#define OPEN_USAGE "open METHOD URL [sync | objects] [user U] [password P] [utf16 hex HHHH...]"

/* `open METHOD URL [sync | objects] [user U] [password P]`, or `open METHOD blob STRING ...`: the URL is a blob:
 * URL the interpreter makes of a Blob of STRING (URL.createObjectURL), so a fetch of a blob: URL can be checked.
 * `objects` passes every argument as an object for open()'s WebIDL conversions: the strings as objects whose
 * toString records `read(open.ARG)` and returns the string, async as an object whose valueOf records
 * `read(open.async)` (FORMAT.md §5.1). `utf16 hex HHHH...`, last, appends UTF-16 code units to URL (4 hex digits
 * each, as `send utf16`), so the URL open() is given may hold a lone surrogate, which a case string cannot. */
static int step_open(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    int sync = 0;
    size_t n, first = 3;
    const char *w = sc_nwords(st) > 3 ? sc_word(st, 3, &n) : NULL;
    size_t max = find_word(st, 3, "utf16") < sc_nwords(st) ? 1000000 : 8; /* hex words: any number */
    if (sc_args(c, st, 2, max, OPEN_USAGE) < 0) return -1;
    if (set_new(step, "method", sc_text(c, st, 1, "client")) < 0) return -1;
    if (sc_is(st, 2, "blob") && w && sc_string_start(w, n)) {
        if (set_new(step, "blob", sc_text(c, st, 3, "client")) < 0) return -1;
        first = 4;
    } else if (set_new(step, "url", sc_text(c, st, 2, "client")) < 0) {
        return -1;
    }
    json_object_set_new(step, "async", json_true());
    for (size_t k = first; k < sc_nwords(st); k++) {
        if (sc_is(st, k, "utf16") && first == 3) {
            if (k + 1 >= sc_nwords(st) || !sc_is(st, k + 1, "hex")) return sc_err_word(c, st, k, "write: utf16 hex HHHH...");
            json_t *hex = hex_words(c, st, k + 2, sc_nwords(st));
            if (!hex) return -1;
            json_object_set_new(step, "url_utf16", hex);
            if (json_string_length(hex) % 4 != 0) return sc_err_word(c, st, k + 2, "UTF-16 code units are 4 hex digits each");
            break;
        }
        const char *key = sc_is(st, k, "user") ? "user" : sc_is(st, k, "password") ? "password" : NULL;
        if ((sc_is(st, k, "sync") || sc_is(st, k, "objects")) && !sync) { /* one of the two, once */
            sync = 1;
            if (sc_is(st, k, "sync")) json_object_set_new(step, "async", json_false());
            else json_object_set_new(step, "objects", json_true());
            continue;
        }
        if (!key || json_object_get(step, key) || k + 1 >= sc_nwords(st)) return sc_err_word(c, st, k, "write: " OPEN_USAGE);
        if (set_new(step, key, sc_text(c, st, ++k, "client")) < 0) return -1;
    }
    return 0;
}

static int step_header(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 2, 2, "header NAME VALUE") < 0) return -1;
    if (set_new(step, "name", sc_text(c, st, 1, "client")) < 0) return -1;
    return set_new(step, "value", sc_text(c, st, 2, "client"));
}

/* A word from a fixed list, or any string (written as one, so an invalid value is deliberate). */
static json_t *choice(struct pctx *c, const struct stmt *st, size_t k, const char *const *list, const char *what)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (w && sc_string_start(w, n)) return sc_text(c, st, k, "client");
    for (; w && *list; list++)
        if (sc_is(st, k, *list)) return json_string(*list);
    return sc_err_word(c, st, k, "unknown %s '%.*s' (a string for any other value)", what, (int)(n > 40 ? 40 : n), w ? w : ""),
           NULL;
}

static int set_handler(struct pctx *c, const struct stmt *st, json_t *step);
static int json_value_words(struct pctx *c, const struct stmt *st, size_t from, size_t to, json_t *values);

/* `new value [JSON...]` (xhr, first in its section): new XMLHttpRequest(values...), raw values as `send value`
 * takes them, for what WebIDL makes of arguments the constructor does not declare (it declares none). */
static int step_new_xhr(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (!sc_is(st, 1, "value")) return sc_err_word(c, st, sc_nwords(st) > 1 ? 1 : 0, "write: new value [JSON...]");
    json_t *values = json_array();
    json_object_set_new(step, "values", values);
    return json_value_words(c, st, 2, sc_nwords(st), values);
}

/* `set timeout DURATION` / `set responseType WORD` / `set withCredentials true|false` /
 * `set onreadystatechange handler NAME | handle-event NAME | value JSON` (the handler forms as a websocket's) */
static int step_set_xhr(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const types[] = {"arraybuffer", "blob", "document", "json", "text", NULL};
    long ms;
    if (sc_is(st, 1, "onreadystatechange")) {
        json_object_set_new(step, "prop", json_string("onreadystatechange"));
        return set_handler(c, st, step);
    }
    if (sc_args(c, st, 2, 2,
                "set timeout DURATION | set responseType WORD | set withCredentials true|false | set onreadystatechange handler NAME") < 0)
        return -1;
    if (sc_is(st, 1, "timeout")) {
        if (sc_duration(c, st, 2, &ms) < 0) return -1;
        json_object_set_new(step, "prop", json_string("timeout"));
        json_object_set_new(step, "ms", json_integer(ms));
        return 0;
    }
    if (sc_is(st, 1, "responseType")) {
        json_object_set_new(step, "prop", json_string("responseType"));
        return set_new(step, "value", choice(c, st, 2, types, "responseType"));
    }
    if (!sc_is(st, 1, "withCredentials")) return sc_err_word(c, st, 1, "unknown property (timeout, responseType, withCredentials, onreadystatechange)");
    if (!sc_is(st, 2, "true") && !sc_is(st, 2, "false")) return sc_err_word(c, st, 2, "withCredentials is true or false");
    json_object_set_new(step, "prop", json_string("withCredentials"));
    json_object_set_new(step, "value", json_boolean(sc_is(st, 2, "true")));
    return 0;
}

static int step_mime(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 1, "mime TYPE") < 0) return -1;
    return set_new(step, "type", sc_text(c, st, 1, "client"));
}

static int step_listen_upload(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 1, "listen upload") < 0) return -1;
    if (!sc_is(st, 1, "upload")) return sc_err_word(c, st, 1, "an xhr listens to 'upload' (write: listen upload)");
    json_object_set_new(step, "target", json_string("upload"));
    return 0;
}

/* One `send form` field: name="value" or name=file:FILENAME:TYPE:"content". */
static json_t *form_field(struct pctx *c, const struct stmt *st, size_t k)
{
    size_t n, off = sc_off(st, k);
    const char *w = sc_word(st, k, &n), *eq = memchr(w, '=', n), *v;
    if (!eq || eq == w || memchr(w, '"', (size_t)(eq - w)))
        return sc_err_word(c, st, k, "a form field is name=\"value\" or name=file:NAME:TYPE:\"content\""), NULL;
    json_t *field = json_pack("{s:s%}", "name", w, (size_t)(eq - w));
    v = eq + 1;
    size_t i = off + (size_t)(v - w), end = off + n;
    if (sc_tmpl(c, st->ln, off, w, (size_t)(eq - w), "client", 1) < 0) goto fail;
    if (end - i > 5 && memcmp(v, "file:", 5) == 0) {
        const char *fn = v + 5, *c1 = memchr(fn, ':', (size_t)(w + n - fn)), *c2;
        c2 = c1 ? memchr(c1 + 1, ':', (size_t)(w + n - c1 - 1)) : NULL;
        if (!c2 || c2[1] != '"') {
            sc_err(c, st->ln, i, "a file field is name=file:FILENAME:TYPE:\"content\"");
            goto fail;
        }
        json_t *file = json_pack("{s:s%, s:s%}", "name", fn, (size_t)(c1 - fn), "type", c1 + 1, (size_t)(c2 - c1 - 1));
        json_object_set_new(field, "file", file);
        i = off + (size_t)(c2 + 1 - w);
    } else if (!sc_string_start(v, end - i)) {
        sc_err(c, st->ln, i, "a form value is a string (name=\"value\")");
        goto fail;
    }
    json_t *val = sc_value(c, st->ln, &i, end, "client");
    json_object_set_new(json_object_get(field, "file") ? json_object_get(field, "file") : field, "value", val);
    if (!val) goto fail;
    if (i < end) {
        sc_err(c, st->ln, i, "unexpected '%c' after the string", st->ln->text[i]);
        goto fail;
    }
    return field;
fail:
    json_decref(field);
    return NULL;
}

static int send_form(struct pctx *c, const struct stmt *st, json_t *body)
{
    json_t *fields = json_array();
    json_object_set_new(body, "fields", fields);
    for (size_t k = 2; k < sc_nwords(st); k++) {
        json_t *f = form_field(c, st, k);
        if (!f) return -1;
        json_array_append_new(fields, f);
    }
    return 0;
}

/* `send blob STRING [type TYPE]` / `send blob hex HEX [type TYPE]` */
static int send_blob(struct pctx *c, const struct stmt *st, json_t *body)
{
    size_t type_at = find_word(st, 2, "type");
    if (sc_is(st, 2, "hex")) {
        if (set_new(body, "hex", hex_words(c, st, 3, type_at)) < 0) return -1;
    } else {
        if (type_at != 3) return sc_err_word(c, st, 2, "write: send blob STRING [type TYPE] or send blob hex HEX [type TYPE]");
        if (set_new(body, "value", quoted(c, st, 2)) < 0) return -1;
    }
    if (type_at == sc_nwords(st)) return 0;
    if (sc_nwords(st) != type_at + 2) return sc_err_word(c, st, type_at, "write: ... type TYPE (last)");
    return set_new(body, "mime", sc_text(c, st, type_at + 1, "client"));
}

/* `send typed ARRAY hex HEX [offset N] [length N]`: a view over the bytes, as `new ARRAY(buffer, offset, length)`
 * takes them (offset in bytes, length in elements); the view must fit the bytes and the element size. */
static int send_typed(struct pctx *c, const struct stmt *st, json_t *body)
{
    static const struct { const char *name; size_t size; } arrays[] = {
        {"Int8Array", 1},    {"Uint8Array", 1},   {"Int16Array", 2},   {"Uint16Array", 2},
        {"Int32Array", 4},   {"Uint32Array", 4},  {"Float32Array", 4}, {"Float64Array", 8}, {"DataView", 1}};
    size_t a = 0, end = find_word(st, 4, "offset"), len_at = find_word(st, 4, "length");
    long offset = 0, length = -1;
    while (a < sizeof arrays / sizeof *arrays && !sc_is(st, 2, arrays[a].name)) a++;
    if (a == sizeof arrays / sizeof *arrays)
        return sc_err_word(c, st, 2, "unknown array type (Int8Array Uint8Array Int16Array Uint16Array Int32Array Uint32Array "
                                      "Float32Array Float64Array DataView)");
    if (!sc_is(st, 3, "hex")) return sc_err_word(c, st, 3, "write: send typed ARRAY hex HEX [offset N] [length N]");
    if (len_at < end) end = len_at;
    json_t *hex = hex_words(c, st, 4, end);
    if (!hex) return -1;
    size_t bytes = json_string_length(hex) / 2;
    json_object_set_new(body, "array", json_string(arrays[a].name));
    json_object_set_new(body, "hex", hex);
    for (size_t k = end; k < sc_nwords(st); k += 2) {
        int is_off = sc_is(st, k, "offset");
        long *v = is_off ? &offset : &length;
        if (!is_off && !sc_is(st, k, "length")) return sc_err_word(c, st, k, "write: ... [offset N] [length N]");
        if (json_object_get(body, is_off ? "offset" : "length")) return sc_err_word(c, st, k, "given twice");
        if (k + 1 == sc_nwords(st)) return sc_err_word(c, st, k, "a count expected after it");
        if (sc_int(c, st, k + 1, 0, (long)bytes, v, is_off ? "offset" : "length") < 0) return -1;
        json_object_set_new(body, is_off ? "offset" : "length", json_integer(*v));
    }
    if ((size_t)offset % arrays[a].size != 0)
        return sc_err_word(c, st, end, "%s needs an offset that is a multiple of %zu", arrays[a].name, arrays[a].size);
    if (length < 0 && (bytes - (size_t)offset) % arrays[a].size != 0)
        return sc_err_word(c, st, 4, "%s needs a multiple of %zu bytes", arrays[a].name, arrays[a].size);
    if (length >= 0 && (size_t)offset + (size_t)length * arrays[a].size > bytes)
        return sc_err_word(c, st, end, "the view ends past the %zu bytes", bytes);
    return 0;
}

/* `send utf16 hex HHHH...`: a string as UTF-16 code units, so a lone surrogate can be written. */
static int send_utf16(struct pctx *c, const struct stmt *st, json_t *body)
{
    json_object_set_new(body, "type", json_string("utf16"));
    if (!sc_is(st, 2, "hex")) return sc_err_word(c, st, 2, "write: send utf16 hex HHHH...");
    json_t *hex = hex_words(c, st, 3, sc_nwords(st));
    if (!hex) return -1;
    json_object_set_new(body, "hex", hex);
    if (json_string_length(hex) % 4 != 0) return sc_err_word(c, st, 3, "UTF-16 code units are 4 hex digits each");
    return 0;
}

/* Words [from, nwords) as raw JSON values (null, true, false, numbers, strings, and arrays or objects written as
 * one JSON word without blanks, `[]`, `[1,2]`, `{"code":1000}`: an object for the WebIDL conversion) appended to values: the arguments of a
 * WebIDL conversion check (`close value`, `send value`). The bare word `undefined` is JavaScript's undefined,
 * which JSON lacks: it goes out as {"undefined": true} (harness/MODEL.md §1.2). */
static int json_value_words(struct pctx *c, const struct stmt *st, size_t from, size_t to, json_t *values)
{
    for (size_t k = from; k < to; k++) {
        size_t n, i = sc_off(st, k);
        const char *w = sc_word(st, k, &n);
        if (n == 9 && memcmp(w, "undefined", 9) == 0) {
            json_array_append_new(values, json_pack("{s:b}", "undefined", 1));
            continue;
        }
        if (n && (w[0] == '[' || w[0] == '{')) {
            json_t *a = json_loadb(w, n, JSON_DECODE_ANY, NULL);
            if (w[0] == '[' ? !json_is_array(a) : !json_is_object(a)) {
                json_decref(a);
                return sc_err_word(c, st, k, "not a JSON array or object (one word, no blanks: [1,2] or {\"a\":1})");
            }
            json_array_append_new(values, a);
            continue;
        }
        json_t *v = sc_value(c, st->ln, &i, sc_off(st, k) + n, "client");
        if (!v) return -1;
        json_array_append_new(values, v);
        if (i != sc_off(st, k) + n || (json_is_string(v) && !sc_string_start(w, n)))
            return sc_err_word(c, st, k, "not a JSON value (null, true, false, a number or a \"string\")");
    }
    return 0;
}

/* The body forms xhr and websocket share: blob, typed, utf16. 1 when word 1 is none of them. */
static int send_shared(struct pctx *c, const struct stmt *st, json_t *body)
{
    if (sc_is(st, 1, "blob")) {
        json_object_set_new(body, "type", json_string("blob"));
        return sc_args(c, st, 2, 1000000, "send blob STRING [type TYPE]") < 0 ? -1 : send_blob(c, st, body);
    }
    if (sc_is(st, 1, "typed")) return json_object_set_new(body, "type", json_string("typed")), send_typed(c, st, body);
    if (sc_is(st, 1, "utf16")) return send_utf16(c, st, body);
    return 1;
}

static json_t *make_step(struct pctx *c, const struct stmt *st, struct cobj *o, int in_handler);

/* `send shared [ARRAY]` (§5.1): a SharedArrayBuffer, or a view ARRAY over one, for send()'s WebIDL conversion. */
static int send_shared_buffer(struct pctx *c, const struct stmt *st, json_t *body)
{
    static const char *const arrays[] = {"Int8Array",  "Uint8Array",   "Int16Array",   "Uint16Array", "Int32Array",
                                         "Uint32Array", "Float32Array", "Float64Array", "DataView",    NULL};
    json_object_set_new(body, "type", json_string("shared"));
    if (sc_args(c, st, 1, 2, "send shared [ARRAY]") < 0) return -1;
    if (sc_nwords(st) == 2) return 0;
    for (size_t a = 0; arrays[a]; a++)
        if (sc_is(st, 2, arrays[a])) return json_object_set_new(body, "array", json_string(arrays[a])), 0;
    return sc_err_word(c, st, 2, "unknown array type (Int8Array Uint8Array Int16Array Uint16Array Int32Array Uint32Array "
                                 "Float32Array Float64Array DataView)");
}

#define SEND_CREATED "send document created [element NAME [attr NAME STRING | attr NAME utf16 hex HHHH...]...]"

/* `send document created [element NAME [attr NAME STRING | attr NAME utf16 hex HHHH...]...]` (§5.1): the empty XML
 * document createDocument(null, null, null) makes, with one element createElement(NAME) appended and its attributes
 * set by setAttribute in order; a value given as UTF-16 code units (4 hex digits each, up to the next `attr`) may
 * hold a lone surrogate. Names are taken as written, so they may be ones no parser accepts ("a:b" unbound). */
static int send_created(struct pctx *c, const struct stmt *st, json_t *body)
{
    size_t k = 3, n = sc_nwords(st);
    json_object_set_new(body, "kind", json_string("created"));
    if (k == n) return 0;
    if (!sc_is(st, k, "element") || k + 1 >= n) return sc_err_word(c, st, k, "write: " SEND_CREATED);
    if (set_new(body, "element", sc_text(c, st, k + 1, "client")) < 0) return -1;
    json_t *attrs = json_array();
    json_object_set_new(body, "attrs", attrs);
    for (k += 2; k < n;) {
        json_t *a = json_object();
        json_array_append_new(attrs, a);
        if (!sc_is(st, k, "attr") || k + 2 >= n) return sc_err_word(c, st, k, "write: " SEND_CREATED);
        if (set_new(a, "name", sc_text(c, st, k + 1, "client")) < 0) return -1;
        if (!sc_is(st, k + 2, "utf16")) {
            if (set_new(a, "value", quoted(c, st, k + 2)) < 0) return -1;
            k += 3;
            continue;
        }
        if (!sc_is(st, k + 3, "hex")) return sc_err_word(c, st, k + 3, "write: " SEND_CREATED);
        size_t end = find_word(st, k + 4, "attr");
        json_t *hex = hex_words(c, st, k + 4, end);
        if (set_new(a, "utf16", hex) < 0) return -1;
        if (json_string_length(hex) % 4 != 0) return sc_err_word(c, st, k + 4, "UTF-16 code units are 4 hex digits each");
        k = end;
    }
    return 0;
}

#define SEND_OBJECT "send object [tostring VALUE | tostring throws NAME] [calling STEP]"

/* `send object [tostring VALUE | tostring throws NAME] [calling STEP]` (§5.1): an ordinary object for the WebIDL
 * conversion of send()'s argument to a string: {} (its toString is Object.prototype's), or one whose toString
 * returns VALUE (a raw value as `send value` takes it: "s", 7, null, undefined, [1] an object) or throws an
 * exception named NAME, after running STEP, a step on the same object as `on` takes one (re-entrancy: open(),
 * send(), abort() called from inside the conversion). */
static int send_object(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *body)
{
    size_t k = 2, n;
    if (sc_is(st, k, "tostring")) {
        json_t *ts = json_object(), *values = json_array();
        json_object_set_new(body, "tostring", ts);
        if (sc_nwords(st) <= k + 1) return json_decref(values), sc_err_word(c, st, k + 1, "write: " SEND_OBJECT);
        if (sc_is(st, k + 1, "throws")) {
            const char *w = sc_nwords(st) > k + 2 ? sc_word(st, k + 2, &n) : NULL;
            json_decref(values);
            if (!w || !sc_is_name(w, n)) return sc_err_word(c, st, k + 2, "an exception name (write [A-Za-z][A-Za-z0-9_-]*)");
            json_object_set_new(ts, "throws", json_stringn(w, n));
            k += 3;
        } else {
            if (json_value_words(c, st, k + 1, k + 2, values) < 0) return json_decref(values), -1;
            json_object_set(ts, "returns", json_array_get(values, 0));
            json_decref(values);
            k += 2;
        }
    }
    if (k == sc_nwords(st)) return 0;
    if (!sc_is(st, k, "calling") || sc_nwords(st) == k + 1) return sc_err_word(c, st, k, "write: " SEND_OBJECT);
    struct stmt sub = *st;
    sub.first += k + 1;
    json_t *nested = make_step(c, &sub, o, 1);
    return nested ? json_object_set_new(body, "calling", nested) : -1;
}

/* `send` and its body forms (§5.1). */
static int step_send_xhr(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    json_t *body;
    if (sc_nwords(st) == 1) return 0;
    body = json_object();
    json_object_set_new(step, "body", body);
    if (sc_is(st, 1, "text") || sc_is(st, 1, "urlencoded")) {
        json_object_set_new(body, "type", json_string(sc_is(st, 1, "text") ? "text" : "urlencoded"));
        if (sc_args(c, st, 2, 2, "send text STRING | send urlencoded STRING") < 0) return -1;
        return set_new(body, "value", quoted(c, st, 2));
    }
    if (sc_is(st, 1, "form")) return json_object_set_new(body, "type", json_string("form")), send_form(c, st, body);
    if (sc_is(st, 1, "formdata")) { /* the FormData the object's `formdata` steps built */
        json_object_set_new(body, "type", json_string("formdata"));
        return sc_args(c, st, 1, 1, "send formdata");
    }
    if (sc_is(st, 1, "buffer")) {
        json_object_set_new(body, "type", json_string("buffer"));
        if (!sc_is(st, 2, "hex")) return sc_err_word(c, st, 2, "write: send buffer hex HEX");
        return set_new(body, "hex", hex_words(c, st, 3, sc_nwords(st)));
    }
    if (sc_is(st, 1, "document")) { /* `send document html|xml STRING`: DOMParser's document of the text */
        json_object_set_new(body, "type", json_string("document"));
        if (sc_is(st, 2, "created")) return send_created(c, st, body);
        if (sc_args(c, st, 3, 3, "send document html|xml STRING") < 0) return -1;
        if (!sc_is(st, 2, "html") && !sc_is(st, 2, "xml")) return sc_err_word(c, st, 2, "write: send document html|xml STRING");
        json_object_set_new(body, "kind", json_string(sc_is(st, 2, "html") ? "html" : "xml"));
        return set_new(body, "value", quoted(c, st, 3));
    }
    if (sc_is(st, 1, "object")) return json_object_set_new(body, "type", json_string("object")), send_object(c, st, o, body);
    if (sc_is(st, 1, "shared")) return send_shared_buffer(c, st, body);
    int rc = send_shared(c, st, body);
    return rc <= 0 ? rc : sc_err_word(c, st, 1, "unknown body form (text urlencoded form formdata blob buffer typed utf16 object document shared)");
}

/* `get-header NAME [as LABEL]`: recorded as `read` with the property `header:NAME`, or, labelled, as `read(LABEL)`
 * with the property `header`, so a name no property name can hold (blanks, newlines) can be checked. */
static int step_get_header(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w;
    if (sc_args(c, st, 1, 3, "get-header NAME [as LABEL]") < 0) return -1;
    if (sc_nwords(st) > 2) {
        w = sc_nwords(st) == 4 ? sc_word(st, 3, &n) : NULL;
        if (!sc_is(st, 2, "as") || !w) return sc_err_word(c, st, 2, "write: get-header NAME [as LABEL]");
        if (!is_label_word(w, n)) return sc_err_word(c, st, 3, "a bad label (write [a-z0-9][a-z0-9._-]*)");
        json_object_set_new(step, "label", json_stringn(w, n));
    }
    return set_new(step, "name", sc_text(c, st, 1, "client"));
}

/* `base URL`: a <base href=URL> inserted first in the page's head, so it is the document's first base element and
 * its href the document base URL that relative URLs resolve against from then on (implies `document`). */
static int step_base(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 1, "base URL") < 0) return -1;
    return set_new(step, "url", sc_text(c, st, 1, "client"));
}

/* `document-domain`: `document.domain = document.domain`, the HTML setter given the document's own effective
 * domain (implies `document`). */
static int step_document_domain(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    (void)o;
    (void)step;
    return sc_args(c, st, 0, 0, "document-domain");
}

/* `same PROP PROP [as LABEL]`: reads the two properties, in order, and records `read(LABEL)` with the property
 * `same`: whether the two reads gave one value (JavaScript ===: for objects, one object). */
static int step_same(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w;
    json_t *props = json_array();
    json_object_set_new(step, "props", props);
    if (sc_args(c, st, 2, 4, "same PROP PROP [as LABEL]") < 0) return -1;
    if (sc_nwords(st) == 4) return sc_err_word(c, st, 3, "write: same PROP PROP [as LABEL]");
    for (size_t k = 1; k < 3; k++) {
        w = sc_word(st, k, &n);
        if (!is_prop_word(w, n)) return sc_err_word(c, st, k, "a bad property name '%.*s'", (int)(n > 40 ? 40 : n), w);
        json_array_append_new(props, json_stringn(w, n));
    }
    if (sc_nwords(st) == 3) return 0;
    w = sc_word(st, 4, &n);
    if (!sc_is(st, 3, "as")) return sc_err_word(c, st, 3, "write: same PROP PROP [as LABEL]");
    if (!is_label_word(w, n)) return sc_err_word(c, st, 4, "a bad label (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, "label", json_stringn(w, n));
    return 0;
}

/* ---- formdata (§5.1): a FormData the `formdata` steps build and read, and `send formdata` sends ---------- */

#define FD_FORM_USAGE "formdata form HTML|null|undefined|params:\"QUERY\"|string:\"S\" [submitter SELECTOR|null|undefined]" /* HTML: or utf16:H */
/* the whole word in short (it fits an error message); FD_FORM_USAGE and the other messages give each form in full */
#define FORMDATA_USAGE "formdata form HTML [submitter S], formdata append|set NAME VALUE [filename F], formdata delete NAME, " \
                       "formdata get|getall|has NAME as LABEL, formdata iterate|entries|keys|values as LABEL [after NAME MUTATION]"

/* A FormData string argument, word k: `utf16:HHHH...` (UTF-16 code units, 4 hex digits each, so a lone surrogate can
 * be written: {"utf16": hex}), the bare words `null` and `undefined` (the JavaScript values, for the WebIDL
 * conversion to a string: {"undefined": true} as MODEL.md §1.2's raw values), or a word or "string" (its JSON string). */
static json_t *fd_string(struct pctx *c, const struct stmt *st, size_t k)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!w) return sc_err_word(c, st, k, "write: " FORMDATA_USAGE), NULL;
    if (n == 4 && memcmp(w, "null", 4) == 0) return json_null(); /* converted to a string by WebIDL: "null" */
    if (n == 9 && memcmp(w, "undefined", 9) == 0) return json_pack("{s:b}", "undefined", 1);
    if (n < 6 || memcmp(w, "utf16:", 6) != 0) return sc_text(c, st, k, "client");
    if (n == 6 || (n - 6) % 4 != 0) return sc_err_word(c, st, k, "utf16: takes UTF-16 code units, 4 hex digits each"), NULL;
    for (size_t i = 6; i < n; i++)
        if (!isxdigit((unsigned char)w[i])) return sc_err_word(c, st, k, "utf16: takes hex digits only"), NULL;
    json_t *hex = json_stringn(w + 6, n - 6);
    return json_pack("{s:o}", "utf16", hex);
}

/* A FormData value, word k, into step: a string (fd_string) as "value"; `params:"a=b"` (new URLSearchParams("a=b"), a
 * platform object that is no Blob) as "params"; or as "blob": `blob:TYPE:"content"` (a Blob: the entry's filename is
 * the default, "blob"), `file:FILENAME:TYPE:"content"` (a Blob and the filename argument) or
 * `fileobject:NAME:TYPE:"content"` (new File([content], NAME, {type}) as the value). */
static int fd_value(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    size_t n, off = sc_off(st, k);
    const char *w = sc_word(st, k, &n);
    int is_file = w && n > 5 && memcmp(w, "file:", 5) == 0, is_blob = w && n > 5 && memcmp(w, "blob:", 5) == 0;
    int is_fobj = w && n > 11 && memcmp(w, "fileobject:", 11) == 0;
    if (w && n > 7 && memcmp(w, "params:", 7) == 0) {
        size_t i = off + 7;
        json_t *val = sc_value(c, st->ln, &i, off + n, "client");
        if (!val) return -1;
        json_object_set_new(step, "params", val);
        if (i < off + n) return sc_err(c, st->ln, i, "unexpected '%c' after the string", st->ln->text[i]);
        return 0;
    }
    if (!is_file && !is_blob && !is_fobj) return set_new(step, "value", fd_string(c, st, k));
    const char *p = w + (is_fobj ? 11 : 5), *end = w + n, *colon;
    const char *usage = is_file ? "write: file:FILENAME:TYPE:\"content\"" : is_fobj ? "write: fileobject:NAME:TYPE:\"content\"" : "write: blob:TYPE:\"content\"";
    json_t *blob = json_object();
    json_object_set_new(step, "blob", blob);
    if (is_file || is_fobj) {
        if (!(colon = memchr(p, ':', (size_t)(end - p)))) return sc_err_word(c, st, k, "%s", usage);
        if (set_new(blob, is_file ? "filename" : "file", json_stringn(p, (size_t)(colon - p))) < 0)
            return sc_err_word(c, st, k, "out of memory");
        p = colon + 1;
    }
    colon = memchr(p, ':', (size_t)(end - p));
    if (!colon || colon + 1 == end || colon[1] != '"') return sc_err_word(c, st, k, "%s", usage);
    if (set_new(blob, "type", json_stringn(p, (size_t)(colon - p))) < 0) return sc_err_word(c, st, k, "out of memory");
    size_t i = off + (size_t)(colon + 1 - w);
    json_t *val = sc_value(c, st->ln, &i, off + n, "client");
    if (!val) return -1;
    json_object_set_new(blob, "value", val);
    if (i < off + n) return sc_err(c, st->ln, i, "unexpected '%c' after the string", st->ln->text[i]);
    return 0;
}

/* The form argument of `formdata form`, word 2, into step "html": markup (a string); the bare `null` or `undefined`
 * (those JavaScript values: {"undefined": true} for undefined); `params:"QUERY"` ({"params": QUERY}: new
 * URLSearchParams(QUERY), a platform object that is no HTMLFormElement); `string:"S"` ({"string": S}: the string
 * S itself, no markup); or `utf16:HHHH...` ({"utf16": HEX}: markup as UTF-16 code units, so that an attribute can
 * hold a lone surrogate). */
static int fd_form_arg(struct pctx *c, const struct stmt *st, json_t *step)
{
    if (sc_is(st, 2, "null")) return set_new(step, "html", json_null());
    if (sc_is(st, 2, "undefined")) return set_new(step, "html", json_pack("{s:b}", "undefined", 1));
    size_t n, off = sc_off(st, 2);
    const char *w = sc_word(st, 2, &n);
    if (w && n > 6 && memcmp(w, "utf16:", 6) == 0) return set_new(step, "html", fd_string(c, st, 2)); /* markup */
    if (w && n > 7 && memcmp(w, "string:", 7) == 0) { /* {"string": S}: the string itself as the form argument */
        size_t i = off + 7;
        json_t *val = sc_value(c, st->ln, &i, off + n, "client");
        if (!val) return -1;
        json_object_set_new(step, "html", json_pack("{s:o}", "string", val));
        if (i < off + n) return sc_err(c, st->ln, i, "unexpected '%c' after the string", st->ln->text[i]);
        return 0;
    }
    if (!w || n <= 7 || memcmp(w, "params:", 7) != 0) return set_new(step, "html", quoted(c, st, 2));
    json_t *arg = json_object();
    json_object_set_new(step, "html", arg);
    return fd_value(c, st, 2, arg);   /* the params: form of a value: {"params": QUERY} */
}

/* `as LABEL` at words k, k+1, the last two. */
static int fd_label(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    size_t n;
    const char *w = sc_word(st, k + 1, &n);
    if (!sc_is(st, k, "as") || !w) return sc_err_word(c, st, k, "write: " FORMDATA_USAGE);
    if (!is_label_word(w, n)) return sc_err_word(c, st, k + 1, "a bad label (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, "label", json_stringn(w, n));
    return 0;
}

/* A mutation (append, set, delete) at words [k, nwords) into m. */
static int fd_mutation(struct pctx *c, const struct stmt *st, size_t k, json_t *m)
{
    size_t left = sc_nwords(st) - k;
    if (sc_is(st, k, "delete")) {
        if (left != 2) return sc_err_word(c, st, k, "write: formdata delete NAME");
        json_object_set_new(m, "method", json_string("delete"));
        return set_new(m, "name", fd_string(c, st, k + 1));
    }
    if (!sc_is(st, k, "append") && !sc_is(st, k, "set")) return sc_err_word(c, st, k, "write: " FORMDATA_USAGE);
    if (left != 3 && !(left == 5 && sc_is(st, k + 3, "filename")))
        return sc_err_word(c, st, left == 5 ? k + 3 : k, "write: formdata append|set NAME VALUE [filename FILENAME]");
    json_object_set_new(m, "method", json_string(sc_is(st, k, "set") ? "set" : "append"));
    if (set_new(m, "name", fd_string(c, st, k + 1)) < 0) return -1;
    if (fd_value(c, st, k + 2, m) < 0) return -1;
    if (left == 3) return 0;
    /* `filename FILENAME`: the third argument, given with any value but `file:`, which carries its own */
    json_t *blob = json_object_get(m, "blob");
    if (blob && json_object_get(blob, "filename")) return sc_err_word(c, st, k + 3, "a file: value carries its filename: write blob:TYPE:\"content\" filename FILENAME");
    return set_new(blob ? blob : m, "filename", fd_string(c, st, k + 4));
}

/* `formdata ...` (FORMDATA_USAGE): one FormData operation on the object's FormData (made at its first `formdata`
 * step); a read (get, getall, has, entries) is recorded as `read(LABEL)` with the property `value`. */
static int step_formdata(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t nw = sc_nwords(st);
    if (sc_args(c, st, 1, 100, FORMDATA_USAGE) < 0) return -1;
    if (sc_is(st, 1, "form")) { /* FD_FORM_USAGE: new FormData(form[, submitter]) */
        json_object_set_new(step, "method", json_string("form"));
        if (nw != 3 && nw != 5) return sc_err_word(c, st, 1, "write: " FD_FORM_USAGE);
        if (fd_form_arg(c, st, step) < 0) return -1;
        if (nw == 3) return 0;
        if (!sc_is(st, 3, "submitter")) return sc_err_word(c, st, 3, "write: " FD_FORM_USAGE);
        if (sc_is(st, 4, "null") || sc_is(st, 4, "undefined")) /* the JavaScript values as the submitter argument */
            return set_new(step, "submitter", sc_is(st, 4, "null") ? json_null() : json_pack("{s:b}", "undefined", 1));
        json_t *h = json_object_get(step, "html");
        if (!json_is_string(h) && !json_object_get(h, "utf16"))
            return sc_err_word(c, st, 4, "no markup to select a submitter in: write submitter null or submitter undefined");
        return set_new(step, "submitter", sc_text(c, st, 4, "client"));
    }
    if (sc_is(st, 1, "get") || sc_is(st, 1, "getall") || sc_is(st, 1, "has")) {
        if (nw != 5) return sc_err_word(c, st, 1, "write: formdata get|getall|has NAME as LABEL");
        json_object_set_new(step, "method", json_string(sc_is(st, 1, "get") ? "get" : sc_is(st, 1, "has") ? "has" : "getAll"));
        if (set_new(step, "name", fd_string(c, st, 2)) < 0) return -1;
        return fd_label(c, st, 3, step);
    }
    static const char *const iters[] = {"iterate", "entries", "keys", "values"};
    size_t it = 0;
    while (it < 4 && !sc_is(st, 1, iters[it])) it++;
    if (it == 4) return fd_mutation(c, st, 1, step);
    json_object_set_new(step, "method", json_string(iters[it]));
    if (nw < 4) return sc_err_word(c, st, 1, "write: formdata %s as LABEL", iters[it]);
    if (fd_label(c, st, 2, step) < 0) return -1;
    if (nw == 4) return 0;
    if (it == 3) return sc_err_word(c, st, 4, "values names no entry: write after NAME with iterate, entries or keys");
    /* `after NAME MUTATION`: the mutation runs each time the iteration has visited an entry named NAME. */
    if (!sc_is(st, 4, "after") || nw < 7) return sc_err_word(c, st, 4, "write: formdata %s as LABEL after NAME delete NAME", iters[it]);
    if (set_new(step, "after", fd_string(c, st, 5)) < 0) return -1;
    json_t *m = json_object();
    json_object_set_new(step, "then", m);
    return fd_mutation(c, st, 6, m);
}

/* ---- eventsource (§5.2) and websocket (§5.3) ------------------------------------------------------- */

static int step_new_es(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 2, "new URL [credentials]") < 0) return -1;
    if (set_new(step, "url", sc_text(c, st, 1, "client")) < 0) return -1;
    if (sc_nwords(st) == 3 && !sc_is(st, 2, "credentials")) return sc_err_word(c, st, 2, "write: new URL [credentials]");
    if (sc_nwords(st) == 3) json_object_set_new(step, "credentials", json_true());
    return 0;
}

/* `listen NAME...`: named-event listeners; their names become events this object fires. */
static int step_listen_es(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    json_t *events = json_array();
    json_object_set_new(step, "events", events);
    if (sc_args(c, st, 1, 256, "listen NAME...") < 0) return -1;
    for (size_t k = 1; k < sc_nwords(st); k++) {
        size_t n;
        const char *w = sc_word(st, k, &n);
        if (!sc_is_name(w, n)) return sc_err_word(c, st, k, "a bad event name (write [A-Za-z][A-Za-z0-9_-]*)");
        json_array_append_new(events, json_stringn(w, n));
        json_t *name = json_stringn(w, n);
        if (!sc_event_known(o, json_string_value(name))) json_array_append(o->listened, name);
        json_decref(name);
    }
    return 0;
}

static int step_new_ws(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_is(st, 1, "value")) { /* new WebSocket(), new WebSocket(url, [], "stray"), new WebSocket([url]): the
                                  * WebIDL argument count and conversions, raw values as `send value` takes them */
        json_t *values = json_array();
        json_object_set_new(step, "values", values);
        return json_value_words(c, st, 2, sc_nwords(st), values);
    }
    if (sc_args(c, st, 1, 256, "new URL [protocol P...] | new value [JSON...]") < 0) return -1;
    if (set_new(step, "url", sc_text(c, st, 1, "client")) < 0) return -1;
    if (sc_nwords(st) == 2) return 0;
    if (!sc_is(st, 2, "protocol") || sc_nwords(st) < 4)
        return sc_err_word(c, st, 2, "write: new URL [protocol P...] | new value [JSON...]");
    json_t *protocols = json_array();
    json_object_set_new(step, "protocols", protocols);
    for (size_t k = 3; k < sc_nwords(st); k++)
        if (json_array_append_new(protocols, sc_text(c, st, k, "client")) < 0) return -1;
    return 0;
}

/* `set onEVENT handler NAME | handle-event NAME | value JSON`: an event handler IDL attribute (HTML, "event
 * handler IDL attributes") given a function the interpreter makes (it records `handler(NAME)` when called), an
 * object whose handleEvent is such a function, or a raw value (null, undefined, 1, ";", []). */
static int set_handler(struct pctx *c, const struct stmt *st, json_t *step)
{
    static const char *const usage = "write: set onEVENT handler NAME | set onEVENT handle-event NAME | set onEVENT value JSON";
    size_t n;
    const char *w;
    if (sc_nwords(st) != 4) return sc_err_word(c, st, sc_nwords(st) < 4 ? sc_nwords(st) : 4, "%s", usage);
    if (sc_is(st, 2, "value")) {
        json_t *values = json_array();
        if (json_value_words(c, st, 3, 4, values) < 0) return json_decref(values), -1;
        json_object_set(step, "value", json_array_get(values, 0));
        json_decref(values);
        return 0;
    }
    if (!sc_is(st, 2, "handler") && !sc_is(st, 2, "handle-event")) return sc_err_word(c, st, 2, "%s", usage);
    w = sc_word(st, 3, &n);
    if (!is_label_word(w, n)) return sc_err_word(c, st, 3, "a bad handler name (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, sc_is(st, 2, "handler") ? "handler" : "handleEvent", json_stringn(w, n));
    return 0;
}

static int step_set_ws(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const types[] = {"blob", "arraybuffer", NULL};
    static const char *const handlers[] = {"onopen", "onmessage", "onerror", "onclose", NULL};
    for (size_t i = 0; handlers[i]; i++)
        if (sc_is(st, 1, handlers[i])) {
            json_object_set_new(step, "prop", json_string(handlers[i]));
            return set_handler(c, st, step);
        }
    if (sc_nwords(st) > 1 && !sc_is(st, 1, "binaryType"))
        return sc_err_word(c, st, 1, "unknown property (binaryType onopen onmessage onerror onclose)");
    if (sc_args(c, st, 2, 2, "set binaryType blob|arraybuffer | set onEVENT ...") < 0) return -1;
    json_object_set_new(step, "prop", json_string("binaryType"));
    return set_new(step, "value", choice(c, st, 2, types, "binaryType"));
}

static int step_send_ws(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    json_t *body = json_object();
    json_object_set_new(step, "body", body);
    if (sc_is(st, 1, "text")) {
        json_object_set_new(body, "type", json_string("text"));
        return sc_args(c, st, 2, 2, "send text STRING") < 0 ? -1 : set_new(body, "value", quoted(c, st, 2));
    }
    if (sc_is(st, 1, "binary") && sc_is(st, 2, "hex")) {
        json_object_set_new(body, "type", json_string("binary"));
        return set_new(body, "hex", hex_words(c, st, 3, sc_nwords(st)));
    }
    if (sc_is(st, 1, "binary")) { /* `send binary STRING`: the string's UTF-8 bytes ("x"*65536 for a long one) */
        json_object_set_new(body, "type", json_string("binary"));
        if (sc_args(c, st, 2, 2, "send binary hex HEX | send binary STRING") < 0) return -1;
        json_t *text = quoted(c, st, 2);
        if (!text) return -1;
        json_object_set_new(body, "hex", ch_hex_json(json_string_value(text), json_string_length(text)));
        json_decref(text);
        return 0;
    }
    if (sc_is(st, 1, "value")) { /* send(null), send(7), send([1,2]): what the WebIDL union makes of a value (a
                                   * string); `send value` alone: send() with no argument */
        json_t *values = json_array();
        json_object_set_new(body, "type", json_string("value"));
        json_object_set_new(body, "values", values);
        if (sc_args(c, st, 1, 2, "send value [JSON]") < 0) return -1;
        return json_value_words(c, st, 2, sc_nwords(st), values);
    }
    int rc = send_shared(c, st, body);
    return rc <= 0 ? rc
                   : sc_err_word(c, st, 1, "write: send text STRING | send binary hex HEX | send binary STRING | send blob ... | send typed "
                                           "... | send utf16 hex ... | send value [JSON]");
}

/* `close`, `close CODE`, `close CODE STRING`, `close CODE utf16 hex HHHH...` (a reason given as UTF-16 code units,
 * so it may hold a lone surrogate), `close value JSON...` (values for the WebIDL checks). */
static int step_close_ws(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    long code;
    if (sc_nwords(st) == 1) return 0;
    if (sc_is(st, 1, "value")) {
        json_t *values = json_array();
        json_object_set_new(step, "values", values);
        if (sc_nwords(st) == 2) return sc_err_word(c, st, 2, "missing values (write: close value JSON...)");
        return json_value_words(c, st, 2, sc_nwords(st), values);
    }
    if (sc_nwords(st) > 2 && sc_is(st, 2, "utf16")) {
        if (sc_int(c, st, 1, 0, 65535, &code, "close code") < 0) return -1;
        json_object_set_new(step, "code", json_integer(code));
        if (!sc_is(st, 3, "hex")) return sc_err_word(c, st, 3, "write: close CODE utf16 hex HHHH...");
        json_t *hex = hex_words(c, st, 4, sc_nwords(st));
        if (!hex) return -1;
        json_object_set_new(step, "reason_utf16", hex);
        if (json_string_length(hex) % 4 != 0) return sc_err_word(c, st, 4, "UTF-16 code units are 4 hex digits each");
        return 0;
    }
    if (sc_args(c, st, 1, 2, "close [CODE [STRING]] | close CODE utf16 hex HHHH... | close value JSON...") < 0) return -1;
    if (sc_int(c, st, 1, 0, 65535, &code, "close code") < 0) return -1;
    json_object_set_new(step, "code", json_integer(code));
    return sc_nwords(st) == 3 ? set_new(step, "reason", quoted(c, st, 2)) : 0;
}

/* Word k names an event type ([A-Za-z][A-Za-z0-9_-]*): set as the step's "event". */
static int event_word(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    size_t n;
    const char *w = sc_word(st, k, &n);
    if (!sc_is_name(w, n)) return sc_err_word(c, st, k, "a bad event name (write [A-Za-z][A-Za-z0-9_-]*)");
    json_object_set_new(step, "event", json_stringn(w, n));
    return 0;
}

/* `add-listener EVENT NAME` / `remove-listener EVENT NAME`: addEventListener / removeEventListener of the
 * function named NAME (one per name, made at its first use; it records `handler(NAME)` when called). */
static int step_listener(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w;
    if (sc_args(c, st, 2, 2, "add-listener EVENT NAME | remove-listener EVENT NAME") < 0) return -1;
    if (event_word(c, st, 1, step) < 0) return -1;
    w = sc_word(st, 2, &n);
    if (!is_label_word(w, n)) return sc_err_word(c, st, 2, "a bad handler name (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, "handler", json_stringn(w, n));
    return 0;
}

/* `dispatch EVENT`: dispatchEvent(new Event(EVENT)), an untrusted event that neither bubbles nor can be canceled. */
static int step_dispatch_ws(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 1, "dispatch EVENT") < 0) return -1;
    return event_word(c, st, 1, step);
}

/* ---- interface shape (§5.7): `shape` and `construct`, steps of xhr, eventsource and websocket ------------- */

/* An interface's identifier (WebIDL: an identifier names it; here letters, digits and _, a letter first). */
static int is_interface_word(const char *w, size_t n)
{
    if (n == 0 || n > 64 || !((w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z'))) return 0;
    for (size_t i = 1; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_'))
            return 0;
    return 1;
}

/* Words [from, to) as property names into a new array at step[key]. */
static int prop_list(struct pctx *c, const struct stmt *st, size_t from, size_t to, json_t *step, const char *key)
{
    json_t *props = json_array();
    json_object_set_new(step, key, props);
    for (size_t k = from; k < to; k++) {
        size_t n;
        const char *w = sc_word(st, k, &n);
        if (!is_prop_word(w, n) || memchr(w, '.', n))
            return sc_err_word(c, st, k, "a bad member name '%.*s' (an identifier)", (int)(n > 40 ? 40 : n), w);
        json_array_append_new(props, json_stringn(w, n));
    }
    return 0;
}

/* Word 1 as the interface's name into step["interface"]; `as LABEL` at the end into step["label"]. Returns the
 * index of `as` (or nwords), or 0 after an error. */
static size_t interface_and_label(struct pctx *c, const struct stmt *st, json_t *step, const char *usage)
{
    size_t n, end = find_word(st, 2, "as");
    const char *w = sc_word(st, 1, &n);
    if (sc_nwords(st) < 2) return sc_err_word(c, st, 1, "%s", usage), 0;
    if (!is_interface_word(w, n)) return sc_err_word(c, st, 1, "a bad interface name (write [A-Za-z][A-Za-z0-9_]*)"), 0;
    json_object_set_new(step, "interface", json_stringn(w, n));
    if (end == sc_nwords(st)) return end;
    if (sc_nwords(st) != end + 2) return sc_err_word(c, st, end, "%s (one label, last)", usage), 0;
    w = sc_word(st, end + 1, &n);
    if (!is_label_word(w, n)) return sc_err_word(c, st, end + 1, "a bad label (write [a-z0-9][a-z0-9._-]*)"), 0;
    json_object_set_new(step, "label", json_stringn(w, n));
    return end;
}

/* `shape INTERFACE MEMBER... [as LABEL]`: how each member is exposed (WebIDL §3.7), recorded as read(LABEL). */
static int step_shape(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const usage = "write: shape INTERFACE MEMBER... [as LABEL]";
    size_t end = interface_and_label(c, st, step, usage);
    if (!end) return -1;
    if (end < 3) return sc_err_word(c, st, end, "missing members (%s)", usage);
    return prop_list(c, st, 2, end, step, "members");
}

/* `construct INTERFACE [JSON...] read PROP... [as LABEL]`: new INTERFACE(JSON...), its properties read. */
static int step_construct(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const usage = "write: construct INTERFACE [JSON...] read PROP... [as LABEL]";
    size_t end = interface_and_label(c, st, step, usage);
    if (!end) return -1;
    size_t rd = find_word(st, 2, "read");
    if (rd >= end || rd + 1 == end) return sc_err_word(c, st, rd < end ? rd + 1 : end, "missing properties (%s)", usage);
    json_t *values = json_array();
    json_object_set_new(step, "values", values);
    if (json_value_words(c, st, 2, rd, values) < 0) return -1;
    return prop_list(c, st, rd + 1, end, step, "props");
}

/* ---- img, script, fetch (§5.4) and http (§5.5) ----------------------------------------------------- */

static int step_load_img(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    if (sc_args(c, st, 1, 1, "load URL") < 0) return -1;
    return set_new(step, "url", sc_text(c, st, 1, "client"));
}

/* `crossorigin anonymous|use-credentials` at word k: the element's crossorigin attribute (a CORS request). */
static int script_crossorigin(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    static const char *const modes[] = {"anonymous", "use-credentials", NULL};
    if (json_object_get(step, "crossorigin")) return sc_err_word(c, st, k - 1, "'crossorigin' given twice");
    return set_new(step, "crossorigin", choice(c, st, k, modes, "crossorigin"));
}

static int step_load_script(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    size_t n;
    const char *w;
    const char *usage = "write: load URL [callback NAME] [crossorigin anonymous|use-credentials]";
    if (sc_args(c, st, 1, 5, "load URL [callback NAME] [crossorigin anonymous|use-credentials]") < 0) return -1;
    if (set_new(step, "url", sc_text(c, st, 1, "client")) < 0) return -1;
    size_t k = 2;
    if (k + 1 < sc_nwords(st) && sc_is(st, k, "crossorigin")) {
        if (script_crossorigin(c, st, k + 1, step) < 0) return -1;
        k += 2;
    }
    if (sc_nwords(st) == k) return 0;
    if (!sc_is(st, k, "callback") || k + 2 > sc_nwords(st)) return sc_err_word(c, st, k, "%s", usage);
    if (k + 2 < sc_nwords(st)) {
        if (!sc_is(st, k + 2, "crossorigin") || k + 4 != sc_nwords(st)) return sc_err_word(c, st, k + 2, "%s", usage);
        if (script_crossorigin(c, st, k + 3, step) < 0) return -1;
    }
    w = sc_word(st, k + 1, &n);
    int ok = (w[0] >= 'a' && w[0] <= 'z') || (w[0] >= 'A' && w[0] <= 'Z') || w[0] == '_' || w[0] == '$';
    for (size_t i = 1; i < n && ok; i++)
        ok = (w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9') ||
             w[i] == '_' || w[i] == '$';
    if (!ok) return sc_err_word(c, st, k + 1, "a callback is a JavaScript identifier");
    json_object_set_new(step, "callback", json_stringn(w, n));
    return 0;
}

/* Options after METHOD URL of fetch and request: `header NAME VALUE` (repeatable) and once-only keywords,
 * each taking one word parsed by `one`. */
static int request_options(struct pctx *c, const struct stmt *st, json_t *step, const char *const *keys,
                           int (*one)(struct pctx *, const struct stmt *, size_t, json_t *), const char *usage)
{
    json_t *headers = json_array();
    json_object_set_new(step, "headers", headers);
    for (size_t k = 3; k < sc_nwords(st); k++) {
        if (sc_is(st, k, "header")) {
            if (k + 2 >= sc_nwords(st)) return sc_err_word(c, st, k, "write: header NAME VALUE");
            json_t *n = sc_text(c, st, k + 1, "client"), *v = n ? sc_text(c, st, k + 2, "client") : NULL;
            if (!v) return json_decref(n), -1;
            json_array_append_new(headers, json_pack("[o, o]", n, v));
            k += 2;
            continue;
        }
        size_t i = 0;
        while (keys[i] && !sc_is(st, k, keys[i])) i++;
        if (!keys[i] || k + 1 >= sc_nwords(st)) return sc_err_word(c, st, k, "write: %s", usage);
        if (one(c, st, k, step) < 0) return -1;
        k++;
    }
    return 0;
}

/* One fetch option at word k (mode, credentials or body), the value at k + 1. */
static int fetch_option(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    static const char *const modes[] = {"cors", "no-cors", "same-origin", NULL};
    static const char *const creds[] = {"omit", "same-origin", "include", NULL};
    size_t n;
    const char *key = sc_word(st, k, &n);
    char name[16];
    snprintf(name, sizeof name, "%.*s", (int)n, key);
    if (json_object_get(step, name)) return sc_err_word(c, st, k, "'%s' given twice", name);
    if (strcmp(name, "body") == 0) return set_new(step, "body", quoted(c, st, k + 1));
    const char *const *list = strcmp(name, "mode") == 0 ? modes : creds;
    for (size_t i = 0; list[i]; i++)
        if (sc_is(st, k + 1, list[i])) return set_new(step, name, json_string(list[i]));
    return sc_err_word(c, st, k + 1, "unknown %s (%s)", name, list == modes ? "cors no-cors same-origin" : "omit same-origin include");
}

static int step_fetch(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const keys[] = {"mode", "credentials", "body", NULL};
    if (sc_args(c, st, 2, 1000, "fetch METHOD URL [mode M] [credentials C] [header NAME VALUE]... [body STRING]") < 0)
        return -1;
    if (set_new(step, "method", sc_text(c, st, 1, "client")) < 0 || set_new(step, "url", sc_text(c, st, 2, "client")) < 0)
        return -1;
    return request_options(c, st, step, keys, fetch_option,
                           "fetch METHOD URL [mode M] [credentials C] [header NAME VALUE]... [body STRING]");
}

static int http_option(struct pctx *c, const struct stmt *st, size_t k, json_t *step)
{
    long ms;
    if (sc_is(st, k, "body")) {
        if (json_object_get(step, "body")) return sc_err_word(c, st, k, "'body' given twice");
        return set_new(step, "body", quoted(c, st, k + 1));
    }
    if (json_object_get(step, "ms")) return sc_err_word(c, st, k, "'timeout' given twice");
    if (sc_duration(c, st, k + 1, &ms) < 0) return -1;
    json_object_set_new(step, "ms", json_integer(ms));
    return 0;
}

static int step_request(struct pctx *c, const struct stmt *st, struct cobj *o, json_t *step)
{
    static const char *const keys[] = {"body", "timeout", NULL};
    if (sc_args(c, st, 2, 1000, "request METHOD URL [header NAME VALUE]... [body STRING] [timeout DURATION]") < 0)
        return -1;
    if (set_new(step, "method", sc_text(c, st, 1, "client")) < 0 || set_new(step, "url", sc_text(c, st, 2, "client")) < 0)
        return -1;
    return request_options(c, st, step, keys, http_option,
                           "request METHOD URL [header NAME VALUE]... [body STRING] [timeout DURATION]");
}

/* ---- the step table -------------------------------------------------------------------------------- */

typedef int (*step_fn)(struct pctx *, const struct stmt *, struct cobj *, json_t *);

/* Client steps: one row per word and the kinds it belongs to (FORMAT.md §5). To add a step, write a step_fn
 * that checks the words after word 0 and fills the step's fields ("obj" and "op" are set, "line" is added
 * after), then add a row: its word, the kinds (BIT(KIND_...)), the op it emits (MODEL.md §1.2), whether
 * it may run inside an `on EVENT` listener, and whether it may end in `as LABEL` (the method's return value is
 * recorded as a `read` labelled LABEL, FORMAT.md §5.3). A word absent here is an error, so only documented
 * ops reach the adapters. `on` is handled by on_step() below. */
static const struct step_row {
    const char *word;
    unsigned kinds;
    const char *op;
    int in_handler;
    step_fn parse;
    int returns;
} step_rows[] = {
    {"await", ALL_KINDS, "await", 0, step_await, 0},
    {"wait", ALL_KINDS, "wait", 0, step_wait, 0},
    {"block", ALL_KINDS, "block", 0, step_block, 0},
    {"read", ALL_KINDS, "read", 1, step_read, 0},
    {"watch", ALL_KINDS, "watch", 1, step_watch, 0},
    {"new", BIT(KIND_EVENTSOURCE), "new", 0, step_new_es, 0},
    {"new", BIT(KIND_WEBSOCKET), "new", 0, step_new_ws, 0},
    {"new", BIT(KIND_XHR), "new", 0, step_new_xhr, 0},
    {"open", BIT(KIND_XHR), "open", 1, step_open, 0},
    {"header", BIT(KIND_XHR), "header", 1, step_header, 0},
    {"set", BIT(KIND_XHR), "set", 1, step_set_xhr, 0},
    {"set", BIT(KIND_WEBSOCKET), "set", 1, step_set_ws, 0},
    {"mime", BIT(KIND_XHR), "mime", 1, step_mime, 0},
    {"listen", BIT(KIND_XHR), "listen", 1, step_listen_upload, 0},
    {"listen", BIT(KIND_EVENTSOURCE), "listen", 1, step_listen_es, 0},
    {"send", BIT(KIND_XHR), "send", 1, step_send_xhr, 0},
    {"send", BIT(KIND_WEBSOCKET), "send", 1, step_send_ws, 1},
    {"abort", BIT(KIND_XHR), "abort", 1, step_plain, 0},
    {"get-header", BIT(KIND_XHR), "get-header", 1, step_get_header, 0},
    {"same", BIT(KIND_XHR), "same", 1, step_same, 0},
    {"base", BIT(KIND_XHR), "base", 1, step_base, 0},
    {"formdata", BIT(KIND_XHR), "formdata", 1, step_formdata, 0},
    {"document-domain", BIT(KIND_XHR), "document-domain", 1, step_document_domain, 0},
    {"all-headers", BIT(KIND_XHR), "all-headers", 1, step_plain, 0},
    {"close", BIT(KIND_EVENTSOURCE), "close", 1, step_plain, 0},
    {"close", BIT(KIND_WEBSOCKET), "close", 1, step_close_ws, 1},
    {"add-listener", BIT(KIND_XHR) | BIT(KIND_WEBSOCKET), "add-listener", 1, step_listener, 0},
    {"remove-listener", BIT(KIND_XHR) | BIT(KIND_WEBSOCKET), "remove-listener", 1, step_listener, 0},
    {"dispatch", BIT(KIND_WEBSOCKET), "dispatch", 1, step_dispatch_ws, 0},
    {"shape", BIT(KIND_XHR) | BIT(KIND_EVENTSOURCE) | BIT(KIND_WEBSOCKET), "shape", 1, step_shape, 0},
    {"construct", BIT(KIND_XHR) | BIT(KIND_EVENTSOURCE) | BIT(KIND_WEBSOCKET), "construct", 1, step_construct, 0},
    {"load", BIT(KIND_IMG), "load", 1, step_load_img, 0},
    {"load", BIT(KIND_SCRIPT), "load", 1, step_load_script, 0},
    {"fetch", BIT(KIND_FETCH), "fetch", 1, step_fetch, 0},
    {"request", BIT(KIND_HTTP), "request", 1, step_request, 0},
};

/* Steps every kind takes go under "client", the others under "client KIND" for each kind that takes them;
 * `on` (on_step below) is a step of every kind. */
void sc_client_words(json_t *vocab)
{
    char group[SC_NAME_LEN];
    sc_vocab_add(vocab, "client", "on");
    for (size_t r = 0; r < sizeof step_rows / sizeof *step_rows; r++) {
        if (step_rows[r].kinds == ALL_KINDS) {
            sc_vocab_add(vocab, "client", step_rows[r].word);
            continue;
        }
        for (int k = 0; k < KIND_COUNT; k++) {
            if (!(step_rows[r].kinds & BIT(k))) continue;
            snprintf(group, sizeof group, "client %s", sc_kind_name((enum sc_kind)k));
            sc_vocab_add(vocab, group, step_rows[r].word);
        }
    }
}

/* The row for word 0 of st on an object of kind k; NULL after an error naming why. */
static const struct step_row *find_step(struct pctx *c, const struct stmt *st, enum sc_kind k)
{
    int other = 0;
    size_t n;
    const char *w = sc_word(st, 0, &n);
    for (size_t r = 0; r < sizeof step_rows / sizeof *step_rows; r++) {
        if (!sc_is(st, 0, step_rows[r].word)) continue;
        if (step_rows[r].kinds & BIT(k)) return &step_rows[r];
        other = 1;
    }
    if (sc_is(st, 0, "on")) sc_err_word(c, st, 0, "'on' cannot nest (on EVENT STEP takes one plain step)");
    else if (other) sc_err_word(c, st, 0, "'%.*s' is not a step of client %s", (int)n, w, sc_kind_name(k));
    else sc_err_word(c, st, 0, "unknown step '%.*s' in a client %s section", (int)(n > 40 ? 40 : n), w, sc_kind_name(k));
    return NULL;
}

/* A step ending in `as LABEL` (rows with `returns`): sets the step's "label" and makes *op the statement
 * without those two words, on *head, a copy of its line that ends before them. 0, or -1 after an error. */
static int returned_label(struct pctx *c, const struct stmt *st, struct sline *head, struct stmt *op, json_t *step)
{
    size_t n, k = sc_nwords(st);
    const char *w;
    if (k < 3 || !sc_is(st, k - 2, "as")) return 0;
    w = sc_word(st, k - 1, &n);
    if (!is_label_word(w, n)) return sc_err_word(c, st, k - 1, "a bad label (write [a-z0-9][a-z0-9._-]*)");
    json_object_set_new(step, "label", json_stringn(w, n));
    *head = *st->ln;
    head->ntok -= 2;
    op->ln = head;
    return 0;
}

/* Parses st with its row into a new step object {obj?, op, ...}; NULL after an error. */
static json_t *make_step(struct pctx *c, const struct stmt *st, struct cobj *o, int in_handler)
{
    const struct step_row *row = find_step(c, st, o->kind);
    if (!row) return NULL;
    if (in_handler && !row->in_handler) return sc_err_word(c, st, 0, "'%s' cannot run inside an event listener", row->word), NULL;
    json_t *step = in_handler ? json_pack("{s:s}", "op", row->op) : json_pack("{s:s, s:s}", "obj", o->name, "op", row->op);
    struct sline head;
    struct stmt op = *st;
    if (row->returns && returned_label(c, st, &head, &op, step) < 0) {
        json_decref(step);
        return NULL;
    }
    if (row->parse(c, &op, o, step) < 0) {
        json_decref(step);
        return NULL;
    }
    return step;
}

/* `on EVENT STEP`: a handler run inside the first EVENT's listener. */
static void on_step(struct pctx *c, const struct stmt *st, struct cobj *o)
{
    struct stmt sub = *st;
    if (sc_nwords(st) < 3) {
        sc_err_word(c, st, sc_nwords(st), "write: on EVENT STEP");
        return;
    }
    json_t *event = sc_atom_word(c, st, 1, o, "client", NULL);
    sub.first += 2;
    json_t *step = event ? make_step(c, &sub, o, 1) : NULL;
    if (!step) {
        json_decref(event);
        return;
    }
    json_array_append_new(c->handlers, json_pack("{s:s, s:o, s:o, s:i}", "obj", o->name, "event", event, "step", step,
                                                 "line", st->ln->src->no));
}

static void add_step(struct pctx *c, json_t *step, int line)
{
    json_object_set_new(step, "line", json_integer(line));
    json_array_append_new(c->steps, step);
}

/* ---- the section ----------------------------------------------------------------------------------- */

static int is_object_name(const char *w, size_t n)
{
    return sc_is_name(w, n);
}

/* `client KIND [NAME]`: registers the object, or returns NULL after an error. */
static struct cobj *client_header(struct pctx *c, const struct stmt *h)
{
    size_t n, kn;
    const char *kw = sc_word(h, 1, &kn), *w;
    if (sc_args(c, h, 1, 2, "client KIND [NAME]") < 0) return NULL;
    int k = sc_kind_find(kw, kn);
    if (k < 0)
        return sc_err_word(c, h, 1, "unknown client kind '%.*s' (xhr eventsource websocket img script fetch http)",
                           (int)(kn > 40 ? 40 : kn), kw), NULL;
    w = sc_nwords(h) == 3 ? sc_word(h, 2, &n) : kw;
    if (sc_nwords(h) != 3) n = kn;
    if (!is_object_name(w, n)) return sc_err_word(c, h, 2, "a bad object name (write [A-Za-z][A-Za-z0-9_-]*)"), NULL;
    if (sc_find_obj(c, w, n))
        return sc_err_word(c, h, sc_nwords(h) - 1, "a second object named '%.*s' (name them: client %s NAME)", (int)n, w,
                           sc_kind_name((enum sc_kind)k)), NULL;
    if (c->nobj == SC_MAX_OBJECTS) return sc_err_word(c, h, 0, "more than %d client objects", SC_MAX_OBJECTS), NULL;
    struct cobj *o = &c->obj[c->nobj++];
    snprintf(o->name, sizeof o->name, "%.*s", (int)n, w);
    o->kind = (enum sc_kind)k;
    o->listened = json_array();
    json_array_append_new(c->objects, json_pack("{s:s, s:s}", "name", o->name, "kind", sc_kind_name(o->kind)));
    return o;
}

void sc_client_section(struct pctx *c, struct section *sec)
{
    struct cobj *o;
    c->nclient++;
    if (!(o = client_header(c, &sec->head))) return;
    /* A kind without a `new` step (xhr) is constructed before its first step; its section may start with
     * `new value JSON...` instead (the constructor's raw arguments). */
    int own_new = sec->nitems > 0 && sc_is(&sec->items[0], 0, "new");
    if (!sc_kind_new_step(o->kind) && !own_new)
        add_step(c, json_pack("{s:s, s:s}", "obj", o->name, "op", "new"), sec->head.ln->src->no);
    else if (sc_kind_new_step(o->kind) && (sec->nitems == 0 || !own_new))
        sc_err_word(c, sec->nitems ? &sec->items[0] : &sec->head, 0, "a client %s section starts with 'new URL'",
                    sc_kind_name(o->kind));
    for (size_t i = 0; i < sec->nitems; i++) {
        struct stmt *st = &sec->items[i];
        sc_no_attachments(c, st);
        if (sc_is(st, 0, "on")) {
            on_step(c, st, o);
            continue;
        }
        if (i > 0 && sc_is(st, 0, "new")) {
            sc_err_word(c, st, 0, "'new' comes once, first");
            continue;
        }
        json_t *step = make_step(c, st, o, 0);
        if (step) add_step(c, step, st->ln->src->no);
    }
}
