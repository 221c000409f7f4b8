/*
 * Host tests of kernel/cmdline.c: the in-kernel KTESTs, parsing rules, limits, messages
 * ("warns once"), the boot glue on synthetic multiboot2 blocks, and random input under ASan.
 */
#include "tools/hosttest/hosttest.h"
#include "kernel/cmdline.h"

/* The kernel's table comes from the linker; here it is a plain array (defined below). */
static const struct cmdline_param host_params[3];
#define CMDLINE_PARAMS	     host_params
#define CMDLINE_PARAMS_COUNT ARRAY_SIZE(host_params)

#include "kernel/multiboot2.c"
#include "kernel/cmdline.c"

static const struct cmdline_param host_params[3] = {
	{"loglevel", set_loglevel},
	{"test", set_test},
	{"init", set_init},
};

static struct cmdline_parsed parsed;

static int parse(const char *line)
{
	ht_log_clear();
	return cmdline_parse(&parsed, line, strlen(line));
}

static void reset_boot_state(void)
{
	test_pattern = NULL;
	init_path = "/sbin/init";
	init_given = false;
	console_loglevel = 6;
}

TEST(cmdline_quotes_and_separator)
{
	CHECK_EQ(parse("a=\"x y\"z \"b=1 2\" c=\"\" \"--\" -- \"--\" -- \"\""), 0);
	CHECK_EQ(parsed.nparams, 4);
	CHECK_STREQ(parsed.params[0].value, "x yz");
	CHECK_STREQ(parsed.params[1].key, "b");
	CHECK_STREQ(parsed.params[1].value, "1 2");
	CHECK_STREQ(parsed.params[2].value, "");
	CHECK_STREQ(parsed.params[3].key, "--"); /* a quoted -- is an ordinary word */
	CHECK(parsed.separator);
	CHECK_EQ(parsed.nargs, 3);
	CHECK_STREQ(parsed.args[0], "--");
	CHECK_STREQ(parsed.args[1], "--");
	CHECK_STREQ(parsed.args[2], "");
	CHECK(parsed.image == NULL);

	CHECK_EQ(parse("  \t a=1\tb=2  \n"), 0);
	CHECK_EQ(parsed.nparams, 2);
	CHECK_EQ(parse("a=b=c"), 0);
	CHECK_STREQ(parsed.params[0].value, "b=c");
	CHECK_EQ(parse("--"), 0);
	CHECK(parsed.separator);
	CHECK_EQ(parsed.nargs, 0);
	/* Only the first word can be the image path. */
	CHECK_EQ(parse("a=1 /boot/x"), 1);
	CHECK(parsed.image == NULL);
}

TEST(cmdline_errors_named)
{
	char key[40];

	CHECK_EQ(parse("=x good=1"), 1);
	CHECK_EQ(ht_log_count("empty key in '=x'"), 1);
	CHECK_EQ(parsed.nparams, 1);

	memset(key, 'k', 32);
	strcpy(key + 32, "=1");
	CHECK_EQ(parse(key), 1);
	CHECK_EQ(ht_log_count("longer than 31"), 1);
	key[1] = '\0';
	key[31] = '=';
	key[32] = '\0';
	memset(key, 'k', 31);
	CHECK_EQ(parse(key), 0); /* 31 is fine */

	CHECK_EQ(parse("a=1 b=\"open c=3"), 1);
	CHECK_EQ(ht_log_count("unterminated quote in 'b=\"open c=3'"), 1);
	CHECK_EQ(parsed.nparams, 1);
}

TEST(cmdline_limits)
{
	static char line[CMDLINE_MAX_LEN * 2];
	size_t n = 0;

	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(line + n, "k%d=%d ", i, i);
	n += (size_t)sprintf(line + n, "--");
	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(line + n, " a%d", i);
	CHECK_EQ(parse(line), 12);
	CHECK_EQ(parsed.nparams, CMDLINE_MAX_WORDS);
	CHECK_EQ(parsed.nargs, CMDLINE_MAX_WORDS);
	CHECK_EQ(ht_log_count("more than 64 parameters; 'k64=64'"), 1);
	CHECK_EQ(ht_log_count("more than 64 init arguments; 'a64'"), 1);
	CHECK_STREQ(parsed.args[63], "a63");

	/* Over-long: the word straddling the limit is dropped, those before it kept. */
	memset(line, 0, sizeof(line));
	n = 0;
	while (n < CMDLINE_MAX_LEN + 100)
		n += (size_t)sprintf(line + n, "x=%06zu ", n); /* 9 bytes: 4096 cuts a word */
	CHECK(parse(line) > 2);
	CHECK_EQ(ht_log_count("longer than the limit of 4096"), 1);
	CHECK_EQ(ht_log_count("cut off by the length limit"), 1);
	CHECK_EQ(parsed.nparams, CMDLINE_MAX_WORDS);

	memset(line, 'a', CMDLINE_MAX_LEN + 10);
	line[CMDLINE_MAX_LEN + 10] = '\0';
	CHECK_EQ(parse(line), 2);
	CHECK_EQ(parsed.nparams, 0);

	/* Exactly at the limit is not over it. */
	memset(line, 'a', CMDLINE_MAX_LEN);
	line[CMDLINE_MAX_LEN] = '\0';
	line[CMDLINE_MAX_LEN - 1] = ' ';
	CHECK_EQ(parse(line), 1); /* the 4095-byte key is too long, nothing else */
}

TEST(cmdline_apply_warns_once)
{
	reset_boot_state();
	parse("loglevel=7 bogus=1 bogus=2 bogus other init=/bin/sh test=mem* -- x y");
	CHECK_EQ(cmdline_apply(&parsed, host_params, ARRAY_SIZE(host_params)), 4);
	CHECK_EQ(ht_log_count("unknown parameter 'bogus' ignored"), 1);
	CHECK_EQ(ht_log_count("unknown parameter 'other' ignored"), 1);
	CHECK_EQ(console_loglevel, 7);
	CHECK_STREQ(init_path, "/bin/sh");
	CHECK_STREQ(test_pattern, "mem*");

	reset_boot_state();
	parse("loglevel=9 loglevel init=sbin/init test= loglevel=x3");
	ht_log_clear();
	CHECK_EQ(cmdline_apply(&parsed, host_params, ARRAY_SIZE(host_params)), 5);
	CHECK_EQ(ht_log_count("bad value '9' for loglevel="), 1);
	CHECK_EQ(ht_log_count("loglevel needs a value"), 1);
	CHECK_EQ(ht_log_count("bad value 'sbin/init' for init="), 1);
	CHECK_EQ(ht_log_count("bad value '' for test="), 1);
	CHECK_EQ(console_loglevel, 6);
	CHECK_STREQ(init_path, "/sbin/init");
	CHECK(test_pattern == NULL);
}

/* A boot information block holding one cmdline tag with exactly these payload bytes. */
static void *make_mb2(const void *payload, size_t len, bool with_tag)
{
	size_t tag_size = 8 + len, total = 8 + (with_tag ? ALIGN_UP(tag_size, 8) : 0) + 8;
	uint32_t *p = aligned_alloc(8, ALIGN_UP(total, 8));
	char *c = (char *)p;

	memset(p, 0, total);
	p[0] = (uint32_t)total;
	if (with_tag) {
		p[2] = MB2_TAG_CMDLINE;
		p[3] = (uint32_t)tag_size;
		memcpy(c + 16, payload, len);
	}
	memcpy(c + total - 8, &(uint32_t[2]){MB2_TAG_END, 8}, 8);
	return p;
}

TEST(cmdline_boot_glue)
{
	void *mb2;

	reset_boot_state();
	mb2 = make_mb2("test=all init=/x -- a \"b c\"", 28, true); /* no NUL in the tag */
	CHECK(mb2_validate(mb2) == NULL);
	ht_log_clear();
	cmdline_init(mb2);
	CHECK_STREQ(cmdline_get(), "test=all init=/x -- a \"b c\"");
	CHECK_STREQ(cmdline_test_pattern(), "all");
	CHECK_STREQ(cmdline_init_path(), "/x");
	CHECK_EQ(cmdline_init_argc(), 2);
	CHECK_STREQ(cmdline_init_arg(1), "b c");
	CHECK(cmdline_init_arg(2) == NULL);
	CHECK(cmdline_init_arg(-1) == NULL);
	CHECK_EQ(ht_log_count("cmdline: init /x, 2 arguments: 'a' 'b c'"), 1);
	free(mb2);

	reset_boot_state();
	mb2 = make_mb2("", 0, false);
	cmdline_init(mb2);
	CHECK_STREQ(cmdline_get(), "");
	CHECK(cmdline_test_pattern() == NULL);
	CHECK_STREQ(cmdline_init_path(), "/sbin/init");
	CHECK_EQ(cmdline_init_argc(), 0);
	free(mb2);

	/* A GRUB-style path first is skipped, not warned about. */
	reset_boot_state();
	mb2 = make_mb2("/boot/augur.elf loglevel=3", 27, true);
	ht_log_clear();
	cmdline_init(mb2);
	CHECK_EQ(console_loglevel, 3);
	CHECK_EQ(ht_log_count("cmdline:"), 0);
	free(mb2);
	reset_boot_state();
}

static bool key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > CMDLINE_MAX_KEY)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_key_char(k[i]))
			return false;
	return true;
}

TEST(cmdline_fuzz)
{
	static char line[CMDLINE_MAX_LEN + 600];
	static const char alphabet[] = "ab=\" -\t\x01/x";
	int bad = 0;

	ht_seed(31337);
	for (int it = 0; it < 20000; it++) {
		size_t len = ht_below(it % 50 == 0 ? sizeof(line) : 200);
		bool anybyte = ht_below(2);

		for (size_t i = 0; i < len; i++)
			line[i] = anybyte ? (char)ht_rand()
					  : alphabet[ht_below(sizeof(alphabet) - 1)];
		/* The parser must never read past len, NUL or not. */
		char *copy = malloc(len ? len : 1);

		memcpy(copy, line, len);
		ht_log_clear();
		cmdline_parse(&parsed, copy, len);
		free(copy);
		if (parsed.nparams > CMDLINE_MAX_WORDS || parsed.nargs > CMDLINE_MAX_WORDS)
			bad++;
		for (int i = 0; i < parsed.nparams; i++) {
			const char *v = parsed.params[i].value;

			if (!key_ok(parsed.params[i].key))
				bad++;
			for (; v && *v; v++)
				if ((unsigned char)*v < 0x20 || *v == 0x7f)
					bad++;
		}
		reset_boot_state();
		cmdline_apply(&parsed, host_params, ARRAY_SIZE(host_params));

		/* And through the boot glue, from an exactly-sized block. */
		if (it % 4 == 0) {
			void *mb2 = make_mb2(line, len, true);

			if (mb2_validate(mb2) == NULL)
				cmdline_init(mb2);
			free(mb2);
		}
	}
	reset_boot_state();
	CHECK_EQ(bad, 0);
}

int main(void)
{
	RUN_KTEST(cmdline_parse_words);
	RUN_KTEST(cmdline_parse_errors);
	RUN_KTEST(cmdline_loglevel_values);
	RUN(cmdline_quotes_and_separator);
	RUN(cmdline_errors_named);
	RUN(cmdline_limits);
	RUN(cmdline_apply_warns_once);
	RUN(cmdline_boot_glue);
	RUN(cmdline_fuzz);
	return ht_finish();
}
