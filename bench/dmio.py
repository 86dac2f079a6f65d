# dmio.py: kernel access for the benchmarks, without starting processes:
# dm target messages (@stats_list) by ioctl, FIEMAP, fallocate, /proc figures.
"""Helpers used by bench/bench.py inside the UML guest (Python 3 stdlib).

Starting a process is slow in UML (ptrace), so everything a measuring loop
needs is done here with ioctl/ctypes from the one long-lived Python process.
"""
import ctypes
import ctypes.util
import fcntl
import os
import re
import struct
import time

# ----------------------------------------------------------- dm ioctls

DM_IOCTL_SIZE = 312                     # sizeof(struct dm_ioctl)
DM_TARGET_MSG = (3 << 30) | (DM_IOCTL_SIZE << 16) | (0xFD << 8) | 14
DM_BUFFER_FULL_FLAG = 1 << 8
DM_DATA_OUT_FLAG = 1 << 16
_HDR = struct.Struct("=3IIIIiIII Q128s129s7s")  # 312 bytes
assert _HDR.size == DM_IOCTL_SIZE


class DmControl:
    """One open /dev/mapper/control; msg() sends a target message."""

    def __init__(self, name):
        self.name = name.encode()
        self.fd = os.open("/dev/mapper/control", os.O_RDWR | os.O_CLOEXEC)
        self.bufsize = 1 << 16
        self.calls = 0

    def msg(self, text):
        """Send TEXT to sector 0 of the device; return the output text."""
        body = struct.pack("=Q", 0) + text.encode() + b"\0"
        while True:
            buf = bytearray(self.bufsize)
            hdr = _HDR.pack(4, 0, 0, self.bufsize, DM_IOCTL_SIZE, 0, 0, 0,
                            0, 0, 0, self.name, b"", b"")
            buf[:DM_IOCTL_SIZE] = hdr
            buf[DM_IOCTL_SIZE:DM_IOCTL_SIZE + len(body)] = body
            fcntl.ioctl(self.fd, DM_TARGET_MSG, buf, True)
            self.calls += 1
            f = _HDR.unpack_from(buf)
            flags, start = f[7], f[4]
            if flags & DM_BUFFER_FULL_FLAG:
                self.bufsize *= 4
                continue
            if not flags & DM_DATA_OUT_FLAG:
                return ""
            end = buf.index(0, start)
            return buf[start:end].decode("utf-8", "replace")

    def stats_list(self):
        return self.msg("@stats_list")

    def close(self):
        os.close(self.fd)


_ROW = re.compile(r"^(\d+): (\d+)\+(\d+) (\d+) (\S+) (.*)$")


def parse_groups(text):
    """@stats_list text -> {alias: [(start, len), ...] merged} per group.

    The members of a group come from its leader's DMS_GROUP descriptor
    (DMS_GROUP=alias:0-3,5#- or DMS_GROUP="alias":0-3#-); adjacent member
    regions are merged, as the kernel tests' stats.awk does."""
    regions, leaders = {}, []
    for line in text.splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        rid = int(m.group(1))
        regions[rid] = (int(m.group(2)), int(m.group(3)))
        aux = m.group(6)
        p = aux.find("DMS_GROUP=")
        if p >= 0:
            leaders.append((rid, aux[p + 10:]))
    groups = {}
    for rid, d in leaders:
        if d.startswith('"'):
            q = d.find('"', 1)
            alias, rest = d[1:q], d[q + 1:]
        else:
            m = re.search(r":[0-9,-]*(#|$)", d)
            if not m:
                continue
            alias, rest = d[:m.start()], d[m.start():]
        m = re.match(r":([0-9,-]*)", rest)
        if not m:
            continue
        members = []
        for part in m.group(1).split(","):
            if not part:
                continue
            a, _, b = part.partition("-")
            members.extend(range(int(a), int(b or a) + 1))
        ext = [regions[i] for i in members if i in regions]
        if len(ext) != len(members):
            ext = None                   # a member is missing: no match
        else:
            ext = merge(ext)
        groups[alias] = (rid, ext)
    return groups


def group_of(text, alias):
    """Merged extents of the group whose alias is ALIAS in @stats_list
    TEXT (None if there is none or a member is missing): two regex scans
    of the text instead of parsing every row."""
    m = re.search(r'^(\d+): \d+\+\d+ \d+ \S+ [^\n]*?DMS_GROUP="?%s"?:'
                  r'([0-9,-]*)' % re.escape(alias), text, re.M)
    if not m:
        return None
    ids = set()
    for part in m.group(2).split(","):
        if part:
            a, _, b = part.partition("-")
            ids.update(range(int(a), int(b or a) + 1))
    if not ids:
        return None
    rx = re.compile(r"^(%s): (\d+)\+(\d+) " % "|".join(map(str, sorted(ids))),
                    re.M)
    ext = {int(x.group(1)): (int(x.group(2)), int(x.group(3)))
           for x in rx.finditer(text)}
    if len(ext) != len(ids):
        return None
    return merge(ext.values())


def merge(ext):
    """Sort (start, len) pairs and merge the adjacent or overlapping."""
    out = []
    for s, n in sorted(ext):
        if out and s <= out[-1][0] + out[-1][1]:
            ps, pn = out[-1]
            out[-1] = (ps, max(pn, s + n - ps))
        else:
            out.append((s, n))
    return out

# ---------------------------------------------------------------- FIEMAP

FS_IOC_FIEMAP = 0xC020660B
FIEMAP_FLAG_SYNC = 1
_EXCLUDE = 0x2 | 0x4 | 0x100 | 0x200   # UNKNOWN DELALLOC DATA_INLINE NOT_ALIGNED
_FM = struct.Struct("=QQIIII")
_FE = struct.Struct("=QQQQQIIII")


def fiemap(path_or_fd, max_extents=256):
    """Physical extents of a file as merged (start, len) in 512 B sectors,
    as the daemon plans them (unwritten extents count)."""
    fd = os.open(path_or_fd, os.O_RDONLY) if isinstance(path_or_fd, str) \
        else path_or_fd
    try:
        out, start = [], 0
        while True:
            buf = bytearray(_FM.size + _FE.size * max_extents)
            _FM.pack_into(buf, 0, start, (1 << 64) - 1 - start, FIEMAP_FLAG_SYNC,
                          0, max_extents, 0)
            fcntl.ioctl(fd, FS_IOC_FIEMAP, buf, True)
            n = _FM.unpack_from(buf)[3]
            last = False
            for i in range(n):
                lo, ph, ln, _, _, fl, _, _, _ = _FE.unpack_from(
                    buf, _FM.size + i * _FE.size)
                start = lo + ln
                if fl & 1:
                    last = True
                if not fl & _EXCLUDE and ln >= 512:
                    out.append((ph >> 9, ln >> 9))
            if n == 0 or last:
                break
        return merge(out)
    finally:
        if isinstance(path_or_fd, str):
            os.close(fd)

def fiemap_timed(fds, max_extents=32):
    """Seconds per FIEMAP over the open FDS, as the daemon reads a layout
    (one call of MAX_EXTENTS, without FIEMAP_FLAG_SYNC): the mean of one
    ioctl each, its buffer packed before the clock starts."""
    if not fds:
        return None
    bufs = []
    for _ in fds:
        b = bytearray(_FM.size + _FE.size * max_extents)
        _FM.pack_into(b, 0, 0, (1 << 64) - 1, 0, 0, max_extents, 0)
        bufs.append(b)
    t0 = time.monotonic()
    for fd, b in zip(fds, bufs):
        fcntl.ioctl(fd, FS_IOC_FIEMAP, b, True)
    return (time.monotonic() - t0) / len(fds)

# ------------------------------------------------------------- fallocate

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6",
                    use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong,
                            ctypes.c_longlong]
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2


def fallocate(fd, mode, off, length):
    if _libc.fallocate(fd, mode, off, length) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

# ----------------------------------------------------------- /proc figures

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    """utime + stime of PID in clock ticks (None if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def cpu_split(pid):
    """(utime, stime) of PID in clock ticks (None if gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12])


def pss_kib(pid):
    """PSS of PID in KiB from smaps_rollup (None if gone)."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def procs_named(comm):
    """PIDs of live (non-zombie) processes whose comm is COMM."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        l, r = s.index("("), s.rindex(")")
        if s[l + 1:r] == comm and s[r + 2] != "Z":
            out.append(int(d))
    return out
