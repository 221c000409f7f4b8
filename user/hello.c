/*
 * hello: the smallest user program, the first one to try on a new kernel (execve, write,
 * exit_group).
 */
#include <stdio.h>

int main(void)
{
	printf("hello world\n");
	return 0;
}
