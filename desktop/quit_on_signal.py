"""SIGINT and SIGTERM end a Qt event loop cleanly: ``app.quit()``, then the caller's own clean-up.

Python runs a signal handler only between bytecodes of the main thread, and while ``app.exec()``
waits in C++ no bytecode runs: Ctrl+C or ``kill`` would do nothing until the next mouse move.
``signal.set_wakeup_fd`` makes the C-level handler write the signal number to a socket; a
``QSocketNotifier`` on the other end wakes the event loop, and the slot quits the application.
The Python handlers themselves do nothing (they only replace the default actions: a traceback
for SIGINT, an abrupt end for SIGTERM), so ``app.exec()`` returns and ``finally`` blocks run.
"""
from __future__ import annotations

import signal
import socket

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuitOnSignals:
    """While installed, ``signals`` quit ``app``'s event loop; ``received`` is the last one that did.

    Create and :meth:`restore` on the main thread, once the application exists.
    """

    def __init__(self, app, signals=QUIT_SIGNALS):
        from PySide6.QtCore import QSocketNotifier

        self.app, self.received = app, None
        self._wanted = {int(number) for number in signals}
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        # The fd first: a signal between the two lines then still wakes the loop.
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, lambda *_: None) for number in signals}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._woken)

    def _woken(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        hits = [number for number in data if number in self._wanted]
        if hits:
            self.received = signal.Signals(hits[-1])
            self.app.quit()

    def restore(self) -> None:
        """Previous handlers and wakeup fd back; the socket pair closed."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._reader.close()
        self._writer.close()
