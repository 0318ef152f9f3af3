"""Network namespaces for the NAT traversal interop tests (turn_namespaces_test.py, linphone_ice_test.py).

Namespaces are named ptapi-<role>-<pid> (this process's id), made and deleted with iproute2 (`ip netns`,
veth pairs), and always deleted again: by `Network.delete()` (call it in a `finally`), and by a detached
watchdog shell that does the same when this process dies without running it (ctest's timeout kills with
SIGKILL); namespaces of earlier runs whose process is gone are deleted at start. Root only.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

# Sends 3 datagrams to HOST:PORT from the namespace it runs in, or waits 1.5 s for one: prints "got" or "none".
PROBE_RECV = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],int(sys.argv[2])));"
              "s.settimeout(1.5)\ntry: s.recv(64); print('got')\nexcept OSError: print('none')")
PROBE_SEND = ("import socket,sys,time; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor _ in range(3):\n"
              " try: s.sendto(b'probe',(sys.argv[1],int(sys.argv[2])))\n except OSError: pass\n time.sleep(0.2)")


def which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin")


def ip(*args, check=True):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")
    return r


def skip_reason(programs):
    """Why the test cannot run here (not root, `ip netns` unusable, a program missing), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [p for p in ("ip", "setsid", *programs) if not which(p)]
    if missing:
        return f"not installed: {', '.join(missing)}"
    probe = f"ptapi-x-{os.getpid()}"
    try:
        ip("netns", "add", probe)
    except (RuntimeError, OSError) as e:
        return f"`ip netns add` does not work here: {e}"
    ip("netns", "del", probe, check=False)
    return None


class Network:
    """Namespaces `roles` (one letter each: ptapi-<role>-<pid>) joined by veth pairs (`link`)."""

    def __init__(self, roles):
        self.tag = str(os.getpid())
        self.names = {r: f"ptapi-{r}-{self.tag}" for r in roles}
        self._delete_stale()
        self._start_watchdog()
        for ns in self.names.values():
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")

    def link(self, a, a_addr, b, b_addr):
        """A veth pair between namespaces a and b with addresses "IP/len" (either may be None), both up.
        Made inside a with its peer moved straight into b: nothing is ever left in the root namespace."""
        da, db = f"v{a}{b}{self.tag}"[:15], f"v{b}{a}{self.tag}"[:15]
        ip("-n", self.names[a], "link", "add", da, "type", "veth", "peer", "name", db, "netns", self.names[b])
        for ns, dev, addr in ((a, da, a_addr), (b, db, b_addr)):
            if addr:
                ip("-n", self.names[ns], "addr", "add", addr, "dev", dev)
            ip("-n", self.names[ns], "link", "set", dev, "up")

    def run(self, ns, *args, **kw):
        return subprocess.run(["ip", "netns", "exec", self.names[ns], *args], timeout=kw.pop("timeout", 10), **kw)

    def probe(self, src, dst, host, port):
        """True when UDP datagrams sent from namespace src to host:port reach a socket bound there in dst."""
        rx = subprocess.Popen(["ip", "netns", "exec", self.names[dst], sys.executable, "-c", PROBE_RECV, host, str(port)],
                              stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        self.run(src, sys.executable, "-c", PROBE_SEND, host, str(port))
        out, _ = rx.communicate(timeout=10)
        return out.strip() == "got"

    def _kill_and_delete_script(self):
        """sh: kills every process left in the namespaces (`ip netns pids`), then deletes them."""
        names = " ".join(self.names.values())
        return (f"for ns in {names}; do p=$(ip netns pids $ns 2>/dev/null); [ -n \"$p\" ] && kill -9 $p; done; "
                f"sleep 0.2; for ns in {names}; do ip netns del $ns 2>/dev/null; done")

    def _start_watchdog(self):
        # Its own session, its parent (setsid -f) gone at once: ctest's kill of our process tree misses it.
        subprocess.Popen(["setsid", "-f", "sh", "-c",
                          f"while kill -0 {self.tag} 2>/dev/null; do sleep 0.5; done; {self._kill_and_delete_script()}"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def _delete_stale():
        for line in ip("netns", "list", check=False).stdout.splitlines():
            parts = (line.split() or [""])[0].split("-")
            if len(parts) == 3 and parts[0] == "ptapi" and parts[2].isdigit() and not os.path.exists(f"/proc/{parts[2]}"):
                ip("netns", "del", "-".join(parts), check=False)

    def delete(self):
        subprocess.run(["sh", "-c", self._kill_and_delete_script()], timeout=30)
        left = [n for n in self.names.values() if n in ip("netns", "list", check=False).stdout]
        if left:
            print(f"WARNING: namespaces not deleted: {left}")


class Processes:
    """Processes started in namespaces, each bounded by `timeout`, output in WORKDIR/<name>.out/.err."""

    def __init__(self, net, workdir):
        self.net, self.workdir, self.procs = net, workdir, []

    def spawn(self, ns, name, cmd, seconds, stdin=None, env=None):
        out, err = (os.path.join(self.workdir, name + ext) for ext in (".out", ".err"))
        p = subprocess.Popen(["ip", "netns", "exec", self.net.names[ns], "timeout", "-k", "2", str(seconds), *cmd],
                             stdout=open(out, "w"), stderr=open(err, "w"),
                             stdin=subprocess.DEVNULL if stdin is None else stdin, start_new_session=True, env=env)
        self.procs.append(p)
        return p, out, err

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def wait_for(pred, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def last_json(path):
    """The last line of `path` that is a JSON object (the softphone's --json report), or None."""
    import json
    for line in reversed(read(path).splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def make_speech(sox, parts, rate, path):
    """Concatenates /usr/share/sounds/alsa/<part>.wav (alsa-utils) into a mono 16-bit WAV at `rate` Hz."""
    subprocess.run([sox, *(f"/usr/share/sounds/alsa/{p}.wav" for p in parts), "-r", str(rate), "-c", "1", "-b", "16", path],
                   check=True, timeout=20)


def exit_on_sigterm():
    """ctest's SIGTERM runs the `finally` blocks (namespaces deleted, processes stopped)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
