/*
 * The boot side of the physical memory map: reserves the kernel image and builds boot_memmap
 * from the multiboot2 tags (the pure work is in mm/memmap.c). Runs once on the boot CPU;
 * boot_memmap is read-only afterwards, so no lock.
 */
#include "mm/memmap.h"
#include "kernel/printk.h"
#include "kernel/ktest.h"
#include "arch/x86_64/layout.h"

struct memmap boot_memmap;
static struct memmap_builder boot_builder; /* ~20 KiB of scratch: too big for the stack */

int memmap_init(const void *mb2_info)
{
	uint64_t kernel_end = virt_to_phys(_kernel_end);

	memmap_builder_init(&boot_builder, MEMMAP_LOW_END);
	/* From KERNEL_PHYS, not _kernel_start: the .boot code, stack and page tables come first. */
	memmap_reserve(&boot_builder, KERNEL_PHYS, kernel_end - KERNEL_PHYS, MEMMAP_KERNEL);
	if (memmap_add_mb2(&boot_builder, mb2_info, virt_to_phys(mb2_info)) < 0)
		return -1;
	memmap_build(&boot_builder, &boot_memmap);
	if (memmap_total(&boot_memmap, MEMMAP_USABLE) == 0) {
		pr_err("memmap: the memory map has no usable RAM\n");
		return -1;
	}
	return 0;
}

KTEST(memmap_live)
{
	uint64_t kernel_end = virt_to_phys(_kernel_end);

	KEXPECT(memmap_check(&boot_memmap) == NULL);
	KEXPECT(memmap_total(&boot_memmap, MEMMAP_USABLE) >= 16 * 1024 * 1024);
	for (uint64_t a = KERNEL_PHYS; a < kernel_end; a += PAGE_SIZE) {
		const struct memmap_region *r = memmap_find(&boot_memmap, a);

		if (!r || r->type != MEMMAP_KERNEL) {
			ktest_fail(ctx, __FILE__, __LINE__, "kernel page %#llx is %s",
				   (unsigned long long)a, r ? memmap_type_name(r->type) : "a hole");
			break;
		}
	}
	KEXPECT(memmap_find(&boot_memmap, 0) == NULL ||
		memmap_find(&boot_memmap, 0)->type != MEMMAP_USABLE);
	KEXPECT_EQ(boot_memmap.firmware_usable,
		   memmap_total(&boot_memmap, MEMMAP_USABLE) +
			   memmap_total(&boot_memmap, MEMMAP_KERNEL) +
			   memmap_total(&boot_memmap, MEMMAP_MODULE) +
			   memmap_total(&boot_memmap, MEMMAP_BOOTINFO) +
			   memmap_total(&boot_memmap, MEMMAP_FRAMEBUFFER) +
			   boot_memmap.low_reserved + boot_memmap.trimmed + boot_memmap.dropped);
}
