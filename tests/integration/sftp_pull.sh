#!/usr/bin/env bash
# sftp_pull.sh: `ottrecon pull` against the throwaway sshd: exact bytes, nothing twice (inbox,
# archive, manifest, database down), --dry-run, malicious remote names, after_pull delete and
# move, the spool lock (SPEC §1, §7).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/sftp_lib.sh
source "$(dirname "$0")/sftp_lib.sh"
assert_exit 0 "$OTTRECON_BIN" db migrate
INBOX=$SPOOL/inbox

# Three partner files of different sizes, one file of another kind, a directory that matches.
for d in 1 2 3; do
	head -c $((d * 150000 + 17)) /dev/urandom >"$REMOTE_IN/activations_2026120$d.csv"
done
echo "not ours" >"$REMOTE_IN/readme.txt"
mkdir "$REMOTE_IN/activations_dir.csv"
S1=$(stat -c %s "$REMOTE_IN/activations_20261201.csv")
S2=$(stat -c %s "$REMOTE_IN/activations_20261202.csv")
S3=$(stat -c %s "$REMOTE_IN/activations_20261203.csv")

note "--dry-run lists what would be fetched and changes nothing"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "fetch activations_20261201.csv $S1
fetch activations_20261202.csv $S2
fetch activations_20261203.csv $S3" "$(cat "$OUT")" "dry-run output"
assert_eq "" "$(ls -A "$INBOX" 2>/dev/null)" "inbox after --dry-run"

note "pull fetches the three files, byte for byte"
assert_exit 0 "$OTTRECON_BIN" pull
for d in 1 2 3; do
	f=activations_2026120$d.csv
	assert_eq "$(sha "$REMOTE_IN/$f")" "$(sha "$INBOX/$f")" "sha256 of $f"
done
assert_file_contains "$ERR" "fetched file=activations_20261201.csv bytes=$S1"
assert_file_contains "$ERR" "fetched file=activations_20261203.csv bytes=$S3"
assert_file_contains "$ERR" "3 file(s) fetched ($((S1 + S2 + S3)) bytes), 0 already fetched"
assert_eq "activations_20261201.csv activations_20261202.csv activations_20261203.csv" \
	"$(ls "$INBOX" | tr '\n' ' ' | sed 's/ $//')" "inbox holds the three files and no .part"
assert_eq 640 "$(stat -c %a "$INBOX/activations_20261201.csv")" "mode of a fetched file"
assert_eq "$(stat -c %Y "$REMOTE_IN/activations_20261201.csv")" \
	"$(stat -c %Y "$INBOX/activations_20261201.csv")" "a fetched file keeps the remote mtime"
assert_eq 5 "$(ls -A "$REMOTE_IN" | wc -l)" "after_pull keep leaves the remote files"

note "nothing is fetched twice: inbox, archive, manifest"
before=$(stat -c %Y.%s "$INBOX"/*)
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "0 file(s) fetched (0 bytes), 3 already fetched"
assert_eq "$before" "$(stat -c %Y.%s "$INBOX"/*)" "inbox files untouched"
mkdir -p "$SPOOL/archive"
mv "$INBOX/activations_20261201.csv" "$SPOOL/archive/"
head -c 1000 /dev/urandom >"$REMOTE_IN/activations_20261204.csv"
psql_val "insert into ottrecon.load_file (name, size_bytes, sha256, layout, outcome)
          values ('activations_20261204.csv', 1000, repeat('a', 64), 'docomo_activations', 'LOADED')"
assert_exit 0 "$OTTRECON_BIN" -v pull
assert_file_contains "$ERR" "skipping file=activations_20261201.csv: already in spool/archive"
assert_file_contains "$ERR" "skipping file=activations_20261202.csv: already in spool/inbox"
assert_file_contains "$ERR" "skipping file=activations_20261204.csv: already in the load manifest"
assert_file_contains "$ERR" "0 file(s) fetched (0 bytes), 4 already fetched"
[[ ! -e $INBOX/activations_20261201.csv && ! -e $INBOX/activations_20261204.csv ]] ||
	fail "an archived or loaded file was fetched again"

note "a REFUSED manifest row does not count as loaded; a database down falls back to the spool"
psql_val "update ottrecon.load_file set outcome = 'REFUSED' where name = 'activations_20261204.csv'"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "fetch activations_20261204.csv 1000" "$(cat "$OUT")" "a refused file is fetched again"
# ... unless ingest refused this very version (its copy in spool/reject has the remote size and
# mtime): fetching it again would only refuse it again every night. A corrected one is fetched.
mkdir -p "$SPOOL/reject"
cp -p "$REMOTE_IN/activations_20261204.csv" "$SPOOL/reject/activations_20261204.csv"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "" "$(cat "$OUT")" "a refused file unchanged on the server is not fetched again"
assert_file_contains "$ERR" "file=activations_20261204.csv was refused (see spool/reject) and is unchanged on the server"
mv "$SPOOL/reject/activations_20261204.csv" "$SPOOL/reject/activations_20261204.csv.1"
: >"$SPOOL/reject/activations_20261204.csv"  # (refused twice: the first copy is NAME.1)
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "" "$(cat "$OUT")" "a refused file unchanged on the server, its copy NAME.1"
touch -d '2026-12-05 10:00:00' "$REMOTE_IN/activations_20261204.csv"  # (sent again, corrected)
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "fetch activations_20261204.csv 1000" "$(cat "$OUT")" "a refused file sent again is fetched"
rm "$SPOOL/reject/activations_20261204.csv" "$SPOOL/reject/activations_20261204.csv.1"
psql_val "update ottrecon.load_file set outcome = 'LOADED' where name = 'activations_20261204.csv'"
sed -i 's|^  conninfo: .*|  conninfo: "dbname=ottrecon_no_such_database"|' "$CONFIG"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_file_contains "$ERR" "checking only spool/inbox and spool/archive for files already fetched"
assert_eq "fetch activations_20261204.csv 1000" "$(cat "$OUT")" "without the manifest"
sed -i "s|^  conninfo: .*|  conninfo: \"dbname=$TEST_DB\"|" "$CONFIG"
rm "$REMOTE_IN/activations_20261204.csv"

note "malicious remote names are skipped with a warning and never written anywhere"
: >"$REMOTE_IN/activations_"$'\n'"evil.csv"
: >"$REMOTE_IN/activations_..evil.csv"
: >"$REMOTE_IN/activations_x.csv.part"
: >"$REMOTE_IN/activations_"$'\e'"[31mred.csv"
set_sftp pattern '"*"'
touch "$WORK/marker"
sleep 1.1 # so that anything written after the marker is newer than it
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "skipping remote file 'activations_\\nevil.csv': holds a control character"
assert_file_contains "$ERR" "skipping remote file 'activations_\\x1b[31mred.csv': holds a control character"
assert_file_contains "$ERR" "skipping remote file 'activations_..evil.csv': holds '..'"
assert_file_contains "$ERR" "skipping remote file 'activations_x.csv.part': ends in .part"
assert_file_contains "$ERR" "skipping remote file '.': not a file name"
assert_file_contains "$ERR" "skipping remote file '..': not a file name"
assert_file_contains "$ERR" "1 file(s) fetched"
assert_file_not_contains "$ERR" "evil.csv bytes"
assert_eq "$INBOX/readme.txt" "$(find "$WORK" "$OTTRECON_TEST_SFTP_ROOT" -cnewer "$WORK/marker" \
	-type f ! -name 'last.std*' ! -name '.pull.lock' | sort)" \
	"the only file written is the one plain name that matched '*'"
rm "$INBOX/readme.txt"
rm "$REMOTE_IN"/activations_*evil.csv "$REMOTE_IN"/activations_*red.csv \
	"$REMOTE_IN/activations_x.csv.part" "$REMOTE_IN/readme.txt"
set_sftp pattern '"activations_*.csv"'

note "after_pull delete removes the remote file once it is safe locally"
set_sftp after_pull delete
head -c 50000 /dev/urandom >"$REMOTE_IN/activations_20261205.csv"
want=$(sha "$REMOTE_IN/activations_20261205.csv")
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "fetched file=activations_20261205.csv bytes=50000"
assert_file_contains "$ERR" "deleted remote file=activations_20261205.csv (after_pull: delete)"
[[ ! -e $REMOTE_IN/activations_20261205.csv ]] || fail "the remote file was not deleted"
assert_eq "$want" "$(sha "$INBOX/activations_20261205.csv")" "sha256 after delete"
assert_file_not_contains "$ERR" "remote file=activations_20261202.csv"

note "after_pull move:DIR moves it on the server; a taken name there is an error (69)"
set_sftp after_pull "move:$REMOTE_ARCHIVE"
head -c 60000 /dev/urandom >"$REMOTE_IN/activations_20261206.csv"
want=$(sha "$REMOTE_IN/activations_20261206.csv")
assert_exit 0 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "moved remote file=activations_20261206.csv to $REMOTE_ARCHIVE/activations_20261206.csv"
assert_eq "$want" "$(sha "$REMOTE_ARCHIVE/activations_20261206.csv")" "moved remote file"
assert_eq "$want" "$(sha "$INBOX/activations_20261206.csv")" "sha256 after move"
[[ ! -e $REMOTE_IN/activations_20261206.csv ]] || fail "the remote file was not moved"
head -c 70000 /dev/urandom >"$REMOTE_IN/activations_20261207.csv"
echo taken >"$REMOTE_ARCHIVE/activations_20261207.csv"
assert_exit 69 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "fetched file=activations_20261207.csv bytes=70000"
assert_file_contains "$ERR" "cannot rename '$REMOTE_IN/activations_20261207.csv' to '$REMOTE_ARCHIVE/activations_20261207.csv'"
assert_eq "$(sha "$REMOTE_IN/activations_20261207.csv")" "$(sha "$INBOX/activations_20261207.csv")" \
	"the file is fetched even when after_pull fails"
set_sftp after_pull keep

note "one pull at a time per spool (exit 75)"
exec 9>"$SPOOL/.pull.lock"
flock -n 9 || fail "cannot take the test's own lock"
assert_exit 75 "$OTTRECON_BIN" pull
assert_file_contains "$ERR" "another pull is running on spool $SPOOL"
exec 9>&-
assert_exit 0 "$OTTRECON_BIN" pull

note "usage: unknown partner 64, --help 0"
assert_exit 64 "$OTTRECON_BIN" pull --partner nobody
assert_file_contains "$ERR" "no partner 'nobody'"
assert_exit 0 "$OTTRECON_BIN" pull --help
assert_file_contains "$OUT" "usage: ottrecon pull"
assert_exit 0 "$OTTRECON_BIN"-pull --dry-run
