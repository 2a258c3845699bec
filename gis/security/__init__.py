"""Accounts, login, permissions, audit and PostgreSQL roles (issue 6). No Qt.

- ``passwords``: argon2id hash / verify / needs_rehash, password policy
- ``users``: UserRole, User, Session, Scope; reading accounts; data-scope SQL
- ``authentication``: login (lockout, audit, rehash)
- ``accounts``: create_first_admin, create_user, set_password, lock_user, unlock_user, update_user
- ``permissions``: Permission, ROLE_PERMISSIONS, require, require_in_scope, scope_filter, authorize
- ``audit``: audited (same transaction as the change), read_audit
- ``pg_roles``: group/login roles, GRANTs and row-level security from the permission table
- ``credentials``: database passwords from the keyring (optional) or asked
"""
from gis.security.accounts import (FirstAdminExists, LastAdmin, UserExists, create_first_admin, create_user,
                                   list_users, lock_user, set_password, unlock_user, update_user)
from gis.security.audit import AuditEntry, audited, read_audit
from gis.security.authentication import (LOCKOUT, MAX_FAILURES, AccountDisabled, AccountLocked, LoginFailed, login,
                                            logout)
from gis.security.passwords import WeakPassword, hash_password, needs_rehash, verify_password
from gis.security.permissions import (ROLE_PERMISSIONS, Permission, PermissionDenied, allowed, authorize, require,
                                      require_in_scope, scope_filter)
from gis.security.users import (ROLE_LABELS, AccountError, Scope, Session, User, UserNotFound, UserRole, get_user,
                                open_session, parse_role, user_count)

__all__ = [
    "LOCKOUT", "MAX_FAILURES", "ROLE_LABELS", "ROLE_PERMISSIONS", "AccountDisabled", "AccountError", "AccountLocked",
    "AuditEntry", "FirstAdminExists", "LastAdmin", "LoginFailed", "Permission", "PermissionDenied", "Scope", "Session",
    "User", "UserExists", "UserNotFound", "UserRole", "WeakPassword", "allowed", "audited", "authorize",
    "create_first_admin", "create_user", "get_user", "hash_password", "list_users", "lock_user", "login", "logout",
    "needs_rehash", "open_session", "parse_role", "read_audit", "require", "require_in_scope", "scope_filter",
    "set_password", "unlock_user", "update_user", "user_count", "verify_password",
]
