#!/usr/bin/env python3
# fake-systemd.py: a stand-in for systemd in the UML guest (which has none): a socket
# unit, a service's file descriptor store, and starts of the supervisor as systemd does them.
"""usage: fake-systemd.py DIR SOCKET STATE

Listens on SOCKET (AF_UNIX stream, mode 0660) as dmfilemap-supervisord.socket
does: a connection while no supervisor runs starts one. Keeps a file
descriptor store as systemd does, fed on DIR/notify (the NOTIFY_SOCKET):
FDSTORE=1 with FDNAME=N adds the fds passed under the name N unless the very
same open file is stored already (a name may have several entries);
FDSTOREREMOVE=1 with FDNAME=N closes every entry named N. Commands, a line
each on the FIFO DIR/ctl, answered in DIR/reply as "N ok [DETAIL]" or
"N error: REASON" (N counts from 1):
  start  `dmfilemap-supervisord -f -v --socket SOCKET --state STATE`, started as
         systemd does: the listening socket as fd 3, the stored fds from 4 on,
         LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES and NOTIFY_SOCKET set
  kill   SIGKILL the supervisor, keep the store
  stop   SIGTERM the supervisor; fails unless it exits with status 0
  dump   write the store's names, sorted, one a line, to DIR/store
  quit   stop the supervisor if it runs, remove SOCKET, exit (so does SIGTERM)
"""
import fcntl, os, select, signal, socket, sys, time

SOCKET_NAME = "dmfilemap-supervisord.socket"


def say(msg):  # timestamped like the supervisor's log lines
    stamp = time.strftime("%H:%M:%S") + ".%03d" % (time.time() % 1 * 1000)
    print("%s fake-systemd: %s" % (stamp, msg), file=sys.stderr, flush=True)


def write(d, name, text):  # atomically
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))


def same_file(a, b):
    # the same open file description (systemd's same_fd() without kcmp)
    sa, sb = os.fstat(a), os.fstat(b)
    fa, fb = fcntl.fcntl(a, fcntl.F_GETFL), fcntl.fcntl(b, fcntl.F_GETFL)
    if (sa.st_dev, sa.st_ino, fa) != (sb.st_dev, sb.st_ino, fb):
        return False
    fcntl.fcntl(a, fcntl.F_SETFL, fa ^ os.O_NONBLOCK)
    same = fcntl.fcntl(b, fcntl.F_GETFL) != fb
    fcntl.fcntl(a, fcntl.F_SETFL, fa)
    return same


class Manager:
    def __init__(self, d, sock_path, state):
        self.dir, self.sock_path, self.state = d, sock_path, state
        self.store = []  # [name, fd], in the order stored
        self.pid = None
        self.notify_path = os.path.join(d, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.setblocking(False)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(sock_path)
        os.chmod(sock_path, 0o660)
        self.listener.listen(128)

    def drain(self):
        """Handle every notification queued on the NOTIFY_SOCKET."""
        while True:
            try:
                msg, fds, _, _ = socket.recv_fds(self.notify, 4096, 64)
            except BlockingIOError:
                return
            for fd in fds:  # recv_fds ignores MSG_CMSG_CLOEXEC: start() passes what it must
                os.set_inheritable(fd, False)
            fields = dict(l.split("=", 1) for l in msg.decode().split("\n") if "=" in l)
            name = fields.get("FDNAME", "stored")
            if fields.get("FDSTORE") == "1":
                for fd in fds:  # systemd keeps one entry per open file
                    if any(same_file(fd, s[1]) for s in self.store):
                        os.close(fd)
                    else:
                        self.store.append([name, fd])
                say("FDSTORE %s: %d fd(s); %d in the store" % (name, len(fds), len(self.store)))
                continue
            for fd in fds:
                os.close(fd)
            if fields.get("FDSTOREREMOVE") == "1":
                for s in [s for s in self.store if s[0] == name]:
                    os.close(s[1])
                    self.store.remove(s)
                say("FDSTOREREMOVE %s; %d in the store" % (name, len(self.store)))

    def start(self):
        if self.pid:
            return "error: the supervisor runs already (pid %d)" % self.pid
        self.drain()
        # all prepared before the fork: in UML a child's page faults are slow
        fds = [self.listener.fileno()] + [s[1] for s in self.store]
        # MANAGERPID: who holds the store, as a per-user systemd says
        env = dict(os.environ, LISTEN_FDS=str(len(fds)), NOTIFY_SOCKET=self.notify_path,
                   MANAGERPID=str(os.getpid()),
                   LISTEN_FDNAMES=":".join([SOCKET_NAME] + [s[0] for s in self.store]))
        argv = ["dmfilemap-supervisord", "-f", "-v", "--socket", self.sock_path,
                "--state", self.state]
        rd, wr = os.pipe()  # close-on-exec: EOF once the child has exec'd
        pid = os.fork()
        if pid == 0:
            # first out of the way of fds 3.. (and so is wr), then in place, inheritable
            *src, wr = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1000) for fd in fds + [wr]]
            for i, fd in enumerate(src):
                os.dup2(fd, 3 + i, inheritable=True)
            env["LISTEN_PID"] = str(os.getpid())
            try:
                os.execvpe(argv[0], argv, env)
            except OSError as e:
                os.write(wr, str(e).encode())
            os._exit(127)
        os.close(wr)
        err = os.read(rd, 512).decode()  # waits for the exec: the clock starts there
        os.close(rd)
        if err:
            os.waitpid(pid, 0)
            return "error: cannot run %s: %s" % (argv[0], err)
        self.pid = pid
        say("started the supervisor, pid %d, with %d stored fd(s)" % (pid, len(self.store)))
        return "ok %d" % pid

    def signal(self, sig, timeout):
        """Send sig to the supervisor, wait for it; its exit status."""
        if not self.pid:
            return None
        os.kill(self.pid, sig)
        for _ in range(timeout * 20):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                self.drain()  # what it sent before it died counts
                say("supervisor ended: status %d" % os.waitstatus_to_exitcode(status))
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self.pid = None
        return "still running %d s after the signal" % timeout

    def command(self, cmd):
        if cmd == "start":
            return self.start()
        if cmd in ("kill", "stop", "quit"):
            if cmd != "quit" and not self.pid:
                return "error: no supervisor runs"
            sig = signal.SIGKILL if cmd == "kill" else signal.SIGTERM
            r = self.signal(sig, 10)  # exit status: -SIGNAL if killed by one
            if r is None or r == (-sig if cmd == "kill" else 0):
                return "ok"
            return "error: supervisor exit status %s" % r
        if cmd == "dump":
            self.drain()
            write(self.dir, "store", "".join(n + "\n" for n in sorted(s[0] for s in self.store)))
            return "ok %d" % len(self.store)
        return "error: unknown command %r" % cmd


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    m = Manager(d, sys.argv[2], sys.argv[3])
    os.mkfifo(os.path.join(d, "ctl"))
    ctl_fd = os.open(os.path.join(d, "ctl"), os.O_RDWR | os.O_NONBLOCK)  # never at EOF
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    buf, n, done = b"", 0, False
    try:
        while not done:
            idle = [] if m.pid else [m.listener]  # a .socket unit's listener
            r, _, _ = select.select([ctl_fd, m.notify] + idle, [], [], 0.1)
            if m.notify in r:
                m.drain()
            if m.listener in r:
                say("socket activation: %s" % m.start())
            if m.pid and os.waitpid(m.pid, os.WNOHANG)[0]:
                say("the supervisor (pid %d) died on its own" % m.pid)
                m.pid = None
                m.drain()
            buf += os.read(ctl_fd, 4096) if ctl_fd in r else b""
            while b"\n" in buf and not done:
                line, buf = buf.split(b"\n", 1)
                cmd = line.decode().strip()
                n += 1
                reply = m.command(cmd)
                say("%s: %s" % (cmd, reply))
                done = cmd == "quit"
                write(d, "reply", "%d %s\n" % (n, reply))
    finally:
        if m.pid:
            m.signal(signal.SIGTERM, 10)
        if os.path.exists(m.sock_path):
            os.unlink(m.sock_path)


if __name__ == "__main__":
    main()
