"""Captioner quality on the generated scenes: soft vs hard vs no attention at equal training time.

Each configuration trains `kzoo.applications.Captioner` (small CNN from scratch, 64x64 images)
on the "train" scenes for a fixed wall-clock budget, then captions the held-out "test_seen"
(colour-shape pairs seen in training) and "test_novel" (pairs never seen) splits with greedy
decoding and reports BLEU-4 (sacreBLEU 13a, 5 references) and CIDEr-D (`kzoo.metrics.CIDEr`),
and attention localisation: for every generated shape word whose colour-shape pair names exactly
one object of the image, whether the attention maximum for that word lies inside the object's
box (its feature-map cell centre).

    python benchmarks/captioner_quality.py --minutes 15 --attention soft hard none
    python benchmarks/captioner_quality.py --minutes 4 --images 3000 --filters 16 --units 128 --embedding-dim 64
    python benchmarks/captioner_quality.py --report
"""

import argparse
import json
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import Captioner  # noqa: E402
from kzoo.applications.evaluation import CAPTION_METRICS, score_texts  # noqa: E402
from kzoo.data import SCENE_COLOURS, SCENE_SHAPES, load_scenes  # noqa: E402
from clocks import Budget  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")


def localisation(model, scenes):
    """Share of shape words whose attention maximum lies inside the named object's box."""
    _, records = model.caption(scenes["images"], return_attention=True)
    size = scenes["images"].shape[1]
    hits = total = 0
    for record, objects in zip(records, scenes["objects"]):
        tokens, weights = record["tokens"], record["weights"]
        grid = weights.shape[1:]
        for t, word in enumerate(tokens):
            if word not in SCENE_SHAPES or t == 0 or tokens[t - 1] not in SCENE_COLOURS:
                continue
            named = [o for o in objects if o["shape"] == word and o["colour"] == tokens[t - 1]]
            if len(named) != 1:
                continue
            row, col = np.unravel_index(np.argmax(weights[t]), grid)
            y, x = (row + 0.5) * size / grid[0], (col + 0.5) * size / grid[1]
            x0, y0, x1, y1 = named[0]["box"]
            hits += int(x0 <= x < x1 and y0 <= y < y1)
            total += 1
    return hits / max(total, 1), total


def run(attention, args):
    keras.utils.set_random_seed(args.seed)
    train = load_scenes("train", num_images=args.images, image_size=64, seed=0)
    model = Captioner(image_size=(64, 64), attention=None if attention == "none" else attention, seed=args.seed,
                      filters=args.filters, units=args.units, embedding_dim=args.embedding_dim)
    model.adapt(train["captions"])
    model.compile()
    start = time.time()
    history = model.fit(train["images"], train["captions"], batch_size=64, epochs=1000,
                        callbacks=[Budget(args.minutes * 60, args.clock)], verbose=2)
    record = {"attention": attention, "minutes": args.minutes, "clock": args.clock, "seed": args.seed, "images": args.images,
              "filters": args.filters, "units": args.units, "train_seconds": round(time.time() - start, 1),
              "epochs": len(history.history["loss"]), "loss": round(history.history["loss"][-1], 4),
              "load_average": os.getloadavg()}
    for split in ("test_seen", "test_novel"):
        scenes = load_scenes(split, num_images=args.test_images, image_size=64, seed=0)
        scores = score_texts(model.caption(scenes["images"]), scenes["captions"], metrics=CAPTION_METRICS)
        record[f"{split}_bleu4"], record[f"{split}_cider"] = scores["bleu"], scores["cider"]
        for n in (1, 2, 3):
            record[f"{split}_bleu{n}"] = scores[f"bleu{n}"]
        if attention != "none":
            record[f"{split}_localisation"], record[f"{split}_located_words"] = localisation(model, scenes)
    print(json.dumps(record), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    name = f"captioner_quality_{attention}_{args.minutes:g}min{'_cpu' if args.clock == 'cpu' else ''}_seed{args.seed}.json"
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(record, f, indent=1)


def report():
    rows = []
    for name in sorted(os.listdir(RESULTS)):
        if name.startswith("captioner_quality_"):
            with open(os.path.join(RESULTS, name)) as f:
                rows.append(json.load(f))
    print("| attention | minutes (clock) | epochs | BLEU-1/2/3/4 seen | BLEU-1/2/3/4 novel | CIDEr-D seen | CIDEr-D novel | localisation seen | localisation novel |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        loc = [f"{r[k]:.1%}" if k in r else "–" for k in ("test_seen_localisation", "test_novel_localisation")]
        bleu = ["/".join(f"{r[f'{split}_bleu{n}']:.1f}" for n in (1, 2, 3) if f"{split}_bleu{n}" in r) for split in ("test_seen", "test_novel")]
        bleu = [f"{b}/" if b else "" for b in bleu]
        print(f"| {r['attention']} | {r['minutes']:g} ({r.get('clock', 'wall')}) | {r['epochs']} | {bleu[0]}{r['test_seen_bleu4']:.1f} | "
              f"{bleu[1]}{r['test_novel_bleu4']:.1f} | {r['test_seen_cider']:.2f} | {r['test_novel_cider']:.2f} | {loc[0]} | {loc[1]} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attention", nargs="+", default=["soft", "hard", "none"])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="budget clock: wall seconds, or this process's CPU seconds / CPUs (shared machines)")
    parser.add_argument("--images", type=int, default=6000)
    parser.add_argument("--filters", type=int, default=32, help="filters of the small CNN's first stage")
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--test-images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if not args.report:
        for attention in args.attention:
            run(attention, args)
    report()


if __name__ == "__main__":
    main()
