"""A Jupyter kernel for Bash: one persistent interactive bash on a pseudo-terminal.

Each cell is written to a file and sourced by that bash, so variables, functions, the working
directory and exports carry over between cells. Output is streamed while the cell runs (stdout and
stderr both arrive on the terminal, so both are reported as stdout). A non-zero exit status of the
cell's last command is reported as an error. An interrupt (SIGINT to the kernel) becomes Ctrl-C on
the terminal, which stops the running command and keeps the shell.

Run: python3 -m e2b_bash_kernel -f CONNECTION_FILE
"""
import os
import re
import shutil
import signal
import sys
import tempfile

import pexpect

# debugpy (and jedi) are a third of ipykernel's import time and unused here: hide them while
# ipykernel is imported (it then reports debugger: false).
_HIDDEN = ("debugpy", "jedi")
for _name in _HIDDEN:
    sys.modules.setdefault(_name, None)
from ipykernel.kernelapp import IPKernelApp  # noqa: E402
from ipykernel.kernelbase import Kernel  # noqa: E402

for _name in _HIDDEN:
    if sys.modules.get(_name, 0) is None:
        del sys.modules[_name]

MARK = "\x1eE2B-BASH-DONE:"
MARK_END = "\x1f"
_DONE = re.compile(re.escape(MARK) + r"(\d+)" + re.escape(MARK_END))
RC_FILE = """
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f ~/.bashrc ] && . ~/.bashrc
stty -echo -onlcr 2>/dev/null
unset HISTFILE
PS1=''
PS2=''
PROMPT_COMMAND='printf "\\036E2B-BASH-DONE:%s\\037" "$?"'
"""


class BashKernel(Kernel):
    implementation = "e2b_bash_kernel"
    implementation_version = "1.0"
    language = "bash"
    language_version = "5"
    language_info = {
        "name": "bash",
        "mimetype": "text/x-sh",
        "file_extension": ".sh",
        "codemirror_mode": "shell",
        "pygments_lexer": "bash",
    }
    banner = "Bash"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._dir = tempfile.mkdtemp(prefix="e2b-bash-")
        self._cell = os.path.join(self._dir, "cell.sh")
        with open(os.path.join(self._dir, "bashrc"), "w") as rc:
            rc.write(RC_FILE)
        self._bash = None
        self._start_bash()

    def _start_bash(self):
        # Restore default SIGINT for the shell; ipykernel ignores it in its own process.
        handler = signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            self._bash = pexpect.spawn(
                "/bin/bash",
                ["--noediting", "--rcfile", os.path.join(self._dir, "bashrc"), "-i"],
                echo=False,
                encoding="utf-8",
                codec_errors="replace",
                env=dict(os.environ, TERM="dumb"),
                cwd=os.getcwd(),
                dimensions=(50, 200),
            )
        finally:
            signal.signal(signal.SIGINT, handler)
        self._bash.delaybeforesend = None
        self._read_until_done(lambda _text: None)

    def _read_until_done(self, emit):
        """Reads the shell's output until its prompt marker; returns the exit status."""
        buffer = ""
        while True:
            try:
                buffer += self._bash.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                pass
            match = _DONE.search(buffer)
            if match:
                if match.start() > 0:
                    emit(buffer[: match.start()])
                return int(match.group(1))
            # Keep back what may be the start of the marker.
            cut = buffer.find("\x1e")
            ready, buffer = (buffer, "") if cut < 0 else (buffer[:cut], buffer[cut:])
            if ready:
                emit(ready)

    def _stream(self, text):
        self.send_response(self.iopub_socket, "stream", {"name": "stdout", "text": text})

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        emit = (lambda _text: None) if silent else self._stream
        if not code.strip():
            return self._ok()
        with open(self._cell, "w") as cell:
            cell.write(code if code.endswith("\n") else code + "\n")
        interrupted = False
        try:
            self._bash.sendline(f"source {self._cell}")
            try:
                status = self._read_until_done(emit)
            except KeyboardInterrupt:
                interrupted = True
                self._bash.sendintr()
                status = self._read_until_done(emit)
        except (pexpect.EOF, OSError):
            self._bash = None
            self._start_bash()
            return self._error("ShellExited", "the shell exited; a new one was started", silent)
        if interrupted:
            return self._error("KeyboardInterrupt", "interrupted", silent)
        if status != 0:
            return self._error("ExitCodeError", str(status), silent)
        return self._ok()

    def _ok(self):
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def _error(self, name, value, silent):
        content = {"ename": name, "evalue": value, "traceback": []}
        if not silent:
            self.send_response(self.iopub_socket, "error", content)
        return dict(content, status="error", execution_count=self.execution_count)

    def do_shutdown(self, restart):
        if self._bash is not None:
            self._bash.close(force=True)
        shutil.rmtree(self._dir, ignore_errors=True)
        return {"status": "ok", "restart": restart}


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=BashKernel)
