/*
 * The kernel command line: a pure parser (cmdline_parse, cmdline_apply; host-tested), the
 * boot glue that reads it from multiboot2 and applies the CMDLINE_PARAM table, and the core
 * parameters loglevel=, test= and init=. Everything here runs once on the boot CPU before any
 * other CPU or interrupt exists; afterwards the data is read-only, so there is no lock.
 */
#include "kernel/cmdline.h"
#include "kernel/multiboot2.h"
#include "kernel/printk.h"
#include "kernel/string.h"
#include "kernel/format.h"
#include "kernel/ktest.h"

/* The linker gathers CMDLINE_PARAM entries here; a host test may supply its own table. */
#ifndef CMDLINE_PARAMS
extern const struct cmdline_param _cmdline_params_start[], _cmdline_params_end[];
#define CMDLINE_PARAMS	     _cmdline_params_start
#define CMDLINE_PARAMS_COUNT ((size_t)(_cmdline_params_end - _cmdline_params_start))
#endif

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/*
 * A printable copy of (part of) a word for a message: control bytes become '?' so a hostile
 * command line cannot drive the console, and long words are cut with "...".
 */
static const char *shown(char *tmp, size_t size, const char *s, size_t len)
{
	size_t n = 0, max = size - 4;

	for (size_t i = 0; i < len && n < max; i++)
		tmp[n++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	if (len > max) {
		memcpy(tmp + n, "...", 3);
		n += 3;
	}
	tmp[n] = '\0';
	return tmp;
}

#define SHOWN_SIZE 48

int cmdline_parse(struct cmdline_parsed *p, const char *line, size_t len)
{
	char tmp[SHOWN_SIZE];
	size_t i = 0, out = 0;
	bool truncated = false, params_full = false, args_full = false, first = true;

	p->image = NULL;
	p->nparams = 0;
	p->nargs = 0;
	p->separator = false;
	p->errors = 0;
	p->buf[0] = '\0';

	len = strnlen(line, len);
	if (len > CMDLINE_MAX_LEN) {
		pr_warn("cmdline: command line is %zu bytes, longer than the limit of %d; the rest "
			"is ignored\n",
			len, CMDLINE_MAX_LEN);
		p->errors++;
		len = CMDLINE_MAX_LEN;
		truncated = true;
	}

	/*
	 * Unquoting only ever shortens a word and words are separated by at least one blank, so
	 * the words plus their NULs fit in len + 1 bytes: buf cannot overflow.
	 */
	while (i < len) {
		size_t start, wlen = 0, keylen;
		long eq = -1;
		bool quoted = false, any_quote = false, control = false, bad_key = false;
		char *w;

		while (i < len && is_blank(line[i]))
			i++;
		if (i == len)
			break;
		start = i;
		w = p->buf + out;
		while (i < len && (quoted || !is_blank(line[i]))) {
			char c = line[i++];

			if (c == '"') {
				quoted = !quoted;
				any_quote = true;
				continue;
			}
			if ((unsigned char)c < 0x20 || c == 0x7f)
				control = true;
			if (c == '=' && eq < 0)
				eq = (long)wlen;
			w[wlen++] = c;
		}
		w[wlen] = '\0';
		if (quoted) {
			pr_warn("cmdline: unterminated quote in '%s'; the rest of the line is "
				"ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start));
			p->errors++;
			break;
		}
		if (truncated && i == len) {
			pr_warn("cmdline: '%s' is cut off by the length limit; ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start));
			p->errors++;
			break;
		}
		if (control) {
			pr_warn("cmdline: control character in '%s'; word ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start));
			p->errors++;
			continue;
		}

		if (!p->separator && !any_quote && strcmp(w, "--") == 0) {
			p->separator = true;
			first = false;
			continue;
		}
		if (p->separator) {
			if (p->nargs == CMDLINE_MAX_WORDS) {
				if (!args_full)
					pr_warn("cmdline: more than %d init arguments; '%s' and "
						"the rest are ignored\n",
						CMDLINE_MAX_WORDS,
						shown(tmp, sizeof(tmp), line + start, i - start));
				args_full = true;
				p->errors++;
				continue;
			}
			p->args[p->nargs++] = w;
			out += wlen + 1;
			continue;
		}
		/* Some loaders put the kernel's own path first: "/boot/augur.elf loglevel=7". */
		if (first && w[0] == '/' && eq < 0) {
			first = false;
			p->image = w;
			out += wlen + 1;
			continue;
		}
		first = false;

		keylen = eq < 0 ? wlen : (size_t)eq;
		if (keylen == 0) {
			pr_warn("cmdline: empty key in '%s'; word ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start));
			p->errors++;
			continue;
		}
		if (keylen > CMDLINE_MAX_KEY) {
			pr_warn("cmdline: key in '%s' is longer than %d characters; word ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start), CMDLINE_MAX_KEY);
			p->errors++;
			continue;
		}
		for (size_t k = 0; k < keylen; k++)
			if (!is_key_char(w[k]))
				bad_key = true;
		if (bad_key) {
			pr_warn("cmdline: bad character in the key of '%s' (letters, digits, '_', "
				"'-', '.' only); word ignored\n",
				shown(tmp, sizeof(tmp), line + start, i - start));
			p->errors++;
			continue;
		}
		if (p->nparams == CMDLINE_MAX_WORDS) {
			if (!params_full)
				pr_warn("cmdline: more than %d parameters; '%s' and the rest are "
					"ignored\n",
					CMDLINE_MAX_WORDS,
					shown(tmp, sizeof(tmp), line + start, i - start));
			params_full = true;
			p->errors++;
			continue;
		}
		if (eq >= 0)
			w[eq] = '\0';
		p->params[p->nparams].key = w;
		p->params[p->nparams].value = eq >= 0 ? w + eq + 1 : NULL;
		p->nparams++;
		out += wlen + 1;
	}
	return p->errors;
}

int cmdline_apply(const struct cmdline_parsed *p, const struct cmdline_param *params, size_t count)
{
	char tmp[SHOWN_SIZE];
	int errors = 0;

	for (int i = 0; i < p->nparams; i++) {
		const struct cmdline_word *w = &p->params[i];
		const struct cmdline_param *param = NULL;
		bool seen = false;

		for (size_t k = 0; k < count && !param; k++)
			if (strcmp(params[k].key, w->key) == 0)
				param = &params[k];
		if (!param) {
			/* Warn once per key: a key repeated ten times is still one mistake. */
			for (int j = 0; j < i && !seen; j++)
				seen = strcmp(p->params[j].key, w->key) == 0;
			if (!seen)
				pr_warn("cmdline: unknown parameter '%s' ignored\n", w->key);
			errors++;
			continue;
		}
		if (param->set(w->value) < 0) {
			if (w->value)
				pr_warn("cmdline: bad value '%s' for %s=; ignored\n",
					shown(tmp, sizeof(tmp), w->value, strlen(w->value)),
					w->key);
			else
				pr_warn("cmdline: %s needs a value (%s=...); ignored\n", w->key,
					w->key);
			errors++;
		}
	}
	return errors;
}

/* ---- the boot command line -------------------------------------------------------------- */

static char boot_line[CMDLINE_MAX_LEN + 1]; /* as the loader gave it, cut at the limit */
static struct cmdline_parsed boot_parsed;
static const char *test_pattern;
static const char *init_path = "/sbin/init";
static bool init_given;

static int set_loglevel(const char *value)
{
	if (!value || value[0] < '0' || value[0] > '7' || value[1] != '\0')
		return -22; /* EINVAL: one digit, LOG_EMERG (0) .. LOG_DEBUG (7) */
	console_loglevel = value[0] - '0';
	return 0;
}
CMDLINE_PARAM(loglevel, "loglevel", set_loglevel);

static int set_test(const char *value)
{
	if (!value || !value[0])
		return -22;
	test_pattern = value;
	return 0;
}
CMDLINE_PARAM(test, "test", set_test);

static int set_init(const char *value)
{
	if (!value || value[0] != '/')
		return -22; /* an absolute path: there is no working directory yet */
	init_path = value;
	init_given = true;
	return 0;
}
CMDLINE_PARAM(init, "init", set_init);

void cmdline_init(const void *mb2_info)
{
	const struct mb2_tag *tag = mb2_find_tag(mb2_info, MB2_TAG_CMDLINE);
	const char *s = "";
	size_t len = 0;

	if (tag) {
		/* The string need not be NUL-terminated: never read past the tag. */
		s = ((const struct mb2_tag_string *)tag)->string;
		len = strnlen(s, tag->size - sizeof(*tag));
	}
	memcpy(boot_line, s, MIN(len, (size_t)CMDLINE_MAX_LEN));
	boot_line[MIN(len, (size_t)CMDLINE_MAX_LEN)] = '\0';

	cmdline_parse(&boot_parsed, s, len);
	cmdline_apply(&boot_parsed, CMDLINE_PARAMS, CMDLINE_PARAMS_COUNT);

	if (boot_parsed.separator || init_given) {
		char line[256];
		size_t n = 0;

		for (int i = 0; i < boot_parsed.nargs && n + 1 < sizeof(line); i++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, " '%s'",
					      boot_parsed.args[i]);
		pr_info("cmdline: init %s, %d argument%s:%s\n", init_path, boot_parsed.nargs,
			boot_parsed.nargs == 1 ? "" : "s", boot_parsed.nargs ? line : " (none)");
	}
}

const char *cmdline_get(void)
{
	return boot_line;
}

const char *cmdline_test_pattern(void)
{
	return test_pattern;
}

const char *cmdline_init_path(void)
{
	return init_path;
}

int cmdline_init_argc(void)
{
	return boot_parsed.nargs;
}

const char *cmdline_init_arg(int i)
{
	return i >= 0 && i < boot_parsed.nargs ? boot_parsed.args[i] : NULL;
}

/* ---- in-kernel tests ---------------------------------------------------------------------- */

static struct cmdline_parsed test_parsed; /* too big for the boot stack */

KTEST(cmdline_parse_words)
{
	struct cmdline_parsed *p = &test_parsed;
	const char *line = "/boot/augur.elf loglevel=7 quiet name=\"a b\" e= -- x \"y z\" --";

	KEXPECT_EQ(cmdline_parse(p, line, strlen(line)), 0);
	KEXPECT_STREQ(p->image, "/boot/augur.elf");
	KEXPECT_EQ(p->nparams, 4);
	KEXPECT_STREQ(p->params[0].key, "loglevel");
	KEXPECT_STREQ(p->params[0].value, "7");
	KEXPECT_STREQ(p->params[1].key, "quiet");
	KEXPECT(p->params[1].value == NULL);
	KEXPECT_STREQ(p->params[2].value, "a b");
	KEXPECT_STREQ(p->params[3].value, "");
	KEXPECT(p->separator);
	KEXPECT_EQ(p->nargs, 3);
	KEXPECT_STREQ(p->args[0], "x");
	KEXPECT_STREQ(p->args[1], "y z");
	KEXPECT_STREQ(p->args[2], "--");
}

KTEST(cmdline_parse_errors)
{
	struct cmdline_parsed *p = &test_parsed;
	const char *line;

	line = "=x a=1 b\"c=2";
	KEXPECT_EQ(cmdline_parse(p, line, strlen(line)), 2); /* empty key, unterminated quote */
	KEXPECT_EQ(p->nparams, 1);
	KEXPECT_STREQ(p->params[0].key, "a");
	line = "k\x01=1 a$b=2 ok";
	KEXPECT_EQ(cmdline_parse(p, line, strlen(line)), 2);
	KEXPECT_EQ(p->nparams, 1);
	KEXPECT_STREQ(p->params[0].key, "ok");
	KEXPECT_EQ(cmdline_parse(p, "", 0), 0);
	KEXPECT_EQ(p->nparams + p->nargs, 0);
	/* The length bound counts, not the NUL: "a=1 b=2" cut after 5 bytes drops "b". */
	KEXPECT_EQ(cmdline_parse(p, "a=1 b=2", 5), 0);
	KEXPECT_EQ(p->nparams, 2);
	KEXPECT_STREQ(p->params[1].key, "b");
	KEXPECT(p->params[1].value == NULL);
}

KTEST(cmdline_loglevel_values)
{
	int saved = console_loglevel;

	KEXPECT_EQ(set_loglevel("7"), 0);
	KEXPECT_EQ(console_loglevel, 7);
	KEXPECT(set_loglevel("8") < 0);
	KEXPECT(set_loglevel("") < 0);
	KEXPECT(set_loglevel("12") < 0);
	KEXPECT(set_loglevel(NULL) < 0);
	KEXPECT_EQ(console_loglevel, 7);
	console_loglevel = saved;
	KEXPECT(set_init("sbin/init") < 0);
}
