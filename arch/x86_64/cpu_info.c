/*
 * CPU identification from CPUID: vendor, brand string, family/model/stepping and the feature
 * bits later code branches on (NX, 1 GiB pages, SMEP/SMAP, PCID, x2APIC, XSAVE...). Runs once
 * on the boot CPU; boot_cpu is read-only afterwards, so no lock.
 */
#include "arch/x86_64/cpu_info.h"
#include "arch/x86_64/cpu.h"
#include "kernel/string.h"

struct cpu_info boot_cpu;

void cpu_identify(void)
{
	struct cpu_info *c = &boot_cpu;
	uint32_t a, b, d, ecx, words[12];
	const char *model;

	cpuid(0, 0, &a, &b, &ecx, &d);
	c->max_leaf = a;
	memcpy(c->vendor, &b, 4);
	memcpy(c->vendor + 4, &d, 4);
	memcpy(c->vendor + 8, &ecx, 4);
	c->vendor[12] = '\0';

	cpuid(1, 0, &a, &b, &ecx, &d);
	c->stepping = a & 0xf;
	c->model_id = (a >> 4) & 0xf;
	c->family = (a >> 8) & 0xf;
	/* Extended family/model only count for the families Intel and AMD defined them for. */
	if (c->family == 0xf)
		c->family += (a >> 20) & 0xff;
	if (c->family == 0x6 || c->family >= 0xf)
		c->model_id |= ((a >> 16) & 0xf) << 4;
	c->has_pge = d & (1U << 13);
	c->has_pcid = ecx & (1U << 17);
	c->has_x2apic = ecx & (1U << 21);
	c->has_tsc_deadline = ecx & (1U << 24);
	c->has_xsave = ecx & (1U << 26);
	c->has_hypervisor = ecx & (1U << 31);

	if (c->max_leaf >= 7) {
		cpuid(7, 0, &a, &b, &ecx, &d);
		c->has_smep = b & (1U << 7);
		c->has_invpcid = b & (1U << 10);
		c->has_smap = b & (1U << 20);
	}

	cpuid(0x80000000, 0, &a, &b, &ecx, &d);
	c->max_ext_leaf = a;
	if (c->max_ext_leaf >= 0x80000001) {
		cpuid(0x80000001, 0, &a, &b, &ecx, &d);
		c->has_nx = d & (1U << 20);
		c->has_pdpe1gb = d & (1U << 26);
	}
	if (c->max_ext_leaf >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++)
			cpuid(0x80000002 + i, 0, &words[i * 4], &words[i * 4 + 1],
			      &words[i * 4 + 2], &words[i * 4 + 3]);
		memcpy(c->model, words, 48);
		c->model[48] = '\0';
		model = c->model;
		while (*model == ' ')
			model++;
		memmove(c->model, model, strlen(model) + 1);
	} else {
		strlcpy(c->model, "unknown model", sizeof(c->model));
	}
}

uint32_t cpuid_apic_id(void)
{
	uint32_t max, a, b, c, d;

	/* Asks CPUID itself rather than boot_cpu, so it works before cpu_identify() too. */
	cpuid(0, 0, &max, &b, &c, &d);
	if (max >= 0xb) {
		cpuid(0xb, 0, &a, &b, &c, &d);
		/* EBX 0 at subleaf 0: the leaf is not implemented despite max_leaf. */
		if (b != 0)
			return d; /* the full 32-bit x2APIC ID */
	}
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24; /* the initial 8-bit APIC ID */
}
