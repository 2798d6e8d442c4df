"""Render the model card (``README.md`` in the model folder) from the run's metadata.

The card is generated, not hand-written, so its numbers are always the numbers of the weights beside it.
"""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _prf_table(rows: dict[str, dict[str, Any]], first: str) -> list[str]:
    lines = [f"| {first} | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {_fmt(row.get('precision', 0.0))} | {_fmt(row.get('recall', 0.0))} | "
            f"{_fmt(row.get('f1', 0.0))} | {row.get('support', '')} |"
        )
    return lines


def _risk_policy_lines(policy: dict[str, Any] | None) -> list[str]:
    """The verdict rule the folder is served with (``config.json``, ``narrascope.risk_policy``)."""
    if not policy:
        return ["## Risk policy", "Not recorded in this folder; the service applies narrascope's defaults."]
    return [
        "## Risk policy",
        f"- Claims count as pushed when claim sentences outnumber counter-narrative sentences by more than "
        f"**{policy.get('push_ratio')}x**, otherwise as rebutted (`debunk`).",
        f"- A pushed claim scoring at least **{policy.get('high_risk_at')}** makes the risk `high`, a weaker one "
        "`low`. Requests may override both; the saved values are in `config.json` under `narrascope.risk_policy`.",
    ]


def _calibration_lines(record: dict[str, Any] | None) -> list[str]:
    """Whether scores are calibrated, and how much that changed dev ECE (``narrascope.calibration``)."""
    if not record:
        return ["## Calibration", "Scores are not calibrated (`narrascope calibrate --model PATH` fits it on dev)."]
    methods = sorted({row["method"] for row in record.get("labels", {}).values()})
    return [
        "## Calibration",
        f"Per-label {'/'.join(methods)} scaling fitted on dev and folded into the head, so the scores below and "
        "from the plain pipeline are calibrated: dev ECE over scores >= 0.1 "
        f"{record['dev_before']['ece_visible']:.3f} -> {record['dev_after']['ece_visible']:.3f} "
        "(`config.json` -> `narrascope.calibration`; never apply it again).",
    ]


def _runtime_lines(record: dict[str, Any] | None) -> list[str]:
    """What ``narrascope export`` wrote (``config.json`` -> ``narrascope.runtime``): graphs, default, gate, budgets."""
    from narrascope.training.runtime_gate import gate_lines

    if not record:
        return ["## Runtimes", "PyTorch only: no optimised graph was exported (`narrascope export --model DIR`)."]
    lines = [
        "## Runtimes",
        f"- Default runtime: **{record.get('default')}** (`NARRASCOPE_RUNTIME=torch` or `--runtime torch` forces "
        "PyTorch fp32).",
        *[
            f"- `{name}`: `{entry['path']}` (SHA-256 `{entry['sha256'][:16]}...`)"
            for name, entry in record["files"].items()
        ],
        f"- Forward budget (tokens per pass) measured per runtime: {record.get('forward_tokens', 'not measured')}",
    ]
    gate = record.get("quality_gate")
    if gate:
        lines += ["", "Quality gate against PyTorch fp32 (the folder's thresholds):", "", *gate_lines(gate)]
    else:
        lines.append("- No quality gate was run (no data given to the export): int8, if present, is opt-in.")
    return lines


def render_model_card(meta: dict[str, Any]) -> str:
    test = (meta.get("metrics") or {}).get("test") or {}
    summary = test.get("summary") or {}
    labels = [item["id"] for item in (meta.get("taxonomy") or {}).get("labels", [])]
    kinds = {item["id"]: item["kind"] for item in (meta.get("taxonomy") or {}).get("labels", [])}
    thresholds = meta.get("thresholds") or {}
    provenance = meta.get("base_model_provenance") or {}
    args = meta.get("training_args") or {}
    lines = [
        "---",
        "library_name: transformers",
        "pipeline_tag: text-classification",
        "language: [en, ru, kk, uk]",
        "license: mit",
        "tags: [multi-label, narratives, disinformation, kazakhstan]",
        "---",
        "",
        f"# {meta.get('model_name', 'narrascope model')} ({meta.get('model_version', '?')})",
        "",
        "Multi-label sentence classifier for narratives in news about Kazakhstan's Territorial Defense law: "
        "disinformation claims, their rebuttals, and the framing around them.",
        "",
        "## Model",
        f"- Training mode: **{meta.get('mode', '?')}** "
        "(`full` fine-tunes the encoder; `head-only` freezes it and trains the pooler and per-label heads).",
        f"- Base model: `{meta.get('base_model', '?')}`",
    ]
    for key, value in provenance.items():
        lines.append(f"  - {key}: {value}")
    lines += [
        f"- Trained at: {meta.get('trained_at', '?')}; training time: "
        f"{_fmt(meta.get('train_seconds', '?'))} s on {meta.get('machine', '?')}",
        f"- Data: `{meta.get('data_hash', '?')}` ({meta.get('data_counts', {})})",
        f"- Versions: {meta.get('versions', {})}",
        "",
        "## Labels and tuned thresholds",
        "| label | kind | threshold |",
        "|---|---|---:|",
    ]
    lines += [f"| {label} | {kinds.get(label, '?')} | {_fmt(thresholds.get(label, 'missing'))} |" for label in labels]
    lines += ["", *_risk_policy_lines(meta.get("risk_policy")), "", *_calibration_lines(meta.get("calibration"))]
    lines += ["", *_runtime_lines(meta.get("runtime"))]
    lines += ["", "## Test metrics (sentences)"]
    if summary:
        lines += [
            f"- micro-F1 **{_fmt(summary.get('micro_f1', 0.0))}**, macro-F1 **{_fmt(summary.get('macro_f1', 0.0))}**, "
            f"samples-F1 {_fmt(summary.get('samples_f1', 0.0))} on {summary.get('n', '?')} test sentences",
            "",
        ]
        lines += _prf_table(test.get("per_label") or {}, "label")
        lines += ["", "### By language", ""]
        lines += [
            "| language | micro-F1 | macro-F1 | n |",
            "|---|---:|---:|---:|",
        ]
        for lang, row in (test.get("per_language") or {}).items():
            lines.append(f"| {lang} | {_fmt(row['micro_f1'])} | {_fmt(row['macro_f1'])} | {row['n']} |")
    else:
        lines.append("No test metrics were recorded for this folder.")
    lines += [
        "",
        "## Training arguments",
        "```",
        *[f"{key} = {value}" for key, value in args.items()],
        "```",
        "",
        "## Use",
        "```python",
        "from transformers import pipeline",
        'clf = pipeline("text-classification", model="PATH", top_k=None, function_to_apply="sigmoid")',
        'clf("Kazakhstan is not preparing for war, the ministry said.")',
        "```",
        "Compare each score with the threshold above (also in `config.json` under `narrascope.thresholds`).",
        "The narrascope service and batch jobs add sentence splitting, article aggregation and the",
        "pushed-versus-rebutted risk summary.",
        "",
        "## Intended use",
        "Assisting human moderators and researchers who triage news and posts about Kazakhstan's Territorial "
        "Defense law. Scores flag sentences for review; they are not verdicts about truth or about authors.",
        "",
        "## Limits",
        "- Trained on sentences authored for this project from public reporting, not on scraped text: real "
        "posts are noisier, and topics far from the TO law are out of scope.",
        "- English, Russian, Kazakh and Ukrainian are evaluated; other languages get scores without guarantees.",
        "- The embedded base encoder is a 4-bit approximation of multilingual-e5-small.",
        "- Sentence-level: irony or claims spread across sentences can be missed.",
        "",
    ]
    return "\n".join(lines)
