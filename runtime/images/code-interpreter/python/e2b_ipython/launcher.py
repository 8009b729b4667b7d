"""Starts an IPython kernel as `python -m ipykernel_launcher` does, only faster.

debugpy and jedi are a third of ipykernel's start-up and nothing here uses them (no debugger
sessions, no completion requests), so they are hidden while the kernel initialises: ipykernel then
reports `debugger: false` and IPython completes without jedi. User code may still import both.

Run: python3 -m e2b_ipython.launcher -f CONNECTION_FILE [IPKernelApp options]
"""
import sys

HIDDEN = ("debugpy", "jedi")


def main():
    # As ipykernel_launcher does (IPython puts the working directory back on the path).
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    for name in HIDDEN:
        sys.modules.setdefault(name, None)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    for name in HIDDEN:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    app.start()


if __name__ == "__main__":
    main()
