"""Handlers for the demo (`npm start`, `xotp demo`).

`embed` and `score` are pure functions of their arguments, so the pool may safely run them twice:
the demo declares them idempotent and a call whose worker was killed is retried elsewhere.
`remember` keeps per-session state in this process, so it is NOT idempotent and a session whose
worker dies is lost (SessionLostError), never silently moved to a process that lacks its state.

The demo checks every answer in Node: `embed`'s vector is the first 8 bytes of the text's
SHA-256, each divided by 255 (the same float in Python and JavaScript).
"""
import hashlib
import os
import time

from xotp_bridge import handler

_sessions = {}


@handler
def embed(args):
    if args.get("delay_ms"):
        time.sleep(args["delay_ms"] / 1000)  # stands in for a model's latency (examples/httpService.ts)
    digest = hashlib.sha256(args["text"].encode("utf-8")).digest()
    return {"vector": [b / 255 for b in digest[:8]]}


@handler
def score(args):
    words = set(args["query"].split())
    return {"score": sum(1 for w in args["text"].split() if w in words)}


@handler
def remember(args):
    items = _sessions.setdefault(args["session"], [])
    items.append(args["item"])
    return {"count": len(items), "pid": os.getpid()}


@handler
def forget(args):
    return _sessions.pop(args["session"], None) is not None
