"""TinctPipeline: latent cold-diffusion colourisation ("Diffusing Colors").

Notation: E/D = VAE encoder/decoder, g = the input's gray, z_g = E(g), delta =
the colour latent. The U-Net sees concat(z_t, z_g) and predicts delta (hints,
a reference and placed prompt colours join at render time, not in the U-Net).
The result keeps z_g and delta_hat, so any colourfulness scale s is one decode
of z_g + s * delta_hat: the slider never runs the U-Net again (and decodes only at
fixed scale nodes, interpolating between them: `TinctPipeline.model_chroma`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from diffusers import AutoencoderKL, AutoencoderTiny, DiffusionPipeline, UNet2DConditionModel
from diffusers.utils import BaseOutput

from tinct import color
from tinct.color import hints as hint_propagation
from tinct.color import precedence, prompt_regions
from tinct.color import reference as reference_match
from tinct.color.compose import PaintedPixels
from tinct.pipeline import noun_maps
from tinct.pipeline.encoder_prior import EncoderPrior
from tinct.pipeline.model_format import FORMAT_WITHOUT_KEY, MODEL_FORMAT, upgrade_unet
from tinct.pipeline.prior import TinctPrior
from tinct.pipeline.scheduler import ColdDiffusionScheduler

# Components that model folders saved by earlier versions may still list and that are no
# longer used; loading skips them. "ranker": the automatic colourfulness pick, removed
# because on the 42-photo validation split it chose exactly 1.0 on every photo.
RETIRED_COMPONENTS = ("ranker",)

# A variation's restraint (EncoderPrior.sample): its colour is shrunk toward gray by the
# prior's confidence in it to this power (the prior's own point uses 0.5). runs/v08-cand,
# seeds 0-3 (benchmarks/bench_variations.py): with a mode radius of 10, 3 of 6 validation
# photos had variations under 5 a*b* apart at 0.5 and at 0.25; with radius 5 and 0.25,
# every one of 14 was 5.5-13.1 apart, at 0.954x gray's error against seed 0's 0.892x.
VARIATION_CONFIDENCE_POWER = 0.25

# A rescale decodes the colour latent at fixed latent scales only ("nodes": z_g + u * delta_hat
# for u = 0, 0.1, 0.2, ...; u is the slider's s times `unet_share`) and interpolates the decoded
# a*b* linearly between the two nodes around the asked scale (`TinctPipeline.model_chroma`).
# A node is decoded once per result and kept, so a slider move costs no VAE decode once its
# two nodes are there. With the bundled model on 6 validation photos, halfway and a quarter
# of the way between nodes over the slider's 0-2 (benchmarks/bench_rescale.py; design.md,
# issue 26), the interpolated a*b* are on average at most 0.017 from a decode at that
# value at share 0.2 (nodes 0.5 apart on the slider; 0.09 at the 99th percentile, 1.4 at
# the worst pixel) and 0.028 at share 1.0 (nodes 0.1 apart; 0.50, 6.3).
LATENT_NODE_STEP = 0.1


def seed_generator(seed: int) -> torch.Generator | None:
    """The generator of a seed: None for seed 0 (the model's own colouring, what Tinct
    gives without a seed), else a CPU torch.Generator seeded with it."""
    if seed == 0:
        return None
    return torch.Generator(device="cpu").manual_seed(int(seed))


def variation_generators(
    n: int, generator: torch.Generator | Sequence[torch.Generator | None] | None
) -> list[torch.Generator | None]:
    """`num_images_per_prompt` and `generator` as one entry per image (diffusers' rules:
    a list must hold one per image; one generator serves them all in turn)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"num_images_per_prompt must be an integer >= 1, got {n!r}")
    if generator is None:
        if n != 1:
            raise ValueError(
                f"num_images_per_prompt={n} needs a generator: without one there is only "
                "the model's own colouring"
            )
        return [None]
    if isinstance(generator, torch.Generator):
        return [generator] * n
    generators = list(generator)
    if len(generators) != n:
        raise ValueError(
            f"generator is a list of {len(generators)}, but num_images_per_prompt={n}: "
            "give one generator per image"
        )
    return generators


@dataclass
class ColorLatents:
    """Everything a rescale needs, at model (work) resolution."""

    gray_latent: torch.Tensor  # (1, C, h, w)
    color_latent: torch.Tensor  # (1, C, h, w): delta_hat, so z = z_g + s * delta_hat
    work_lightness: np.ndarray  # (H_w, W_w) L* of the input at work resolution
    hint_ab: np.ndarray | None = None  # (H_w, W_w, 2) painted hint chroma
    hint_alpha: np.ndarray | None = None  # (H_w, W_w) where hints were painted
    hint_field: np.ndarray | None = None  # (H_w, W_w, 2) hints propagated along luma edges
    hint_confidence: np.ndarray | None = None  # (H_w, W_w) in [0, 1]: the field's render weight
    # The painted pixels at the input's full resolution (pasted again after the upsampling).
    painted: PaintedPixels | None = None
    prompt: str = ""
    # The prompt's colour words placed on the image (tinct.color.prompt_regions):
    # a*b* at scale 1 and its render weight; None when the prompt names no colour.
    prompt_field: np.ndarray | None = None  # (H_w, W_w, 2)
    prompt_weight: np.ndarray | None = None  # (H_w, W_w) in [0, 1]
    # The chroma prior's a*b* at scale 1 (tinct.pipeline.prior); None without a prior.
    prior_field: np.ndarray | None = None  # (H_w, W_w, 2)
    # The model's a*b* decoded at the latent scale nodes (`TinctPipeline.model_chroma`), keyed
    # by (reduce, node index); filled as rescales ask for them, never changed once there.
    decoded: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def work_size(self) -> tuple[int, int]:
        """(height, width) of the work resolution the latents were predicted at."""
        return self.work_lightness.shape  # type: ignore[return-value]

    @property
    def decoded_nbytes(self) -> int:
        """Bytes held by the decoded nodes (they grow as rescales ask for new ones)."""
        return sum(ab.nbytes for ab in list(self.decoded.values()))


@dataclass
class HintInputs:
    """What the hints give one prediction, all at work size: the painted a*b* and their coverage
    in [0, 1] (pasted back last), and the field propagated edge-aware with its render weight in
    [0, 1]. All None without hints.
    """

    ab: np.ndarray | None = None  # painted a*b* at work size
    mask: np.ndarray | None = None  # where painted, in [0, 1]
    field: np.ndarray | None = None  # propagated a*b*
    confidence: np.ndarray | None = None  # the field's render weight, in [0, 1]


@dataclass
class TinctPipelineOutput(BaseOutput):
    """The result of `TinctPipeline.__call__`: full-resolution float32 sRGB images (H, W, 3) in
    [0, 1], the scale they were rendered at, and the latents any other scale renders from
    (`preview`, `render`); with several images, `variations` holds each one's latents.
    """

    images: list[np.ndarray]  # full-resolution sRGB float32 (H, W, 3), one per variation
    scale: float
    latents: ColorLatents  # the first image's
    variations: list[ColorLatents] | None = None  # every image's, in order


class TinctPipeline(DiffusionPipeline):
    """Latent cold-diffusion colorization with a VAE, a U-Net, a text encoder, a scheduler and an
    optional chroma prior.

    The input is float32 sRGB (H, W, 3) in [0, 1], of any size: the model works at about
    `work_pixels` (640x400 for the bundled model), and the result keeps the input's own lightness
    at full resolution. `predict` runs the U-Net once; `render`, `preview` and `chroma_at_work`
    then take any colourfulness scale from its latents without the U-Net.
    `chroma_gain` calibrates a decoder that under-reproduces chroma. `model_format` is the
    format of the folder the components came from (tinct.pipeline.model_format; 1 when
    model_index.json has none): an older U-Net is brought to the current format here.
    """

    model_cpu_offload_seq = "text_encoder->unet->vae"
    _optional_components = ["prior"]

    @classmethod
    def extract_init_dict(cls, config_dict, **kwargs):
        """diffusers' split of a saved config (model_index.json) into `__init__` arguments, less
        the components earlier versions saved and this one no longer uses
        (`RETIRED_COMPONENTS`): an old model folder loads without them, and without diffusers'
        warning about unexpected entries.
        """
        kept = {k: v for k, v in config_dict.items() if k not in RETIRED_COMPONENTS}
        return super().extract_init_dict(kept, **kwargs)

    def __init__(
        self,
        vae: AutoencoderKL | AutoencoderTiny,
        unet: UNet2DConditionModel,
        text_encoder,
        tokenizer,
        scheduler: ColdDiffusionScheduler,
        work_pixels: int = 640 * 400,
        chroma_gain: float = 1.0,
        prior: EncoderPrior | TinctPrior | None = None,
        model_format: int = FORMAT_WITHOUT_KEY,
        unet_share: float = 1.0,
    ):
        super().__init__()
        self.register_modules(
            vae=vae,
            unet=unet,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            scheduler=scheduler,
            prior=prior,
        )
        # chroma_gain: calibration of a small decoder that under-reproduces chroma
        # (least squares on training photos, see tinct.train.calibrate).
        # unet_share: the U-Net's share of the automatic colour, its colour latent taken
        # at the slider's scale times this (`colour_latent_at`); 1.0 in folders without it.
        self.register_to_config(
            work_pixels=work_pixels, chroma_gain=float(chroma_gain), unet_share=float(unet_share)
        )
        blocks = (
            getattr(vae.config, "block_out_channels", None) or vae.config.encoder_block_out_channels
        )
        self.vae_scale_factor = 2 ** (len(blocks) - 1)
        self.latent_channels = int(vae.config.latent_channels)
        lc = self.latent_channels
        # An older folder's U-Net is brought to this format here, on every load
        # (tinct.pipeline.model_format); what is saved is always the current format.
        upgrade_unet(unet, lc, model_format)
        self.register_to_config(model_format=MODEL_FORMAT)
        if unet.config.out_channels != lc:
            raise ValueError(f"unet.out_channels={unet.config.out_channels} must equal {lc}")

    # ----------------------------------------------------------- helpers ---

    @property
    def size_multiple(self) -> int:
        """The work size's sides are multiples of this: the VAE's stride times the U-Net's."""
        return self.vae_scale_factor * 2 ** (len(self.unet.config.block_out_channels) - 1)

    def work_size_for(self, height: int, width: int) -> tuple[int, int]:
        """The model's working size: about `work_pixels`, aspect kept, multiples of
        the U-Net's total stride. Never larger than needed for small images."""
        m = self.size_multiple
        budget = self.config.work_pixels
        f = min(1.0, math.sqrt(budget / float(height * width)))
        h = max(m, int(round(height * f / m)) * m)
        w = max(m, int(round(width * f / m)) * m)
        # A side clamped up to one multiple (a very thin image) must not keep the other
        # side long: shrink it so the work stays within the budget (1x300000 -> m x budget/m).
        limit = max(m, (budget // (m * m)) * m)
        if h == m and height * f < m:
            w = min(w, limit)
        if w == m and width * f < m:
            h = min(h, limit)
        return h, w

    def _to_tensor(self, rgb: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None]
        return (t * 2.0 - 1.0).to(self._execution_device, self.vae.dtype)

    def encode_image(self, rgb: np.ndarray | torch.Tensor) -> torch.Tensor:
        """sRGB float (H, W, 3) in [0, 1] (or a (B, 3, H, W) tensor in [-1, 1]) -> latent."""
        x = self._to_tensor(rgb) if isinstance(rgb, np.ndarray) else rgb
        out = self.vae.encode(x)
        if hasattr(out, "latent_dist"):
            z = out.latent_dist.mean
        else:
            z = out.latents
        return z * self.vae.config.scaling_factor

    def decode_latent(self, z: torch.Tensor) -> torch.Tensor:
        """latent -> (B, 3, H, W) sRGB tensor in [0, 1]."""
        x = self.vae.decode(z / self.vae.config.scaling_factor).sample
        return ((x.float() + 1.0) * 0.5).clamp(0.0, 1.0)

    # ------------------------------------------------------------ checks ---

    def check_inputs(
        self, image, prompt, hints, num_inference_steps, guidance_scale, scale, reference=None
    ):
        """Raise ValueError naming the argument, the value received and what is allowed: image
        float32 (H, W, 3) in [0, 1]; prompt a string; hints RGBA float32 of the image's size;
        reference float32 (H', W', 3) of any size; num_inference_steps 1-200; guidance_scale
        0-20; scale a number 0-4.
        """
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
            got = getattr(image, "shape", type(image).__name__)
            raise ValueError(f"image must be a (H, W, 3) float32 array in [0, 1], got {got}")
        if image.dtype != np.float32:
            raise ValueError(
                f"image must be float32 in [0, 1] (see tinct.color.to_float), got {image.dtype}"
            )
        if min(image.shape[:2]) < 1:
            raise ValueError(f"image is empty: {image.shape}")
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a string, got {type(prompt).__name__}")
        if hints is not None:
            if not isinstance(hints, np.ndarray) or hints.shape != image.shape[:2] + (4,):
                raise ValueError(
                    f"hints must be an RGBA float32 array of shape {image.shape[:2] + (4,)}, "
                    f"got {getattr(hints, 'shape', type(hints).__name__)}"
                )
        if reference is not None and (
            not isinstance(reference, np.ndarray)
            or reference.ndim != 3
            or reference.shape[2] != 3
            or reference.dtype != np.float32
            or min(reference.shape[:2]) < 1
        ):
            raise ValueError(
                "reference must be a (H, W, 3) float32 sRGB array in [0, 1] of any size, got "
                f"{getattr(reference, 'shape', type(reference).__name__)} "
                f"{getattr(reference, 'dtype', '')}"
            )
        if not isinstance(num_inference_steps, int) or not 1 <= num_inference_steps <= 200:
            raise ValueError(
                f"num_inference_steps must be an integer in 1..200, got {num_inference_steps!r}"
            )
        if not isinstance(guidance_scale, (int, float)) or not 0.0 <= guidance_scale <= 20.0:
            raise ValueError(f"guidance_scale must be a number in 0..20, got {guidance_scale!r}")
        if scale == "auto":
            raise ValueError(
                "scale must be a number in 0..4, got 'auto': the automatic pick was removed "
                "(it chose 1.0 on every validation photo); pass 1.0 for the model's own colour"
            )
        if (
            isinstance(scale, bool)
            or not isinstance(scale, (int, float))
            or not 0.0 <= scale <= 4.0
        ):
            raise ValueError(f"scale must be a number in 0..4, got {scale!r}")

    # ----------------------------------------------------------- prompts ---

    @torch.no_grad()
    def encode_prompt(self, prompts: Sequence[str]) -> torch.Tensor:
        """Text encoder hidden states (len(prompts), tokens, width) in the U-Net's dtype; prompts
        are padded or cut to the tokenizer's length (at most 77 tokens). The empty prompt is the
        unconditional one of classifier-free guidance.
        """
        max_len = min(int(getattr(self.tokenizer, "model_max_length", 77) or 77), 77)
        tok = self.tokenizer(
            list(prompts),
            padding="max_length",
            truncation=True,
            max_length=max_len,
            return_tensors="pt",
        )
        device = self._execution_device
        out = self.text_encoder(
            input_ids=tok.input_ids.to(device), attention_mask=tok.attention_mask.to(device)
        )
        return out.last_hidden_state.to(self.unet.dtype)

    # ------------------------------------------------------------- hints ---

    def hint_inputs(
        self,
        hints: np.ndarray | None,
        lightness: np.ndarray,
        grid_pixels: int = hint_propagation.GRID_PIXELS,
        reference: np.ndarray | None = None,
        features: np.ndarray | None = None,
    ) -> HintInputs:
        """Everything the hints give, at the work size of `lightness` (L*, (h, w)): the
        painted a*b* and where (for paste-back), and the edge-aware propagated field with
        its render weight (blended into the chroma at render time). `hints` are RGBA
        float32 at full resolution (alpha > 0 where painted); `grid_pixels` bounds the
        solve. A reference photo (float32 sRGB, any size) adds its confident matches
        (tinct.color.reference) as a second field; painted hints win where both reach.
        `features` (image features from the encoder prior) keep both from crossing into
        unlike regions of like lightness. Returns a `HintInputs`, all None without either."""
        painted = hints is not None and float(hints[..., 3].max()) > 0.0
        if not painted and reference is None:
            return HintInputs()
        h, w = lightness.shape
        ab = mask = field_ab = reach = None
        if painted:
            rgb, alpha = color.resize_area_premultiplied(hints[..., :3], hints[..., 3], h, w)
            ab, mask, field_ab, reach = hint_propagation.hint_chroma(
                rgb, alpha, lightness, grid_pixels, features=features
            )
        if reference is not None:
            ref_ab, ref_mask = reference_match.reference_hints(reference, lightness)
            ref_field, ref_reach = hint_propagation.propagate(
                lightness, ref_ab, ref_mask, grid_pixels, features=features
            )
            if field_ab is None:
                field_ab, reach = ref_field, ref_reach
            else:  # painted hints win where the render trusts them
                field_ab, _ = precedence.prefer_painted(
                    field_ab,
                    hint_propagation.render_weight(reach),
                    ref_field,
                    hint_propagation.render_weight(ref_reach),
                )
                reach = np.maximum(reach, ref_reach)
        return HintInputs(ab, mask, field_ab, hint_propagation.render_weight(reach))

    def prior_field_and_features(
        self, lightness: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The chroma prior's a*b* field at work size (None without a prior) and, for
        a prior with image features (the encoder prior), those features."""
        if self.prior is None:
            return None, None
        if hasattr(self.prior, "field_and_features"):
            return self.prior.field_and_features(lightness)
        return self.prior.field(lightness), None

    @property
    def draws_variations(self) -> bool:
        """True when the chroma prior holds a distribution that variations are drawn from
        (the encoder prior); a prior from lightness alone (TinctPrior) has one answer."""
        return self.prior is not None and hasattr(self.prior, "variation_fields_and_features")

    def check_generators(self, generators: Sequence[torch.Generator | None]) -> None:
        """ValueError when a generator asks for a variation this model cannot draw."""
        if any(g is not None for g in generators) and not self.draws_variations:
            kind = "no chroma prior" if self.prior is None else type(self.prior).__name__
            raise ValueError(
                f"this model cannot draw variations: its chroma prior ({kind}) has no colour "
                "distribution; use seed 0 and 1 variation, or a model with an encoder prior"
            )

    def prior_fields_and_features(
        self, lightness: np.ndarray, generators: Sequence[torch.Generator | None]
    ) -> tuple[
        list[np.ndarray | None],
        np.ndarray | None,
        prompt_regions.Likelihood | None,
        prompt_regions.Where | None,
    ]:
        """One prior field per generator (None: the model's own field; a generator: a
        variation drawn from the prior's distribution, `EncoderPrior.sample`), from one
        run of the prior, its image features as `prior_field_and_features` gives them, and
        (the encoder prior only, else None) its colour likelihood, which places a
        prompt's colours where the prior finds them likely, and where its encoder's
        classifier sees a prompt's nouns (tinct.pipeline.noun_maps; None also when the
        text encoder is not the one the class names were embedded with); both go to
        tinct.color.prompt_regions."""
        self.check_generators(generators)
        if hasattr(self.prior, "read"):
            reading = self.prior.read(
                lightness, list(generators), confidence_power=VARIATION_CONFIDENCE_POWER
            )
            where = None
            if noun_maps.usable_with(self.text_encoder):
                where = reading.noun_maps(self.embed_texts)
            return reading.fields, reading.features, reading.likelihood, where
        field, features = self.prior_field_and_features(lightness)
        return [field] * len(generators), features, None, None

    @torch.no_grad()
    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """(N, D) unit sentence embeddings of `texts` from the text encoder."""
        return noun_maps.embed_texts(self.tokenizer, self.text_encoder, texts)

    # ---------------------------------------------------------- predict ---

    @torch.no_grad()
    def predict(
        self,
        image: np.ndarray,
        prompt: str = "",
        hints: np.ndarray | None = None,
        num_inference_steps: int = 4,
        guidance_scale: float = 1.5,
        callback: Callable[[int, int], None] | None = None,
        reference: np.ndarray | None = None,
        generator: torch.Generator | None = None,
        painted: PaintedPixels | None = None,
    ) -> ColorLatents:
        """Run the denoiser; returns the latents from which any scale renders.
        `reference`: an optional colour photo (float32 sRGB, any size) whose
        matching regions lend their colour (tinct.color.reference). `generator`: None
        for the model's own colouring, else a variation drawn with it (`predict_variations`).
        `painted`: see `predict_variations`."""
        return self.predict_variations(
            image,
            prompt,
            hints,
            num_inference_steps,
            guidance_scale,
            callback,
            reference=reference,
            generators=[generator],
            painted=painted,
        )[0]

    @torch.no_grad()
    def predict_variations(
        self,
        image: np.ndarray,
        prompt: str = "",
        hints: np.ndarray | None = None,
        num_inference_steps: int = 4,
        guidance_scale: float = 1.5,
        callback: Callable[[int, int], None] | None = None,
        reference: np.ndarray | None = None,
        generators: Sequence[torch.Generator | None] = (None,),
        painted: PaintedPixels | None = None,
    ) -> list[ColorLatents]:
        """`predict` for several colourings at the cost of one: one latents per entry of
        `generators`. The U-Net runs once (cold diffusion draws nothing); the variations
        differ in the chroma prior's field, each drawn from the prior's distribution with
        its generator (None: the model's own field). Prompt colours and hints still win
        over every variation where they reach. `painted`: the painted pixels kept exactly
        in the full-resolution render, when `hints` were reduced from a larger layer (the
        daemon's); None: taken from `hints` themselves."""
        # 1. Check inputs
        self.check_inputs(image, prompt, hints, num_inference_steps, guidance_scale, 1.0, reference)
        if not generators:
            raise ValueError("generators must hold at least one entry (None or a torch.Generator)")
        self.check_generators(generators)
        # 2. Bring the input to the working size; keep only its lightness
        h, w = self.work_size_for(*image.shape[:2])
        small = color.resize_area(image, h, w)
        lightness = color.luminance_lstar(small)
        gray = color.gray(small)
        # 3. Encode the gray image: z_g, the fully degraded (t = T) sample
        gray_latent = self.encode_image(gray).to(self.unet.dtype)
        # 4. Colour words in the prompt are placed on the image, not read by the
        #    U-Net (which tints the whole image with them); a prompt that names no
        #    colour conditions the U-Net as text. Then encode the text (and the
        #    empty prompt for classifier-free guidance).
        #    The chroma prior runs first: its colour likelihood helps place the words.
        prior_fields, features, likely, where = self.prior_fields_and_features(
            lightness, generators
        )
        placed = prompt_regions.prompt_field(lightness, prompt, likely, where)
        text = precedence.unet_text(prompt, colours_placed=placed is not None)
        do_cfg = guidance_scale != 1.0 and text.strip() != ""
        cond = self.encode_prompt([text, ""] if do_cfg else [text])
        # 5. The chroma prior's bet (added at render time, under prompt and hints);
        #    then the hints (painted, then reference matches): a propagated field and
        #    its weight, blended at render time. The prior's image features shape the
        #    hints' affinity. Each variation is another draw from the prior's
        #    distribution (generators).
        hinted = self.hint_inputs(hints, lightness, reference=reference, features=features)
        if painted is None:  # kept exactly at full resolution too
            painted = PaintedPixels.from_hints(hints)
        # 6. Denoising loop (cold diffusion, Algorithm 2), from t = T down
        self.scheduler.set_timesteps(num_inference_steps, device=gray_latent.device)
        z = gray_latent.clone()
        total = len(self.scheduler.timesteps)
        for i, t in enumerate(self.scheduler.timesteps):
            x_in = torch.cat([z, gray_latent], dim=1)
            if do_cfg:
                x_in = x_in.expand(2, -1, -1, -1)
            delta = self.unet(x_in, t, encoder_hidden_states=cond).sample
            if do_cfg:
                delta_c, delta_u = delta.chunk(2)
                delta = delta_u + guidance_scale * (delta_c - delta_u)
            z = self.scheduler.step(delta, t, z, gray_latent=gray_latent).prev_sample
            if callback is not None:
                callback(i + 1, total)
        # 7. Keep z_g and the final colour latent: rescaling is one decode from here
        return [
            ColorLatents(
                gray_latent=gray_latent,
                color_latent=z - gray_latent,
                work_lightness=lightness,
                hint_ab=hinted.ab,
                hint_alpha=hinted.mask,
                hint_field=hinted.field,
                hint_confidence=hinted.confidence,
                painted=painted,
                prompt=prompt,
                prompt_field=None if placed is None else placed[0],
                prompt_weight=None if placed is None else placed[1],
                prior_field=prior_field,
            )
            for prior_field in prior_fields
        ]

    # ------------------------------------------------------ scale + render ---

    def latent_at(self, latents: ColorLatents, scale: float) -> torch.Tensor:
        """z_g + s * delta_hat with s = `scale` times `unet_share`, the U-Net's share of the
        automatic colour (the prior's is its own `strength`; model card)."""
        share = float(getattr(self.config, "unet_share", 1.0))
        return latents.gray_latent + float(scale) * share * latents.color_latent

    @torch.no_grad()
    def preview(
        self, latents: ColorLatents, scale: float, size: tuple[int, int] | None = None
    ) -> np.ndarray:
        """D(z_g + s * delta_hat) at work resolution (or resized to `size`), sRGB float32
        (s: `scale` times the U-Net's share, `latent_at`)."""
        z = self.latent_at(latents, scale)
        rgb = self.decode_latent(z.to(self.vae.dtype))[0].permute(1, 2, 0).cpu().numpy()
        if size is not None and tuple(size) != rgb.shape[:2]:
            rgb = color.resize_linear(rgb, *size)
        return np.ascontiguousarray(rgb, dtype=np.float32)

    @torch.no_grad()
    def decode_chroma(self, latents: ColorLatents, scale: float, reduce: int = 1) -> np.ndarray:
        """The model's own a*b* at `scale`: one VAE decode of `latent_at(latents, scale)`,
        in CIELAB, times `chroma_gain`; (H_w / reduce, W_w / reduce, 2) float32.

        ``reduce`` > 1 decodes latents area-reduced by that factor: a ``reduce``-squared
        times cheaper decode at lower chroma resolution, which live previews use (the
        guided filter restores edges from the luma).
        """
        z = self.latent_at(latents, scale)
        if reduce > 1:
            hl, wl = z.shape[-2:]
            small = (max(1, hl // reduce), max(1, wl // reduce))
            z = torch.nn.functional.interpolate(z, size=small, mode="area")
        rgb = self.decode_latent(z.to(self.vae.dtype))[0].permute(1, 2, 0).cpu().numpy()
        ab = color.rgb_to_lab(np.ascontiguousarray(rgb, dtype=np.float32))[..., 1:]
        gain = float(getattr(self.config, "chroma_gain", 1.0))
        if gain != 1.0:
            ab = ab * gain
        return np.ascontiguousarray(ab, dtype=np.float32)

    def model_chroma(
        self, latents: ColorLatents, scale: float, reduce: int = 1, exact: bool = False
    ) -> np.ndarray:
        """The model's own a*b* at `scale` (`decode_chroma`'s), from the decodes at the two
        latent scale nodes around it (every `LATENT_NODE_STEP` of s * `unet_share`), linearly
        interpolated; each node is decoded once per `latents` and kept in `latents.decoded`.
        At a node this is that node's decode. `exact`: decode at `scale` itself instead
        (nothing kept). Returns a new (H_w / reduce, W_w / reduce, 2) float32 array.
        """
        step = self.scale_node_step
        if exact:
            return self.decode_chroma(latents, scale, reduce)
        position = float(scale) / step
        if abs(position - round(position)) < 1e-6:
            position = float(round(position))
        lo = math.floor(position)
        t = np.float32(position - lo)

        def node(k: int) -> np.ndarray:
            key = (int(reduce), k)
            ab = latents.decoded.get(key)
            if ab is None:  # two threads may both decode it: the same array, kept once
                at = k * step if k else 0.0  # (a share of 0: one node, step infinite)
                ab = latents.decoded.setdefault(key, self.decode_chroma(latents, at, reduce))
            return ab

        if t == 0.0:
            return node(lo).copy()
        return node(lo) * (np.float32(1.0) - t) + node(lo + 1) * t

    @property
    def scale_node_step(self) -> float:
        """The spacing of the scale nodes on the slider (`model_chroma`): `LATENT_NODE_STEP`
        over `unet_share` (infinite when the share is 0: the colour does not follow s)."""
        share = float(getattr(self.config, "unet_share", 1.0))
        return LATENT_NODE_STEP / share if share > 0.0 else math.inf

    def missing_nodes(
        self, latents: ColorLatents, near: float, reduce: int, low: float, high: float
    ) -> list[float]:
        """The scale nodes in [low, high] that `latents` has not decoded at ``reduce`` yet,
        nearest to ``near`` first (what a rescale there would decode)."""
        step = self.scale_node_step
        if not math.isfinite(step):
            return [] if (int(reduce), 0) in latents.decoded else [0.0]
        ks = range(math.ceil(low / step - 1e-6), math.floor(high / step + 1e-6) + 1)
        missing = [k for k in ks if (int(reduce), k) not in latents.decoded]
        return [k * step for k in sorted(missing, key=lambda k: abs(k * step - near))]

    @torch.no_grad()
    def chroma_at_work(
        self, latents: ColorLatents, scale: float, reduce: int = 1, exact: bool = False
    ) -> np.ndarray:
        """a*b* at work resolution (÷ ``reduce``, see `decode_chroma`): the model's colour
        (`model_chroma`, interpolated between decoded scale nodes unless `exact`) with the
        prior, prompt, hints and painted pixels laid over it (tinct.color.precedence).
        """
        ab = self.model_chroma(latents, scale, reduce, exact)
        # The other sources laid over the model's colour, in the order of
        # tinct.color.precedence: prior, prompt, hints and reference, paste. Each is affine
        # in the model's a*b* and in s, so interpolating the model's colour between two
        # nodes interpolates the whole result between them.
        return precedence.combine_chroma(
            ab,
            scale,
            prior_field=latents.prior_field,
            prompt_field=latents.prompt_field,
            prompt_weight=latents.prompt_weight,
            hint_field=latents.hint_field,
            hint_weight=latents.hint_confidence,
            painted_ab=latents.hint_ab,
            painted_alpha=latents.hint_alpha,
        )

    def chroma_field(
        self,
        latents: ColorLatents,
        scale: float,
        height: int,
        width: int,
        reduce: int = 1,
        exact: bool = False,
    ):
        """The model's chroma at scale ``scale``, ready to evaluate at (height, width)."""
        from tinct.color.compose import ChromaField

        ab = self.chroma_at_work(latents, scale, reduce, exact)
        lightness = latents.work_lightness
        if lightness.shape != ab.shape[:2]:
            lightness = color.resize_area(lightness, *ab.shape[:2])
        return ChromaField(ab, lightness, height, width, painted=latents.painted)

    def render(
        self, image: np.ndarray, latents: ColorLatents, scale: float, workers: int = 1
    ) -> np.ndarray:
        """Full-resolution colour (float32 sRGB): the input's own luminance, the model's
        a*b* upsampled edge-aware (guided by the full-resolution lightness)."""
        from tinct.color.compose import compose

        field = self.chroma_field(latents, scale, *image.shape[:2])
        out = np.empty(image.shape[:2] + (3,), np.float32)
        return compose(image, field, out, workers=workers)

    # ------------------------------------------------------------- call ---

    def __call__(
        self,
        image: np.ndarray,
        prompt: str = "",
        hints: np.ndarray | None = None,
        num_inference_steps: int = 4,
        guidance_scale: float = 1.5,
        scale: float = 1.0,
        callback: Callable[[int, int], None] | None = None,
        reference: np.ndarray | None = None,
        num_images_per_prompt: int = 1,
        generator: torch.Generator | Sequence[torch.Generator | None] | None = None,
    ) -> TinctPipelineOutput:
        """Colorize `image` (float32 sRGB (H, W, 3) in [0, 1]) at full resolution.

        `prompt` names colours (placed on the image) or steers the U-Net as text; `hints` is RGBA
        float32 of the image's size (alpha > 0 where painted); `reference` is a colour photo of any
        size; `guidance_scale` 0-20 applies to a text prompt only; `scale` 0-4 (1 = the model's own
        colour, 0 = gray). `callback(step, total)` runs after each step and may raise to cancel.
        `num_images_per_prompt` colourings come back: with `generator` None only 1 (the model's
        own); one torch.Generator draws them all in turn; a list gives one per image (a None
        entry is the model's own colouring). Variations need an encoder prior
        (`draws_variations`). Returns a `TinctPipelineOutput` whose images keep the input's L*.
        """
        # 1. Check inputs
        self.check_inputs(
            image, prompt, hints, num_inference_steps, guidance_scale, scale, reference
        )
        generators = variation_generators(num_images_per_prompt, generator)
        # 2. Predict the colour latents (one U-Net run for all variations)
        variations = self.predict_variations(
            image,
            prompt,
            hints,
            num_inference_steps,
            guidance_scale,
            callback,
            reference=reference,
            generators=generators,
        )
        # 3. Render each at full resolution with the input's luma
        s = float(scale)
        return TinctPipelineOutput(
            images=[self.render(image, latents, s) for latents in variations],
            scale=s,
            latents=variations[0],
            variations=variations,
        )
