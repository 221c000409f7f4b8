/*
 * poweroff: ends the session. Flushes nothing (the file system lives in RAM) and asks the
 * kernel to power down with reboot(2), as Linux's poweroff -f does. `poweroff -r` restarts.
 */
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>

int main(int argc, char **argv)
{
	int cmd = RB_POWER_OFF;

	if (argc > 1 && strcmp(argv[1], "-r") == 0)
		cmd = RB_AUTOBOOT;
	else if (argc > 1) {
		fprintf(stderr, "usage: poweroff [-r]\n");
		return 2;
	}
	reboot(cmd);
	perror("poweroff: reboot");
	return 1;
}
