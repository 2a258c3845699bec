"""视图 → 大屏模式: opens the wall view full screen on the main window's screen (Esc closes it)."""
from __future__ import annotations

from PySide6.QtCore import Qt


def install_display_action(window, menu) -> None:
    def open_display() -> None:
        from desktop.display.window import DisplayWindow

        screen = window.screen()
        wall = DisplayWindow(window.store, height=screen.geometry().height())
        wall.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wall.setWindowFlag(Qt.WindowType.FramelessWindowHint)
        wall.setGeometry(screen.geometry())
        window._display_wall = wall   # keep it alive
        wall.showFullScreen()

    menu.addAction("大屏模式", open_display)
