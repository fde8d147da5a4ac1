"""``python -m xotp_bridge --module my.handlers [--concurrency N] [-- ARGS...]`` imports the module
(which registers its handlers with ``@handler``) and serves; ``--script path.py`` runs a script
(which calls ``serve()`` itself) as ``__main__``, as ``python path.py ARGS...`` would.

Either way "exit when the owner dies" is armed first, before any user code is imported: an
import of ML libraries can take many seconds, and a Node host killed meanwhile must not leave
this process behind until it ends."""

import sys

from . import _guard_owner


def main(argv):
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
        import os
        import runpy

        # As `python path.py`: the script's directory first on sys.path, its args in sys.argv.
        sys.argv = [script, *rest]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
        return 0
    sys.argv = [module, *rest]
    import importlib

    importlib.import_module(module)
    from . import serve

    serve(concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
