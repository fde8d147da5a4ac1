"""xotp_bridge's implementation (the package re-exports all of it; see its docstring)."""

# Only what every start needs is imported here: start-up time is part of every worker's
# spawn → ready. asyncio, threads, traceback and ctypes are imported when first used. The
# C modules are taken without their Python wrappers where those only add names: the signal
# module builds three enums at import (0.6 ms of a start), contextvars re-exports.
import _thread
import os
import sys
from _struct import Struct as _Struct, pack as _pack
from time import perf_counter as _perf_counter

try:
    import _contextvars as contextvars
    import _signal as signal
except ImportError:  # pragma: no cover - another implementation's layout
    import contextvars
    import signal

__all__ = ["handler", "handlers", "serve", "session", "Context", "PROTOCOL"]

# The wire protocol's version, sent in the handshake; the Node side refuses any other. 2: the
# ``cancelled`` acknowledgement and ``protocol_error`` frames.
PROTOCOL = 2
IN_FD = 3
_unpack_length = _Struct(">I").unpack_from
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
    SIGKILLed and could not close the pipes in an orderly way. Returns whether it is armed.
    Idempotent. Armed on the main thread before any user code is imported: the setting belongs
    to the thread that makes the call, and a thread of our own could only make it once it got
    the GIL, which an import that holds the GIL (a large C extension loading) never gives up."""
    if "pdeathsig" in _guard:
        return _guard["pdeathsig"]
    armed = False
    if sys.platform.startswith("linux"):
        try:
            armed = _prctl_pdeathsig(signal.SIGKILL) == 0
        except Exception:  # pragma: no cover - best effort
            armed = False
    _guard["pdeathsig"] = armed
    if armed and _parent_gone():
        os._exit(0)  # the parent died before prctl took effect
    return armed


def _prctl_pdeathsig(sig):
    """prctl(PR_SET_PDEATHSIG, sig) through _ctypes itself (~1 ms on this path to the handshake;
    ``import ctypes`` builds its whole type library first, ~2.5 ms), else through ctypes."""
    try:
        import _ctypes

        class _Int(_ctypes._SimpleCData):
            _type_ = "i"

        class _ULong(_ctypes._SimpleCData):
            _type_ = "L"

        class _Prctl(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = _Int

        prctl = _Prctl(_ctypes.dlsym(_ctypes.dlopen(None, 2), "prctl"))  # RTLD_NOW, the program itself
        return prctl(_ULong(1), _ULong(int(sig)), _ULong(0), _ULong(0), _ULong(0))
    except Exception:  # pragma: no cover - another Python's _ctypes
        import ctypes

        return ctypes.CDLL(None).prctl(1, int(sig), 0, 0, 0)


def _parent_gone():
    expected = os.environ.get("XOTP_BRIDGE_PARENT_PID")
    return bool(expected) and str(os.getppid()) != expected


def _watch_parent():
    """Where PR_SET_PDEATHSIG does not exist: notice the parent's death by polling (a process
    whose parent died is adopted, so its parent pid changes)."""
    import time

    def poll():
        while True:
            if _parent_gone():
                os._exit(0)
            time.sleep(0.1)

    _thread.start_new_thread(poll, ())


def _watch_pipe(fd):
    """Ends the process when the control pipe hangs up (Node is gone) while the main thread is
    still importing user code. The thread never reads the pipe (poll with no events still
    reports a hang-up), so frames stay where the server reads them and nothing is handed over;
    once the server runs, its own read sees the end of the pipe, in order after every frame."""
    import select

    if not hasattr(select, "poll"):  # pragma: no cover - not on Linux or macOS
        return

    def run():
        poller = select.poll()
        poller.register(fd, 0)
        poller.poll()
        if "serving" not in _guard:
            os._exit(0)  # the control pipe closed before the server took it: the owner is gone

    # _thread, not threading.Thread: Thread.start() waits until the new thread has run (0.5 ms
    # at the median on this machine, up to 4 ms under load, on the way to the handshake).
    _thread.start_new_thread(run, ())


_guard = {}


def _guard_owner():
    """Arms "exit when the owner dies" and the signal policy. Idempotent; the entry point
    (``python -m xotp_bridge``) calls it before it imports any user code."""
    if "armed" in _guard:
        return
    _guard["armed"] = True
    # SIGTERM keeps its default action: the kernel ends the process whichever thread it hands
    # the signal to. A Python-level handler runs only on the main thread, and only once that
    # thread runs bytecode again: a SIGTERM taken by the pipe-watch, asyncio or executor thread
    # while the main thread sat in read(fd 3) was never acted on. Set explicitly, since an
    # ignored SIGTERM is inherited through exec.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to Node, which stops us in order
    if not sys.platform.startswith("linux") and os.environ.get("XOTP_BRIDGE_PARENT_PID"):
        _watch_parent()
    try:
        os.fstat(IN_FD)
    except OSError:
        return  # not started by xotp (no control pipe): nothing to watch
    _die_with_parent()
    _watch_pipe(IN_FD)


def _fast_json():
    """The encoder and decoder of every frame: json's own C encoder and scanner (``_json``),
    called directly. Not through the json package: its import pulls in ``re`` (and enum,
    functools...), 10-15 ms of a 25 ms interpreter start where nothing else loads them; and
    json.dumps/json.loads cost per call around the C code (an encoder object and two Python
    frames per dumps, encoding detection and a whitespace regex per loads), a third of this
    side's time per call. json itself is imported only on a failure path, so that errors read
    exactly as its own, or at start if this Python's _json does not behave as checked below."""
    try:
        from _json import encode_basestring, make_encoder, make_scanner
    except ImportError:  # pragma: no cover - an implementation without the C accelerator
        return _plain_json()

    def refuse(o):
        raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")

    def dumps(o):
        # A fresh markers dict per call: the encoder leaves entries behind when it fails.
        return "".join(make_encoder({}, refuse, encode_basestring, None, ":", ",", False, False, False)(o, 0))

    class _Context:
        # What json.JSONDecoder() hands its scanner: json's defaults.
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__
        memo = {}

    scan = make_scanner(_Context())

    def loads(text):
        try:
            value, end = scan(text, 0)
        except (ValueError, StopIteration, RecursionError, SystemError):
            # json's own error. SystemError: before 3.12 the C scanner builds its error from
            # json.decoder found in sys.modules, and returns NULL with no exception set while
            # that is not imported yet.
            return _json_module().loads(text)
        if end != len(text):
            return _json_module().loads(text)  # trailing whitespace, or extra data (json's error)
        return value

    try:
        # What json.dumps(sample, separators=(",", ":"), ensure_ascii=False) writes.
        sample = {"id": 1, "ok": True, "result": ["\u00e9", 1.5, None, {"k": [2**70, -0.0, "a\"\n"]}]}
        text = '{"id":1,"ok":true,"result":["\u00e9",1.5,null,{"k":[1180591620717411303424,-0.0,"a\\"\\n"]}]}'
        assert dumps(sample) == text
        assert loads(text) == sample
        assert loads('[1,2.5e3,{"a":-Infinity}]')[1] == 2500.0
        try:
            dumps(float("nan"))
        except ValueError:
            pass
        else:
            raise AssertionError("NaN encoded")
    except Exception:  # pragma: no cover - another Python's json internals
        return _plain_json()
    return dumps, loads


def _json_module():
    import json

    return json


def _plain_json():  # pragma: no cover - only where _json is missing or differs
    json = _json_module()
    return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode, json.loads


_dumps, _loads = _fast_json()


# A handler quicker than this may run while replies before it are held back (see finish_timed).
_QUICK_SECONDS = 0.0005
# At most this many frames are held: 64 held replies were one write, but Node then sat idle until
# Python had answered them all; 16 lets Node work on a part while Python answers the rest
# (64 in flight, in call/s: 1 frame a write ~50k, 8-16 ~66-69k, 64 ~52k).
_HOLD_MAX = 16
# Frames larger than this are read into a buffer of their own and written with writev.
_LARGE_FRAME = 1 << 16


class FrameTooLarge(ValueError):
    """A reply larger than the Node side accepts (maxFrameBytes): that call fails, not the bridge."""


class _Writer:
    """Writes frames to fd 4; safe to share between threads (executor and asyncio handlers
    reply from their own threads), so every write is made under its lock."""

    def __init__(self, fd):
        self.fd = fd
        self.max_frame = int(os.environ.get("XOTP_BRIDGE_MAX_FRAME_BYTES", str(2**31 - 1)))
        self.lock = _thread.allocate_lock()

    # Frames the main thread wrote while more calls were already waiting in the read buffer:
    # written together, in one os.write, when the buffer runs dry (or before a handler that may
    # be slow). A burst of 64 calls was 64 writes, each waking Node for one frame; strace showed
    # one write per reply against one read per ~60 calls.
    held = None
    main = _thread.get_ident()

    def send(self, message):
        # NaN and Infinity are refused (ValueError): they are not JSON and would break the stream.
        body = _dumps(message).encode("utf-8")
        n = len(body)
        if n > self.max_frame:
            raise FrameTooLarge(f"reply of {n} bytes exceeds maxFrameBytes ({self.max_frame})")
        if n > _LARGE_FRAME:
            # Header and body in one writev, not concatenated: a 100 KB copy kept alive beside
            # the body costs page faults on every call (see _Reader._large). Only the main thread
            # flushes what it holds (its order is the one to keep): from another thread a flush
            # races the main thread's append, and the frame appended to the list just written
            # is never sent.
            if self.held and _thread.get_ident() == self.main:
                self.flush()
            with self.lock:
                self._writev(_pack(">I", n), body)
            return
        data = _pack(">I", n) + body  # header and body in one write
        held = self.held
        if held is not None and _thread.get_ident() == self.main:
            held.append(data)
            if len(held) < _HOLD_MAX:
                return
            self.held = []
            data = b"".join(held)
        with self.lock:
            self._write(data)

    def hold(self):
        """From now on the main thread's frames wait for flush()."""
        if self.held is None:
            self.held = []

    def flush(self):
        """Writes the held frames in one write and stops holding."""
        held = self.held
        self.held = None
        if held:
            data = held[0] if len(held) == 1 else b"".join(held)
            with self.lock:
                self._write(data)

    def _writev(self, header, body):
        try:
            n = os.writev(self.fd, (header, body))
        except BrokenPipeError:
            os._exit(0)  # Node is gone
        if n == len(header) + len(body):
            return
        # A short write (Node lags behind): the rest as _write writes anything.
        if n < len(header):
            self._write(header[n:])
        self._write(memoryview(body)[max(0, n - len(header)) :])

    def _write(self, data):
        try:
            n = os.write(self.fd, data)
            if n == len(data):
                return  # a frame smaller than the pipe's buffer: always, unless Node lags behind
            view = memoryview(data)[n:]
            while view:
                view = view[os.write(self.fd, view) :]
        except BrokenPipeError:
            os._exit(0)  # Node is gone


def _select_readable():
    """select.select, imported when first needed (a process xotp started has it already: the
    pipe watch imports it; one started otherwise need not pay its ~1 ms unless it polls)."""
    global _select_readable
    from select import select

    _select_readable = lambda: select  # noqa: E731 - replaces this loader
    return select


# Without sched_yield (not a POSIX system) polling would only spin: serve() then never polls.
_sched_yield = getattr(os, "sched_yield", None)
# A yield that took longer than this gave the CPU to another process (an uncontended one returns
# in about a microsecond); when that is frequent, polling pauses this long (see _Reader._poll).
_SLOW_YIELD = 0.00002
_CONTENDED_PAUSE = 0.1


class _Reader:
    """Reads frames from fd 3 through one buffer: a burst of calls costs one read, not two per call."""

    def __init__(self, fd, max_frame=2**31 - 1, busy_wait=0.0):
        self.fd = fd
        self.buf = bytearray()
        self.pos = 0
        self.max_frame = max_frame
        # Seconds to poll the pipe before a read may sleep (0: never); see _poll.
        self.busy_wait = busy_wait
        # Whether the last wait for a frame was shorter than busy_wait: only then is it worth
        # polling for the next one.
        self.quick = False
        # How often polling found the CPU taken (a decaying count), and the perf_counter time
        # before which it does not poll after it found the CPU contended.
        self.contended = 0.0
        self.calm_at = 0.0

    def _fill(self, need):
        while len(self.buf) - self.pos < need:
            if not self.busy_wait:
                chunk = os.read(self.fd, max(need, 1 << 16))
            elif self.quick and _perf_counter() >= self.calm_at:
                self.quick = self._poll()
                chunk = os.read(self.fd, max(need, 1 << 16))
            else:
                # Timed instead: a frame that comes within the window turns polling on.
                start = _perf_counter()
                chunk = os.read(self.fd, max(need, 1 << 16))
                self.quick = _perf_counter() - start < self.busy_wait
            if not chunk:
                return False  # EOF: the control pipe closed
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
            self.buf += chunk
        return True

    def _poll(self):
        """Before a read that may sleep, while frames have been coming quickly: polls the pipe for
        up to busy_wait seconds, as the BEAM's schedulers spin before they sleep (+sbwt). A
        sleeping reader costs every call a wake-up: the writer's kernel call wakes this process
        and the scheduler brings it back (sequential 100 B round trip 41 -> 36 us here, Node's
        system time per call 15 -> 10 us). Each poll yields the CPU, so another process with work
        to run gets it. Returns whether a frame came in time: if not, polling stops until one
        again comes within the window (see _fill), so an idle worker polls once after its last
        call."""
        ready = _select_readable()
        fd = (self.fd,)
        end = _perf_counter() + self.busy_wait
        while not ready(fd, (), (), 0)[0]:
            now = _perf_counter()
            if now >= end:
                return False
            _sched_yield()
            if _perf_counter() - now < _SLOW_YIELD:
                self.contended *= 0.875
                continue
            # Another process ran on this CPU meanwhile. Now and then that is the machine's own
            # noise (0.5% of the yields of a sequential caller's worker here); when it is one in
            # five or more, the machine has no core to spare (4 busy workers on 2 cores: 80%)
            # and polling takes time from them and from Node (their throughput: -20%): no
            # polling for a while.
            self.contended += 1.0
            if self.contended > 2.0:
                self.contended = 0.0
                self.calm_at = now + _CONTENDED_PAUSE
                return False
        return True

    def _large(self, length):
        """A large frame's body, read into a buffer of its own size: through the shared buffer
        it was grown chunk by chunk, then copied out. Each extra 100 KB buffer alive at once
        cost ~18 page faults a call here (glibc hands the freed top of the heap back to the
        system and faults it in again): 2.3x raw's time for a 100 KB echo, measured in-process."""
        start = self.pos + 4
        have = len(self.buf) - start
        body = bytearray(length)
        view = memoryview(body)
        view[:have] = memoryview(self.buf)[start:]
        del self.buf[:]
        self.pos = 0
        got = have
        try:
            while got < length:
                n = os.readv(self.fd, (view[got:],))
                if n == 0:
                    return None  # EOF: the control pipe closed
                got += n
        finally:
            view.release()
        return body

    def has_frame(self):
        """Whether a whole frame is already in the buffer (its body can be taken without a read)."""
        buf = self.buf
        pos = self.pos
        return len(buf) - pos >= 4 and pos + 4 + _unpack_length(buf, pos)[0] <= len(buf)

    def frame(self):
        """The next frame's body, or None at EOF. Raises FrameTooLarge for a length over the
        limit (the stream cannot be followed after that)."""
        # A frame already whole in the buffer (every frame of a burst after the first): taken
        # with one length read and one slice (0.9 -> 0.4 us a frame).
        buf = self.buf
        pos = self.pos
        if len(buf) - pos >= 4:
            (length,) = _unpack_length(buf, pos)
            end = pos + 4 + length
            if end <= len(buf) and length <= self.max_frame:
                self.pos = end
                return buf[pos + 4 : end]
        if not self._fill(4):
            return None
        (length,) = _unpack_length(self.buf, self.pos)
        if length > self.max_frame:
            raise FrameTooLarge(f"frame of {length} bytes exceeds maxFrameBytes ({self.max_frame})")
        if length > _LARGE_FRAME:
            return self._large(length)
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
    text = body[:60] if type(body) is str else bytes(body[:60]).decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > 60 else ""))


class _Server:
    def __init__(self, concurrency):
        self.concurrency = max(1, int(concurrency))
        self.writer = _Writer(OUT_FD)
        self.executor = None
        self.loop = None
        self.inflight = {}
        self.reader = None
        # Operations whose handler last ran in under _QUICK_SECONDS (see finish_timed).
        self.quick = set()

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

    def finish_timed(self, call_id, fn, args, ctx, wants, op):
        # Replies held back would wait for this handler: only ops seen to be quick run with
        # replies held; any other first flushes them, and is timed to learn whether it is quick.
        if op not in self.quick:
            self.writer.flush()
            start = _perf_counter()
            self.finish(call_id, fn, args, ctx, wants)
            if _perf_counter() - start < _QUICK_SECONDS:
                self.quick.add(op)
            return
        start = _perf_counter()
        self.finish(call_id, fn, args, ctx, wants)
        if _perf_counter() - start >= _QUICK_SECONDS:
            self.quick.discard(op)

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
            if self.reader is not None:
                self.reader.busy_wait = 0.0  # the loop's thread runs handlers now (see serve)
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
        coroutine = _is_coroutine_function(fn)
        if self.writer.held and (coroutine or self.concurrency > 1):
            # Another thread answers this call and writes its reply at once: what this thread
            # still holds (replies, cancel acknowledgements of earlier frames) goes first, or the
            # later call's reply could overtake it.
            self.writer.flush()
        if coroutine:
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
        elif self.writer.held is not None:
            self.finish_timed(call_id, fn, args, ctx, wants, op)
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
        self.writer.flush()
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
        size = len(body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.protocol_error("invalid_json", f"frame of {size} bytes is not JSON ({type(exc).__name__}): {_preview(body)}")
            return
        if type(body) is bytearray and size > _LARGE_FRAME:
            # The frame's own buffer (the reader's copy): its bytes live on in text, and every
            # large buffer kept alive costs page faults (see _Reader._large).
            body.clear()
        try:
            message = _loads(text)
        except (ValueError, RecursionError) as exc:
            self.protocol_error("invalid_json", f"frame of {size} bytes is not JSON ({type(exc).__name__}): {_preview(text)}")
            return
        if type(message) is not dict:
            self.protocol_error("bad_message", f"frame is not a JSON object: {_preview(text)}")
            return
        text = None  # the handler and its reply run without the frame's text
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
        # From here on the end of the control pipe is this loop's to see (after every frame
        # before it), not the pipe watch's.
        _guard["serving"] = True
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
        # Armed already (before any user code) when xotp started this process; otherwise now,
        # since from here on a handler may hold the main thread.
        _die_with_parent()
        writer = self.writer
        while True:
            try:
                body = reader.frame()
            except FrameTooLarge as exc:
                # The length cannot be trusted, so neither can anything after it.
                writer.flush()
                self.protocol_error("frame_too_large", str(exc))
                os._exit(4)
            if body is None:
                writer.flush()
                os._exit(0)
            # Replies are held only while the next call is already here: a lone call (sequential
            # use) is answered with one write as before, with no wait.
            if reader.has_frame():
                writer.hold()
                self.dispatch(body)
            else:
                self.dispatch(body)
                writer.flush()


def serve(concurrency=None):
    """Serves calls until the control pipe closes. Never returns."""
    _guard_owner()
    if concurrency is None:
        concurrency = int(os.environ.get("XOTP_BRIDGE_CONCURRENCY", "1"))
    max_frame = int(os.environ.get("XOTP_BRIDGE_MAX_FRAME_BYTES", str(2**31 - 1)))
    # Polling only helps, and only costs nothing, while the main thread runs every handler: with
    # a thread pool (or, later, an asyncio loop) it would contend with them for the GIL. (Threads
    # a handler module starts itself do contend; their GIL hand-offs make yields slow, which
    # pauses polling as contention does.)
    busy_wait = int(os.environ.get("XOTP_BRIDGE_BUSY_WAIT_US", "0")) / 1e6 if concurrency == 1 and _sched_yield else 0.0
    server = _Server(concurrency)
    server.reader = reader = _Reader(IN_FD, max_frame, busy_wait)
    server.run(reader)


def main(argv):
    """``python -m xotp_bridge``; see __main__.py."""
    _guard_owner()
    module = None
    script = None
    concurrency = None
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--module" and i + 1 < len(argv):
            module = argv[i + 1]
            i += 2
        elif argv[i] == "--script" and i + 1 < len(argv):
            script = argv[i + 1]
            i += 2
        elif argv[i] == "--concurrency" and i + 1 < len(argv):
            concurrency = int(argv[i + 1])
            i += 2
        elif argv[i] == "--":
            rest = argv[i + 1 :]
            break
        else:
            sys.stderr.write(f"xotp_bridge: unknown argument {argv[i]!r}\n")
            return 2
    if (module is None) == (script is None):
        sys.stderr.write("usage: python -m xotp_bridge (--module MODULE | --script PATH) [--concurrency N] [-- ARGS...]\n")
        return 2
    if script is not None:
        import runpy

        # As `python path.py`: the script's directory first on sys.path, its args in sys.argv.
        sys.argv = [script, *rest]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
        return 0
    sys.argv = [module, *rest]
    if sys.path and sys.path[0] == "":
        # Started with -c (the bridge does): "" is the directory at each import, and a handler
        # that changes directory could no longer import its module's siblings. -m puts the
        # start directory there as an absolute path; so do we.
        try:
            sys.path[0] = os.getcwd()
        except OSError:  # the working directory was removed: nothing there to import anyway
            pass
    import importlib

    if module.startswith("xotp_bridge."):
        # One of this package's own (the examples): its bytecode is cached as _core's is.
        dont_write = sys.dont_write_bytecode
        sys.dont_write_bytecode = False
        try:
            importlib.import_module(module)
        finally:
            sys.dont_write_bytecode = dont_write
    else:
        importlib.import_module(module)
    serve(concurrency)
    return 0
