"""Optional password protection of the web app (``CRS_AUTH`` / ``CRS_AUTH_FILE``).

Gradio's own login (``launch(auth=...)``) guards the page, its event handlers and the
``/chat`` API alike: without a login cookie every route but the login page answers 401.
Credentials come from the settings only; they are never logged or shown. See
docs/security.md for the deployment advice (use HTTPS in front of it when not on
localhost: the login form sends the password as typed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class AuthConfigError(ValueError):
    """Malformed credentials in CRS_AUTH or CRS_AUTH_FILE (the message says where, never the password)."""


def _pairs(text: str, where: str, separator: str) -> list[tuple[str, str]]:
    pairs = []
    for number, entry in enumerate(text.split(separator), 1):
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        user, colon, password = entry.partition(":")
        if not colon or not user.strip() or not password:
            raise AuthConfigError(f"{where}: entry {number} must look like user:password")
        pairs.append((user.strip(), password))
    return pairs


def credentials(settings: Any) -> list[tuple[str, str]] | None:
    """The (user, password) pairs that may log in, or None when the app is open.

    Raises:
        AuthConfigError: An entry without a user or a password, an unreadable file, or a
            file with no entry at all.
    """
    pairs: list[tuple[str, str]] = []
    secret = getattr(settings, "auth", None)
    if secret is not None:
        value = secret.get_secret_value() if hasattr(secret, "get_secret_value") else str(secret)
        pairs += _pairs(value, "CRS_AUTH", ",")
    path: Path | None = getattr(settings, "auth_file", None)
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthConfigError(f"CRS_AUTH_FILE {path}: cannot read it ({type(exc).__name__})") from None
        found = _pairs(text, f"CRS_AUTH_FILE {path}", "\n")
        if not found:
            raise AuthConfigError(f"CRS_AUTH_FILE {path}: no user:password line")
        pairs += found
    return pairs or None


def launch_options(settings: Any) -> dict[str, Any]:
    """Extra ``Blocks.launch`` arguments for the configured protection ({} when open)."""
    pairs = credentials(settings)
    if not pairs:
        return {}
    return {"auth": pairs, "auth_message": "CineCRS: please log in."}
