"""Scores of predictions against labels: per label with support, micro and macro."""

from __future__ import annotations

from typing import Any

import numpy as np

from .labels import FLAGS, LABEL_IDS


def label_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Per-label precision/recall/F1/support; micro over all; macro over labels with support.

    A label with no positives in the evaluated part has F1 None: its score
    would say nothing, and averaging it in would flatter or punish at random.
    """
    per: dict[str, dict[str, Any]] = {}
    tps = fps = fns = 0
    for j, label in enumerate(LABEL_IDS):
        t, p = y_true[:, j].astype(bool), y_pred[:, j].astype(bool)
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        tps, fps, fns = tps + tp, fps + fp, fns + fn
        support = int(t.sum())
        precision = tp / (tp + fp) if tp + fp else (None if support == 0 else 0.0)
        recall = tp / support if support else None
        f1 = (2 * tp / (2 * tp + fp + fn)) if support else None
        per[label] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": support,
            "predicted": tp + fp,
        }
    f1s = [v["f1"] for v in per.values() if v["f1"] is not None]
    micro_p = tps / (tps + fps) if tps + fps else 0.0
    micro_r = tps / (tps + fns) if tps + fns else 0.0
    return {
        "per_label": per,
        "micro": {
            "precision": micro_p,
            "recall": micro_r,
            "f1": 2 * tps / (2 * tps + fps + fns) if tps + fps + fns else 0.0,
        },
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "labels_with_support": len(f1s),
        "passages": int(y_true.shape[0]),
    }


def flag_metrics(f_true: np.ndarray, f_pred: np.ndarray) -> dict[str, Any]:
    out = {}
    for j, flag in enumerate(FLAGS):
        t, p = f_true[:, j].astype(bool), f_pred[:, j].astype(bool)
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        out[flag] = {
            "accuracy": float((t == p).mean()) if len(t) else 0.0,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "support": int(t.sum()),
        }
    return out


def best_threshold(
    y: np.ndarray, scores: np.ndarray, floor: float, fallback: float, min_positives: int
) -> tuple[float, str]:
    """The threshold maximising F1 on one label's dev scores (never below ``floor``)."""
    if int(y.sum()) < min_positives:
        return fallback, "fallback"
    best, best_f1 = fallback, -1.0
    for t in np.arange(floor, 0.951, 0.025):
        p = scores >= t
        tp = int((p & y).sum())
        f1 = 2 * tp / (int(p.sum()) + int(y.sum())) if (p.sum() + y.sum()) else 0.0
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(round(t, 3)), f1
    return best, "dev"


def format_table(metrics: dict[str, Any]) -> str:
    """The per-label table ``tipscan evaluate`` prints."""
    from .labels import BY_ID

    def f(x: float | None) -> str:
        return "   -" if x is None else f"{x:.2f}"

    lines = [f"{'label':5} {'slug':32} {'P':>5} {'R':>5} {'F1':>5} {'support':>7}"]
    for label, v in metrics["per_label"].items():
        lines.append(
            f"{label:5} {BY_ID[label].slug:32} {f(v['precision']):>5} {f(v['recall']):>5} "
            f"{f(v['f1']):>5} {v['support']:>7}"
        )
    m = metrics["micro"]
    lines.append(
        f"\nmicro P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}; "
        f"macro-F1 {metrics['macro_f1']:.3f} over {metrics['labels_with_support']} labels "
        f"with support; {metrics['passages']} passages"
    )
    return "\n".join(lines)


def format_groups(metrics: dict[str, Any]) -> str:
    """By language, by document type, non-English and document coverage, as text."""
    lines = []
    for title, key in (("language", "by_language"), ("document type", "by_doc_type")):
        lines.append(
            f"{'by ' + title:26} {'passages':>8} {'positives':>9} {'micro-F1':>8} {'macro-F1':>8}"
        )
        for g, v in metrics.get(key, {}).items():
            lines.append(
                f"  {g:24} {v['passages']:>8} {v['positives']:>9} {v['micro_f1']:>8.2f} "
                f"{v['macro_f1']:>8.2f}"
            )
        lines.append("")
    if "non_english" in metrics:
        ne = metrics["non_english"]
        lines.append(f"non-English: {ne['passages']} passages, micro-F1 {ne['micro_f1']:.3f}")
    if "coverage" in metrics:
        c = metrics["coverage"]
        lines.append(
            f"document coverage: {c['documents']} documents, cell accuracy {c['accuracy']:.3f}, "
            f"covered-cell F1 {c['f1']:.3f} (P {c['precision']:.2f}, R {c['recall']:.2f}), "
            f"{c['uncertain']} cells uncertain"
        )
    return "\n".join(lines)
