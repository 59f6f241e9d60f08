/* eligibility.c: `ottrecon eligibility [--as-of D] [--country CC] [--full|--delta] [--force]`
 * (SPEC §3.5, §8 Partner files). */
#include "cmd/cmd.h"
#include "feed/feed.h"

static const char usage[] =
	"usage: ottrecon eligibility [--as-of YYYY-MM-DD] [--country CC] [--full|--delta] [--force]\n"
	"                            [--skip-pushed]\n"
	"\n"
	"Writes the eligibility file the partner expects (Docomo chapter 7, SPEC §3.5) for each\n"
	"configured country: SPOOL/outbox/eligibility_<CC>_<YYYYMMDD>.csv and its .ctl file\n"
	"(rows=N sha256=HEX). A subscriber is eligible for a product when it is ACTIVE, POSTPAID,\n"
	"of the product's service and on one of its eligible_plans, in the latest bss_subscribers\n"
	"snapshot dated on or before the as-of date. The rows are recorded in the database before\n"
	"the file is written, so the next delta neither skips nor repeats a change, even after a\n"
	"crash. A file is always written, with no rows when nothing changed (or when there is no\n"
	"subscriber snapshot yet).\n"
	"\n"
	"  --as-of D      the effective date (default: today, UTC)\n"
	"  --country CC   only this configured country\n"
	"  --full         every eligible pair, action ADD (the partner replaces its list)\n"
	"  --delta        ADD for pairs newly eligible since the last file, REMOVE for pairs no\n"
	"                 longer eligible (the default once a file was written for the country)\n"
	"  --force        the file of that date was pushed already: write a new version\n"
	"                 (eligibility_<CC>_<YYYYMMDD>_2.csv, ...); without it that is refused.\n"
	"                 A file of that date not pushed yet is simply replaced.\n"
	"  --skip-pushed  the file of that date was pushed already: write nothing and exit 0\n"
	"                 (what nightly does when a date is run again)\n"
	"\n"
	"exit: 0 written, 64 usage, 65 a country refused (a later file exists, already pushed, or\n"
	"no subscriber snapshot while the partner knows eligible pairs), 69 database unreachable,\n"
	"78 configuration error or schema not migrated\n";

int cmd_eligibility(int argc, char **argv, struct global_opts *g)
{
	return cmd_feed_main(argc, argv, g, usage, FEED_ELIGIBILITY);
}
