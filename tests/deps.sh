#!/bin/sh
# Install the Debian packages the build and the tests need, if missing.
# CI starts from a fresh machine: make check runs this first.
set -eu
PKGS="build-essential pkg-config libdevmapper-dev libev-dev libcjson-dev
libcmocka-dev dmsetup user-mode-linux kmod e2fsprogs xfsprogs util-linux
mandoc socat jq valgrind python3 procps systemd gnuplot-nox
clang libclang-rt-14-dev prometheus prometheus-node-exporter
debhelper dpkg-dev lintian debootstrap"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: not root: install these packages:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
