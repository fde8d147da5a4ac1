"""Handlers the xotp tests and benchmarks use: echo, sleeping, raising, hard exits, noise on
stdout/stderr, large payloads, and deliberate protocol violations."""

import os
import struct
import sys
import time

from . import OUT_FD, handler

_delay = float(os.environ.get("XOTP_EXAMPLES_IMPORT_DELAY", "0"))
if _delay > 0:
    time.sleep(_delay)  # to exercise the startup timeout


@handler
def echo(args):
    return args


@handler
def pid(args):
    return os.getpid()


@handler
def sleep(args):
    time.sleep(float(args.get("seconds", 0)) if isinstance(args, dict) else float(args or 0))
    return "slept"


@handler
async def async_sleep(args):
    import asyncio

    await asyncio.sleep(float(args.get("seconds", 0)))
    return args.get("value", "slept")


@handler("raise")
def raise_(args):
    kind = {"ValueError": ValueError, "KeyError": KeyError, "RuntimeError": RuntimeError}.get(args.get("type"), RuntimeError)
    raise kind(args.get("message", "raised on demand"))


@handler
def hard_exit(args):
    sys.stderr.write(f"hard_exit: exiting with code {args.get('code', 3)}\n")
    sys.stderr.flush()
    os._exit(int(args.get("code", 3)))


@handler
def noise(args):
    print(args.get("stdout", "noise on stdout"), flush=True)
    sys.stderr.write(args.get("stderr", "noise on stderr") + "\n")
    sys.stderr.flush()
    return "noisy"


@handler
def large(args):
    return "x" * int(args.get("bytes", 100_000))


@handler
def size(args):
    return len(args) if isinstance(args, str) else len(str(args))


@handler
def not_json(args):
    return {1, 2, 3}  # a set: not JSON-serialisable


def _raw(data):
    os.write(OUT_FD, data)


@handler
def garbage(args):
    _raw(b"\x00\x00\x00\x05not{j")  # a complete frame whose body is not JSON
    return "unreachable"


@handler
def oversize(args):
    _raw(struct.pack(">I", 2**31) + b"{")  # announces a 2 GiB frame
    return "unreachable"


@handler
def unknown_reply(args):
    _raw(_frame(b'{"id":999999,"ok":true,"result":"stray"}'))
    return "after stray"


def _frame(body):
    return struct.pack(">I", len(body)) + body
