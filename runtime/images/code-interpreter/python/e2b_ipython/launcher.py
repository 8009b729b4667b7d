"""Starts an IPython kernel as `python -m ipykernel_launcher` does, only faster.

debugpy and jedi are a third of ipykernel's start-up and nothing here uses them (no debugger
sessions, no completion requests), so they are hidden while the kernel initialises: ipykernel then
reports `debugger: false` and IPython completes without jedi. User code may still import both.

ipykernel flushes stdout and stderr about six times per cell, and each flush is a round trip to
its IOPub thread (~0.5 ms here) even when nothing was written: that is skipped (see
skip_empty_flushes). ipykernel's pause after each cell for IOPub to catch up (_execute_sleep) is
turned off by the interpreter's kernel argv instead: it finishes a cell on both "idle" and the
reply, so it never needed it.

Run: python3 -m e2b_ipython.launcher -f CONNECTION_FILE [IPKernelApp options]
"""
import sys

HIDDEN = ("debugpy", "jedi")


def holds_nothing(stream):
    """True when an OutStream has no text buffered and no flush of its own pending."""
    try:
        if stream.echo is not None or stream._flush_pending or not stream._is_master_process():
            return False
        with stream._buffer_lock:
            return stream._buffer.tell() == 0
    except AttributeError:  # an ipykernel whose OutStream is built differently: flush as it does
        return False


def skip_empty_flushes():
    """Makes OutStream.flush return at once when the stream holds nothing to send.

    Nothing is reordered: every message (stream output, results, status) goes out through the same
    IOPub thread queue in the order it was handed over, so an empty flush only waited. Where a
    flush has text to send, or in a forked child, ipykernel's own flush runs as before.
    """
    from ipykernel.iostream import OutStream

    full_flush = OutStream.flush

    def flush(self):
        if not holds_nothing(self):
            full_flush(self)

    OutStream.flush = flush


def main():
    # As ipykernel_launcher does (IPython puts the working directory back on the path).
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    for name in HIDDEN:
        sys.modules.setdefault(name, None)
    from ipykernel.kernelapp import IPKernelApp

    skip_empty_flushes()

    app = IPKernelApp.instance()
    app.initialize()
    for name in HIDDEN:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    app.start()


if __name__ == "__main__":
    main()
