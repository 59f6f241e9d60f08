#!/usr/bin/env bash
# db_migrate.sh: `ottrecon db migrate` / `db status` against a real PostgreSQL (SPEC §1, §4).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
export OTTRECON_DATADIR=$SRCDIR # the migrations counted below are the ones applied

# A data directory like the shipped one: a copy of schemas/ and sql/ (extra files go in DIR/sql).
make_datadir() {
	mkdir -p "$1"
	cp -r "$SRCDIR/schemas" "$SRCDIR/sql" "$1/"
}

# Migration versions recorded above 900 (the test's own), comma-separated.
recorded_test_versions() {
	psql_val "select coalesce(string_agg(version::text, ',' order by version), '')
	          from public.ottrecon_schema_migrations where version > 900"
}

# The key `db migrate` locks: the first 8 bytes of SHA-256('ottrecon.migrate') as a bigint.
LOCK_KEY="('x' || left(encode(sha256('ottrecon.migrate'), 'hex'), 16))::bit(64)::bigint"
TS='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]'

write_config
n=$(find "$SRCDIR/sql" -maxdepth 1 -name '[0-9][0-9][0-9]*_*.sql' | wc -l)
((n >= 1)) || fail "no migration in $SRCDIR/sql"
note "$n migrations in $SRCDIR/sql"

# --- a database never migrated: everything pending, nothing created ----------------------------
assert_exit 0 "$OTTRECON_BIN" db status
assert_eq "0 applied, $n pending" "$(tail -n 1 "$OUT")" "status on an empty database: counts"
assert_eq "$n" "$(grep -c '^pending  [0-9]\{3,\}_[^ ]*\.sql$' "$OUT")" "status: one pending line each"
assert_eq "pending  001_init.sql" "$(head -n 1 "$OUT")" "status: in version order"
assert_eq f "$(psql_val "select to_regclass('public.ottrecon_schema_migrations') is not null")" \
	"status does not create the record table"

# --- first migrate applies every file ----------------------------------------------------------
assert_exit 0 "$OTTRECON_BIN" db migrate
assert_file_contains "$ERR" "INFO db: applied 001_init.sql"
if ((n == 1)); then
	assert_file_contains "$ERR" "applied 1 migration: the database schema is up to date"
else
	assert_file_contains "$ERR" "applied $n migrations: the database schema is up to date"
fi
assert_eq "$n" "$(psql_val 'select count(*) from public.ottrecon_schema_migrations')" \
	"every migration recorded"
assert_eq "$(sha256sum "$SRCDIR/sql/001_init.sql" | cut -d' ' -f1)" \
	"$(psql_val 'select sha256 from public.ottrecon_schema_migrations where version = 1')" \
	"001 recorded with the file's SHA-256"
assert_eq "bss_addon bss_churn_event bss_snapshot bss_subscriber load_file partner_row partner_row_small partner_subscription" \
	"$(psql_val "select string_agg(table_name::text, ' ' order by table_name)
	             from information_schema.tables where table_schema = 'ottrecon'")" \
	"the ottrecon tables exist"
assert_eq 1 "$(psql_val "select count(*) from pg_namespace where nspname = 'report'")" \
	"the report schema exists"

# --- second migrate applies nothing and says so ------------------------------------------------
assert_exit 0 "$OTTRECON_BIN" db migrate
assert_file_contains "$ERR" "nothing to apply: the database schema is up to date"
assert_file_not_contains "$ERR" "applying"
assert_eq "$n" "$(psql_val 'select count(*) from public.ottrecon_schema_migrations')" \
	"still recorded once each"

# --- status lists them as applied --------------------------------------------------------------
assert_exit 0 "$OTTRECON_BIN" db status
assert_eq "$n applied, 0 pending" "$(tail -n 1 "$OUT")" "status after migrate: counts"
assert_eq "$n" "$(grep -c "^applied  [0-9]\{3,\}_[^ ]*\.sql  $TS\$" "$OUT")" \
	"status: one applied line each, with the time applied"
assert_eq "applied  001_init.sql  $(psql_val "select to_char(applied_at at time zone 'UTC',
	'YYYY-MM-DD HH24:MI:SS') from public.ottrecon_schema_migrations where version = 1")" \
	"$(head -n 1 "$OUT")" "status: 001's line"
assert_eq "" "$(cat "$ERR")" "status: nothing on stderr"

# --- a broken migration: earlier ones stay applied, the broken one leaves nothing --------------
bad=$WORK/data-bad
make_datadir "$bad"
printf -- '-- a good one\ncreate table ottrecon.t998 (x int);\n' >"$bad/sql/998_good.sql"
printf -- '-- a broken one\ncreate table ottrecon.t999 (x int);\nselec 1;\n' >"$bad/sql/999_bad.sql"
assert_exit 70 env OTTRECON_DATADIR="$bad" "$OTTRECON_BIN" db migrate
assert_file_contains "$ERR" "INFO db: applied 998_good.sql"
assert_file_contains "$ERR" "ERROR db: cannot apply migration '$bad/sql/999_bad.sql': "
assert_file_contains "$ERR" 'syntax error at or near "selec"'
assert_file_contains "$ERR" "LINE 3: selec 1;"
assert_file_contains "$ERR" "1 migration was applied before the failure"
assert_eq 998 "$(recorded_test_versions)" "998 recorded, 999 not"
assert_eq t "$(psql_val "select to_regclass('ottrecon.t998') is not null")" "998's table is there"
assert_eq f "$(psql_val "select to_regclass('ottrecon.t999') is not null")" \
	"999's first statement was rolled back"
assert_exit 0 env OTTRECON_DATADIR="$bad" "$OTTRECON_BIN" db status
assert_eq "pending  999_bad.sql
$((n + 1)) applied, 1 pending" "$(tail -n 2 "$OUT")" "status shows the broken one pending"

# --- a pending migration shows up, then applies (after waiting for the lock) --------------------
more=$WORK/data-more
make_datadir "$more"
cp "$bad/sql/998_good.sql" "$more/sql/"
printf -- '-- a new one\ncreate table ottrecon.t999 (x int);\n' >"$more/sql/999_test.sql"
assert_exit 0 env OTTRECON_DATADIR="$more" "$OTTRECON_BIN" db status
assert_eq "pending  999_test.sql
$((n + 1)) applied, 1 pending" "$(tail -n 2 "$OUT")" "status shows the new one pending"

# Another session holds the migration lock for 2 s: migrate waits for it, then applies.
psql -XAtq -v ON_ERROR_STOP=1 -c "select pg_advisory_lock($LOCK_KEY)" -c 'select pg_sleep(2)' \
	>/dev/null &
holder=$!
for _ in $(seq 100); do
	[[ $(psql_val "select count(*) from pg_locks where locktype = 'advisory' and granted
	               and database = (select oid from pg_database where datname = current_database())") == 1 ]] && break
	sleep 0.05
done
assert_exit 0 env OTTRECON_DATADIR="$more" "$OTTRECON_BIN" db migrate
wait "$holder"
assert_file_contains "$ERR" "another migration is running; waiting for its lock"
assert_file_contains "$ERR" "applied 1 migration: the database schema is up to date"
assert_eq 998,999 "$(recorded_test_versions)" "998 and 999 recorded"
assert_exit 0 env OTTRECON_DATADIR="$more" "$OTTRECON_BIN" db status
assert_eq "$((n + 2)) applied, 0 pending" "$(tail -n 1 "$OUT")" "status: all applied"

# --- a file changed after it was applied: a warning, not an error -------------------------------
echo '-- edited after it was applied' >>"$more/sql/999_test.sql"
assert_exit 0 env OTTRECON_DATADIR="$more" "$OTTRECON_BIN" db status
assert_eq 1 "$(grep -c "^changed  999_test\.sql  $TS\$" "$OUT")" "status: the changed line"
assert_eq "$((n + 2)) applied, 0 pending" "$(tail -n 1 "$OUT")" "a changed one counts as applied"
assert_file_contains "$ERR" "WARN db: migration 999_test.sql has changed since it was applied"
assert_exit 0 env OTTRECON_DATADIR="$more" "$OTTRECON_BIN" db migrate
assert_file_contains "$ERR" "nothing to apply"
assert_file_contains "$ERR" "WARN db: migration 999_test.sql has changed since it was applied"

# --- an unreachable database: 69, and the conninfo (with its password) is never printed --------
write_config "" "$WORK/unreachable.yaml"
sed -i 's|^  conninfo: .*|  conninfo: "host=/nonexistent user=ottr password=s3cr3t-pw"|' \
	"$WORK/unreachable.yaml"
assert_file_contains "$WORK/unreachable.yaml" "s3cr3t-pw"
for sub in migrate status; do
	assert_exit 69 "$OTTRECON_BIN" db "$sub"
	assert_file_contains "$ERR" "ERROR db: cannot connect to the database: "
	assert_file_not_contains "$ERR" "s3cr3t-pw"
	assert_file_not_contains "$OUT" "s3cr3t-pw"
done

# --- a conninfo libpq cannot parse: 78, without echoing it --------------------------------------
sed -i 's|^  conninfo: .*|  conninfo: "postgresql://ottr:s3cr3t%zz@localhost/x"|' "$CONFIG"
assert_exit 78 "$OTTRECON_BIN" db status
assert_file_contains "$ERR" "database.conninfo is not a valid libpq connection string"
assert_file_not_contains "$ERR" "s3cr3t"

# --- usage -------------------------------------------------------------------------------------
assert_exit 64 "$OTTRECON_BIN" db
assert_file_contains "$ERR" "ottrecon db: missing subcommand: migrate or status"
assert_exit 64 "$OTTRECON_BIN" db frobnicate
assert_file_contains "$ERR" "ottrecon db: unknown subcommand 'frobnicate'"
assert_exit 64 "$OTTRECON_BIN" db migrate extra
assert_file_contains "$ERR" "ottrecon db: unexpected argument 'extra'"
assert_exit 64 "$OTTRECON_BIN" db --bogus status
assert_file_contains "$ERR" "ottrecon db: unknown option '--bogus'"
assert_exit 0 "$OTTRECON_BIN" db --help
assert_file_contains "$OUT" "usage: ottrecon db migrate|status"
assert_exit 0 "$BUILDDIR/ottrecon-db" --help
assert_file_contains "$OUT" "usage: ottrecon db migrate|status"

note "db_migrate: all checks passed"
