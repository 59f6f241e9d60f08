/* churn.c: `ottrecon churn [--as-of D] [--country CC] [--force]` (SPEC §3.6, §8 Deactivations). */
#include "cmd/cmd.h"
#include "feed/feed.h"

static const char usage[] =
	"usage: ottrecon churn [--as-of YYYY-MM-DD] [--country CC] [--force]\n"
	"                      [--skip-pushed]\n"
	"\n"
	"Writes the early-churn (deactivations) file for the partner (SPEC §3.6) for each\n"
	"configured country: SPOOL/outbox/deactivations_<CC>_<YYYYMMDD>.csv and its .ctl file.\n"
	"One row per partner subscription ACTIVE as of the date whose service had a churn event\n"
	"after the subscription was created (CHURN, NUMBER_CHANGE, NON_PAYMENT, or PLAN_MIGRATION\n"
	"to a plan not eligible for the product), or that reconciliation finds NOT_ELIGIBLE. A\n"
	"subscription requested less than 7 days earlier is not requested again; a request is\n"
	"closed when the partner reports the subscription PENDING_UNSUBSCRIPTION or UNSUBSCRIBED.\n"
	"A file is always written, with no rows when there is nothing to request.\n"
	"\n"
	"  --as-of D      the request date (default: today, UTC)\n"
	"  --country CC   only this configured country\n"
	"  --force        the file of that date was pushed already: write a new version\n"
	"                 (deactivations_<CC>_<YYYYMMDD>_2.csv, ...); without it that is refused.\n"
	"                 A file of that date not pushed yet is simply replaced.\n"
	"  --skip-pushed  the file of that date was pushed already: write nothing and exit 0\n"
	"                 (what nightly does when a date is run again)\n"
	"\n"
	"exit: 0 written, 64 usage, 65 a country refused (a later file exists or already pushed),\n"
	"69 database unreachable, 78 configuration error or schema not migrated\n";

int cmd_churn(int argc, char **argv, struct global_opts *g)
{
	return cmd_feed_main(argc, argv, g, usage, FEED_DEACTIVATIONS);
}
