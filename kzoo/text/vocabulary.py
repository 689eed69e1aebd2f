"""Vocabulary-size arguments of applications with a source and a target vocabulary.

The four reserved tokens (`[PAD]`, `[UNK]`, `[START]`, `[END]`, see `kzoo.text.Tokenizer`) come
first in every vocabulary, so a useful cap is more than 4.
"""

__all__ = ["check_vocabulary_sizes"]


def check_vocabulary_sizes(value):
    """`(source, target)` vocabulary caps from an int or a pair of ints (each > 4), for
    `max_vocabulary_size` arguments; a `ValueError` otherwise.

    Examples:
        >>> check_vocabulary_sizes(5000), check_vocabulary_sizes([20000, 5000])
        ((5000, 5000), (20000, 5000))
    """
    sizes = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(sizes, (list, tuple))
        or len(sizes) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 4 for n in sizes)
    ):
        raise ValueError(
            "`max_vocabulary_size` must be an int > 4 or a pair of them (source, target). "
            f"Received: max_vocabulary_size={value!r}"
        )
    return tuple(sizes)
