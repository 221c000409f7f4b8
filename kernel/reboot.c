/*
 * reboot(2): how `poweroff` ends a session. Linux's magic numbers guard the call against a
 * stray jump; everyone is root in Augur, so there is no permission check. Power-off goes
 * through machine_exit() (arch/x86_64/power.c): under QEMU the debug-exit port (so a test
 * that ends with poweroff passes), else ACPI S5. Restart pulses the keyboard controller's
 * reset line, the method every PC since the AT has had. No shared state.
 */
#include "kernel/syscall.h"
#include "kernel/printk.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/power.h"

#define LINUX_REBOOT_MAGIC1	   0xfee1deadU
#define LINUX_REBOOT_MAGIC2	   672274793U
#define LINUX_REBOOT_MAGIC2A	   85072278U
#define LINUX_REBOOT_MAGIC2B	   369367448U
#define LINUX_REBOOT_MAGIC2C	   537993216U
#define LINUX_REBOOT_CMD_RESTART   0x01234567U
#define LINUX_REBOOT_CMD_HALT	   0xcdef0123U
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedcU
#define LINUX_REBOOT_CMD_CAD_ON	   0x89abcdefU
#define LINUX_REBOOT_CMD_CAD_OFF   0x00000000U

static void __noreturn machine_restart(void)
{
	pr_info("reboot: restarting system\n");
	local_irq_disable();
	/* Wait for the 8042's input buffer to drain, then pulse the reset line. */
	for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
		cpu_relax();
	outb(0x64, 0xfe);
	/* No 8042 (or it ignored us): a triple fault resets any PC. */
	__asm__ __volatile__("lidt %0; int3" ::"m"((struct {
		uint16_t l;
		uint64_t b;
	} __packed){0, 0}));
	halt_forever();
}

static long sys_reboot(unsigned int magic1, unsigned int magic2, unsigned int cmd, uint64_t arg)
{
	if (magic1 != LINUX_REBOOT_MAGIC1 ||
	    (magic2 != LINUX_REBOOT_MAGIC2 && magic2 != LINUX_REBOOT_MAGIC2A &&
	     magic2 != LINUX_REBOOT_MAGIC2B && magic2 != LINUX_REBOOT_MAGIC2C))
		return -EINVAL;
	switch (cmd) {
	case LINUX_REBOOT_CMD_POWER_OFF:
	case LINUX_REBOOT_CMD_HALT:
		pr_info("reboot: power down\n");
		machine_exit(EXIT_SUCCESS);
	case LINUX_REBOOT_CMD_RESTART:
		machine_restart();
	case LINUX_REBOOT_CMD_CAD_ON:
	case LINUX_REBOOT_CMD_CAD_OFF:
		return 0; /* Ctrl-Alt-Del is not wired to anything */
	default:
		return -EINVAL;
	}
}
SYSCALL(__NR_reboot, sys_reboot);
