"""Environment check for xotp: ``python -m xotp_bridge.check [--module M]``.

Prints one JSON object on stdout: the interpreter's version and path and, with ``--module``,
whether the module imports and which handlers it registers. It never raises: an import failure
is reported with its type, message and traceback, so Node can show the user the real cause.
Standard library only; nothing from the command line is evaluated.
"""
import json
import sys
import traceback


def _check_module(name):
    import importlib

    # A module that prints while it imports must not corrupt the report on stdout.
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        importlib.import_module(name)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt in a module import are failures too
        return {
            "ok": False,
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": traceback.format_exc(),
        }
    finally:
        sys.stdout = stdout
    from xotp_bridge import handlers

    return {"ok": True, "handlers": handlers()}


def main(argv):
    module = None
    if len(argv) == 2 and argv[0] == "--module":
        module = argv[1]
    elif argv:
        print(json.dumps({"error": "usage: python -m xotp_bridge.check [--module NAME]"}))
        return 2
    report = {
        "version": list(sys.version_info[:3]),
        "executable": sys.executable,
    }
    if module is not None:
        report["module"] = _check_module(module)
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
