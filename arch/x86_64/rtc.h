/*
 * The CMOS real-time clock (MC146818 and compatibles, ports 0x70/0x71): the wall-clock date
 * the PC keeps while switched off. Augur reads it once (kernel/clock.c) to learn what time
 * it was at boot; after that the TSC-based ktime_ns() counts.
 */
#ifndef ARCH_X86_64_RTC_H
#define ARCH_X86_64_RTC_H

#include "kernel/compiler.h"

/* A broken-down UTC date (the RTC keeps UTC on PCs that run Linux, and QEMU's does). */
struct rtc_time {
	int year; /* full year, e.g. 2024 */
	int mon;  /* 1..12 */
	int mday; /* 1..31 */
	int hour; /* 0..23 */
	int min;  /* 0..59 */
	int sec;  /* 0..59 */
};

/* The RTC's time registers as read, in this order (the CMOS register numbers differ). */
enum { RTC_RAW_SEC, RTC_RAW_MIN, RTC_RAW_HOUR, RTC_RAW_MDAY, RTC_RAW_MON, RTC_RAW_YEAR, RTC_RAW_N };

/* Status register B bits that change how the time registers are encoded. */
#define RTC_B_24H    0x02 /* hours run 0..23 (else 1..12 with bit 7 = PM) */
#define RTC_B_BINARY 0x04 /* binary values (else BCD) */

/*
 * Pure decoding, for the reader and the tests: turns raw register values and status B into a
 * date, handling BCD or binary and 12- or 24-hour mode. The two-digit year is taken as
 * 2000..2069 below 70, else 1970..1999. False if any field is out of range (no RTC: the
 * floating bus reads 0xff everywhere, which never decodes).
 */
bool rtc_decode(const uint8_t raw[RTC_RAW_N], uint8_t status_b, struct rtc_time *out);

/* Seconds since 1970-01-01 00:00:00 UTC for a valid date (1970..9999). */
int64_t rtc_time_to_unix(const struct rtc_time *t);

/*
 * Reads the clock: waits (bounded) for an update cycle to pass, reads until two reads agree,
 * decodes. 0, or -ENODEV if there is no RTC or it never gives a sane time. Never hangs.
 */
int rtc_read(struct rtc_time *out);

#endif
