# tools/lib/env.sh: shared setup for tools/check, tools/demo (and later tools/soak, bench/*).
# shellcheck shell=bash
#
# Source it from bash. It only defines functions (prefix ottr_) and the package list; it changes
# no shell options and starts nothing by itself. What it offers:
#
#   ottr_step TEXT                  announce a step ("==> TEXT")
#   ottr_ensure_packages [PKG...]   install the missing Debian packages (root) or say how (not root)
#   ottr_build DIR [MESON-OPTS...]  meson setup (once) + ninja -C DIR
#   ottr_make_tmpdir NAME           a fresh temp dir that the postgres user may traverse
#   ottr_pg_start BASE / ottr_pg_stop BASE         throwaway PostgreSQL under BASE/pg
#   ottr_sshd_start BASE / ottr_sshd_stop SSHD_DIR throwaway OpenSSH sshd under BASE/sshd
#   ottr_sshd_restart SSHD_DIR                     stop + start with the same port and keys
#   ottr_count_results TESTLOG.json...              "PASSED FAILED SKIPPED" of meson test logs
#
# ottr_pg_start exports PGHOST PGPORT PGUSER PGDATABASE (and OTTRECON_TEST_PG_DIR);
# ottr_sshd_start exports OTTRECON_TEST_SFTP_{HOST,PORT,USER,KEY,KNOWN_HOSTS,ROOT} and
# OTTRECON_TEST_SSHD_DIR (with OTTRECON_TEST_SSHD_DIR/sshdctl start|stop|restart|status).
#
# Functions print what went wrong to stderr and return non-zero; callers decide what to do.

# Debian packages the project needs to build, test and run its demo.
OTTR_PACKAGES=(
	meson ninja-build pkg-config gcc
	libpq-dev libyaml-dev libssh2-1-dev libcsv-dev libssl-dev check
	postgresql openssh-server openssh-client time
	python3     # meson runs on it
	util-linux  # runuser (run the PostgreSQL server as postgres when we are root), flock
	procps      # pgrep (tests find the children of a process they stop)
)

OTTR_ENV_SH=$(readlink -f "${BASH_SOURCE[0]}")
OTTR_SSHD_BIN=/usr/sbin/sshd

ottr_step() { printf '\n==> %s\n' "$*"; }
ottr_info() { printf '    %s\n' "$*"; }
ottr_err() { printf '%s: error: %s\n' "${OTTR_PROG:-ottrecon-tools}" "$*" >&2; }

ottr_is_root() { [[ $(id -u) -eq 0 ]]; }

# Prints the last lines of a log file, indented, to stderr (to explain a failure).
ottr_tail_log() {
	local file=$1 lines=${2:-25}
	[[ -f $file ]] || return 0
	printf '    --- last %s lines of %s ---\n' "$lines" "$file" >&2
	tail -n "$lines" "$file" | sed 's/^/    | /' >&2
}

# --- Debian packages --------------------------------------------------------------------------

# Prints, one per line, the packages among the arguments that are not installed.
ottr_missing_packages() {
	local -A installed=()
	local name status
	while IFS=$'\t' read -r name status; do
		[[ $status == 'install ok installed' ]] && installed[$name]=1
	done < <(dpkg-query -W -f='${Package}\t${Status}\n' "$@" 2>/dev/null || true)
	for name in "$@"; do
		[[ -n ${installed[$name]:-} ]] || printf '%s\n' "$name"
	done
}

# Makes sure OTTR_PACKAGES and the extra packages given are installed. As root, installs the
# missing ones with apt-get; otherwise prints the sudo command to run and returns 1.
ottr_ensure_packages() {
	local -a wanted=("${OTTR_PACKAGES[@]}" "$@") missing=()
	if ! command -v dpkg-query >/dev/null; then
		ottr_err "dpkg-query not found: this script expects Debian 12 (or a derivative)"
		return 1
	fi
	mapfile -t missing < <(ottr_missing_packages "${wanted[@]}")
	if ((${#missing[@]} == 0)); then
		ottr_info "all ${#wanted[@]} packages are installed"
		return 0
	fi
	ottr_info "missing: ${missing[*]}"
	if ! ottr_is_root; then
		ottr_err "some Debian packages are missing; install them with:"
		printf '\n    sudo apt-get install -y --no-install-recommends %s\n\n' "${missing[*]}" >&2
		return 1
	fi
	ottr_info "installing them with apt-get (as root)"
	apt-get update || { ottr_err "apt-get update failed"; return 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
		</dev/null || { ottr_err "apt-get install failed"; return 1; }
	mapfile -t missing < <(ottr_missing_packages "${wanted[@]}")
	if ((${#missing[@]} != 0)); then
		ottr_err "still not installed after apt-get install: ${missing[*]}"
		return 1
	fi
	ottr_info "installed"
}

# --- build ------------------------------------------------------------------------------------

# Configures DIR with meson on first use (with the given options; later calls apply them with
# meson configure) and builds it with ninja. Run from the source root.
ottr_build() {
	local dir=$1
	shift
	if [[ -f $dir/build.ninja ]]; then
		if (($# > 0)); then
			meson configure "$dir" "$@" || return 1
		fi
	elif [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$dir" "$@" || return 1
	else
		meson setup "$dir" "$@" || return 1
	fi
	ninja -C "$dir"
}

# --- temp dirs and ports ----------------------------------------------------------------------

# Creates and prints a fresh temp dir, mode 0711 so that the postgres user (when we are root)
# can reach its own subdirectory in it. Uses $TMPDIR unless its path is too long for a unix
# socket name or, as root, the postgres user cannot reach it; then /tmp.
ottr_make_tmpdir() {
	local parent=${TMPDIR:-/tmp} dir
	if ((${#parent} > 60)) || { ottr_is_root && ! runuser -u postgres -- test -x "$parent" \
		2>/dev/null; }; then
		parent=/tmp
	fi
	dir=$(mktemp -d "$parent/ottrecon-$1.XXXXXX") || return 1
	chmod 0711 "$dir"
	printf '%s\n' "$dir"
}

# Prints a TCP port on 127.0.0.1 that nothing listens on, below the kernel's range of ports
# for outgoing connections (a later bind may still race: callers that bind retry).
ottr_free_port() {
	local port tries low=20000 span=12000 eph_lo
	read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768
	if ((eph_lo > 12000)); then
		low=10000 span=$((eph_lo - 10000))
	fi
	for ((tries = 0; tries < 200; tries++)); do
		port=$((low + RANDOM % span))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	ottr_err "no free TCP port found on 127.0.0.1"
	return 1
}

# --- PostgreSQL -------------------------------------------------------------------------------

# Prints the server bin dir of the highest PostgreSQL version installed (Debian keeps initdb
# and pg_ctl there, not on PATH; pg_config --bindir names the client's).
ottr_pg_bindir() {
	local dir
	dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [[ ! -x $dir/initdb || ! -x $dir/pg_ctl ]]; then
		ottr_err "no PostgreSQL server found in /usr/lib/postgresql/*/bin (package postgresql)"
		return 1
	fi
	printf '%s\n' "$dir"
}

# Runs a command as the owner of the throwaway cluster: postgres when we are root (initdb
# refuses root), else ourselves. Runs from / so that postgres can read its working directory.
ottr_as_pg_owner() {
	if ottr_is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# Starts a throwaway PostgreSQL cluster in BASE/pg (data in BASE/pg/data, log in
# BASE/pg/postgres.log), reachable only through a unix socket in BASE/pg, trusting local users.
# Exports PGHOST PGPORT PGUSER PGDATABASE OTTRECON_TEST_PG_DIR and puts the server's bin dir
# first on PATH (psql, createdb, pg_ctl of the same version).
ottr_pg_start() {
	local dir=$1/pg bindir port role
	bindir=$(ottr_pg_bindir) || return 1
	port=$(ottr_free_port) || return 1
	role=$(id -un)
	mkdir -p "$dir"
	if ottr_is_root; then
		chown postgres:postgres "$dir"
	fi
	chmod 0755 "$dir"
	ottr_info "initdb: $dir/data (superuser role '$role', trust auth)"
	if ! ottr_as_pg_owner "$bindir/initdb" -D "$dir/data" -U "$role" -A trust -E UTF8 \
		--no-locale --no-sync >"$dir/initdb.log" 2>&1; then
		ottr_err "initdb failed"
		ottr_tail_log "$dir/initdb.log"
		return 1
	fi
	cat >>"$dir/data/postgresql.conf" <<-EOF

		# ottrecon throwaway test cluster (tools/lib/env.sh)
		listen_addresses = ''
		unix_socket_directories = '$dir'
		port = $port
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		max_connections = 60
		log_line_prefix = '%m [%p] %q%u@%d '
		log_min_messages = warning
	EOF
	ottr_info "pg_ctl start: socket $dir/.s.PGSQL.$port, log $dir/postgres.log"
	if ! ottr_as_pg_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -s \
		start; then
		ottr_err "PostgreSQL did not start"
		ottr_tail_log "$dir/postgres.log"
		return 1
	fi
	export PATH="$bindir:$PATH"
	export PGHOST=$dir PGPORT=$port PGUSER=$role PGDATABASE=postgres
	export OTTRECON_TEST_PG_DIR=$dir
	local answer
	answer=$(psql -XAtq -v ON_ERROR_STOP=1 -c 'select 1' 2>&1) || true
	if [[ $answer != 1 ]]; then
		ottr_err "PostgreSQL started but does not answer 'select 1': $answer"
		ottr_tail_log "$dir/postgres.log"
		return 1
	fi
	ottr_info "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') is up" \
		"(PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER)"
}

# Stops the cluster of BASE/pg at once (-m immediate), if it runs. Safe to call twice.
ottr_pg_stop() {
	local dir=$1/pg bindir pid
	[[ -f $dir/data/postmaster.pid ]] || return 0
	bindir=$(ottr_pg_bindir) || return 1
	if ottr_as_pg_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop \
		>/dev/null 2>&1; then
		return 0
	fi
	# pg_ctl could not stop it: signal the postmaster named in the pid file, if it is ours.
	pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null) || return 0
	if [[ $pid =~ ^[0-9]+$ ]] && grep -qF -- "$dir/data" "/proc/$pid/cmdline" 2>/dev/null; then
		kill -QUIT "$pid" 2>/dev/null || true
	fi
}

# --- OpenSSH sshd -----------------------------------------------------------------------------

# Runs the OpenSSH sftp client with the test key against the throwaway sshd, host key checked
# against its known_hosts: ottr_sftp SSHD_DIR [SFTP-ARGS...] (e.g. -b BATCHFILE).
ottr_sftp() {
	local dir=$1
	shift
	local port
	port=$(<"$dir/port")
	sftp -F /dev/null -P "$port" -i "$dir/id_ed25519" \
		-o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
		-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$dir/known_hosts" \
		-o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o LogLevel=ERROR \
		"$@" "$(<"$dir/user")@127.0.0.1"
}

# Writes SSHD_DIR/sshd_config for port PORT and the sftp root ROOT.
ottr_sshd_write_config() {
	local dir=$1 port=$2 root=$3 user
	user=$(<"$dir/user")
	printf '%s\n' "$port" >"$dir/port"
	cat >"$dir/sshd_config" <<-EOF
		# ottrecon throwaway test sshd (tools/lib/env.sh): key-only sftp on 127.0.0.1
		ListenAddress 127.0.0.1
		Port $port
		HostKey $dir/ssh_host_ed25519_key
		HostKey $dir/ssh_host_ecdsa_key
		HostKey $dir/ssh_host_rsa_key
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/authorized_keys
		AuthenticationMethods publickey
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		AllowUsers $user
		StrictModes no
		UsePAM no
		UseDNS no
		PrintMotd no
		PermitTTY no
		X11Forwarding no
		AllowTcpForwarding no
		AllowAgentForwarding no
		MaxStartups 64
		MaxSessions 64
		LogLevel VERBOSE
		Subsystem sftp internal-sftp
		ForceCommand internal-sftp -d $root
	EOF
}

# Starts the sshd configured in SSHD_DIR (daemon mode, log SSHD_DIR/sshd.log) and waits until
# the test key can open an sftp session. Returns 2 when the port could not be bound.
ottr_sshd_launch() {
	local dir=$1 pid i
	if ottr_is_root; then
		mkdir -p /run/sshd && chmod 0755 /run/sshd # privilege separation dir
	fi
	if ! "$OTTR_SSHD_BIN" -t -f "$dir/sshd_config" 2>"$dir/sshd-t.log"; then
		ottr_err "sshd rejects its configuration $dir/sshd_config"
		ottr_tail_log "$dir/sshd-t.log"
		return 1
	fi
	rm -f "$dir/sshd.pid"
	: >"$dir/sshd.log"
	"$OTTR_SSHD_BIN" -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 || {
		ottr_err "sshd did not start"
		ottr_tail_log "$dir/sshd.log"
		return 1
	}
	# sshd forks into the background and writes its pid file once it listens.
	for ((i = 0; i < 100; i++)); do
		[[ -s $dir/sshd.pid ]] && break
		if grep -qE 'Cannot bind|Address already in use' "$dir/sshd.log"; then
			return 2
		fi
		if grep -q 'fatal' "$dir/sshd.log"; then
			break
		fi
		sleep 0.1
	done
	pid=$(cat "$dir/sshd.pid" 2>/dev/null || true)
	if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
		ottr_err "sshd did not come up on port $(<"$dir/port")"
		ottr_tail_log "$dir/sshd.log"
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		if ottr_sftp "$dir" -b - <<<'pwd' >"$dir/login-check.log" 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	ottr_err "sshd runs (pid $pid) but the test key cannot open an sftp session"
	ottr_tail_log "$dir/login-check.log" 10
	ottr_tail_log "$dir/sshd.log"
	return 1
}

# Starts a throwaway OpenSSH sshd on 127.0.0.1 at a free port, in BASE/sshd (config, host keys,
# user key, authorized_keys, known_hosts, pid file, log); sftp users land in BASE/sftp.
# Exports OTTRECON_TEST_SFTP_{HOST,PORT,USER,KEY,KNOWN_HOSTS,ROOT} and OTTRECON_TEST_SSHD_DIR.
ottr_sshd_start() {
	local dir=$1/sshd root=$1/sftp port t tries rc
	if [[ ! -x $OTTR_SSHD_BIN ]]; then
		ottr_err "$OTTR_SSHD_BIN not found (package openssh-server)"
		return 1
	fi
	mkdir -p "$dir" "$root"
	chmod 0700 "$dir"
	id -un >"$dir/user"
	ottr_info "keys: host ed25519, ecdsa, rsa; user ed25519 in $dir"
	for t in ed25519 ecdsa rsa; do
		ssh-keygen -q -t "$t" -N '' -C "ottrecon-test-host" -f "$dir/ssh_host_${t}_key" \
			</dev/null || { ottr_err "ssh-keygen -t $t failed"; return 1; }
	done
	ssh-keygen -q -t ed25519 -N '' -C "ottrecon-test-user" -f "$dir/id_ed25519" </dev/null ||
		{ ottr_err "ssh-keygen (user key) failed"; return 1; }
	chmod 0600 "$dir/id_ed25519"
	cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
	# A control script for tests and for tools/demo --keep: sshdctl start|stop|restart|status.
	cat >"$dir/sshdctl" <<-EOF
		#!/usr/bin/env bash
		# Controls the throwaway sshd of this directory: sshdctl start|stop|restart|status
		set -euo pipefail
		source '$OTTR_ENV_SH'
		ottr_sshd_ctl '$dir' "\${1:-status}"
	EOF
	chmod 0755 "$dir/sshdctl"
	for ((tries = 0; tries < 5; tries++)); do
		port=$(ottr_free_port) || return 1
		ottr_sshd_write_config "$dir" "$port" "$root"
		# known_hosts is written from our own host keys: nothing is learnt from the network.
		: >"$dir/known_hosts"
		for t in ed25519 ecdsa rsa; do
			printf '[127.0.0.1]:%s %s\n' "$port" \
				"$(cut -d' ' -f1,2 "$dir/ssh_host_${t}_key.pub")" >>"$dir/known_hosts"
		done
		rc=0
		ottr_sshd_launch "$dir" || rc=$?
		((rc == 2)) && { ottr_info "port $port was taken; trying another"; continue; }
		((rc == 0)) || return 1
		export OTTRECON_TEST_SFTP_HOST=127.0.0.1
		export OTTRECON_TEST_SFTP_PORT=$port
		export OTTRECON_TEST_SFTP_USER
		OTTRECON_TEST_SFTP_USER=$(<"$dir/user")
		export OTTRECON_TEST_SFTP_KEY=$dir/id_ed25519
		export OTTRECON_TEST_SFTP_KNOWN_HOSTS=$dir/known_hosts
		export OTTRECON_TEST_SFTP_ROOT=$root
		export OTTRECON_TEST_SSHD_DIR=$dir
		ottr_info "sshd is up on 127.0.0.1:$port (pid $(<"$dir/sshd.pid")," \
			"user $OTTRECON_TEST_SFTP_USER, sftp root $root)"
		return 0
	done
	ottr_err "could not bind sshd to a free port after $tries tries"
	return 1
}

# Prints the pid of the sshd of SSHD_DIR when it runs (checked against /proc, so that a stale
# pid file never names another process); returns 1 when it does not run.
ottr_sshd_pid() {
	local dir=$1 pid
	pid=$(cat "$dir/sshd.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	grep -qF -- "$dir/sshd_config" "/proc/$pid/cmdline" 2>/dev/null || return 1
	printf '%s\n' "$pid"
}

# Stops the sshd of SSHD_DIR (SIGTERM, then SIGKILL after 5 s). Safe to call twice.
ottr_sshd_stop() {
	local dir=$1 pid i
	pid=$(ottr_sshd_pid "$dir") || { rm -f "$dir/sshd.pid"; return 0; }
	kill -TERM "$pid" 2>/dev/null || true
	# (a process that exited but is not reaped yet has an empty cmdline: ottr_sshd_pid fails)
	for ((i = 0; i < 50; i++)); do
		ottr_sshd_pid "$dir" >/dev/null || break
		sleep 0.05
	done
	if ottr_sshd_pid "$dir" >/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
	rm -f "$dir/sshd.pid"
	return 0
}

# Stops and starts the sshd of SSHD_DIR again, on the same port with the same keys.
ottr_sshd_restart() {
	local dir=$1 rc=0
	ottr_sshd_stop "$dir"
	ottr_sshd_launch "$dir" || rc=$?
	((rc == 0)) || ottr_err "sshd did not restart on port $(<"$dir/port")"
	return "$rc"
}

# sshdctl: ottr_sshd_ctl SSHD_DIR start|stop|restart|status
ottr_sshd_ctl() {
	local dir=$1 pid
	case $2 in
	start)
		if ottr_sshd_pid "$dir" >/dev/null; then
			echo "sshd already runs"
		else
			ottr_sshd_launch "$dir"
		fi
		;;
	stop) ottr_sshd_stop "$dir" ;;
	restart) ottr_sshd_restart "$dir" ;;
	status)
		if pid=$(ottr_sshd_pid "$dir"); then
			echo "sshd runs: pid $pid, 127.0.0.1:$(<"$dir/port")"
		else
			echo "sshd is stopped"
			return 3
		fi
		;;
	*)
		echo "usage: sshdctl start|stop|restart|status" >&2
		return 64
		;;
	esac
}

# --- meson test results -----------------------------------------------------------------------

# Reads meson testlog.json files (one JSON object per line, with "result": OK, FAIL, SKIP,
# TIMEOUT, ERROR, ...) and prints "PASSED FAILED SKIPPED". Missing files count nothing.
ottr_count_results() {
	local file line passed=0 failed=0 skipped=0
	local re='"result": *"([A-Z_]+)"'
	for file in "$@"; do
		[[ -f $file ]] || continue
		while IFS= read -r line || [[ -n $line ]]; do
			[[ $line =~ $re ]] || continue
			case ${BASH_REMATCH[1]} in
			OK | EXPECTEDFAIL) passed=$((passed + 1)) ;;
			SKIP) skipped=$((skipped + 1)) ;;
			*) failed=$((failed + 1)) ;;
			esac
		done <"$file"
	done
	printf '%s %s %s\n' "$passed" "$failed" "$skipped"
}
