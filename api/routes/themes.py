"""``GET /v1/themes``: the codebook's themes and their labels."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import require
from api.schemas import ThemeOut
from api.security import Permission
from api.storage.access import AccessRecord
from nlp.codebook import get_codebook
from nlp.taxonomy import POLARITIES

router = APIRouter(tags=["themes"])


@router.get("/themes", response_model=list[ThemeOut], name="themes")
def themes(
    _access: Annotated[AccessRecord, Depends(require(Permission.themes))],
) -> list[ThemeOut]:
    return [
        ThemeOut(
            id=theme.id,
            label=theme.label,
            description=theme.description,
            labels=[f"{theme.id}:{p}" for p in POLARITIES],
        )
        for theme in get_codebook().themes
    ]
