/*
 * Speculative page faults (Augur's mm/spf.c): the /proc/sys/vm/spf switch, and threads
 * faulting in fresh anonymous memory while a third one changes the rights of its neighbours.
 * The data must be right whichever path fixed each fault; with the kernel's counters, the
 * speculative path must have been taken unless it is switched off. Linux has neither the file
 * nor the counters: there only the data is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

#define SPF_FILE "/proc/sys/vm/spf"

/* The current mode into buf ("off", "on", "force"); 0 if the file is missing. */
static int spf_mode(char *buf, size_t size)
{
	int fd = open(SPF_FILE, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 1;
}

/* write(2) of text to the switch: 0, or the errno. */
static int spf_write(const char *text)
{
	int fd = open(SPF_FILE, O_WRONLY);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = errno;
	close(fd);
	return err;
}

TEST(spf_switch)
{
	char old[16], now[16];

	if (!spf_mode(old, sizeof(old)))
		ut_skip("no " SPF_FILE);
	CHECK_EQ(spf_write("force\n"), 0);
	CHECK(spf_mode(now, sizeof(now)));
	CHECK_EQ(strcmp(now, "force"), 0);
	CHECK_EQ(spf_write("off"), 0);
	CHECK(spf_mode(now, sizeof(now)));
	CHECK_EQ(strcmp(now, "off"), 0);
	CHECK_EQ(spf_write("sometimes"), EINVAL);
	CHECK(spf_mode(now, sizeof(now)));
	CHECK_EQ(strcmp(now, "off"), 0);
	CHECK_EQ(spf_write(old), 0);
}

#define SPF_THREADS 3
#define SPF_PAGES   256

static char *spf_region;
static int spf_stop;

static void *spf_toucher(void *arg)
{
	int t = (int)(intptr_t)arg;

	/* Two passes: a read (zero page) then a write (copy of it), then plain writes. */
	for (int p = 0; p < SPF_PAGES; p++) {
		char *page = spf_region + ((size_t)t * SPF_PAGES + p) * PAGE;

		if (*(volatile char *)page != 0)
			return (void *)1;
		fill_page(page, 90 + t, p);
	}
	return NULL;
}

/*
 * Flips the rights of a page of another mapping, taking mmap_lock for write over and over:
 * the classic path waits for it, the speculative one need not (the threads' VMA is
 * untouched). vmtests' stress tests race faults against changes of the faulting VMA itself.
 */
static void *spf_mutator(void *arg)
{
	char *guard = arg;

	while (!__atomic_load_n(&spf_stop, __ATOMIC_RELAXED)) {
		mprotect(guard, PAGE, PROT_READ);
		mprotect(guard, PAGE, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

TEST(spf_threads_fault)
{
	size_t len = (size_t)SPF_THREADS * SPF_PAGES * PAGE;
	long long before = 0, after = 0;
	char mode[16] = "";
	pthread_t t[SPF_THREADS], m;
	int have = vmstat_value("spf_success", &before);
	void *ret;
	char *other = arena(2);

	spf_mode(mode, sizeof(mode));
	spf_region = map(NULL, len, PROT_READ | PROT_WRITE, 0);
	spf_stop = 0;
	CHECK_EQ(pthread_create(&m, NULL, spf_mutator, other), 0);
	for (int i = 0; i < SPF_THREADS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, spf_toucher, (void *)(intptr_t)i), 0);
	for (int i = 0; i < SPF_THREADS; i++) {
		pthread_join(t[i], &ret);
		CHECK(ret == NULL);
	}
	__atomic_store_n(&spf_stop, 1, __ATOMIC_RELAXED);
	pthread_join(m, NULL);
	for (int i = 0; i < SPF_THREADS; i++)
		CHECK_EQ(bad_page(spf_region + (size_t)i * SPF_PAGES * PAGE, SPF_PAGES, 90 + i),
			 -1);
	if (have && vmstat_value("spf_success", &after)) {
		if (strcmp(mode, "off") == 0 && after != before)
			FAIL("spf is off but spf_success grew by %lld", after - before);
		if (strcmp(mode, "off") != 0 && after == before)
			FAIL("spf is %s but no fault was handled speculatively", mode);
		ut_note("spf %s: spf_success +%lld", mode, after - before);
	}
	munmap(spf_region, len);
	arena_free(other, 2);
}
