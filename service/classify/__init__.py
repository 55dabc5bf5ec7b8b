"""Classifiers behind one interface, loaded by name from a models folder.

A model folder ``<name>-<version>/`` holds the scorer's files (arrays and JSON
for the linear model, a spaCy pipeline for the textcat model), ``config.toml``,
``MODEL_CARD.md`` and ``meta.json`` (:class:`~.meta.ModelMeta`), which lists
the sha256 of every other file. A folder is written once and never changed:
loading refuses a folder whose files differ from that list, before reading
any of them. Which model is the default is recorded beside the folders
(``DEFAULT`` and ``default-history.jsonl``), not in them.

Models come from the models shipped with the package, or from a folder named
explicitly (``--models`` or ``TIPSCAN_MODELS``); never from the working
directory by surprise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import ValidationError

from ..errors import ModelError
from ..labels import FLAGS, LABEL_IDS
from ..lexicon import Lexicon, default_lexicon
from ..model import PassageInput, Prediction
from .meta import FORMAT, ModelMeta

DEFAULT_FILE = "DEFAULT"
HISTORY_FILE = "default-history.jsonl"
META_FILE = "meta.json"
CARD_FILE = "MODEL_CARD.md"
CONFIG_FILE = "config.toml"
FLAG_THRESHOLD = 0.5

# How a flag combines the model's vote and the lexicon's (booleans or numpy arrays).
FLAG_RULES: dict[str, Callable[[Any, Any], Any]] = {
    "model": lambda model, lexicon: model,
    "lexicon": lambda model, lexicon: lexicon,
    "either": lambda model, lexicon: model | lexicon,
    "both": lambda model, lexicon: model & lexicon,
}

__all__ = [
    "FLAG_RULES",
    "FLAG_THRESHOLD",
    "FORMAT",
    "Model",
    "ModelMeta",
    "ModelRef",
    "Scorer",
    "default_model_name",
    "find_model",
    "list_models",
    "load_model",
    "models_dir",
    "record_default",
    "scorer_class",
    "write_model_folder",
]


class Scorer(Protocol):
    kind: str
    modes: dict[str, str]

    def scores(self, items: Sequence[PassageInput]) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...


def packaged_models() -> Path:
    """The models installed with tipscan (the checkout's ``models/`` in development)."""
    return Path(str(resources.files("tipscan_models")))


def models_dir(explicit: Path | str | None = None) -> Path:
    """``explicit`` (``--models``), else ``TIPSCAN_MODELS``, else the packaged models."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("TIPSCAN_MODELS")
    if env:
        return Path(env)
    return packaged_models()


def scorer_class(kind: str) -> Any:
    if kind == "sklearn":
        from .sklearn_model import SklearnScorer

        return SklearnScorer
    if kind == "spacy":
        from .spacy_model import SpacyScorer

        return SpacyScorer
    raise ModelError(f"unknown model kind {kind!r}; tipscan knows 'sklearn' and 'spacy'")


@dataclass
class Model:
    name: str
    folder: Path
    meta: ModelMeta
    scorer: Scorer

    @property
    def thresholds(self) -> dict[str, float]:
        return self.meta.thresholds

    @property
    def lexicon(self) -> Lexicon:
        """The term lists the model was trained with (the shipped ones if it kept none)."""
        return getattr(self.scorer, "lexicon", None) or default_lexicon()

    def predict(self, items: Sequence[PassageInput], explain: bool = False) -> list[Prediction]:
        """Labels, all 18 scores and the two flags for each passage."""
        if not items:
            return []
        label_scores, flag_scores = self.scorer.scores(items)
        hits = self.lexicon.match_many([p.text for p in items])
        meta = self.meta
        bars = np.array([meta.thresholds[label] for label in LABEL_IDS])
        passed = label_scores >= bars
        flag_votes = []
        for j, flag in enumerate(FLAGS):
            model_vote = flag_scores[:, j] >= meta.flag_thresholds.get(flag, FLAG_THRESHOLD)
            lexicon_vote = np.array([bool(h.flags.get(flag)) for h in hits])
            flag_votes.append(
                FLAG_RULES[meta.flag_rules.get(flag, "model")](model_vote, lexicon_vote)
            )
        rounded = np.round(label_scores, 4).tolist()
        out = []
        for i, p in enumerate(items):
            ex = None
            if explain:
                ex = {k: sorted(set(v)) for k, v in {**hits[i].flags, **hits[i].labels}.items()}
            out.append(
                Prediction(
                    id=p.id,
                    labels=[label for j, label in enumerate(LABEL_IDS) if passed[i, j]],
                    scores=dict(zip(LABEL_IDS, rounded[i], strict=True)),
                    mentions_trafficking=bool(flag_votes[0][i]),
                    mentions_corruption=bool(flag_votes[1][i]),
                    explain=ex,
                )
            )
        return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _folder_files(folder: Path) -> dict[str, Path]:
    """Every file in the folder but meta.json, by its path relative to the folder."""
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not (p.parent == folder and p.name == META_FILE)
    }


def read_meta(folder: Path) -> ModelMeta:
    path = folder / META_FILE
    try:
        return ModelMeta.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise ModelError(f"{folder}: no {META_FILE}; not a model folder") from None
    except ValidationError as exc:
        raw: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            raw = json.loads(path.read_bytes())
        if isinstance(raw, dict) and raw.get("format") != FORMAT:
            raise ModelError(
                f"model {folder.name!r} has format {raw.get('format')!r}, this tipscan reads "
                f"{FORMAT!r}; retrain it with `tipscan train` or use a matching tipscan version"
            ) from None
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ModelError(f"{path}: {where}: {first['msg']}") from None


def verify_folder(folder: Path, meta: ModelMeta) -> None:
    """Refuse a folder whose files are not exactly those its meta.json lists, unchanged."""
    if not meta.files:
        raise ModelError(f"model {folder.name!r} lists no checksums in {META_FILE}; retrain it")
    present = _folder_files(folder)
    extra = sorted(set(present) - set(meta.files))
    missing = sorted(set(meta.files) - set(present))
    if extra or missing:
        what = "; ".join(
            x
            for x in (
                f"files not in its meta.json: {', '.join(extra[:5])}" if extra else "",
                f"files missing: {', '.join(missing[:5])}" if missing else "",
            )
            if x
        )
        raise ModelError(f"model {folder.name!r} was changed after training ({what}); not loaded")
    changed = [rel for rel, path in present.items() if _sha256(path) != meta.files[rel]]
    if changed:
        raise ModelError(
            f"model {folder.name!r} was changed after training ({', '.join(changed[:5])} "
            "differ from the checksums in its meta.json); not loaded"
        )


def list_models(root: Path | None = None) -> list[ModelMeta]:
    """The meta of every model folder under ``root`` that has a readable meta.json."""
    root = root or models_dir()
    out = []
    for meta_path in sorted(root.glob(f"*/{META_FILE}")):
        try:
            out.append(read_meta(meta_path.parent))
        except ModelError:
            continue
    return out


def default_model_name(root: Path | None = None) -> str:
    root = root or models_dir()
    pointer = root / DEFAULT_FILE
    if not pointer.is_file():
        raise ModelError(
            f"no default model: {pointer} is missing; train one with "
            "`tipscan train training/sklearn.toml` or pass --model NAME"
        )
    return pointer.read_text(encoding="utf-8").strip()


@dataclass
class ModelRef:
    """A model found and its meta read, its scorer not loaded yet (a cached run needs none)."""

    name: str
    folder: Path
    meta: ModelMeta
    _loaded: Model | None = None

    def load(self) -> Model:
        """The model, verified against its checksums and loaded once."""
        if self._loaded is None:
            verify_folder(self.folder, self.meta)
            scorer = scorer_class(self.meta.kind).load(self.folder)
            self._loaded = Model(name=self.name, folder=self.folder, meta=self.meta, scorer=scorer)
        return self._loaded


def find_model(name: str | None = None, root: Path | None = None) -> ModelRef:
    """``<root>/<name>`` (the default model when no name is given), its meta checked."""
    root = root or models_dir()
    name = name or default_model_name(root)
    folder = root / name
    if name in ("", ".", "..") or "/" in name or not (folder / META_FILE).is_file():
        known = ", ".join(m.name for m in list_models(root)) or "none"
        raise ModelError(f"no model {name!r} in {root} (models there: {known})")
    meta = read_meta(folder)
    if meta.labels != list(LABEL_IDS) or meta.flags != list(FLAGS):
        raise ModelError(
            f"model {name!r} was trained for other labels ({', '.join(meta.labels)}); "
            "retrain it with `tipscan train` on the current annotations"
        )
    missing = [x for x in LABEL_IDS if x not in meta.thresholds]
    if missing:
        raise ModelError(f"model {name!r} has no threshold for {', '.join(missing)}; retrain it")
    return ModelRef(name=name, folder=folder, meta=meta)


def load_model(name: str | None = None, root: Path | None = None) -> Model:
    """Load ``<root>/<name>`` (the default model when no name is given), verified first."""
    return find_model(name, root).load()


def write_model_folder(
    folder: Path, scorer: Scorer, meta: dict[str, Any], config: str
) -> ModelMeta:
    """Write a new model folder: scorer files, config, card, then meta.json with their checksums."""
    from .. import modelcard

    if folder.exists():
        raise ModelError(f"{folder} exists and models are never overwritten")
    folder.mkdir(parents=True)
    try:
        scorer.save(folder)
        (folder / CONFIG_FILE).write_text(config, encoding="utf-8")
        record = ModelMeta.model_validate({**meta, "format": FORMAT, "files": {}})
        (folder / CARD_FILE).write_text(modelcard.render_card(record), encoding="utf-8")
        files = {rel: _sha256(path) for rel, path in _folder_files(folder).items()}
        record = record.model_copy(update={"files": files})
        (folder / META_FILE).write_text(
            record.model_dump_json(indent=1, exclude_none=True) + "\n", encoding="utf-8"
        )
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    return record


def default_history(root: Path | None = None) -> list[dict[str, Any]]:
    path = (root or models_dir()) / HISTORY_FILE
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def record_default(name: str, root: Path | None = None, reason: str | None = None) -> str:
    """Make ``name`` the default: ``DEFAULT`` names it and ``default-history.jsonl`` says why.

    The reason compares held-out macro-F1 (cross-validated, else on the test split)
    with every other model present, so the record says what the choice rests on (or
    that it goes against the scores).
    Model folders are left untouched.
    """
    root = root or models_dir()
    metas = {m.name: m for m in list_models(root)}
    if name not in metas:
        raise ModelError(
            f"no model {name!r} in {root} (models there: {', '.join(metas) or 'none'})"
        )
    mine = metas[name].held_out_macro_f1
    others = {n: m.held_out_macro_f1 for n, m in metas.items() if n != name}
    best = max(others.values(), default=None)
    if reason:
        pass
    elif best is None:
        reason = f"the only model; held-out macro-F1 {mine:.3f}"
    elif mine >= best:
        reason = f"best held-out macro-F1: {mine:.3f}, against " + ", ".join(
            f"{n} {v:.3f}" for n, v in sorted(others.items())
        )
    else:
        reason = f"chosen by hand although its held-out macro-F1 {mine:.3f} is below {best:.3f}"
    entry = {"name": name, "at": datetime.now(UTC).isoformat(timespec="seconds"), "reason": reason}
    with (root / HISTORY_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    tmp = root / f".{DEFAULT_FILE}.{os.getpid()}"
    tmp.write_text(name + "\n", encoding="utf-8")
    tmp.replace(root / DEFAULT_FILE)
    return reason
