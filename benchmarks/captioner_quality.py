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
    python benchmarks/captioner_quality.py --minutes 15 --attention soft --beam-widths 1 4 --save-models /tmp/cq
    python benchmarks/captioner_quality.py --ceiling
    python benchmarks/captioner_quality.py --report

`--ceiling` scores captions that are true by construction against the same five references: one
fresh caption per image from the corpus's own grammar (`kzoo.data.describe_scene`: a sixth
annotator, like the human rows of the COCO leaderboard), and the consensus caption of a perfect
captioner that knows every object and picks, among 24 fresh true captions, the one with the
highest mean sentence BLEU-4 against the other 23 (minimum Bayes risk; Kumar and Byrne 2004). It
never looks at the references, so it bounds what any model can score on these splits.
"""

import argparse
import collections
import math
import json
import os
import sys
import time

import keras
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kzoo.applications import Captioner  # noqa: E402
from kzoo.applications.evaluation import CAPTION_METRICS, score_texts  # noqa: E402
from kzoo.data import SCENE_COLOURS, SCENE_SHAPES, describe_scene, load_scenes  # noqa: E402
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
    tag = f"{attention}_{args.minutes:g}min{'_cpu' if args.clock == 'cpu' else ''}_seed{args.seed}"
    if args.save_models:
        os.makedirs(args.save_models, exist_ok=True)
        model.save(os.path.join(args.save_models, f"captioner_{tag}.keras"))
    for split in ("test_seen", "test_novel"):
        scenes = load_scenes(split, num_images=args.test_images, image_size=64, seed=0)
        for beam in args.beam_widths:
            suffix = "" if beam == 1 else f"_beam{beam}"
            start = time.time()
            captions = model.caption(scenes["images"], beam_width=beam)
            record[f"{split}_decode_seconds{suffix}"] = round(time.time() - start, 2)
            scores = score_texts(captions, scenes["captions"], metrics=CAPTION_METRICS)
            record[f"{split}_bleu4{suffix}"], record[f"{split}_cider{suffix}"] = scores["bleu"], scores["cider"]
            for n in (1, 2, 3):
                record[f"{split}_bleu{n}{suffix}"] = scores[f"bleu{n}"]
        if attention != "none":
            record[f"{split}_localisation"], record[f"{split}_located_words"] = localisation(model, scenes)
    print(json.dumps(record), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"captioner_quality_{tag}.json"), "w") as f:
        json.dump(record, f, indent=1)


def sentence_bleu4(hypothesis, references):
    """Sentence BLEU-4 with add-one smoothing of the n-gram precisions (Lin and Och 2004), 0-1."""
    hyp = hypothesis.split()
    refs = [r.split() for r in references]
    log_precision = 0.0
    for n in range(1, 5):
        counts = collections.Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
        most = collections.Counter()
        for ref in refs:
            most |= collections.Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        matched = sum(min(c, most[g]) for g, c in counts.items())
        log_precision += math.log((matched + 1) / (max(len(hyp) - n + 1, 0) + 1)) / 4
    closest = min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
    return math.exp(min(0.0, 1 - closest / len(hyp)) + log_precision)


def consensus_caption(objects, index, candidates=24):
    """The minimum-Bayes-risk caption among `candidates` fresh true captions of image `index`'s `objects`."""
    pool = []
    while len(pool) < candidates:
        pool += describe_scene(objects, count=5, seed=f"consensus/{index}/{len(pool)}")
    pool = pool[:candidates]
    gains = [sum(sentence_bleu4(c, [o]) for j, o in enumerate(pool) if j != i) for i, c in enumerate(pool)]
    return pool[int(np.argmax(gains))]


def ceiling(args):
    """Scores of captions true by construction (module docstring) on both held-out splits."""
    record = {"attention": "ceiling", "test_images": args.test_images}
    for split in ("test_seen", "test_novel"):
        scenes = load_scenes(split, num_images=args.test_images, image_size=64, seed=0)
        annotator = [describe_scene(objects, count=1, seed=f"annotator/{i}")[0] for i, objects in enumerate(scenes["objects"])]
        consensus = [consensus_caption(objects, i) for i, objects in enumerate(scenes["objects"])]
        for name, captions in (("annotator", annotator), ("consensus", consensus)):
            scores = score_texts(captions, scenes["captions"], metrics=CAPTION_METRICS)
            for key in ("bleu1", "bleu2", "bleu3", "bleu", "cider"):
                record[f"{name}_{split}_{key}"] = scores[key]
        record[f"consensus_{split}_examples"] = consensus[:3]
    print(json.dumps(record, indent=1), flush=True)
    with open(os.path.join(RESULTS, "captioner_quality_ceiling.json"), "w") as f:
        json.dump(record, f, indent=1)


def report():
    rows, bound = [], None
    for name in sorted(os.listdir(RESULTS)):
        if name.startswith("captioner_quality_"):
            with open(os.path.join(RESULTS, name)) as f:
                record = json.load(f)
            if record["attention"] == "ceiling":
                bound = record
            else:
                rows.append(record)
    print("| attention | minutes (clock) | epochs | decoding | BLEU-1/2/3/4 seen | BLEU-1/2/3/4 novel | CIDEr-D seen | CIDEr-D novel | localisation seen | localisation novel |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        loc = [f"{r[k]:.1%}" if k in r else "–" for k in ("test_seen_localisation", "test_novel_localisation")]
        widths = sorted({int(k.rsplit("beam", 1)[1]) for k in r if k.startswith("test_seen_bleu4_beam")})
        for suffix in [""] + [f"_beam{w}" for w in widths]:
            scores = []
            for split in ("test_seen", "test_novel"):
                orders = [r.get(f"{split}_bleu{n}{suffix}") for n in (1, 2, 3, 4)]
                scores.append("/".join(f"{v:.1f}" for v in orders if v is not None))
            print(f"| {r['attention']} | {r['minutes']:g} ({r.get('clock', 'wall')}) | {r['epochs']} | {suffix.strip('_') or 'greedy'} | "
                  f"{scores[0]} | {scores[1]} | {r['test_seen_cider' + suffix]:.2f} | {r['test_novel_cider' + suffix]:.2f} | {loc[0]} | {loc[1]} |")
    if bound:
        for name, label in (("annotator", "a sixth true caption (annotator)"), ("consensus", "perfect captioner, consensus of 24 true captions")):
            scores = ["/".join(f"{bound[f'{name}_{split}_{k}']:.1f}" for k in ("bleu1", "bleu2", "bleu3", "bleu")) for split in ("test_seen", "test_novel")]
            print(f"| {label} | – | – | – | {scores[0]} | {scores[1]} | {bound[f'{name}_test_seen_cider']:.2f} | "
                  f"{bound[f'{name}_test_novel_cider']:.2f} | – | – |")


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
    parser.add_argument("--beam-widths", type=int, nargs="+", default=[1], help="decode the test splits at each width")
    parser.add_argument("--save-models", default=None, help="folder where each trained model is saved (.keras)")
    parser.add_argument("--ceiling", action="store_true", help="score true captions against the references (module docstring)")
    parser.add_argument("--report", action="store_true")
    args = parser.parse_args()
    if args.ceiling:
        ceiling(args)
    elif not args.report:
        for attention in args.attention:
            run(attention, args)
    report()


if __name__ == "__main__":
    main()
