"""One evaluation of generated text for every application: decode, then score against references.

`kzoo train`, the notebooks and the benchmarks call `score_texts` so that they all report the
same numbers: corpus BLEU-4 and, on request, BLEU-1 to BLEU-3 (sacreBLEU's 13a tokenization,
`kzoo.metrics.BLEU`), CIDEr-D
(`kzoo.metrics.CIDEr`, the captioning standard) and word / character error rates
(`kzoo.metrics.WordErrorRate`, `CharErrorRate`, for speech), each on request.
"""

__all__ = ["CAPTION_METRICS", "format_scores", "score_texts"]

_METRICS = ("bleu", "bleu1", "bleu2", "bleu3", "cider", "wer", "cer")
# What captioning papers report (Xu et al. 2015, Table 1): BLEU-1 to BLEU-4, and CIDEr-D.
CAPTION_METRICS = ("bleu1", "bleu2", "bleu3", "bleu", "cider")
_NAMES = {"bleu": "BLEU-4", "bleu1": "BLEU-1", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "cider": "CIDEr-D", "wer": "WER", "cer": "CER"}


def score_texts(hypotheses, references, metrics=("bleu",), lowercase=False):
    """Corpus scores of `hypotheses` (strings) against `references` (a list of strings per sample).

    Args:
        hypotheses: generated strings.
        references: per hypothesis, a reference string or a list of them.
        metrics: names among "bleu" (BLEU-4, 0-100), "bleu1", "bleu2", "bleu3" (BLEU-1 to
            BLEU-3), "cider" (CIDEr-D, 0-10), "wer", "cer" (first reference only, 0-1).
        lowercase: BLEU on lower-cased text.

    Returns:
        A dict name -> float.

    Examples:
        >>> score_texts(["a red circle ."], [["a red circle .", "a circle ."]])
        {'bleu': 100.0}
    """
    from kzoo import metrics as metrics_lib

    unknown = [m for m in metrics if m not in _METRICS]
    if unknown:
        raise ValueError(f"`metrics` must be names among {_METRICS}. Received: metrics={list(metrics)!r}")
    if len(hypotheses) != len(references):
        raise ValueError(
            "`hypotheses` and `references` must have the same length. "
            f"Received: {len(hypotheses)} hypotheses and {len(references)} references"
        )
    references = [[r] if isinstance(r, str) else list(r) for r in references]
    scores = {}
    for name in metrics:
        if name.startswith("bleu"):
            metric = metrics_lib.BLEU(lowercase=lowercase, max_order=int(name[4:] or 4))
            metric.update_state(references, hypotheses)
        elif name == "cider":
            metric = metrics_lib.CIDEr()
            metric.update_state(references, hypotheses)
        else:
            metric = metrics_lib.WordErrorRate() if name == "wer" else metrics_lib.CharErrorRate()
            metric.update_state([r[0] for r in references], hypotheses)
        scores[name] = round(float(metric.result()), 4)
    return scores


def format_scores(scores):
    """`score_texts`' dict as one line, e.g. "BLEU-1 81.2, BLEU-4 60.3, CIDEr-D 2.415".

    Examples:
        >>> format_scores({"bleu1": 81.234, "bleu": 60.3, "cider": 2.4151, "wer": 0.25})
        'BLEU-1 81.2, BLEU-4 60.3, CIDEr-D 2.415, WER 25.0%'
    """
    parts = []
    for name, value in scores.items():
        if name in ("wer", "cer"):
            parts.append(f"{_NAMES[name]} {100 * value:.1f}%")
        else:
            parts.append(f"{_NAMES[name]} {value:.3f}" if name == "cider" else f"{_NAMES[name]} {value:.1f}")
    return ", ".join(parts)
