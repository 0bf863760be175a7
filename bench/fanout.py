#!/usr/bin/env python3
"""Fan-out benchmark: Baton vs nginx-rtmp with one load tool (issue #7).

Python 3 standard library only. Normally started by bench/fanout.sh, which
installs nginx-rtmp, raises the open-file limit and builds the binaries.

For each scenario, and for each server in an order that alternates from one
scenario to the next, it starts a FRESH server on a free loopback port, runs
`baton-bench` against it (`--server-pid` = the process that does the work:
nginx's single worker, or baton itself), stops the server by its PID and
keeps the tool's JSON. Then a capacity search (the most players with nothing
lost and p99 latency < 100 ms). The results go to OUT/fanout-YYYYMMDD-HHMM[-quick].json
(raw results and machine information) and .md (tables and PASS/FAIL targets,
rendered by bench/fanout_report.py, also printed at the end).

Servers:
  nginx         nginx-rtmp, 1 worker, pinned to core 0; tool pinned to core 1
  baton-1core   baton serve --threads 1, pinned to core 0; tool on core 1
  baton-2cores  baton serve --threads 2, not pinned; tool not pinned, 2 threads
Opt-in (--servers):
  nginx-nodelay nginx-rtmp with TCP_NODELAY forced (LD_PRELOAD shim)
  baton-merge   baton-1core with merged writes (server.write_merge_ms =
                --merge-ms, default 200): CPU per GB against latency
  floor         baton-floor pinned to core 0: one blocking write per frame
                per player and nothing else (the kernel's floor for servers
                that write each frame as it comes); not in slow, idle or
                the capacity search

Everything runs on 127.0.0.1. Every child process has a timeout and is
stopped by its own PID (SIGTERM, then SIGKILL), also on errors and Ctrl-C.

Usage:
  python3 bench/fanout.py [--quick] [--only p500,slow] [--servers nginx,baton-1core]
                          [--out DIR] [--baton BIN] [--bench BIN] [--nginx BIN]
                          [--capacity-2cores] [--no-capacity]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fanout_report  # noqa: E402  (same directory)

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
NGINX_TEMPLATE = BENCH_DIR / "nginx-rtmp.conf.in"
BATON_CONFIG = BENCH_DIR / "baton.toml"
RTMP_MODULE_CANDIDATES = [
    "/usr/lib/nginx/modules/ngx_rtmp_module.so",
    "/usr/lib64/nginx/modules/ngx_rtmp_module.so",
    "/usr/local/nginx/modules/ngx_rtmp_module.so",
]
SERVERS = ["nginx", "baton-1core", "baton-2cores"]
# Opt-in (--servers): nginx-rtmp with TCP_NODELAY forced on its accepted
# sockets by an LD_PRELOAD shim (bench/tools/nodelay.c, built with cc), to
# show how much of nginx's figure is Nagle moving its sends onto the tool.
#
# Opt-in: Baton on one core with merged writes (server.write_merge_ms): a
# player's frames wait up to that long and leave in one write, which divides
# the kernel's per-write work (most of the CPU) at the price of that much
# latency. Never in the capacity search (its p99 limit is below the window).
#
# Opt-in: the floor (crates/baton-bench/src/bin/baton-floor.rs), minimal
# RTMP and then one blocking write per frame per player from the
# publisher's thread. It has no lag handling (a slow player blocks its
# stream) and nothing to show with idle connections: those scenarios skip it.
OPTIONAL_SERVERS = ["nginx-nodelay", "baton-merge", "floor"]
FLOOR_SKIPS = {"slow", "idle"}
DEFAULT_MERGE_MS = 200
NODELAY_SHIM_SRC = BENCH_DIR / "tools" / "nodelay.c"
# nginx's worker_connections (and worker_rlimit_nofile) at most: in a
# container nginx cannot raise its limit above the hard limit it inherits
# (setrlimit fails with EPERM), so the hard limit is used when lower.
NGINX_CONNECTIONS = 30000
# Capacity search: pass = every player connected, 0 lost, p99 below this.
CAPACITY_P99_MS = 100.0
# The capacity search never asks for more players than this (file
# descriptors of the tool and the server, ephemeral ports).
CAPACITY_MAX_PLAYERS = 16000
# Seconds to start a server (port open) and to stop it.
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
# Extra seconds per run spent outside the tool's timeline (start, stop,
# the tool's own connect and close), for the ETA.
RUN_OVERHEAD = 1.0


def log(msg: str) -> None:
    print(f"[fanout] {msg}", flush=True)


def fmt_secs(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 60}m{s % 60:02d}s"


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

# Tool settings of a run (baton-bench flag names without "--").
BASE = {
    "publishers": 1,
    "players": 100,
    "bitrate": "2M",
    "fps": 30,
    "slow-players": 0,
    "slow-rate": "1M",
    "idle": 0,
    "join-spread": 2,
    "publish-lead": 1,
    "warmup": 3,
    "duration": 10,
    "drain": 3,
}


def scenarios() -> list[dict]:
    """Every scenario: id, title, tool settings (full size)."""

    def s(sid: str, title: str, **kw) -> dict:
        params = dict(BASE)
        params.update({k.replace("_", "-"): v for k, v in kw.items()})
        return {"id": sid, "title": title, "params": params}

    return [
        s("p100", "1 publisher 2 Mbit/s, 100 players", players=100),
        s("p500", "1 publisher 2 Mbit/s, 500 players", players=500),
        s("p1000", "1 publisher 2 Mbit/s, 1000 players", players=1000),
        s("p2000", "1 publisher 2 Mbit/s, 2000 players", players=2000, join_spread=4),
        s("hd100", "1 publisher 8 Mbit/s 60 fps, 100 players", players=100, bitrate="8M", fps=60),
        s("hd400", "1 publisher 8 Mbit/s 60 fps, 400 players", players=400, bitrate="8M", fps=60),
        s("multi", "50 publishers 2 Mbit/s x 10 players each", publishers=50, players=500),
        # 60 s: long enough for the lag-disconnect rule (Baton: more than 3
        # skips within 60 s) to act on a player at half the stream's rate.
        s("slow", "1 publisher 2 Mbit/s, 500 players + 10 slow players at 1 Mbit/s, 60 s window",
          players=500, slow_players=10, duration=60),
        # baton-bench needs a publisher; nobody plays its stream.
        s("idle", "2000 idle connections (handshake + connect), 1 publisher, no player",
          players=0, publishers=1, idle=2000, warmup=1, duration=2, drain=1, join_spread=1),
    ]


def quick_params(p: dict) -> dict:
    """--quick: players (and publishers, idle, slow players) / 10, 3 s window, short timeline."""
    q = dict(p)
    for k in ("players", "idle", "publishers", "slow-players"):
        if q[k] > 0:
            q[k] = max(1, q[k] // 10)
    q["duration"] = min(q["duration"], 3)
    # Warmup longer than the 2 s GOP: nginx-rtmp starts a new player on the
    # next keyframe, which would show as a stall inside a shorter warmup.
    q["warmup"] = min(q["warmup"], 2)
    q["drain"] = min(q["drain"], 1)
    q["join-spread"] = min(q["join-spread"], 1)
    q["publish-lead"] = min(q["publish-lead"], 1)
    return q


def capacity_params(players: int, quick: bool = False) -> dict:
    p = dict(BASE)
    p["players"] = players
    # About 500 joins per second, 2 to 8 s.
    p["join-spread"] = min(8, max(2, round(players / 500)))
    if quick:
        p = quick_params(p) | {"players": players}
    return p


def timeline_secs(p: dict) -> float:
    return float(p["publish-lead"] + p["join-spread"] + p["warmup"] + p["duration"] + p["drain"])


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

_children: dict[int, subprocess.Popen] = {}


def spawn(cmd: list[str], log_path: Path, **kw) -> subprocess.Popen:
    with open(log_path, "ab") as f:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, **kw)
    _children[p.pid] = p
    return p


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return False


def stop(p: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM by PID, wait, then SIGKILL; always reaps."""
    try:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"pid {p.pid} did not stop within {timeout:.0f} s after SIGTERM: SIGKILL")
                p.kill()
                p.wait(5)
    finally:
        _children.pop(p.pid, None)


def kill_pid_if(pid: int, must_contain: str) -> None:
    """SIGKILL a non-child PID (nginx's worker) if it still runs that program."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return
    if must_contain in cmdline and pid_alive(pid):
        log(f"pid {pid} ({must_contain}) still alive: SIGKILL")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


_extra_pids: dict[int, str] = {}


def cleanup() -> None:
    for p in list(_children.values()):
        try:
            stop(p, timeout=3)
        except Exception as e:  # noqa: BLE001  (best effort at exit)
            print(f"[fanout] cleanup of pid {p.pid}: {e}", file=sys.stderr)
    for pid, name in list(_extra_pids.items()):
        kill_pid_if(pid, name)
    _extra_pids.clear()


def on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening; log: {tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not open after {timeout:.0f} s; log: {tail(log_path)}")


def tail(path: Path, n: int = 800) -> str:
    try:
        data = path.read_bytes()[-n:].decode(errors="replace").strip()
    except OSError:
        return "(no log)"
    return data.replace("\n", " | ")


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------


class Env:
    """Binaries, pinning and paths shared by every run."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.baton = args.baton
        self.bench = args.bench
        self.nginx = args.nginx
        self.rtmp_module = args.rtmp_module
        self.merge_ms = args.merge_ms
        self.floor = args.floor
        self.workdir = workdir
        self.taskset = shutil.which("taskset")
        self.pin = self.taskset is not None and (os.cpu_count() or 1) >= 2
        if not self.pin:
            log("WARNING: no taskset or fewer than 2 cores: servers and tool are NOT pinned")

    def pinned(self, core: int, cmd: list[str]) -> list[str]:
        return [self.taskset, "-c", str(core), *cmd] if self.pin else cmd


class Server:
    """A fresh server on a free loopback port; `pids` are what the tool measures."""

    def __init__(self, name: str, env: Env, rundir: Path):
        self.name = name
        self.env = env
        self.rundir = rundir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []
        self.cmd: list[str] = []
        self.log_path = rundir / "server.log"

    def start(self) -> None:
        if self.name in ("nginx", "nginx-nodelay"):
            self._start_nginx()
        elif self.name == "floor":
            cmd = [self.env.floor, "--listen", f"127.0.0.1:{self.port}", "--chunk-size", "4096"]
            self.cmd = self.env.pinned(0, cmd)
            self.proc = spawn(self.cmd, self.log_path)
            wait_port(self.port, self.proc, START_TIMEOUT, self.log_path)
            self.pids = [self.proc.pid]
        else:
            one_core = self.name in ("baton-1core", "baton-merge")
            config = BATON_CONFIG
            if self.name == "baton-merge":
                config = self.rundir / "baton-merge.toml"
                config.write_text(BATON_CONFIG.read_text().replace(
                    "[server]\n", f"[server]\nwrite_merge_ms = {self.env.merge_ms}\n", 1))
            cmd = [self.env.baton, "serve", "--threads", "1" if one_core else "2", "--config", str(config),
                   "--listen", f"127.0.0.1:{self.port}"]
            self.cmd = self.env.pinned(0, cmd) if one_core else cmd
            self.proc = spawn(self.cmd, self.log_path)
            wait_port(self.port, self.proc, START_TIMEOUT, self.log_path)
            self.pids = [self.proc.pid]

    def _start_nginx(self) -> None:
        conf = NGINX_TEMPLATE.read_text()
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = NGINX_CONNECTIONS + 100 if hard == resource.RLIM_INFINITY else min(hard, NGINX_CONNECTIONS + 100)
        subst = {
            "@USER_LINE@": "user root;" if os.geteuid() == 0 else "",
            "@RTMP_MODULE@": self.env.rtmp_module,
            "@RUNDIR@": str(self.rundir),
            "@NOFILE@": str(nofile),
            "@CONNECTIONS@": str(max(1024, nofile - 100)),
            "@PORT@": str(self.port),
        }
        # The template's comments (which name the placeholders) stay in the repo.
        conf = "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#")) + "\n"
        for k, v in subst.items():
            conf = conf.replace(k, v)
        conf_path = self.rundir / "nginx.conf"
        conf_path.write_text(conf)
        cmd = [self.env.nginx, "-p", f"{self.rundir}/", "-e", str(self.rundir / "error.log"), "-c", str(conf_path)]
        self.cmd = self.env.pinned(0, cmd)
        extra = {}
        if self.name == "nginx-nodelay":
            extra["env"] = {**os.environ, "LD_PRELOAD": str(build_nodelay_shim(self.rundir))}
        self.proc = spawn(self.cmd, self.log_path, **extra)
        wait_port(self.port, self.proc, START_TIMEOUT, self.rundir / "error.log")
        # taskset execs nginx, so the Popen PID is the master's; its only
        # child is the worker.
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            kids = children_of(self.proc.pid)
            if kids:
                self.pids = kids
                for k in kids:
                    _extra_pids[k] = "nginx"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"nginx worker not found; log: {tail(self.rundir / 'error.log')}")

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
        for pid in self.pids:
            if self.name in ("nginx", "nginx-nodelay"):
                # The master stops its worker; make sure.
                deadline = time.monotonic() + STOP_TIMEOUT
                while pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                kill_pid_if(pid, "nginx")
                _extra_pids.pop(pid, None)


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


class Runner:
    def __init__(self, env: Env, total_estimate: float):
        self.env = env
        self.started = time.monotonic()
        self.remaining = total_estimate
        self.count = 0
        self.failed = 0

    def progress(self, what: str, estimate: float) -> None:
        self.count += 1
        elapsed = time.monotonic() - self.started
        log(f"run {self.count}: {what} (~{estimate:.0f} s) | elapsed {fmt_secs(elapsed)}, "
            f"ETA {fmt_secs(self.remaining)} left")

    def run(self, server_name: str, label: str, params: dict) -> dict:
        """One run of the tool against a fresh server; never raises for a failed run."""
        estimate = timeline_secs(params) + RUN_OVERHEAD
        self.progress(f"{label} on {server_name}, {params['players']} players", estimate)
        t0 = time.monotonic()
        rundir = Path(tempfile.mkdtemp(prefix=f"{label}-{server_name}-", dir=self.env.workdir))
        record: dict = {"server": server_name, "label": label, "params": params, "ok": False,
                        "error": None, "result": None}
        server = Server(server_name, self.env, rundir)
        try:
            server.start()
            record["server_cmd"] = server.cmd
            record["server_pids"] = server.pids
            json_path = rundir / "bench.json"
            cmd = [self.env.bench, "--url", f"rtmp://127.0.0.1:{server.port}/live"]
            for k, v in params.items():
                cmd += [f"--{k}", str(v)]
            for pid in server.pids:
                cmd += ["--server-pid", str(pid)]
            two = server_name == "baton-2cores"
            cmd += ["--threads", "2" if two else "1", "--label", f"{label}/{server_name}",
                    "--json", str(json_path)]
            if not two:
                cmd = self.env.pinned(1, cmd)
            record["tool_cmd"] = cmd
            tool_log = rundir / "tool.log"
            tool = spawn(cmd, tool_log)
            timeout = timeline_secs(params) * 2 + 60
            try:
                rc = tool.wait(timeout)
            except subprocess.TimeoutExpired:
                stop(tool)
                raise RuntimeError(f"baton-bench did not finish within {timeout:.0f} s; log: {tail(tool_log)}")
            _children.pop(tool.pid, None)
            if server.proc is not None and server.proc.poll() is not None:
                record["server_exited"] = server.proc.returncode
            if rc != 0:
                raise RuntimeError(f"baton-bench exited with {rc}: {tail(tool_log)}")
            record["result"] = json.loads(json_path.read_text())
            record["ok"] = True
        except Exception as e:  # noqa: BLE001  (a failed run is a result)
            record["error"] = str(e)
            self.failed += 1
            log(f"  FAILED: {e} (logs in {rundir})")
        finally:
            server.stop()
        record["secs"] = round(time.monotonic() - t0, 1)
        record["rundir"] = str(rundir)
        self.remaining = max(0.0, self.remaining - estimate)
        if record["ok"]:
            log("  " + one_line(record["result"]))
        return record


def one_line(r: dict) -> str:
    n = r.get("normal") or {}
    lat = n.get("latency_ms") or {}
    srv = r.get("server") or {}
    tool = r.get("tool") or {}
    players = r.get("players") or {}
    return (f"connected {players.get('connected')}/{players.get('requested')}, "
            f"{fanout_report.num(r.get('delivered_gbps'), 3)} Gbit/s, lost {n.get('lost')}, "
            f"p99 {fanout_report.num(lat.get('p99'), 1)} ms, "
            f"server CPU {fanout_report.num(srv.get('cpu_secs'), 2)} s, "
            f"tool CPU {fanout_report.num(tool.get('cpu_secs'), 2)} s")


def capacity_pass(rec: dict) -> tuple[bool, str]:
    if not rec["ok"]:
        return False, f"run failed: {rec['error']}"
    r = rec["result"]
    req = (r.get("players") or {}).get("requested")
    con = (r.get("players") or {}).get("connected")
    n = r.get("normal") or {}
    lost = n.get("lost")
    p99 = (n.get("latency_ms") or {}).get("p99")
    if con is None or req is None or con < req:
        return False, f"{con}/{req} connected"
    if lost is None or lost > 0:
        return False, f"{lost} lost"
    if n.get("disconnected"):
        return False, f"{n.get('disconnected')} disconnected"
    if p99 is None or p99 >= CAPACITY_P99_MS:
        return False, f"p99 {fanout_report.num(p99, 1)} ms"
    return True, f"0 lost, p99 {p99:.1f} ms"


def capacity_search(runner: Runner, server: str, start: int, max_runs: int, quick: bool) -> dict:
    """Most players with 0 lost and p99 < 100 ms: x1.5 while passing, then bisect to 10%."""
    runs = []
    best = 0          # most players that passed
    worst = None      # fewest players that failed
    n = start
    while len(runs) < max_runs:
        rec = runner.run(server, f"capacity-{n}", capacity_params(n, quick))
        ok, why = capacity_pass(rec)
        log(f"  capacity {server} {n} players: {'PASS' if ok else 'FAIL'} ({why})")
        runs.append({"players": n, "pass": ok, "why": why, "record": rec})
        if ok:
            best = max(best, n)
        else:
            worst = n if worst is None else min(worst, n)
        if worst is None:
            if n >= CAPACITY_MAX_PLAYERS:
                break
            n = min(CAPACITY_MAX_PLAYERS, int(n * 1.5))
        else:
            if worst - best <= max(1, 0.10 * max(best, 1)) or worst <= 1:
                break
            n = (best + worst) // 2
            if n in (best, worst):
                break
    return {"max_players": best, "first_fail": worst,
            "cap_reached": worst is None and best >= CAPACITY_MAX_PLAYERS, "runs": runs}


# --------------------------------------------------------------------------
# Machine information
# --------------------------------------------------------------------------


def cmd_output(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"({e})"


def machine_info(env: Env) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = cmd_output(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"])
    dirty = cmd_output(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"])
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "kernel": platform.release(),
        "nginx_version": cmd_output([env.nginx, "-v"]),
        "rtmp_module": env.rtmp_module,
        "baton_git_rev": rev + ("-dirty" if dirty else ""),
        "baton_version": cmd_output([env.baton, "--version"]),
        "python": platform.python_version(),
        "nofile_limit": nofile,
        "pinned": env.pin,
    }


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def build_nodelay_shim(rundir: Path) -> Path:
    """Compiles bench/tools/nodelay.c into the run directory."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("nginx-nodelay needs a C compiler (apt-get install gcc)")
    out = rundir / "nodelay.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(NODELAY_SHIM_SRC), "-ldl"],
                   check=True, timeout=60)
    return out


def find_nginx() -> str:
    for c in (shutil.which("nginx"), "/usr/sbin/nginx", "/usr/local/nginx/sbin/nginx"):
        if c and os.access(c, os.X_OK):
            return c
    return "nginx"


def find_module() -> str:
    for c in RTMP_MODULE_CANDIDATES:
        if Path(c).is_file():
            return c
    # Debian: /usr/share/nginx/modules-available/mod-rtmp.conf has the load_module line.
    conf = Path("/usr/share/nginx/modules-available/mod-rtmp.conf")
    if conf.is_file():
        for word in conf.read_text().replace(";", " ").split():
            if word.endswith("ngx_rtmp_module.so"):
                p = Path(word) if word.startswith("/") else Path("/usr/share/nginx") / word
                if p.is_file():
                    return str(p)
    return RTMP_MODULE_CANDIDATES[0]


def parse_args(argv: list[str]) -> argparse.Namespace:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target")) / "release"
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 3 s windows, players / 10, capacity search at most 3 runs")
    ap.add_argument("--only", default="", help="comma-separated scenario ids (capacity = the capacity search); "
                    "default: all")
    ap.add_argument("--servers", default=",".join(SERVERS),
                    help=f"comma-separated, from {','.join(SERVERS + OPTIONAL_SERVERS)}")
    ap.add_argument("--out", default=str(BENCH_DIR / "results"), help="output directory (default bench/results)")
    ap.add_argument("--baton", default=str(target / "baton"), help="baton binary")
    ap.add_argument("--bench", default=str(target / "baton-bench"), help="baton-bench binary")
    ap.add_argument("--floor", default=str(target / "baton-floor"), help="baton-floor binary (server floor)")
    ap.add_argument("--nginx", default=find_nginx(), help="nginx binary")
    ap.add_argument("--rtmp-module", default=find_module(), help="ngx_rtmp_module.so")
    ap.add_argument("--merge-ms", type=int, default=DEFAULT_MERGE_MS,
                    help=f"write_merge_ms of the baton-merge server (default {DEFAULT_MERGE_MS})")
    ap.add_argument("--capacity-2cores", action="store_true", help="also run the capacity search on baton-2cores")
    ap.add_argument("--no-capacity", action="store_true", help="skip the capacity search")
    ap.add_argument("--keep-runs", action="store_true", help="keep the per-run directories (logs, configs)")
    args = ap.parse_args(argv)
    args.server_list = [s for s in args.servers.split(",") if s]
    for s in args.server_list:
        if s not in SERVERS + OPTIONAL_SERVERS:
            ap.error(f"unknown server {s!r} (known: {', '.join(SERVERS + OPTIONAL_SERVERS)})")
    ids = [s["id"] for s in scenarios()] + ["capacity"]
    args.only_list = [s for s in args.only.split(",") if s]
    for s in args.only_list:
        if s not in ids:
            ap.error(f"unknown scenario {s!r} (known: {', '.join(ids)})")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Open files: the servers and the tool inherit this (fanout.sh raised the
    # hard limit where it could).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard != resource.RLIM_INFINITY and hard < 20000:
        log(f"WARNING: open-file limit {hard} < 20000: large runs will fail to connect")
    global CAPACITY_MAX_PLAYERS
    if hard != resource.RLIM_INFINITY:
        CAPACITY_MAX_PLAYERS = min(CAPACITY_MAX_PLAYERS, hard - 500)
    signal.signal(signal.SIGTERM, on_signal)
    atexit.register(cleanup)

    binaries = [("baton", args.baton), ("baton-bench", args.bench)]
    if "floor" in args.server_list:
        binaries.append(("baton-floor", args.floor))
    for what, path in binaries:
        if not os.access(path, os.X_OK):
            log(f"{what} binary not found at {path} (cargo build --release -p baton -p baton-bench)")
            return 2
    if "nginx" in args.server_list or "nginx-nodelay" in args.server_list:
        if not shutil.which(args.nginx) and not os.access(args.nginx, os.X_OK):
            log(f"nginx not found ({args.nginx}); apt-get install nginx-light libnginx-mod-rtmp")
            return 2
        if not Path(args.rtmp_module).is_file():
            log(f"rtmp module not found at {args.rtmp_module}; apt-get install libnginx-mod-rtmp")
            return 2

    selected = [s for s in scenarios() if not args.only_list or s["id"] in args.only_list]
    if args.quick:
        for s in selected:
            s["params"] = quick_params(s["params"])
    do_capacity = not args.no_capacity and (not args.only_list or "capacity" in args.only_list)
    cap_servers = [s for s in args.server_list
                   if s not in ("baton-merge", "floor") and (s != "baton-2cores" or args.capacity_2cores)]
    cap_start = 100 if args.quick else 1000
    cap_runs = 3 if args.quick else 8

    estimate = sum((timeline_secs(s["params"]) + RUN_OVERHEAD) * len(args.server_list) for s in selected)
    if do_capacity:
        estimate += len(cap_servers) * cap_runs * (timeline_secs(capacity_params(cap_start * 3, args.quick)) + RUN_OVERHEAD)
    log(f"{len(selected)} scenarios x {len(args.server_list)} servers"
        + (f" + capacity search on {', '.join(cap_servers)}" if do_capacity else "")
        + f"; estimated {fmt_secs(estimate)} (capacity at its maximum of runs)")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="baton-fanout-"))
    env = Env(args, workdir)
    started = time.time()
    data = {
        "kind": "baton-fanout",
        "version": 1,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "quick": args.quick,
        "servers": args.server_list,
        "merge_ms": args.merge_ms if "baton-merge" in args.server_list else None,
        "argv": argv,
        "machine": machine_info(env),
        "capacity_rule": {"p99_below_ms": CAPACITY_P99_MS, "lost": 0, "max_players": CAPACITY_MAX_PLAYERS},
        "scenarios": [],
        "capacity": None,
    }
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime(started)) + ("-quick" if args.quick else "")
    json_path = out / f"fanout-{stamp}.json"
    k = 2
    while json_path.exists():  # two runs in the same minute
        json_path = out / f"fanout-{stamp}-{k}.json"
        k += 1
    md_path = json_path.with_suffix(".md")

    def save() -> None:
        json_path.write_text(json.dumps(data, indent=1) + "\n")

    runner = Runner(env, estimate)
    try:
        for i, scen in enumerate(selected):
            order = list(args.server_list) if i % 2 == 0 else list(reversed(args.server_list))
            entry = {"id": scen["id"], "title": scen["title"], "params": scen["params"], "order": order, "runs": {}}
            data["scenarios"].append(entry)
            for server in order:
                if server == "floor" and scen["id"] in FLOOR_SKIPS:
                    continue
                entry["runs"][server] = runner.run(server, scen["id"], scen["params"])
                save()
        if do_capacity and cap_servers:
            data["capacity"] = {"start": cap_start, "max_runs": cap_runs, "servers": {}}
            order = cap_servers if len(selected) % 2 == 0 else list(reversed(cap_servers))
            for server in order:
                data["capacity"]["servers"][server] = capacity_search(runner, server, cap_start, cap_runs, args.quick)
                save()
    finally:
        data["finished_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        data["elapsed_secs"] = round(time.time() - started, 1)
        save()
        cleanup()
        if not args.keep_runs and not runner.failed:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"run directories (server and tool logs) kept in {workdir}"
                + (f": {runner.failed} run(s) failed" if runner.failed else ""))

    md = fanout_report.render(data)
    md_path.write_text(md)
    print()
    print(md)
    log(f"wrote {json_path} and {md_path} in {fmt_secs(time.time() - started)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
