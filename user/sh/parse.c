/*
 * sh's parser: a line becomes pipelines of commands. Words are expanded and unquoted as they
 * are read ('...' literal, "..." with $ expansion and \" \\ \$ escapes, \x outside quotes);
 * an expansion is never split into several words. Storage: one arena, reset per pipeline.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sh.h"

enum tok { T_WORD, T_PIPE, T_OR, T_AMP, T_AND, T_SEMI, T_REDIR, T_END, T_ERR };

struct token {
	enum tok type;
	char *word;	/* T_WORD */
	struct redir r; /* T_REDIR (target still to come for all but R_DUP) */
};

static char arena[4 * MAX_LINE + 16384];
static size_t arena_used;
static const char *p; /* the next character of the line */

static int syntax(const char *msg)
{
	fprintf(stderr, "sh: syntax error: %s\n", msg);
	return -1;
}

/* Appends to the word being built at the end of the arena. */
static int put(char c)
{
	if (arena_used >= sizeof(arena) - 1)
		return -1;
	arena[arena_used++] = c;
	return 0;
}

static int put_str(const char *s)
{
	while (s && *s)
		if (put(*s++) < 0)
			return -1;
	return 0;
}

/* Expands the variable reference after a '$' (p points past it). */
static int expand(void)
{
	char num[24], name[64];
	size_t n = 0;

	if (*p == '?' || *p == '$' || *p == '!' || *p == '#') {
		char c = *p++;
		long v = c == '?'   ? last_status
			 : c == '$' ? getpid()
			 : c == '!' ? last_bg_pid
				    : npos - 1;

		snprintf(num, sizeof(num), "%ld", v);
		return put_str(num);
	}
	if (isdigit((unsigned char)*p)) {
		int i = *p++ - '0';

		return i < npos ? put_str(pos[i]) : 0;
	}
	if (*p == '{') {
		const char *end = strchr(p, '}');

		if (!end || end - p - 1 >= (long)sizeof(name))
			return syntax("bad ${...}");
		memcpy(name, p + 1, end - p - 1);
		name[end - p - 1] = '\0';
		p = end + 1;
		return put_str(getenv(name));
	}
	while ((isalnum((unsigned char)*p) || *p == '_') && n < sizeof(name) - 1)
		name[n++] = *p++;
	name[n] = '\0';
	if (n == 0)
		return put('$'); /* a lone '$' is itself */
	return put_str(getenv(name));
}

static int is_special(char c)
{
	return c == '|' || c == '&' || c == ';' || c == '<' || c == '>';
}

/* Reads a word; *keep is false when it was empty and had no quotes (an empty $X vanishes). */
static char *read_word(int *keep)
{
	size_t start = arena_used;

	*keep = 0;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n' && !is_special(*p)) {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (!end)
				return syntax("unterminated '"), NULL;
			while (++p < end)
				if (put(*p) < 0)
					return NULL;
			p++;
			*keep = 1;
		} else if (*p == '"') {
			for (p++; *p && *p != '"';) {
				if (*p == '\\' && strchr("\"\\$", p[1])) {
					if (put(p[1]) < 0)
						return NULL;
					p += 2;
				} else if (*p == '$') {
					p++;
					if (expand() < 0)
						return NULL;
				} else if (put(*p++) < 0) {
					return NULL;
				}
			}
			if (*p != '"')
				return syntax("unterminated \""), NULL;
			p++;
			*keep = 1;
		} else if (*p == '\\' && p[1]) {
			if (put(p[1]) < 0)
				return NULL;
			p += 2;
			*keep = 1;
		} else if (*p == '$') {
			p++;
			if (expand() < 0)
				return NULL;
		} else {
			if (put(*p++) < 0)
				return NULL;
			*keep = 1;
		}
	}
	if (put('\0') < 0)
		return NULL;
	if (arena_used - 1 > start)
		*keep = 1;
	return arena + start;
}

static struct token next_token(void)
{
	struct token t = {.type = T_ERR};

	for (;;) {
		int keep;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#') {
			t.type = T_END;
			return t;
		}
		if (*p == '|') {
			t.type = p[1] == '|' ? T_OR : T_PIPE;
			p += t.type == T_OR ? 2 : 1;
			return t;
		}
		if (*p == '&') {
			t.type = p[1] == '&' ? T_AND : T_AMP;
			p += t.type == T_AND ? 2 : 1;
			return t;
		}
		if (*p == ';') {
			p++;
			t.type = T_SEMI;
			return t;
		}
		if (*p == '<' || *p == '>' ||
		    (isdigit((unsigned char)*p) && (p[1] == '<' || p[1] == '>'))) {
			t.type = T_REDIR;
			t.r.fd = isdigit((unsigned char)*p) ? *p++ - '0' : (*p == '<' ? 0 : 1);
			if (*p == '<') {
				t.r.type = R_IN;
				p++;
			} else if (p[1] == '>') {
				t.r.type = R_APPEND;
				p += 2;
			} else {
				t.r.type = R_OUT;
				p++;
			}
			if (*p == '&' && isdigit((unsigned char)p[1])) {
				t.r.type = R_DUP;
				t.r.dup_from = p[1] - '0';
				p += 2;
			}
			return t;
		}
		t.word = read_word(&keep);
		if (!t.word) {
			t.type = T_ERR;
			return t;
		}
		if (keep) {
			t.type = T_WORD;
			return t;
		}
	}
}

static int is_assignment(const char *w)
{
	if (!isalpha((unsigned char)*w) && *w != '_')
		return 0;
	while (isalnum((unsigned char)*w) || *w == '_')
		w++;
	return *w == '=';
}

static int empty(const struct command *c)
{
	return c->argc == 0 && c->nredirs == 0 && c->nassign == 0;
}

int parse_pipeline(const char **line, struct pipeline *pl)
{
	struct command *c = &pl->cmds[0];

	arena_used = 0;
	p = *line;
	memset(pl, 0, sizeof(*pl));
	pl->ncmds = 1;
	for (;;) {
		struct token t = next_token();

		switch (t.type) {
		case T_ERR:
			return -1;
		case T_WORD:
			if (c->argc == 0 && is_assignment(t.word) && c->nassign < MAX_ASSIGN)
				c->assign[c->nassign++] = t.word;
			else if (c->argc < MAX_ARGS)
				c->argv[c->argc++] = t.word;
			else
				return syntax("too many arguments");
			break;
		case T_REDIR:
			if (c->nredirs >= MAX_REDIRS)
				return syntax("too many redirections");
			if (t.r.type != R_DUP) {
				struct token target = next_token();

				if (target.type != T_WORD)
					return syntax("redirection without a file name");
				t.r.target = target.word;
			}
			c->redirs[c->nredirs++] = t.r;
			break;
		case T_PIPE:
			if (empty(c))
				return syntax("empty command before '|'");
			if (pl->ncmds >= MAX_CMDS)
				return syntax("pipeline too long");
			c = &pl->cmds[pl->ncmds++];
			break;
		default: /* T_SEMI, T_AMP, T_AND, T_OR, T_END */
			*line = p;
			if (empty(c)) {
				if (t.type == T_END && pl->ncmds == 1)
					return 0; /* nothing (more) on the line */
				return syntax("empty command");
			}
			pl->next = t.type == T_SEMI  ? C_SEQ
				   : t.type == T_AMP ? C_BG
				   : t.type == T_AND ? C_AND
				   : t.type == T_OR  ? C_OR
						     : C_END;
			return 1;
		}
	}
}
