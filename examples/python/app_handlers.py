"""Handlers for examples/app.ts: a toy 'embed' that keeps per-session state in this process."""
import hashlib
import os

from xotp_bridge import handler

_seen = {}


@handler
def embed(args):
    text = args["text"]
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    session = args.get("session")
    if session is not None:
        _seen[session] = _seen.get(session, 0) + 1
    return {"vector": [b / 255 for b in digest[:8]], "pid": os.getpid(), "calls_in_session": _seen.get(session, 0)}
