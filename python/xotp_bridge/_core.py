"""The Python side of an xotp bridge (standard library only).

Register handlers with the ``handler`` decorator, then call ``serve()`` (or run
``python -m xotp_bridge --module your_module``). The Node side talks to this process over two
dedicated pipes: frames (a 4-byte big-endian length, then UTF-8 JSON) arrive on fd 3 and go out
on fd 4, so ``print()`` on stdout can never corrupt the protocol.

    from xotp_bridge import handler, serve

    @handler
    def embed(args):
        return {"vector": model.encode(args["text"])}

    @handler("slow")
    async def slow(args):
        await asyncio.sleep(args["seconds"])
        return "done"

    if __name__ == "__main__":
        serve()

A handler gets the call's ``args`` (any JSON value) and returns a JSON-serialisable result; an
exception fails only that call (its type, message and traceback go back to the caller).

A handler that declares a second parameter also gets the call's ``Context``: ``ctx.session`` is
the session id the caller gave (``Pool.run(..., { session })``; None without one) and
``ctx.state`` a dict private to that session in this process (None without a session), so
sessions sharing one worker never see each other's state. ``session()`` returns the same
context from anywhere in the handler (helpers, the thread it runs on, its task). When the pool
ends or expires a session it sends the built-in ``xotp.endSession``, which drops the session's
state here. Handlers of one parameter are called as before::

    @handler
    def create_program(args, ctx):
        ctx.state.setdefault("programs", {})[args["id"]] = args["signature"]
The process exits when its control pipe closes (the Node side is gone), on SIGTERM, after a
``shutdown`` frame once in-flight calls finish, and when its parent dies, so it never outlives
its owner. That holds from before the user's module is imported (``python -m xotp_bridge``
arms it first): a thread watches the control pipe while the import runs; on Linux
PR_SET_PDEATHSIG, elsewhere a poll of the parent pid, covers a handler that holds the main thread.

A frame this side cannot use (not JSON, not an object, an unknown type, an oversize length) is
answered with a ``protocol_error`` frame, never with a crash; a cancelled call is acknowledged
with a ``cancelled`` frame once its handler has really stopped.
"""

# Only what every start needs is imported here: start-up time is part of every worker's
# spawn → ready. asyncio, threads, traceback and ctypes are imported when first used.
import contextvars
import json
import os
import signal
import struct
import sys

__all__ = ["handler", "handlers", "serve", "session", "Context", "PROTOCOL"]

# The wire protocol's version, sent in the handshake; the Node side refuses any other. 2: the
# ``cancelled`` acknowledgement and ``protocol_error`` frames.
PROTOCOL = 2
IN_FD = 3
OUT_FD = 4
_HANDLERS = {}
_CO_COROUTINE = 0x0080  # inspect.CO_COROUTINE, without importing inspect (slow)
# Handlers (by operation) that declared a second parameter: they are given the call's Context.
_WANTS_CONTEXT = set()
# Session id -> that session's state dict in this process (created on the session's first call
# that reads ``ctx.state``; dropped by ``xotp.endSession``).
_SESSION_STATE = {}
_CURRENT = contextvars.ContextVar("xotp_bridge_context", default=None)


class Context:
    """What a handler knows of its call: the operation, the session id (None without one) and
    ``state``, a dict private to that session in this process (None without a session)."""

    __slots__ = ("op", "session")

    def __init__(self, op, session):
        self.op = op
        self.session = session

    @property
    def state(self):
        if self.session is None:
            return None
        state = _SESSION_STATE.get(self.session)
        if state is None:
            state = _SESSION_STATE[self.session] = {}
        return state

    def __repr__(self):
        return f"Context(op={self.op!r}, session={self.session!r})"


def session():
    """The running call's Context (``.session``, ``.state``), or None outside a call."""
    return _CURRENT.get()


def _end_session(args):
    sid = args.get("session") if isinstance(args, dict) else None
    return _SESSION_STATE.pop(sid, None) is not None


# Operations every bridge answers, not listed among the handlers: health checks use them, and
# the pool ends a session's state with xotp.endSession.
_BUILTINS = {"xotp.ping": lambda args: {"pid": os.getpid()}, "xotp.endSession": _end_session}


def _wants_context(fn):
    """Whether ``fn`` declares a second positional parameter (then it gets the Context). Read
    from its code object, through ``functools.wraps`` wrappers, without importing inspect."""
    target = fn
    while hasattr(target, "__wrapped__"):
        target = target.__wrapped__
    code = getattr(target, "__code__", None)
    if code is None:
        return False
    count = code.co_argcount
    if hasattr(target, "__self__") and hasattr(target, "__func__"):
        count -= 1  # a bound method: self is not a parameter the caller fills
    return count >= 2


def handler(name_or_fn=None):
    """Registers a function (sync or ``async``) as the handler of an operation.

    ``@handler`` uses the function's name; ``@handler("op")`` names the operation.
    """

    def register(fn, name=None):
        op = name or fn.__name__
        _HANDLERS[op] = fn
        if _wants_context(fn):
            _WANTS_CONTEXT.add(op)
        else:
            _WANTS_CONTEXT.discard(op)
        return fn

    if callable(name_or_fn):
        return register(name_or_fn)
    return lambda fn: register(fn, name_or_fn)


def _is_coroutine_function(fn):
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & _CO_COROUTINE)


def handlers():
    """The registered operation names."""
    return sorted(_HANDLERS)


def _die_with_parent():
    """Linux: SIGKILL this process when the process that spawned it exits, even if it was
    SIGKILLed and could not close the pipes in an orderly way. Returns whether it is armed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            return False
    except Exception:  # pragma: no cover - best effort
        return False
    if _parent_gone():
        os._exit(0)  # the parent died before prctl took effect
    return True


def _parent_gone():
    expected = os.environ.get("XOTP_BRIDGE_PARENT_PID")
    return bool(expected) and str(os.getppid()) != expected


def _watch_parent():
    """Where PR_SET_PDEATHSIG does not exist: notice the parent's death by polling (a process
    whose parent died is adopted, so its parent pid changes)."""
    import threading
    import time

    def poll():
        while True:
            if _parent_gone():
                os._exit(0)
            time.sleep(0.1)

    threading.Thread(target=poll, name="xotp-bridge-parent-watch", daemon=True).start()


class _PipeWatch:
    """Reads the control pipe on a thread until the server takes it over, so its EOF (Node is
    gone) ends the process while the main thread is still importing user code. Frames that
    arrive meanwhile are kept and handed over. Stopped through a wake-up pipe, so the server
    never shares the control pipe with another reader."""

    def __init__(self, fd):
        import threading

        self.fd = fd
        self.buf = bytearray()
        self.wake_r, self.wake_w = os.pipe()
        self.thread = threading.Thread(target=self._run, name="xotp-bridge-pipe-watch", daemon=True)
        self.thread.start()

    def _run(self):
        import select

        while True:
            ready, _, _ = select.select([self.fd, self.wake_r], [], [])
            if self.wake_r in ready:
                return
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                os._exit(0)  # EOF: the control pipe closed, the owner is gone
            self.buf += chunk

    def hand_over(self):
        """Stops the watch; returns the bytes it read."""
        os.write(self.wake_w, b"x")
        self.thread.join()
        os.close(self.wake_r)
        os.close(self.wake_w)
        return self.buf


_guard = {}


def _guard_owner():
    """Arms "exit when the owner dies" and the signal policy. Idempotent; the entry point
    (``python -m xotp_bridge``) calls it before it imports any user code."""
    if _guard:
        return
    _guard["armed"] = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to Node, which stops us in order
    if not _die_with_parent() and os.environ.get("XOTP_BRIDGE_PARENT_PID"):
        _watch_parent()
    try:
        os.fstat(IN_FD)
    except OSError:
        return  # not started by xotp (no control pipe): nothing to watch
    _guard["watch"] = _PipeWatch(IN_FD)


class FrameTooLarge(ValueError):
    """A reply larger than the Node side accepts (maxFrameBytes): that call fails, not the bridge."""


class _Writer:
    """Writes frames to fd 4; safe to share between threads."""

    def __init__(self, fd, threaded):
        self.fd = fd
        self.max_frame = int(os.environ.get("XOTP_BRIDGE_MAX_FRAME_BYTES", str(2**31 - 1)))
        self.lock = None
        if threaded:
            import threading

            self.lock = threading.Lock()

    def send(self, message):
        # allow_nan=False: NaN and Infinity are not JSON and would break the stream.
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
        if len(body) > self.max_frame:
            raise FrameTooLarge(f"reply of {len(body)} bytes exceeds maxFrameBytes ({self.max_frame})")
        data = struct.pack(">I", len(body)) + body
        if self.lock is None:
            self._write(data)
        else:
            with self.lock:
                self._write(data)

    def _write(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BrokenPipeError:
                os._exit(0)  # Node is gone
            view = view[n:]


class _Reader:
    """Reads frames from fd 3 through one buffer: a burst of calls costs one read, not two per call."""

    def __init__(self, fd, initial=b"", max_frame=2**31 - 1):
        self.fd = fd
        self.buf = bytearray(initial)
        self.pos = 0
        self.max_frame = max_frame

    def _fill(self, need):
        while len(self.buf) - self.pos < need:
            chunk = os.read(self.fd, max(need, 1 << 16))
            if not chunk:
                return False  # EOF: the control pipe closed
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
            self.buf += chunk
        return True

    def frame(self):
        """The next frame's body, or None at EOF. Raises FrameTooLarge for a length over the
        limit (the stream cannot be followed after that)."""
        if not self._fill(4):
            return None
        (length,) = struct.unpack_from(">I", self.buf, self.pos)
        if length > self.max_frame:
            raise FrameTooLarge(f"frame of {length} bytes exceeds maxFrameBytes ({self.max_frame})")
        if not self._fill(4 + length):
            return None
        start = self.pos + 4
        body = self.buf[start : start + length]  # json.loads takes a bytearray: no second copy
        self.pos = start + length
        return body


def _error(exc):
    import traceback

    return {
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }


async def _in_context(ctx, coro):
    # A task runs in its own copy of the context: setting it here is seen by this call only.
    _CURRENT.set(ctx)
    return await coro


def _preview(body):
    text = bytes(body[:60]).decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > 60 else ""))


class _Server:
    def __init__(self, concurrency):
        self.concurrency = max(1, int(concurrency))
        self.writer = _Writer(OUT_FD, threaded=True)
        self.executor = None
        self.loop = None
        self.inflight = {}

    # -- replies --------------------------------------------------------------------------------
    def reply(self, call_id, ok, payload):
        self.inflight.pop(call_id, None)
        message = {"id": call_id, "ok": True, "result": payload} if ok else {"id": call_id, "ok": False, "error": payload}
        try:
            self.writer.send(message)
        except (TypeError, ValueError) as exc:  # not JSON-serialisable, NaN, or too large
            self.writer.send({"id": call_id, "ok": False, "error": _error(exc)})

    def acknowledge_cancel(self, call_id):
        # The handler has stopped without replying: the Node side may forget the call.
        self.inflight.pop(call_id, None)
        self.writer.send({"type": "cancelled", "id": call_id})

    def protocol_error(self, kind, message, call_id=None):
        frame = {"type": "protocol_error", "kind": kind, "message": message}
        if call_id is not None:
            frame["id"] = call_id
        self.writer.send(frame)

    def finish(self, call_id, fn, args, ctx=None, wants=False):
        token = _CURRENT.set(ctx)
        try:
            self.reply(call_id, True, fn(args, ctx) if wants else fn(args))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            self.reply(call_id, False, _error(exc))
        finally:
            _CURRENT.reset(token)

    # -- async handlers -------------------------------------------------------------------------
    def asyncio_loop(self):
        if self.loop is None:
            import asyncio
            import threading

            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="xotp-bridge-asyncio", daemon=True).start()
        return self.loop

    def run_coroutine(self, call_id, coro, inner=None):
        # The task is created and cancelled on the loop itself (not through
        # run_coroutine_threadsafe, whose future reads "cancelled" as soon as cancel() is asked):
        # a handler that catches CancelledError and carries on is not acknowledged until it ends.
        loop = self.asyncio_loop()
        holder = self.inflight[call_id] = {}

        def done(task):
            if task.cancelled():
                if inner is not None:
                    inner.close()  # cancelled before it started: not "never awaited"
                self.acknowledge_cancel(call_id)
                return
            exc = task.exception()
            if exc is None:
                self.reply(call_id, True, task.result())
            else:
                self.reply(call_id, False, _error(exc))

        def start():
            task = holder["task"] = loop.create_task(coro)
            task.add_done_callback(done)

        loop.call_soon_threadsafe(start)

    # -- dispatch -------------------------------------------------------------------------------
    def call(self, message):
        call_id = message.get("id")
        if type(call_id) is not int:
            self.protocol_error("bad_message", f"a call frame needs an integer id, got {call_id!r}")
            return
        op = message.get("op")
        args = message.get("args")
        fn = (_HANDLERS.get(op) or _BUILTINS.get(op)) if type(op) is str else None
        if fn is None:
            self.reply(call_id, False, {"type": "UnknownOperation", "message": f"no handler for {op!r}; handlers: {handlers()}", "traceback": ""})
            return
        sid = message.get("session")
        ctx = Context(op, sid if type(sid) is str else None)
        wants = op in _WANTS_CONTEXT
        if _is_coroutine_function(fn):
            try:
                coro = fn(args, ctx) if wants else fn(args)  # a wrong signature raises here, before any task exists
            except BaseException as exc:  # noqa: BLE001
                self.reply(call_id, False, _error(exc))
                return
            self.run_coroutine(call_id, _in_context(ctx, coro), coro)
        elif self.concurrency > 1:
            if self.executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self.executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="xotp-bridge")
            holder = self.inflight[call_id] = {}
            holder["future"] = self.executor.submit(self.finish, call_id, fn, args, ctx, wants)
        else:
            self.finish(call_id, fn, args, ctx, wants)

    def cancel(self, call_id):
        holder = self.inflight.get(call_id)
        if holder is None:
            return  # already answered (its reply is the acknowledgement), or never known
        if "future" in holder:
            # A thread cannot be interrupted: only a call not yet started is cancelled; one that
            # runs is acknowledged by its reply, when it ends.
            if holder["future"].cancel():
                self.acknowledge_cancel(call_id)
            return

        def cancel_task():
            task = holder.get("task")
            if task is not None:
                task.cancel()

        # After the task's start() on the loop (call_soon_threadsafe keeps the order).
        self.loop.call_soon_threadsafe(cancel_task)

    def shutdown(self):
        # Let in-flight calls finish and reply, then leave.
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.loop is not None:
            import asyncio

            async def drain():
                tasks = [h["task"] for h in list(self.inflight.values()) if "task" in h]
                if tasks:
                    await asyncio.wait(tasks, timeout=30)

            try:
                asyncio.run_coroutine_threadsafe(drain(), self.loop).result(timeout=31)
            except BaseException:  # noqa: BLE001
                pass
        os._exit(0)

    def dispatch(self, body):
        try:
            message = json.loads(body)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            self.protocol_error("invalid_json", f"frame of {len(body)} bytes is not JSON ({type(exc).__name__}): {_preview(body)}")
            return
        if type(message) is not dict:
            self.protocol_error("bad_message", f"frame is not a JSON object: {_preview(body)}")
            return
        kind = message.get("type")
        if kind is None:
            self.call(message)
        elif kind == "cancel":
            self.cancel(message.get("id"))
        elif kind == "shutdown":
            self.shutdown()
        else:
            self.protocol_error("unknown_type", f"unknown frame type {kind!r} (protocol {PROTOCOL})", message.get("id"))

    def run(self, reader):
        self.writer.send(
            {
                "type": "ready",
                "pid": os.getpid(),
                "python": "%d.%d.%d" % sys.version_info[:3],
                "protocol": PROTOCOL,
                "handlers": handlers(),
                "concurrency": self.concurrency,
            }
        )
        while True:
            try:
                body = reader.frame()
            except FrameTooLarge as exc:
                # The length cannot be trusted, so neither can anything after it.
                self.protocol_error("frame_too_large", str(exc))
                os._exit(4)
            if body is None:
                os._exit(0)
            self.dispatch(body)


def serve(concurrency=None):
    """Serves calls until the control pipe closes. Never returns."""
    _guard_owner()
    if concurrency is None:
        concurrency = int(os.environ.get("XOTP_BRIDGE_CONCURRENCY", "1"))
    watch = _guard.pop("watch", None)
    initial = watch.hand_over() if watch is not None else b""
    max_frame = int(os.environ.get("XOTP_BRIDGE_MAX_FRAME_BYTES", str(2**31 - 1)))
    _Server(concurrency).run(_Reader(IN_FD, initial, max_frame))
