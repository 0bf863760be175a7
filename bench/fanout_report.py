#!/usr/bin/env python3
"""Render the Markdown report of a bench/fanout.py run from its JSON.

Python 3 standard library only.

Usage:
  python3 bench/fanout_report.py bench/results/fanout-YYYYMMDD-HHMM.json [> report.md]

fanout.py imports `render` to write OUT/fanout-*.md; this script lets the
report (and the README table taken from it) be regenerated from the JSON.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

BATONS = ["baton-1core", "baton-2cores"]


def num(v, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.{digits}f}"
    return str(v)


def get(d, *path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def kib_to_mib(v):
    return None if v is None else v / 1024.0


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or b == 0:
        return None
    return a / b


# (row label, function of the tool's JSON, digits)
COMMON_ROWS = [
    ("players connected", lambda r: get(r, "players", "connected"), 0),
    ("join failures", lambda r: get(r, "players", "failed"), 0),
    ("delivered Gbit/s", lambda r: get(r, "delivered_gbps"), 3),
    ("lost frames", lambda r: get(r, "normal", "lost"), 0),
    ("duplicated", lambda r: get(r, "normal", "duplicated"), 0),
    ("reordered", lambda r: get(r, "normal", "reordered"), 0),
    ("players with loss", lambda r: get(r, "normal", "players_with_loss"), 0),
    ("not starting on keyframe", lambda r: get(r, "normal", "not_starting_on_keyframe"), 0),
    ("disconnected", lambda r: get(r, "normal", "disconnected"), 0),
    ("latency p50 ms", lambda r: get(r, "normal", "latency_ms", "p50"), 1),
    ("latency p99 ms", lambda r: get(r, "normal", "latency_ms", "p99"), 1),
    ("latency max ms", lambda r: get(r, "normal", "latency_ms", "max"), 1),
    ("longest stall ms", lambda r: get(r, "normal", "longest_stall_ms"), 0),
]
COUNT_ROWS = {"players connected", "join failures", "lost frames", "duplicated", "reordered",
              "players with loss", "not starting on keyframe", "disconnected", "slow: connected",
              "slow: lost (skipped) frames", "slow: disconnected", "idle connected"}
SLOW_ROWS = [
    ("slow: connected", lambda r: get(r, "slow", "players"), 0),
    ("slow: lost (skipped) frames", lambda r: get(r, "slow", "lost"), 0),
    ("slow: disconnected", lambda r: get(r, "slow", "disconnected"), 0),
    ("slow: latency p99 ms", lambda r: get(r, "slow", "latency_ms", "p99"), 1),
]
IDLE_ROWS = [
    ("idle connected", lambda r: get(r, "idle", "connected"), 0),
    ("idle RSS/conn KiB", lambda r: get(r, "idle", "rss_per_connection_kib"), 1),
]
def per_gb(secs, delivered_bytes):
    """CPU seconds per delivered GB (None when either is missing or zero)."""
    if secs is None or not delivered_bytes:
        return None
    return secs / (delivered_bytes / 1e9)


SERVER_ROWS = [
    ("server CPU s", lambda r: get(r, "server", "cpu_secs"), 2),
    ("server CPU s/GB", lambda r: get(r, "server", "cpu_secs_per_gb"), 3),
    # On loopback the kernel's TCP work is split between the server and the
    # tool by timing (a sender with Nagle on, like nginx-rtmp, has part of
    # its sending done when the tool's ACK arrives, on the tool's CPU): the
    # sum is the machine's whole cost per GB, which no split can move.
    ("server + tool CPU s/GB", lambda r: per_gb(
        (get(r, "server", "cpu_secs") or 0) + (get(r, "tool", "cpu_secs") or 0)
        if get(r, "server", "cpu_secs") is not None else None, get(r, "delivered_bytes")), 3),
    ("server peak RSS MiB", lambda r: kib_to_mib(get(r, "server", "rss_peak_kib")), 1),
    ("server RSS/conn KiB", lambda r: get(r, "server", "rss_per_connection_kib"), 1),
    ("server CPU % of a core", lambda r: pct(get(r, "server", "cpu_secs"), get(r, "window_secs")), 0),
    ("tool CPU s", lambda r: get(r, "tool", "cpu_secs"), 2),
    ("tool CPU % of a core", lambda r: pct(get(r, "tool", "cpu_secs"), get(r, "window_secs")), 0),
]
# Tool above this share of a core over the window: the figures may be the
# tool's limit rather than the server's.
TOOL_SATURATED_PCT = 90


def pct(cpu, window):
    if not isinstance(cpu, (int, float)) or not isinstance(window, (int, float)) or window <= 0:
        return None
    return 100.0 * cpu / window


def tool_saturated(r) -> bool:
    v = pct(get(r, "tool", "cpu_secs"), get(r, "window_secs"))
    return v is not None and v >= TOOL_SATURATED_PCT


# Tool CPU above server CPU by more than this (seconds) is flagged: below it,
# it is clock-tick noise (runs with next to no work, like idle).
TOOL_CPU_SLACK = 0.05


def tool_over_server(r) -> bool:
    t, s = get(r, "tool", "cpu_secs"), get(r, "server", "cpu_secs")
    return isinstance(t, (int, float)) and isinstance(s, (int, float)) and t > s + TOOL_CPU_SLACK


def scenario_table(entry: dict, servers: list[str]) -> list[str]:
    runs = entry["runs"]
    cols = [s for s in servers if s in runs]
    ratios = [b for b in BATONS + ["baton-merge"] if b in cols and "nginx" in cols]
    p = entry["params"]
    rows = list(COMMON_ROWS) if p.get("players") else []
    if p.get("slow-players"):
        rows += SLOW_ROWS
    if p.get("idle"):
        rows += IDLE_ROWS
    rows += SERVER_ROWS
    head = ["metric"] + cols + [f"{b}/nginx" for b in ratios]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    res = {s: (runs[s].get("result") if runs[s].get("ok") else None) for s in cols}
    for label, f, digits in rows:
        vals = {s: (f(res[s]) if res[s] is not None else None) for s in cols}
        cells = []
        for s in cols:
            c = num(vals[s], digits) if res[s] is not None else "failed"
            if label == "tool CPU s" and res[s] is not None and tool_over_server(res[s]):
                c += " ⚠"
            if label == "tool CPU % of a core" and res[s] is not None and tool_saturated(res[s]):
                c += " ⚠"
            cells.append(c)
        for b in ratios:
            # Ratios of counts (lost, connected...) say nothing: only of measures.
            cells.append(num(ratio(vals[b], vals["nginx"]), 2) if label not in COUNT_ROWS else "")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    for s in cols:
        if not runs[s].get("ok"):
            out.append("")
            out.append(f"{s} failed: {runs[s].get('error')}")
        elif runs[s].get("server_exited") is not None:
            out.append("")
            out.append(f"{s}: the server exited during the run (status {runs[s]['server_exited']})")
    return out


def capacity_section(cap: dict, quick: bool) -> list[str]:
    out = ["## Capacity search", "",
           f"1 publisher 2 Mbit/s; the most players with every player connected, 0 lost and p99 < 100 ms "
           f"(start {cap.get('start')}, x1.5 while passing, then bisect to 10 %, at most "
           f"{cap.get('max_runs')} runs per server). [tool saturated]: the tool used {TOOL_SATURATED_PCT} % "
           "or more of a core in that run.", "",
           "| server | max players passing | first failing | runs |", "|---|---|---|---|"]
    for s, c in cap["servers"].items():
        runs = ", ".join(f"{r['players']} {'pass' if r['pass'] else 'FAIL (' + r['why'] + ')'}"
                         + (" [tool saturated]" if r["record"].get("ok") and tool_saturated(r["record"]["result"])
                            else "")
                         for r in c["runs"])
        best = f"≥ {c['max_players']}" if c.get("cap_reached") or c.get("first_fail") is None else c["max_players"]
        out.append(f"| {s} | {best} | {num(c.get('first_fail'))} | {runs} |")
    return out


class Targets:
    def __init__(self):
        self.lines: list[str] = []

    def add(self, ok, text: str) -> None:
        word = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        self.lines.append(f"- **{word}** {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"- {text}")


def result_of(data: dict, sid: str, server: str):
    for e in data["scenarios"]:
        if e["id"] == sid:
            run = e["runs"].get(server)
            if run and run.get("ok"):
                return run["result"]
            return None
    return None


def lt(v, limit):
    return None if not isinstance(v, (int, float)) else v < limit


def targets(data: dict) -> list[str]:
    t = Targets()
    batons = [b for b in BATONS if b in data["servers"]]

    # CPU per GB: baton-1core <= 0.5 x nginx.
    for sid in ("p500", "p1000", "p2000"):
        n = get(result_of(data, sid, "nginx"), "server", "cpu_secs_per_gb")
        b1 = get(result_of(data, sid, "baton-1core"), "server", "cpu_secs_per_gb")
        r = ratio(b1, n)
        extra = ""
        b2 = get(result_of(data, sid, "baton-2cores"), "server", "cpu_secs_per_gb")
        if b2 is not None:
            extra = f"; baton-2cores {num(b2, 3)} ({num(ratio(b2, n), 2)}x)"
        t.add(None if r is None else r <= 0.5,
              f"{sid}: CPU s/GB baton-1core {num(b1, 3)} <= 0.5 x nginx {num(n, 3)} (ratio {num(r, 2)}){extra}")
        f = result_of(data, sid, "floor")
        if f is not None:
            fl = get(f, "server", "cpu_secs_per_gb")
            t.note(f"({sid} floor, one write per frame per player and nothing else: CPU s/GB {num(fl, 3)} = "
                   f"{num(ratio(fl, n), 2)} x nginx; baton-1core = {num(ratio(b1, fl), 2)} x the floor)")
        m = result_of(data, sid, "baton-merge")
        if m is not None:
            bm = get(m, "server", "cpu_secs_per_gb")
            t.note(f"({sid} baton-merge, write_merge_ms {data.get('merge_ms')}: CPU s/GB {num(bm, 3)} = "
                   f"{num(ratio(bm, n), 2)} x nginx, p99 {num(get(m, 'normal', 'latency_ms', 'p99'), 1)} ms, "
                   f"lost {num(get(m, 'normal', 'lost'))}: not a target, the trade of latency for CPU)")

    # p1000: 0 lost, p99 < 20 ms, longest stall < 200 ms.
    for b in batons:
        r = result_of(data, "p1000", b)
        lost = get(r, "normal", "lost")
        p99 = get(r, "normal", "latency_ms", "p99")
        stall = get(r, "normal", "longest_stall_ms")
        ok = None if r is None else (lost == 0 and bool(lt(p99, 20)) and bool(lt(stall, 200)))
        t.add(ok, f"p1000 {b}: lost {num(lost)} (0), p99 {num(p99, 1)} ms (< 20), "
                  f"longest stall {num(stall, 0)} ms (< 200)")

    # p2000: p99 < 50 ms.
    for b in batons:
        p99 = get(result_of(data, "p2000", b), "normal", "latency_ms", "p99")
        t.add(lt(p99, 50), f"p2000 {b}: p99 {num(p99, 1)} ms (< 50)")

    # Capacity: baton >= 2 x nginx.
    cap = (data.get("capacity") or {}).get("servers") or {}
    n = get(cap, "nginx", "max_players")
    for b in batons:
        if b not in cap:
            continue
        c = get(cap, b, "max_players")
        r = ratio(c, n)
        capped = " (search capped: a lower bound)" if get(cap, b, "cap_reached") else ""
        t.add(None if r is None else r >= 2, f"capacity {b}: {num(c)} players >= 2 x nginx {num(n)} "
                                             f"(ratio {num(r, 2)}){capped}")
    if not cap:
        t.add(None, "capacity: not run")

    # Slow players.
    for b in batons:
        r = result_of(data, "slow", b)
        lost = get(r, "normal", "lost")
        p99 = get(r, "normal", "latency_ms", "p99")
        stall = get(r, "normal", "longest_stall_ms")
        slost = get(r, "slow", "lost")
        sdisc = get(r, "slow", "disconnected")
        peak = kib_to_mib(get(r, "server", "rss_peak_kib"))
        ok = None if r is None else (lost == 0 and bool(lt(p99, 20)) and bool(lt(stall, 200)))
        t.add(ok, f"slow {b}: normal players lost {num(lost)} (0), p99 {num(p99, 1)} ms (< 20), "
                  f"longest stall {num(stall, 0)} ms (< 200); server peak RSS {num(peak, 1)} MiB")
        sok = None if r is None else ((slost or 0) > 0 or (sdisc or 0) > 0)
        t.add(sok, f"slow {b}: slow players skipped (lost {num(slost)}) or disconnected ({num(sdisc)})")
    np = kib_to_mib(get(result_of(data, "slow", "nginx"), "server", "rss_peak_kib"))
    if np is not None:
        t.lines.append(f"- (slow nginx: server peak RSS {num(np, 1)} MiB, slow players lost "
                       f"{num(get(result_of(data, 'slow', 'nginx'), 'slow', 'lost'))}, disconnected "
                       f"{num(get(result_of(data, 'slow', 'nginx'), 'slow', 'disconnected'))})")

    # Idle: RSS per connection <= 12 KiB and <= nginx's.
    def idle_kib(server):
        r = result_of(data, "idle", server)
        v = get(r, "idle", "rss_per_connection_kib")
        return v if v is not None else get(r, "server", "rss_per_connection_kib")

    ni = idle_kib("nginx")
    for b in batons:
        bi = idle_kib(b)
        ok = None if bi is None else (bi <= 12 and (ni is None or bi <= ni))
        t.add(ok, f"idle {b}: RSS/conn {num(bi, 1)} KiB (<= 12 and <= nginx {num(ni, 1)})")

    # Tool CPU <= server CPU, every run.
    over = []
    for e in data["scenarios"]:
        for s, run in e["runs"].items():
            if run.get("ok") and tool_over_server(run["result"]):
                r = run["result"]
                over.append(f"{e['id']}/{s} (tool {num(get(r, 'tool', 'cpu_secs'))} s > server "
                            f"{num(get(r, 'server', 'cpu_secs'))} s)")
    for s, c in cap.items():
        for run in c["runs"]:
            rec = run["record"]
            if rec.get("ok") and tool_over_server(rec["result"]):
                r = rec["result"]
                over.append(f"capacity-{run['players']}/{s} (tool {num(get(r, 'tool', 'cpu_secs'))} s > server "
                            f"{num(get(r, 'server', 'cpu_secs'))} s)")
    measured = any(run.get("ok") for e in data["scenarios"] for run in e["runs"].values()) or any(
        run["record"].get("ok") for c in cap.values() for run in c["runs"])
    t.add(None if not measured else not over,
          "tool CPU <= server CPU in every run" + (": not in " + ", ".join(over) if over else ""))
    return t.lines


def render(data: dict) -> str:
    m = data.get("machine", {})
    out = [f"# Fan-out: Baton vs nginx-rtmp ({data.get('started_utc')})", ""]
    if data.get("quick"):
        out += ["**Quick mode (smoke test)**: players, publishers and idle connections / 10, 3 s windows; "
                "scenario ids keep their full-size names. Not figures to compare or quote.", ""]
    out += [
        f"- machine: {m.get('nproc')} cores, {m.get('cpu_model')}, kernel {m.get('kernel')}",
        f"- {m.get('nginx_version')}, module {m.get('rtmp_module')}",
        f"- baton {m.get('baton_git_rev')} ({m.get('baton_version')})",
        "- nginx: 1 worker pinned to core 0; baton-1core: `baton serve --threads 1` pinned to core 0 "
        "(tool pinned to core 1, 1 thread); baton-2cores: `baton serve --threads 2`, tool unpinned with 2 threads"
        + (f"; baton-merge: baton-1core with merged writes (`write_merge_ms = {data['merge_ms']}`)"
           if data.get("merge_ms") is not None else "")
        + ("; floor: `baton-floor` pinned to core 0 (minimal RTMP, then one blocking write per frame per player)"
           if "floor" in data.get("servers", []) else "")
        + ("" if m.get("pinned", True) else " — **pinning was NOT possible on this machine**"),
        f"- a fresh server per run; server order alternates between scenarios; total {data.get('elapsed_secs')} s",
        "- ratio columns: baton / nginx (lower is better for CPU, memory, latency)",
        f"- ⚠ on tool CPU s: the load tool used more CPU than the server in that run (by more than {TOOL_CPU_SLACK} s); "
        f"⚠ on tool CPU %: the tool used {TOOL_SATURATED_PCT} % or more of a core, so the figures may be the tool's "
        "limit (with 1 tool thread: one core)",
        "",
    ]
    servers = data["servers"]
    for e in data["scenarios"]:
        p = e["params"]
        quick = " (quick: 1/10 of it)" if data.get("quick") else ""
        out += [f"## {e['id']}: {e['title']}{quick}", "",
                f"Tool: {p['publishers']} publisher(s), {p['players']} players, {p['bitrate']}bit/s, "
                f"{p['fps']} fps" + (f", {p['slow-players']} slow at {p['slow-rate']}bit/s" if p.get("slow-players") else "")
                + (f", {p['idle']} idle" if p.get("idle") else "")
                + f"; join over {p['join-spread']} s, warmup {p['warmup']} s, window {p['duration']} s, "
                  f"drain {p['drain']} s. Order: {', '.join(e.get('order', []))}.", ""]
        out += scenario_table(e, servers)
        out.append("")
    if data.get("capacity"):
        out += capacity_section(data["capacity"], data.get("quick", False))
        out.append("")
    out += ["## Targets", ""]
    if data.get("quick"):
        out += ["(quick mode: the scenarios are 1/10 of their names; targets are evaluated anyway)", ""]
    out += targets(data)
    out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    data = json.loads(Path(argv[0]).read_text())
    sys.stdout.write(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
