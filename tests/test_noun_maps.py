"""The learned noun placer (tinct.pipeline.noun_maps): EfficientNet-Lite0's own ImageNet
classifier, applied at every place, and the bundled text encoder's embeddings of the class
names, on scikit-image's sample photos made gray."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch

from tinct import color
from tinct.color import prompt_regions as pr
from tinct.pipeline import DEFAULT_MODEL_DIR, load_pipeline
from tinct.pipeline import noun_maps as nm
from tinct.pipeline.encoder_prior import EncoderPrior
from tinct.pipeline.loading import load_minilm


@pytest.fixture(scope="module")
def maps_of():
    prior = EncoderPrior.from_pretrained(DEFAULT_MODEL_DIR / "prior").eval()
    encoder, tokenizer = load_minilm()

    def embed(texts):
        return nm.embed_texts(tokenizer, encoder, texts)

    def maps_of(name: str) -> nm.NounMaps:
        rgb = getattr(skimage.data, name)()[..., :3].astype(np.float32) / 255.0
        lightness = color.rgb_to_lab(rgb)[..., 0]
        with torch.no_grad():
            return prior.read(lightness, [None]).noun_maps(embed)

    return maps_of


def names(maps: nm.NounMaps, noun: str) -> list[str]:
    table, _ = nm.class_table()
    return [table[i].split(",")[0] for i, _ in maps.classes(noun)]


def test_a_noun_picks_its_classes_by_the_names_meaning(maps_of):
    maps = maps_of("astronaut")
    assert names(maps, "castle")[0] == "castle"
    assert "space shuttle" in names(maps, "shuttle")
    assert {"cup", "coffee mug"} <= set(names(maps, "mug"))
    assert names(maps, "sky") == [] and names(maps, "flag") == []  # no class: the rules place it


def test_things_are_found_where_the_photo_shows_them_and_absent_ones_not_at_all(maps_of):
    """The astronaut photo: the shuttle stands at the upper right, the helmet she holds at
    the lower right. Each noun's map is strongest there; a cat or a bus is not in it."""
    maps = maps_of("astronaut")
    for noun, (rows, cols) in {
        "shuttle": (slice(0, 256), slice(320, 512)),
        "helmet": (slice(384, 512), slice(256, 512)),
    }.items():
        where = maps(noun)
        assert where is not None, noun
        inside = np.zeros(where.shape, bool)
        inside[rows, cols] = True
        assert where[inside].mean() > 3.0 * where[~inside].mean(), noun
    assert maps("cat") is None and maps("bus") is None
    cat = maps_of("chelsea")
    assert cat("cat") is not None and cat("car") is None


def test_the_bundled_pipeline_moves_a_things_colour_to_where_the_classifier_sees_it():
    """The prompt "a red space shuttle": the rules alone take the astronaut in the middle for the
    subject and give her face more of the red than the shuttle at the upper right; with
    the classifier the shuttle gets over twice the face's red, and keeps what it had."""
    pipe = load_pipeline(None, device="cpu")
    assert nm.usable_with(pipe.text_encoder)
    rgb = skimage.data.astronaut().astype(np.float32) / 255.0
    lightness = color.resize_area(color.rgb_to_lab(rgb)[..., 0], 256, 256)
    _, _, likely, where = pipe.prior_fields_and_features(lightness, [None])
    assert where is not None
    red = {}
    for name, cue in (("rules", None), ("learned", where)):
        field, weight = pr.prompt_field(lightness, "a red space shuttle", likely, cue)
        tint = field[..., 0] * weight
        red[name] = (tint[20:110, 170:230].mean(), tint[40:100, 80:150].mean())
    (shuttle, face), (shuttle_rules, face_rules) = red["learned"], red["rules"]
    assert shuttle_rules < face_rules, red
    assert shuttle > 2.0 * face and shuttle >= 0.9 * shuttle_rules, red
