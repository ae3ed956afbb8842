/* pattern.c — see pattern.h. The engine is a backtracking VM over a compiled program (the shape of RE2's
 * BitState): SPLIT pushes its second branch on an explicit stack, and a set of visited (pc, pos) pairs prunes
 * any state seen before, which is sound because the outcome from a state never depends on how it was reached. */
#include "pattern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

enum kind { K_ATOM, K_SEQ, K_ALT, K_REPEAT };

/* A node of the checked tree. Children are `nkids` entries of ch_pat.kids from `kid0`. max < 0: unbounded. */
struct node {
    enum kind kind;
    const json_t *atom;
    size_t kid0, nkids;
    long min, max;
    uint64_t cost; /* instructions and compile work of this subtree, saturated at CH_PAT_MAX_SIZE + 1 */
};

enum op { OP_ATOM, OP_SPLIT, OP_JMP, OP_MATCH };

/* SPLIT tries x first, then y; JMP goes to x. */
struct insn {
    enum op op;
    uint32_t x, y;
    const json_t *atom;
};

struct ch_pat {
    json_t *src;
    struct node *nodes;
    size_t nnodes, capnodes;
    size_t *kids;
    size_t nkids, capkids;
    struct insn *prog;
    size_t nprog, capprog;
    size_t root;
};

/* ---- atoms ---- */

int ch_atom_check(const json_t *atom, char *err)
{
    if (!json_is_object(atom)) return ch_errf(err, "an atom must be an object");
    const json_t *type = json_object_get(atom, "type"), *props = json_object_get(atom, "props");
    if (!json_is_string(type) || json_string_length(type) == 0)
        return ch_errf(err, "an atom needs a non-empty string \"type\"");
    if (props && !json_is_object(props)) return ch_errf(err, "an atom's \"props\" must be an object");
    return 0;
}

static int same_string(const json_t *a, const json_t *b)
{
    return json_is_string(a) && json_is_string(b) && json_string_length(a) == json_string_length(b) &&
           memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
}

int ch_atom_match(const json_t *atom, const json_t *event)
{
    const json_t *type = json_object_get(atom, "type");
    if (!json_is_string(type)) return 0;
    if (strcmp(json_string_value(type), ".") != 0 && !same_string(type, json_object_get(event, "type"))) return 0;
    const json_t *arg = json_object_get(atom, "arg");
    if (arg) {
        const json_t *got = json_object_get(event, "arg");
        if (!ch_value_eq(arg, got ? got : json_null())) return 0;
    }
    const json_t *props = json_object_get(atom, "props"), *state = json_object_get(event, "state"), *want;
    const char *key;
    json_object_foreach((json_t *)props, key, want) {
        if (!ch_value_eq(want, ch_value_path(state, key))) return 0;
    }
    return 1;
}

/* ---- compiling: JSON tree -> nodes ---- */

struct cc {
    struct ch_pat *p;
    char *err;
    char where[192]; /* "pattern.seq[2].repeat" for messages */
};

static int cc_err(struct cc *c, const char *what)
{
    return ch_errf(c->err, "%s: %s", c->where, what);
}

static void reserve(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    *arr = ch_xrealloc(*arr, n * elem);
    *cap = n;
}

static long new_node(struct cc *c, enum kind kind)
{
    struct ch_pat *p = c->p;
    if (p->nnodes >= CH_PAT_MAX_NODES)
        return ch_errf(c->err, "%s: the pattern has more than %d nodes", c->where, CH_PAT_MAX_NODES);
    reserve((void **)&p->nodes, &p->capnodes, p->nnodes + 1, sizeof *p->nodes);
    p->nodes[p->nnodes] = (struct node){.kind = kind, .max = -1};
    return (long)p->nnodes++;
}

static long build(struct cc *c, const json_t *j, int depth);

/* Builds the children of a seq or alt into consecutive kid slots reserved before recursing. */
static long build_list(struct cc *c, long ni, const json_t *arr, int depth, const char *name)
{
    struct ch_pat *p = c->p;
    size_t n = json_array_size(arr), base = p->nkids, at = strlen(c->where);
    if (n > CH_PAT_MAX_NODES)
        return ch_errf(c->err, "%s: the pattern has more than %d nodes", c->where, CH_PAT_MAX_NODES);
    reserve((void **)&p->kids, &p->capkids, base + n, sizeof *p->kids);
    p->nkids += n;
    p->nodes[ni].kid0 = base;
    p->nodes[ni].nkids = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(c->where + at, sizeof c->where - at, ".%s[%zu]", name, i);
        long k = build(c, json_array_get(arr, i), depth + 1);
        if (k < 0) return -1;
        p->kids[base + i] = (size_t)k;
    }
    c->where[at] = '\0';
    return ni;
}

static int get_bound(struct cc *c, const json_t *j, const char *key, long *out, int nullable)
{
    const json_t *v = json_object_get(j, key);
    if ((!v || json_is_null(v)) && nullable) {
        *out = -1;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > CH_PAT_MAX_SIZE)
        return ch_errf(c->err, "%s: \"%s\" must be an integer from 0 to %d%s", c->where, key, CH_PAT_MAX_SIZE,
                       nullable ? " or null" : "");
    *out = (long)json_integer_value(v);
    return 0;
}

static long build_repeat(struct cc *c, long ni, const json_t *j, int depth)
{
    long min, max;
    if (get_bound(c, j, "min", &min, 0) < 0 || get_bound(c, j, "max", &max, 1) < 0) return -1;
    if (max >= 0 && max < min) return cc_err(c, "\"max\" is less than \"min\"");
    size_t at = strlen(c->where);
    snprintf(c->where + at, sizeof c->where - at, ".repeat");
    long k = build(c, json_object_get(j, "repeat"), depth + 1);
    if (k < 0) return -1;
    c->where[at] = '\0';
    struct ch_pat *p = c->p;
    reserve((void **)&p->kids, &p->capkids, p->nkids + 1, sizeof *p->kids);
    p->kids[p->nkids] = (size_t)k;
    p->nodes[ni] = (struct node){.kind = K_REPEAT, .kid0 = p->nkids++, .nkids = 1, .min = min, .max = max};
    return ni;
}

static long build(struct cc *c, const json_t *j, int depth)
{
    if (depth > CH_PAT_MAX_DEPTH)
        return ch_errf(c->err, "%s: nested more than %d levels deep", c->where, CH_PAT_MAX_DEPTH);
    if (!json_is_object(j)) return cc_err(c, "a pattern must be an object");
    const json_t *seq = json_object_get(j, "seq"), *alt = json_object_get(j, "alt"),
                 *atom = json_object_get(j, "atom"), *rep = json_object_get(j, "repeat");
    if (!!seq + !!alt + !!atom + !!rep != 1) return cc_err(c, "needs exactly one of seq, alt, atom, repeat");
    long ni = new_node(c, seq ? K_SEQ : alt ? K_ALT : atom ? K_ATOM : K_REPEAT);
    if (ni < 0) return -1;
    if (atom) {
        char why[CH_ERR_LEN];
        if (ch_atom_check(atom, why) < 0) return cc_err(c, why);
        c->p->nodes[ni].atom = atom;
        return ni;
    }
    if (seq || alt) {
        if (!json_is_array(seq ? seq : alt)) return cc_err(c, seq ? "\"seq\" must be an array" : "\"alt\" must be an array");
        if (alt && json_array_size(alt) == 0) return cc_err(c, "\"alt\" needs at least one alternative");
        return build_list(c, ni, seq ? seq : alt, depth, seq ? "seq" : "alt");
    }
    return build_repeat(c, ni, j, depth);
}

/* ---- compiling: nodes -> program ---- */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t cap = (uint64_t)CH_PAT_MAX_SIZE + 1;
    return a + b > cap ? cap : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t cap = (uint64_t)CH_PAT_MAX_SIZE + 1;
    return a && b > cap / a ? cap : (a * b > cap ? cap : a * b);
}

/* Every node costs at least 1, so compile work is bounded by the cost even for empty groups. */
static uint64_t cost(struct ch_pat *p, size_t ni)
{
    struct node *n = &p->nodes[ni];
    uint64_t sum = 1;
    if (n->kind == K_SEQ || n->kind == K_ALT) {
        for (size_t i = 0; i < n->nkids; i++) sum = sat_add(sum, cost(p, p->kids[n->kid0 + i]));
        if (n->kind == K_ALT) sum = sat_add(sum, sat_mul(2, n->nkids));
    } else if (n->kind == K_REPEAT) {
        uint64_t body = cost(p, p->kids[n->kid0]);
        sum = sat_add(sum, sat_mul(body, (uint64_t)n->min));
        sum = sat_add(sum, n->max < 0 ? body + 2 : sat_mul(body + 1, (uint64_t)(n->max - n->min)));
    }
    n->cost = sum;
    return sum;
}

/* Capacity is reserved up front from the cost, so emitting never fails. */
static uint32_t emit(struct ch_pat *p, enum op op, uint32_t x, uint32_t y, const json_t *atom)
{
    p->prog[p->nprog] = (struct insn){.op = op, .x = x, .y = y, .atom = atom};
    return (uint32_t)p->nprog++;
}

static uint32_t here(const struct ch_pat *p)
{
    return (uint32_t)p->nprog;
}

static void gen(struct ch_pat *p, size_t ni);

/* a | b | c: SPLIT L1, N1; L1: a; JMP end; N1: SPLIT L2, N2; ... c; end. The JMPs are chained through x. */
static void gen_alt(struct ch_pat *p, const struct node *n)
{
    uint32_t chain = UINT32_MAX;
    for (size_t i = 0; i < n->nkids; i++) {
        if (i + 1 == n->nkids) {
            gen(p, p->kids[n->kid0 + i]);
            break;
        }
        uint32_t split = emit(p, OP_SPLIT, here(p) + 1, 0, NULL);
        gen(p, p->kids[n->kid0 + i]);
        chain = emit(p, OP_JMP, chain, 0, NULL);
        p->prog[split].y = here(p);
    }
    for (uint32_t j = chain, next; j != UINT32_MAX; j = next) {
        next = p->prog[j].x;
        p->prog[j].x = here(p);
    }
}

/* P{min,max}: min copies, then either a loop (max unbounded) or max-min nested optional copies. */
static void gen_repeat(struct ch_pat *p, const struct node *n)
{
    size_t body = p->kids[n->kid0];
    for (long i = 0; i < n->min; i++) gen(p, body);
    if (n->max < 0) {
        uint32_t loop = emit(p, OP_SPLIT, here(p) + 1, 0, NULL);
        gen(p, body);
        emit(p, OP_JMP, loop, 0, NULL);
        p->prog[loop].y = here(p);
        return;
    }
    uint32_t chain = UINT32_MAX;
    for (long i = n->min; i < n->max; i++) {
        chain = emit(p, OP_SPLIT, here(p) + 1, chain, NULL);
        gen(p, body);
    }
    for (uint32_t j = chain, next; j != UINT32_MAX; j = next) {
        next = p->prog[j].y;
        p->prog[j].y = here(p);
    }
}

static void gen(struct ch_pat *p, size_t ni)
{
    const struct node *n = &p->nodes[ni];
    switch (n->kind) {
    case K_ATOM: emit(p, OP_ATOM, 0, 0, n->atom); break;
    case K_SEQ:
        for (size_t i = 0; i < n->nkids; i++) gen(p, p->kids[n->kid0 + i]);
        break;
    case K_ALT: gen_alt(p, n); break;
    case K_REPEAT: gen_repeat(p, n); break;
    }
}

void ch_pat_free(struct ch_pat *p)
{
    if (!p) return;
    json_decref(p->src);
    free(p->nodes);
    free(p->kids);
    free(p->prog);
    free(p);
}

struct ch_pat *ch_pat_compile(const json_t *pattern, char *err)
{
    struct ch_pat *p = ch_xcalloc(1, sizeof *p);
    struct cc c = {.p = p, .err = err, .where = "pattern"};
    long root = build(&c, pattern, 0);
    if (root < 0) goto fail;
    p->root = (size_t)root;
    uint64_t size = cost(p, p->root);
    if (size > CH_PAT_MAX_SIZE) {
        ch_errf(err, "pattern: too large once counted repeats are expanded (more than %d instructions)",
                CH_PAT_MAX_SIZE);
        goto fail;
    }
    p->capprog = (size_t)size + 1;
    p->prog = ch_xmalloc(p->capprog * sizeof *p->prog);
    gen(p, p->root);
    emit(p, OP_MATCH, 0, 0, NULL);
    p->src = json_incref((json_t *)pattern);
    return p;
fail:
    ch_pat_free(p);
    return NULL;
}

/* ---- matching ---- */

/* A set of visited (pc, pos) keys: open addressing, key + 1 stored so that 0 marks an empty slot. */
struct seen {
    uint64_t *slot;
    size_t cap, n;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int seen_slot_add(uint64_t *slot, size_t cap, uint64_t key)
{
    for (size_t i = (size_t)mix(key) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (slot[i] == key + 1) return 0;
        if (slot[i] == 0) {
            slot[i] = key + 1;
            return 1;
        }
    }
}

/* Returns 1 if the key is new (and records it), 0 if seen before, -1 out of memory. The search's memory (this
 * memo and the thread stack) grows with the pattern × the events a client sent: a failed allocation ends the
 * match with CH_PAT_NOMEM, which the judge reports as an ERROR check (core.h, memory: a size an input decides
 * degrades). */
static int seen_add(struct seen *s, uint64_t key)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *slot = calloc(cap, sizeof *slot);
        if (!slot) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i]) seen_slot_add(slot, cap, s->slot[i] - 1);
        free(s->slot);
        s->slot = slot;
        s->cap = cap;
    }
    int added = seen_slot_add(s->slot, s->cap, key);
    s->n += (size_t)added;
    return added;
}

struct thread {
    uint32_t pc;
    size_t pos;
};

struct run {
    const struct ch_pat *p;
    const json_t *const *ev;
    size_t n;
    struct seen seen;
    struct thread *stack;
    size_t depth, cap;
    struct ch_pat_result *r;
};

static int push(struct run *x, uint32_t pc, size_t pos)
{
    if (x->depth == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 16;
        struct thread *s = realloc(x->stack, cap * sizeof *s);
        if (!s) return -1; /* see seen_add */
        x->stack = s;
        x->cap = cap;
    }
    x->stack[x->depth++] = (struct thread){pc, pos};
    return 0;
}

/* Records that the search stood at `pos` about to test an atom (or the end, atom == NULL): the furthest such
 * position is the first difference, and what was tested there is what the pattern allowed. */
static void note(struct ch_pat_result *r, size_t pos, const json_t *atom)
{
    if (pos > r->diff) {
        r->diff = pos;
        r->nallowed = 0;
        r->more_allowed = r->end_allowed = 0;
    }
    if (pos < r->diff) return;
    if (!atom) {
        r->end_allowed = 1;
        return;
    }
    for (size_t i = 0; i < r->nallowed; i++)
        if (r->allowed[i] == atom) return;
    if (r->nallowed < CH_PAT_MAX_ALLOWED) r->allowed[r->nallowed++] = atom;
    else r->more_allowed = 1;
}

/* Runs one thread until it fails (0), matches (1), or a limit hits (status < 0). */
static int step_thread(struct run *x, struct thread t, unsigned long budget)
{
    struct ch_pat_result *r = x->r;
    for (;;) {
        if (++r->steps > budget) return CH_PAT_OVER_BUDGET;
        int fresh = seen_add(&x->seen, (uint64_t)t.pc * ((uint64_t)x->n + 1) + t.pos);
        if (fresh < 0) return CH_PAT_NOMEM;
        if (!fresh) return 0;
        const struct insn *in = &x->p->prog[t.pc];
        switch (in->op) {
        case OP_ATOM:
            note(r, t.pos, in->atom);
            if (t.pos >= x->n || !ch_atom_match(in->atom, x->ev[t.pos])) return 0;
            t.pc++;
            t.pos++;
            break;
        case OP_SPLIT:
            if (push(x, in->y, t.pos) < 0) return CH_PAT_NOMEM;
            t.pc = in->x;
            break;
        case OP_JMP: t.pc = in->x; break;
        case OP_MATCH:
            note(r, t.pos, NULL);
            return t.pos == x->n;
        }
    }
}

enum ch_pat_status ch_pat_match(const struct ch_pat *p, const json_t *const *events, size_t n, unsigned long budget,
                                struct ch_pat_result *r)
{
    *r = (struct ch_pat_result){.status = CH_PAT_NOMATCH};
    if (n > CH_PAT_MAX_EVENTS) return r->status = CH_PAT_TOO_MANY;
    struct run x = {.p = p, .ev = events, .n = n, .r = r};
    int rc = push(&x, 0, 0) < 0 ? CH_PAT_NOMEM : 0;
    while (rc == 0 && x.depth > 0) rc = step_thread(&x, x.stack[--x.depth], budget);
    r->status = rc == 1 ? CH_PAT_MATCH : rc == 0 ? CH_PAT_NOMATCH : (enum ch_pat_status)rc;
    free(x.seen.slot);
    free(x.stack);
    return r->status;
}

long ch_pat_first_diff(const struct ch_pat *p, const json_t *const *events, size_t n, unsigned long budget)
{
    struct ch_pat_result r;
    switch (ch_pat_match(p, events, n, budget, &r)) {
    case CH_PAT_MATCH: return -1;
    case CH_PAT_NOMATCH: return (long)r.diff;
    default: return -2;
    }
}

/* ---- rendering ---- */

void ch_atom_render(struct ch_text *t, const json_t *atom)
{
    const json_t *type = json_object_get(atom, "type"), *arg = json_object_get(atom, "arg"),
                 *props = json_object_get(atom, "props"), *v;
    if (json_is_string(type)) ch_text_raw(t, json_string_value(type), json_string_length(type), CH_VALUE_SHOWN);
    else ch_text_puts(t, "?");
    if (arg) {
        ch_text_puts(t, "(");
        ch_value_render(t, arg);
        ch_text_puts(t, ")");
        return;
    }
    if (json_object_size(props) == 0) return;
    const char *key, *sep = "(";
    json_object_foreach((json_t *)props, key, v) {
        ch_text_printf(t, "%s%s=", sep, key);
        ch_value_render(t, v);
        sep = ",";
    }
    ch_text_puts(t, ")");
}

/* A node prints as one unit after which a quantifier may follow: an atom, or a group of one such unit. */
static int single_unit(const struct ch_pat *p, const struct node *n)
{
    while ((n->kind == K_SEQ || n->kind == K_ALT) && n->nkids == 1) n = &p->nodes[p->kids[n->kid0]];
    return n->kind == K_ATOM;
}

static void render_node(const struct ch_pat *p, size_t ni, struct ch_text *t, int in_seq);

static void render_repeat(const struct ch_pat *p, const struct node *n, struct ch_text *t)
{
    size_t body = p->kids[n->kid0];
    int group = !single_unit(p, &p->nodes[body]);
    if (group) ch_text_puts(t, "(");
    render_node(p, body, t, 0);
    if (group) ch_text_puts(t, ")");
    if (n->min == 0 && n->max == 1) ch_text_puts(t, "?");
    else if (n->min == 0 && n->max < 0) ch_text_puts(t, "*");
    else if (n->min == 1 && n->max < 0) ch_text_puts(t, "+");
    else if (n->max < 0) ch_text_printf(t, "{%ld,}", n->min);
    else if (n->min == n->max) ch_text_printf(t, "{%ld}", n->min);
    else ch_text_printf(t, "{%ld,%ld}", n->min, n->max);
}

/* in_seq: the node sits inside a sequence, where an alternation needs parentheses. */
static void render_node(const struct ch_pat *p, size_t ni, struct ch_text *t, int in_seq)
{
    const struct node *n = &p->nodes[ni];
    if (n->kind == K_ATOM) {
        ch_atom_render(t, n->atom);
    } else if (n->kind == K_REPEAT) {
        render_repeat(p, n, t);
    } else if (n->nkids == 0) {
        ch_text_puts(t, "()");
    } else if (n->nkids == 1) {
        render_node(p, p->kids[n->kid0], t, in_seq);
    } else {
        int paren = n->kind == K_ALT && in_seq;
        if (paren) ch_text_puts(t, "(");
        for (size_t i = 0; i < n->nkids; i++) {
            if (i) ch_text_puts(t, n->kind == K_ALT ? " | " : " ");
            render_node(p, p->kids[n->kid0 + i], t, n->kind == K_SEQ);
        }
        if (paren) ch_text_puts(t, ")");
    }
}

void ch_pat_render(const struct ch_pat *p, struct ch_text *t)
{
    struct ch_text all = {0};
    render_node(p, p->root, &all, 0);
    ch_text_raw(t, ch_text_str(&all), all.len, CH_PAT_SHOWN);
    ch_text_free(&all);
}

void ch_event_render(struct ch_text *t, const json_t *event, const char *const *props, size_t nprops)
{
    const json_t *type = json_object_get(event, "type"), *arg = json_object_get(event, "arg");
    if (json_is_string(type)) ch_text_raw(t, json_string_value(type), json_string_length(type), CH_VALUE_SHOWN);
    else ch_text_puts(t, "?");
    if (nprops > 0) {
        const json_t *state = json_object_get(event, "state");
        for (size_t i = 0; i < nprops; i++) {
            ch_text_printf(t, "%s%s=", i ? "," : "(", props[i]);
            ch_value_render(t, ch_value_path(state, props[i]));
        }
        ch_text_puts(t, ")");
    } else if (arg && !json_is_null(arg)) {
        ch_text_puts(t, "(");
        ch_value_render(t, arg);
        ch_text_puts(t, ")");
    }
}

void ch_events_render(struct ch_text *t, const json_t *const *events, size_t n, size_t max)
{
    if (n == 0) {
        ch_text_puts(t, "(no events)");
        return;
    }
    for (size_t i = 0; i < n && i < max; i++) {
        if (i) ch_text_puts(t, " ");
        ch_event_render(t, events[i], NULL, 0);
    }
    if (n > max) ch_text_printf(t, " … and %zu more", n - max);
}
