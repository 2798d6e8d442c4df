"""``POST /v1/feedback``: a moderator's correction, acknowledged only once it is committed."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends

from narrascope.dataset.feedback_store import FeedbackRecord
from narrascope.serve.auth import Principal, require_scope
from narrascope.serve.deps import Service, get_service
from narrascope.serve.errors import BODY_ERRORS
from narrascope.serve.logs import request_id_var
from narrascope.serve.schemas import FeedbackAck, FeedbackIn, check_feedback
from narrascope.serve.settings import Settings, get_settings

router = APIRouter(prefix="/v1", tags=["feedback"])
require_feedback = require_scope("feedback")


@router.post("/feedback", response_model=FeedbackAck, status_code=201, responses=BODY_ERRORS)
async def submit_feedback(
    body: FeedbackIn,
    principal: Annotated[Principal, Depends(require_feedback)],
    settings: Annotated[Settings, Depends(get_settings)],
    service: Annotated[Service, Depends(get_service)],
) -> FeedbackAck:
    """Stores the text and its corrected labels (the only place a submitted text is kept)."""
    classifier = service.registry.current
    check_feedback(body, classifier.labels, settings)
    record = FeedbackRecord(
        kind=body.kind,
        text=body.text,
        labels=body.labels,
        lang=body.lang,
        predicted=body.predicted,
        document_id=body.document_id,
        start=body.start,
        end=body.end,
        note=body.note,
        model_name=classifier.info.name,
        model_version=classifier.info.version,
        submitted_by=principal.key_id,
        request_id=request_id_var.get(),
    )
    stored = await asyncio.to_thread(service.store.add, record)  # a synchronous fsync must not block the loop
    service.metrics.feedback.labels(kind=body.kind).inc()
    return FeedbackAck(id=stored.id)
