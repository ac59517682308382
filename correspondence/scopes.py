"""The scopes an API key can hold (kept apart so the CLI can list them cheaply)."""

from typing import Literal, get_args

Scope = Literal[
    "documents:write",
    "documents:read",
    "documents:read:all",
    "deliveries:write",
    "previews",
    "metrics:read",
    "admin",
]
"""One scope, as a type (the OpenAPI enum of the admin routes)."""

SCOPES: tuple[Scope, ...] = get_args(Scope)
"""What a key may do. ``documents:write`` issues (and retries its own); ``documents:read``
reads the documents and batches the key itself asked for, ``documents:read:all`` every
one; ``deliveries:write`` emails a document the key may read (and is needed for a
``deliver`` block when issuing); ``previews`` renders drafts; ``metrics:read`` scrapes
``/metrics`` (and nothing else); ``admin`` lists, creates, revokes and rotates API keys,
sets their rate limits, and lists and disables staff accounts (``/v1/admin``, and nothing
else: since it can create a key with any scope, give it to operators only)."""
