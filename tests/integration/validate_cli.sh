#!/usr/bin/env bash
# validate_cli.sh: `ottrecon validate` end to end on the shipped layouts (no database needed):
# exact reject CSV on stdout, exact count lines on stderr, exit codes of SPEC §1 and §8.
set -euo pipefail
bin=${OTTRECON_BIN:?meson sets OTTRECON_BIN}
builddir=${BUILDDIR:-$(dirname "$bin")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# validate must not need a config: with no --config and no $OTTRECON_CONFIG it runs on defaults
unset OTTRECON_CONFIG
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# expect_exit CODE -- cmd...: runs cmd with stdout in out.txt, stderr in err.txt
expect_exit() {
	local want=$1; shift; [ "$1" = -- ] && shift
	local got=0
	"$@" >out.txt 2>err.txt || got=$?
	[ "$got" = "$want" ] || { fail "exit $got, expected $want: $*"; sed 's/^/  stderr: /' err.txt >&2; }
}
expect_stdout() { # expect_stdout TEXT
	local want; want=$(printf '%s' "$1")
	[ "$(cat out.txt)" = "$want" ] || { fail "stdout differs"; diff <(echo "$want") out.txt >&2 || true; }
}
expect_stderr_line() { # the exact line must appear in err.txt
	grep -qxF -- "$1" err.txt || { fail "stderr lacks line: $1"; sed 's/^/  stderr: /' err.txt >&2; }
}

# 1. The example rows of SPEC §3.1 load.
cat > spec.csv <<'CSV'
"countryCode","siteCode","productName","subscriptionCode","msisdn","alias","telcoCode","dateCreated","dateActive","datePendingUnsubscription","dateUnsubscribed","unsubscriptionSource"
"XX","amazon","plan123","5b23765be4b06e7171d79c7d","+1234567890",,"OPERATOR1","2018-05-22T15:31:06Z","2018-05-22T15:45:31Z",,"2018-06-29T15:45:31Z ","TELCO"
CSV
expect_exit 0 -- "$bin" validate --layout docomo_activations spec.csv
expect_stdout "file,line,column,reason,raw"
expect_stderr_line "spec.csv: read=1 loaded=1 rejected=0"

# 2. Bad rows: exact reasons, lines and raw text; 3 of 6 rejected is over the 0.01 default: 65.
{
	echo 'countryCode,siteCode,productName,subscriptionCode,msisdn,alias,telcoCode,dateCreated,dateActive,datePendingUnsubscription,dateUnsubscribed,unsubscriptionSource'
	echo 'XX,amazon,plan123,s1,+573001234567,,OPERATOR1,2018-05-22T10:31:06-05:00,,,,'
	echo 'XX,amazon,plan123,s2,5.73E+11,,OPERATOR1,2018-05-22,,,,'
	echo 'XX,amazon,plan123,s3,573001234567,,OPERATOR1,2018-02-30T00:00:00Z,,,,'
	echo 'XX,amazon,plan123,,573001234567,,OPERATOR1,2018-05-22,,,,'
	printf 'XX,amazon,plan123,"s5\nwith newline",,H-1,OPERATOR1,2018-05-22,,,,\r\n'
	echo 'XX,amazon,plan123,s6,+57 300 123 4567,,OPERATOR1,22/05/2018,,,,'
} > bad.csv
expect_exit 65 -- "$bin" validate --layout docomo_activations bad.csv
expect_stdout 'file,line,column,reason,raw
bad.csv,3,msisdn,invalid MSISDN (8 to 15 digits expected): '"'"'5.73E+11'"'"',"XX,amazon,plan123,s2,5.73E+11,,OPERATOR1,2018-05-22,,,,"
bad.csv,4,dateCreated,impossible date: '"'"'2018-02-30T00:00:00Z'"'"',"XX,amazon,plan123,s3,573001234567,,OPERATOR1,2018-02-30T00:00:00Z,,,,"
bad.csv,5,subscriptionCode,missing required value,"XX,amazon,plan123,,573001234567,,OPERATOR1,2018-05-22,,,,"
bad.csv,8,dateCreated,not an ISO 8601 timestamp: '"'"'22/05/2018'"'"',"XX,amazon,plan123,s6,+57 300 123 4567,,OPERATOR1,22/05/2018,,,,"'
expect_stderr_line "bad.csv: read=6 loaded=2 rejected=4"
grep -q "would be refused: 4 of 6 rows rejected" err.txt || fail "no refusal message"

# 2b. A subscriptionCode twice: the most advanced status stays, the other is rejected as a
# duplicate, which does not count towards max_reject_ratio (3 duplicates of 6 rows: still exit 0).
{
	echo 'countryCode,siteCode,productName,subscriptionCode,msisdn,alias,telcoCode,dateCreated,dateActive,datePendingUnsubscription,dateUnsubscribed,unsubscriptionSource'
	echo 'XX,amazon,plan123,d1,+573001234567,,OPERATOR1,2026-01-01,2026-01-02,,2026-02-01,USER'
	echo 'XX,amazon,plan123,d1,+573001234567,,OPERATOR1,2026-01-01,2026-01-02,,,'
	echo 'XX,amazon,plan123,d2,+573001234568,,OPERATOR1,2026-01-01,,,,'
	echo 'XX,amazon,plan123,d2,+573001234568,,OPERATOR1,2026-01-01,,,,'
	echo 'XX,amazon,plan123,d3,+573001234569,,OPERATOR1,2026-01-01,,,,'
	echo 'XX,amazon,plan123,d3,+573001234569,,OPERATOR1,2026-01-01,2026-01-03,,,'
} > dup.csv
expect_exit 0 -- "$bin" validate --layout docomo_activations dup.csv
expect_stdout 'file,line,column,reason,raw
dup.csv,3,subscriptionCode,duplicate subscriptionCode,"XX,amazon,plan123,d1,+573001234567,,OPERATOR1,2026-01-01,2026-01-02,,,"
dup.csv,4,subscriptionCode,duplicate subscriptionCode,"XX,amazon,plan123,d2,+573001234568,,OPERATOR1,2026-01-01,,,,"
dup.csv,6,subscriptionCode,duplicate subscriptionCode,"XX,amazon,plan123,d3,+573001234569,,OPERATOR1,2026-01-01,,,,"'
expect_stderr_line "dup.csv: read=6 loaded=3 rejected=3"

# 3. The same file passes with a ratio that allows it.
expect_exit 0 -- "$bin" validate --layout docomo_activations --max-reject-ratio 0.7 bad.csv

# 3b. Exactly at the ratio is not over it: 29 rejects of 100 rows with 0.29 (where 0.29 * 100 is
# 28.999... in floating point).
{
	echo 'country_code,service_type,service_id,msisdn,event_type,event_date,old_plan,new_plan,new_msisdn'
	for i in $(seq 1 100); do
		if [ "$i" -le 29 ]; then ev=GONE; else ev=CHURN; fi
		echo "XX,MOBILE,m$i,,$ev,2026-11-20,,,"
	done
} > ratio.csv
expect_exit 0 -- "$bin" validate --layout bss_churn --max-reject-ratio 0.29 ratio.csv
expect_stderr_line "ratio.csv: read=100 loaded=71 rejected=29"
expect_exit 65 -- "$bin" validate --layout bss_churn --max-reject-ratio 0.28 ratio.csv

# 4. Files that cannot be opened: 66, and the most serious code wins over 65 and 0.
expect_exit 66 -- "$bin" validate --layout docomo_activations spec.csv missing.csv bad.csv
expect_stderr_line "spec.csv: read=1 loaded=1 rejected=0"
expect_stderr_line "bad.csv: read=6 loaded=2 rejected=4"
grep -q "cannot open 'missing.csv': No such file or directory" err.txt || fail "no message for missing.csv"
expect_stderr_line "missing.csv: read=0 loaded=0 rejected=0"  # (one count line per file)

# 4b. A directory cannot be opened as a file either: 66, and it still wins over 65.
mkdir -p adir
expect_exit 66 -- "$bin" validate --layout docomo_activations adir bad.csv
grep -q "cannot open 'adir': Is a directory" err.txt || fail "no message for the directory"

# 5. A file refused as a whole (missing required column): 65 with file and line.
printf 'countryCode,siteCode\nXX,amazon\n' > nocols.csv
expect_exit 65 -- "$bin" validate --layout docomo_activations nocols.csv
grep -q "nocols.csv:1: missing required column 'productName'" err.txt || fail "no missing column message"
# 5b. Unknown columns are ignored with a warning (SPEC §3), even when their name repeats (an
# export ending each line with ",,"); a known column given twice still refuses the file.
printf 'country_code,service_type,service_id,event_type,event_date,,\nXX,MOBILE,m1,CHURN,2026-11-10,,\n' > trail.csv
expect_exit 0 -- "$bin" validate --layout bss_churn trail.csv
expect_stderr_line "trail.csv: read=1 loaded=1 rejected=0"
printf 'country_code,service_type,service_id,event_type,event_date,service_id\nXX,MOBILE,m1,CHURN,2026-11-10,m2\n' > twice.csv
expect_exit 65 -- "$bin" validate --layout bss_churn twice.csv
grep -q "twice.csv:1: duplicate column 'service_id' in header" err.txt || fail "no duplicate column message"

# 6. Usage errors: 64.
expect_exit 64 -- "$bin" validate spec.csv
expect_exit 64 -- "$bin" validate --layout docomo_activations
expect_exit 64 -- "$bin" validate --layout no_such_layout spec.csv
grep -q "no_such_layout" err.txt || fail "unknown layout not named"

# 7. Count lines stay plain text with --log-format json; messages become JSON.
expect_exit 65 -- "$bin" --log-format json validate --layout docomo_activations bad.csv
expect_stderr_line "bad.csv: read=6 loaded=2 rejected=4"
grep -q '^{"time":"[0-9T:Z-]*","level":"ERROR","command":"validate","msg":"bad.csv: would be refused' err.txt \
	|| fail "JSON log line missing"
# JSON lines are UTF-8 even when a message quotes bytes that are not (a Latin-1 file name).
expect_exit 66 -- "$bin" --log-format json validate --layout docomo_activations "$(printf 'caf\351.csv')"
python3 -c '
import json, sys
lines = open(sys.argv[1], "rb").read().splitlines()
# (the count line is plain text, FILE as given, whatever --log-format says: SPEC §8)
assert lines[-1] == b"caf\xe9.csv: read=0 loaded=0 rejected=0", lines
for line in lines[:-1]:
    obj = json.loads(line.decode("utf-8"))
    assert obj["msg"] == "cannot open \x27caf\ufffd.csv\x27: No such file or directory", obj
' err.txt || { fail "JSON log line with a Latin-1 file name is not valid UTF-8 JSON"; sed 's/^/  stderr: /' err.txt >&2; }

# A usage error too is one JSON line with --log-format json, not the usage text.
# shellcheck disable=SC2016 # (the backquotes are literal)
json_usage_error='^\{"time":"[0-9T:Z-]*","level":"ERROR","command":"validate","msg":".*\(see `ottrecon validate --help`\)"\}$'
for args in "--bogus" "--layout" "--as-of 2026-12-01"; do
	# shellcheck disable=SC2086 # (args holds the options)
	expect_exit 64 -- "$bin" --log-format json validate $args
	if [ "$(wc -l <err.txt)" != 1 ] || ! grep -qE "$json_usage_error" err.txt; then
		fail "usage error of 'validate $args' is not one JSON line"
		sed 's/^/  stderr: /' err.txt >&2
	fi
done
# The same before a command is known: an unknown command or option, none given.
# shellcheck disable=SC2016 # (the backquotes are literal)
json_top_error='^\{"time":"[0-9T:Z-]*","level":"ERROR","command":"ottrecon","msg":".*\(see `ottrecon --help`\)"\}$'
for args in "bogus" "--bogus validate" "--config" ""; do
	# shellcheck disable=SC2086 # (args holds the options)
	expect_exit 64 -- "$bin" --log-format json $args
	if [ "$(wc -l <err.txt)" != 1 ] || ! grep -qE "$json_top_error" err.txt; then
		fail "usage error of 'ottrecon $args' is not one JSON line"
		sed 's/^/  stderr: /' err.txt >&2
	fi
done
expect_exit 64 -- "$bin" --bogus validate
grep -qxF "ottrecon: unknown option '--bogus'" err.txt || fail "unknown top-level option not named"
expect_exit 64 -- "$bin" bogus
grep -qxF "ottrecon: unknown command 'bogus'" err.txt || fail "unknown command not named"
expect_exit 64 -- "$bin" validate --bogus
grep -qxF "ottrecon validate: unknown option '--bogus'" err.txt || fail "unknown option not named"
expect_exit 64 -- "$bin" validate --layout
grep -qxF "ottrecon validate: option '--layout' needs a value" err.txt || fail "missing value not named"

# 8. The ottrecon-validate link dispatches on argv[0]; --help and --version work.
expect_exit 0 -- "$builddir/ottrecon-validate" --layout docomo_activations spec.csv
expect_stderr_line "spec.csv: read=1 loaded=1 rejected=0"
expect_exit 0 -- "$bin" validate --help
grep -q "usage: ottrecon validate --layout NAME" out.txt || fail "validate --help"
expect_exit 0 -- "$bin" --version
grep -qE '^ottrecon [0-9]+\.[0-9]+\.[0-9]+$' out.txt || fail "--version"
version=$(cat out.txt)
expect_exit 64 -- "$bin" no-such-command
# Every command, and every ottrecon-<command> link, has --help and --version (SPEC §1).
for c in db pull push validate load ingest reconcile eligibility churn kpi nightly status; do
	for run in "$bin $c" "$builddir/ottrecon-$c"; do
		# shellcheck disable=SC2086 # (run is a command and its first argument)
		expect_exit 0 -- $run --help
		grep -q "^usage: ottrecon $c" out.txt || fail "$run --help: no usage line"
		# shellcheck disable=SC2086
		expect_exit 0 -- $run --version
		[ "$(cat out.txt)" = "$version" ] || fail "$run --version printed '$(cat out.txt)'"
	done
done

# 9. A named config that is broken is a configuration error: 78 naming file and line.
printf 'database:\n  conninfo: ""\nspool: /tmp\ncountries: []\nrecon:\n  max_reject_ratioo: 0.5\n' > bad.yaml
expect_exit 78 -- "$bin" --config bad.yaml validate --layout docomo_activations spec.csv
grep -q "bad.yaml:6" err.txt || fail "config error does not name file and line"
grep -q "max_reject_ratioo" err.txt || fail "config error does not name the key"
# ... and a good one sets max_reject_ratio.
printf 'database:\n  conninfo: ""\nspool: /tmp\ncountries: []\nrecon:\n  max_reject_ratio: 0.7\n' > ok.yaml
expect_exit 0 -- "$bin" --config ok.yaml validate --layout docomo_activations bad.csv

if [ "$failures" -ne 0 ]; then
	echo "validate_cli: $failures failure(s)" >&2
	exit 1
fi
echo "validate_cli: all checks passed"
