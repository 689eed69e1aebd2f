"""A document shaded by attention: which sentences and which words carried a classification."""

import html

import numpy as np

__all__ = ["document_attention", "document_attention_html"]


def _shades(explanation):
    """Per sentence: (sentence shade in [0, 1], word shades in [0, 1]).

    Words are shaded by `sqrt(sentence weight) · word weight` normalised by the document's
    largest value, as Yang et al. (2016) visualise HAN attention, so that a word of an ignored
    sentence stays pale. For flat architectures the word weights are already document-wide.
    """
    sentences = explanation.get("sentences")
    if not isinstance(sentences, list):
        raise ValueError(
            "`explanation` must be the dict returned by `DocumentClassifier.explain` (with a "
            f"'sentences' list). Received: keys={sorted(explanation) if isinstance(explanation, dict) else type(explanation).__name__}"
        )
    sentence_weights = np.array([s["weight"] for s in sentences], "float64")
    top_sentence = sentence_weights.max(initial=0.0) or 1.0
    raw = [np.sqrt(s["weight"]) * np.asarray(s["word_weights"], "float64") for s in sentences]
    top_word = max((r.max(initial=0.0) for r in raw), default=0.0) or 1.0
    return [(w / top_sentence, r / top_word) for w, r in zip(sentence_weights, raw)]


def document_attention(explanation, ax=None, width=90, cmap="Reds", title=None):
    """Draws the document with its words and sentences shaded by attention weight.

    Each sentence is one or more lines: a square on the left shaded by the sentence weight,
    then its words, each on a background shaded by its weight.

    Args:
        explanation: the dict returned by `DocumentClassifier.explain(document)`.
        ax: a matplotlib Axes to draw on; default a new figure.
        width: characters per line before a sentence wraps.
        cmap: colour map name.
        title: title; default the predicted class and its probability.

    Returns:
        The matplotlib Figure.

    Examples:
        >>> explanation = {"label": 1, "class_name": "pos", "probabilities": [0.1, 0.9],
        ...     "sentences": [{"text": "great film", "weight": 1.0, "words": ["great", "film"],
        ...                    "word_weights": [0.8, 0.2]}]}
        >>> fig = document_attention(explanation)
        >>> [t.get_text() for t in fig.axes[0].texts]
        ['great', 'film']
    """
    import matplotlib.pyplot as plt

    shades = _shades(explanation)
    colours = plt.get_cmap(cmap)
    lines = []  # (sentence index or None, [(x, word, shade)])
    for i, (sentence, (_, word_shades)) in enumerate(zip(explanation["sentences"], shades)):
        x, row = 0, []
        for word, shade in zip(sentence["words"], word_shades):
            if row and x + len(word) > width:
                lines.append((i if not any(l[0] == i for l in lines) else None, row))
                x, row = 0, []
            row.append((x, word, float(shade)))
            x += len(word) + 1
        lines.append((i if not any(l[0] == i for l in lines) else None, row))
    char, height = 0.0105, 1.0 / (max(len(lines), 2) + 1)  # axes units per character and per line
    if ax is None:
        fig, ax = plt.subplots(figsize=(width * 0.11 + 1, (max(len(lines), 2) + 1) * 0.3 + 0.5))
    else:
        fig = ax.figure
    ax.set_axis_off()
    for n, (sentence_index, row) in enumerate(lines):
        y = 1.0 - (n + 1) * height
        if sentence_index is not None:
            shade = shades[sentence_index][0]
            ax.add_patch(plt.Rectangle((0.0, y - height * 0.35), 0.02, height * 0.7, color=colours(shade), transform=ax.transAxes))
        for x, word, shade in row:
            ax.text(
                0.035 + x * char,
                y,
                word,
                transform=ax.transAxes,
                family="monospace",
                fontsize=9,
                va="center",
                bbox={"facecolor": colours(shade * 0.85), "edgecolor": "none", "pad": 1.0},
                color="white" if shade > 0.6 else "black",
            )
    if title is None and "class_name" in explanation:
        probability = explanation["probabilities"][explanation["label"]]
        title = f"predicted {explanation['class_name']} (p = {probability:.3f})"
    if title:
        ax.set_title(title, loc="left")
    return fig


def document_attention_html(explanation, colour=(220, 40, 40)):
    """The same picture as an HTML string: one `<p>` per sentence, words in shaded `<span>`s.

    Args:
        explanation: the dict returned by `DocumentClassifier.explain(document)`.
        colour: RGB of the shading; its opacity is the weight.

    Examples:
        >>> document_attention_html({"sentences": [{"text": "ok", "weight": 1.0, "words": ["<ok>"],
        ...     "word_weights": [1.0]}]}).count("&lt;ok&gt;")
        1
    """
    r, g, b = colour
    parts = ['<div class="kzoo-document-attention" style="font-family: monospace; line-height: 1.8">']
    for sentence, (sentence_shade, word_shades) in zip(explanation["sentences"], _shades(explanation)):
        parts.append(
            f'<p style="border-left: 6px solid rgba({r},{g},{b},{sentence_shade:.3f}); padding-left: 6px; margin: 2px 0"'
            f' title="sentence weight {sentence["weight"]:.4f}">'
        )
        for word, weight, shade in zip(sentence["words"], sentence["word_weights"], word_shades):
            parts.append(
                f'<span style="background: rgba({r},{g},{b},{shade:.3f})" title="{weight:.4f}">{html.escape(word)}</span> '
            )
        parts.append("</p>")
    parts.append("</div>")
    return "".join(parts)
