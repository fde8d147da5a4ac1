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
The process exits when its control pipe closes (the Node side is gone), on SIGTERM, after a
``shutdown`` frame once in-flight calls finish, and — on Linux — when its parent dies
(PR_SET_PDEATHSIG), so it never outlives its owner.
"""

# Only what every start needs is imported here: start-up time is part of every worker's
# spawn → ready. asyncio, threads, traceback and ctypes are imported when first used.
import json
import os
import signal
import struct
import sys

__all__ = ["handler", "handlers", "serve", "PROTOCOL"]

PROTOCOL = 1
IN_FD = 3
OUT_FD = 4
_HANDLERS = {}
_CO_COROUTINE = 0x0080  # inspect.CO_COROUTINE, without importing inspect (slow)
# Operations every bridge answers, not listed among the handlers: health checks use them.
_BUILTINS = {"xotp.ping": lambda args: {"pid": os.getpid()}}


def handler(name_or_fn=None):
    """Registers a function (sync or ``async``) as the handler of an operation.

    ``@handler`` uses the function's name; ``@handler("op")`` names the operation.
    """

    def register(fn, name=None):
        _HANDLERS[name or fn.__name__] = fn
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
    # Linux: deliver SIGKILL to this process when the process that spawned it exits, even if
    # it was SIGKILLed and could not close the pipes in an orderly way.
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # pragma: no cover - best effort
        return
    expected = os.environ.get("XOTP_BRIDGE_PARENT_PID")
    if expected and str(os.getppid()) != expected:
        os._exit(0)  # the parent died before prctl took effect


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

    def __init__(self, fd):
        self.fd = fd
        self.buf = bytearray()
        self.pos = 0

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
        """The next frame's body, or None at EOF."""
        if not self._fill(4):
            return None
        (length,) = struct.unpack_from(">I", self.buf, self.pos)
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

    def finish(self, call_id, fn, args):
        try:
            self.reply(call_id, True, fn(args))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the caller
            self.reply(call_id, False, _error(exc))

    # -- async handlers -------------------------------------------------------------------------
    def asyncio_loop(self):
        if self.loop is None:
            import asyncio
            import threading

            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, name="xotp-bridge-asyncio", daemon=True).start()
        return self.loop

    def run_coroutine(self, call_id, coro):
        import asyncio

        # Registered before the work can finish: a reply pops it, so nothing is left behind.
        holder = self.inflight[call_id] = {}
        future = asyncio.run_coroutine_threadsafe(coro, self.asyncio_loop())
        holder["future"] = future

        def done(f):
            if f.cancelled():
                self.inflight.pop(call_id, None)
                return
            exc = f.exception()
            if exc is None:
                self.reply(call_id, True, f.result())
            else:
                self.reply(call_id, False, _error(exc))

        future.add_done_callback(done)

    # -- dispatch -------------------------------------------------------------------------------
    def call(self, message):
        call_id = message.get("id")
        op = message.get("op")
        args = message.get("args")
        fn = _HANDLERS.get(op) or _BUILTINS.get(op)
        if fn is None:
            self.reply(call_id, False, {"type": "UnknownOperation", "message": f"no handler for {op!r}; handlers: {handlers()}", "traceback": ""})
            return
        if _is_coroutine_function(fn):
            self.run_coroutine(call_id, fn(args))
        elif self.concurrency > 1:
            if self.executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self.executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="xotp-bridge")
            holder = self.inflight[call_id] = {}
            holder["future"] = self.executor.submit(self.finish, call_id, fn, args)
        else:
            self.finish(call_id, fn, args)

    def cancel(self, call_id):
        future = (self.inflight.get(call_id) or {}).get("future")
        if future is not None and future.cancel():
            self.inflight.pop(call_id, None)

    def shutdown(self):
        # Let in-flight calls finish and reply, then leave.
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        for holder in list(self.inflight.values()):
            future = holder.get("future")
            try:
                if future is not None:
                    future.result(timeout=30)
            except BaseException:  # noqa: BLE001
                pass
        os._exit(0)

    def run(self):
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
        reader = _Reader(IN_FD)
        while True:
            body = reader.frame()
            if body is None:
                os._exit(0)
            message = json.loads(body)
            kind = message.get("type")
            if kind is None:
                self.call(message)
            elif kind == "cancel":
                self.cancel(message.get("id"))
            elif kind == "shutdown":
                self.shutdown()


def serve(concurrency=None):
    """Serves calls until the control pipe closes. Never returns."""
    _die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to Node, which stops us in order
    if concurrency is None:
        concurrency = int(os.environ.get("XOTP_BRIDGE_CONCURRENCY", "1"))
    _Server(concurrency).run()
