"""``GET /v1/model``: which model is serving, where it came from and how well it scored."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from narrascope.serve.auth import require_scope
from narrascope.serve.deps import get_registry
from narrascope.serve.registry import ModelRegistry
from narrascope.serve.schemas import ModelOut

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/model", response_model=ModelOut, dependencies=[Depends(require_scope(None))])
async def describe_model(registry: Annotated[ModelRegistry, Depends(get_registry)]) -> ModelOut:
    classifier = registry.current
    return ModelOut.model_validate(
        {
            **classifier.info.to_dict(),
            "device": str(classifier.device),
            "labels": list(classifier.labels),
            "loaded_at": registry.loaded_at,
        }
    )
