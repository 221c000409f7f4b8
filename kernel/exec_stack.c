/*
 * The System V x86-64 initial process stack, laid out in a kernel buffer before it is copied
 * into the new address space (see struct exec_stack in kernel/exec.h for the picture). Pure
 * code with no locks or allocation: the host tests build stacks and parse them back.
 */
#include "kernel/exec.h"
#include "kernel/string.h"

size_t exec_stack_layout(struct exec_stack *st)
{
	const struct exec_args *a = st->args;
	uint64_t pos = st->top;
	uint64_t words;

	pos -= 8; /* a zero word above everything, so the last string is never at the very top */
	pos -= strlen(st->execfn) + 1;
	st->execfn_addr = pos;
	pos -= a->len;
	st->arg_start = pos;
	st->arg_end = st->env_start = pos + a->argv_len;
	st->env_end = pos + a->len;
	pos -= strlen(st->platform) + 1;
	st->platform_addr = pos;
	pos = ALIGN_DOWN(pos, 16) - 16;
	st->random_addr = pos;
	/* argc, argv + NULL, envp + NULL, the caller's pairs plus our four (with AT_NULL). */
	words = 1 + (uint64_t)a->argc + 1 + (uint64_t)a->envc + 1 + 2 * ((uint64_t)st->nauxv + 4);
	st->sp = ALIGN_DOWN(pos - 8 * words, 16);
	return st->top - st->sp;
}

static void put64(void *buf, uint64_t *off, uint64_t v)
{
	memcpy((uint8_t *)buf + *off, &v, sizeof(v));
	*off += sizeof(v);
}

/* Stores n string pointers for the packed strings starting at addr, then a NULL. */
static void put_string_ptrs(void *buf, uint64_t *off, const char *s, uint64_t addr, int n)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(s) + 1;

		put64(buf, off, addr);
		addr += len;
		s += len;
	}
	put64(buf, off, 0);
}

void exec_stack_fill(const struct exec_stack *st, void *buf)
{
	const struct exec_args *a = st->args;
	uint8_t *b = buf;
	uint64_t off = 0;

	memset(buf, 0, st->top - st->sp);
	memcpy(b + (st->execfn_addr - st->sp), st->execfn, strlen(st->execfn) + 1);
	memcpy(b + (st->arg_start - st->sp), a->strings, a->len);
	memcpy(b + (st->platform_addr - st->sp), st->platform, strlen(st->platform) + 1);
	memcpy(b + (st->random_addr - st->sp), st->random, 16);

	put64(buf, &off, (uint64_t)a->argc);
	put_string_ptrs(buf, &off, a->strings, st->arg_start, a->argc);
	put_string_ptrs(buf, &off, a->strings + a->argv_len, st->env_start, a->envc);
	for (int i = 0; i < st->nauxv; i++) {
		put64(buf, &off, st->auxv[2 * i]);
		put64(buf, &off, st->auxv[2 * i + 1]);
	}
	put64(buf, &off, AT_PLATFORM);
	put64(buf, &off, st->platform_addr);
	put64(buf, &off, AT_RANDOM);
	put64(buf, &off, st->random_addr);
	put64(buf, &off, AT_EXECFN);
	put64(buf, &off, st->execfn_addr);
	put64(buf, &off, AT_NULL);
	put64(buf, &off, 0);
}
