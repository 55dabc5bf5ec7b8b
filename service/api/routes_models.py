"""Models: list them, train a new one from the annotation store, promote one to default.

Training is not a document job (the job queue holds one job per document
upload), so a training run is its own resource: accepted with 202, run in a
background thread of this server, one at a time, its state and progress kept
in memory and polled at ``GET /v1/models/{id}``. A server restarted mid-run
loses the run, never a model: a model folder is written whole at the end or not
at all. Promotion follows the rule of ``tipscan models default``; the server
keeps scoring with the model it loaded at start until it is restarted.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..classify import list_models, models_dir
from ..errors import Conflict, InternalError, NotFound, TipscanError
from ..promote import current_default, promote
from ..train import PROJECT_ROOT, train_model
from ..train_config import read_config
from .auth import Admin, Reader
from .deps import ModelDep, SettingsDep
from .problems import PROBLEM_RESPONSES

log = logging.getLogger("tipscan.api.models")

router = APIRouter(prefix="/v1/models", tags=["models"], responses=PROBLEM_RESPONSES)

RunState = Literal["queued", "running", "done", "failed"]
_CONFIG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class TrainIn(BaseModel):
    config: str = Field(description="a training config of training/, by name: 'sklearn'")
    version: str | None = Field(default=None, description="instead of the config's version")
    cv: bool = Field(default=False, description="also cross-validate (much longer)")
    promote: bool = Field(
        default=False, description="make it the default if better on held-out macro-F1"
    )


class PromoteIn(BaseModel):
    override: bool = Field(default=False, description="make it the default even if not better")
    reason: str | None = Field(default=None, description="why; required with override")


class RunProgress(BaseModel):
    steps: int = 0
    message: str | None = None
    messages: list[str] = Field(default_factory=list)


class RunError(BaseModel):
    code: str
    message: str


class TrainingRunOut(BaseModel):
    id: str
    config: str
    state: RunState
    progress: RunProgress
    model: str | None = Field(default=None, description="the model folder, once written")
    promotion: dict[str, Any] | None = Field(
        default=None, description="with promote: whether it became the default, and why"
    )
    error: RunError | None = None
    requested_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    links: dict[str, str]


class ModelOut(BaseModel):
    name: str
    kind: str
    default: bool
    created_at: str
    split: str
    test_micro_f1: float
    test_macro_f1: float
    held_out_macro_f1: float
    versus_default: dict[str, Any] | None = Field(
        default=None, description="the default it was compared with at training, and the deltas"
    )


class PromotionOut(BaseModel):
    name: str
    promoted: bool
    reason: str
    override: bool
    comparison: dict[str, Any] | None
    serving: str = Field(description="the model this server scores with until it restarts")


class TrainingRuns:
    """Training runs of this server, newest last; one runs at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, TrainingRunOut] = {}
        self._threads: dict[str, threading.Thread] = {}

    def get(self, run_id: str) -> TrainingRunOut | None:
        with self._lock:
            run = self._runs.get(run_id)
            return run.model_copy(deep=True) if run else None

    def start(self, body: TrainIn, config: Path, root: Path, who: str) -> TrainingRunOut:
        run_id = uuid.uuid4().hex
        run = TrainingRunOut(
            id=run_id,
            config=body.config,
            state="queued",
            progress=RunProgress(),
            requested_by=who,
            created_at=datetime.now(UTC),
            links={"self": f"/v1/models/{run_id}"},
        )
        with self._lock:
            busy = [r.id for r in self._runs.values() if r.state in ("queued", "running")]
            if busy:
                raise Conflict(f"training run {busy[0]} is still going; one trains at a time")
            self._runs[run_id] = run
            thread = threading.Thread(
                target=self._run, args=(run_id, body, config, root, who), daemon=True,
                name=f"tipscan-train-{run_id[:6]}",
            )  # fmt: skip
            self._threads[run_id] = thread
        thread.start()
        return run.model_copy(deep=True)

    def _update(self, run_id: str, **values: Any) -> None:
        with self._lock:
            run = self._runs[run_id]
            for k, v in values.items():
                setattr(run, k, v)

    def _say(self, run_id: str, message: str) -> None:
        with self._lock:
            p = self._runs[run_id].progress
            p.steps += 1
            p.message = message
            p.messages.append(message)

    def _run(self, run_id: str, body: TrainIn, config: Path, root: Path, who: str) -> None:
        self._update(run_id, state="running", started_at=datetime.now(UTC))
        try:
            folder = train_model(
                config, root, version=body.version, cv=body.cv,
                progress=lambda msg: self._say(run_id, msg),
            )  # fmt: skip
            self._update(run_id, model=folder.name)
            if body.promote:
                from ..classify import read_meta

                meta = read_meta(folder)
                decision = promote(
                    folder.name, root, annotations=meta.config["data"]["annotations"],
                    cmp=meta.versus_default, by=who, refuse=False,
                )  # fmt: skip
                self._update(
                    run_id, promotion={"promoted": decision.promoted, "reason": decision.reason}
                )
            self._update(run_id, state="done", finished_at=datetime.now(UTC))
        except TipscanError as exc:
            self._update(
                run_id, state="failed", finished_at=datetime.now(UTC),
                error=RunError(code=exc.code, message=exc.message),
            )  # fmt: skip
        except Exception:
            log.exception("training run %s failed on an internal error", run_id)
            self._update(
                run_id, state="failed", finished_at=datetime.now(UTC),
                error=RunError(
                    code=InternalError.code,
                    message="an internal error stopped this run; the server log has the details",
                ),
            )  # fmt: skip

    def join(self, run_id: str, timeout: float | None = None) -> None:
        """Wait for a run's thread (for a server that stops, and for tests)."""
        thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)


def _runs(request: Request) -> TrainingRuns:
    state = request.app.state
    if not hasattr(state, "training_runs"):
        state.training_runs = TrainingRuns()
    runs: TrainingRuns = state.training_runs
    return runs


def training_dir(request: Request) -> Path:
    """The folder of training configs: the project's training/ unless the app names one."""
    return Path(getattr(request.app.state, "training_dir", None) or PROJECT_ROOT / "training")


def _root(settings: Any) -> Path:
    return models_dir(settings.models_dir)


def _model_out(meta: Any, default: str | None) -> ModelOut:
    v = meta.versus_default
    return ModelOut(
        name=meta.name,
        kind=meta.kind,
        default=meta.name == default,
        created_at=meta.created_at,
        split=meta.split.name,
        test_micro_f1=meta.test["micro"]["f1"],
        test_macro_f1=meta.test["macro_f1"],
        held_out_macro_f1=meta.held_out_macro_f1,
        versus_default=None
        if v is None
        else {
            "baseline": v["baseline"],
            "documents": v["documents"],
            "passages": v["passages"],
            "macro_f1": v["scores"]["candidate"]["macro_f1"],
            "baseline_macro_f1": v["scores"]["baseline"]["macro_f1"],
            "delta_macro_f1": v["delta"]["macro_f1"],
            "delta_micro_f1": v["delta"]["micro_f1"],
            "better": v["better"],
        },
    )


@router.get("", summary="The models, the default marked")
def list_all(_who: Reader, settings: SettingsDep) -> list[ModelOut]:
    root = _root(settings)
    default = current_default(root)
    return [_model_out(m, default) for m in list_models(root)]


@router.post(
    "",
    status_code=202,
    summary="Train a model from the annotation store with a config of training/ (admin)",
)
def train(body: TrainIn, who: Admin, request: Request, settings: SettingsDep) -> TrainingRunOut:
    folder = training_dir(request)
    config = folder / f"{body.config}.toml"
    if not _CONFIG_NAME.match(body.config) or not config.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.toml"))) or "none"
        raise NotFound(f"no training config {body.config!r} (configs: {known})")
    cfg = read_config(config)
    root = _root(settings)
    name = f"{cfg.model.name}-{body.version or cfg.model.version}"
    if (root / name).exists():
        raise Conflict(f"model {name} exists and models are never overwritten; give a version")
    return _runs(request).start(body, config, root, who.key_id)


@router.get("/{ref}", summary="A training run (by id): its state and progress; or a model")
def get_one(
    ref: str, _who: Reader, request: Request, settings: SettingsDep
) -> TrainingRunOut | ModelOut:
    run = _runs(request).get(ref)
    if run is not None:
        return run
    root = _root(settings)
    for meta in list_models(root):
        if meta.name == ref:
            return _model_out(meta, current_default(root))
    raise NotFound(f"no training run or model {ref!r}")


@router.post("/{name}/promote", summary="Make a model the default (admin)")
def promote_one(
    name: str, body: PromoteIn, who: Admin, settings: SettingsDep, serving: ModelDep
) -> PromotionOut:
    root = _root(settings)
    if name not in {m.name for m in list_models(root)}:
        raise NotFound(f"no model {name!r}")
    decision = promote(name, root, override=body.override, reason=body.reason, by=who.key_id)
    return PromotionOut(
        name=name,
        promoted=decision.promoted,
        reason=decision.reason,
        override=bool(decision.entry and decision.entry.get("override")),
        comparison=(decision.entry or {}).get("comparison"),
        serving=serving.name,
    )


__all__ = ["TrainingRuns", "router"]
