/* judge.c — placeholder until the judge lands. */
#include "judge.h"
json_t *ch_judge(const json_t *kase, const json_t *observations, const json_t *transcript, const json_t *vars,
                 double time_scale)
{
    return json_pack("{s:O,s:s,s:s,s:[]}", "case", json_object_get(kase, "id"), "status", "ERROR", "message",
                     "judge not built yet", "checks");
}
