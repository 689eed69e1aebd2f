"""Speech plots: the CTC posteriogram over time and the attention alignment of characters over frames."""

import numpy as np

__all__ = ["ctc_posteriogram", "speech_alignment"]


def _pyplot():
    import matplotlib.pyplot as plt  # the session's backend: inline in a notebook, Agg on a headless machine

    return plt


def _label(token):
    return "␣" if token == " " else token


def ctc_posteriogram(posteriogram, vocabulary, frame_seconds=0.02, top=None, waveform=None, sample_rate=None):
    """The CTC head's character posteriors over time, one row per character (blank first).

    Args:
        posteriogram: `(frames, characters)` probabilities (`record["posteriogram"]` of
            `SpeechToText.transcribe(..., return_attention=True)` with `decoder="ctc"`).
        vocabulary: the characters of the columns (`model.target_tokenizer.vocabulary`); id 0
            is the CTC blank.
        frame_seconds: seconds per frame (`record["frame_seconds"]`).
        top: show only the `top` characters with the highest peak (blank always shown); None
            shows every character that peaks above 0.05.
        waveform: if given, the waveform is drawn above the posteriogram.
        sample_rate: if given, the waveform is drawn above the posteriogram.

    Returns:
        A matplotlib Figure.

    Examples:
        >>> fig = ctc_posteriogram(np.full((4, 5), 0.2), ["[PAD]", "[UNK]", "[START]", "[END]", "a"], top=2)
        >>> fig.axes[-1].get_xlabel()
        'seconds'
    """
    probs = np.asarray(posteriogram, dtype=float)
    if probs.ndim != 2 or probs.shape[1] != len(vocabulary):
        raise ValueError(
            "`posteriogram` must be (frames, len(vocabulary)). "
            f"Received: shape {probs.shape} for {len(vocabulary)} vocabulary entries"
        )
    peaks = probs.max(axis=0) if len(probs) else np.zeros(len(vocabulary))
    order = [i for i in np.argsort(-peaks) if i != 0 and (top is not None or peaks[i] > 0.05)]
    rows = [0] + (order[:top] if top is not None else order)
    labels = ["blank"] + [_label(vocabulary[i]) for i in rows[1:]]
    plt = _pyplot()
    panels = 2 if waveform is not None else 1
    fig, axes = plt.subplots(panels, 1, figsize=(9, 1.5 + 0.25 * len(rows) + panels - 1), squeeze=False, sharex=True)
    duration = len(probs) * frame_seconds
    if waveform is not None:
        samples = np.asarray(waveform, dtype=float)
        axes[0, 0].plot(np.arange(len(samples)) / (sample_rate or 1), samples, linewidth=0.5)
        axes[0, 0].set_ylabel("audio")
    ax = axes[-1, 0]
    ax.imshow(probs[:, rows].T, aspect="auto", origin="lower", cmap="viridis", vmin=0, vmax=1,
              extent=(0, duration, -0.5, len(rows) - 0.5), interpolation="nearest")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels)
    ax.set_xlabel("seconds")
    ax.set_title("CTC posteriogram")
    fig.tight_layout()
    return fig


def speech_alignment(tokens, weights, frame_seconds=0.02):
    """The attention decoder's alignment: for each generated character, its weights over frames.

    Args:
        tokens: the generated characters (`record["tokens"]`).
        weights: `(len(tokens), frames)` attention weights (`record["weights"]`).
        frame_seconds: seconds per encoder frame (`record["frame_seconds"]`).

    Returns:
        A matplotlib Figure (characters down, time across; a monotonic diagonal is a good sign).

    Examples:
        >>> fig = speech_alignment(["a", "b"], np.eye(2))
        >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
        ['a', 'b']
    """
    weights = np.asarray(weights, dtype=float)
    if weights.ndim != 2 or weights.shape[0] != len(tokens):
        raise ValueError(
            "`weights` must be (len(tokens), frames), one row per token. "
            f"Received: weights.shape={weights.shape} for {len(tokens)} tokens"
        )
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.22 * len(tokens)))
    ax.imshow(weights, aspect="auto", cmap="magma", vmin=0, interpolation="nearest",
              extent=(0, weights.shape[1] * frame_seconds, len(tokens) - 0.5, -0.5))
    ax.set_yticks(range(len(tokens)))
    ax.set_yticklabels([_label(t) for t in tokens])
    ax.set_xlabel("seconds")
    ax.set_title("attention alignment")
    fig.tight_layout()
    return fig
