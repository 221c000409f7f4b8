/*
 * The CMOS real-time clock: reading its date registers through the index/data port pair
 * 0x70/0x71, and decoding them (BCD or binary, 12- or 24-hour). rtc_lock keeps the
 * "select register, read it" pair of port accesses together; nothing else is shared.
 */
#include "arch/x86_64/rtc.h"
#include "arch/x86_64/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/errno.h"
#include "kernel/ktest.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define RTC_REG_SEC	0x00
#define RTC_REG_MIN	0x02
#define RTC_REG_HOUR	0x04
#define RTC_REG_MDAY	0x07
#define RTC_REG_MON	0x08
#define RTC_REG_YEAR	0x09
#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_A_UIP	0x80 /* an update is in progress: the time registers are changing */
#define RTC_HOUR_PM	0x80 /* 12-hour mode: set in the hour register after noon */
#define RTC_MAX_TRIES	5
#define RTC_UIP_WAIT_NS (20ULL * 1000 * 1000) /* an update cycle takes under 2 ms */
#define RTC_UIP_POLLS	1000000		      /* bound before ktime runs */

static spinlock_t rtc_lock = SPINLOCK_INIT;

static const uint8_t rtc_regs[RTC_RAW_N] = {
	[RTC_RAW_SEC] = RTC_REG_SEC,   [RTC_RAW_MIN] = RTC_REG_MIN, [RTC_RAW_HOUR] = RTC_REG_HOUR,
	[RTC_RAW_MDAY] = RTC_REG_MDAY, [RTC_RAW_MON] = RTC_REG_MON, [RTC_RAW_YEAR] = RTC_REG_YEAR,
};

/*
 * Bit 7 of the index port is the NMI mask on old chipsets; leave it clear so reading the
 * clock never changes whether NMIs (the lock-up detector's backtrace IPIs) get through.
 */
static uint8_t cmos_read(uint8_t reg)
{
	uint64_t flags = spin_lock_irqsave(&rtc_lock);
	uint8_t v;

	outb(CMOS_INDEX, reg);
	v = inb(CMOS_DATA);
	spin_unlock_irqrestore(&rtc_lock, flags);
	return v;
}

static int bcd_to_bin(uint8_t v)
{
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

bool rtc_decode(const uint8_t raw[RTC_RAW_N], uint8_t status_b, struct rtc_time *out)
{
	int v[RTC_RAW_N];
	bool pm = false;

	for (int i = 0; i < RTC_RAW_N; i++) {
		uint8_t r = raw[i];

		/* In 12-hour mode the PM flag shares the hour register with the value. */
		if (i == RTC_RAW_HOUR && !(status_b & RTC_B_24H)) {
			pm = r & RTC_HOUR_PM;
			r &= ~RTC_HOUR_PM;
		}
		v[i] = (status_b & RTC_B_BINARY) ? r : bcd_to_bin(r);
		if (v[i] < 0)
			return false;
	}
	if (!(status_b & RTC_B_24H)) {
		/* 12 AM is midnight (hour 0), 12 PM is noon (hour 12). */
		if (v[RTC_RAW_HOUR] < 1 || v[RTC_RAW_HOUR] > 12)
			return false;
		v[RTC_RAW_HOUR] = v[RTC_RAW_HOUR] % 12 + (pm ? 12 : 0);
	}
	if (v[RTC_RAW_YEAR] > 99)
		return false;
	out->year = v[RTC_RAW_YEAR] + (v[RTC_RAW_YEAR] < 70 ? 2000 : 1900);
	out->mon = v[RTC_RAW_MON];
	out->mday = v[RTC_RAW_MDAY];
	out->hour = v[RTC_RAW_HOUR];
	out->min = v[RTC_RAW_MIN];
	out->sec = v[RTC_RAW_SEC];
	if (out->mon < 1 || out->mon > 12 || out->mday < 1 ||
	    out->mday > days_in_month(out->year, out->mon))
		return false;
	return out->hour < 24 && out->min < 60 && out->sec < 60;
}

int64_t rtc_time_to_unix(const struct rtc_time *t)
{
	/*
	 * Count years from March: then February, with its leap day, closes the year, and the
	 * days before each later month follow the (153 * m + 2) / 5 pattern. 719468 is the
	 * number of days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
	 */
	int64_t y = t->mon <= 2 ? t->year - 1 : t->year;
	int64_t m = t->mon <= 2 ? t->mon + 9 : t->mon - 3;
	int64_t days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + t->mday - 1;

	days -= 719468;
	return days * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

/* Waits for the update-in-progress flag to clear; false if it never does (no RTC). */
static bool rtc_wait_uip_clear(void)
{
	uint64_t start = ktime_ns();

	for (int polls = 0; polls < RTC_UIP_POLLS; polls++) {
		if (!(cmos_read(RTC_REG_A) & RTC_A_UIP))
			return true;
		if (start && ktime_ns() - start > RTC_UIP_WAIT_NS)
			return false;
		cpu_relax();
	}
	return false;
}

static bool rtc_read_raw(uint8_t raw[RTC_RAW_N])
{
	if (!rtc_wait_uip_clear())
		return false;
	for (int i = 0; i < RTC_RAW_N; i++)
		raw[i] = cmos_read(rtc_regs[i]);
	return true;
}

int rtc_read(struct rtc_time *out)
{
	uint8_t a[RTC_RAW_N], b[RTC_RAW_N];

	/*
	 * An update can start between the flag test and the last register read, so read
	 * twice and accept the time only when both reads agree.
	 */
	if (!rtc_read_raw(a))
		return -ENODEV;
	for (int tries = 0; tries < RTC_MAX_TRIES; tries++) {
		bool same = true;

		if (!rtc_read_raw(b))
			return -ENODEV;
		for (int i = 0; i < RTC_RAW_N; i++)
			same &= a[i] == b[i];
		if (same)
			return rtc_decode(b, cmos_read(RTC_REG_B), out) ? 0 : -ENODEV;
		for (int i = 0; i < RTC_RAW_N; i++)
			a[i] = b[i];
	}
	return -ENODEV;
}

/* ---- tests ---- */

struct rtc_case {
	uint8_t raw[RTC_RAW_N]; /* sec, min, hour, mday, mon, year */
	uint8_t status_b;
	bool valid;
	int64_t unix_time; /* from Python's calendar.timegm */
};

static const struct rtc_case rtc_cases[] = {
	/* BCD, 24-hour: 2024-02-29 13:45:30 (a leap day) */
	{{0x30, 0x45, 0x13, 0x29, 0x02, 0x24}, RTC_B_24H, true, 1709214330},
	/* binary, 24-hour: the same instant */
	{{30, 45, 13, 29, 2, 24}, RTC_B_24H | RTC_B_BINARY, true, 1709214330},
	/* BCD, 12-hour: 1 PM is 13:00 */
	{{0x30, 0x45, 0x81, 0x29, 0x02, 0x24}, 0, true, 1709214330},
	/* binary, 12-hour: 1 PM */
	{{30, 45, 0x81, 29, 2, 24}, RTC_B_BINARY, true, 1709214330},
	/* BCD, 12-hour: 12 AM is midnight */
	{{0x05, 0x30, 0x12, 0x04, 0x07, 0x23}, 0, true, 1688430605},
	/* BCD, 12-hour: 12 PM is noon: 2000-01-01 12:00:00 */
	{{0x00, 0x00, 0x92, 0x01, 0x01, 0x00}, 0, true, 946684800 + 12 * 3600},
	/* year 99 is 1999 */
	{{0x59, 0x59, 0x23, 0x31, 0x12, 0x99}, RTC_B_24H, true, 946684799},
	/* year 70 is 1970: the epoch */
	{{0, 0, 0, 1, 1, 70}, RTC_B_24H | RTC_B_BINARY, true, 0},
	/* year 38: 2038-01-19 03:14:08, one past INT32_MAX */
	{{0x08, 0x14, 0x03, 0x19, 0x01, 0x38}, RTC_B_24H, true, 2147483648LL},
	/* 2069-12-31 23:59:59, the last date two digits can name */
	{{0x59, 0x59, 0x23, 0x31, 0x12, 0x69}, RTC_B_24H, true, 3155759999LL},
	/* no RTC: the floating bus reads 0xff */
	{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 0xff, false, 0},
	/* bad BCD digit */
	{{0x5a, 0x00, 0x00, 0x01, 0x01, 0x24}, RTC_B_24H, false, 0},
	/* February 29 of a non-leap year */
	{{0x00, 0x00, 0x00, 0x29, 0x02, 0x23}, RTC_B_24H, false, 0},
	/* hour 0 does not exist in 12-hour mode */
	{{0x00, 0x00, 0x00, 0x01, 0x01, 0x24}, 0, false, 0},
	/* hour 24 in 24-hour mode */
	{{0x00, 0x00, 0x24, 0x01, 0x01, 0x24}, RTC_B_24H, false, 0},
	/* month 13 */
	{{0x00, 0x00, 0x00, 0x01, 0x13, 0x24}, RTC_B_24H, false, 0},
};

KTEST(rtc_decode_table)
{
	for (size_t i = 0; i < ARRAY_SIZE(rtc_cases); i++) {
		const struct rtc_case *c = &rtc_cases[i];
		struct rtc_time t;
		bool ok = rtc_decode(c->raw, c->status_b, &t);

		KEXPECT_EQ(ok, c->valid);
		if (ok && c->valid)
			KEXPECT_EQ(rtc_time_to_unix(&t), c->unix_time);
	}
}

KTEST(rtc_unix_dates)
{
	struct rtc_time t = {2100, 3, 1, 12, 0, 0}; /* 2100 is not a leap year */

	KEXPECT_EQ(rtc_time_to_unix(&t), 4107585600LL);
	t = (struct rtc_time){2000, 3, 1, 0, 0, 0}; /* 2000 is */
	KEXPECT_EQ(rtc_time_to_unix(&t), 951868800LL);
}

/* QEMU always has an RTC; on real hardware this just must not hang. */
KTEST(rtc_read_sane)
{
	struct rtc_time t;
	int ret = rtc_read(&t);

	KEXPECT(ret == 0 || ret == -ENODEV);
	if (ret == 0)
		KEXPECT(t.year >= 2020 && t.year < 2070);
}
