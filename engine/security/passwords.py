"""Password policy, argon2 hashing and expiry (DESIGN.md §7).

The policy answers in plain Chinese for the login and change-password pages, and every
message carries a stable ``code`` so the API, tests and translations never parse text.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from engine.errors import FieldError, ValidationFailed

ExpiryStatus = Literal["ok", "warn", "expired"]

#: Stable codes → plain-language messages (Chinese first; the UI may translate by code).
MESSAGES: dict[str, str] = {
    "too_short": "密码长度至少需要 {min_length} 位。",
    "too_few_classes": "密码需要包含小写字母、大写字母、数字、符号中的至少 {min_classes} 类。",
    "contains_username": "密码不能包含用户名。",
    "reused": "不能使用最近 {history} 次用过的密码。",
}

#: Usernames shorter than this are not searched for inside the password: a one- or
#: two-letter login name would otherwise forbid most passwords.
MIN_USERNAME_CHECK_LENGTH = 3

_DEFAULT_HASHER = PasswordHasher()


@dataclass(frozen=True)
class PasswordIssue:
    """One reason a password is refused.

    Attributes:
        code: Stable machine code (``too_short``, ``too_few_classes``, ``contains_username``, ``reused``).
        message: Plain-language Chinese message for the user.
    """

    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PasswordPolicy:
    """Password rules; defaults follow the 等保三级 baseline.

    Attributes:
        min_length: Minimum number of characters.
        min_classes: How many of lower/upper/digit/symbol must appear.
        history: A new password may not equal any of the last ``history`` passwords.
        max_age_days: Password expires after this many days; 0 disables expiry.
        warn_days: Start warning this many days before expiry.
    """

    min_length: int = 10
    min_classes: int = 3
    history: int = 5
    max_age_days: int = 90
    warn_days: int = 7

    def check(
        self,
        password: str,
        username: str | None = None,
        previous_hashes: Sequence[str] = (),
        *,
        hasher: PasswordHasher | None = None,
    ) -> list[PasswordIssue]:
        """Check a candidate password against the policy.

        Args:
            password: The candidate password.
            username: Login name; refused if it appears in the password (case-insensitive).
            previous_hashes: argon2 hashes of earlier passwords, newest first (include the
                current one). Only the first ``history`` are checked.
            hasher: Hasher used to verify against history (any argon2 hash verifies with any
                hasher, so this only matters for speed in tests).

        Returns:
            The issues found, in a stable order; an empty list means acceptable.
        """
        issues: list[PasswordIssue] = []
        if len(password) < self.min_length:
            issues.append(self._issue("too_short"))
        if character_classes(password) < self.min_classes:
            issues.append(self._issue("too_few_classes"))
        name = (username or "").strip().casefold()
        if len(name) >= MIN_USERNAME_CHECK_LENGTH and name in password.casefold():
            issues.append(self._issue("contains_username"))
        if self.history > 0 and any(
            verify_password(h, password, hasher=hasher) for h in list(previous_hashes)[: self.history]
        ):
            issues.append(self._issue("reused"))
        return issues

    def ensure_acceptable(
        self,
        password: str,
        username: str | None = None,
        previous_hashes: Sequence[str] = (),
        *,
        hasher: PasswordHasher | None = None,
        pointer: str = "/password",
    ) -> None:
        """Like :meth:`check` but raise ``ValidationFailed`` with one field error per issue.

        Raises:
            ValidationFailed: The password breaks at least one rule; ``validator`` holds the code.
        """
        issues = self.check(password, username, previous_hashes, hasher=hasher)
        if issues:
            raise ValidationFailed(
                "密码不符合安全要求。",
                [FieldError(pointer=pointer, message=i.message, validator=i.code) for i in issues],
            )

    def _issue(self, code: str) -> PasswordIssue:
        return PasswordIssue(
            code,
            MESSAGES[code].format(
                min_length=self.min_length, min_classes=self.min_classes, history=self.history
            ),
        )


def character_classes(password: str) -> int:
    """Count the character classes present: ASCII lower, ASCII upper, ASCII digit, other.

    Anything that is not an ASCII letter or digit (punctuation, CJK, full-width forms)
    counts as a symbol; whitespace counts too, because passphrases are allowed.
    """
    lower = any("a" <= c <= "z" for c in password)
    upper = any("A" <= c <= "Z" for c in password)
    digit = any("0" <= c <= "9" for c in password)
    symbol = any(not (c.isascii() and c.isalnum()) for c in password)
    return lower + upper + digit + symbol


def hash_password(password: str, *, hasher: PasswordHasher | None = None) -> str:
    """Hash a password with argon2id.

    Args:
        password: Plain password.
        hasher: Injected ``PasswordHasher`` (tests pass a light one); defaults to argon2-cffi's
            recommended parameters.

    Returns:
        The encoded argon2 hash (parameters and salt included).
    """
    return (hasher or _DEFAULT_HASHER).hash(password)


def verify_password(stored_hash: str, password: str, *, hasher: PasswordHasher | None = None) -> bool:
    """Check a password against a stored argon2 hash.

    Returns:
        True on a match. A mismatch, an empty or corrupt hash all return False, never raise.
    """
    if not stored_hash:
        return False
    try:
        return (hasher or _DEFAULT_HASHER).verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, *, hasher: PasswordHasher | None = None) -> bool:
    """Whether a hash was made with other parameters than ``hasher`` (rehash after login).

    An unparsable hash also answers True.
    """
    try:
        return (hasher or _DEFAULT_HASHER).check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


def expiry_status(
    changed_at: datetime | None, now: datetime, policy: PasswordPolicy | None = None
) -> ExpiryStatus:
    """Classify a password's age.

    Args:
        changed_at: When the password was last set; None means never (forces a change).
        now: Current time; use the same awareness (UTC-aware recommended) as ``changed_at``.
        policy: Policy to apply; defaults to ``PasswordPolicy()``.

    Returns:
        ``"expired"`` at or after ``max_age_days``, ``"warn"`` within ``warn_days`` of that,
        otherwise ``"ok"``. ``max_age_days == 0`` disables expiry.
    """
    policy = policy or PasswordPolicy()
    if policy.max_age_days <= 0:
        return "ok"
    if changed_at is None:
        return "expired"
    expires_at = changed_at + timedelta(days=policy.max_age_days)
    if now >= expires_at:
        return "expired"
    if now >= expires_at - timedelta(days=policy.warn_days):
        return "warn"
    return "ok"
