#!/usr/bin/env python3
"""supd's benchmark: the figures in README.md's Performance section come from this script.

It runs the real supd (from the build directory) on temporary directories and prints medians,
p99s and ratios. Not a test: it asserts nothing; it measures.
"""
import argparse
import calendar
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


class Supd:
    def __init__(self, build, units, extra_args=()):
        self.build = build
        self.extra_args = list(extra_args)
        self.dir = tempfile.mkdtemp(prefix="supd-bench-")
        self.units = os.path.join(self.dir, "units")
        os.makedirs(self.units)
        for name, text in units.items():
            with open(os.path.join(self.units, name), "w") as f:
                f.write(text)
        self.sock = os.path.join(self.dir, "supd.sock")
        self.proc = None

    def argv(self, level="info"):
        """supd as a user runs it: the default log level (info) unless asked otherwise."""
        return [os.path.join(self.build, "supd"), "--units", self.units, "--control-socket",
                self.sock, "--log-dir", os.path.join(self.dir, "log"), "--state-dir",
                os.path.join(self.dir, "state"), "--log-level", level] + self.extra_args

    def start(self):
        self.t_launch = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stderr=open(os.path.join(self.dir, "supd.err"), "w"))
        self.wait_ping()

    def wait_ping(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.call("ping")
                return
            except OSError:
                time.sleep(0.005)
        raise RuntimeError("supd did not come up")

    def call(self, cmd, args=None):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        s.sendall((json.dumps({"id": 1, "cmd": cmd, "args": args or {}}) + "\n").encode())
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
        s.close()
        return json.loads(buf)

    def status(self, names=None):
        return self.call("status", {"services": names} if names else {})["result"]

    def wait(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred():
                return True
            time.sleep(0.01)
        return False

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def memory_kib(self):
        """/proc/PID/smaps_rollup: RSS counts every library page supd touched, also those every
        other process shares (libc, libstdc++); Pss shares them out, and Private_Dirty is the
        memory that is supd's alone (heap, stacks, written data)."""
        out = {}
        with open(f"/proc/{self.proc.pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].rstrip(":") in (
                        "Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Clean", "Anonymous"):
                    out[parts[0].rstrip(":")] = int(parts[1])
        return out

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tck

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def sleeper_unit(enabled=True):
    return ("[Service]\nExecStart=/bin/sleep infinity\n" +
            ("[Install]\nWantedBy=multi-user.target\n" if enabled else ""))


def crasher_unit(gobin, stamps, after):
    """benchcrash under Restart=always, RestartSec=0, no start limit: it runs `after`, exits 1."""
    return (f"[Unit]\nStartLimitIntervalSec=0\n"
            f"[Service]\nExecStart={gobin}/benchcrash -file {stamps} -after {after}\n"
            "Restart=always\nRestartSec=0\n")


def bench_respawn(build, gobin, crashes):
    stamps = tempfile.mktemp(prefix="supd-bench-stamps-")
    d = Supd(build, {"crash.service": crasher_unit(gobin, stamps, "20ms")})
    d.start()
    internal = []
    try:
        r = d.call("start", {"services": ["crash"]})
        if not r["ok"]:
            raise RuntimeError(r["error"]["message"])
        seen = set()
        deadline = time.monotonic() + 120
        while len(internal) < crashes and time.monotonic() < deadline:
            s = d.status(["crash"])[0]
            le = s.get("last_exit")
            if s["state"] == "running" and le and le["pid"] not in seen:
                seen.add(le["pid"])
                internal.append((s["since_monotonic_usec"] - le["at_monotonic_usec"]) / 1000.0)
            time.sleep(0.002)
        d.call("stop", {"services": ["crash"]})
    except Exception:
        print(open(os.path.join(d.dir, "supd.err")).read()[-3000:], file=sys.stderr)
        raise
    finally:
        d.stop()
    end_to_end = []
    with open(stamps) as f:
        events = [line.split() for line in f]
    os.unlink(stamps)
    last_exit = None
    for kind, ns in events:
        if kind == "exit":
            last_exit = int(ns)
        elif kind == "start" and last_exit is not None:
            end_to_end.append((int(ns) - last_exit) / 1e6)
            last_exit = None
    return internal[:crashes], end_to_end[:crashes]


def stamp_gaps(path, skip=5):
    """The crasher's stamps: (start -> next start, exit -> next start) gaps in ms."""
    with open(path) as f:
        events = [line.split() for line in f if line.strip()]
    starts = [int(ns) for kind, ns in events if kind == "start"]
    exits = [int(ns) for kind, ns in events if kind == "exit"]
    start_gaps = [(b - a) / 1e6 for a, b in zip(starts, starts[1:])][skip:]
    exit_gaps = [(s - e) / 1e6 for e, s in zip(exits, starts[1:])][skip:]
    return start_gaps, exit_gaps


def floor_crash_loop(build, gobin, crashes, mode="loop"):
    """The same crasher as bench_supd_crash_loop, exiting at once, run by bench_floor; mode
    "session-loop" runs each in a session of its own, as supd does."""
    stamps = tempfile.mktemp(prefix="supd-bench-floor-")
    subprocess.run([os.path.join(build, "tests", "bench_floor"), mode, str(crashes + 6),
                    f"{gobin}/benchcrash", "-file", stamps, "-after", "0s"], check=True)
    gaps = stamp_gaps(stamps)
    os.unlink(stamps)
    return gaps[0][:crashes], gaps[1][:crashes]


def supd_crash_loop(build, gobin, crashes):
    """A crasher that exits at once (status 1), Restart=always, RestartSec=0, until `crashes`
    restarts are done; as an outside harness runs it."""
    stamps = tempfile.mktemp(prefix="supd-bench-loop-")
    d = Supd(build, {"crash.service": crasher_unit(gobin, stamps, "0s")})
    d.start()
    try:
        d.call("start", {"services": ["crash"], "no_block": True})

        def enough():
            try:
                with open(stamps) as f:
                    return sum(1 for _ in f) >= 2 * (crashes + 6)
            except OSError:
                return False
        d.wait(enough, timeout=120)
        d.call("stop", {"services": ["crash"]})
    finally:
        d.stop()
    gaps = stamp_gaps(stamps)
    os.unlink(stamps)
    return gaps[0][:crashes], gaps[1][:crashes]


def bench_respawn_floor(build, gobin, crashes, rounds, busy=0):
    """Runs the floor (bench_floor, plain and with a session per run) and supd in turns,
    `rounds` times, each round in another order: all three see the same machine. With busy > 0,
    that many busy-looping processes run meanwhile (a loaded host)."""
    out = {k: [] for k in ("floor_start", "floor_exit", "session_start", "session_exit",
                           "supd_start", "supd_exit")}
    runs = [("floor", lambda: floor_crash_loop(build, gobin, crashes)),
            ("session", lambda: floor_crash_loop(build, gobin, crashes, "session-loop")),
            ("supd", lambda: supd_crash_loop(build, gobin, crashes))]
    hogs = [subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"]) for _ in range(busy)]
    try:
        for i in range(rounds):
            for name, run in runs[i % 3:] + runs[:i % 3]:
                starts, exits = run()
                out[name + "_start"] += starts
                out[name + "_exit"] += exits
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    return out


def children_running(pid, comm):
    """How many children of `pid` run `comm` (exec done) now, from /proc."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = f.read().split()
    except OSError:
        return 0
    n = 0
    for k in kids:
        try:
            with open(f"/proc/{k}/comm") as f:
                n += f.read().strip() == comm
        except OSError:
            pass
    return n


def bench_boot(build, n, rounds):
    """n enabled services (sleep), supd started on them: until all n run, as an outside observer
    sees it (n sleep processes, exec done, among supd's children in /proc) and as supd records
    it (the latest time a service became running: for Type=simple, when it was spawned); the
    floor: bench_floor starting the same n processes at once, seen the same way. In turns, each
    round in the other order."""
    out = {"supd_view_ms": [], "outside_ms": [], "floor_ms": []}

    def wait_children(pid, what, cleanup):
        t0 = time.monotonic()
        while children_running(pid, "sleep") < n:
            if time.monotonic() - t0 > 30:
                cleanup()
                raise RuntimeError(f"{what} did not start {n} processes within 30 s")
            time.sleep(0.0005)

    def supd():
        units = {f"s{i:03d}.service": sleeper_unit(enabled=True) for i in range(n)}
        d = Supd(build, units)
        t0 = time.monotonic()
        d.proc = subprocess.Popen(d.argv(), stderr=open(os.path.join(d.dir, "supd.err"), "w"))
        wait_children(d.proc.pid, "supd", d.stop)
        out["outside_ms"].append((time.monotonic() - t0) * 1000)
        d.wait_ping()
        last = max(s["since_monotonic_usec"] for s in d.status())
        out["supd_view_ms"].append((last / 1e6 - t0) * 1000)
        d.stop()

    def floor():
        t0 = time.monotonic()
        p = subprocess.Popen([os.path.join(build, "tests", "bench_floor"), "spawn", str(n),
                              "/bin/sleep", "infinity"])
        try:
            wait_children(p.pid, "bench_floor", lambda: None)
            out["floor_ms"].append((time.monotonic() - t0) * 1000)
        finally:
            subprocess.run(["pkill", "-P", str(p.pid)])
            p.wait()

    for i in range(rounds):
        for run in ((supd, floor) if i % 2 == 0 else (floor, supd)):
            run()
    return out


def bench_many(build, n, idle_seconds):
    units = {f"s{i:03d}.service": sleeper_unit(enabled=False) for i in range(n)}
    d = Supd(build, units)
    d.start()
    out = {}
    try:
        out["rss_idle_kib"] = d.rss_kib()
        names = [f"s{i:03d}" for i in range(n)]
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(build, "supctl"), "--socket", d.sock, "start"] + names,
                           capture_output=True)
        out["start_all_s"] = time.monotonic() - t0
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        assert all(s["state"] == "running" for s in d.status())
        out["rss_kib"] = d.rss_kib()
        out["memory_kib"] = d.memory_kib()
        lat = []
        for _ in range(50):
            t0 = time.monotonic()
            subprocess.run([os.path.join(build, "supctl"), "--socket", d.sock, "status", "--json"],
                           capture_output=True, check=True)
            lat.append((time.monotonic() - t0) * 1000)
        out["supctl_status_ms"] = lat
        raw = []
        for _ in range(200):
            t0 = time.monotonic()
            d.call("status")
            raw.append((time.monotonic() - t0) * 1000)
        out["protocol_status_ms"] = raw
        out["rss_after_status_kib"] = d.rss_kib()
        if idle_seconds > 0:
            c0 = d.cpu_seconds()
            time.sleep(idle_seconds)
            out["idle_cpu_s"] = d.cpu_seconds() - c0
    finally:
        d.stop()
    return out


def bench_notify(build, rounds, flood):
    client = os.path.join(ROOT, "tests", "bench", "notify_client.py")
    mark = tempfile.mktemp(prefix="supd-bench-ready-")
    out = tempfile.mktemp(prefix="supd-bench-flood-")
    units = {
        "ready.service": f"[Unit]\nStartLimitIntervalSec=0\n[Service]\nType=notify\nExecStart=/usr/bin/python3 {client} ready {mark}\n",
        "flood.service": (f"[Service]\nType=notify\n"
                          f"ExecStart=/usr/bin/python3 {client} flood {flood} {out}\n"),
    }
    d = Supd(build, units)
    d.start()
    state_change, seen = [], []
    try:
        for _ in range(rounds):
            if os.path.exists(mark):
                os.unlink(mark)
            d.call("start", {"services": ["ready"]})  # returns once running
            # The control socket view: poll until a client sees "running".
            s = d.status(["ready"])[0]
            t_seen = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            d.wait(lambda: os.path.exists(mark) and os.path.getsize(mark) > 0, timeout=10)
            sent = int(open(mark).read())
            state_change.append((s["since_monotonic_usec"] - sent) / 1000.0)
            seen.append((t_seen - sent) / 1000.0)
            d.call("stop", {"services": ["ready"]})
        d.call("start", {"services": ["flood"]})
        d.wait(lambda: os.path.exists(out) and os.path.getsize(out) > 0, timeout=120)
        n, secs = open(out).read().split()
        rate = int(n) / float(secs)
        d.wait(lambda: d.status(["flood"])[0]["status_text"] == str(flood), timeout=30)
        last = d.status(["flood"])[0]["status_text"]
    finally:
        d.stop()
        for f in (mark, out):
            if os.path.exists(f):
                os.unlink(f)
    return state_change, seen, rate, last


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hey_run(url, seconds, concurrency, during=None):
    """Runs hey for `seconds`, calling during() meanwhile; parses its summary.

    Returns {"ok": responses with 200, "failed": errors + non-200, "p50"/"p99"/"max": ms}.
    """
    import re
    p = subprocess.Popen(["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-disable-keepalive",
                          url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if during:
        during()
    out, _ = p.communicate()
    res = {"ok": 0, "failed": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    section = None
    for line in out.splitlines():
        t = line.strip()
        if t.startswith("Slowest:"):
            res["max"] = float(t.split()[1]) * 1000
        elif t.startswith("Latency distribution"):
            section = "lat"
        elif t.startswith("Status code distribution"):
            section = "status"
        elif t.startswith("Error distribution"):
            section = "err"
        elif section == "lat":
            m = re.match(r"(\d+)%+ in ([0-9.]+) secs", t)
            if m and m.group(1) == "50":
                res["p50"] = float(m.group(2)) * 1000
            if m and m.group(1) == "99":
                res["p99"] = float(m.group(2)) * 1000
        elif section == "status":
            m = re.match(r"\[(\d+)\]\s+(\d+) responses", t)
            if m:
                if m.group(1) == "200":
                    res["ok"] += int(m.group(2))
                else:
                    res["failed"] += int(m.group(2))
        elif section == "err":
            m = re.match(r"\[(\d+)\]", t)
            if m:
                res["failed"] += int(m.group(1))
    return res


def bench_throughput(build, gobin, seconds, rounds):
    """A Go HTTP server's requests/s under `hey -c 32`, run bare and under supd in turns.

    "bare" starts the server in its own session (setsid), as any daemon runs: with the kernel's
    autogroup scheduling (CONFIG_SCHED_AUTOGROUP, on here) each session is one scheduling group,
    and supd, like systemd, gives a service its own session. "bare, same session" runs it in the
    benchmark's session beside hey, which shares hey's group and is not how a service runs."""
    port_bare, port_supd = free_port(), free_port()
    unit = f"[Service]\nExecStart={gobin}/httpserver -addr 127.0.0.1:{port_supd}\n"
    d = Supd(build, {"web.service": unit})
    d.start()
    out = {"bare": [], "supd": [], "bare_same_session": []}

    def wait_port(port):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"nothing listens on port {port}")

    def bare(same_session):
        p = subprocess.Popen([f"{gobin}/httpserver", "-addr", f"127.0.0.1:{port_bare}"],
                             stdout=subprocess.DEVNULL, start_new_session=not same_session)
        try:
            wait_port(port_bare)
            r = hey_run(f"http://127.0.0.1:{port_bare}/", seconds, 32)
        finally:
            p.terminate()
            p.wait()
        return r["ok"] / seconds

    def under_supd():
        d.call("start", {"services": ["web"]})
        wait_port(port_supd)
        r = hey_run(f"http://127.0.0.1:{port_supd}/", seconds, 32)["ok"] / seconds
        d.call("stop", {"services": ["web"]})
        return r

    runs = [("bare", lambda: bare(False)), ("supd", under_supd),
            ("bare_same_session", lambda: bare(True))]
    try:
        for i in range(rounds):  # in turns, each round in another order
            for name, run in runs[i % 3:] + runs[:i % 3]:
                out[name].append(run())
    finally:
        d.stop()
    return out


def bench_zero_downtime(build, gobin, seconds, restarts, hard, startup):
    port = free_port()
    units = {
        "web.socket": f"[Socket]\nListenStream=127.0.0.1:{port}\n",
        "web.service": (f"[Service]\nType=notify\n"
                        f"ExecStart={gobin}/activated -startup-delay {startup}\n"),
    }
    d = Supd(build, units)
    d.start()
    try:
        r = d.call("start", {"services": ["web"]})
        if not r["ok"]:
            raise RuntimeError(r["error"]["message"])
        url = f"http://127.0.0.1:{port}/"
        steady = hey_run(url, 3, 32)

        def restart_loop():
            for _ in range(restarts):
                time.sleep(seconds / (restarts + 1))
                args = {"services": ["web"]}
                if hard:
                    args["hard"] = True
                res = d.call("restart", args)
                if not res["ok"]:
                    print("restart failed:", res["error"]["message"], file=sys.stderr)

        during = hey_run(url, seconds, 32, restart_loop)
    finally:
        d.stop()
    return steady, during


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--crashes", type=int, default=100)
    ap.add_argument("--idle", type=int, default=30, help="seconds of idle CPU measurement")
    ap.add_argument("--ready-rounds", type=int, default=50)
    ap.add_argument("--flood", type=int, default=100000, help="datagrams in the notify flood")
    ap.add_argument("--zd-seconds", type=int, default=10, help="hey run across restarts")
    ap.add_argument("--only", choices=["all", "zero-downtime", "logs", "footprint", "speed",
                                       "probes", "metrics", "deps", "reexec"],
                    default="all")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of supd and its floor (or bare run)")
    ap.add_argument("--hey-seconds", type=int, default=5, help="each throughput run")
    ap.add_argument("--log-seconds", type=int, default=10, help="how long each log writer runs")
    ap.add_argument("--probe-seconds", type=int, default=10,
                    help="how long supd's CPU is measured with each probe interval")
    ap.add_argument("--scrapes", type=int, default=200,
                    help="sequential GET /metrics on one keep-alive connection, per supd")
    ap.add_argument("--deps-rounds", type=int, default=9,
                    help="start/stop rounds of the dependency graph and of its flat floor")
    ap.add_argument("--deps-shape", choices=["dense", "tree"], default="dense",
                    help="dense: each unit of level k Requires=+After= all 10 of level k-1; "
                         "tree: only the one of the same column")
    ap.add_argument("--deps-unit", choices=["sleep", "notify"], default="sleep",
                    help="sleep: Type=simple /bin/sleep (ready when spawned: the latency is "
                         "supd's own); notify: Type=notify tests/go/chain (ready at READY=1: "
                         "a Go program's start-up per level)")
    ap.add_argument("--reexec-rounds", type=int, default=20,
                    help="daemon-reexecs (each in turn with a status alone), by protocol and by "
                         "supctl")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    gobin = os.path.join(args.build, "tests", "go")

    print(f"machine: {os.cpu_count()} cores, kernel {os.uname().release}")
    # A binary just linked sits in the page cache as dirty pages until written back, and
    # smaps_rollup then counts its code as private dirty instead of clean: write it back first.
    os.sync()
    if args.only == "logs":
        bench_logs(args, gobin)
        return
    if args.only == "footprint":
        print_footprint(bench_many(args.build, 1, 0), bench_many(args.build, 100, 0))
        return
    if args.only == "speed":
        bench_speed(args, gobin)
        return
    if args.only == "probes":
        bench_probes(args, gobin)
        return
    if args.only == "metrics":
        bench_metrics(args)
        return
    if args.only == "deps":
        bench_deps(args, gobin)
        return
    if args.only == "reexec":
        print_reexec(args)
        return
    if args.only == "all":
        bench_speed(args, gobin)
        bench_supervision(args, gobin)
        bench_probes(args, gobin)
        bench_metrics(args)
        bench_deps(args, gobin)
        print_reexec(args)
    bench_restarts(args, gobin)


def bench_speed(args, gobin):
    r = bench_respawn_floor(args.build, gobin, args.crashes, args.rounds)
    med = {k: statistics.median(v) for k, v in r.items()}
    print(f"respawn, a Go crasher that exits at once, {args.rounds} rounds of {args.crashes} "
          f"in turns: start -> next start median {med['supd_start']:.2f} ms under supd; "
          f"bench_floor (fork/exec/wait) {med['floor_start']:.2f} ms, with a session per run "
          f"{med['session_start']:.2f} ms: supd +{med['supd_start'] - med['floor_start']:.2f} ms, "
          f"ratio {med['supd_start'] / med['floor_start']:.2f}; exit -> next start "
          f"{med['supd_exit']:.2f} ms vs {med['floor_exit']:.2f} ms (p99 "
          f"{pct(r['supd_exit'], 99):.2f} vs {pct(r['floor_exit'], 99):.2f} ms)")
    busy = os.cpu_count() or 1
    rounds = 4 * args.rounds
    r = bench_respawn_floor(args.build, gobin, 50, rounds, busy=busy)
    med = {k: statistics.median(v) for k, v in r.items()}
    print(f"the same with {busy} busy-looping processes beside it, {rounds} rounds of 50: start -> "
          f"next start median {med['supd_start']:.2f} ms under supd (p90 "
          f"{pct(r['supd_start'], 90):.2f}), bench_floor {med['floor_start']:.2f} ms (p90 "
          f"{pct(r['floor_start'], 90):.2f}), with a session per run {med['session_start']:.2f} "
          f"ms (p90 {pct(r['session_start'], 90):.2f})")
    b = bench_boot(args.build, 100, args.rounds)
    print(f"boot, supd started on 100 enabled services ({args.rounds} rounds, median): all 100 "
          f"running {statistics.median(b['supd_view_ms']):.0f} ms after launch as supd records it, "
          f"{statistics.median(b['outside_ms']):.0f} ms as seen in /proc; bench_floor starting "
          f"the same 100 processes: {statistics.median(b['floor_ms']):.0f} ms "
          f"(all: supd {', '.join(f'{x:.0f}' for x in b['outside_ms'])}; floor "
          f"{', '.join(f'{x:.0f}' for x in b['floor_ms'])})")
    t = bench_throughput(args.build, gobin, args.hey_seconds, args.rounds)
    bare, supd = statistics.median(t["bare"]), statistics.median(t["supd"])
    print(f"throughput, Go HTTP server, hey -c 32 -disable-keepalive, {args.rounds} rounds in turns "
          f"of {args.hey_seconds} s: bare (own session) {bare:,.0f} req/s, under supd "
          f"{supd:,.0f} req/s, ratio {supd / bare:.3f} (runs: bare "
          f"{', '.join(f'{x:,.0f}' for x in t['bare'])}; supd "
          f"{', '.join(f'{x:,.0f}' for x in t['supd'])}); bare in hey's session: "
          f"{statistics.median(t['bare_same_session']):,.0f} req/s (runs "
          f"{', '.join(f'{x:,.0f}' for x in t['bare_same_session'])})")


def print_footprint(one, many):
    print(f"supd RSS, 1 service running: {one['rss_kib'] / 1024:.1f} MiB")
    print(f"supd RSS, 100 services running: {many['rss_kib'] / 1024:.1f} MiB "
          f"(with none started: {many['rss_idle_kib'] / 1024:.1f} MiB; after 250 status "
          f"requests: {many['rss_after_status_kib'] / 1024:.1f} MiB)")
    for label, r in (("1 service", one), ("100 services", many)):
        m = r["memory_kib"]
        print(f"supd memory, {label}: Pss {m['Pss'] / 1024:.1f} MiB, private dirty "
              f"{m['Private_Dirty'] / 1024:.1f} MiB, private clean {m['Private_Clean'] / 1024:.1f}"
              f" MiB (code only supd maps now: its binary, libraries no other process uses), shared clean {m['Shared_Clean'] / 1024:.1f} MiB "
              f"(libraries other processes map too)")


def bench_supervision(args, gobin):
    internal, e2e = bench_respawn(args.build, gobin, args.crashes)
    print(f"crash-to-running, supd's view (exit seen -> new main spawned), {len(internal)} crashes: "
          f"median {statistics.median(internal):.2f} ms, p99 {pct(internal, 99):.2f} ms")
    print(f"crash-to-running, program's view (exit -> new process runs main()), {len(e2e)} crashes: "
          f"median {statistics.median(e2e):.2f} ms, p99 {pct(e2e, 99):.2f} ms")

    one = bench_many(args.build, 1, 0)
    many = bench_many(args.build, 100, args.idle)
    print_footprint(one, many)
    print(f"time to start 100 services (one supctl start, until all running): "
          f"{many['start_all_s'] * 1000:.0f} ms")
    s = many["supctl_status_ms"]
    print(f"supctl status --json with 100 services: median {statistics.median(s):.2f} ms, "
          f"p99 {pct(s, 99):.2f} ms (process start included)")
    r = many["protocol_status_ms"]
    print(f"status request over the control socket with 100 services: median "
          f"{statistics.median(r):.2f} ms, p99 {pct(r, 99):.2f} ms")
    if "idle_cpu_s" in many:
        print(f"supd CPU over {args.idle} s idle with 100 services: {many['idle_cpu_s']:.2f} s")

    change, seen, rate, last = bench_notify(args.build, args.ready_rounds, args.flood)
    print(f"READY=1 sent -> state running in supd, {len(change)} starts: median "
          f"{statistics.median(change):.3f} ms, p99 {pct(change, 99):.3f} ms")
    print(f"READY=1 sent -> running seen by a client over the control socket: median "
          f"{statistics.median(seen):.2f} ms, p99 {pct(seen, 99):.2f} ms")
    print(f"notify datagrams absorbed from one busy service: {rate:,.0f}/s "
          f"({args.flood} STATUS= datagrams, last status seen: {last})")



def bench_log_throughput(build, gobin, n, seconds):
    """n services each writing 200-byte lines to stdout as fast as supd takes them, for `seconds`.
    Returns lines and bytes stored in the log files, wall time and supd's CPU seconds."""
    unit = (f"[Service]\nExecStart={gobin}/logspam rate {seconds}\n"
            "[X-Supd]\nLogMaxBytes=100G\n")
    names = [f"spam{i}.service" for i in range(n)]
    d = Supd(build, {name: unit for name in names})
    try:
        d.start()
        cpu0 = d.cpu_seconds()
        t0 = time.monotonic()
        for name in names:
            d.call("start", {"services": [name]})

        def all_done():
            return all(s["last_exit"] is not None and s["state"] != "running"
                       for s in d.status(names))
        d.wait(all_done, timeout=seconds * 6 + 30)
        # Everything the programs wrote is in the files once the writer's queue is empty:
        # a `logs` request is answered after a flush of what was queued before it.
        d.call("logs", {"services": names, "lines": 1})
        wall = time.monotonic() - t0
        cpu = d.cpu_seconds() - cpu0
        lines = size = written = 0
        for name in names:
            path = os.path.join(d.dir, "log", name + ".log")
            with open(path, "rb") as f:
                for line in f:
                    if b" out: " in line:
                        lines += 1
                        size += len(line.split(b" out: ", 1)[1])
                    elif b" err: wrote " in line:
                        written += int(line.split(b" err: wrote ", 1)[1].split()[0])
        return {"lines": lines, "bytes": size, "written": written, "wall": wall, "cpu": cpu}
    finally:
        d.stop()


def bench_direct_file(gobin, n, seconds):
    """The upper bound: the same programs appending straight to files."""
    tmp = tempfile.mkdtemp(prefix="supd-bench-direct-")
    try:
        t0 = time.monotonic()
        procs = [subprocess.Popen([os.path.join(gobin, "logspam"), "rate", str(seconds),
                                   os.path.join(tmp, f"{i}.out")],
                                  stderr=subprocess.PIPE) for i in range(n)]
        lines = 0
        for p in procs:
            err = p.communicate()[1].decode()
            lines += int(err.split()[1]) if err.startswith("wrote ") else 0
        wall = time.monotonic() - t0
        size = sum(os.path.getsize(os.path.join(tmp, f"{i}.out")) for i in range(n))
        return {"lines": lines, "bytes": size, "wall": wall}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_logs(args, gobin):
    secs = args.log_seconds
    for n in (1, 20):
        r = bench_log_throughput(args.build, gobin, n, secs)
        direct = bench_direct_file(gobin, n, secs)
        lps = r["lines"] / secs
        mbs = r["bytes"] / secs / 1e6
        dlps = direct["lines"] / secs
        print(f"logs, {n} service(s) writing 200-byte lines for {secs} s: {r['lines']:,} lines stored "
              f"({lps:,.0f} lines/s, {mbs:.1f} MB/s of text; the programs reported "
              f"{r['written']:,} written), supd CPU {r['cpu']:.1f} s "
              f"= {100 * r['cpu'] / r['wall']:.0f}% of one core over {r['wall']:.1f} s; "
              f"straight to a file: {dlps:,.0f} lines/s; ratio {lps / dlps:.2f}")


def probed_units(gobin, n, interval):
    """n Go HTTP services, each with a readiness probe of its /healthz every `interval`
    (None: no probe, the baseline)."""
    units = {}
    for i in range(n):
        port = free_port()
        probe = (f"[X-Supd]\nReadinessProbe=http://127.0.0.1:{port}/healthz\n"
                 f"ReadinessProbeIntervalSec={interval}\n") if interval else ""
        units[f"p{i:03d}.service"] = (
            f"[Service]\nExecStart={gobin}/healthserver -addr 127.0.0.1:{port}\n{probe}"
            f"[Install]\nWantedBy=multi-user.target\n")
    return units


def bench_probe_cpu(build, gobin, n, interval, seconds):
    """supd's CPU over `seconds` with n services probed every `interval`, the probes' real
    rate, and for each service the time from its probe's first success to `running`."""
    d = Supd(build, probed_units(gobin, n, interval))
    d.start()
    try:
        if not d.wait(lambda: all(s["state"] == "running" for s in d.status()), timeout=60):
            raise RuntimeError("not every probed service came up: " + json.dumps(
                [(s["name"], s["state"], s.get("cause")) for s in d.status()
                 if s["state"] != "running"]))
        to_running = []
        for s in d.status():
            for p in s.get("probes", []):
                if p["role"] == "readiness" and p.get("since"):
                    to_running.append(
                        (rfc3339_usec(s["since"]) - rfc3339_usec(p["since"])) / 1000)
        checks0 = sum(p["checks"] for s in d.status() for p in s.get("probes", []))
        c0, t0 = d.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        cpu, wall = d.cpu_seconds() - c0, time.monotonic() - t0
        checks = sum(p["checks"] for s in d.status() for p in s.get("probes", [])) - checks0
        failures = sum(p["failures"] for s in d.status() for p in s.get("probes", []))
        return {"cpu": cpu, "wall": wall, "rate": checks / wall, "failures": failures,
                "to_running_ms": to_running}
    finally:
        d.stop()


def rfc3339_usec(text):
    """"2026-12-03T04:05:06.123456Z" → µs since the epoch."""
    base, frac = text.rstrip("Z").split(".")
    t = time.strptime(base, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) * 1000000 + int(frac.ljust(6, "0")[:6])


def bench_probes(args, gobin):
    n = 100
    rows = []
    for interval in (None, "1s", "100ms"):
        r = bench_probe_cpu(args.build, gobin, n, interval, args.probe_seconds)
        rows.append((interval, r))
    base = rows[0][1]["cpu"] / rows[0][1]["wall"]
    for interval, r in rows:
        share = r["cpu"] / r["wall"]
        what = f"probed over HTTP every {interval}" if interval else "not probed (baseline)"
        line = (f"probes, {n} Go services {what}: supd CPU {100 * share:.2f}% of one core "
                f"over {r['wall']:.1f} s")
        if interval:
            line += (f" ({100 * (share - base):+.2f} points over the baseline), "
                     f"{r['rate']:.0f} probes/s, {r['failures']} failed checks")
            if r["to_running_ms"]:
                line += (f"; first success -> running median "
                         f"{statistics.median(r['to_running_ms']):.3f} ms, max "
                         f"{max(r['to_running_ms']):.3f} ms")
        print(line)


def bench_metrics(args):
    """GET /metrics with 100 running services, against its floor in the same run: the same
    requests to a supd with no service (the HTTP round trip, the fixed families and supd's
    process_* figures). Both supds run at once and the requests alternate between them, one at
    a time, each on its own keep-alive connection (http.client), so that both see the same
    machine. Then `supctl metrics` (a process start, the control socket, the same rendering)."""
    n, scrapes = 100, args.scrapes
    port_many, port_none = free_port(), free_port()
    many = Supd(args.build, {f"s{i:03d}.service": sleeper_unit(enabled=False) for i in range(n)},
                ["--metrics-listen", f"127.0.0.1:{port_many}"])
    none = Supd(args.build, {}, ["--metrics-listen", f"127.0.0.1:{port_none}"])
    try:
        many.start()
        none.start()
        r = subprocess.run([os.path.join(args.build, "supctl"), "--socket", many.sock, "start"] +
                           [f"s{i:03d}" for i in range(n)], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
        if not all(s["state"] == "running" for s in many.status()):
            raise RuntimeError("not all 100 services run")
        conns = {"many": http.client.HTTPConnection("127.0.0.1", port_many, timeout=10),
                 "none": http.client.HTTPConnection("127.0.0.1", port_none, timeout=10)}
        times = {"many": [], "none": []}
        size = {}
        for i in range(scrapes + 10):
            for name in (("many", "none") if i % 2 == 0 else ("none", "many")):
                c = conns[name]
                t0 = time.monotonic()
                c.request("GET", "/metrics")
                resp = c.getresponse()
                body = resp.read()
                dt = (time.monotonic() - t0) * 1000
                if resp.status != 200:
                    raise RuntimeError(f"GET /metrics: {resp.status}")
                size[name] = len(body)
                if i >= 10:  # the first requests warm up the connection and caches
                    times[name].append(dt)
        for c in conns.values():
            c.close()
        supctl = {"many": [], "none": []}
        for i in range(20):
            for name, d in (("many", many), ("none", none)):
                t0 = time.monotonic()
                r = subprocess.run([os.path.join(args.build, "supctl"), "--socket", d.sock,
                                    "metrics"], capture_output=True)
                supctl[name].append((time.monotonic() - t0) * 1000)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr.decode())
    finally:
        many.stop()
        none.stop()
    m, f = times["many"], times["none"]
    print(f"GET /metrics, {n} services running, {scrapes} sequential requests on one keep-alive "
          f"connection: median {statistics.median(m):.2f} ms, p99 {pct(m, 99):.2f} ms, body "
          f"{size['many']:,} bytes; floor (no service, {size['none']:,} bytes): median "
          f"{statistics.median(f):.2f} ms, p99 {pct(f, 99):.2f} ms; the 100 services add "
          f"{statistics.median(m) - statistics.median(f):.2f} ms (median)")
    print(f"supctl metrics, {n} services: median {statistics.median(supctl['many']):.1f} ms, p99 "
          f"{pct(supctl['many'], 99):.1f} ms (process start included); no service: median "
          f"{statistics.median(supctl['none']):.1f} ms")


def bench_restarts(args, gobin):
    for hard, startup in ((False, "0s"), (False, "2s"), (True, "0s")):
        steady, during = bench_zero_downtime(args.build, gobin, args.zd_seconds, 5, hard, startup)
        kind = "--hard restart" if hard else "overlap restart"
        print(f"{kind}, start-up {startup}, hey -c 32 for {args.zd_seconds} s, 5 restarts: "
              f"{during['ok']} ok, {during['failed']} failed; p50 {during['p50']:.1f} ms, "
              f"p99 {during['p99']:.1f} ms, max {during['max']:.1f} ms "
              f"(steady state 3 s: {steady['ok']} ok, {steady['failed']} failed, "
              f"p50 {steady['p50']:.1f} ms, p99 {steady['p99']:.1f} ms, "
              f"max {steady['max']:.1f} ms)")


def bench_reexec(build, n, rounds):
    """daemon-reexec with n services running (sleep, enabled): from sending the request on the
    control socket to the first answered `status` that lists all n services (sent at once after
    the reply: it waits in the listen backlog and is answered by the new supd); its floor: the
    same `status` request alone, on the same supd, in turns. Then the same with supctl, as a user
    runs it (`supctl daemon-reexec` returns once the new supd answers its ping)."""
    units = {f"s{i:03d}.service": sleeper_unit(enabled=True) for i in range(n)}
    d = Supd(build, units)
    d.start()
    out = {"reexec_ms": [], "status_ms": [], "supctl_reexec_ms": [], "supctl_status_ms": []}
    supctl = [os.path.join(build, "supctl"), "--socket", d.sock]

    def services(result):
        return [u for u in result if u.get("unit_type") == "service" and u["state"] == "running"]

    try:
        if not d.wait(lambda: len(services(d.status())) == n, 60):
            raise RuntimeError(f"not all {n} services running")
        pids = sorted(u["main_pid"] for u in services(d.status()))
        reexecs = d.call("ping")["result"]["reexecs"]
        for i in range(rounds):
            t0 = time.monotonic()
            if len(services(d.status())) != n:
                raise RuntimeError("status lacks services")
            out["status_ms"].append((time.monotonic() - t0) * 1000)
            t0 = time.monotonic()
            reply = d.call("daemon-reexec")
            if not reply.get("ok"):
                raise RuntimeError(f"daemon-reexec refused: {reply}")
            if len(services(d.status())) != n:
                raise RuntimeError("status after the reexec lacks services")
            out["reexec_ms"].append((time.monotonic() - t0) * 1000)
            reexecs += 1
            got = d.call("ping")["result"]["reexecs"]
            if got != reexecs:
                raise RuntimeError(f"ping says {got} reexecs, expected {reexecs}")
        for i in range(rounds):
            t0 = time.monotonic()
            subprocess.run(supctl + ["status", "--json"], capture_output=True, check=True)
            out["supctl_status_ms"].append((time.monotonic() - t0) * 1000)
            t0 = time.monotonic()
            r = subprocess.run(supctl + ["daemon-reexec"], capture_output=True)
            if r.returncode != 0:
                raise RuntimeError(f"supctl daemon-reexec: {r.stderr.decode()}")
            out["supctl_reexec_ms"].append((time.monotonic() - t0) * 1000)
        if sorted(u["main_pid"] for u in services(d.status())) != pids:
            raise RuntimeError("main pids changed across the reexecs")
        if d.proc.poll() is not None:
            raise RuntimeError("supd exited")
    finally:
        d.stop()
    return out


def print_reexec(args):
    n, rounds = 100, args.reexec_rounds
    r = bench_reexec(args.build, n, rounds)
    med = {k: statistics.median(v) for k, v in r.items()}
    print(f"daemon-reexec, {n} services running, {rounds} reexecs in turns with a status: request "
          f"sent -> first status answered (all {n} in it) median {med['reexec_ms']:.1f} ms (p90 "
          f"{pct(r['reexec_ms'], 90):.1f}, max {max(r['reexec_ms']):.1f}); floor, the status "
          f"alone: median {med['status_ms']:.1f} ms (p90 {pct(r['status_ms'], 90):.1f}): the "
          f"reexec adds {med['reexec_ms'] - med['status_ms']:.1f} ms; `supctl daemon-reexec` "
          f"(until the new supd answers) median {med['supctl_reexec_ms']:.1f} ms (p90 "
          f"{pct(r['supctl_reexec_ms'], 90):.1f}), `supctl status --json` median "
          f"{med['supctl_status_ms']:.1f} ms; main pids unchanged")


def cgroup_layout():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return "cgroup v2 (unified)"
    if os.path.exists("/sys/fs/cgroup/unified/cgroup.procs"):
        return "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)"
    return "cgroup v1"


# Every round starts each unit again within seconds: without this, systemd's default start
# limit (5 starts in 10 s) fails them from the sixth round on, as it would under systemd.
NO_START_LIMIT = "StartLimitIntervalSec=0\n"


def deps_units(gobin, width, depth, shape, kind):
    """The graph and its floor, in one units directory. deps.target Wants= the width x depth
    units l<k>-u<i>; a unit of level k > 0 Requires= and is After= every unit of level k-1
    (dense) or only l<k-1>-u<i> (tree). flat.target Wants= as many units f-u<i> with no
    dependency at all. Every unit is PartOf= its target, so that a stop of the target stops
    them (in reverse order for the graph)."""
    if kind == "sleep":
        service = "[Service]\nExecStart=/bin/sleep infinity\n"
    else:
        service = "[Service]\nType=notify\nExecStart={gobin}/chain -name {name} -notify\n"
    units, levels = {}, []
    for k in range(depth):
        level = [f"l{k}-u{i}.service" for i in range(width)]
        for i, name in enumerate(level):
            deps = ""
            if k > 0:
                parents = levels[k - 1] if shape == "dense" else [levels[k - 1][i]]
                deps = f"Requires={' '.join(parents)}\nAfter={' '.join(parents)}\n"
            units[name] = (f"[Unit]\nPartOf=deps.target\n{NO_START_LIMIT}{deps}" +
                           service.format(gobin=gobin, name=name[:-len('.service')]))
        levels.append(level)
    flat = [f"f-u{i}.service" for i in range(width * depth)]
    for name in flat:
        units[name] = (f"[Unit]\nPartOf=flat.target\n{NO_START_LIMIT}" +
                       service.format(gobin=gobin, name=name[:-len('.service')]))
    graph = [u for level in levels for u in level]
    units["deps.target"] = f"[Unit]\nDescription=benchmark graph\nWants={' '.join(graph)}\n"
    units["flat.target"] = f"[Unit]\nDescription=benchmark floor\nWants={' '.join(flat)}\n"
    return units, levels, flat


def bench_deps(args, gobin):
    """A start and a stop of 100 units in a 10-wide, 10-deep dependency graph, through the
    target that groups them, against the same 100 units with no dependency (the floor), in
    one supd, the two in turns each round.

    start: the wall time of `supctl start deps.target` (it answers once the target is active,
    which is After= every member: all 100 ready), checked against status: all 100 running, and
    each level's first start not before the previous level's last ready (supd's own record,
    since_monotonic_usec).
    stop: `supctl stop deps.target` answers when the target's own stop is done, which comes
    first (stops go in reverse order): the time is until a status request sees all 100 stopped
    (polled over the control socket, 1 ms apart), and supctl's own answer is given beside it.
    per level: (graph - floor) / 9, the boundaries between the 10 levels; and supd's view:
    the median gap between the last unit of a level up (stopped) and the first unit of the next
    level up (stopped), from since_monotonic_usec (the time of the last state change: for
    Type=simple, running from the spawn; for Type=notify, from READY=1).
    On 2 cores the floor of the notify variant is CPU-bound (100 Go start-ups at once), so
    there the graph's spread-out start can cost little more than the floor."""
    width, depth = 10, 10
    units, levels, flat = deps_units(gobin, width, depth, args.deps_shape, args.deps_unit)
    graph = [u for level in levels for u in level]
    supctl = os.path.join(args.build, "supctl")
    d = Supd(args.build, units)
    res = {k: [] for k in ("graph_start", "graph_stop", "graph_stop_cmd", "flat_start",
                           "flat_stop", "flat_stop_cmd", "gap_start", "gap_stop")}
    tracking = "?"

    def states(names):
        by = {s["name"]: s for s in d.status(names)}
        return [by[n] for n in names]

    def start(target, names, key):
        t0 = time.monotonic()
        r = subprocess.run([supctl, "--socket", d.sock, "start", target], capture_output=True)
        res[key].append((time.monotonic() - t0) * 1000)
        if r.returncode != 0:
            raise RuntimeError(f"supctl start {target}: {r.stderr.decode()}")
        st = states(names)
        bad = [s["name"] for s in st if s["state"] != "running"]
        if bad:
            raise RuntimeError(f"start {target} answered with {len(bad)} units not running: "
                               f"{bad[:5]}")
        return {s["name"]: s["since_monotonic_usec"] for s in st}

    def stop(target, names, key):
        t0 = time.monotonic()
        r = subprocess.run([supctl, "--socket", d.sock, "stop", target], capture_output=True)
        res[key + "_cmd"].append((time.monotonic() - t0) * 1000)
        if r.returncode != 0:
            raise RuntimeError(f"supctl stop {target}: {r.stderr.decode()}")
        st = []
        while time.monotonic() - t0 < 60:
            st = states(names)
            if all(s["state"] in ("stopped", "failed") for s in st):
                break
            time.sleep(0.001)
        else:
            raise RuntimeError(f"stop {target}: not all stopped within 60 s")
        res[key].append((time.monotonic() - t0) * 1000)
        return {s["name"]: s["since_monotonic_usec"] for s in st}

    def level_gaps(since, reverse):
        """Per boundary: first of the next level minus last of this one, in ms (start: level
        k-1 → k; stop: level k → k-1). Negative: out of order."""
        gaps = []
        order = list(reversed(levels)) if reverse else levels
        for a, b in zip(order, order[1:]):
            gaps.append((min(since[u] for u in b) - max(since[u] for u in a)) / 1000)
        return gaps

    try:
        d.start()
        tracking = d.status([graph[0]])[0].get("tracking", "?")
        for i in range(args.deps_rounds):
            for which in (("graph", "flat") if i % 2 == 0 else ("flat", "graph")):
                if which == "graph":
                    since = start("deps.target", graph, "graph_start")
                    gaps = level_gaps(since, False)
                    if min(gaps) < 0:
                        raise RuntimeError(f"a level started before the previous was ready: "
                                           f"gaps {gaps} ms")
                    res["gap_start"].extend(gaps)
                    since = stop("deps.target", graph, "graph_stop")
                    gaps = level_gaps(since, True)
                    if min(gaps) < 0:
                        raise RuntimeError(f"a level stopped before the next one was down: "
                                           f"gaps {gaps} ms")
                    res["gap_stop"].extend(gaps)
                else:
                    start("flat.target", flat, "flat_start")
                    stop("flat.target", flat, "flat_stop")
    finally:
        d.stop()

    med = {k: statistics.median(v) for k, v in res.items()}
    boundaries = depth - 1
    root = "root" if os.geteuid() == 0 else f"uid {os.geteuid()} (not root)"
    edges = (width * width if args.deps_shape == "dense" else width) * boundaries
    unit = ("Type=simple /bin/sleep infinity" if args.deps_unit == "sleep"
            else "Type=notify tests/go/chain (READY=1 at start)")
    print(f"dependencies: {width * depth} units ({unit}), {depth} levels of {width}, "
          f"{args.deps_shape} ({edges} Requires=+After= edges), grouped by deps.target; floor: "
          f"the same {width * depth} units without dependencies under flat.target; one supd, "
          f"{args.deps_rounds} rounds in turns, medians; run as {root}, {cgroup_layout()}, "
          f"supd's tracking: {tracking}")
    print(f"  supctl start deps.target: {med['graph_start']:.1f} ms (runs "
          f"{', '.join(f'{x:.0f}' for x in res['graph_start'])}); floor {med['flat_start']:.1f} ms"
          f" (runs {', '.join(f'{x:.0f}' for x in res['flat_start'])}): +"
          f"{(med['graph_start'] - med['flat_start']) / boundaries:.2f} ms per level "
          f"({boundaries} boundaries); supd's view: last up of a level -> first up of the next "
          f"({'spawned' if args.deps_unit == 'sleep' else 'READY=1: a Go start-up included'}) "
          f"median {med['gap_start']:.3f} ms, p90 {pct(res['gap_start'], 90):.3f} ms, "
          f"max {max(res['gap_start']):.3f} ms")
    print(f"  stop deps.target until all {width * depth} stopped: {med['graph_stop']:.1f} ms "
          f"(supctl answered after {med['graph_stop_cmd']:.1f} ms); floor "
          f"{med['flat_stop']:.1f} ms (supctl {med['flat_stop_cmd']:.1f} ms): +"
          f"{(med['graph_stop'] - med['flat_stop']) / boundaries:.2f} ms per level; supd's view: "
          f"last stopped of a level -> first stopped of the one before median "
          f"{med['gap_stop']:.3f} ms, p90 {pct(res['gap_stop'], 90):.3f} ms (includes the "
          f"processes' exit after SIGTERM)")


if __name__ == "__main__":
    sys.exit(main())
