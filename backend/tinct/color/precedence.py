"""The composition policy: how the colour sources of one result combine, and which wins.

Six things speak about a pixel's a*b*: the U-Net (the model), the chroma prior, the
prompt, painted hints, a reference photo, and the painted pixels themselves. They are
laid on top of each other at the work size, weakest first, so each later source
overrides the earlier ones where its weight is high and leaves them alone where it
is 0:

1. **model**: the decoded colour latent at the slider's scale s times the pipeline's
   `unet_share` (times the decoder's `chroma_gain`). It is the base everything else
   is laid on; the bundled U-Net's own colour is faint (0.988x the all-gray error
   before the prior, model card).
2. **prior**: s x its a*b* field (which carries the prior's own `strength`), *added*
   to the model's, not blended: both are guesses from the gray image alone, so
   neither overrides the other. How much of the automatic colour comes from each
   (`unet_share` against the prior's `strength`) is chosen on the validation split
   (`scripts/tune_prior_mix.py`, model card). Both follow the slider (`add_prior`).
3. **prompt**: the colour words placed on the image (`tinct.color.prompt_regions`),
   s x their a*b*, *blended* in by their weight (`blend`). What the user says beats
   what the models guess. A prompt without colour words takes no part here; it
   conditions the U-Net as text instead (`unet_text`), because the U-Net, given
   colour words, tinted the whole image with the first of them.
4. **hints and reference**: one field, blended in by its render weight, which does
   not follow the slider (the user chose these colours, so the slider does not mute
   them). Painted hints win over a reference's matches where both reach
   (`prefer_painted`): what the user paints beats what a photo lends, and both beat
   what the user types.
5. **paste**: the painted pixels themselves, by their coverage (`paste_painted`):
   a pixel the user painted keeps exactly that colour at the work size, whatever
   came before; the full-resolution render pastes them once more after the guided
   upsampling (`tinct.color.compose.PaintedPixels`), so a dot or a thin stroke keeps
   its colour in the layer too.

`combine_chroma` applies steps 2-5 in this order. Swapping any two steps changes
which source wins; `tests/test_precedence.py` checks each step against the one
under it. Nothing here knows the pipeline: it takes plain a*b* arrays.
"""

from __future__ import annotations

import numpy as np

from tinct import color


def unet_text(prompt: str, colours_placed: bool) -> str:
    """The text the U-Net is conditioned on for `prompt`.

    `colours_placed` is True when the prompt's colour words were placed on the image
    (`prompt_regions.prompt_field` gave a field): then the U-Net gets the empty prompt
    and the colour comes from step 3 alone. Otherwise the prompt goes to the U-Net as
    text. Returns the string to encode ("" for no conditioning).
    """
    return "" if colours_placed else prompt


def add_prior(ab: np.ndarray, prior_field: np.ndarray, scale: float) -> np.ndarray:
    """Step 2: the model's a*b* plus `scale` times the prior's.

    `ab` (H, W, 2) a*b* (about -128..127); `prior_field` (H', W', 2) a*b* at scale 1, area
    resized to (H, W) when its size differs; `scale` the slider's colourfulness (0-4).
    Returns a new (H, W, 2) float32 array.
    """
    if prior_field.shape[:2] != ab.shape[:2]:
        prior_field = color.resize_area(prior_field, *ab.shape[:2])
    return ab + float(scale) * prior_field


def blend(ab: np.ndarray, field: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Steps 3 and 4: `ab` where `weight` is 0, `field` where it is 1, linear between.

    `ab` (H, W, 2) a*b*; `field` (H', W', 2) a*b* and `weight` (H', W') in [0, 1], both
    area resized to (H, W) when their size differs (a reduced preview decode).
    Returns a new (H, W, 2) array.
    """
    if weight.shape != ab.shape[:2]:
        field = color.resize_area(field, *ab.shape[:2])
        weight = color.resize_area(weight, *ab.shape[:2])
    return ab * (1.0 - weight[..., None]) + field * weight[..., None]


def prefer_painted(
    painted_field: np.ndarray | None,
    painted_conf: np.ndarray | None,
    ref_field: np.ndarray,
    ref_conf: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Step 4's one field from painted hints and a reference's matches, painted first.

    Where the painted hints reach (confidence c_p in [0, 1]) they win; the reference
    (confidence c_r in [0, 1]) speaks for the rest:
    f = (c_p f_p + (1 - c_p) c_r f_r) / c, with c = c_p + (1 - c_p) c_r.
    Fields are (H, W, 2) a*b*, confidences (H, W), all of one size. Without painted hints
    (None) the reference's field and confidence are returned as given.
    Returns the field (H, W, 2) and its confidence c (H, W), float32.
    """
    if painted_field is None or painted_conf is None:
        return ref_field, ref_conf
    cp, cr = painted_conf[..., None], ((1.0 - painted_conf) * ref_conf)[..., None]
    conf = cp + cr
    field = (cp * painted_field + cr * ref_field) / np.maximum(conf, 1e-6)
    return field.astype(np.float32), conf[..., 0].astype(np.float32)


def paste_painted(ab: np.ndarray, painted_ab: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Step 5: the painted pixels over everything, by their coverage.

    `ab` (H, W, 2) a*b*; `painted_ab` (H', W', 2) the painted a*b* and `alpha` (H', W')
    their coverage in [0, 1]; when their size differs (a reduced preview decode) they are
    shrunk with premultiplied alpha, so unpainted pixels lend no colour.
    Returns a new (H, W, 2) array, equal to `painted_ab` where `alpha` is 1.
    """
    if alpha.shape != ab.shape[:2]:
        painted_ab, alpha = color.resize_area_premultiplied(painted_ab, alpha, *ab.shape[:2])
    return ab * (1.0 - alpha[..., None]) + painted_ab * alpha[..., None]


def combine_chroma(
    model_ab: np.ndarray,
    scale: float,
    *,
    prior_field: np.ndarray | None = None,
    prompt_field: np.ndarray | None = None,
    prompt_weight: np.ndarray | None = None,
    hint_field: np.ndarray | None = None,
    hint_weight: np.ndarray | None = None,
    painted_ab: np.ndarray | None = None,
    painted_alpha: np.ndarray | None = None,
) -> np.ndarray:
    """The result's a*b* at the work size: the model's, then prior, prompt, hints, paste.

    `model_ab` (H, W, 2) is the decoded model colour already at `scale` (0-4, the slider).
    Each source is optional (None: it says nothing) and given at scale 1 where it follows
    the slider: `prior_field` (H, W, 2) a*b*; `prompt_field` (H, W, 2) a*b* with
    `prompt_weight` (H, W) in [0, 1]; `hint_field` (H, W, 2) a*b* (painted hints and
    reference, merged by `prefer_painted`) with `hint_weight` (H, W) in [0, 1], not scaled;
    `painted_ab` (H, W, 2) with `painted_alpha` (H, W) in [0, 1], not scaled. Sources of
    another size than `model_ab` are area resized to it. Returns (H, W, 2) a*b*.
    """
    ab = model_ab
    if prior_field is not None:
        ab = add_prior(ab, prior_field, scale)
    if prompt_field is not None and prompt_weight is not None:
        ab = blend(ab, float(scale) * prompt_field, prompt_weight)
    if hint_field is not None and hint_weight is not None:
        ab = blend(ab, hint_field, hint_weight)
    if painted_ab is not None and painted_alpha is not None:
        ab = paste_painted(ab, painted_ab, painted_alpha)
    return ab
