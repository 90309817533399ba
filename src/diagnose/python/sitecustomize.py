"""memgate's startup hook: starts the diagnosis helper (memgate_diag) when
MEMGATE_DIAG_DIR is set, then runs the sitecustomize this one hides on sys.path, as
site.py would have. Errors in the helper are its own; errors in the hidden one show as
they would without memgate."""

import os
import sys


def _memgate_start():
    if not os.environ.get("MEMGATE_DIAG_DIR"):
        return
    try:
        import memgate_diag

        memgate_diag.start()
    except Exception:
        pass


def _memgate_chain():
    try:
        # The import system's own modules, always loaded: importlib.util is not (and
        # importing it leaves garbage on some versions).
        PathFinder = sys.modules["_frozen_importlib_external"].PathFinder
        module_from_spec = sys.modules["_frozen_importlib"].module_from_spec

        here = os.path.realpath(os.path.dirname(os.path.abspath(__file__)))
        others = []
        for entry in sys.path:
            try:
                if os.path.realpath(entry or os.curdir) == here:
                    continue
            except (TypeError, ValueError):
                pass
            others.append(entry)
        spec = PathFinder.find_spec("sitecustomize", others)
        if spec is None or spec.loader is None:
            return
        ours = sys.modules.get(__name__)
        module = module_from_spec(spec)
    except Exception:
        return
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        # What site.execsitecustomize does with a failing sitecustomize.
        if ours is not None:
            sys.modules["sitecustomize"] = ours
        if isinstance(err, ImportError) and err.name == "sitecustomize":
            return
        if sys.flags.verbose:
            sys.excepthook(*sys.exc_info())
        else:
            sys.stderr.write(
                "Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                "%s: %s\n" % (err.__class__.__name__, err))


_memgate_start()
_memgate_chain()
