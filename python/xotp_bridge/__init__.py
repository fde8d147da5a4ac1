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
arms it first): a thread waits for the control pipe to hang up while the import runs; on Linux
PR_SET_PDEATHSIG (armed on the main thread before the import, so an import or a handler that
holds the GIL is covered too), elsewhere a poll of the parent pid, covers a handler that holds
the main thread.

A frame this side cannot use (not JSON, not an object, an unknown type, an oversize length) is
answered with a ``protocol_error`` frame, never with a crash; a cancelled call is acknowledged
with a ``cancelled`` frame once its handler has really stopped.
"""


# The implementation lives in _core so that its bytecode can be cached: a package's __init__
# is compiled before any of its code runs, and under PYTHONDONTWRITEBYTECODE (common in
# containers) Python would recompile all of it at every start — a third of a worker's
# spawn → ready. The cache goes where Python puts it without that flag (xotp_bridge's own
# __pycache__), only for xotp_bridge's own modules: the user's modules follow their setting.
import sys as _sys

_dont_write = _sys.dont_write_bytecode
_sys.dont_write_bytecode = False
try:
    from . import _core
finally:
    _sys.dont_write_bytecode = _dont_write

# Everything, private names included (fixtures and tools use IN_FD, _BUILTINS, ...): the same
# objects, so that changing a table here changes it for the server.
globals().update({_k: _v for _k, _v in vars(_core).items() if not _k.startswith("__")})
__all__ = _core.__all__
del _sys, _dont_write
