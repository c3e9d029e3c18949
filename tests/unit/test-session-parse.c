/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The session language's parsers: sizes, addresses, ranges, names, line splitting. */
#include <errno.h>
#include <inttypes.h>

#include "../../cmd/session-parse.c"
#include "tap.h"

static void test_sizes(void)
{
	static const struct {
		const char *in;
		uint64_t out;
	} good[] = {
		{ "4096", 4096 },	     { "0x1000", 4096 },	  { "4K", 4096 },	  { "4k", 4096 },
		{ "4KiB", 4096 },	     { "4KB", 4096 },		  { "2M", 2u << 20 },	  { "1G", 1u << 30 },
		{ "1T", 1ull << 40 },	     { "0x10K", 16 << 10 },	  { "0x1B", 27 },	  { "16777215T", 16777215ull << 40 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const char *const bad[] = {
		"", "0", "0K", "K", "-4K", "4Q", "4 K", " 4K", "4K ", "4KiBs", "4iB", "0x", "0xK", "1.5M", "4KK",
		"+4K", "4B",
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(parse_size(good[i].in, &v) == 0 && v == good[i].out, "size \"%s\" = %" PRIu64, good[i].in,
		      good[i].out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(parse_size(bad[i], &v) == -EINVAL, "size \"%s\" is rejected", bad[i]);
	CHECK(parse_size("18446744073709551616", &v) == -ERANGE, "a size past 2^64 is out of range");
	CHECK(parse_size("16777216T", &v) == -ERANGE, "16777216T (2^64) overflows");
	CHECK(parse_size(NULL, &v) == -EINVAL, "no size");
}

static void test_addresses(void)
{
	uint64_t v = 1;

	CHECK(parse_address("0", &v) == 0 && v == 0, "address 0 is fine (unlike a size)");
	CHECK(parse_address("0x100000", &v) == 0 && v == 0x100000, "hex address");
	CHECK(parse_address("0XFEE00000", &v) == 0 && v == 0xfee00000, "upper-case hex address");
	CHECK(parse_address("1048576", &v) == 0 && v == 0x100000, "decimal address");
	CHECK(parse_address("1M", &v) == 0 && v == 0x100000, "address with a suffix");
	CHECK(parse_address("0xffffffffffffffff", &v) == 0 && v == UINT64_MAX, "the last address");
	CHECK(parse_address("0x1_0000", &v) == -EINVAL, "no digit separators");
	CHECK(parse_address("0x10000000000000000", &v) == -ERANGE, "past 64 bits");
	CHECK(parse_address("fee00000", &v) == -EINVAL, "hex needs 0x");
	CHECK(parse_number("4K", false, &v) == -EINVAL && parse_number("12", false, &v) == 0 && v == 12,
	      "object ids take no suffix");
}

static void test_ranges(void)
{
	uint64_t a, b;

	CHECK(parse_iova_range("0x100000-0x1fffff", &a, &b) == 0 && a == 0x100000 && b == 0x1fffff, "START-LAST");
	CHECK(parse_iova_range("0x100000+1M", &a, &b) == 0 && a == 0x100000 && b == 0x1fffff, "START+SIZE");
	CHECK(parse_iova_range("0-0", &a, &b) == 0 && a == 0 && b == 0, "a one-byte range");
	CHECK(parse_iova_range("0x2000-0x1000", &a, &b) == -EINVAL, "LAST before START");
	CHECK(parse_iova_range("0x1000+0", &a, &b) == -EINVAL, "an empty range");
	CHECK(parse_iova_range("0x1000", &a, &b) == -EINVAL, "no end");
	CHECK(parse_iova_range("0xffffffffffffffff+2", &a, &b) == -ERANGE, "a range past the last address");
	CHECK(parse_iova_range("0xfffffffffffff000+4K", &a, &b) == 0 && b == UINT64_MAX, "up to the last address");
	CHECK(parse_iova_range("x-y", &a, &b) == -EINVAL, "not numbers");
}

static void test_names(void)
{
	static const char *const good[] = { "vm0", "a", "_x", "vm-0.hw_1", "A234567890123456789012345678901" };
	static const char *const bad[] = { "", "0vm", "12", "0x10", "-a", ".a", "vm 0", "vm/0", "é",
					   "A2345678901234567890123456789012" };

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(valid_object_name(good[i]), "name \"%s\" is valid", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(!valid_object_name(bad[i]), "name \"%s\" is not", bad[i]);
}

/* Split @line and compare with the words in @want, "|"-separated. */
static int split_is(const char *line, const char *want)
{
	char **argv, err[128], joined[512] = "";
	int n = session_split(line, &argv, err, sizeof(err));

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(joined);

		snprintf(joined + len, sizeof(joined) - len, "%s%s", i ? "|" : "", argv[i]);
	}
	session_argv_free(argv);
	return strcmp(joined, want) == 0;
}

static int split_error(const char *line, const char *want)
{
	char **argv, err[128];
	int n = session_split(line, &argv, err, sizeof(err));

	session_argv_free(argv);
	return n == -1 && strcmp(err, want) == 0;
}

static void test_split(void)
{
	CHECK(split_is("open 00:03.0", "open|00:03.0"), "two words");
	CHECK(split_is("  ioas\tmap  vm0 --length 4K  ", "ioas|map|vm0|--length|4K"), "blanks and tabs");
	CHECK(split_is("", ""), "an empty line has no words");
	CHECK(split_is("   # a comment", ""), "a comment line has no words");
	CHECK(split_is("state # what now", "state"), "a comment after a command");
	CHECK(split_is("exec -- sh -c 'echo $X; exit 3'", "exec|--|sh|-c|echo $X; exit 3"), "single quotes are literal");
	CHECK(split_is("exec -- echo \"a \\\"b\\\" \\\\ c\"", "exec|--|echo|a \"b\" \\ c"), "double quotes with escapes");
	CHECK(split_is("exec -- echo a\\ b x#y", "exec|--|echo|a b|x#y"), "backslash-space; # inside a word");
	CHECK(split_is("exec -- echo '' x", "exec|--|echo||x"), "an empty quoted word is a word, as in sh");
	CHECK(split_is("exec -- echo a'b'\"c\"", "exec|--|echo|abc"), "quotes join a word");
	CHECK(split_error("exec -- sh -c 'oops", "unterminated ' quote"), "unterminated single quote");
	CHECK(split_error("open \"00:03.0", "unterminated \" quote"), "unterminated double quote");
	CHECK(split_error("open 00:03.0\\", "backslash at the end of the line"), "trailing backslash");
}

int main(void)
{
	test_sizes();
	test_addresses();
	test_ranges();
	test_names();
	test_split();
	TAP_DONE();
}
