"""Input checks shared by the layers and the models built on them, with errors that say what was received."""

__all__ = ["check_positive_int", "check_rank", "check_same_batch"]


def check_positive_int(name, value):
    """Returns `value` when it is an int >= 1 (not a bool), else raises a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}")
    return value


def check_rank(name, shape, axes):
    """Raises a ValueError unless `shape` has one axis per name in `axes`.

    Examples:
        >>> check_rank("query", (2, 3, 4), ("batch_size", "length", "dim"))
        >>> check_rank("query", (3, 4), ("batch_size", "length", "dim"))
        Traceback (most recent call last):
        ValueError: `query` must have shape (batch_size, length, dim), a rank-3 tensor. Received: query.shape=(3, 4)
    """
    shape = tuple(shape)
    if len(shape) != len(axes):
        raise ValueError(
            f"`{name}` must have shape ({', '.join(axes)}), a rank-{len(axes)} tensor. "
            f"Received: {name}.shape={shape}"
        )


def check_same_batch(**shapes):
    """Raises a ValueError when the named shapes have different known batch sizes."""
    if len({tuple(s)[0] for s in shapes.values()} - {None}) > 1:
        names = ", ".join(f"`{n}`" for n in shapes)
        received = ", ".join(f"{n}.shape={tuple(s)}" for n, s in shapes.items())
        raise ValueError(f"{names} must have the same batch size. Received: {received}")
