#!/bin/sh
# demo.sh: boot a User-Mode Linux kernel with a real device-mapper device
# and show dmfilemap at work (make demo). The guest's console is this
# terminal; the guest runs this machine's binaries (its root is ours).
set -eu
BUILD=build
[ "${1:-}" = --build ] && BUILD=$2
BUILD=$(realpath "$BUILD")
KT=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dmf-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
truncate -s 512M "$TMP/disk.img"
cat > "$TMP/init" <<EOT
#!/bin/sh
exec /bin/sh "$KT/demo-guest.sh" "$BUILD" "$TMP"
EOT
chmod +x "$TMP/init"
echo "demo: booting User-Mode Linux (about 5 s)..."
timeout 300 linux.uml mem=768M quiet ubd0="$TMP/disk.img" rootfstype=hostfs \
	rootflags=/ rw init="$TMP/init" con=null con0=null,fd:1 \
	umid="dmf-demo-$$" </dev/null || true
[ -f "$TMP/ok" ] || { echo "demo: the guest did not finish" >&2; exit 1; }
