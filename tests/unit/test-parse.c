/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsers of sysfs text and of command-line names. */
#include <errno.h>
#include <inttypes.h>

#include "internal.h"
#include "tap.h"

static void test_pci_address(void)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "0000:01:00.0", "0000:01:00.0" }, { "01:00.0", "0000:01:00.0" },
		{ "0000:AB:1f.7", "0000:ab:1f.7" }, { "ffff:ff:1f.7", "ffff:ff:1f.7" },
		{ "00:03.0", "0000:00:03.0" },
		/* Domains above 0xffff (Intel VMD): Linux prints them with "%04x". */
		{ "10000:e1:00.0", "10000:e1:00.0" }, { "1ABCD:00:02.0", "1abcd:00:02.0" },
		{ "ffffffff:ff:1f.7", "ffffffff:ff:1f.7" },
	};
	static const char *const bad[] = {
		"", "00:1g.0", "0000:00:03", "0000:00:03.8", "00:20.0", "0:00:03.0", "000:00:03.0",
		"0000-00:03.0", "0000:00:03.0 ", " 00:03.0", "00:03.00", "xx", "0000:00:03.0.0",
		"00000:00:03.0", "010000:00:02.0", "100000000:00:02.0", "10000:00:03", "1000g:00:03.0",
	};
	char full[IOMMUFD_PCI_ADDRESS_SIZE], small[13];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		CHECK(parse_pci_address(good[i].in, full) == 0 && strcmp(full, good[i].out) == 0,
		      "address \"%s\" -> %s", good[i].in, good[i].out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		CHECK(parse_pci_address(bad[i], full) == -EINVAL, "address \"%s\" is rejected", bad[i]);
	CHECK(iommufd_pci_address_parse("10000:E1:00.0", full, sizeof(full)) == 0 && strcmp(full, "10000:e1:00.0") == 0,
	      "iommufd_pci_address_parse: a 5-digit domain");
	CHECK(iommufd_pci_address_parse("10000:e1:00.0", small, sizeof(small)) == -ENOSPC,
	      "iommufd_pci_address_parse: -ENOSPC when the buffer is too small");
	CHECK(iommufd_pci_address_parse("0000:e1:00.0", small, sizeof(small)) == 0 && strcmp(small, "0000:e1:00.0") == 0,
	      "iommufd_pci_address_parse: 13 bytes hold a 4-digit domain");
	CHECK(iommufd_parse_pci_address("10000:e1:00.0", small) == -ERANGE,
	      "iommufd_parse_pci_address (0.1, 13 bytes): -ERANGE for a 5-digit domain, never truncated");
	CHECK(iommufd_parse_pci_address("e1:00.0", small) == 0 && strcmp(small, "0000:e1:00.0") == 0,
	      "iommufd_parse_pci_address (0.1): as before for domain 0");
}

static void test_hex_attr(void)
{
	uint32_t v = 0;

	CHECK(parse_hex_attr("0x1234", 4, &v) == 0 && v == 0x1234, "vendor 0x1234");
	CHECK(parse_hex_attr("0x00ff00", 6, &v) == 0 && v == 0xff00, "class 0x00ff00");
	CHECK(parse_hex_attr("0X11E8", 4, &v) == 0 && v == 0x11e8, "upper case");
	CHECK(parse_hex_attr("0x12345", 4, &v) == -EINVAL, "too many digits");
	CHECK(parse_hex_attr("1234", 4, &v) == -EINVAL, "no 0x prefix");
	CHECK(parse_hex_attr("0x", 4, &v) == -EINVAL, "no digits");
	CHECK(parse_hex_attr("0x12g4", 4, &v) == -EINVAL, "bad digit");
	CHECK(parse_hex_attr("", 4, &v) == -EINVAL, "empty");
}

static void test_resv(void)
{
	struct iommufd_resv_region r;

	CHECK(parse_resv_line("0x00000000fee00000 0x00000000feefffff msi", &r) == 0 && r.start == 0xfee00000 &&
		      r.end == 0xfeefffff && strcmp(r.type, "msi") == 0,
	      "msi region");
	CHECK(parse_resv_line("0x0000000000000000 0x0000000000ffffff direct-relaxable", &r) == 0 &&
		      strcmp(r.type, "direct-relaxable") == 0,
	      "direct-relaxable region");
	CHECK(parse_resv_line("0x10 0x0f msi", &r) == -EINVAL, "end before start");
	CHECK(parse_resv_line("0x10 msi", &r) == -EINVAL, "missing end");
	CHECK(parse_resv_line("0x10 0x20 msi extra", &r) == -EINVAL, "trailing garbage");
	CHECK(parse_resv_line("", &r) == -EINVAL, "empty line");
}

static void test_devt(void)
{
	unsigned int ma = 0, mi = 0;

	CHECK(parse_devt("511:0", &ma, &mi) == 0 && ma == 511 && mi == 0, "511:0");
	CHECK(parse_devt("10:200", &ma, &mi) == 0 && ma == 10 && mi == 200, "10:200");
	CHECK(parse_devt("511", &ma, &mi) == -EINVAL, "no minor");
	CHECK(parse_devt(":0", &ma, &mi) == -EINVAL, "no major");
	CHECK(parse_devt("1:2:3", &ma, &mi) == -EINVAL, "trailing field");
	CHECK(parse_devt("-1:0", &ma, &mi) == -EINVAL, "negative");
}

static void test_str_set(void)
{
	struct str_set set = { 0 };
	bool added = false;
	char name[32];
	int err = 0;

	for (int i = 0; i < 5000 && !err; i++) {
		snprintf(name, sizeof(name), "sys/x/%d", i);
		err = str_set_add(&set, name, &added);
		err = err ? err : !added;
	}
	CHECK(err == 0 && set.used == 5000, "5000 distinct paths are all added");
	str_set_add(&set, "sys/x/42", &added);
	CHECK(!added && set.used == 5000, "a repeated path is not added twice");
	str_set_free(&set);
}

int main(void)
{
	test_pci_address();
	test_hex_attr();
	test_resv();
	test_devt();
	test_str_set();
	TAP_DONE();
}
