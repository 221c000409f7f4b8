/*
 * crash [null|kernel|div|ill|abort|stack]: dies of a CPU fault on purpose, to show how the
 * kernel reports it and how the shell prints the signal ("Segmentation fault").
 *   null    write to address 0 (SIGSEGV, the default)
 *   kernel  write to a kernel address (SIGSEGV: user mode may not touch the upper half)
 *   div     divide by zero (SIGFPE)
 *   ill     an undefined instruction, ud2 (SIGILL)
 *   abort   abort() (SIGABRT, sent by the program to itself)
 *   stack   unbounded recursion until the stack runs out (SIGSEGV)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int zero, ten = 10;
static volatile int forever = 1;

static int recurse(volatile char *prev)
{
	volatile char pad[4096];

	pad[0] = prev ? prev[0] + 1 : 0;
	if (!forever)
		return 0;
	return recurse(pad) + pad[100];
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "null";

	printf("crash: %s\n", how);
	fflush(stdout);
	if (strcmp(how, "null") == 0)
		*(volatile int *)0 = 1;
	else if (strcmp(how, "kernel") == 0)
		*(volatile int *)0xffff800000000000UL = 1;
	else if (strcmp(how, "div") == 0)
		zero = ten / zero; /* (1 / x would be compiled to a comparison) */
	else if (strcmp(how, "ill") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(how, "abort") == 0)
		abort();
	else if (strcmp(how, "stack") == 0)
		return recurse(NULL);
	fprintf(stderr, "usage: crash [null|kernel|div|ill|abort|stack]\n");
	return 2;
}
