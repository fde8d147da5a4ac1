"""``python -m xotp_bridge --module my.handlers [--concurrency N]``: import the module (which
registers its handlers with ``@handler``) and serve."""

import importlib
import sys

from . import serve


def main(argv):
    module = None
    concurrency = None
    i = 0
    while i < len(argv):
        if argv[i] == "--module" and i + 1 < len(argv):
            module = argv[i + 1]
            i += 2
        elif argv[i] == "--concurrency" and i + 1 < len(argv):
            concurrency = int(argv[i + 1])
            i += 2
        else:
            sys.stderr.write(f"xotp_bridge: unknown argument {argv[i]!r}\n")
            return 2
    if module is None:
        sys.stderr.write("usage: python -m xotp_bridge --module MODULE [--concurrency N]\n")
        return 2
    importlib.import_module(module)
    serve(concurrency)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
