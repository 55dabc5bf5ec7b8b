"""Annotation: queues of passages to read, decisions, adjudications, agreement, interchange.

Annotators (and admins) read queues and record decisions under their key's id;
readers may see the labels and the agreement, and get 403 on everything else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ..annotate import agreement, interchange
from ..annotate.queues import Queues, Strategy
from ..annotate.records import LABELLED, Adjudication, Decision, decision_id
from ..annotate.sources import source_file
from ..classify import models_dir
from ..errors import InvalidRequest, NotFound
from ..labels import FLAGS, LABELS
from ..store.db import now
from .auth import Annotator, Reader
from .deps import ModelDep, SettingsDep, StoreDep
from .problems import PROBLEM_RESPONSES
from .schemas_annotation import (
    AdjudicationIn,
    AgreementOut,
    DecisionIn,
    ImportOut,
    LabelInfo,
    LabelKappaOut,
    LabelsOut,
    PairOut,
    QueueOut,
    queue_entry,
)

router = APIRouter(prefix="/v1/annotation", tags=["annotation"], responses=PROBLEM_RESPONSES)


def _known_passage(store: StoreDep, passage_id: str) -> None:
    if not store.annotation.passages([passage_id]):
        raise InvalidRequest(f"unknown passage_id {passage_id!r}: no such passage to annotate")


@router.get("/labels", summary="The 18 label ids with slug and one-line definition, and the flags")
def labels(_who: Reader) -> LabelsOut:
    return LabelsOut(
        labels=[
            LabelInfo(id=x.id, slug=x.slug, principle=x.principle, definition=x.description)
            for x in LABELS
        ],
        flags=list(FLAGS),
    )


@router.get(
    "/passages/{passage_id}/source",
    summary="The file a passage was read from (PDF viewers honour #page=N)",
    response_class=FileResponse,
)
def passage_source(
    passage_id: str, _who: Reader, store: StoreDep, settings: SettingsDep
) -> FileResponse:
    found = store.annotation.passages([passage_id]).get(passage_id)
    if found is None:
        raise NotFound(f"no passage {passage_id!r} in the annotation store")
    path, media = source_file(store, found, settings.corpus_dir)
    return FileResponse(path, media_type=media, content_disposition_type="inline")


@router.get("/queue", summary="The next passages to read from a queue")
def queue(
    who: Annotator,
    store: StoreDep,
    model: ModelDep,
    settings: SettingsDep,
    strategy: Strategy,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    document: Annotated[str | None, Query(max_length=255)] = None,
    seed: Annotated[int, Query(description="random queue: the shuffle's seed")] = 0,
) -> QueueOut:
    queues = Queues(store, model, models_dir(settings.models_dir))
    items = queues.serve(strategy, who.key_id, limit, document=document, seed=seed)
    return QueueOut(strategy=strategy, items=[queue_entry(i) for i in items])


@router.post("/decisions", status_code=201, summary="Record a decision on a passage")
def decide(body: DecisionIn, who: Annotator, store: StoreDep) -> Decision:
    _known_passage(store, body.passage_id)
    shown, at = body.shown_suggestions, now()
    decision = Decision(
        id=decision_id(body.passage_id, who.key_id, "manual", at),
        **body.model_dump(include=set(LABELLED)),
        annotator=who.key_id,
        shown_suggestions=(body.queue != "double") if shown is None else shown,
        queue=body.queue,
        source="manual",
        note=body.note or "",
        at=at,
    )
    store.annotation.add_decisions([decision])
    return decision


@router.post("/adjudications", status_code=201, summary="Settle a passage annotators disagree on")
def adjudicate(body: AdjudicationIn, who: Annotator, store: StoreDep) -> Adjudication:
    _known_passage(store, body.passage_id)
    at = now()
    row = Adjudication(
        id=decision_id(body.passage_id, who.key_id, "review", at),
        **body.model_dump(include=set(LABELLED)),
        annotator=who.key_id,
        reason=body.reason,
        at=at,
    )
    store.annotation.add_adjudications([row])
    return row


@router.get(
    "/agreement", summary="Kappa per label and annotator pair, and alpha, on blind decisions"
)
def get_agreement(_who: Reader, store: StoreDep) -> AgreementOut:
    report = agreement.compute(store.annotation.decisions())
    return AgreementOut(
        per_label={k: LabelKappaOut(kappa=v.kappa, n=v.n) for k, v in report.per_label.items()},
        pairs={
            k: PairOut(first=v.first, second=v.second, n=v.n, per_label=v.per_label)
            for k, v in report.pairs.items()
        },
        alpha=report.alpha,
        n=report.n,
    )


@router.get("/export", summary="Every decision and adjudication, as Label Studio, Prodigy, "
            "doccano or tipscan JSONL")  # fmt: skip
def export(
    _who: Annotator, store: StoreDep, model: ModelDep, format: interchange.Format
) -> Response:
    body = interchange.export(store, format, model.name)
    name = f"annotations-{format}{interchange.SUFFIX[format]}"
    return Response(
        body,
        media_type=interchange.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/import", status_code=201, summary="Import a file of decisions (all or nothing)")
async def import_decisions(
    request: Request, _who: Annotator, store: StoreDep, format: interchange.Format
) -> ImportOut:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the file is not UTF-8 text") from None
    got = await run_in_threadpool(interchange.import_file, store, text, format)
    return ImportOut(format=format, **vars(got))
