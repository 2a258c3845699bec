"""Login on start: user name + password before the main window, or creating the administrator.

When (:func:`needs_login`): a shared (PostgreSQL) workspace, and any workspace that has user
accounts. The embedded single-seat workspace without accounts (the demo) opens as before.

- :class:`LoginDialog`: argon2id check, lockout and audit all in gis.security.authentication;
  the dialog shows its message ("用户名或密码错误", "…已锁定至 10:47…") and keeps the name.
- :class:`FirstAdminDialog`: a PostgreSQL workspace with no accounts yet creates its
  administrator (gis.security.accounts.create_first_admin) and is then logged in as it.
- :class:`DbPasswordDialog` / :func:`open_store_asking_password`: a PostgreSQL URL without a
  password whose server asks for one: the keyring's (gis.security.credentials), else asked, and
  kept in the keyring only if the user ticks the box — never in EnvGrid's own files.

:func:`ask_for_session` is what main.run_window calls: a Session, None (no login needed) or
:class:`LoginCancelled`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from gis.security.users import Session

ERROR_STYLE = "color: #c62828;"
PASSWORD_HINTS = ("password authentication failed", "no password supplied", "fe_sendauth")


class LoginCancelled(Exception):
    """The user closed the login (or first-administrator) dialog: do not open the window."""


def needs_login(store) -> bool:
    """PostgreSQL (a shared workspace) always; SQLite only once it has accounts."""
    from gis.security.users import user_count

    if store.url.get_backend_name() == "postgresql":
        return True
    with store.engine.connect() as connection:
        return user_count(connection) > 0


def _workspace_label(store) -> str:
    return store.url.render_as_string(hide_password=True) if store.url.get_backend_name() == "postgresql" \
        else (store.url.database or "")


class _Form(QDialog):
    """A titled form with a red message line and OK/Cancel."""

    def __init__(self, title: str, intro: str, ok_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = QFormLayout()
        self.message = QLabel()
        self.message.setObjectName("loginMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    @staticmethod
    def _line(placeholder: str = "", password: bool = False) -> QLineEdit:
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        return edit

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def submit(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _busy(self, work):
        """Run ``work()`` (an argon2 check: a fraction of a second) with a wait cursor."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return work()
        finally:
            QGuiApplication.restoreOverrideCursor()


class LoginDialog(_Form):
    """User name + password; ``session`` is set when accepted."""

    def __init__(self, store, *, host: str | None = None, username: str = "", parent: QWidget | None = None):
        super().__init__("登录 EnvGrid", f"工作空间：{_workspace_label(store)}", "登录", parent)
        self.store, self.host = store, host
        self.session: Session | None = None
        self.username = self._line("用户名")
        self.username.setText(username)
        self.password = self._line("密码", password=True)
        self.form.addRow("用户名：", self.username)
        self.form.addRow("密码：", self.password)
        (self.password if username else self.username).setFocus()

    def submit(self) -> None:
        from gis.security.authentication import LoginFailed, login

        name, password = self.username.text().strip(), self.password.text()
        if not name or not password:
            self.show_message("请输入用户名和密码")
            return
        try:
            self.session = self._busy(lambda: login(self.store.engine, name, password, host=self.host))
        except LoginFailed as exc:  # wrong password, unknown user, locked (until when), disabled
            self.password.clear()
            self.password.setFocus()
            self.show_message(str(exc))
            return
        except Exception as exc:  # the database went away between opening and logging in
            self.show_message(f"无法登录：{exc.__class__.__name__}: {exc}")
            return
        self.accept()


class FirstAdminDialog(_Form):
    """First run on a shared workspace: create the administrator, then log in as it."""

    def __init__(self, store, *, host: str | None = None, parent: QWidget | None = None):
        super().__init__("创建管理员", "此工作空间还没有用户账户。请创建管理员账户（之后由管理员添加坐席、GIS 编辑和领导账户）。\n"
                         f"工作空间：{_workspace_label(store)}", "创建并登录", parent)
        self.store, self.host = store, host
        self.session: Session | None = None
        self.exists = False  # another seat created the first administrator meanwhile
        self.username = self._line("例如 admin")
        self.display_name = self._line("例如 张三（可不填）")
        self.password = self._line("至少 10 个字符", password=True)
        self.confirm = self._line(password=True)
        self.form.addRow("用户名：", self.username)
        self.form.addRow("姓名：", self.display_name)
        self.form.addRow("密码：", self.password)
        self.form.addRow("确认密码：", self.confirm)
        self.username.setFocus()

    def submit(self) -> None:
        from gis.security.accounts import FirstAdminExists, create_first_admin
        from gis.security.authentication import login
        from gis.security.passwords import WeakPassword
        from gis.security.users import AccountError

        name, password = self.username.text().strip(), self.password.text()
        if password != self.confirm.text():
            self.confirm.clear()
            self.show_message("两次输入的密码不一致")
            return

        def create() -> Session:
            with self.store.engine.begin() as connection:
                create_first_admin(connection, name, password, display_name=self.display_name.text(), host=self.host)
            return login(self.store.engine, name, password, host=self.host)

        try:
            self.session = self._busy(create)
        except FirstAdminExists as exc:
            self.exists = True
            self.show_message(f"{exc}。请用已有账户登录。")
            self.reject()
            return
        except (WeakPassword, AccountError) as exc:
            self.show_message(str(exc))
            return
        self.accept()


def ask_for_session(store, *, parent: QWidget | None = None, host: str | None = None) -> Session | None:
    """The Session to open the window with: None when the workspace needs no login.

    Raises
    ------
    LoginCancelled
        The user cancelled.
    """
    from gis.security.users import user_count

    if not needs_login(store):
        return None
    with store.engine.connect() as connection:
        empty = user_count(connection) == 0
    if empty:
        dialog = FirstAdminDialog(store, host=host, parent=parent)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.session is not None:
            return dialog.session
        if not dialog.exists:
            raise LoginCancelled()
    dialog = LoginDialog(store, host=host, parent=parent)
    if dialog.exec() == QDialog.DialogCode.Accepted and dialog.session is not None:
        return dialog.session
    raise LoginCancelled()


# -- the database password ----------------------------------------------------------------------
class DbPasswordDialog(_Form):
    """The PostgreSQL password of ``key`` (user@host:port/db); optionally kept in the keyring."""

    def __init__(self, key: str, *, error: str = "", keyring_available: bool = True, parent: QWidget | None = None):
        super().__init__("数据库密码", f"数据库服务器要求密码：\n{key}", "连接", parent)
        self.password = self._line(password=True)
        self.remember = QCheckBox("保存在系统密钥环中（不写入任何文件）")
        self.remember.setEnabled(keyring_available)
        if not keyring_available:
            self.remember.setToolTip("此计算机没有可用的系统密钥环（keyring）：每次启动都会询问")
        self.form.addRow("密码：", self.password)
        self.form.addRow("", self.remember)
        if error:
            self.show_message(error)

    def submit(self) -> None:
        if not self.password.text():
            self.show_message("请输入密码")
            return
        self.accept()


def password_required(error: BaseException) -> bool:
    text = str(error).lower()
    return any(hint in text for hint in PASSWORD_HINTS)


def keyring_available() -> bool:
    from gis.security import credentials

    return credentials.available()  # installed is not enough: a headless seat has no backend


def open_store_asking_password(db, open_fn=None, ask=None, *, attempts: int = 3):
    """``open_fn(url)`` for ``db``; a PostgreSQL server asking for a password gets the keyring's,
    else ``ask(key, error) -> (password, remember) | None`` (default: :class:`DbPasswordDialog`).

    Raises StoreError as ``open_fn`` does (also when the user cancels the password dialog).
    """
    from gis.security import credentials
    from gis.storage.store import StoreError, open_store, resolve_db_url

    open_fn = open_fn or open_store
    url = resolve_db_url(db) if db is not None else None
    if url is None or url.get_backend_name() != "postgresql" or url.password:
        return open_fn(url if url is not None else db)
    key = credentials.credential_key(url)
    try:
        return open_fn(credentials.url_with_password(url))  # the keyring's, or none (trust, .pgpass)
    except StoreError as exc:
        if not password_required(exc):
            raise
        error = exc
    ask = ask or _ask_with_dialog
    for attempt in range(attempts):
        answer = ask(key, "" if attempt == 0 else "数据库密码错误，请重新输入")
        if answer is None:
            raise StoreError(f"未输入 {key} 的数据库密码") from error
        password, remember = answer
        try:
            store = open_fn(url.set(password=password))
        except StoreError as exc:
            if not password_required(exc):
                raise
            error = exc
            continue
        if remember:
            credentials.store_password(key, password)
        return store
    raise StoreError(f"{key}: 数据库密码错误（已尝试 {attempts} 次）") from error


def _ask_with_dialog(key: str, error: str):
    dialog = DbPasswordDialog(key, error=error, keyring_available=keyring_available())
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.password.text(), dialog.remember.isChecked()
