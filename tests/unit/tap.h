/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the C unit tests: one "ok"/"not ok" line per check. */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

/* The condition is evaluated once: checks may call functions with side effects. */
#define CHECK(cond, ...)                                                             \
	do {                                                                         \
		int tap_ok_ = !!(cond);                                              \
		tap_count++;                                                         \
		tap_failed += !tap_ok_;                                              \
		printf("%s %d - ", tap_ok_ ? "ok" : "not ok", tap_count);            \
		printf(__VA_ARGS__);                                                 \
		printf("\n");                                                        \
		if (!tap_ok_)                                                        \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define TAP_DONE()                                 \
	do {                                       \
		printf("1..%d\n", tap_count);      \
		return tap_failed ? 1 : 0;         \
	} while (0)
#endif
