"""One evaluation of generated text for every application: decode, then score against references.

`kzoo train`, the notebooks and the benchmarks call `score_texts` so that they all report the
same numbers: corpus BLEU (sacreBLEU's 13a tokenization, `kzoo.metrics.BLEU`), CIDEr-D
(`kzoo.metrics.CIDEr`, the captioning standard) and word / character error rates
(`kzoo.metrics.WordErrorRate`, `CharErrorRate`, for speech), each on request.
"""

__all__ = ["score_texts"]

_METRICS = ("bleu", "cider", "wer", "cer")


def score_texts(hypotheses, references, metrics=("bleu",), lowercase=False):
    """Corpus scores of `hypotheses` (strings) against `references` (a list of strings per sample).

    Args:
        hypotheses: generated strings.
        references: per hypothesis, a reference string or a list of them.
        metrics: names among "bleu" (0-100), "cider" (CIDEr-D, 0-10), "wer", "cer" (first
            reference only, 0-1).
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
        if name == "bleu":
            metric = metrics_lib.BLEU(lowercase=lowercase)
            metric.update_state(references, hypotheses)
        elif name == "cider":
            metric = metrics_lib.CIDEr()
            metric.update_state(references, hypotheses)
        else:
            metric = metrics_lib.WordErrorRate() if name == "wer" else metrics_lib.CharErrorRate()
            metric.update_state([r[0] for r in references], hypotheses)
        scores[name] = round(float(metric.result()), 4)
    return scores
