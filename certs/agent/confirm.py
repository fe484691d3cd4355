"""The user's yes or no to each operation, asked in the terminal the agent runs in.

Questions go to standard output, answers come from standard input (a line: ``y``/``yes``/``是``
approves; anything else, end of input or no answer within the timeout refuses). One question at a
time; answers typed before a question was asked are thrown away, so a stray ``y`` never approves
a later request. Tests answer through the agent process's stdin the same way a user does; there
is no switch that approves by itself.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import TextIO

_YES = frozenset({"y", "yes", "是"})


class TerminalConfirmer:
    def __init__(self, answers: TextIO | None = None, out: TextIO | None = None, timeout: float = 120.0) -> None:
        self._out = out or sys.stdout
        self._timeout = timeout
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        source = answers or sys.stdin
        threading.Thread(target=self._read, args=(source,), daemon=True, name="agent-answers").start()

    def _read(self, source: TextIO) -> None:
        for line in source:
            self._lines.put(line)
        self._lines.put(None)  # end of input: every later question is refused

    def ask(self, question: str) -> bool:
        """Print ``question`` and wait for the user's answer; True only for an explicit yes."""
        with self._lock:
            closed = False
            while True:  # forget anything typed before this question
                try:
                    stale = self._lines.get_nowait()
                except queue.Empty:
                    break
                if stale is None:
                    closed = True
            if closed:
                self._lines.put(None)
                self._say(f"{question} [y/N] — 无法询问 (no input): 已拒绝 (refused)")
                return False
            self._say(f"{question} [y/N]")
            try:
                answer = self._lines.get(timeout=self._timeout)
            except queue.Empty:
                self._say("超时未确认，已拒绝 (no answer in time: refused)")
                return False
            if answer is None:
                self._lines.put(None)
                return False
            approved = answer.strip().lower() in _YES
            self._say("已确认 (approved)" if approved else "已拒绝 (refused)")
            return approved

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)
