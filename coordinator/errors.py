"""The coordinator's own errors, each a subclass of the ELS hierarchy with a stable code."""

from __future__ import annotations

from els.errors import ConflictError


class BatchConflictError(ConflictError):
    """A batch with this id exists and was registered with a different request."""

    code = "BATCH_CONFLICT"


class EssayIdTakenError(ConflictError):
    """An explicit essay id is already registered in another live batch of the same shard."""

    code = "ESSAY_ID_TAKEN"
