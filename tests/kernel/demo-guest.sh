#!/bin/sh
# demo-guest.sh: the demo, run inside the UML guest as init by demo.sh.
BUILD=$1 TMP=$2
PATH=$BUILD:/usr/sbin:/usr/bin:/sbin:/bin
export PATH DM_DISABLE_UDEV=1 LANG=C
mount -t proc proc /proc; mount -t sysfs sys /sys
mountpoint -q /dev || mount -t devtmpfs dev /dev
mount -t tmpfs run /run
export DMFILEMAP_SUPERVISORD=$BUILD/dmfilemap-supervisord
M=/mnt/demo

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; sleep 1; }
run() { printf '\033[36m# %s\033[0m\n' "$*"; sh -c "$*"; }
regions() { run "dmsetup message vol 0 @stats_list"; }

insmod /usr/lib/uml/modules/$(uname -r)/kernel/drivers/md/dm-mod.ko
step "A device-mapper device with ext4, in a UML kernel ($(uname -r))"
run "dmsetup create vol --table \"0 \$(blockdev --getsz /dev/ubda) linear /dev/ubda 0\""
run "mkfs.ext4 -q /dev/mapper/vol && mkdir -p $M && mount /dev/mapper/vol $M"
run "dd if=/dev/urandom of=$M/vm1.img bs=1M count=2 status=none && sync"

step "dmstats create --filemap: Debian's dmstats execs our dmfilemapd shim, which starts the supervisor"
run "dmstats create --filemap $M/vm1.img --alias vm1"
sleep 1
run "dmfilemapctl list"
regions
run "dmfilemapctl watch > /run/events.txt 2>&1 &"

step "A second file, created and monitored by dmfilemapctl (follow-path)"
run "dd if=/dev/urandom of=$M/db.data bs=64k count=4 status=none && sync"
run "dmfilemapctl add $M/db.data --create --alias 'data base' --follow path"

step "vm1.img grows: within a second its group matches the new extents again"
run "dd if=/dev/urandom of=$M/spacer bs=1M count=1 status=none && sync"
run "dd if=/dev/urandom of=$M/vm1.img bs=1M count=1 seek=2 conv=notrunc status=none"
sleep 1
run "filefrag -b512 -v $M/vm1.img | sed -n '4,\$p'"
regions

step "vm1.img is renamed: follow-inode keeps monitoring it"
run "mv $M/vm1.img $M/vm1-renamed.img"
sleep 1
run "dmfilemapctl list"

step "db.data is replaced by a new file renamed over its path: remapped"
run "dd if=/dev/urandom of=$M/db.new bs=64k count=8 status=none && sync && mv $M/db.new $M/db.data"
sleep 1
run "dmfilemapctl list"
regions

step "vm1-renamed.img is unlinked while nothing else holds it: its monitor ends"
run "rm $M/vm1-renamed.img"
sleep 2
run "dmfilemapctl list"

step "The events, as dmfilemapctl watch printed them"
run "cat /run/events.txt"

step "What it cost: dm ioctls sent, by kind"
run "dmfilemapctl info"
pkill -TERM -f dmfilemap-supervisord; sleep 1
echo; echo "demo: done."
touch "$TMP/ok"
sync
halt -f
