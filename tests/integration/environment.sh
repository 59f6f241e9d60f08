#!/usr/bin/env bash
# environment.sh: a bad environment gets a clear message and the right exit (SPEC §1; issue 8):
# the database down (69), the schema not migrated (78, naming `ottrecon db migrate`), the spool
# not writable (74, naming the path), a configuration holding a password and readable by others
# (a warning), and nothing written when a step cannot start.
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR
write_config

# The database down: a port where nothing listens (the same socket dir, another port).
sed "s|conninfo: .*|conninfo: \"dbname=$TEST_DB port=1\"|" "$CONFIG" >"$WORK/down.yaml"
for cmd in "db status" "ingest" "reconcile" "eligibility" "churn" "kpi --month 2026-11" "nightly" "status"; do
	# shellcheck disable=SC2086 # (cmd carries its arguments)
	assert_exit 69 "$OTTRECON_BIN" --config "$WORK/down.yaml" $cmd
	assert_file_contains "$ERR" "cannot connect to the database"
	assert_log_lines "$ERR"
done

# Not migrated: 78 and the fix named.
for cmd in "ingest" "reconcile" "eligibility" "churn" "kpi --month 2026-11" "nightly" "status"; do
	# shellcheck disable=SC2086
	assert_exit 78 "$OTTRECON_BIN" $cmd
	assert_file_contains "$ERR" "ottrecon db migrate"
done
assert_exit 0 "$OTTRECON_BIN" db migrate

# The spool cannot be made (a file where a directory should be; as root, modes do not stop us).
echo "not a directory" >"$WORK/blocker"
sed "s|^spool: .*|spool: $WORK/blocker/spool|" "$CONFIG" >"$WORK/nospool.yaml"
for cmd in "ingest" "eligibility" "kpi --month 2026-11"; do
	# shellcheck disable=SC2086
	assert_exit 74 "$OTTRECON_BIN" --config "$WORK/nospool.yaml" $cmd
	assert_file_contains "$ERR" "$WORK/blocker"
done
assert_eq 0 "$(psql_val "select count(*) from feed.file")" "no partner file recorded without a spool"

# A password in a configuration others can read: a warning naming the file (the password is
# never printed).
sed "s|conninfo: .*|conninfo: \"dbname=$TEST_DB password=hunter2\"|" "$CONFIG" >"$WORK/secret.yaml"
chmod 0644 "$WORK/secret.yaml"
assert_exit 0 "$OTTRECON_BIN" --config "$WORK/secret.yaml" status
assert_file_contains "$ERR" "$WORK/secret.yaml holds a database password and is readable by others (mode 0644)"
assert_file_not_contains "$ERR" "hunter2"
chmod 0640 "$WORK/secret.yaml"
assert_exit 0 "$OTTRECON_BIN" --config "$WORK/secret.yaml" status
assert_file_not_contains "$ERR" "readable by others"
# Clock skew: dates after tomorrow (UTC) are loaded and flagged FUTURE_DATE, with a warning;
# a file name dated after tomorrow is warned about.
tomorrow=$(date -u -d tomorrow +%Y-%m-%dT12:00:00Z)
later=$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)
cat >"$WORK/activations_20991231.csv" <<CSV
countryCode,siteCode,productName,subscriptionCode,msisdn,alias,telcoCode,dateCreated,dateActive,datePendingUnsubscription,dateUnsubscribed,unsubscriptionSource
XX,amazon,plan123,fut1,+573000000001,m1,OPERATOR1,2026-01-01T00:00:00Z,$tomorrow,,,
XX,amazon,plan123,fut2,+573000000002,m2,OPERATOR1,2026-01-01T00:00:00Z,$later,,,
XX,amazon,plan123,fut3,+573000000003,m3,OPERATOR1,2099-01-01T00:00:00Z,,,,
CSV
assert_exit 0 "$OTTRECON_BIN" load --layout docomo_activations "$WORK/activations_20991231.csv"
assert_file_contains "$ERR" "activations_20991231.csv: the date in its name (2099-12-31) is after tomorrow (UTC): is the sender's clock wrong?"
assert_file_contains "$ERR" "activations_20991231.csv: 2 rows have dates after tomorrow (UTC): loaded and flagged FUTURE_DATE"
assert_eq "fut1 {} fut2 {FUTURE_DATE} fut3 {FUTURE_DATE}" \
	"$(psql_val "select string_agg(subscription_code || ' ' || flags::text, ' ' order by subscription_code) from ottrecon.partner_row")" \
	"flags of the rows"
note "environment: all checks passed"
