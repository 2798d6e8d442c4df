"""``GET /metrics``: Prometheus exposition of this app's registry (no texts, so no key is needed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from narrascope.serve.deps import get_metrics
from narrascope.serve.metrics import ServiceMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def prometheus_metrics(metrics: Annotated[ServiceMetrics, Depends(get_metrics)]) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
