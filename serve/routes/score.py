"""``POST /v1/score``: validate, hand the documents to the batching scorer, return results in input order."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from narrascope.serve.auth import require_scope
from narrascope.serve.batcher import BatchOutcome
from narrascope.serve.deps import get_scorer
from narrascope.serve.errors import BODY_ERRORS, ErrorMessage
from narrascope.serve.schemas import ModelSummary, ScoreRequest, ScoreResponse, check_score_request
from narrascope.serve.scoring import Scorer
from narrascope.serve.settings import Settings, get_settings

router = APIRouter(prefix="/v1", tags=["scoring"])


@router.post(
    "/score",
    response_model=ScoreResponse,
    response_model_exclude_unset=True,  # omit ``sentences`` when the caller turned them off
    dependencies=[Depends(require_scope("score"))],
    summary="Score documents for narratives",
    responses={**BODY_ERRORS, 503: {"model": ErrorMessage, "description": "overloaded or no model loaded"}},
)
async def score(
    body: ScoreRequest,
    settings: Annotated[Settings, Depends(get_settings)],
    scorer: Annotated[Scorer, Depends(get_scorer)],
) -> Response:
    """Each result has the detected language, labels over threshold, every label's score, the risk (claims
    pushed vs rebutted) and, unless ``options.include_sentences`` is false, the scored sentences."""
    check_score_request(body, settings)
    outcome = await scorer.score(body.to_domain(), body.options.to_domain())
    # A 64-document answer with every sentence is megabytes of JSON: build it off the event loop, so
    # /healthz and every other request keep being answered while it is serialised.
    return Response(await asyncio.to_thread(render, outcome), media_type="application/json")


def render(outcome: BatchOutcome) -> bytes:
    """The response body exactly as ``response_model`` documents it (``sentences`` omitted when not asked for).

    The results are already the response's types, so they are serialised as they are, not dumped to dicts and
    validated back (which took as long again on a large answer).
    """
    model = ModelSummary.model_validate(outcome.classifier.info.to_dict())  # keeps only the summary's fields
    response = ScoreResponse(model=model, results=outcome.results)
    return response.model_dump_json(exclude_unset=True).encode("utf-8")
