/*
 * The 8254 programmable interval timer. Used on the boot CPU only, at boot (calibration) and
 * by tests, all single-threaded with interrupts off; no lock. Every wait is bounded by TSC
 * cycles so a machine whose PIT is missing or gated off is reported, not hung.
 */
#include "arch/x86_64/pit.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/cpu.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B	0x61 /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */

#define CMD_CH0	  (0 << 6)
#define CMD_CH2	  (2 << 6)
#define CMD_LATCH (0 << 4)
#define CMD_LOHI  (3 << 4)
#define CMD_MODE0 (0 << 1) /* interrupt on terminal count: OUT goes high once */

/* 5e9 cycles: over half a second even at 10 GHz, far beyond any PIT wait we ask for. */
#define PIT_TSC_GIVE_UP 5000000000ULL

static int pit_state = -1; /* -1 not probed, 0 absent, 1 present */

static void ch2_start(uint16_t count)
{
	uint8_t b = inb(PORT_B);

	outb(PORT_B, (b & ~0x02) | 0x01); /* gate on, speaker off */
	outb(PIT_CMD, CMD_CH2 | CMD_LOHI | CMD_MODE0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
}

static uint16_t ch2_read(void)
{
	uint8_t lo, hi;

	outb(PIT_CMD, CMD_CH2 | CMD_LATCH);
	lo = inb(PIT_CH2);
	hi = inb(PIT_CH2);
	return (uint16_t)(lo | hi << 8);
}

bool pit_present(void)
{
	uint64_t t0;
	uint16_t first;

	if (pit_state >= 0)
		return pit_state;
	ch2_start(0xffff);
	first = ch2_read();
	t0 = rdtsc_ordered();
	pit_state = 0;
	while (rdtsc_ordered() - t0 < PIT_TSC_GIVE_UP) {
		uint16_t now = ch2_read();

		/* Absent hardware floats the bus: reads stay 0xffff (or any fixed value). */
		if (now != first && now < first) {
			pit_state = 1;
			break;
		}
	}
	return pit_state;
}

uint64_t pit_calibrate_tsc(unsigned int ms)
{
	uint32_t count = (uint32_t)((uint64_t)PIT_HZ * ms / 1000);
	uint64_t t0, t1;

	if (count == 0 || count > 0xffff || !pit_present())
		return 0;
	ch2_start((uint16_t)count);
	t0 = rdtsc_ordered();
	/* OUT2 went low with the mode write and rises when the count runs out. */
	while (!(inb(PORT_B) & 0x20)) {
		if (rdtsc_ordered() - t0 > PIT_TSC_GIVE_UP)
			return 0;
	}
	t1 = rdtsc_ordered();
	return (t1 - t0) * 1000 / ms;
}

void pit_oneshot_ch0(unsigned int us)
{
	uint64_t count = (uint64_t)PIT_HZ * us / 1000000;

	if (count == 0)
		count = 1;
	if (count > 0xffff)
		count = 0xffff;
	outb(PIT_CMD, CMD_CH0 | CMD_LOHI | CMD_MODE0);
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
}
