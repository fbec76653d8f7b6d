#!/usr/bin/env bash
# Installs the Debian packages the test suites use (real Heartbeat, Apache,
# ipvsadm, qemu for the IPVS kernel guest...) and builds the lab guest's
# kernel image (Debian's linux-image-amd64, downloaded with apt-get download
# and unpacked into ~/.cache/lvs-ha/guest, never installed on this machine).
# Idempotent: does nothing when everything is present. Needs root and apt;
# otherwise it says what is missing and the suites that need it report
# themselves as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(iproute2 ipvsadm heartbeat ldirectord apache2 qemu-system-x86 busybox-static tcpdump curl util-linux procps iputils-ping kmod nftables dnsmasq-base vsftpd exim4-daemon-light dovecot-imapd dovecot-pop3d slapd ldap-utils mariadb-server postgresql freeradius kamailio tinyproxy nginx leafnode socat rsyslog prometheus bird2 chromium)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "setup-system: missing Debian packages: ${missing[*]} (not root or no apt-get; install them by hand)" >&2
  else
    echo "setup-system: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Servers are installed for the tests to start their own instances (own
    # config, own namespace): keep their packages from starting system-wide
    # daemons on this machine (policy-rc.d 101 = "action forbidden").
    policy=
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy=1
    fi
    trap '[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
    policy=
  fi
fi

# The lab guest: kernel + modules + busybox initramfs, cached (a few seconds
# and ~70 MB of download the first time). Needs the workspace installed.
if [ "$(id -u)" = 0 ] && [ -x packages/lab/node_modules/.bin/tsx ]; then
  if ! (cd packages/lab && node --import tsx scripts/prepare-guest.ts); then
    echo "setup-system: retrying the guest image after apt-get update" >&2
    apt-get update -qq || true
    (cd packages/lab && node --import tsx scripts/prepare-guest.ts) || echo "setup-system: no lab guest image; guest suites will say why" >&2
  fi
elif [ "$(id -u)" != 0 ]; then
  echo "setup-system: not root: the lab guest image is not built (guest suites will be skipped)" >&2
else
  echo "setup-system: run 'pnpm install' first to build the lab guest image" >&2
fi
