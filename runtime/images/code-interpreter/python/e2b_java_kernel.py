"""A Jupyter kernel for Java: a JShell in a JVM of its own (E2BJShellKernel, ../java), driven over
its stdin/stdout.

Cells are split into snippets and run by JShell in order, so classes, methods, variables and
imports carry over between cells. What a cell prints is streamed as it is flushed; the value of its
last snippet, when that is an expression, is the cell's result (text/plain, JShell's rendering);
a compile error or an exception is an error with name, value and traceback. An interrupt (SIGINT to
the kernel's process group, which the JVM ignores) stops the running cell with JShell.stop(). If the
JVM exits (System.exit in a cell) or a stopped cell does not end, the kernel exits with it and is
restarted by its context, as a Jupyter kernel that dies is.

Run: python3 -m e2b_java_kernel -f CONNECTION_FILE
"""
import base64
import os
import queue
import subprocess
import sys
import threading
import time

# As in e2b_bash_kernel: debugpy and jedi are unused here and slow to import.
_HIDDEN = ("debugpy", "jedi")
for _name in _HIDDEN:
    sys.modules.setdefault(_name, None)
from ipykernel.kernelapp import IPKernelApp  # noqa: E402
from ipykernel.kernelbase import Kernel  # noqa: E402

for _name in _HIDDEN:
    if sys.modules.get(_name, 0) is None:
        del sys.modules[_name]

CLASS_DIR = os.environ.get(
    "E2B_JAVA_KERNEL_CLASSES", os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "java")
)
# The kernel's process group gets SIGINT for an interrupt: that is for this kernel, not for the
# JVM, which is started with SIGINT ignored (a JVM keeps an ignored SIGINT ignored).
JAVA_ARGS = [
    "/bin/sh", "-c", 'trap "" INT; exec "$0" "$@"',
    "java", "-XX:+UseSerialGC", "-Xshare:auto", "-cp", os.path.normpath(CLASS_DIR), "e2b.jshell.E2BJShellKernel",
]
# How long a stopped cell may take to end before the kernel gives up on it (and exits).
STOP_GRACE_S = 3.0


def _decode(field):
    return base64.b64decode(field).decode("utf-8", "replace")


class JavaKernel(Kernel):
    implementation = "e2b_java_kernel"
    implementation_version = "1.0"
    language = "java"
    language_version = "17"
    language_info = {
        "name": "java",
        "mimetype": "text/x-java-source",
        "file_extension": ".jshell",
        "codemirror_mode": "java",
        "pygments_lexer": "java",
    }
    banner = "Java (JShell)"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._jvm = None
        self._events = None
        self._start_jvm()

    def _start_jvm(self):
        self._events = queue.Queue()
        self._jvm = subprocess.Popen(
            JAVA_ARGS,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.getcwd(),
        )
        reader = threading.Thread(target=self._read_events, args=(self._jvm, self._events), daemon=True)
        reader.start()
        event = self._next_event(time.monotonic() + 60)
        if not event or event[0] != "READY":
            raise RuntimeError("the Java kernel's JVM did not start")

    @staticmethod
    def _read_events(jvm, events):
        for raw in jvm.stdout:
            fields = raw.decode("ascii", "replace").split()
            if fields:
                events.put(fields)
        events.put(["EXIT"])

    def _next_event(self, deadline=None):
        """The JVM's next event, or None once `deadline` (time.monotonic) has passed."""
        # A short timeout keeps the main thread where a KeyboardInterrupt can reach it.
        while deadline is None or time.monotonic() < deadline:
            try:
                return self._events.get(timeout=0.1)
            except queue.Empty:
                continue
        return None

    def _send(self, line):
        self._jvm.stdin.write(line.encode("ascii") + b"\n")
        self._jvm.stdin.flush()

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        if not code.strip():
            return self._ok()
        try:
            self._send("EXEC " + base64.b64encode(code.encode("utf-8")).decode("ascii"))
        except OSError:
            self._end_with_jvm()
        error = None
        interrupted = False
        stop_deadline = None
        while True:
            try:
                event = self._next_event(stop_deadline)
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted = True
                    stop_deadline = time.monotonic() + STOP_GRACE_S
                    try:
                        self._send("STOP")
                    except OSError:
                        pass
                continue
            if event is None:  # stopped, but it did not end in time
                self._end_with_jvm()
            kind = event[0]
            if kind == "EXIT":
                self._end_with_jvm()
            if kind == "DONE":
                break
            if silent:
                continue
            if kind in ("OUT", "ERR"):
                name = "stdout" if kind == "OUT" else "stderr"
                self.send_response(self.iopub_socket, "stream", {"name": name, "text": _decode(event[1])})
            elif kind == "VALUE":
                self.send_response(self.iopub_socket, "execute_result", {
                    "execution_count": self.execution_count,
                    "data": {"text/plain": _decode(event[1])},
                    "metadata": {},
                })
            elif kind == "ERROR":
                error = [_decode(field) for field in event[1:4]]
        if error is not None:
            name, value, traceback = error
            if interrupted:
                name, value = "KeyboardInterrupt", "interrupted"
            return self._error(name, value, traceback.split("\n"), silent)
        if interrupted:
            return self._error("KeyboardInterrupt", "interrupted", [], silent)
        return self._ok()

    def _end_with_jvm(self):
        """The JVM is gone (System.exit) or stuck: the kernel ends too, as IJava's does. Its
        context then starts a new kernel, which gets the sandbox's env vars again."""
        self._stop_jvm()
        os._exit(1)

    def _stop_jvm(self):
        if self._jvm is None:
            return
        try:
            self._jvm.kill()
            self._jvm.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._jvm = None

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def _error(self, name, value, traceback, silent):
        content = {"ename": name, "evalue": value, "traceback": traceback}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return dict(content, status="error", execution_count=self.execution_count)

    def do_shutdown(self, restart):
        self._stop_jvm()
        return {"status": "ok", "restart": restart}


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=JavaKernel)
