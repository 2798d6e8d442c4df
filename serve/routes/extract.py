"""``POST /v1/extract``: a web page in, its main content and metadata out (the moderator page's file drop).

The page goes to the same extractor as batch ``.html`` inputs (``model/webpage.py``), so a dropped page is
scored exactly as the batch job would score the file. Extraction is CPU work, so it runs in a thread.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError

from narrascope.model.language import identify_language
from narrascope.model.webpage import NoMainContent, Page, extract_page
from narrascope.serve.auth import require_scope
from narrascope.serve.errors import BODY_ERRORS
from narrascope.serve.schemas import ExtractRequest, ExtractResponse

router = APIRouter(prefix="/v1", tags=["scoring"])


def _extract(html: str) -> tuple[Page, str, str]:
    page = extract_page(html)
    language = identify_language(page.text)
    return page, language.code, language.script


@router.post(
    "/extract",
    response_model=ExtractResponse,
    dependencies=[Depends(require_scope("score"))],
    summary="Extract the article from a web page",
    responses={**BODY_ERRORS},
)
async def extract(body: ExtractRequest) -> ExtractResponse:
    """The main text (what ``/v1/score`` should be given), with the title, author and date the page states.
    A page without article text (navigation, footers, a cookie banner only) is a 422 naming ``html``."""
    try:
        page, language, script = await asyncio.to_thread(_extract, body.html)
    except NoMainContent as exc:
        error = {"type": "no_main_content", "loc": ("body", "html"), "msg": str(exc), "input": None}
        raise RequestValidationError([error]) from None
    return ExtractResponse(text=page.text, language=language, script=script, **page.metadata())
