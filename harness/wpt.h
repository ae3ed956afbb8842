/* wpt.h — the WPT topic list (cases/wpt/topics.json): the web-platform-tests files the `wpt` meta line of a
 * case may name (cases/FORMAT.md §2), grouped into topics, some of which cannot run here.
 *
 * The list is JSON: {"topics": [{"id": ID, "folder": F, "title": T, "files": [PATH...], "not_here"?: WHY,
 * "files_not_here"?: {PATH: WHY}, ...}]}; PATH is relative to the WPT root (`xhr/send-accept.htm`). A file
 * belongs to one topic. `not_here` says why no case here can check the topic; `files_not_here` the same for
 * single files of a topic that can otherwise run. Other fields are for the map's generator. */
#ifndef CH_WPT_H
#define CH_WPT_H

#include <jansson.h>

#include "util.h"

/* Where the list is read from: $CH_WPT_TOPICS when set and not empty, else cases/wpt/topics.json (relative
 * to the working directory, as fixtures/ is). */
const char *ch_wpt_topics_path(void);

/* Loads and checks the list at path. Returns an object mapping each file to {"topic": ID} plus "not_here":
 * WHY when the file (or its whole topic) cannot run here; NULL with err when the list cannot be read or is
 * malformed (names the topic and field). */
json_t *ch_wpt_load(const char *path, char *err);

#endif
