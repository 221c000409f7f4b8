# make test boots with init=/bin/sh -- /etc/test/segfault.sh: crash dereferences NULL,
# the kernel kills it with a one-line report, and the shell must carry on.
crash
echo shell survived
