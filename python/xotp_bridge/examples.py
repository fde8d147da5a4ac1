"""Handlers the xotp tests and benchmarks use: echo, sleeping, raising, hard exits, noise on
stdout/stderr, large payloads, and deliberate protocol violations."""

import _thread
import os
import sys
import time
from _struct import pack as _pack

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
    _raw(_pack(">I", 2**31) + b"{")  # announces a 2 GiB frame
    return "unreachable"


@handler
def unknown_reply(args):
    _raw(_frame(b'{"id":999999,"ok":true,"result":"stray"}'))
    return "after stray"


def _frame(body):
    return _pack(">I", len(body)) + body


# -- gates and probes used by the bridge tests (test/bridge) ----------------------------------
# A test holds a call open until it releases it, so replies can be made to arrive in any order
# (or never) without guessing durations.

_gates = {}
_gates_lock = _thread.allocate_lock()  # threading is imported only once a gate is used
_async_gates = {}


def _gate(name):
    import threading

    with _gates_lock:
        return _gates.setdefault(name, threading.Event())


@handler
def wait_gate(args):
    """Blocks its thread (the main thread when concurrency is 1) until ``open_gate(name)``."""
    _gate(args["name"]).wait()
    return args.get("value", args["name"])


@handler
def open_gate(args):
    _gate(args["name"]).set()
    return True


def _async_gate(name):
    import asyncio

    return _async_gates.setdefault(name, asyncio.Event())


@handler
async def async_gate(args):
    """Waits on the asyncio loop (other calls keep being served) until ``open_async_gate(name)``."""
    await _async_gate(args["name"]).wait()
    return args.get("value", args["name"])


@handler
async def open_async_gate(args):
    _async_gate(args["name"]).set()
    return True


@handler
async def pending_tasks(args):
    """How many other coroutines are still running on the asyncio loop (0 once cancelled ones ended)."""
    import asyncio

    me = asyncio.current_task()
    return len([t for t in asyncio.all_tasks() if t is not me and not t.done()])


@handler
def wait_file(args):
    """Blocks the calling thread until the file ``path`` exists (ignores cancel: a late reply)."""
    while not os.path.exists(args["path"]):
        time.sleep(0.005)
    return args.get("value", "file seen")


@handler
def write_raw(args):
    """Writes the bytes given in hex straight to the reply pipe, then replies normally (or, with
    ``exit``, exits at once with that code: e.g. in the middle of a frame)."""
    _raw(bytes.fromhex(args["hex"]))
    if "exit" in args:
        os._exit(int(args["exit"]))
    return "after raw"


@handler
def non_finite(args):
    """A float JSON cannot carry (NaN, Infinity)."""
    return {"value": float(args.get("value", "nan"))}


# -- per-session state, as the seed's PoolV2ConcurrentTest used it (seed errors 3-4, 14) -------
# Programs live in the Python process that created them, in the state of the session that
# created them (``ctx.state``): a session whose calls are not all routed to one process lists
# none of them, and a session never lists another session's programs, even on one worker.
# Calls without a session share the process's own table.

_programs = {}


def _table(ctx):
    return _programs if ctx.session is None else ctx.state.setdefault("programs", {})


@handler
def create_program(args, ctx):
    _table(ctx)[str(args["id"])] = args.get("signature")
    return {"program_id": str(args["id"]), "pid": os.getpid(), "session": ctx.session}


@handler
def list_programs(args, ctx):
    return {"programs": sorted(_table(ctx)), "pid": os.getpid(), "session": ctx.session}


@handler
def session_info(args):
    """The running call's session, read through the ``session()`` accessor (no ctx parameter)."""
    from . import session

    ctx = session()
    return {"session": ctx.session, "keys": sorted(ctx.state) if ctx.state is not None else None, "pid": os.getpid()}


@handler
def whoami(args):
    """The call's own args back, with the id of the process that ran it."""
    return {"pid": os.getpid(), "args": args}


@handler
async def async_ignore_cancel(args):
    """Swallows every cancel and waits on until ``open_async_gate(name)``: a handler that does
    not honour cancellation, although it is async."""
    import asyncio

    while True:
        try:
            await _async_gate(args["name"]).wait()
            return args.get("value", args["name"])
        except asyncio.CancelledError:
            continue


@handler
async def async_session_info(args, ctx):
    """As ``session_info``, from an async handler given the context as its second parameter."""
    from . import session

    return {"session": ctx.session, "same": session() is ctx, "pid": os.getpid()}


@handler
def sessions_held(args):
    """The sessions whose state this process holds (dropped by ``xotp.endSession``)."""
    from . import _SESSION_STATE

    return sorted(_SESSION_STATE)
