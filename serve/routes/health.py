"""Probes: ``/healthz`` says the process answers, ``/readyz`` that a model is loaded and work is accepted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from narrascope.serve.deps import Service, get_service
from narrascope.serve.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, response_model_exclude_none=True)
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def readyz(service: Annotated[Service, Depends(get_service)]) -> HealthOut | JSONResponse:
    if service.draining or not service.batcher.running:
        return JSONResponse(status_code=503, content={"status": "draining"})
    if not service.registry.ready:
        return JSONResponse(status_code=503, content={"status": "loading"})
    info = service.registry.current.info
    return HealthOut(status="ready", model={"name": info.name, "version": info.version})
