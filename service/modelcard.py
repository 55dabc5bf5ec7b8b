"""MODEL_CARD.md, generated from a model's meta.json so the card cannot drift."""

from __future__ import annotations

from typing import Any

from .classify.meta import ModelMeta
from .labels import BY_ID, LABEL_IDS


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _metric_table(m: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    support_train = meta["support"]["train"]
    rows = [
        "| label | slug | P | R | F1 | support | train support | mode | threshold |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label in LABEL_IDS:
        v = m["per_label"][label]
        source = meta["threshold_source"][label]
        thr = f"{meta['thresholds'][label]:.2f}" + (" (fallback)" if source == "fallback" else "")
        rows.append(
            f"| {label} | {BY_ID[label].slug} | {_f(v['precision'])} | {_f(v['recall'])} | "
            f"{_f(v['f1'])} | {v['support']} | {support_train[label]} | "
            f"{meta['modes'].get(label, '-')} | {thr} |"
        )
    return rows


def _headline(m: dict[str, Any]) -> list[str]:
    lines = [
        f"- micro-F1 **{_f(m['micro']['f1'])}** (P {_f(m['micro']['precision'])}, "
        f"R {_f(m['micro']['recall'])}); macro-F1 **{_f(m['macro_f1'])}** over the "
        f"{m['labels_with_support']} labels with support; {m['passages']} passages",
        "- flags: "
        + "; ".join(
            f"{k} accuracy {v['accuracy']:.3f} (support {v['support']})"
            for k, v in m["flags"].items()
        ),
    ]
    if "non_english" in m:
        ne = m["non_english"]
        lines.append(f"- non-English passages ({ne['passages']}): micro-F1 {_f(ne['micro_f1'])}")
    if "coverage" in m:
        c = m["coverage"]
        lines.append(
            f"- document coverage ({c['documents']} documents x 18 labels): cell accuracy "
            f"{_f(c['accuracy'])}, covered-cell F1 {_f(c['f1'])} (P {_f(c['precision'])}, "
            f"R {_f(c['recall'])}); {c['uncertain']} cells called uncertain"
        )
    return lines


def _groups(title: str, groups: dict[str, Any]) -> list[str]:
    rows = [
        "",
        f"### {title}",
        "",
        "| group | passages | positives | micro-F1 | macro-F1 |",
        "|---|---|---|---|---|",
    ]
    for g, v in groups.items():
        rows.append(
            f"| {g} | {v['passages']} | {v['positives']} | {_f(v['micro_f1'])} | "
            f"{_f(v['macro_f1'])} |"
        )
    return rows


def _summary_table(first: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    out = [
        f"| {first} | micro-F1 | macro-F1 | non-English micro-F1 | coverage accuracy | "
        "coverage F1 |",
        "|---|---|---|---|---|---|",
    ]
    for k, v in rows.items():
        out.append(
            f"| {k} | {_f(v['micro_f1'])} | {_f(v['macro_f1'])} | "
            f"{_f(v['non_english_micro_f1'])} | {_f(v['coverage_accuracy'])} | "
            f"{_f(v['coverage_f1'])} |"
        )
    return out


def _d(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2f}"


def _versus_default(v: dict[str, Any]) -> list[str]:
    """Both models on the same held-out documents: headline, per label, per language."""
    new, old, delta = v["scores"]["candidate"], v["scores"]["baseline"], v["delta"]
    name, base = v["candidate"], v["baseline"]
    verdict = "better" if v["better"] else "not better"
    lines = [
        "",
        f"## Against the default model ({base}) on the same held-out documents",
        "",
        f"Both models scored on the {v['passages']} passages of the {len(v['documents'])} test "
        f"documents of split `{v['split']}` (annotation snapshot "
        f"`{v['annotation_snapshot'][:16]}`): {', '.join(v['documents'])}. This model is "
        f"**{verdict}** on held-out macro-F1, the measure that decides the default.",
    ]
    if v.get("baseline_trained_on"):
        lines += [
            "",
            f"{base} was trained on {len(v['baseline_trained_on'])} of these documents "
            f"({', '.join(v['baseline_trained_on'])}); its figures flatter it.",
        ]
    lines += [
        "",
        f"| measure | {name} | {base} | delta |",
        "|---|---|---|---|",
        f"| macro-F1 | {_f(new['macro_f1'])} | {_f(old['macro_f1'])} | {_d(delta['macro_f1'])} |",
        f"| micro-F1 | {_f(new['micro_f1'])} | {_f(old['micro_f1'])} | {_d(delta['micro_f1'])} |",
        "",
        "### Per label F1 (same held-out documents)",
        "",
        f"| label | slug | {name} | {base} | delta |",
        "|---|---|---|---|---|",
    ]
    for label in LABEL_IDS:
        lines.append(
            f"| {label} | {BY_ID[label].slug} | {_f(new['per_label'][label])} | "
            f"{_f(old['per_label'][label])} | {_d(delta['per_label'][label])} |"
        )
    lines += [
        "",
        "### Per language (same held-out documents)",
        "",
        f"| language | passages | {name} micro / macro | {base} micro / macro | delta macro |",
        "|---|---|---|---|---|",
    ]
    for lang, n in new["by_language"].items():
        o = old["by_language"].get(lang)
        lines.append(
            f"| {lang} | {n['passages']} | {_f(n['micro_f1'])} / {_f(n['macro_f1'])} | "
            + (f"{_f(o['micro_f1'])} / {_f(o['macro_f1'])}" if o else "-")
            + f" | {_d(delta['by_language'].get(lang, {}).get('macro_f1'))} |"
        )
    return lines


def render_card(record: ModelMeta) -> str:
    meta = record.model_dump(mode="json")
    test = meta["test"]
    s = meta["sizes"]
    rule = meta["document_rule"]
    lines = [
        f"# Model card: {meta['name']}",
        "",
        "Generated from `meta.json` by `tipscan train`; the folder is never changed afterwards.",
        "",
        f"- Kind: **{meta['kind']}**. {meta.get('description', '')}",
        f"- Trained: {meta['created_at']}; code commit `{meta.get('git_commit') or 'unknown'}`",
        f"- Annotations: snapshot `{meta['annotation_snapshot'][:16]}`; "
        f"split `{meta['split']['name']}` (documents, not passages, in each part)",
        f"- Fitted on {s['train']['passages']} passages of {s['train']['documents']} documents; "
        f"tested on {s['test']['passages']} passages of {s['test']['documents']} other documents",
        *(
            [
                f"- Converted from `{meta['converted_from']['name']}`: {meta['converted_from']['note']}"
            ]
            if meta.get("converted_from")
            else []
        ),
        f"- Document rule: a label is covered when {rule.get('min_passages', 1)} passage(s) "
        f"score at least {rule.get('factor', 1.0)}x its threshold"
        + (
            ", and more than one passage reaches the threshold"
            if rule.get("uncertain_single")
            else ""
        )
        + "; some support short of that is *uncertain*; 2.1 and 2.4 need a document that "
        "mentions both trafficking and corruption",
        "",
        "## Intended use",
        "",
        "Scores passages of laws, plans, strategies and codes against the 18 sub-principles of the",
        "OECD Guiding Principles on Combatting Corruption related to Trafficking in Persons, as",
        "evidence for an analyst to read. A score is not a legal finding; read the passage.",
        "",
        "## Test split (documents never seen in training or tuning)",
        "",
        *_headline(test),
    ]
    if meta.get("dev"):
        dev = meta["dev"]
        lines.append(f"- dev: micro-F1 {_f(dev['micro']['f1'])}, macro-F1 {_f(dev['macro_f1'])}")
    cv = meta.get("cv")
    if cv:
        lines += [
            "",
            f"## Grouped {cv['folds']}-fold cross-validation over all {cv['documents']} documents",
            "",
            "Every choice nested: thresholds, flag rules and the document rule of each fold",
            "come from out-of-fold scores of that fold's own training documents.",
            "",
            *_headline(cv),
        ]
    lines += ["", "### Per label (test)", "", *_metric_table(test, meta)]
    if cv:
        lines += [
            "",
            "### Per label (cross-validation)",
            "",
            "| label | P | R | F1 | support |",
            "|---|---|---|---|---|",
        ]
        for label in LABEL_IDS:
            v = cv["per_label"][label]
            lines.append(
                f"| {label} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | "
                f"{v['support']} |"
            )
        if "by_language" in cv:
            lines += _groups("By language (cross-validation)", cv["by_language"])
            lines += _groups("By document type (cross-validation)", cv["by_doc_type"])
    elif "by_language" in test:
        lines += _groups("By language (test)", test["by_language"])
        lines += _groups("By document type (test)", test["by_doc_type"])
    lines += [
        "",
        "Mode: `calibrated` = logistic regression with sigmoid-calibrated probabilities;",
        "`uncalibrated` = a logistic regression's own probabilities; `lexicon` = too few",
        "positives to train, scored from the term lists; `calibrated-by-training` = the spaCy",
        "classifier's own scores. A threshold marked fallback had too few positives to tune.",
        "A label's F1 is `-` where the evaluated documents hold no positive for it.",
    ]
    if meta.get("versus_default"):
        lines += _versus_default(meta["versus_default"])
    if meta.get("comparison"):
        lines += [
            "",
            "## Model families on the same folds (cross-validation)",
            "",
            *_summary_table("model", meta["comparison"]),
        ]
    if meta.get("learning_curve"):
        lines += [
            "",
            "## Learning curve (cross-validation, share of each fold's training documents)",
            "",
            *_summary_table(
                "share", dict(sorted(meta["learning_curve"].items(), key=lambda x: float(x[0])))
            ),
        ]
    if meta.get("ablation"):
        lines += [
            "",
            "## What each feature group adds (cross-validation)",
            "",
            "| features | macro-F1 | micro-F1 |",
            "|---|---|---|",
        ]
        for key, v in meta["ablation"].items():
            macro = v.get("cv_macro_f1", v.get("dev_macro_f1"))
            micro = v.get("cv_micro_f1", v.get("dev_micro_f1"))
            lines.append(f"| {key} | {_f(macro)} | {_f(micro)} |")
    lines += [
        "",
        "## Limits",
        "",
        "- Labels with small support have wide error bars; documents unlike the corpus (other",
        "  legal traditions, languages with few labelled passages) are out of distribution.",
        "- Scores are probabilities of a linear model, not guarantees; thresholds are chosen on",
        "  out-of-fold scores of the training documents.",
        "",
        "## Versions",
        "",
        ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        "",
    ]
    return "\n".join(lines)
