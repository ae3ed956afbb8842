/* matrix.h — matrices of cases (cases/FORMAT.md §3): axes, excludes, cells, guards, `$NAME` substitution.
 *
 * A matrix is built line by line from its section (ch_matrix_axis, ch_matrix_exclude), then walked cell by
 * cell: cell i (0 <= i < ch_matrix_ncells) selects one value per axis, the first axis varying slowest. The
 * functions that read a line take the line's text after its indentation; errors follow lex.h (-1, err, *at =
 * byte offset within that text). No global state; a zeroed struct is an empty matrix (no axes, one cell). */
#ifndef CH_MATRIX_H
#define CH_MATRIX_H

#include <stddef.h>

#include "lex.h"

#define CH_MATRIX_MAX_AXES 16
#define CH_MATRIX_MAX_CELLS 4096
#define CH_MATRIX_NAME_LEN 64 /* axis names and labels, NUL included */
#define CH_MATRIX_ID_LEN (CH_MATRIX_MAX_AXES * CH_MATRIX_NAME_LEN)

struct ch_axis_value {
    char label[CH_MATRIX_NAME_LEN]; /* as written: [A-Za-z0-9][A-Za-z0-9._]* (ids use it lowercased) */
    char *text;                     /* what $NAME becomes: the label, or the decoded string (no NUL) */
    size_t len;
};

struct ch_axis {
    char name[CH_MATRIX_NAME_LEN]; /* [A-Za-z_][A-Za-z0-9_]* */
    struct ch_axis_value *val;
    size_t nval;
};

struct ch_matrix {
    struct ch_axis axis[CH_MATRIX_MAX_AXES];
    size_t naxes;
    int (*ex)[CH_MATRIX_MAX_AXES]; /* exclude rows: a value index per axis, -1 = any */
    size_t nex;
};

/* `axis NAME VALUE...` (tok[0] is `axis`). Adds the axis, or returns -1 (duplicate name or label, a bad
 * label, no values, too many axes or cells). */
int ch_matrix_axis(struct ch_matrix *m, const char *s, const struct ch_tok *tok, size_t ntok, size_t *at,
                   char *err);

/* `exclude NAME=label...` (tok[0] is `exclude`), naming axes declared before it. */
int ch_matrix_exclude(struct ch_matrix *m, const char *s, const struct ch_tok *tok, size_t ntok, size_t *at,
                      char *err);

/* The number of cells (the product of the axis sizes; 1 without axes), excluded cells included. */
size_t ch_matrix_ncells(const struct ch_matrix *m);

/* Fills sel[axis] with the value indices of cell i. Returns 1 if an exclude removes the cell, else 0. */
int ch_matrix_cell(const struct ch_matrix *m, size_t i, int sel[CH_MATRIX_MAX_AXES]);

/* The cell's id suffix: its labels, lowercased, joined by '-' (empty without axes). */
void ch_matrix_cell_id(const struct ch_matrix *m, const int *sel, char out[CH_MATRIX_ID_LEN]);

/* Reads the guards `[NAME=l,l..]` / `[NAME!=l,..]` at the start of s[0..n) and the blanks after them.
 * *consumed gets the offset of what follows, *holds whether every guard holds for the cell. Without guards:
 * 0 with *consumed = 0 and *holds = 1. An unknown axis or label, or a guard in a file without a matrix, is an
 * error. */
int ch_matrix_guards(const struct ch_matrix *m, const int *sel, const char *s, size_t n, size_t *consumed,
                     int *holds, size_t *at, char *err);

/* Replaces `$NAME`, `${NAME}` and `$$` in s[0..n) for the cell (a copy, unchanged, without axes). Returns 0
 * with a malloc'd NUL-terminated *out (*outlen bytes) and a malloc'd *map of *outlen + 1 entries: map[i] is
 * the offset in s that out[i] came from (map[*outlen] = n). Caller frees both. -1 on an unknown axis or a
 * lone '$'. */
int ch_matrix_subst(const struct ch_matrix *m, const int *sel, const char *s, size_t n, char **out,
                    size_t *outlen, size_t **map, size_t *at, char *err);

/* Frees what the matrix holds and zeroes it. */
void ch_matrix_free(struct ch_matrix *m);

#endif
