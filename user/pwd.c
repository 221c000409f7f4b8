/* pwd: prints the working directory (getcwd). The shell has a built-in pwd as well. */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char buf[PATH_MAX];

	if (!getcwd(buf, sizeof(buf))) {
		perror("pwd");
		return 1;
	}
	puts(buf);
	return 0;
}
