"""The python-shell peer for bench/bridge: python-shell's JSON mode speaks newline-delimited JSON
over stdin/stdout, so its Python side is this loop (as a python-shell user writes it)."""
import json
import sys

sys.stdout.write(json.dumps({"type": "ready"}) + "\n")
sys.stdout.flush()
for line in sys.stdin:
    message = json.loads(line)
    sys.stdout.write(json.dumps({"id": message["id"], "ok": True, "result": message["args"]}, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.flush()
