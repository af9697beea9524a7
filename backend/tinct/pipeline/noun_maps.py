"""Where a prompt's noun is in the picture, from the encoder's own ImageNet classifier.

This is the learned way of placing a noun ("car", "cup", "tiger", "bridge"); the rules
of tinct.color.prompt_regions (a sky is smooth and reaches the top edge, a subject
stands apart from the border) remain for what it has no answer to.

EfficientNet-Lite0 ends in a 1x1 head (1280 channels at stride 32) and a linear
classifier over the 1,000 ImageNet classes, trained on colour photos and still
recognising gray ones. Applied at every place of the head's map instead of after the
pooling, the classifier gives a distribution over the classes at each place (a class
activation map). A noun picks its classes through the text encoder: the cosine
similarity of its embedding to the embeddings of the class names
(`imagenet_classes.npz`, made by scripts/make_imagenet_classes.py; only with the text
encoder those embeddings came from). A place's score for the noun is the probability
its classes take there; a noun whose classes take little probability everywhere is not
in the picture as far as the classifier can tell, and gets no map.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinct import color
from tinct.pipeline.encoder import classifier_weights

CLASSES_FILE = Path(__file__).resolve().with_name("imagenet_classes.npz")
# Source of the three below: hand-picked from the name matches of a few nouns, not
# swept; the placer as a whole was measured on the validation captions
# (scripts/tune_prompt_likely.py --trusts; docs/design.md, "Nouns placed by the classifier").
SIM_MIN = 0.6  # a class stands for a noun when its name's embedding is this similar
TOP_CLASSES = 5  # at most this many classes per noun
PRESENT_MIN = 0.2  # the noun's classes must take this probability at some place


def embed_texts(tokenizer, encoder, texts: Sequence[str]) -> torch.Tensor:
    """(N, D) unit-length sentence embeddings: the encoder's last hidden states
    mean-pooled over each text's tokens (how all-MiniLM-L6-v2 was trained to be used)."""
    tok = tokenizer(list(texts), padding=True, truncation=True, max_length=32, return_tensors="pt")
    device = next(encoder.parameters()).device
    mask = tok.attention_mask.to(device)
    hidden = encoder(input_ids=tok.input_ids.to(device), attention_mask=mask).last_hidden_state
    m = mask[..., None].to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    return F.normalize(pooled.float(), dim=-1).cpu()


@functools.lru_cache(maxsize=1)
def class_table() -> tuple[tuple[str, ...], torch.Tensor]:
    """The class names and their (1000, D) unit embeddings (float32)."""
    with np.load(CLASSES_FILE) as data:
        names = tuple(str(n) for n in data["names"])
        emb = torch.from_numpy(data["embeddings"].astype(np.float32))
    return names, F.normalize(emb, dim=-1)


def usable_with(text_encoder) -> bool:
    """True when `text_encoder` is the one the class embeddings were made with."""
    path = str(getattr(getattr(text_encoder, "config", None), "_name_or_path", "")).lower()
    return CLASSES_FILE.exists() and "minilm" in path


class NounMaps:
    """A callable: noun -> (H, W) map in [0, 1] of where it is, or None.

    `head`: the encoder head's (1280, h, w) map over the picture's valid area;
    `size`: the work size (H, W) the maps are resized to; `embed`: texts -> (N, D)
    unit embeddings from the same text encoder as `class_table`'s."""

    def __init__(
        self,
        head: torch.Tensor,
        size: tuple[int, int],
        embed: Callable[[Sequence[str]], torch.Tensor],
    ):
        self._head, self._size, self._embed = head, size, embed
        self._probs: torch.Tensor | None = None  # (1000, h, w), on the first noun asked
        self._cache: dict[str, np.ndarray | None] = {}

    def probabilities(self) -> torch.Tensor:
        """(1000, h, w): the classifier's distribution over the classes at each place."""
        if self._probs is None:
            weight, bias = classifier_weights()
            head = self._head.float().cpu()
            logits = torch.einsum("chw,kc->khw", head, weight) + bias[:, None, None]
            self._probs = torch.softmax(logits, dim=0)
        return self._probs

    def classes(self, noun: str) -> list[tuple[int, float]]:
        """(class index, similarity) of the classes standing for `noun`, best first."""
        _, table = class_table()
        sims = table @ self._embed([noun])[0]
        top = torch.topk(sims, TOP_CLASSES)
        pairs = zip(top.values.tolist(), top.indices.tolist(), strict=True)
        return [(i, s) for s, i in pairs if s >= SIM_MIN]

    def found(self) -> list[str]:
        """The nouns asked so far that the classifier sees in the picture, sorted."""
        return sorted(noun for noun, where in self._cache.items() if where is not None)

    def __call__(self, noun: str) -> np.ndarray | None:
        if noun not in self._cache:
            self._cache[noun] = self._map(noun)
        return self._cache[noun]

    def _map(self, noun: str) -> np.ndarray | None:
        picked = self.classes(noun)
        if not picked:
            return None
        score = self.probabilities()[[i for i, _ in picked]].sum(0).numpy()  # (h, w)
        top = float(score.max())
        if top < PRESENT_MIN:
            return None
        rel = np.clip(score / top, 0.0, 1.0).astype(np.float32)
        return np.clip(color.resize_linear(rel[..., None], *self._size)[..., 0], 0.0, 1.0)


__all__ = ["NounMaps", "class_table", "embed_texts", "usable_with"]
