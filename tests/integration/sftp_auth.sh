#!/usr/bin/env bash
# sftp_auth.sh: strict host keys (unknown, changed, hashed, [host]:port, key-type bits,
# --accept-new-hostkey) and key authentication (ed25519, ECDSA with a passphrase, RSA, mode 0644,
# wrong key) against the throwaway sshd (SPEC §7).
# shellcheck source=tests/integration/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/sftp_lib.sh
source "$(dirname "$0")/sftp_lib.sh"
INBOX=$SPOOL/inbox
PORT=$OTTRECON_TEST_SFTP_PORT
head -c 4096 /dev/urandom >"$REMOTE_IN/activations_20261201.csv"
FP_ED=$(host_fingerprint ed25519)
FP_EC=$(host_fingerprint ecdsa)

# Runs a pull that must be refused with CODE and fetch nothing.
refused() {
	local code=$1
	shift
	assert_exit "$code" "$OTTRECON_BIN" pull "$@"
	[[ ! -e $INBOX/activations_20261201.csv ]] || fail "a refused connection fetched a file"
}

note "unknown host key (empty known_hosts): 69 with the SHA256 fingerprint, no retry"
: >"$WORK/kh_empty"
set_sftp known_hosts "$WORK/kh_empty"
set_sftp retries 2
refused 69
assert_file_contains "$ERR" "host key of [127.0.0.1]:$PORT is not known: it offered ssh-ed25519 $FP_ED"
assert_file_contains "$ERR" "refusing to connect"
assert_file_not_contains "$ERR" "attempt 1 of"
note "a known_hosts that does not exist reads as empty"
set_sftp known_hosts "$WORK/kh_missing"
refused 69
assert_file_contains "$ERR" "(the file does not exist)"

note "changed host key ([127.0.0.1]:PORT known with other keys of every type): 69"
for t in ed25519 ecdsa rsa; do
	ssh-keygen -q -t "$t" -N '' -f "$WORK/other_$t" </dev/null
	printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$WORK/other_$t.pub")"
done >"$WORK/kh_changed"
cp "$WORK/kh_changed" "$WORK/kh_changed.orig"
set_sftp known_hosts "$WORK/kh_changed"
refused 69
assert_file_contains "$ERR" "host key of [127.0.0.1]:$PORT has CHANGED: it offered ssh-ed25519 $FP_ED"
note "--accept-new-hostkey never accepts a changed key"
refused 69 --accept-new-hostkey
assert_file_contains "$ERR" "has CHANGED"
cmp -s "$WORK/kh_changed" "$WORK/kh_changed.orig" || fail "known_hosts was changed"
note "another key for the plain host name (port 22) and the right one for [host]:port: accepted"
{
	printf '127.0.0.1 %s\n' "$(cut -d' ' -f1,2 "$WORK/other_ed25519.pub")"
	printf '[127.0.0.1]:%s %s\n' "$PORT" \
		"$(cut -d' ' -f1,2 "$OTTRECON_TEST_SSHD_DIR/ssh_host_ecdsa_key.pub")"
} >"$WORK/kh_port"
set_sftp known_hosts "$WORK/kh_port"
assert_exit 0 "$OTTRECON_BIN" -v pull --dry-run
assert_file_contains "$ERR" "matches known_hosts: ecdsa-sha2-nistp256 $FP_EC"

assert_file_contains "$ERR" "host key ecdsa-sha2-nistp256"

note "key-type bits: a host known only by its ed25519 key is asked for that key and accepted"
note "(libssh2's own preference is ECDSA, which would read as an unknown key)"
grep ssh-ed25519 "$OTTRECON_TEST_SFTP_KNOWN_HOSTS" >"$WORK/kh_ed"
set_sftp known_hosts "$WORK/kh_ed"
assert_exit 0 "$OTTRECON_BIN" -v pull --dry-run
assert_file_contains "$ERR" "matches known_hosts: ssh-ed25519 $FP_ED"
assert_file_contains "$ERR" "host key ssh-ed25519)"

note "an RSA-only known_hosts entry: refused with the libssh2 1.10 explanation"
grep ssh-rsa "$OTTRECON_TEST_SFTP_KNOWN_HOSTS" >"$WORK/kh_rsa"
set_sftp known_hosts "$WORK/kh_rsa"
refused 69
assert_file_contains "$ERR" "known_hosts has only an RSA key for [127.0.0.1]:$PORT"

note "a hashed known_hosts (ssh-keygen -H) is accepted"
cp "$OTTRECON_TEST_SFTP_KNOWN_HOSTS" "$WORK/kh_hashed"
ssh-keygen -q -H -f "$WORK/kh_hashed" >/dev/null 2>&1
rm -f "$WORK/kh_hashed.old"
[[ $(head -c 3 "$WORK/kh_hashed") == '|1|' ]] || fail "ssh-keygen -H did not hash $WORK/kh_hashed"
assert_file_not_contains "$WORK/kh_hashed" "127.0.0.1"
set_sftp known_hosts "$WORK/kh_hashed"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_eq "fetch activations_20261201.csv 4096" "$(cat "$OUT")" "listed through a hashed entry"

note "--accept-new-hostkey adds an unknown host's key, then it is known"
: >"$WORK/kh_new"
set_sftp known_hosts "$WORK/kh_new"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run --accept-new-hostkey
assert_file_contains "$ERR" "added the host key of [127.0.0.1]:$PORT to $WORK/kh_new: ssh-ed25519 $FP_ED"
assert_eq "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$OTTRECON_TEST_SSHD_DIR/ssh_host_ed25519_key.pub")" \
	"$(cat "$WORK/kh_new")" "the line added to known_hosts"
ssh-keygen -F "[127.0.0.1]:$PORT" -f "$WORK/kh_new" >/dev/null || fail "OpenSSH cannot read the line"
assert_exit 0 "$OTTRECON_BIN" pull --dry-run
assert_file_not_contains "$ERR" "added the host key"
set_sftp known_hosts "$OTTRECON_TEST_SFTP_KNOWN_HOSTS"

note "a private key readable by group or others is refused (78), whatever the server"
cp "$OTTRECON_TEST_SFTP_KEY" "$WORK/key644"
chmod 0644 "$WORK/key644"
set_sftp private_key "$WORK/key644"
refused 78
assert_file_contains "$ERR" "private key '$WORK/key644' is accessible by group or others (mode 0644): refused"
chmod 0640 "$WORK/key644"
refused 78
set_sftp private_key "$WORK/no_such_key"
refused 78
assert_file_contains "$ERR" "cannot read private key '$WORK/no_such_key'"

note "a key the server does not know is refused (69), without retries"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/wrong" </dev/null
set_sftp private_key "$WORK/wrong"
refused 69
assert_file_contains "$ERR" "refused key '$WORK/wrong' for user '$OTTRECON_TEST_SFTP_USER'"
assert_file_not_contains "$ERR" "attempt 1 of"

note "an ECDSA key with a passphrase from passphrase_file; the passphrase is never logged"
PASS="correct horse $RANDOM battery"
ssh-keygen -q -t ecdsa -N "$PASS" -f "$WORK/ec" </dev/null
cat "$WORK/ec.pub" >>"$AUTHORIZED_KEYS"
printf '%s\n' "$PASS" >"$WORK/ec.pass"
chmod 0600 "$WORK/ec.pass"
set_sftp private_key "$WORK/ec"
add_sftp passphrase_file "$WORK/ec.pass"
assert_exit 0 "$OTTRECON_BIN" -v pull
assert_eq "$(sha "$REMOTE_IN/activations_20261201.csv")" "$(sha "$INBOX/activations_20261201.csv")" \
	"fetched with the ECDSA key"
assert_file_not_contains "$ERR" "$PASS"
rm "$INBOX/activations_20261201.csv"
printf 'not the passphrase\n' >"$WORK/ec.pass"
refused 78 -v
assert_file_contains "$ERR" "cannot use private key '$WORK/ec'"
assert_file_not_contains "$ERR" "not the passphrase"
printf '%s\n' "$PASS" >"$WORK/ec.pass"
chmod 0644 "$WORK/ec.pass"
refused 78
assert_file_contains "$ERR" "passphrase file '$WORK/ec.pass' is accessible by group or others"
sed -i '/passphrase_file/d' "$CONFIG"

note "RSA: OpenSSH 9 refuses libssh2 1.10's ssh-rsa signatures (69, with a hint)..."
ssh-keygen -q -t rsa -b 3072 -N '' -f "$WORK/rsa" </dev/null
cat "$WORK/rsa.pub" >>"$AUTHORIZED_KEYS"
set_sftp private_key "$WORK/rsa"
refused 69
assert_file_contains "$ERR" "libssh2 1.10 signs RSA keys with ssh-rsa (SHA-1)"

note "... and a server that still accepts ssh-rsa lets the RSA key in"
RSA_DIR=$WORK/sshd_rsa
mkdir -p "$RSA_DIR"
RSA_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|^Port .*|Port $RSA_PORT|" -e "s|^PidFile .*|PidFile $RSA_DIR/sshd.pid|" \
	"$OTTRECON_TEST_SSHD_DIR/sshd_config" >"$RSA_DIR/sshd_config"
echo "PubkeyAcceptedAlgorithms +ssh-rsa" >>"$RSA_DIR/sshd_config"
/usr/sbin/sshd -f "$RSA_DIR/sshd_config" -E "$RSA_DIR/sshd.log" </dev/null >/dev/null 2>&1 ||
	fail "a second sshd (accepting ssh-rsa) did not start: $(tail -n 5 "$RSA_DIR/sshd.log")"
for ((i = 0; i < 100; i++)); do
	[[ -s $RSA_DIR/sshd.pid ]] && break
	sleep 0.05
done
kill_later "$(cat "$RSA_DIR/sshd.pid")"
sed "s|^\[127.0.0.1\]:$PORT |[127.0.0.1]:$RSA_PORT |" "$OTTRECON_TEST_SFTP_KNOWN_HOSTS" >"$WORK/kh_rsa_port"
set_sftp port "$RSA_PORT"
set_sftp known_hosts "$WORK/kh_rsa_port"
assert_exit 0 "$OTTRECON_BIN" pull
assert_eq "$(sha "$REMOTE_IN/activations_20261201.csv")" "$(sha "$INBOX/activations_20261201.csv")" \
	"fetched with the RSA key"
