"""``python -m xotp_bridge --module my.handlers [--concurrency N] [-- ARGS...]`` imports the module
(which registers its handlers with ``@handler``) and serves; ``--script path.py`` runs a script
(which calls ``serve()`` itself) as ``__main__``, as ``python path.py ARGS...`` would.

Either way "exit when the owner dies" is armed first, before any user code is imported: an
import of ML libraries can take many seconds, and a Node host killed meanwhile must not leave
this process behind until it ends."""

import sys

# The entry point lives in _core, whose bytecode is cached (see __init__): this file is compiled
# at every start.
from ._core import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
