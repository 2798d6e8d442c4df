"""``POST /v1/admin/reload``: swap in a new model folder, or keep the old one and say why not."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
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


def allowed_model_path(path: Path, root: Path) -> Path:
    """The folder, resolved, if it lies under the models root; a stolen admin key cannot aim loads elsewhere.

    Symlinks are resolved first, so a link inside the root that points outside it is refused too.
    """
    resolved, allowed = path.expanduser().resolve(), root.expanduser().resolve()
    if not resolved.is_relative_to(allowed):
        raise HTTPException(
            status_code=403,
            detail=f"{str(path)!r} is outside the models root {str(allowed)!r}; "
            "reload loads only folders under NARRASCOPE_MODELS_ROOT",
        )
    return resolved


@router.post(
    "/reload",
    response_model=ReloadResponse,
    dependencies=[Depends(require_scope("admin"))],
    responses={
        **BODY_ERRORS,
        403: {"description": "the path is outside NARRASCOPE_MODELS_ROOT (or the key lacks the admin scope)"},
        422: RELOAD_FAILED_OR_INVALID,
    },
)
async def reload_model(
    service: Annotated[Service, Depends(get_service)], body: ReloadRequest | None = None
) -> ReloadResponse | JSONResponse:
    """Loads and validates (labels, a smoke score) before an atomic swap; in-flight requests finish on the
    old model. With several workers, only the worker that answers reloads: restart to roll out everywhere."""
    if body and body.path:
        path = allowed_model_path(Path(body.path), service.settings.models_root)
    else:
        path = Path(service.registry.current.info.path)  # the folder the operator started us with
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
