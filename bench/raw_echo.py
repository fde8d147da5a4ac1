"""The raw baseline for bench/bridge: a hand-written stdio echo with the bridge's framing
(4-byte big-endian length + UTF-8 JSON), no library, no dispatch."""
import json
import os
import struct
import sys


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send(obj):
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    data = struct.pack(">I", len(body)) + body
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]


send({"type": "ready", "pid": os.getpid()})
while True:
    header = read_exact(0, 4)
    if header is None:
        sys.exit(0)
    message = json.loads(read_exact(0, struct.unpack(">I", header)[0]))
    send({"id": message["id"], "ok": True, "result": message["args"]})
