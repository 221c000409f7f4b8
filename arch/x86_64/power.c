/*
 * Ending a run. Under QEMU the test harness adds an isa-debug-exit device at port 0xf4;
 * writing V there makes QEMU exit with status (V << 1) | 1, so 0x10 means "pass" (33) and
 * 0x11 "fail" (35) to tools/run. QEMU is recognised by its fw_cfg signature, so real hardware
 * never sees the write. Elsewhere: ACPI power-off (arch/x86_64/acpi.c), else halt.
 */
#include "arch/x86_64/power.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/acpi.h"
#include "kernel/printk.h"

#define QEMU_DEBUG_EXIT_PORT 0xf4
#define QEMU_EXIT_PASS	     0x10
#define QEMU_EXIT_FAIL	     0x11
#define FW_CFG_PORT_SEL	     0x510
#define FW_CFG_PORT_DATA     0x511

static bool running_under_qemu(void)
{
	char sig[4];

	outw(FW_CFG_PORT_SEL, 0); /* FW_CFG_SIGNATURE */
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_PORT_DATA);
	return sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
}

void machine_exit(int status)
{
	local_irq_disable();
	pr_info("augur: %s, powering off\n", status == EXIT_SUCCESS ? "success" : "FAILURE");
	if (running_under_qemu())
		outb(QEMU_DEBUG_EXIT_PORT,
		     status == EXIT_SUCCESS ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
	/* Still here: no debug-exit device (QEMU started by hand), or real hardware. */
	acpi_power_off();
	pr_emerg("augur: power-off failed; halted. It is now safe to turn off the machine.\n");
	halt_forever();
}
