"""What every generating application's commands share: writing the three exports and opening one.

`kzoo train NAME` writes `DIR/NAME.keras`, `DIR/saved_model/` and `DIR/NAME.tflite` (+ `.json`);
`kzoo translate|caption|transcribe --model M` opens M, whichever of those it is (or the folder).
Every file is written atomically (`kzoo.export.atomic_path`): a command killed while exporting
leaves the previous export as it was. A missing, truncated or corrupt `--model` ends the command
with one line naming the file (`load_or_exit`), not a traceback.
"""

import os

__all__ = ["export_all", "load_or_exit", "open_generator", "read_files"]


def export_all(model, out, name, **tflite_options):
    """Saves `model` as `out/name.keras`, a SavedModel `out/saved_model/` and `out/name.tflite`
    (greedy decoding unless `tflite_options` say otherwise); prints the paths."""
    from kzoo.export import atomic_path

    os.makedirs(out, exist_ok=True)
    keras_path = os.path.join(out, f"{name}.keras")
    with atomic_path(keras_path) as tmp:  # Keras writes straight into the file it is given
        model.save(tmp)
    saved = model.export(os.path.join(out, "saved_model"))
    tflite = model.export(os.path.join(out, f"{name}.tflite"), format="litert", **{"beam_width": 1, **tflite_options})
    size = os.path.getsize(tflite) / 1e6
    print(f"exported {keras_path}, {saved}/ (SavedModel) and {tflite} ({size:.1f} MB)", flush=True)
    return keras_path, saved, tflite


def load_or_exit(load, path, *args):
    """`load(path, *args)`; the `FileNotFoundError` or `ValueError` of a missing, truncated or
    corrupt file ends the command with its message (which names the file) instead of a traceback.

    Examples:
        >>> from kzoo.export import load_tflite
        >>> load_or_exit(load_tflite, "missing.tflite")
        Traceback (most recent call last):
        ...
        SystemExit: No TFLite file at `path`. Received: path='missing.tflite'
    """
    try:
        return load(path, *args)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(str(error)) from error


def open_generator(path, name, method, to_signature_input=list):
    """A function `(inputs, beam_width=1) -> list of str` for an export folder (its `name.keras`),
    a `.keras` file, a `.tflite` file or a SavedModel folder.

    Args:
        path: what `--model` named.
        name: the application's file name stem ("translator", "captioner", "speech_to_text").
        method: the generating method of the model and of its TFLite runner ("translate", ...).
        to_signature_input: maps the inputs to what the SavedModel's `serving_default` takes.
    """
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, f"{name}.keras")):
        path = os.path.join(path, f"{name}.keras")
    if path.endswith(".keras"):
        from kzoo.export import load_model

        model = load_or_exit(load_model, path)
        if not hasattr(model, method):
            raise SystemExit(
                f"--model {path!r} holds a {type(model).__name__}, which has no {method}(): pass a {name} export."
            )
        return lambda inputs, beam_width=1: getattr(model, method)(inputs, beam_width=beam_width)
    if path.endswith(".tflite"):
        from kzoo.export import load_tflite

        runner = load_or_exit(load_tflite, path)
        return lambda inputs, beam_width=1: getattr(runner, method)(inputs)
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise SystemExit(
            f"--model must be an export folder, a .keras file, a SavedModel folder or a .tflite file. Received: --model={path!r}"
        )
    from kzoo.export import load_signature

    signatures = {}

    def generate(inputs, beam_width=1):
        name = "serving_default" if beam_width == 1 else "beam"
        if name not in signatures:
            signatures[name] = load_or_exit(load_signature, path, name)
        return signatures[name](to_signature_input(inputs))

    return generate


def read_files(paths, kind):
    """The bytes of each file (what a SavedModel's `serving_default` takes); `kind` names them."""
    out = []
    for path in paths:
        if not isinstance(path, str):
            raise SystemExit(f"A SavedModel reads {kind} files; pass --model a .keras or .tflite file for arrays.")
        with open(path, "rb") as f:
            out.append(f.read())
    return out
