/* script.c — placeholder until the parser lands. */
#include "script.h"
int ch_script_parse_text(const char *path, const char *text, size_t len, json_t *out, json_t *errs)
{
    json_array_append_new(errs, json_pack("{s:s,s:i,s:i,s:s}", "file", path, "line", 0, "col", 0, "message",
                                          "parser not built yet"));
    return 1;
}
int ch_script_parse_file(const char *path, json_t *out, json_t *errs) { return ch_script_parse_text(path, "", 0, out, errs); }
int ch_script_load(char *const *paths, int npaths, json_t *out, json_t *errs) { return npaths ? ch_script_parse_file(paths[0], out, errs) : 0; }
void ch_script_print_errors(const json_t *errs, FILE *to) { size_t i; json_t *e; json_array_foreach(errs, i, e) fprintf(to, "%s:%d:%d: %s\n", json_string_value(json_object_get(e, "file")), (int)json_integer_value(json_object_get(e, "line")), (int)json_integer_value(json_object_get(e, "col")), json_string_value(json_object_get(e, "message"))); }
