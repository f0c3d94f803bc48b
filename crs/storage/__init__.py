"""Session persistence: SQLAlchemy models, migrations and the :class:`Repository`."""

from crs.storage.models import FeedbackKind
from crs.storage.repository import (
    InvalidSessionIdError,
    Repository,
    StorageError,
    UnknownSessionError,
    check_session_id,
)
from crs.storage.session_lock import SessionLockTimeout

__all__ = [
    "FeedbackKind",
    "InvalidSessionIdError",
    "Repository",
    "SessionLockTimeout",
    "StorageError",
    "UnknownSessionError",
    "check_session_id",
]
