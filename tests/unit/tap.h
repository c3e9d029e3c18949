/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal TAP producer for the C unit tests: one "ok"/"not ok" line per check. */
#ifndef TAP_H
#define TAP_H
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		tap_count++;                                               \
		if (cond) {                                                \
			printf("ok %d - ", tap_count);                     \
		} else {                                                   \
			tap_failed++;                                      \
			printf("not ok %d - ", tap_count);                 \
		}                                                          \
		printf(__VA_ARGS__);                                       \
		printf("\n");                                              \
		if (!(cond))                                               \
			printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define TAP_DONE()                                 \
	do {                                       \
		printf("1..%d\n", tap_count);      \
		return tap_failed ? 1 : 0;         \
	} while (0)
#endif
