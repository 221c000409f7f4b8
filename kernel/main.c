/*
 * kmain(): the boot sequence in C, called by boot/entry.asm on the boot stack with the
 * multiboot2 magic and the physical address of the boot information. Single CPU, interrupts
 * off throughout; each step below needs the ones before it (see docs/boot.md).
 */
#include "kernel/compiler.h"
#include "kernel/printk.h"
#include "kernel/panic.h"
#include "kernel/multiboot2.h"
#include "kernel/cmdline.h"
#include "kernel/ktest.h"
#include "kernel/bench.h"
#include "kernel/percpu.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/power.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/platform.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/user.h"
#include "arch/x86_64/ioapic.h"
#include "kernel/time.h"
#include "kernel/sched.h"
#include "kernel/rcu.h"
#include "kernel/smp.h"
#include "arch/x86_64/console_init.h"
#include "mm/memmap.h"
#include "mm/bootmem.h"
#include "mm/kernel_map.h"
#include "mm/page_alloc.h"
#include "mm/slab.h"
#include "kernel/syscall.h"
#include "kernel/process.h"
#include "kernel/vfs.h"
#include "kernel/tty.h"
#include "kernel/clock.h"

/* build/gen/version.c, written by the Makefile from VERSION and the git commit. */
extern const char augur_version[];

void kmain(uint32_t magic, uint64_t mb2_phys);

static void print_banner(void)
{
	uint64_t usable = memmap_total(&boot_memmap, MEMMAP_USABLE);

	pr_info("Augur %s (x86-64)\n", augur_version);
	pr_info("CPU: %s (%s family %u model %u stepping %u)%s\n", boot_cpu.model, boot_cpu.vendor,
		boot_cpu.family, boot_cpu.model_id, boot_cpu.stepping,
		boot_cpu.has_hypervisor ? " [hypervisor]" : "");
	pr_info("CPU features:%s%s%s%s%s%s%s%s\n", boot_cpu.has_nx ? " nx" : "",
		boot_cpu.has_pdpe1gb ? " pdpe1gb" : "", boot_cpu.has_smep ? " smep" : "",
		boot_cpu.has_smap ? " smap" : "", boot_cpu.has_pcid ? " pcid" : "",
		boot_cpu.has_invpcid ? " invpcid" : "", boot_cpu.has_x2apic ? " x2apic" : "",
		boot_cpu.has_xsave ? " xsave" : "");
	pr_info("Memory: %llu MiB usable of %llu MiB RAM\n", (unsigned long long)(usable >> 20),
		(unsigned long long)((usable + memmap_total(&boot_memmap, MEMMAP_KERNEL) +
				      memmap_total(&boot_memmap, MEMMAP_MODULE) +
				      memmap_total(&boot_memmap, MEMMAP_BOOTINFO)) >>
				     20));
	pr_info("Screen: %s\n", screen_description());
}

/*
 * Logs each multiboot2 module and returns the first one, the initrd (GRUB loads it from the
 * grub.cfg `module2` line), through *data and *size; false if there is none.
 */
static bool find_initrd(const void *mb2, const void **data, size_t *size)
{
	const struct mb2_tag *tag;
	bool found = false;

	for_each_mb2_tag (mb2, tag) {
		const struct mb2_tag_module *m = (const void *)tag;

		if (tag->type != MB2_TAG_MODULE)
			continue;
		pr_info("Module: %s at %#x, %u bytes\n", m->cmdline[0] ? m->cmdline : "(unnamed)",
			m->mod_start, m->mod_end - m->mod_start);
		if (!found && m->mod_end >= m->mod_start) {
			*data = phys_to_virt(m->mod_start);
			*size = m->mod_end - m->mod_start;
			found = true;
		}
	}
	return found;
}

/* init's argv: its path, then the words after " -- " on the command line. */
static const char *init_argv[CMDLINE_MAX_WORDS + 2];

/*
 * Runs init and waits for it. A test boot (init=/bin/usertests ...) ends when its program
 * exits: its exit status is the verdict. The normal /sbin/init never exits.
 */
static void __noreturn run_init(void)
{
	const char *path = cmdline_init_path();
	int n = 0, err, status;

	init_argv[n++] = path;
	for (int i = 0; i < cmdline_init_argc() && n < (int)ARRAY_SIZE(init_argv) - 1; i++)
		init_argv[n++] = cmdline_init_arg(i);
	init_argv[n] = NULL;
	err = start_init(path, init_argv);
	if (err)
		panic("cannot start init: error %d", err);
	status = wait_for_init_exit();
	if ((status & 0x7f) == 0)
		pr_info("init (%s) exited with status %d; powering off\n", path,
			(status >> 8) & 0xff);
	else
		pr_info("init (%s) was killed by signal %d; powering off\n", path, status & 0x7f);
	machine_exit(status == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}

void kmain(uint32_t magic, uint64_t mb2_phys)
{
	const void *mb2;
	const char *err;
	const char *pattern;
	const void *initrd = NULL;
	size_t initrd_size = 0;
	int failed;

	serial_init();
	traps_init();
	/* After traps_init(): loading the GDT reloads GS, which clears its base. */
	percpu_init_cpu(0, cpuid_apic_id());
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("not booted by a multiboot2 loader (magic %#x)", magic);
	if (mb2_phys + sizeof(struct mb2_info) > BOOT_DIRECT_MAP_SIZE)
		panic("boot information at %#llx is above the boot direct map",
		      (unsigned long long)mb2_phys);
	mb2 = phys_to_virt(mb2_phys);
	err = mb2_validate(mb2);
	if (err)
		panic("bad multiboot2 information: %s", err);

	cmdline_init(mb2);
	screen_console_init(mb2);
	cpu_identify();
	/* syscall MSRs, SMEP/SMAP, FPU/XSAVE: needs boot_cpu; allocates nothing. */
	user_mode_init_cpu();
	if (memmap_init(mb2) < 0)
		panic("no usable memory map from the boot loader");
	print_banner();
	memmap_print_summary(&boot_memmap);

	/*
	 * Memory, in dependency order: bootmem hands out pages the boot direct map (4 GiB) can
	 * reach; kernel_map_init() builds the final page tables from them, mapping all RAM (and
	 * not the boot identity map, which only served the jump to the higher half); the
	 * page allocator takes over and, now that everything is mapped, gets RAM above 4 GiB too.
	 */
	bootmem_init(BOOT_DIRECT_MAP_SIZE);
	kernel_map_init();
	/*
	 * ACPI after the final page tables (tables in firmware-reserved ranges are mapped on
	 * demand, which needs them) and before the page allocator (SRAT's NUMA memory ranges
	 * decide each struct page's node).
	 */
	acpi_init(mb2);
	platform_init(cpuid_apic_id());
	page_alloc_init();
	page_alloc_extend_limit(UINT64_MAX);
	slab_init();
	page_alloc_print_stats();

	/*
	 * Interrupts and time. The 8259s are masked before the local APIC is enabled: an
	 * interrupt already latched by the PIC would otherwise arrive through LINT0 in
	 * virtual-wire mode as soon as interrupts are on.
	 */
	pic_disable();
	apic_init_bsp();
	ioapic_init();
	time_init();
	realtime_init(); /* the wall clock from the RTC, before anything may ask for it */
	timer_init_cpu();

	/* From here kmain runs as the boot CPU's first thread; then RCU and the other CPUs. */
	sched_init();
	rcu_init();
	smp_boot_aps();
	local_irq_enable();
	pr_info("Command line: \"%s\"\n", cmdline_get());

	/* User space: the system-call table, the files from the initrd, the console tty. */
	syscall_init();
	if (!find_initrd(mb2, &initrd, &initrd_size))
		pr_warn("No initrd module: the file system is empty\n");
	if (vfs_init(initrd, initrd_size) < 0)
		pr_warn("initrd: unpacking failed; continuing with what was unpacked\n");
	tty_init();

	/* test= and bench= end the run; the verdict is the tests' (benchmarks never fail). */
	pattern = cmdline_test_pattern();
	failed = pattern ? ktest_run(pattern) : 0;
	if (bench_pattern())
		bench_run(bench_pattern());
	if (pattern || bench_pattern())
		machine_exit(failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);

	run_init();
}
