"""Raw passages in, predictions out: ``tipscan classify`` over HTTP, synchronous."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import TooManyPassages
from .auth import Reader
from .deps import ModelDep, SettingsDep
from .problems import PROBLEM_RESPONSES
from .schemas import ClassifyIn, ClassifyOut

router = APIRouter(prefix="/v1", tags=["classify"], responses=PROBLEM_RESPONSES)


@router.post(
    "/classify",
    summary="Classify passages against the 18 labels",
    response_model_exclude_none=True,
)
def classify(
    body: ClassifyIn,
    _who: Reader,
    model: ModelDep,
    settings: SettingsDep,
    explain: bool = False,
) -> ClassifyOut:
    """Each passage's labels, all 18 scores and the two mention flags; ``explain=true``
    adds the lexicon terms behind them. At most 256 passages a request (configurable)."""
    if len(body.passages) > settings.max_classify_batch:
        raise TooManyPassages(
            f"{len(body.passages)} passages in one request; send at most "
            f"{settings.max_classify_batch} a request",
        )
    return ClassifyOut(model=model.name, predictions=model.predict(body.passages, explain=explain))
