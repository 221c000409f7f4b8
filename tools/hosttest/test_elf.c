/*
 * Host tests of kernel/elf.c (ELF validation) and kernel/exec_stack.c (the initial stack):
 * valid images built here, one test per malformation with its one-line message, real static
 * binaries built with musl-gcc when it is installed, and a fuzz loop of random mutations of
 * a valid image that must never crash or read out of bounds (ASan watches exact-size copies).
 */
#include "tools/hosttest/hosttest.h"
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/elf.c"
#include "kernel/exec_stack.c"
#include "kernel/errno.h"

#define IMG_SIZE 0x3000

/* <sys/mman.h> would clash with mm/mm.h's identical Linux constants; those are used. */
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

struct tseg {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

static const uint8_t elf_magic[4] = {0x7f, 'E', 'L', 'F'};
static uint8_t img[IMG_SIZE];
static struct elf_info info;

static struct elf64_ehdr *ehdr(void)
{
	return (struct elf64_ehdr *)img;
}

static struct elf64_phdr *phdr(int i)
{
	return (struct elf64_phdr *)(img + sizeof(struct elf64_ehdr)) + i;
}

static void build(uint16_t type, uint64_t entry, const struct tseg *s, int n)
{
	struct elf64_ehdr *eh = ehdr();

	memset(img, 0, sizeof(img));
	memcpy(eh->e_ident, elf_magic, sizeof(elf_magic));
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = type;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(struct elf64_phdr);
	eh->e_phnum = (uint16_t)n;
	for (int i = 0; i < n; i++)
		*phdr(i) = (struct elf64_phdr){s[i].type,  s[i].flags,	s[i].offset, s[i].vaddr,
					       s[i].vaddr, s[i].filesz, s[i].memsz,  s[i].align};
}

/* Like musl-gcc -static: R (headers), RX, R, RW + bss, GNU_STACK. */
static void build_static(uint16_t type, uint64_t base)
{
	const struct tseg segs[] = {
		{PT_LOAD, PF_R, 0, base, 0x190, 0x190, 0x1000},
		{PT_LOAD, PF_R | PF_X, 0x1000, base + 0x1000, 0x800, 0x800, 0x1000},
		{PT_LOAD, PF_R, 0x2000, base + 0x2000, 0x40, 0x40, 0x1000},
		{PT_LOAD, PF_R | PF_W, 0x2fd0, base + 0x3fd0, 0x30, 0x2a8, 0x1000},
		{PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0x10},
		{PT_TLS, PF_R, 0x2fd0, base + 0x3fd0, 0x8, 0x10, 8},
	};

	build(type, base + 0x1033, segs, ARRAY_SIZE(segs));
}

/* Parses a copy of exactly size bytes, so ASan reports any read past the end. */
static int parse_copy(const void *src, size_t size)
{
	void *copy = malloc(size ? size : 1);
	int r;

	memcpy(copy, src, size);
	r = elf_parse(copy, size, "test", &info);
	free(copy);
	return r;
}

static void expect_reject(size_t size, const char *msg)
{
	ht_log_clear();
	CHECK_EQ(parse_copy(img, size), -ENOEXEC);
	if (ht_log_count(msg) != 1 || ht_log_count("\n") != 1 || ht_log_count("exec: test: ") != 1)
		printf("# expected one line with \"%s\", got: %s", msg, ht_log);
	CHECK_EQ(ht_log_count(msg), 1);
	CHECK_EQ(ht_log_count("\n"), 1);
}

TEST(elf_valid_static)
{
	build_static(ET_EXEC, 0x400000);
	ht_log_clear();
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(ht_log_len, 0);
	CHECK_EQ(info.type, ET_EXEC);
	CHECK_EQ(info.load_bias, 0);
	CHECK_EQ(info.entry, 0x401033);
	CHECK_EQ(info.phdr_addr, 0x400040);
	CHECK_EQ(info.phnum, 6);
	CHECK_EQ(info.phentsize, 56);
	CHECK(!info.exec_stack);
	CHECK_EQ(info.nr_loads, 4);
	CHECK_EQ(info.loads[3].vaddr, 0x403fd0);
	CHECK_EQ(info.loads[3].filesz, 0x30);
	CHECK_EQ(info.loads[3].memsz, 0x2a8);
	CHECK_EQ(info.loads[3].flags, PF_R | PF_W);
	CHECK_EQ(info.lowest, 0x400000);
	CHECK_EQ(info.highest, 0x405000);
	CHECK_EQ(info.start_code, 0x401000);
	CHECK_EQ(info.end_code, 0x401800);
	CHECK_EQ(info.start_data, 0x403fd0);
	CHECK_EQ(info.end_data, 0x404000);
	CHECK_EQ(elf_prot(PF_R | PF_X), PROT_READ | PROT_EXEC);
	CHECK_EQ(elf_prot(PF_W), PROT_WRITE);

	phdr(4)->p_flags |= PF_X;
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK(info.exec_stack);
	phdr(4)->p_type = PT_NULL; /* no PT_GNU_STACK: non-executable, as Linux on x86-64 */
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK(!info.exec_stack);
}

TEST(elf_valid_pie)
{
	build_static(ET_DYN, 0);
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.load_bias, ELF_ET_DYN_BASE);
	CHECK_EQ(info.entry, ELF_ET_DYN_BASE + 0x1033);
	CHECK_EQ(info.phdr_addr, ELF_ET_DYN_BASE + 0x40);
	CHECK_EQ(info.loads[0].vaddr, ELF_ET_DYN_BASE);
	CHECK_EQ(info.highest, ELF_ET_DYN_BASE + 0x5000);

	/* 2 MiB alignment is kept: the bias is a multiple of it. */
	for (int i = 0; i < 4; i++)
		phdr(i)->p_align = 0x200000;
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.load_bias % 0x200000, 0);
	CHECK(info.lowest <= ELF_ET_DYN_BASE && info.lowest >= MMAP_MIN_ADDR);

	/* An ET_DYN linked at a non-zero address still lands near ELF_ET_DYN_BASE. */
	build_static(ET_DYN, 0x10000000);
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.lowest, ELF_ET_DYN_BASE);
	CHECK_EQ(info.entry, ELF_ET_DYN_BASE + 0x1033);
}

TEST(elf_page_sharing_and_align)
{
	/* Segments sharing a page are fine; p_align 0/1 skips the congruence check. */
	const struct tseg segs[] = {
		{PT_LOAD, PF_R | PF_X, 0, 0x400000, 0x800, 0x800, 0x1000},
		{PT_LOAD, PF_R | PF_W, 0x800, 0x400800, 0x100, 0x1900, 0x1000},
		{PT_LOAD, PF_R, 0x900, 0x500123, 0x10, 0x10, 1},
	};

	build(ET_EXEC, 0x400100, segs, 3);
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.highest, 0x501000);
	/* Zero-sized loads are skipped entirely. */
	phdr(2)->p_memsz = 0;
	phdr(2)->p_filesz = 0;
	phdr(2)->p_vaddr = 0;
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.nr_loads, 2);
	/* Program headers outside every load: AT_PHDR is 0, as Linux gives. */
	phdr(0)->p_offset = 0x1000;
	phdr(0)->p_vaddr = 0x401000;
	phdr(1)->p_offset = 0x1800;
	phdr(1)->p_vaddr = 0x401800;
	ehdr()->e_entry = 0x401100;
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.phdr_addr, 0);
}

TEST(elf_bad_header)
{
	build_static(ET_EXEC, 0x400000);
	expect_reject(0, "file too short");
	expect_reject(63, "file too short");
	img[1] = 'X';
	expect_reject(IMG_SIZE, "bad magic");
	build_static(ET_EXEC, 0x400000);
	img[EI_CLASS] = 1;
	expect_reject(IMG_SIZE, "not a 64-bit");
	build_static(ET_EXEC, 0x400000);
	img[EI_DATA] = 2;
	expect_reject(IMG_SIZE, "little-endian");
	build_static(ET_EXEC, 0x400000);
	img[EI_VERSION] = 0;
	expect_reject(IMG_SIZE, "version");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_version = 2;
	expect_reject(IMG_SIZE, "version");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_machine = 3; /* i386 */
	expect_reject(IMG_SIZE, "not an x86-64 program (e_machine 3)");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_type = 1; /* ET_REL */
	expect_reject(IMG_SIZE, "not an executable (e_type 1)");
	ehdr()->e_type = 4; /* ET_CORE */
	expect_reject(IMG_SIZE, "not an executable");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_phentsize = 32;
	expect_reject(IMG_SIZE, "program header size");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_phnum = 0;
	expect_reject(IMG_SIZE, "program header count");
	ehdr()->e_phnum = 74;
	expect_reject(IMG_SIZE, "program header count");
	ehdr()->e_phnum = 0xffff;
	expect_reject(IMG_SIZE, "program header count");
	build_static(ET_EXEC, 0x400000);
	expect_reject(64 + 6 * 56 - 1, "outside the file");
	ehdr()->e_phoff = IMG_SIZE - 56;
	expect_reject(IMG_SIZE, "outside the file");
	ehdr()->e_phoff = ~0ULL - 8;
	expect_reject(IMG_SIZE, "outside the file");
}

TEST(elf_bad_segments)
{
	build_static(ET_EXEC, 0x400000);
	phdr(3)->p_filesz = phdr(3)->p_memsz + 1;
	expect_reject(IMG_SIZE, "segment 3: p_filesz > p_memsz");
	build_static(ET_EXEC, 0x400000);
	expect_reject(0x2fff, "segment 3: file bytes beyond the end");
	phdr(3)->p_offset = ~0ULL - 0x10;
	phdr(3)->p_vaddr = 0x403fd0 - 0x20; /* keep the congruence */
	expect_reject(IMG_SIZE, "segment 3: file bytes beyond");
	build_static(ET_EXEC, 0x400000);
	phdr(1)->p_vaddr += 0x10;
	expect_reject(IMG_SIZE, "segment 1: p_vaddr and p_offset differ");
	build_static(ET_EXEC, 0x400000);
	phdr(3)->p_memsz = ~0ULL - 0x1000;
	expect_reject(IMG_SIZE, "segment 3: addresses outside the user half");
	build_static(ET_EXEC, 0x400000);
	phdr(3)->p_vaddr = STACK_TOP - 0x1000 + 0xfd0; /* ends past STACK_TOP */
	expect_reject(IMG_SIZE, "segment 3: addresses outside the user half");
	build_static(ET_EXEC, 0x400000);
	phdr(3)->p_vaddr = 0xffff800000003fd0ULL; /* kernel half */
	expect_reject(IMG_SIZE, "segment 3: addresses outside");
	build_static(ET_EXEC, 0x1000);
	expect_reject(IMG_SIZE, "below the lowest mappable address 0x10000");
	build_static(ET_EXEC, 0x400000);
	phdr(2)->p_vaddr = 0x401000; /* on top of the text */
	expect_reject(IMG_SIZE, "segment 2 overlaps or precedes");
	build_static(ET_EXEC, 0x400000);
	phdr(2)->p_vaddr = 0x401000 - 0x1000 + 0x7ff; /* out of order and overlapping */
	phdr(2)->p_align = 0;
	expect_reject(IMG_SIZE, "segment 2 overlaps or precedes");
	build_static(ET_EXEC, 0x400000);
	for (int i = 0; i < 6; i++)
		phdr(i)->p_type = PT_NOTE;
	expect_reject(IMG_SIZE, "no PT_LOAD segment");
	build_static(ET_EXEC, 0x400000);
	phdr(5)->p_type = PT_INTERP;
	expect_reject(IMG_SIZE, "dynamically linked (PT_INTERP)");
	build_static(ET_EXEC, 0x400000);
	ehdr()->e_entry = 0x403fd0; /* in the data */
	expect_reject(IMG_SIZE, "entry point 0x403fd0 is not in an executable segment");
	ehdr()->e_entry = 0x401800; /* one past the text */
	expect_reject(IMG_SIZE, "entry point");
	ehdr()->e_entry = 0;
	expect_reject(IMG_SIZE, "entry point");
}

TEST(elf_too_many_loads)
{
	struct tseg segs[ELF_MAX_LOADS + 1];

	for (int i = 0; i <= ELF_MAX_LOADS; i++)
		segs[i] =
			(struct tseg){PT_LOAD, PF_R | PF_X, 0,	   0x400000 + 0x1000 * (uint64_t)i,
				      0x10,    0x10,	    0x1000};
	build(ET_EXEC, 0x400000, segs, ELF_MAX_LOADS);
	CHECK_EQ(parse_copy(img, IMG_SIZE), 0);
	CHECK_EQ(info.nr_loads, ELF_MAX_LOADS);
	build(ET_EXEC, 0x400000, segs, ELF_MAX_LOADS + 1);
	expect_reject(IMG_SIZE, "more than 16 PT_LOAD");
}

/* What any accepted image must satisfy: the loader relies on each of these. */
static void check_invariants(size_t size)
{
	bool entry_ok = false;

	CHECK(info.nr_loads >= 1 && info.nr_loads <= ELF_MAX_LOADS);
	CHECK(info.lowest >= MMAP_MIN_ADDR);
	CHECK(info.highest <= STACK_TOP);
	CHECK(info.lowest % ELF_PAGE_SIZE == 0 && info.highest % ELF_PAGE_SIZE == 0);
	for (int i = 0; i < info.nr_loads; i++) {
		const struct elf_segment *s = &info.loads[i];

		CHECK(s->memsz > 0 && s->filesz <= s->memsz);
		CHECK(s->offset <= size && s->filesz <= size - s->offset);
		CHECK(s->vaddr >= info.lowest && s->vaddr + s->memsz <= info.highest);
		if (i > 0)
			CHECK(s->vaddr >= info.loads[i - 1].vaddr + info.loads[i - 1].memsz);
		if ((s->flags & PF_X) && info.entry >= s->vaddr && info.entry < s->vaddr + s->memsz)
			entry_ok = true;
	}
	CHECK(entry_ok);
	if (info.phdr_addr)
		CHECK(info.phdr_addr >= info.lowest && info.phdr_addr < info.highest);
}

/* Random mutations of valid images: header fields, program headers, sizes. */
TEST(elf_fuzz)
{
	static const uint64_t interesting[] = {0,
					       1,
					       0x1000,
					       0xfff,
					       0x10000,
					       0x400000,
					       STACK_TOP,
					       STACK_TOP - 1,
					       0x7fffffffffffULL,
					       0x8000000000000000ULL,
					       ~0ULL,
					       ~0ULL - 0xfff,
					       IMG_SIZE,
					       IMG_SIZE - 1};
	int accepted = 0;

	ht_seed(0xe1f);
	for (int iter = 0; iter < 200000; iter++) {
		size_t size = IMG_SIZE;
		int nmut = 1 + (int)ht_below(4);

		if (ht_below(2))
			build_static(ht_below(2) ? ET_EXEC : ET_DYN, ht_below(2) ? 0x400000 : 0);
		else
			build_static(ET_DYN, 0);
		for (int m = 0; m < nmut; m++) {
			switch (ht_below(6)) {
			case 0: /* a random byte in the headers */
				img[ht_below(64 + 6 * 56)] = (uint8_t)ht_rand();
				break;
			case 1: /* a bit flip anywhere in the headers */
				img[ht_below(64 + 6 * 56)] ^= (uint8_t)(1u << ht_below(8));
				break;
			case 2: { /* an interesting 64-bit value in a phdr field */
				uint64_t v = interesting[ht_below(ARRAY_SIZE(interesting))];
				size_t off = 64 + 8 * ht_below(6 * 56 / 8);

				if (ht_below(2))
					v += ht_below(0x2000);
				memcpy(img + off, &v, 8);
				break;
			}
			case 3: /* a header field */
				ehdr()->e_phnum = (uint16_t)ht_below(10);
				break;
			case 4:
				ehdr()->e_phoff = ht_below(2) ? ht_below(IMG_SIZE) : ht_rand();
				break;
			default:
				size = ht_below(IMG_SIZE + 1);
				break;
			}
		}
		ht_log_clear();
		if (parse_copy(img, size) == 0) {
			accepted++;
			check_invariants(size);
			CHECK_EQ(ht_log_len, 0);
		} else {
			CHECK_EQ(ht_log_count("\n"), 1);
		}
		if (ht_cur_failures) {
			printf("# fuzz iteration %d failed\n", iter);
			break;
		}
	}
	printf("# fuzz: %d of 200000 mutated images accepted\n", accepted);
	CHECK(accepted > 1000);
}

/* ---- real binaries -------------------------------------------------------------------- */

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static int parse_file(const char *path)
{
	size_t size;
	uint8_t *buf = read_file(path, &size);
	int r;

	if (!buf)
		return -ENOENT;
	ht_log_clear();
	r = elf_parse(buf, size, path, &info);
	if (r == 0)
		check_invariants(size);
	free(buf);
	return r;
}

/*
 * Runs a real static binary with the layout the kernel would give it, in a child process:
 * the segments from elf_parse mapped at their addresses, the stack from exec_stack_fill
 * (below a lower top than STACK_TOP, where the host's own stack lives), then a jump to the
 * entry point. Returns the child's output; exit status in *status (-1: could not map).
 */
static char run_output[4096];

static void __attribute__((noreturn)) run_child(const uint8_t *file, uint64_t top)
{
	static const uint8_t rnd[16] = {42};
	static char strings[] = "prog\0arg one\0HOME=/home\0X=1\0";
	struct exec_args a = {strings, sizeof(strings) - 1, 13, 2, 2};
	struct exec_stack st = {0};
	uint64_t auxv[] = {AT_PHDR,   info.phdr_addr, AT_PHENT, 56,	    AT_PHNUM, info.phnum,
			   AT_PAGESZ, 4096,	      AT_ENTRY, info.entry, AT_HWCAP, 0};
	uint64_t mapped_end = 0;

	for (int i = 0; i < info.nr_loads; i++) {
		const struct elf_segment *s = &info.loads[i];
		uint64_t start = MAX(s->vaddr & ~0xfffUL, mapped_end);
		uint64_t end = (s->vaddr + s->memsz + 0xfff) & ~0xfffUL;

		if (start < end &&
		    mmap((void *)start, end - start, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)start)
			_exit(99); /* the host already uses that range */
		memcpy((void *)s->vaddr, file + s->offset, s->filesz);
		mapped_end = end;
	}
	st.top = top;
	st.args = &a;
	st.execfn = "/bin/prog";
	st.platform = "x86_64";
	st.random = rnd;
	st.auxv = auxv;
	st.nauxv = ARRAY_SIZE(auxv) / 2;
	exec_stack_layout(&st);
	if (mmap((void *)(top - 0x100000), 0x100000, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
		 0) != (void *)(top - 0x100000))
		_exit(99);
	exec_stack_fill(&st, (void *)st.sp);
	/* Fixed registers: an "r" operand could be the RDX or RBP this clears. */
	__asm__ __volatile__("mov %0, %%rsp; xor %%edx, %%edx; xor %%ebp, %%ebp; jmp *%1"
			     :
			     : "D"(st.sp), "a"(info.entry)
			     : "memory");
	__builtin_unreachable();
}

static int run_binary(const char *path, int *status)
{
	size_t size, got = 0;
	uint8_t *file = read_file(path, &size);
	int fds[2];
	pid_t pid;

	*status = -1;
	if (!file || elf_parse(file, size, path, &info) != 0 || pipe(fds) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		run_child(file, 0x600000000000ULL);
	}
	close(fds[1]);
	for (ssize_t n; (n = read(fds[0], run_output + got, sizeof(run_output) - 1 - got)) > 0;)
		got += (size_t)n;
	run_output[got] = '\0';
	close(fds[0]);
	waitpid(pid, status, 0);
	free(file);
	return 0;
}

static const char run_source[] =
	"#include <stdio.h>\n#include <sys/auxv.h>\n"
	"static __thread int tl = 5;\n"
	"int main(int argc, char **argv, char **envp) {\n"
	"  printf(\"argc=%d\", argc);\n"
	"  for (int i = 0; i < argc; i++) printf(\" [%s]\", argv[i]);\n"
	"  for (char **e = envp; *e; e++) printf(\" {%s}\", *e);\n"
	"  printf(\" execfn=%s platform=%s tls=%d\\n\", (char *)getauxval(AT_EXECFN),\n"
	"         (char *)getauxval(AT_PLATFORM), ++tl);\n"
	"  return 42;\n}\n";
static const char run_expected[] =
	"argc=2 [prog] [arg one] {HOME=/home} {X=1} execfn=/bin/prog platform=x86_64 tls=6\n";

static void check_run(const char *path)
{
	int status;

	CHECK_EQ(run_binary(path, &status), 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 99) {
		printf("# %s: address range busy on the host, run skipped\n", path);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 42)
		printf("# %s: status %#x\n", path, status);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42);
	CHECK_STREQ(run_output, run_expected);
}

/*
 * Builds tiny programs with musl-gcc (skipped when it is missing). Debian's musl-gcc wrapper
 * cannot make a static PIE by itself (its specs use Scrt1.o and the shared libc), hence the
 * explicit rcrt1.o, -Bstatic and --no-dynamic-linker.
 */
TEST(elf_real_binaries)
{
	char dir[] = "/tmp/augur-elf-XXXXXX", cmd[1024];
	const char *L = "/usr/lib/x86_64-linux-musl";

	if (system("musl-gcc --version >/dev/null 2>&1") != 0 || !mkdtemp(dir)) {
		printf("# musl-gcc not found: real-binary checks skipped\n");
	} else {
		snprintf(cmd, sizeof(cmd), "%s/t.c", dir);
		FILE *src = fopen(cmd, "w");
		CHECK(src != NULL);
		fputs(run_source, src);
		fclose(src);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && "
			 "musl-gcc -static -O2 t.c -o static && "
			 "musl-gcc -static-pie -Wl,-Bstatic -Wl,--no-dynamic-linker -nostartfiles "
			 "%s/rcrt1.o %s/crti.o t.c %s/crtn.o -o pie && "
			 "musl-gcc -O2 t.c -o dynamic",
			 dir, L, L, L);
		CHECK_EQ(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/static", dir);
		CHECK_EQ(parse_file(cmd), 0);
		CHECK_EQ(info.type, ET_EXEC);
		CHECK_EQ(info.load_bias, 0);
		CHECK(info.phdr_addr != 0);
		check_run(cmd);
		snprintf(cmd, sizeof(cmd), "%s/pie", dir);
		CHECK_EQ(parse_file(cmd), 0);
		CHECK_EQ(info.type, ET_DYN);
		CHECK_EQ(info.load_bias, ELF_ET_DYN_BASE);
		CHECK(info.phdr_addr == ELF_ET_DYN_BASE + 64);
		check_run(cmd);
		snprintf(cmd, sizeof(cmd), "%s/dynamic", dir);
		CHECK_EQ(parse_file(cmd), -ENOEXEC);
		CHECK_EQ(ht_log_count("PT_INTERP"), 1);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		CHECK_EQ(system(cmd), 0);
	}
	/* The test program itself is dynamically linked. */
	CHECK_EQ(parse_file("/proc/self/exe"), -ENOEXEC);
	CHECK_EQ(ht_log_count("PT_INTERP"), 1);
	/* Debian's ldconfig is a glibc static PIE. */
	if (access("/sbin/ldconfig", R_OK) == 0)
		CHECK_EQ(parse_file("/sbin/ldconfig"), 0);
}

/* ---- the initial stack ---------------------------------------------------------------- */

static uint64_t stack_word(const uint8_t *buf, const struct exec_stack *st, uint64_t addr)
{
	uint64_t v;

	CHECK(addr >= st->sp && addr + 8 <= st->top);
	memcpy(&v, buf + (addr - st->sp), 8);
	return v;
}

static const char *stack_str(const uint8_t *buf, const struct exec_stack *st, uint64_t addr)
{
	CHECK(addr >= st->sp && addr < st->top);
	if (addr < st->sp || addr >= st->top)
		return "";
	return (const char *)buf + (addr - st->sp);
}

/* Builds a stack for argc/envc strings, parses it back and checks every part. */
static void stack_roundtrip(const char *const *argv, int argc, const char *const *envp, int envc,
			    const char *execfn)
{
	static char strings[EXEC_ARG_MAX];
	static const uint8_t rnd[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	const uint64_t auxv[] = {AT_PAGESZ, 4096, AT_ENTRY, 0x401000};
	struct exec_args a = {strings, 0, 0, argc, envc};
	struct exec_stack st = {0};
	uint64_t seen = 0, addr;
	uint8_t *buf;
	size_t size;

	for (int i = 0; i < argc; i++) {
		strcpy(strings + a.len, argv[i]);
		a.len += strlen(argv[i]) + 1;
	}
	a.argv_len = a.len;
	for (int i = 0; i < envc; i++) {
		strcpy(strings + a.len, envp[i]);
		a.len += strlen(envp[i]) + 1;
	}
	st.top = STACK_TOP;
	st.args = &a;
	st.execfn = execfn;
	st.platform = "x86_64";
	st.random = rnd;
	st.auxv = auxv;
	st.nauxv = 2;
	size = exec_stack_layout(&st);
	CHECK_EQ(size, st.top - st.sp);
	CHECK_EQ(st.sp % 16, 0);
	buf = malloc(size); /* exact: ASan catches a write past either end */
	memset(buf, 0xdb, size);
	exec_stack_fill(&st, buf);

	CHECK_EQ(stack_word(buf, &st, st.top - 8), 0);
	CHECK_EQ(stack_word(buf, &st, st.sp), (uint64_t)argc);
	addr = st.sp + 8;
	for (int i = 0; i < argc; i++, addr += 8)
		CHECK_STREQ(stack_str(buf, &st, stack_word(buf, &st, addr)), argv[i]);
	CHECK_EQ(stack_word(buf, &st, addr), 0);
	addr += 8;
	for (int i = 0; i < envc; i++, addr += 8)
		CHECK_STREQ(stack_str(buf, &st, stack_word(buf, &st, addr)), envp[i]);
	CHECK_EQ(stack_word(buf, &st, addr), 0);
	for (addr += 8;; addr += 16) {
		uint64_t type = stack_word(buf, &st, addr), val = stack_word(buf, &st, addr + 8);

		if (type == AT_NULL)
			break;
		seen |= 1ULL << type;
		if (type == AT_EXECFN)
			CHECK_STREQ(stack_str(buf, &st, val), execfn);
		if (type == AT_PLATFORM)
			CHECK_STREQ(stack_str(buf, &st, val), "x86_64");
		if (type == AT_RANDOM) {
			CHECK(val + 16 <= st.platform_addr);
			CHECK(memcmp(buf + (val - st.sp), rnd, 16) == 0);
			CHECK(val >= addr + 16 + 16); /* above the AT_NULL pair */
		}
		if (type == AT_PAGESZ)
			CHECK_EQ(val, 4096);
	}
	CHECK_EQ(seen, (1ULL << AT_PAGESZ) | (1ULL << AT_ENTRY) | (1ULL << AT_EXECFN) |
			       (1ULL << AT_PLATFORM) | (1ULL << AT_RANDOM));
	CHECK_EQ(st.arg_end - st.arg_start, a.argv_len);
	CHECK_EQ(st.env_start, st.arg_end);
	CHECK_EQ(st.env_end - st.env_start, a.len - a.argv_len);
	if (argc)
		CHECK_EQ(stack_word(buf, &st, st.sp + 8), st.arg_start);
	CHECK(st.env_end <= st.execfn_addr);
	free(buf);
}

TEST(exec_stack_layout_basic)
{
	const char *argv[] = {"/bin/sh", "-c", "echo hi"};
	const char *envp[] = {"PATH=/bin", "HOME=/", ""};

	stack_roundtrip(argv, 3, envp, 3, "/bin/sh");
	stack_roundtrip(argv, 0, envp, 0, "");
	stack_roundtrip(argv, 1, envp, 0, "x");
}

/* Every string-length mix keeps sp 16-aligned and the parts disjoint. */
TEST(exec_stack_layout_random)
{
	static char pool[64][300];
	const char *argv[32], *envp[32];

	ht_seed(77);
	for (int iter = 0; iter < 2000; iter++) {
		int argc = (int)ht_below(32), envc = (int)ht_below(32);

		for (int i = 0; i < 64; i++) {
			size_t len = ht_below(ht_below(4) ? 20 : 299);

			for (size_t j = 0; j < len; j++)
				pool[i][j] = (char)('a' + ht_below(26));
			pool[i][len] = '\0';
		}
		for (int i = 0; i < argc; i++)
			argv[i] = pool[i];
		for (int i = 0; i < envc; i++)
			envp[i] = pool[32 + i];
		stack_roundtrip(argv, argc, envp, envc, pool[(int)ht_below(64)]);
		if (ht_cur_failures)
			break;
	}
}

int main(void)
{
	RUN(elf_valid_static);
	RUN(elf_valid_pie);
	RUN(elf_page_sharing_and_align);
	RUN(elf_bad_header);
	RUN(elf_bad_segments);
	RUN(elf_too_many_loads);
	RUN(elf_fuzz);
	RUN(elf_real_binaries);
	RUN(exec_stack_layout_basic);
	RUN(exec_stack_layout_random);
	return ht_finish();
}
