/*
 * The kernel's random-byte generator: ChaCha20 (RFC 8439's block function) in counter mode
 * over a 256-bit key, re-keyed from its own output after every request so that a later
 * look at the state cannot recover earlier output. crng.lock guards the key and counter.
 */
#include "kernel/random.h"
#include "kernel/clock.h"
#include "kernel/time.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/ktest.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

#define CHACHA_BLOCK   64
#define RDRAND_RETRIES 10 /* Intel's advice: a healthy RDRAND fails 10 times in a row never */

static struct {
	spinlock_t lock;
	uint32_t key[8];  /* lock */
	uint64_t counter; /* blocks generated under this key; lock */
	bool seeded;	  /* lock */
} crng;

static int rdrand_state = -1; /* -1 unknown, 0 no, 1 yes; a benign race (same answer) */
static int rdseed_state = -1;

bool cpu_has_rdrand(void)
{
	uint32_t a, b, c, d;

	if (rdrand_state < 0) {
		cpuid(1, 0, &a, &b, &c, &d);
		WRITE_ONCE(rdrand_state, (c >> 30) & 1);
	}
	return rdrand_state;
}

static bool cpu_has_rdseed(void)
{
	uint32_t a, b, c, d;

	if (rdseed_state < 0) {
		cpuid(0, 0, &a, &b, &c, &d);
		if (a >= 7)
			cpuid(7, 0, &a, &b, &c, &d);
		else
			b = 0;
		WRITE_ONCE(rdseed_state, (b >> 18) & 1);
	}
	return rdseed_state;
}

static bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < RDRAND_RETRIES; i++) {
		bool ok;

		__asm__ __volatile__("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
		if (ok)
			return true;
	}
	return false;
}

static bool rdseed64(uint64_t *v)
{
	for (int i = 0; i < RDRAND_RETRIES; i++) {
		bool ok;

		__asm__ __volatile__("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
		if (ok)
			return true;
		cpu_relax();
	}
	return false;
}

static inline uint32_t rotl32(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

#define QUARTER_ROUND(x, a, b, c, d)                          \
	do {                                                  \
		x[a] += x[b], x[d] = rotl32(x[d] ^ x[a], 16); \
		x[c] += x[d], x[b] = rotl32(x[b] ^ x[c], 12); \
		x[a] += x[b], x[d] = rotl32(x[d] ^ x[a], 8);  \
		x[c] += x[d], x[b] = rotl32(x[b] ^ x[c], 7);  \
	} while (0)

/* RFC 8439 section 2.3: 20 rounds over a copy of the state, added back, little-endian out. */
static void chacha20_block(const uint32_t in[16], uint8_t out[CHACHA_BLOCK])
{
	uint32_t x[16];

	memcpy(x, in, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QUARTER_ROUND(x, 0, 4, 8, 12); /* columns */
		QUARTER_ROUND(x, 1, 5, 9, 13);
		QUARTER_ROUND(x, 2, 6, 10, 14);
		QUARTER_ROUND(x, 3, 7, 11, 15);
		QUARTER_ROUND(x, 0, 5, 10, 15); /* diagonals */
		QUARTER_ROUND(x, 1, 6, 11, 12);
		QUARTER_ROUND(x, 2, 7, 8, 13);
		QUARTER_ROUND(x, 3, 4, 9, 14);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + in[i];

		out[4 * i] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
}

/* "expand 32-byte k", the ChaCha constant, then key, then a 64-bit counter and zero nonce. */
static void crng_block(uint8_t out[CHACHA_BLOCK])
{
	uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

	memcpy(&in[4], crng.key, sizeof(crng.key));
	in[12] = (uint32_t)crng.counter;
	in[13] = (uint32_t)(crng.counter >> 32);
	crng.counter++;
	chacha20_block(in, out);
}

/*
 * Whatever the machine offers: hardware entropy when there is some, and always the TSC at a
 * few moments (boot-time jitter) and the RTC's wall time, so two boots differ even without.
 */
static void gather_seed(uint64_t seed[4])
{
	uint64_t v;

	seed[0] = rdtsc();
	seed[1] = realtime_ns();
	seed[2] = ktime_ns() ^ (uint64_t)(uintptr_t)&v;
	seed[3] = rdtsc() * 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 4; i++) {
		if ((cpu_has_rdseed() && rdseed64(&v)) || (cpu_has_rdrand() && rdrand64(&v)))
			seed[i] ^= v;
	}
}

void get_random_bytes(void *buf, size_t len)
{
	uint8_t block[CHACHA_BLOCK];
	uint8_t *p = buf;
	uint64_t seed[4], flags;
	bool hw = cpu_has_rdrand();

	/* Outside the lock: realtime_ns() may read the RTC, which takes milliseconds. */
	if (!READ_ONCE(crng.seeded))
		gather_seed(seed);
	flags = spin_lock_irqsave(&crng.lock);
	if (!crng.seeded) {
		memcpy(crng.key, seed, sizeof(crng.key));
		crng.seeded = true;
	}
	/* Each request's timing is a little more unpredictability; it costs nothing. */
	crng.key[0] ^= (uint32_t)rdtsc();
	while (len) {
		size_t n = MIN(len, (size_t)CHACHA_BLOCK);

		crng_block(block);
		for (size_t i = 0; hw && i < CHACHA_BLOCK; i += 8) {
			uint64_t r, w;

			if (!rdrand64(&r))
				break;
			memcpy(&w, &block[i], 8);
			w ^= r;
			memcpy(&block[i], &w, 8);
		}
		memcpy(p, block, n);
		p += n;
		len -= n;
	}
	/* Fast key erasure: the next key is fresh output nobody has seen. */
	crng_block(block);
	memcpy(crng.key, block, sizeof(crng.key));
	crng.counter = 0;
	spin_unlock_irqrestore(&crng.lock, flags);
	memset(block, 0, sizeof(block));
}

/* ---- tests ---- */

/* RFC 8439 section 2.3.2's test vector. */
KTEST(random_chacha20_vector)
{
	static const uint8_t expect[16] = {0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15,
					   0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4};
	static const uint8_t expect_tail[4] = {0xa2, 0x50, 0x3c, 0x4e};
	uint32_t in[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};
	uint8_t out[CHACHA_BLOCK];

	for (int i = 0; i < 8; i++)
		in[4 + i] = 0x03020100u + 0x04040404u * (uint32_t)i; /* key bytes 00..1f */
	in[12] = 1;
	in[13] = 0x09000000;
	in[14] = 0x4a000000;
	in[15] = 0;
	chacha20_block(in, out);
	KEXPECT(memcmp(out, expect, sizeof(expect)) == 0);
	KEXPECT(memcmp(out + 60, expect_tail, sizeof(expect_tail)) == 0);
}

KTEST(random_bytes_vary)
{
	static uint8_t a[1024], b[1024];
	int ones = 0, same = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	get_random_bytes(a, sizeof(a));
	get_random_bytes(b, sizeof(b));
	KEXPECT(memcmp(a, b, sizeof(a)) != 0);
	for (size_t i = 0; i < sizeof(a); i++) {
		for (int bit = 0; bit < 8; bit++)
			ones += (a[i] >> bit) & 1;
		same += a[i] == b[i];
	}
	/* 8192 fair bits: mean 4096, sd 45; these bounds fail only if something is broken. */
	KEXPECT(ones > 3800 && ones < 4400);
	KEXPECT(same < 30); /* expected 4 equal bytes out of 1024 */
	/* The ChaCha stream alone (a CPU without RDRAND) must vary too. */
	{
		int saved = rdrand_state;

		WRITE_ONCE(rdrand_state, 0);
		get_random_bytes(a, 64);
		get_random_bytes(b, 64);
		WRITE_ONCE(rdrand_state, saved);
		KEXPECT(memcmp(a, b, 64) != 0);
	}
	/* Odd lengths fill exactly what was asked for. */
	memset(a, 0, 16);
	get_random_bytes(a + 1, 3);
	KEXPECT(a[0] == 0 && a[4] == 0);
}
