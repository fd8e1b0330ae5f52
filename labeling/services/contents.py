from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.history import save_with_history
from core.text import text_check
from labeling.models import Content, text_hash
from labeling.services.words import content_words_refresh_later

TITLE_MAX = Content._meta.get_field("title").max_length


def content_fields(
    *, external_id: str, title: str, body: str, source: str = "", modified_at: datetime | None = None
) -> dict:
    """A new content's validated field values (bulk loads insert these without building instances)."""
    external_id, title, body = external_id.strip(), title.strip(), body.strip()
    if not external_id:
        raise ApplicationError("A content needs an external id.")
    if not title and not body:
        raise ApplicationError(f"Content {external_id!r} has no text.")
    for name, value in (("external id", external_id), ("title", title), ("body", body), ("source", source)):
        text_check(value, name=name)  # lengths: the title is cut below, the rest checked on save or refused
    return {
        "external_id": external_id,
        "title": title[:TITLE_MAX],
        "body": body,
        "source": source.strip(),
        "text_hash": text_hash(title[:TITLE_MAX], body),
        "modified_at": modified_at or timezone.now(),
    }


def content_build(
    *, external_id: str, title: str, body: str, source: str = "", modified_at: datetime | None = None
) -> Content:
    """An unsaved, validated Content (for single saves and bulk loads alike)."""
    return Content(
        **content_fields(
            external_id=external_id, title=title, body=body, source=source, modified_at=modified_at
        )
    )


@transaction.atomic
def content_upsert(
    *,
    external_id: str,
    title: str,
    body: str,
    source: str = "",
    modified_at: datetime | None = None,
    user,
    reason: str,
) -> tuple[Content, bool]:
    """Create the content, or update its text when it changed. Returns (content, changed)."""
    fresh = content_build(
        external_id=external_id, title=title, body=body, source=source, modified_at=modified_at
    )
    content = Content.objects.select_for_update().filter(external_id=fresh.external_id).first()
    if content is None:
        save_with_history(fresh, user=user, reason=reason)
        return fresh, True
    if (content.text_hash, content.source) == (fresh.text_hash, fresh.source):
        return content, False
    content.title, content.body, content.source = fresh.title, fresh.body, fresh.source
    content.text_hash = fresh.text_hash
    content.modified_at = modified_at or timezone.now()
    save_with_history(content, user=user, reason=reason)
    content_words_refresh_later()  # a changed body is indexed again
    return content, True
