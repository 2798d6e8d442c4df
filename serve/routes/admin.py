"""``POST /v1/admin/reload``: swap in a new model folder, or keep the old one and say why not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from narrascope.serve.auth import require_scope
from narrascope.serve.deps import Service, get_service
from narrascope.serve.errors import BODY_ERRORS
from narrascope.serve.schemas import ReloadRequest, ReloadResponse

router = APIRouter(prefix="/v1/admin", tags=["admin"])
# A 422 is either a folder that failed to load (the old model serves) or a request that failed validation.
RELOAD_FAILED_OR_INVALID = {
    "description": "the folder failed to load (the old model serves), or the request is invalid",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {"$ref": "#/components/schemas/ReloadResponse"},
                    {"$ref": "#/components/schemas/HTTPValidationError"},
                ]
            }
        }
    },
}


@router.post(
    "/reload",
    response_model=ReloadResponse,
    dependencies=[Depends(require_scope("admin"))],
    responses={**BODY_ERRORS, 422: RELOAD_FAILED_OR_INVALID},
)
async def reload_model(
    service: Annotated[Service, Depends(get_service)], body: ReloadRequest | None = None
) -> ReloadResponse | JSONResponse:
    """Loads and validates (labels, a smoke score) before an atomic swap; in-flight requests finish on the
    old model. With several workers, only the worker that answers reloads: restart to roll out everywhere."""
    path = Path(body.path) if body and body.path else Path(service.registry.current.info.path)
    outcome = await service.registry.reload(path)
    service.metrics.reloads.labels(outcome="ok" if outcome.ok else "failed").inc()
    response = ReloadResponse(
        status="reloaded" if outcome.ok else "failed",
        reason=outcome.reason,
        serving=outcome.serving,
        previous=outcome.previous,
        labels_changed=outcome.labels_changed,
        seconds=round(outcome.seconds, 3),
    )
    if not outcome.ok:
        return JSONResponse(status_code=422, content=response.model_dump())
    return response
