#!/usr/bin/env bash
# Installs the Debian packages the test suites use (real Heartbeat, Apache,
# ipvsadm, qemu for the IPVS kernel guest...). Idempotent: does nothing when
# everything is present. Needs root and apt; otherwise it says what is
# missing and the suites that need it report themselves as skipped.
set -euo pipefail

PACKAGES=(iproute2 ipvsadm heartbeat ldirectord apache2 qemu-system-x86 busybox-static tcpdump)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "setup-system: missing Debian packages: ${missing[*]} (not root or no apt-get; install them by hand)" >&2
  exit 0
fi
echo "setup-system: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
