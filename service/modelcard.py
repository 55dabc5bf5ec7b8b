"""MODEL_CARD.md, generated from a model's meta.json so the card cannot drift."""

from __future__ import annotations

from typing import Any

from .classify.meta import ModelMeta
from .labels import BY_ID, LABEL_IDS


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _metric_table(m: dict[str, Any], support_train: dict[str, int], modes: dict[str, str],
                  thresholds: dict[str, float], sources: dict[str, str]) -> list[str]:  # fmt: skip
    rows = [
        "| label | slug | P | R | F1 | test support | train support | mode | threshold |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label in LABEL_IDS:
        v = m["per_label"][label]
        thr = f"{thresholds[label]:.2f}" + (" (fallback)" if sources[label] == "fallback" else "")
        rows.append(
            f"| {label} | {BY_ID[label].slug} | {_f(v['precision'])} | {_f(v['recall'])} | "
            f"{_f(v['f1'])} | {v['support']} | {support_train[label]} | {modes.get(label, '-')} | {thr} |"
        )
    return rows


def render_card(record: ModelMeta) -> str:
    meta = record.model_dump(mode="json")
    test, dev = meta["test"], meta["dev"]
    s = meta["sizes"]
    lines = [
        f"# Model card: {meta['name']}",
        "",
        "Generated from `meta.json` by `tipscan train`; the folder is never changed afterwards.",
        "",
        f"- Kind: **{meta['kind']}**. {meta.get('description', '')}",
        f"- Trained: {meta['created_at']}; code commit `{meta.get('git_commit') or 'unknown'}`",
        f"- Annotations: snapshot `{meta['annotation_snapshot'][:16]}`; "
        f"split `{meta['split']['name']}` (documents, not passages, in train/dev/test)",
        f"- Sizes: train {s['train']['passages']} passages / {s['train']['documents']} documents; "
        f"dev {s['dev']['passages']} / {s['dev']['documents']}; "
        f"test {s['test']['passages']} / {s['test']['documents']}",
        *(
            [
                f"- Converted from `{meta['converted_from']['name']}`: {meta['converted_from']['note']}"
            ]
            if meta.get("converted_from")
            else []
        ),
        "",
        "## Intended use",
        "",
        "Scores passages of laws, plans, strategies and codes against the 18 sub-principles of the",
        "OECD Guiding Principles on Combatting Corruption related to Trafficking in Persons, as",
        "evidence for an analyst to read. A score is not a legal finding; read the passage.",
        "",
        "## Test split (documents never seen in training or tuning)",
        "",
        f"- micro-F1 **{_f(test['micro']['f1'])}** (P {_f(test['micro']['precision'])}, "
        f"R {_f(test['micro']['recall'])}); macro-F1 **{_f(test['macro_f1'])}** over the "
        f"{test['labels_with_support']} labels with test support",
        f"- dev: micro-F1 {_f(dev['micro']['f1'])}, macro-F1 {_f(dev['macro_f1'])}",
        "- flags on test: "
        + "; ".join(
            f"{k} accuracy {_f(v['accuracy'])} (support {v['support']}, rule: "
            f"{meta['flag_rules'][k]})"
            for k, v in test["flags"].items()
        ),
    ]
    cv = meta.get("cv")
    if cv:
        lines.append(
            f"- grouped {cv['folds']}-fold cross-validation over all {cv['documents']} documents "
            f"(second opinion): micro-F1 {_f(cv['micro']['f1'])}, macro-F1 {_f(cv['macro_f1'])}; "
            + "; ".join(f"{k} accuracy {_f(v['accuracy'])}" for k, v in cv["flags"].items())
        )
    lines += ["", "### Per label (test)", ""]
    lines += _metric_table(
        test, meta["support"]["train"], meta["modes"], meta["thresholds"], meta["threshold_source"]
    )
    lines += [
        "",
        "Mode: `calibrated` = logistic regression with sigmoid-calibrated probabilities;",
        "`uncalibrated` = too few positives to calibrate; `lexicon` = too few to train, scored from",
        "the term lists; `calibrated-by-training` = the spaCy classifier's own scores. A threshold",
        "marked fallback had too few dev positives to tune. A label's F1 is `-` where the test",
        "documents hold no positive for it.",
    ]
    if cv:
        lines += [
            "",
            "### Per label (grouped cross-validation)",
            "",
            "| label | F1 | support |",
            "|---|---|---|",
        ]
        for label in LABEL_IDS:
            v = cv["per_label"][label]
            lines.append(f"| {label} | {_f(v['f1'])} | {v['support']} |")
    if meta.get("ablation"):
        lines += [
            "",
            "## What each feature group adds (dev)",
            "",
            "| features | dev macro-F1 | dev micro-F1 |",
            "|---|---|---|",
        ]
        for key, v in meta["ablation"].items():
            lines.append(f"| {key} | {_f(v['dev_macro_f1'])} | {_f(v['dev_micro_f1'])} |")
    lines += [
        "",
        "## Limits",
        "",
        "- Seed annotations: a few thousand passages from about fifty documents; labels with small",
        "  support have wide error bars, and documents unlike the corpus (other legal traditions,",
        "  languages other than English, Dutch and Spanish) are out of distribution.",
        "- Thresholds are tuned on the dev documents, which are few; scores are probabilities",
        "  calibrated on training data, not guarantees.",
        "",
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "",
    ]
    return "\n".join(lines)
