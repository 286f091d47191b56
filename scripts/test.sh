#!/usr/bin/env bash
# The whole test suite, as README's quick start gives it: installs what the tests need
# (Debian packages through apt-get when run as root and something is missing), then runs
# formatting, lints and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the integration tests drive: real peers and real clients.
PACKAGES=(postfix pflogsumm swaks xz-utils python3 dovecot-imapd dovecot-pop3d fetchmail isync mutt openssl dnsmasq-base python3-dkim python3-nacl python3-spf opendkim-tools iproute2 clamav-daemon clamav-testfiles qpdf rspamd p7zip-full genisoimage libarchive-tools dovecot-sieve sieve-connect)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian packages: ${missing[*]}"
    # Postfix asks how to configure itself; the tests run their own private instances.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "== missing Debian packages: ${missing[*]} (run as root to install them, or set MAILWARD_SKIP_PEERS=1)"
  fi
fi

# One clean build, not an edited tree: incremental state would only take disk (CI's is
# small; see the [profile.dev] note in Cargo.toml).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
# The fuzz targets (cargo-fuzz, run by hand on nightly) must keep compiling as the crates
# change: checked here on stable, in their own target directory.
echo "== fuzz targets compile"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/fuzz-check" \
    cargo check --manifest-path fuzz/Cargo.toml --bins --locked
