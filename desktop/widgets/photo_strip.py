"""Attachment thumbnails in a row; double-click opens the photo full size.

Two kinds of entries: files picked for upload (a path; removable before saving) and stored
attachments (an id; their bytes come from the database through ``loader``). Decoding a
phone photo takes tens of milliseconds, so thumbnails are made in the background
(``QImageReader`` decodes JPEG at the reduced size directly) and replace a placeholder.
"""
from __future__ import annotations

import mimetypes
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QListView, QListWidget,
    QListWidgetItem, QMessageBox, QPushButton, QScrollArea, QStyle, QVBoxLayout, QWidget,
)

from desktop.workers import run_in_background

THUMB = 88
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
PHOTO_FILTER = "照片和文件 (*.jpg *.jpeg *.png *.bmp *.gif *.webp *.heic *.pdf);;所有文件 (*)"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def is_image(filename: str, mime: str = "") -> bool:
    return (mime or mimetypes.guess_type(filename)[0] or "").startswith("image/") \
        or Path(filename).suffix.lower() in IMAGE_SUFFIXES


def read_image(source: bytes | str | Path, size: int | None = None) -> QImage:
    """Decode a photo (file or bytes), turned upright per its EXIF, scaled to fit ``size``; any thread."""
    if isinstance(source, (bytes, bytearray)):
        buffer = QBuffer()
        buffer.setData(QByteArray(bytes(source)))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(str(source))
    reader.setAutoTransform(True)
    if size:
        original = reader.size()
        if original.isValid() and (original.width() > size or original.height() > size):
            reader.setScaledSize(original.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if size and not image.isNull() and (image.width() > size or image.height() > size):
        image = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image


class PhotoStrip(QListWidget):
    """Thumbnails in one row. Keys: ``("file", path)`` or ``("stored", attachment_id)``.

    ``loader(attachment_id) -> (filename, mime, bytes)`` fetches a stored attachment (it runs
    in the background); without it stored entries cannot be opened.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, removable: bool = False,
                 loader: Callable[[int], tuple[str, str, bytes]] | None = None):
        super().__init__(parent)
        self.removable, self.loader = removable, loader
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 24, THUMB + 30))
        self.setSpacing(2)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedHeight(THUMB + 42)  # one row of thumbnails with names, room for a scroll bar
        self.setToolTip("双击查看原图" + ("；Delete 键移除" if removable else ""))
        self.itemActivated.connect(self._open)
        self._placeholder = self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    # -- content --------------------------------------------------------------------------
    def keys(self) -> list[tuple]:
        return [self.item(row).data(KEY_ROLE) for row in range(self.count())]

    def paths(self) -> list[Path]:
        """Files picked for upload, in the order shown."""
        return [Path(key[1]) for key in self.keys() if key[0] == "file"]

    def add_files(self, paths: Iterable[str | Path]) -> None:
        known = set(self.keys())
        for path in paths:
            key = ("file", str(Path(path)))
            if key in known:
                continue
            known.add(key)
            item = self._add(key, Path(path).name)
            item.setToolTip(str(path))
            if is_image(str(path)):
                self._make_thumbnail(key, str(path))
        self.changed.emit()

    def add_stored(self, attachment_id: int, filename: str, mime: str = "", size: int = 0) -> None:
        item = self._add(("stored", attachment_id), filename)
        item.setToolTip(f"{filename}（{size / 1024:,.0f} KB）" if size else filename)

    def set_thumbnail(self, key: tuple, image: QImage) -> None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(KEY_ROLE) == key and not image.isNull():
                item.setIcon(QIcon(QPixmap.fromImage(image)))

    def clear_all(self) -> None:
        self.clear()
        self.changed.emit()

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            if item.data(KEY_ROLE)[0] == "file":
                self.takeItem(self.row(item))
        self.changed.emit()

    def _add(self, key: tuple, text: str) -> QListWidgetItem:
        item = QListWidgetItem(self._placeholder, text)
        item.setData(KEY_ROLE, key)
        item.setSizeHint(QSize(THUMB + 20, THUMB + 28))
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.addItem(item)
        return item

    def _make_thumbnail(self, key: tuple, path: str) -> None:
        run_in_background(lambda: read_image(path, THUMB * 2), lambda image: self.set_thumbnail(key, image),
                          lambda exc: None, receiver=self)

    def keyPressEvent(self, event) -> None:
        if self.removable and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.remove_selected()
            return
        super().keyPressEvent(event)

    # -- opening --------------------------------------------------------------------------
    def _open(self, item: QListWidgetItem) -> None:
        key = item.data(KEY_ROLE)
        if key[0] == "file":
            path = key[1]
            if is_image(path):
                PhotoViewer.show_image(self, Path(path).name, read_image(path))
            else:
                QDesktopServices.openUrl(QUrl.fromLocalFile(path))
            return
        if self.loader is None:
            return
        attachment_id = key[1]
        self.setCursor(Qt.CursorShape.BusyCursor)
        run_in_background(lambda: self.loader(attachment_id), self._show_loaded, self._show_failed, receiver=self)

    def _show_loaded(self, loaded: tuple[str, str, bytes]) -> None:
        self.unsetCursor()
        filename, mime, data = loaded
        if is_image(filename, mime):
            image = read_image(data)
            if not image.isNull():
                PhotoViewer.show_image(self, filename, image)
                return
        folder = Path(tempfile.mkdtemp(prefix="envgrid-"))
        target = folder / Path(filename).name
        target.write_bytes(data)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def _show_failed(self, exc: Exception) -> None:
        self.unsetCursor()
        QMessageBox.warning(self, "无法打开附件", str(exc))


class PhotoPicker(QWidget):
    """A removable strip with 添加照片… and 移除 buttons, for forms that upload."""

    def __init__(self, parent: QWidget | None = None, *, button_text: str = "添加照片…"):
        super().__init__(parent)
        self.strip = PhotoStrip(removable=True)
        self.add_button = QPushButton(button_text)
        self.add_button.clicked.connect(self.choose_files)
        self.remove_button = QPushButton("移除")
        self.remove_button.clicked.connect(self.strip.remove_selected)
        for button in (self.add_button, self.remove_button):
            button.setAutoDefault(False)  # Enter in a form field must not open the file picker
        self.count_label = QLabel()
        self.count_label.setStyleSheet("color:#607d8b")
        self.strip.changed.connect(self._update)
        self.strip.itemSelectionChanged.connect(self._update)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.count_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.strip)
        self._update()

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "选择照片或文件", "", PHOTO_FILTER)
        if paths:
            self.strip.add_files(paths)

    def add_files(self, paths: Sequence[str | Path]) -> None:
        self.strip.add_files(paths)

    def paths(self) -> list[Path]:
        return self.strip.paths()

    def clear(self) -> None:
        self.strip.clear_all()

    def _update(self) -> None:
        n = self.strip.count()
        self.count_label.setText(f"已选 {n} 个文件" if n else "未添加")
        self.strip.setVisible(n > 0)
        self.remove_button.setEnabled(bool(self.strip.selectedItems()))


class PhotoViewer(QDialog):
    """One photo, fitted to the screen, scrollable at full size."""

    def __init__(self, title: str, image: QImage, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.image = image
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        screen = self.screen().availableGeometry().size() if self.screen() else QSize(1280, 800)
        fit = QSize(int(screen.width() * 0.8), int(screen.height() * 0.75))
        pixmap = QPixmap.fromImage(image)
        if pixmap.width() > fit.width() or pixmap.height() > fit.height():
            pixmap = pixmap.scaled(fit, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.label.setPixmap(pixmap)
        scroll = QScrollArea()
        scroll.setWidget(self.label)
        scroll.setWidgetResizable(True)
        info = QLabel(f"{title}　{image.width()} × {image.height()} 像素")
        info.setStyleSheet("color:#607d8b")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        save = buttons.addButton("另存为…", QDialogButtonBox.ButtonRole.ActionRole)
        save.clicked.connect(self._save)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(info)
        layout.addWidget(buttons)
        self.resize(pixmap.width() + 40, pixmap.height() + 100)

    @classmethod
    def show_image(cls, parent: QWidget, title: str, image: QImage) -> PhotoViewer | None:
        if image.isNull():
            QMessageBox.warning(parent, "无法打开照片", f"{title} 不是可识别的图片")
            return None
        viewer = cls(title, image, parent)
        viewer.show()
        return viewer

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "另存为", self.windowTitle(), "图片 (*.jpg *.png)")
        if path and not self.image.save(path):
            QMessageBox.warning(self, "保存失败", f"无法写入 {path}")
