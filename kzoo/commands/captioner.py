"""`kzoo train captioner`, `kzoo evaluate captioner` and `kzoo caption`.

`kzoo train captioner` with no `--data` trains on the embedded scenes (`kzoo.data.load_scenes`),
reports BLEU-4 and CIDEr-D on the held-out seen and novel compositions, exports
`DIR/captioner.keras`, `DIR/saved_model/` and `DIR/captioner.tflite` (+ `.json`), writes an
attention figure `DIR/attention.png` and prints a few captions. `--data coco` (or a folder in the
COCO layout) captions real photos with the trained model and scores them: the scenes model has
never seen a photo, so this is an honest out-of-domain check of the real-image path.
"""

import os
import time

from kzoo.commands.exports import export_all, open_generator, read_files
from kzoo.commands.training import fit_callbacks, is_chief, progress, run_as_workers, start

__all__ = ["train", "evaluate", "caption"]

_SHARED_COCO = os.path.join("..", "shared", "data", "captioning", "coco_mini")
# Demo model: trains on the embedded scenes in a few CPU minutes (a 32-filter CNN takes ~4x longer).
_EMBEDDED = {"images": 3000, "image_size": 64, "epochs": 5, "units": 128, "embedding_dim": 64, "filters": 16,
             "batch_size": 64}


def _report(model, images, references, label):
    from kzoo.applications.evaluation import CAPTION_METRICS, format_scores, score_texts

    hypotheses = model.caption(images)
    scores = score_texts(hypotheses, references, metrics=CAPTION_METRICS)
    print(f"{label}: {format_scores(scores)} ({len(hypotheses)} images)", flush=True)
    return hypotheses


def _photos(data):
    from kzoo.data import load_coco_captions

    if data == "coco":
        return load_coco_captions(_SHARED_COCO if os.path.isdir(_SHARED_COCO) else None, limit=50)
    return load_coco_captions(data)


def train(args):
    status = run_as_workers(args)
    if status is not None:
        return status
    began = time.time()
    strategy = start(args)
    import keras

    from kzoo.applications import Captioner
    from kzoo.data import load_scenes

    defaults = _EMBEDDED
    keras.utils.set_random_seed(args.seed)
    size = defaults["image_size"]
    train_set = load_scenes("train", num_images=args.images or defaults["images"], image_size=size, seed=args.seed)
    print(f"data: embedded scenes, {len(train_set['images'])} training images of {size}x{size} pixels, "
          f"{sum(map(len, train_set['captions']))} captions", flush=True)
    with strategy.scope():
        model = Captioner(
            encoder=args.encoder,
            image_size=(size, size),
            attention=None if args.attention == "none" else args.attention,
            units=args.units or defaults["units"],
            embedding_dim=defaults["embedding_dim"],
            filters=defaults["filters"],
            seed=args.seed,
        )
        model.adapt(train_set["captions"])
        model.compile()
    epochs = args.epochs or defaults["epochs"]
    print(f"training {epochs} epochs ({model.count_params():,} parameters)", flush=True)
    model.fit(train_set["images"], train_set["captions"], batch_size=defaults["batch_size"], epochs=epochs,
              verbose=progress(),
              callbacks=fit_callbacks(args))
    if not is_chief():
        return 0  # the chief evaluates and exports
    for split in ("test_seen", "test_novel"):
        held_out = load_scenes(split, num_images=300, image_size=size, seed=args.seed)
        hypotheses = _report(model, held_out["images"], held_out["captions"], f"{split} (greedy)")
    _export(model, args.out)
    _attention_figure(model, held_out["images"][0], os.path.join(args.out, "attention.png"))
    print("captions of novel compositions:")
    for hypothesis, references in list(zip(hypotheses, held_out["captions"]))[:4]:
        print(f"  {hypothesis}\n    reference: {references[0]}")
    if args.data != "embedded":
        paths, captions = _photos(args.data)
        _report(model, paths, captions, f"{len(paths)} photos ({args.data}, out of domain)")
    print(f"done in {time.time() - began:.0f} s", flush=True)
    return 0


def _attention_figure(model, image, path):
    import kzoo

    if model.attention is None:
        return
    _, (record,) = model.caption([image], return_attention=True)
    kzoo.plot.caption_attention(image, record["tokens"], record["weights"]).savefig(path, dpi=100)
    print(f"attention figure: {path}", flush=True)


def _export(model, out):
    export_all(model, out, "captioner")


def _open(model):
    """An `images -> captions` function for a .keras file, a SavedModel, a .tflite or an export folder."""
    return open_generator(model, "captioner", "caption", to_signature_input=lambda paths: read_files(paths, "image"))


def evaluate(args):
    from kzoo.applications.evaluation import CAPTION_METRICS, format_scores, score_texts
    from kzoo.data import load_scenes

    caption_fn = _open(args.model)
    if args.data == "embedded":
        sets = [(split, load_scenes(split, num_images=300)) for split in ("test_seen", "test_novel")]
        sets = [(name, s["images"], s["captions"]) for name, s in sets]
    else:
        paths, captions = _photos(args.data)
        sets = [(args.data, paths, captions)]
    for name, images, references in sets:
        scores = score_texts(caption_fn(images, beam_width=args.beam_width), references, metrics=CAPTION_METRICS)
        print(f"{name}: {format_scores(scores)} (beam {args.beam_width})")
    return 0


def caption(args):
    caption_fn = _open(args.model)
    for path, text in zip(args.images, caption_fn(list(args.images), beam_width=args.beam_width)):
        print(f"{path}\t{text}")
    return 0
