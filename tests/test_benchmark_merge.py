"""The document-classifier benchmark's `--merge`: one row per model and recipe."""

import importlib.util
import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_benchmark():
    spec = importlib.util.spec_from_file_location("document_classifier_benchmark", os.path.join(ROOT, "benchmarks", "document_classifier.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_run(path, args, results):
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"args": args, "results": results}, f)
    return str(path)


def run(fold, accuracy):
    return {"fold": fold, "accuracy": accuracy, "f1_macro": accuracy, "roc_auc": accuracy, "epochs": 5,
            "train_seconds": 1.0, "time_limited": False}


def test_merge_keeps_recipes_apart_and_joins_folds_of_one_recipe(tmp_path):
    benchmark = load_benchmark()
    defaults = vars(benchmark.parse_args([]))
    plain_a = write_run(tmp_path / "a.json", {**defaults, "folds": "0,1"}, {"han": [run(0, 0.80), run(1, 0.81)], "tfidf_logreg": [run(0, 0.9)]})
    plain_b = write_run(tmp_path / "b.json", {**defaults, "folds": "1,2", "clock": "cpu", "minutes_per_model": 20.0},
                        {"han": [run(1, 0.70), run(2, 0.82)]})
    glove = write_run(tmp_path / "c.json", {**defaults, "embeddings": "glove-6b-50d", "embedding_trainable": "2", "epochs": 30,
                                            "ema": 0.98, "pretrain_source": "reviews"}, {"han": [run(0, 0.60)]})
    old = write_run(tmp_path / "d.json", {"ensemble": 3}, {"han": [run(0, 0.85)]})  # a file from before some options existed
    merged = benchmark.merge([plain_a, plain_b, glove, old])
    assert list(merged) == ["han", "tfidf_logreg", "han --epochs 30 --embeddings glove-6b-50d --embedding-trainable 2 --ema 0.98",
                            "han --ensemble 3"]
    # The same recipe (the clock and the time cap are not part of it) joins; fold 1 keeps the later run.
    assert [(r["fold"], r["accuracy"]) for r in merged["han"]] == [(0, 0.80), (1, 0.70), (2, 0.82)]
    assert [r["accuracy"] for r in merged["han --epochs 30 --embeddings glove-6b-50d --embedding-trainable 2 --ema 0.98"]] == [0.60]
    assert benchmark.recipe_name("tfidf_logreg", {"embeddings": "random"}) == "tfidf_logreg"
    assert benchmark.recipe_name("han", {"pretrain_sentences": 2, "pretrain_source": "reviews", "label_features": True}) == (
        "han --label-features --pretrain-sentences 2 --pretrain-source reviews")
