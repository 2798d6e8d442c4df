"""``GET /v1/labels``: the taxonomy as the loaded model knows it (never a list kept in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from narrascope.serve.auth import require_scope
from narrascope.serve.deps import get_registry
from narrascope.serve.registry import ModelRegistry
from narrascope.serve.schemas import LabelsResponse

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/labels", response_model=LabelsResponse, dependencies=[Depends(require_scope(None))])
async def list_labels(registry: Annotated[ModelRegistry, Depends(get_registry)]) -> LabelsResponse:
    """Label ids with their kind (claim, counter, framing), name, description and tuned threshold."""
    classifier = registry.current
    info = classifier.info
    return LabelsResponse.model_validate(
        {
            "model": info.to_dict(),  # ModelSummary keeps its own fields
            "labels": classifier.describe_labels(),
        }
    )
