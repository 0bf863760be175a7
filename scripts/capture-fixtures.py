#!/usr/bin/env python3
"""Capture real-peer RTMP byte fixtures (FFmpeg client <-> nginx-rtmp server).

Python 3 standard library only.  Everything runs on 127.0.0.1.

What it does:

* starts nginx (config template: scripts/nginx-rtmp-capture.conf) in a fresh
  temporary directory, listening for RTMP on a free loopback port;
* starts a recording TCP proxy on another free loopback port that forwards to
  nginx and records each direction byte-exact, in order, to separate files,
  plus a JSON list of the proxy's reads (direction, offset, length) in the
  order it made them (so a test can replay the interleaving);
* scenario `publish`: FFmpeg publishes 1.5 s of test video/audio via the proxy;
* scenario `play`: FFmpeg publishes directly to nginx while a second FFmpeg
  plays the stream via the proxy for 1 s of media;
* scenario `flv`: FFmpeg writes a ~2 s FLV file directly (no network);
* checks the captures (handshake layout, C1 version field, digest handshake,
  the RTMP message sequence of each direction, the chunk sizes set) and
  writes tests/fixtures/README.md describing all of it.

Every child process gets a timeout and is stopped by its own PID.

Usage:
    python3 scripts/capture-fixtures.py [--out DIR] [--keep-tmp]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent
CONF_TEMPLATE = SCRIPT_DIR / "nginx-rtmp-capture.conf"
DEFAULT_OUT = REPO_ROOT / "crates" / "baton-proto" / "tests" / "fixtures"
DEFAULT_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
STREAM_PATH = "live/fixture"
MAX_FIXTURE_BYTES = 150 * 1024
# What nginx-rtmp logs (error_log level info) when it accepts a publish.
PUBLISH_LOG_LINE = "publish: name='fixture'"

HANDSHAKE_LEN = 1536
# C0 (or S0) + C1 (or S1) + C2 (or S2)
HANDSHAKE_TOTAL = 1 + 2 * HANDSHAKE_LEN

# Shared encoding options (test pattern video + 440 Hz tone).
LAVFI_INPUTS = [
    "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
]
ENCODE_OPTS = [
    "-c:v", "libx264", "-preset", "ultrafast", "-g", "10",
    "-c:a", "aac", "-b:a", "32k",
]


def log(msg: str) -> None:
    print(f"[capture] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Processes and ports
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def stop_pid(proc: subprocess.Popen, sig: int, timeout: float) -> None:
    """Stop one child we started: `sig` to its PID, then SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"pid {proc.pid} did not stop after {timeout} s, sending SIGKILL")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def run_checked(cmd: list[str], timeout: float, stderr_path: Path) -> None:
    log("run: " + shlex.join(cmd))
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_pid(proc, signal.SIGTERM, 5)
            raise RuntimeError(f"timed out after {timeout} s: {shlex.join(cmd)}")
    if rc != 0:
        tail = stderr_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"exit code {rc}: {shlex.join(cmd)}\n{tail}")


def tool_versions(ffmpeg: str, nginx: str) -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        text = (out.stdout + out.stderr).decode(errors="replace")
        return text.splitlines()[0].strip() if text else "unknown"

    def dpkg(pkg: str) -> str:
        try:
            out = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", pkg],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=30,
            )
            return out.stdout.decode().strip() or "not installed"
        except (OSError, subprocess.TimeoutExpired):
            return "unknown (no dpkg-query)"

    return {
        "ffmpeg": first_line([ffmpeg, "-version"]),
        "nginx": first_line([nginx, "-V"]),
        "libnginx-mod-rtmp": dpkg("libnginx-mod-rtmp"),
        "ffmpeg_deb": dpkg("ffmpeg"),
        "nginx_deb": dpkg("nginx-light") if dpkg("nginx-light") != "not installed" else dpkg("nginx"),
    }


class Nginx:
    """nginx in the foreground (daemon off) with everything under `tmp`."""

    def __init__(self, nginx: str, module: str, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        conf = CONF_TEMPLATE.read_text()
        conf = (
            conf.replace("@RTMP_MODULE@", module)
            .replace("@TMPDIR@", str(tmp))
            .replace("@RTMP_PORT@", str(self.port))
        )
        self.conf_path = tmp / "nginx.conf"
        self.conf_path.write_text(conf)
        self.error_log = tmp / "error.log"
        self.cmd = [nginx, "-p", f"{tmp}/", "-e", str(self.error_log), "-c", str(self.conf_path)]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        check = subprocess.run(
            self.cmd + ["-t"], stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        )
        if check.returncode != 0:
            raise RuntimeError("nginx -t failed:\n" + check.stderr.decode(errors="replace"))
        log("start: " + shlex.join(self.cmd))
        self.stdio = open(self.tmp / "nginx.stdio", "wb")
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.DEVNULL, stdout=self.stdio, stderr=self.stdio
        )
        wait_for_port(self.port, 15, self.proc)
        log(f"nginx pid {self.proc.pid} listening on 127.0.0.1:{self.port}")

    def log_count(self, needle: str) -> int:
        try:
            return self.error_log.read_text(errors="replace").count(needle)
        except OSError:
            return 0

    def stop(self) -> None:
        if self.proc is not None:
            # SIGQUIT = graceful shutdown of the master (and its worker).
            stop_pid(self.proc, signal.SIGQUIT, 10)
            self.stdio.close()


# --------------------------------------------------------------------------
# Recording proxy
# --------------------------------------------------------------------------


@dataclass
class Capture:
    c2s: bytearray = field(default_factory=bytearray)
    s2c: bytearray = field(default_factory=bytearray)
    # (direction, offset, length) in the order the proxy read them.
    reads: list[tuple[str, int, int]] = field(default_factory=list)
    error: str | None = None


class RecordingProxy:
    """Accepts one connection on 127.0.0.1, forwards it to the upstream port.

    Single-threaded select loop: every chunk read from one side is recorded
    and forwarded before the next read, so the recorded order of reads is
    causally consistent (a server reply is never recorded before the client
    bytes it answers).  What is recorded is what each peer *sent*: if one side
    has gone away, bytes still arriving from the other side are recorded even
    though they can no longer be delivered.
    """

    def __init__(self, upstream_port: int, deadline_s: float) -> None:
        self.upstream_port = upstream_port
        self.deadline_s = deadline_s
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.capture = Capture()
        self.thread = threading.Thread(target=self._run, name="rtmp-proxy", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float) -> Capture:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError("proxy thread did not finish")
        return self.capture

    def _run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # recorded and re-raised by the caller
            self.capture.error = repr(exc)
        finally:
            self.listener.close()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.deadline_s
        self.listener.settimeout(self.deadline_s)
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(10)
        peers = {
            "c2s": (client, server, self.capture.c2s),
            "s2c": (server, client, self.capture.s2c),
        }
        open_read = {"c2s", "s2c"}
        can_write = {"c2s": True, "s2c": True}  # can we still deliver in this direction?
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, "c2s")
        sel.register(server, selectors.EVENT_READ, "s2c")
        try:
            while open_read:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RuntimeError("proxy deadline reached with connections still open")
                for key, _ in sel.select(timeout=min(remaining, 1.0)):
                    direction = key.data
                    src, dst, buf = peers[direction]
                    try:
                        data = src.recv(65536)
                    except (ConnectionResetError, TimeoutError):
                        data = b""
                    if not data:
                        sel.unregister(src)
                        open_read.discard(direction)
                        if can_write[direction]:
                            try:
                                dst.shutdown(socket.SHUT_WR)
                            except OSError:
                                pass
                            can_write[direction] = False
                        continue
                    self.capture.reads.append((direction, len(buf), len(data)))
                    buf.extend(data)
                    if can_write[direction]:
                        try:
                            dst.sendall(data)
                        except OSError:
                            # Receiver closed; keep recording what the sender sends.
                            can_write[direction] = False
        finally:
            sel.close()
            client.close()
            server.close()


# --------------------------------------------------------------------------
# RTMP analysis (handshake, chunk stream, AMF0)
# --------------------------------------------------------------------------

MSG_TYPES = {
    1: "SetChunkSize",
    2: "Abort",
    3: "Acknowledgement",
    4: "UserControl",
    5: "WindowAckSize",
    6: "SetPeerBandwidth",
    8: "Audio",
    9: "Video",
    15: "DataAMF3",
    16: "SharedObjectAMF3",
    17: "CommandAMF3",
    18: "DataAMF0",
    19: "SharedObjectAMF0",
    20: "CommandAMF0",
    22: "Aggregate",
}
USER_CONTROL_EVENTS = {
    0: "StreamBegin",
    1: "StreamEOF",
    2: "StreamDry",
    3: "SetBufferLength",
    4: "StreamIsRecorded",
    6: "PingRequest",
    7: "PingResponse",
}

# Adobe handshake keys (the well-known "Genuine Adobe ..." strings + 32 bytes).
FP_KEY_TEXT = b"Genuine Adobe Flash Player 001"
FMS_KEY_TEXT = b"Genuine Adobe Flash Media Server 001"
KEY_TAIL = bytes.fromhex("f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae")


class Amf0Error(Exception):
    pass


def amf0_decode(data: bytes, pos: int = 0, depth: int = 0):
    """Decode one AMF0 value; returns (value, new_pos). Enough for summaries."""
    if depth > 32:
        raise Amf0Error("nesting too deep")
    if pos >= len(data):
        raise Amf0Error("truncated")
    marker = data[pos]
    pos += 1

    def need(n: int) -> None:
        if pos + n > len(data):
            raise Amf0Error("truncated")

    if marker == 0x00:
        need(8)
        return struct.unpack_from(">d", data, pos)[0], pos + 8
    if marker == 0x01:
        need(1)
        return data[pos] != 0, pos + 1
    if marker == 0x02:
        need(2)
        n = struct.unpack_from(">H", data, pos)[0]
        need(2 + n)
        return data[pos + 2 : pos + 2 + n].decode("utf-8", "replace"), pos + 2 + n
    if marker in (0x03, 0x08):
        if marker == 0x08:
            need(4)
            pos += 4  # ECMA array count (advisory)
        obj = {}
        while True:
            need(3)
            n = struct.unpack_from(">H", data, pos)[0]
            if n == 0 and data[pos + 2] == 0x09:
                return obj, pos + 3
            need(2 + n)
            key = data[pos + 2 : pos + 2 + n].decode("utf-8", "replace")
            obj[key], pos = amf0_decode(data, pos + 2 + n, depth + 1)
    if marker in (0x05, 0x06):
        return None, pos
    if marker == 0x0A:
        need(4)
        count = struct.unpack_from(">I", data, pos)[0]
        pos += 4
        items = []
        for _ in range(count):
            if pos >= len(data):
                raise Amf0Error("truncated strict array")
            item, pos = amf0_decode(data, pos, depth + 1)
            items.append(item)
        return items, pos
    if marker == 0x0B:
        need(10)
        return {"date_ms": struct.unpack_from(">d", data, pos)[0]}, pos + 10
    if marker == 0x0C:
        need(4)
        n = struct.unpack_from(">I", data, pos)[0]
        need(4 + n)
        return data[pos + 4 : pos + 4 + n].decode("utf-8", "replace"), pos + 4 + n
    raise Amf0Error(f"unsupported AMF0 marker 0x{marker:02x}")


def amf0_decode_all(data: bytes) -> list:
    values, pos = [], 0
    while pos < len(data):
        try:
            v, pos = amf0_decode(data, pos)
        except Amf0Error as exc:
            values.append(f"<{exc} at byte {pos}>")
            break
        values.append(v)
    return values


@dataclass
class Message:
    offset: int  # offset of the first chunk of this message in the file
    end: int  # offset just after its last chunk
    csid: int
    msg_type: int
    stream_id: int
    timestamp: int
    payload: bytes

    def summary(self) -> str:
        name = MSG_TYPES.get(self.msg_type, f"type{self.msg_type}")
        p = self.payload
        if self.msg_type in (1, 3, 5) and len(p) >= 4:
            return f"{name}({struct.unpack_from('>I', p)[0]})"
        if self.msg_type == 6 and len(p) >= 5:
            return f"{name}({struct.unpack_from('>I', p)[0]}, limit={p[4]})"
        if self.msg_type == 4 and len(p) >= 2:
            ev = struct.unpack_from(">H", p)[0]
            args = p[2:].hex()
            return f"{name}({USER_CONTROL_EVENTS.get(ev, ev)}{', ' + args if args else ''})"
        if self.msg_type in (18, 20):
            vals = amf0_decode_all(p)
            if not vals:
                return f"{name}(empty)"
            head = vals[0]
            if self.msg_type == 20:
                txn = vals[1] if len(vals) > 1 else None
                extra = ""
                for v in vals[2:]:
                    if isinstance(v, dict) and "code" in v:
                        extra = f" code={v['code']}"
                    elif isinstance(v, str):
                        extra += f" {v!r}"
                return f"{name} {head!r} txn={txn}{extra}"
            return f"{name} " + " ".join(repr(v) if isinstance(v, str) else type(v).__name__ for v in vals)
        if self.msg_type == 8 and p:
            fmt = p[0] >> 4
            kind = ""
            if fmt == 10 and len(p) >= 2:
                kind = ", AAC sequence header" if p[1] == 0 else ", AAC raw"
            return f"{name}({len(p)} bytes, SoundFormat {fmt}{kind})"
        if self.msg_type == 9 and p:
            ft, codec = p[0] >> 4, p[0] & 0x0F
            kind = ""
            if codec == 7 and len(p) >= 2:
                kind = {0: ", AVC sequence header", 1: ", AVC NALU", 2: ", AVC end of sequence"}.get(p[1], "")
            return f"{name}({len(p)} bytes, FrameType {ft} CodecID {codec}{kind})"
        return f"{name}({len(p)} bytes)"


@dataclass
class ChunkParse:
    messages: list[Message]
    chunk_sizes_set: list[int]
    clean_end: int  # last offset at which no message is partially received
    total: int
    error: str | None


def parse_chunk_stream(data: bytes, start: int) -> ChunkParse:
    """Parse the chunk stream one peer sent (RTMP 1.0 section 5.3).

    The chunk size used is the one this same peer announced with Set Chunk
    Size (it governs what it sends).  Stops at the first incomplete chunk.
    """
    chunk_size = 128
    sizes: list[int] = []
    state: dict[int, dict] = {}
    messages: list[Message] = []
    pos = start
    clean_end = start
    error = None
    n = len(data)
    while pos < n:
        chunk_start = pos
        b0 = data[pos]
        fmt, csid = b0 >> 6, b0 & 0x3F
        pos += 1
        if csid == 0:
            if pos + 1 > n:
                break
            csid = 64 + data[pos]
            pos += 1
        elif csid == 1:
            if pos + 2 > n:
                break
            csid = 64 + data[pos] + 256 * data[pos + 1]
            pos += 2
        st = state.get(csid)
        if fmt != 0 and st is None:
            error = f"fmt {fmt} chunk on unknown csid {csid} at offset {chunk_start}"
            break
        hdr_len = (11, 7, 3, 0)[fmt]
        if pos + hdr_len > n:
            break
        if st is None:
            st = {"ts": 0, "delta": 0, "len": 0, "type": 0, "msid": 0, "ext": False,
                  "buf": None, "first": 0}
        new = dict(st)
        if fmt <= 2:
            ts_field = int.from_bytes(data[pos : pos + 3], "big")
        if fmt <= 1:
            new["len"] = int.from_bytes(data[pos + 3 : pos + 6], "big")
            new["type"] = data[pos + 6]
        if fmt == 0:
            new["msid"] = struct.unpack_from("<I", data, pos + 7)[0]
        pos += hdr_len
        if fmt <= 2:
            new["ext"] = ts_field == 0xFFFFFF
        if new["ext"]:
            if pos + 4 > n:
                break
            ext_val = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            if fmt <= 2:
                ts_field = ext_val
        starting = st.get("buf") is None
        if fmt == 0:
            new["ts"] = ts_field
            new["delta"] = 0
        elif fmt in (1, 2):
            new["delta"] = ts_field
            new["ts"] = (st["ts"] + ts_field) & 0xFFFFFFFF
        elif starting:
            new["ts"] = (st["ts"] + st["delta"]) & 0xFFFFFFFF
        if fmt != 3 and not starting:
            error = f"new header on csid {csid} mid-message at offset {chunk_start}"
            break
        buf = bytearray() if starting else new["buf"]
        take = min(chunk_size, new["len"] - len(buf))
        if pos + take > n:
            break
        buf.extend(data[pos : pos + take])
        pos += take
        new["buf"] = buf
        if starting:
            new["first"] = chunk_start
        state[csid] = new
        if len(buf) == new["len"]:
            msg = Message(new["first"], pos, csid, new["type"], new["msid"], new["ts"], bytes(buf))
            messages.append(msg)
            new["buf"] = None
            if msg.msg_type == 1 and len(msg.payload) >= 4:
                chunk_size = struct.unpack_from(">I", msg.payload)[0] & 0x7FFFFFFF
                sizes.append(chunk_size)
                if chunk_size == 0:
                    error = "Set Chunk Size 0"
                    break
            elif msg.msg_type == 2 and len(msg.payload) >= 4:
                aborted = struct.unpack_from(">I", msg.payload)[0]
                if aborted in state:
                    state[aborted]["buf"] = None
        if all(s.get("buf") is None for s in state.values()):
            clean_end = pos
    return ChunkParse(messages, sizes, clean_end, n, error)


def digest_offset(block: bytes, base: int) -> int:
    # Digest position: sum of the 4 bytes at `base`, mod 728, plus base + 4.
    return sum(block[base : base + 4]) % 728 + base + 4


def find_digest(block: bytes, key: bytes) -> tuple[str, int] | None:
    """Which digest scheme (offset field at byte 8 or 772) validates `block`."""
    for scheme, base in (("scheme 0 (offset field at byte 8)", 8), ("scheme 1 (offset field at byte 772)", 772)):
        off = digest_offset(block, base)
        msg = block[:off] + block[off + 32 :]
        if hmac.compare_digest(hmac.new(key, msg, hashlib.sha256).digest(), block[off : off + 32]):
            return scheme, off
    return None


def check_response(block: bytes, full_key: bytes, peer_digest: bytes) -> bool:
    """C2/S2 of the digest handshake: last 32 bytes = HMAC(HMAC(key, peer digest), rest)."""
    k = hmac.new(full_key, peer_digest, hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(k, block[:-32], hashlib.sha256).digest(), block[-32:])


@dataclass
class Handshake:
    version_byte: int
    time: int
    version_field: bytes
    digest: tuple[str, int] | None
    # How X2 answers the peer's X1: "digest response", "echo of peer's X1", or "other".
    response: str


def analyse_handshake(mine: bytes, peer: bytes, my_key: bytes, peer_key: bytes) -> Handshake:
    """`my_key`/`peer_key`: the 30/36-byte texts of this side's and the peer's key.

    X2 of the digest handshake is HMAC'd with the *sender's own* full key
    (text + 32-byte tail) applied to the peer's X1 digest.
    """
    my1 = mine[1 : 1 + HANDSHAKE_LEN]
    my2 = mine[1 + HANDSHAKE_LEN : HANDSHAKE_TOTAL]
    peer1 = peer[1 : 1 + HANDSHAKE_LEN]
    digest = find_digest(my1, my_key)
    peer_digest = find_digest(peer1, peer_key)
    response = "other"
    if my2 == peer1:
        response = "echo of peer's X1"
    elif peer_digest is not None:
        off = peer_digest[1]
        if check_response(my2, my_key + KEY_TAIL, peer1[off : off + 32]):
            response = "digest response"
    return Handshake(mine[0], struct.unpack_from(">I", my1)[0], my1[4:8], digest, response)


# --------------------------------------------------------------------------
# FLV analysis
# --------------------------------------------------------------------------


def analyse_flv(data: bytes) -> dict:
    if data[:3] != b"FLV":
        raise RuntimeError("not an FLV file")
    header_size = struct.unpack_from(">I", data, 5)[0]
    info = {
        "version": data[3],
        "flags": data[4],
        "header_size": header_size,
        "tags": [],
        "counts": {"audio": 0, "video": 0, "script": 0, "video_keyframes": 0},
    }
    pos = header_size + 4  # skip PreviousTagSize0
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        ts = int.from_bytes(data[pos + 4 : pos + 7], "big") | (data[pos + 7] << 24)
        body = data[pos + 11 : pos + 11 + size]
        prev = struct.unpack_from(">I", data, pos + 11 + size)[0] if pos + 15 + size <= len(data) else None
        desc = ""
        if ttype == 8:
            info["counts"]["audio"] += 1
            fmt = body[0] >> 4
            desc = f"audio format {fmt}" + (
                f", AAC {'sequence header' if body[1] == 0 else 'raw'}" if fmt == 10 else ""
            )
        elif ttype == 9:
            info["counts"]["video"] += 1
            ft, codec = body[0] >> 4, body[0] & 0x0F
            if ft == 1:
                info["counts"]["video_keyframes"] += 1
            desc = f"video frame type {ft} codec {codec}" + (
                f", AVC {['sequence header', 'NALU', 'end of sequence'][body[1]] if body[1] < 3 else body[1]}"
                if codec == 7 else ""
            )
        elif ttype == 18:
            info["counts"]["script"] += 1
            vals = amf0_decode_all(body)
            desc = f"script {vals[0]!r}" + (
                f" keys {sorted(vals[1].keys())}" if len(vals) > 1 and isinstance(vals[1], dict) else ""
            )
        info["tags"].append({"offset": pos, "type": ttype, "size": size, "ts": ts, "desc": desc,
                             "prev_tag_size_ok": prev == size + 11})
        pos += 11 + size + 4
    info["trailing_bytes"] = len(data) - pos
    return info


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    name: str
    command: list[str]
    publisher_command: list[str] | None
    capture: Capture
    trimmed: dict[str, int]  # direction -> bytes cut from the tail


def ffmpeg_publish_cmd(ffmpeg: str, port: int, duration: str, extra: list[str]) -> list[str]:
    return [ffmpeg, "-nostdin", "-re", *LAVFI_INPUTS, "-t", duration, *ENCODE_OPTS, *extra,
            "-f", "flv", f"rtmp://127.0.0.1:{port}/{STREAM_PATH}"]


def scenario_publish(ffmpeg: str, nginx: Nginx, tmp: Path) -> ScenarioResult:
    proxy = RecordingProxy(nginx.port, deadline_s=60)
    proxy.start()
    cmd = ffmpeg_publish_cmd(ffmpeg, proxy.port, "1.5", [])
    run_checked(cmd, timeout=60, stderr_path=tmp / "publish.ffmpeg.log")
    cap = proxy.join(30)
    if cap.error:
        raise RuntimeError(f"proxy failed: {cap.error}")
    return ScenarioResult("publish", cmd, None, cap, {})


def scenario_play(ffmpeg: str, nginx: Nginx, tmp: Path) -> ScenarioResult:
    # Lower video bitrate than `publish`: the player reads several seconds
    # while FFmpeg probes the input, and the fixture must stay small.
    pub_cmd = ffmpeg_publish_cmd(
        ffmpeg, nginx.port, "30", ["-b:v", "48k", "-maxrate", "48k", "-bufsize", "96k"]
    )
    publishes_before = nginx.log_count(PUBLISH_LOG_LINE)
    log("start publisher: " + shlex.join(pub_cmd))
    pub_log = open(tmp / "play.publisher.log", "wb")
    publisher = subprocess.Popen(pub_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=pub_log)
    try:
        # Wait until nginx has accepted the publish, then ~1.5 GOPs more so the
        # player gets metadata, both sequence headers and a keyframe at once.
        deadline = time.monotonic() + 20
        while nginx.log_count(PUBLISH_LOG_LINE) <= publishes_before:
            if publisher.poll() is not None:
                raise RuntimeError(f"publisher exited early ({publisher.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError("publisher did not start publishing within 20 s")
            time.sleep(0.2)
        time.sleep(1.5)
        proxy = RecordingProxy(nginx.port, deadline_s=60)
        proxy.start()
        # -y: without it FFmpeg refuses to "overwrite" /dev/null under -nostdin.
        cmd = [ffmpeg, "-nostdin", "-y", "-i", f"rtmp://127.0.0.1:{proxy.port}/{STREAM_PATH}",
               "-t", "1", "-c", "copy", "-f", "flv", "/dev/null"]
        run_checked(cmd, timeout=60, stderr_path=tmp / "play.ffmpeg.log")
        cap = proxy.join(30)
        if cap.error:
            raise RuntimeError(f"proxy failed: {cap.error}")
    finally:
        stop_pid(publisher, signal.SIGTERM, 10)
        pub_log.close()
    return ScenarioResult("play", cmd, pub_cmd, cap, {})


def trim_to_clean_end(res: ScenarioResult) -> None:
    """Cut each direction after its last complete chunk at which no message was
    partially sent (the player closes mid-stream; nginx may be mid-message)."""
    for direction in ("c2s", "s2c"):
        buf: bytearray = getattr(res.capture, direction)
        if len(buf) < HANDSHAKE_TOTAL:
            raise RuntimeError(f"{res.name} {direction}: only {len(buf)} bytes, handshake incomplete")
        parse = parse_chunk_stream(bytes(buf), HANDSHAKE_TOTAL)
        if parse.error:
            raise RuntimeError(f"{res.name} {direction}: chunk parse error: {parse.error}")
        cut = len(buf) - parse.clean_end
        res.trimmed[direction] = cut
        if cut:
            log(f"{res.name} {direction}: trimming {cut} trailing bytes of an incomplete message")
            del buf[parse.clean_end :]
            kept = []
            for d, off, ln in res.capture.reads:
                if d == direction:
                    if off >= parse.clean_end:
                        continue
                    ln = min(ln, parse.clean_end - off)
                kept.append((d, off, ln))
            res.capture.reads = kept


def make_flv(ffmpeg: str, out: Path, tmp: Path) -> list[str]:
    cmd = [ffmpeg, "-nostdin", "-y", *LAVFI_INPUTS, "-t", "2", *ENCODE_OPTS, "-f", "flv", str(out)]
    run_checked(cmd, timeout=60, stderr_path=tmp / "flv.ffmpeg.log")
    return cmd


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def display_cmd(cmd: list[str], ffmpeg: str, port_names: dict[int, str], out_dir: Path) -> str:
    shown = []
    for arg in cmd:
        if arg == ffmpeg:
            arg = "ffmpeg"
        for port, name in port_names.items():
            arg = arg.replace(f"127.0.0.1:{port}/", f"127.0.0.1:{name}/")
        arg = arg.replace(str(out_dir) + "/", "")
        shown.append(arg)
    return shlex.join(shown)


def condense(msgs: list[Message]) -> list[str]:
    """Message summaries, runs of audio/video collapsed into one line."""
    lines: list[str] = []
    run_a = run_v = 0

    def flush() -> None:
        nonlocal run_a, run_v
        if run_a or run_v:
            lines.append(f"... {run_v} Video + {run_a} Audio messages ...")
        run_a = run_v = 0

    for m in msgs:
        # Sequence headers are shown; other media messages are counted.
        is_seq_header = m.msg_type in (8, 9) and len(m.payload) >= 2 and m.payload[1] == 0
        if m.msg_type == 8 and not is_seq_header:
            run_a += 1
            continue
        if m.msg_type == 9 and not is_seq_header:
            run_v += 1
            continue
        flush()
        lines.append(f"[{m.offset}] csid={m.csid} msid={m.stream_id} {m.summary()}")
    flush()
    return lines


def describe_scenario(res: ScenarioResult, out_dir: Path) -> dict:
    c2s, s2c = bytes(res.capture.c2s), bytes(res.capture.s2c)
    client_hs = analyse_handshake(c2s, s2c, FP_KEY_TEXT, FMS_KEY_TEXT)
    server_hs = analyse_handshake(s2c, c2s, FMS_KEY_TEXT, FP_KEY_TEXT)
    c2s_parse = parse_chunk_stream(c2s, HANDSHAKE_TOTAL)
    s2c_parse = parse_chunk_stream(s2c, HANDSHAKE_TOTAL)

    # The quick checks the fixtures are meant to satisfy.
    assert c2s[0] == 0x03, "C0 must be version 3"
    assert s2c[0] == 0x03, "S0 must be version 3"
    connect_at = c2s.find(b"\x02\x00\x07connect")
    assert connect_at >= HANDSHAKE_TOTAL, f"connect command found at {connect_at}, expected >= 3073"
    for name, p in (("c2s", c2s_parse), ("s2c", s2c_parse)):
        assert p.clean_end == p.total, f"{name}: trailing incomplete data"
    return {
        "client_hs": client_hs,
        "server_hs": server_hs,
        "connect_at": connect_at,
        "c2s": c2s_parse,
        "s2c": s2c_parse,
    }


def hs_text(hs: Handshake, who: str) -> str:
    vf = hs.version_field
    kind = "digest (\"complex\") handshake" if hs.digest else "simple handshake (no valid digest)"
    parts = [
        f"{who}0 = 0x{hs.version_byte:02x}; {who}1 time = {hs.time}; "
        f"{who}1 version field (bytes 4..8) = {vf.hex(' ')} ({'nonzero' if any(vf) else 'zero'}); {kind}",
    ]
    if hs.digest:
        parts.append(f"  {who}1 digest validates with {hs.digest[0]}, at byte {hs.digest[1]} of {who}1")
    peer = "S" if who == "C" else "C"
    key = "Flash Player" if who == "C" else "Flash Media Server"
    if hs.response == "digest response":
        parts.append(
            f"  {who}2 = 1504 random bytes + HMAC-SHA256(HMAC-SHA256(\"Genuine Adobe {key} 001\" "
            f"+ 32-byte tail, {peer}1 digest), {who}2[0..1504])"
        )
    elif hs.response == "echo of peer's X1":
        parts.append(f"  {who}2 is a byte-for-byte echo of {peer}1")
    else:
        parts.append(f"  {who}2 is neither an echo of {peer}1 nor a valid digest response")
    return "\n".join(parts)


def write_scenario_files(res: ScenarioResult, out_dir: Path, base: str) -> dict[str, Path]:
    paths = {
        "c2s": out_dir / f"{base}.c2s.bin",
        "s2c": out_dir / f"{base}.s2c.bin",
        "reads": out_dir / f"{base}.reads.json",
    }
    paths["c2s"].write_bytes(res.capture.c2s)
    paths["s2c"].write_bytes(res.capture.s2c)
    doc = {
        "scenario": res.name,
        "files": {"c2s": paths["c2s"].name, "s2c": paths["s2c"].name},
        "note": "reads in the order the proxy made them; each is [direction, offset, length] "
                "into that direction's file; offsets are contiguous per direction",
        "trimmed_tail_bytes": res.trimmed,
        "reads": [list(r) for r in res.capture.reads],
    }
    paths["reads"].write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    ap.add_argument("--ffmpeg", default=shutil.which("ffmpeg") or "ffmpeg")
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--rtmp-module", default=DEFAULT_MODULE)
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs) for debugging")
    args = ap.parse_args()

    if not Path(args.rtmp_module).is_file():
        log(f"rtmp module not found at {args.rtmp_module} (install libnginx-mod-rtmp)")
        return 2
    out_dir: Path = args.out.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    versions = tool_versions(args.ffmpeg, args.nginx)
    for k, v in versions.items():
        log(f"{k}: {v}")

    tmp = Path(tempfile.mkdtemp(prefix="baton-capture-"))
    nginx = Nginx(args.nginx, args.rtmp_module, tmp)
    results: list[ScenarioResult] = []
    try:
        nginx.start()
        results.append(scenario_publish(args.ffmpeg, nginx, tmp))
        results.append(scenario_play(args.ffmpeg, nginx, tmp))
    finally:
        nginx.stop()
        if args.keep_tmp:
            log(f"temp dir kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    flv_tmp = Path(tempfile.mkdtemp(prefix="baton-flv-"))
    try:
        flv_path = out_dir / "ffmpeg-small.flv"
        flv_cmd = make_flv(args.ffmpeg, flv_path, flv_tmp)
    finally:
        shutil.rmtree(flv_tmp, ignore_errors=True)

    written: list[Path] = [flv_path]
    sections = []
    for res in results:
        trim_to_clean_end(res)
        info = describe_scenario(res, out_dir)
        paths = write_scenario_files(res, out_dir, f"ffmpeg-{res.name}")
        written += [paths["c2s"], paths["s2c"], paths["reads"]]
        sections.append((res, info, paths))
    flv_info = analyse_flv(flv_path.read_bytes())

    for p in written:
        size = p.stat().st_size
        if size > MAX_FIXTURE_BYTES:
            raise RuntimeError(f"{p.name} is {size} bytes, over the {MAX_FIXTURE_BYTES} limit")

    readme = render_readme(versions, sections, flv_cmd, flv_path, flv_info, args.ffmpeg, out_dir)
    (out_dir / "README.md").write_text(readme)
    for p in written:
        log(f"wrote {p.name}: {p.stat().st_size} bytes")
    log("wrote README.md")
    return 0


def render_readme(versions, sections, flv_cmd, flv_path, flv_info, ffmpeg, out_dir) -> str:
    L: list[str] = []
    L.append("# Real-peer RTMP / FLV fixtures")
    L.append("")
    L.append("Produced by `scripts/capture-fixtures.py` (regenerate with "
             "`python3 scripts/capture-fixtures.py`; this README is generated by it too). "
             "Re-running produces different bytes (random handshake data, clock times), "
             "the same structure.")
    L.append("")
    L.append("## Tool versions")
    L.append("")
    L.append(f"- `ffmpeg -version | head -1`: `{versions['ffmpeg']}` (Debian package `ffmpeg` {versions['ffmpeg_deb']})")
    L.append(f"- `nginx -V 2>&1 | head -1`: `{versions['nginx']}` (Debian package {versions['nginx_deb']})")
    L.append(f"- nginx-rtmp: Debian package `libnginx-mod-rtmp` {versions['libnginx-mod-rtmp']}, "
             f"loaded with `load_module {DEFAULT_MODULE};`")
    L.append("")
    L.append("## Summary")
    L.append("")
    for res, info, paths in sections:
        ch, sh = info["client_hs"], info["server_hs"]
        cmds = [
            (vals[0] if vals and isinstance(vals[0], str) else "?")
            for m in info["c2s"].messages if m.msg_type in (18, 20)
            for vals in [amf0_decode_all(m.payload)]
        ]
        L.append(
            f"- **{res.name}**: C1 version field `{ch.version_field.hex(' ')}` "
            f"({'nonzero' if any(ch.version_field) else 'zero'}) -> FFmpeg uses the "
            f"{'digest' if ch.digest else 'simple'} handshake; C2 is "
            f"{'an echo of S1' if ch.response.startswith('echo') else 'a ' + ch.response}; "
            f"S1 version field `{sh.version_field.hex(' ')}`, S2 is "
            f"{'an echo of C1' if sh.response.startswith('echo') else 'a ' + sh.response}. "
            f"c2s commands/data in order: {', '.join(cmds)}. "
            f"Chunk size set by FFmpeg: {', '.join(map(str, info['c2s'].chunk_sizes_set)) or 'none (128)'}; "
            f"by nginx-rtmp: {', '.join(map(str, info['s2c'].chunk_sizes_set)) or 'none (128)'}."
        )
    L.append("")
    L.append("## How the captures were made")
    L.append("")
    L.append("nginx runs in the foreground (`daemon off`, one worker) with the config template "
             "`scripts/nginx-rtmp-capture.conf` (`application live { live on; }`, `chunk_size 4096`, "
             "listening on a free 127.0.0.1 port, pid/logs in a temp dir). Between the FFmpeg "
             "client and nginx sits a single-threaded recording TCP proxy on another free "
             "loopback port (`PROXY` below; `NGINX` is nginx's own port). It records what each "
             "peer sent, byte-exact and in order:")
    L.append("")
    L.append("- `*.c2s.bin`: every byte the client (FFmpeg) sent, starting with C0 C1 C2.")
    L.append("- `*.s2c.bin`: every byte the server (nginx-rtmp) sent, starting with S0 S1 S2.")
    L.append("- `*.reads.json`: `{\"reads\": [[direction, offset, length], ...]}` — the proxy's "
             "reads in the order it made them. Each read was forwarded before the next read, so "
             "the order is causally consistent (a server reply never appears before the client "
             "bytes it answers); replaying the reads in this order reproduces the interleaving "
             "the real peers saw (modulo TCP segmentation on the other side of the proxy).")
    L.append("")
    L.append("Both directions are the raw byte stream of RTMP 1.0 (handshake, then chunk "
             "stream) with no framing added. Offsets `[n]` below are into the file of that "
             "direction. Each direction's chunk stream starts at byte 3073 (1 + 1536 + 1536).")
    L.append("")
    port_names = {}
    for res, info, paths in sections:
        # Port numbers are random per run; show symbolic names.
        for arg in res.command:
            if arg.startswith("rtmp://127.0.0.1:"):
                port_names[int(arg.split(":")[2].split("/")[0])] = "PROXY"
        if res.publisher_command:
            for arg in res.publisher_command:
                if arg.startswith("rtmp://127.0.0.1:"):
                    port_names[int(arg.split(":")[2].split("/")[0])] = "NGINX"
    for res, info, paths in sections:
        L.append(f"## `{paths['c2s'].name}`, `{paths['s2c'].name}`, `{paths['reads'].name}` ({res.name})")
        L.append("")
        if res.name == "publish":
            L.append("FFmpeg publishes 1.5 s of a 160x90 10 fps H.264 test pattern and a 440 Hz "
                     "AAC tone (real time, `-re`) through the proxy:")
        else:
            L.append("A publisher FFmpeg streams directly to nginx (not recorded):")
            L.append("")
            L.append("```")
            L.append(display_cmd(res.publisher_command, ffmpeg, port_names, out_dir))
            L.append("```")
            L.append("")
            L.append("and once nginx logged the publish (+1.5 s), a player FFmpeg plays it through "
                     "the proxy for 1 s of media, then closes the connection itself (`-y` only "
                     "because FFmpeg otherwise refuses to overwrite /dev/null under `-nostdin`). "
                     "Nothing is killed: FFmpeg sends deleteStream, nginx answers StreamEOF and "
                     "both close; the script would cut a partly sent trailing message (the README "
                     "says so when it did).")
        L.append("")
        L.append("```")
        L.append(display_cmd(res.command, ffmpeg, port_names, out_dir))
        L.append("```")
        L.append("")
        c2s_size = paths["c2s"].stat().st_size
        s2c_size = paths["s2c"].stat().st_size
        L.append(f"- `{paths['c2s'].name}`: {c2s_size} bytes, sha256 "
                 f"`{hashlib.sha256(paths['c2s'].read_bytes()).hexdigest()}`")
        L.append(f"- `{paths['s2c'].name}`: {s2c_size} bytes, sha256 "
                 f"`{hashlib.sha256(paths['s2c'].read_bytes()).hexdigest()}`")
        L.append(f"- `{paths['reads'].name}`: {paths['reads'].stat().st_size} bytes, "
                 f"{len(res.capture.reads)} reads")
        for d in ("c2s", "s2c"):
            if res.trimmed.get(d):
                L.append(f"- `{d}` was cut by {res.trimmed[d]} bytes at the end: the tail was a "
                         "message the peer had only partly sent when the connection closed. The "
                         "file ends exactly after a complete message; the reads JSON is cut to match.")
        L.append("")
        L.append("Handshake:")
        L.append("")
        L.append("```")
        L.append(hs_text(info["client_hs"], "C"))
        L.append(hs_text(info["server_hs"], "S"))
        L.append("```")
        L.append("")
        L.append(f"The AMF0 string `connect` first appears in c2s with its marker/length at byte "
                 f"{info['connect_at']} (text at {info['connect_at'] + 3}): the payload of the first "
                 "chunk after the handshake (that chunk's 12-byte fmt-0 header starts at 3073).")
        L.append("")
        for d, label in (("c2s", "connect"), ("s2c", "_result")):
            for m in info[d].messages:
                if m.msg_type != 20:
                    continue
                vals = amf0_decode_all(m.payload)
                if vals and vals[0] == label and len(vals) > 1 and vals[1] == 1.0:
                    L.append(f"`{label}` (txn 1) values after the transaction id:")
                    L.append("")
                    L.append("```")
                    for v in vals[2:]:
                        L.append(json.dumps(v, sort_keys=False))
                    L.append("```")
                    L.append("")
                    break
        L.append("(`tcUrl` carries the proxy's random port of that run.)")
        L.append("")
        for d, who in (("c2s", "FFmpeg"), ("s2c", "nginx-rtmp")):
            p = info[d]
            L.append(f"Messages in `{d}` (sent by {who}; chunk sizes it set: "
                     f"{', '.join(map(str, p.chunk_sizes_set)) or 'none (stays 128)'}; "
                     f"{len(p.messages)} messages, "
                     f"{sum(m.msg_type == 9 for m in p.messages)} video, "
                     f"{sum(m.msg_type == 8 for m in p.messages)} audio):")
            L.append("")
            L.append("```")
            L.extend(condense(p.messages))
            L.append("```")
            L.append("")
            media = [m for m in p.messages if m.msg_type in (8, 9)]
            if media:
                vids = [m for m in media if m.msg_type == 9]
                auds = [m for m in media if m.msg_type == 8]
                L.append(
                    f"Media in `{d}`: video on csid {sorted({m.csid for m in vids})}, timestamps "
                    f"{vids[0].timestamp}..{vids[-1].timestamp} ms, "
                    f"{sum(m.payload[0] >> 4 == 1 for m in vids)} keyframes; audio on csid "
                    f"{sorted({m.csid for m in auds})}, timestamps {auds[0].timestamp}..{auds[-1].timestamp} ms."
                )
                if res.name == "play":
                    L.append("(`-t 1` limits FFmpeg's *output*; its input probing reads several "
                             "seconds of the live stream first, so s2c holds more than 1 s of media.)")
                L.append("")
    L.append(f"## `{flv_path.name}` (FLV file)")
    L.append("")
    L.append("Written by FFmpeg directly (no network): 2 s of the same test pattern and tone.")
    L.append("")
    L.append("```")
    L.append(display_cmd(flv_cmd, ffmpeg, {}, out_dir))
    L.append("```")
    L.append("")
    L.append(f"- {flv_path.stat().st_size} bytes, sha256 `{hashlib.sha256(flv_path.read_bytes()).hexdigest()}`")
    c = flv_info["counts"]
    L.append(f"- FLV version {flv_info['version']}, flags 0x{flv_info['flags']:02x} "
             f"(audio {'yes' if flv_info['flags'] & 4 else 'no'}, video {'yes' if flv_info['flags'] & 1 else 'no'}), "
             f"header size {flv_info['header_size']}")
    L.append(f"- {len(flv_info['tags'])} tags: {c['script']} script, {c['video']} video "
             f"({c['video_keyframes']} keyframes), {c['audio']} audio; every PreviousTagSize "
             f"{'matches' if all(t['prev_tag_size_ok'] for t in flv_info['tags']) else 'does NOT match'}; "
             f"{flv_info['trailing_bytes']} trailing bytes")
    L.append("- first tags:")
    L.append("")
    L.append("```")
    for t in flv_info["tags"][:5]:
        L.append(f"[{t['offset']}] type {t['type']} size {t['size']} ts {t['ts']}: {t['desc']}")
    L.append("```")
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
