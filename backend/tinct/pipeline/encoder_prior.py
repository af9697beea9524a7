"""The chroma prior with eyes: a pretrained image encoder's features -> a
distribution over quantised a*b* per pixel -> its annealed mean.

What it is (learned, trained by tinct.train.encoder_prior):
- the gray image goes through EfficientNet-Lite0 (tinct.pipeline.encoder:
  ImageNet weights, frozen, not stored in our model folder);
- a small top-down decoder (1x1 projections of the stride-4/8/16/32 features,
  the pooled head as global context, 3x3 fusions) predicts logits over a*b* bins
  on a `bin_step` grid at stride 4;
- the field is the annealed mean of that distribution (Zhang, Isola & Efros
  2016): softmax(logits / temperature) averaged over the bin centres. A mean
  alone averages sky-blue and sunset-orange into brown; the annealed mean
  follows the likeliest mode, and where the distribution is spread over
  opposite colours it stays near gray by itself.

Same interface as tinct.pipeline.prior.TinctPrior: `field(L*)` -> (H, W, 2) a*b*,
which the pipeline adds under the prompt and hints, scaled by the slider.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from tinct import color
from tinct.pipeline.encoder import FEATURE_CHANNELS, lightness_to_gray, load_encoder
from tinct.pipeline.noun_maps import NounMaps
from tinct.pipeline.prior import input_at_side


def bin_centres(step: float, extent: float) -> torch.Tensor:
    """(Q, 2) a*b* centres of a square grid with spacing `step` over [-extent, extent]^2."""
    axis = torch.arange(-extent, extent + 1e-6, step)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], 1)


def _fuse(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.GroupNorm(8, c_out),
        nn.SiLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1),
        nn.GroupNorm(8, c_out),
        nn.SiLU(),
    )


class EncoderPrior(ModelMixin, ConfigMixin):
    """Encoder features -> a*b* bin logits at stride 4 -> annealed-mean a*b*."""

    @register_to_config
    def __init__(
        self,
        width: int = 64,
        bin_step: float = 10.0,
        bin_extent: float = 110.0,
        input_side: int = 320,
        temperature: float = 0.38,
        strength: float = 1.0,
        encoder: str = "efficientnet-lite0",
        median_share: float = 0.0,
        confidence_power: float = 0.0,
        confidence_radius: float = 15.0,
    ):
        super().__init__()
        if encoder != "efficientnet-lite0":
            raise ValueError(f"encoder={encoder!r}: only 'efficientnet-lite0' is supported")
        *maps, head = FEATURE_CHANNELS
        self.proj = nn.ModuleList(nn.Conv2d(c, width, 1) for c in maps)
        self.context = nn.Linear(head, width)
        self.fuse = nn.ModuleList(_fuse(2 * width, width) for _ in maps[:-1])
        self.register_buffer("centres", bin_centres(bin_step, bin_extent), persistent=False)
        self.out = nn.Conv2d(width, self.centres.shape[0], 1)

    @property
    def multiple(self) -> int:
        return 32  # the encoder's coarsest stride

    def encode(self, lightness: torch.Tensor) -> list[torch.Tensor]:
        """(B, 1, H, W) L* in [0, 100], H and W multiples of 32 -> the frozen
        encoder's features (tinct.pipeline.encoder.FEATURE_CHANNELS)."""
        p = next(self.parameters())
        enc = load_encoder(str(p.device), p.dtype)
        with torch.no_grad():
            return enc(lightness_to_gray(lightness).to(p.dtype))

    def logits(self, lightness: torch.Tensor) -> torch.Tensor:
        """lightness: (B, 1, H, W) L* in [0, 100], H and W multiples of 32 ->
        (B, Q, H/4, W/4) logits over the bins `centres`."""
        return self.decode(self.encode(lightness))

    def decode(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """The encoder's features -> (B, Q, H/4, W/4) bin logits (the trained part)."""
        return self.out(self.hidden(feats))

    def hidden(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """The decoder's last (B, width, H/4, W/4) map: learned per-pixel features of
        what colour a place takes (the hints' affinity uses them)."""
        p = next(self.parameters())
        *maps, head = (f.to(p.dtype) for f in feats)
        x = self.proj[-1](maps[-1]) + self.context(head.mean(dim=(2, 3)))[..., None, None]
        for k in reversed(range(len(maps) - 1)):
            skip = self.proj[k](maps[k])
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = self.fuse[k](torch.cat([x, skip], 1))
        return x

    def annealed_mean(self, logits: torch.Tensor, temperature: float | None = None):
        """(B, Q, h, w) logits -> (B, 2, h, w) a*b*: the mean of softmax(logits / T)."""
        t = float(self.config.temperature if temperature is None else temperature)
        p = torch.softmax(logits.float() / t, dim=1)
        return torch.einsum("bqhw,qc->bchw", p, self.centres.float())

    def median(self, logits: torch.Tensor, iterations: int = 12) -> torch.Tensor:
        """(B, Q, h, w) logits -> (B, 2, h, w) a*b*: the geometric median of
        softmax(logits), the colour with the least expected a*b* distance to the
        truth if the distribution is right (Weiszfeld's iterations from the mean).
        Where the model is sure this is its colour; where its belief is spread over
        unlike colours it is a restrained, grayer one: restraint from what it does
        not know, not from a tuned strength."""
        p = torch.softmax(logits.float(), dim=1)
        c = self.centres.float()
        x = torch.einsum("bqhw,qc->bchw", p, c)
        for _ in range(iterations):
            w = p * self.squared_distances(x).clamp_(min=1.0).rsqrt_()
            x = torch.einsum("bqhw,qc->bchw", w, c) / w.sum(1, keepdim=True)
        return x

    def squared_distances(self, ab: torch.Tensor) -> torch.Tensor:
        """(B, 2, h, w) a*b* -> (B, Q, h, w) squared a*b* distances to each bin centre
        (per channel, never a (B, Q, 2, h, w) temporary: 40x faster on a CPU)."""
        c = self.centres.float()
        da = c[:, 0].view(1, -1, 1, 1) - ab[:, 0:1]
        db = c[:, 1].view(1, -1, 1, 1) - ab[:, 1:2]
        return da.square_().add_(db.square_())

    def confidence(self, logits: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """(B, 1, h, w): the probability the model gives to colours within
        `confidence_radius` a*b* units of `ab` (B, 2, h, w); 1 = sure of it."""
        p = torch.softmax(logits.float(), dim=1)
        near = self.squared_distances(ab) < float(self.config.confidence_radius) ** 2
        return (p * near).sum(1, keepdim=True)

    def point(self, logits: torch.Tensor) -> torch.Tensor:
        """The field's a*b* from the bin logits: `median_share` of the geometric
        median plus the rest of the annealed mean at `temperature`, shrunk toward
        gray by `confidence` ** `confidence_power` (0: no shrinking)."""
        share = float(self.config.median_share)
        out = self.annealed_mean(logits) if share < 1.0 else 0.0
        if share > 0.0:
            out = share * self.median(logits) + (1.0 - share) * out
        if self.config.confidence_power > 0.0:
            out = out * self.confidence(logits, out) ** float(self.config.confidence_power)
        return out

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) L* -> (B, 2, H/4, W/4) a*b* (`point`)."""
        return self.point(self.logits(lightness))

    @torch.no_grad()
    def field(self, lightness: np.ndarray) -> np.ndarray:
        """(H, W) L* -> (H, W, 2) a*b*: run at long side `input_side` (edges padded
        by replication to a multiple of 32), resized back, times `strength`."""
        return self.field_and_features(lightness)[0]

    @torch.no_grad()
    def field_and_features(self, lightness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`field`, and the decoder's hidden map over the same picture at stride 4
        ((h/4, w/4, width) float32, see `hidden`)."""
        fields, feats = self.variation_fields_and_features(lightness, [None])
        return fields[0], feats

    # --- variations: other plausible colourings drawn from the distribution -------

    def sample(
        self,
        logits: torch.Tensor,
        generator: torch.Generator,
        cells: int | None = None,
        radius: float | None = None,
        confidence_power: float | None = None,
    ) -> torch.Tensor:
        """(B, Q, h, w) logits -> (B, 2, h, w) a*b*: one variation, a colour drawn from the
        distribution region by region.

        1. Gumbel-max with spatially smooth noise (`smooth_gumbel`, about `cells` noise
           cells across the long side): each pixel's draw follows softmax(logits) exactly,
           neighbouring pixels draw alike, so a region takes one plausible colour, not
           pixel noise. A soft argmax (temperature 0.1) keeps the drawn colour continuous.
        2. The mean of the distribution within `radius` (default VARIATION_RADIUS) a*b*
           of the drawn colour: the
           mode the draw fell in, not a lone bin.
        3. Shrunk toward gray by the model's confidence in it (as `point` does), to the
           power `confidence_power` (default the config's): an unlikely draw stays muted.
        The same `generator` state gives the same variation.
        """
        cells = VARIATION_CELLS if cells is None else cells
        radius = VARIATION_RADIUS if radius is None else radius
        p = torch.softmax(logits.float(), dim=1)
        c = self.centres.float()
        noise = smooth_gumbel(tuple(logits.shape), generator, cells).to(p.device)
        soft = torch.softmax((logits.float() + noise) / 0.1, dim=1)
        drawn = torch.einsum("bqhw,qc->bchw", soft, c)
        w = p * torch.exp(-self.squared_distances(drawn) / (2.0 * radius * radius))
        ab = torch.einsum("bqhw,qc->bchw", w, c) / w.sum(1, keepdim=True).clamp(min=1e-12)
        power = self.config.confidence_power if confidence_power is None else confidence_power
        if power > 0.0:
            ab = ab * self.confidence(logits, ab) ** float(power)
        return ab

    @torch.no_grad()
    def variation_fields_and_features(
        self,
        lightness: np.ndarray,
        generators: list[torch.Generator | None],
        confidence_power: float | None = None,
    ) -> tuple[list[np.ndarray], np.ndarray]:
        """One (H, W, 2) a*b* field per generator (None: `point`, the model's own field,
        as `field` gives it) from one pass of the encoder, and the decoder's features
        (see `field_and_features`)."""
        reading = self.read(lightness, generators, confidence_power)
        return reading.fields, reading.features

    @torch.no_grad()
    def read(
        self,
        lightness: np.ndarray,
        generators: list[torch.Generator | None],
        confidence_power: float | None = None,
    ) -> PriorReading:
        """Everything one pass of the encoder tells about `lightness` ((H, W) L*): the
        fields of `variation_fields_and_features`, the decoder's features and the
        colour likelihood (`PriorReading`)."""
        h, w = lightness.shape
        x, (sh, sw) = input_at_side(lightness, self.config.input_side, self.multiple)
        param = next(self.parameters())
        enc_feats = self.encode(x.to(param.device, param.dtype))
        hid = self.hidden(enc_feats)
        logits = self.out(hid)
        fields = []
        for g in generators:
            if g is None:
                ab = self.point(logits)
            else:
                ab = self.sample(logits, g, confidence_power=confidence_power)
            ab = F.interpolate(ab, size=x.shape[-2:], mode="bilinear", align_corners=False)
            ab = ab[0, :, :sh, :sw].float().cpu().numpy()
            ab = np.ascontiguousarray(ab.transpose(1, 2, 0)) * np.float32(self.config.strength)
            fields.append(color.resize_linear(ab, h, w) if (sh, sw) != (h, w) else ab)
        h4, w4 = -(-sh // 4), -(-sw // 4)
        feats = hid[0, :, :h4, :w4].float().cpu().numpy().transpose(1, 2, 0)
        centres = self.centres.float().cpu().numpy()
        h32, w32 = -(-sh // 32), -(-sw // 32)
        return PriorReading(
            fields,
            np.ascontiguousarray(feats),
            logits[0, :, :h4, :w4],
            centres,
            (h, w),
            head=enc_feats[-1][0, :, :h32, :w32],
        )


class PriorReading:
    """One pass of the encoder prior over an image of work size `size`: `fields` (one
    (H, W, 2) a*b* per generator), `features` ((h/4, w/4, width), the decoder's hidden
    map) and `likelihood`, the probability of a colour at each pixel (its softmax is
    taken on the first call: a run without colour words in its prompt never needs it);
    `head` is the encoder head's (1280, h/32, w/32) map, which places a prompt's nouns
    (`noun_maps`, tinct.pipeline.noun_maps)."""

    def __init__(
        self,
        fields: list[np.ndarray],
        features: np.ndarray,
        logits: torch.Tensor,
        centres: np.ndarray,
        size: tuple[int, int],
        head: torch.Tensor | None = None,
    ):
        self.fields, self.features, self.head = fields, features, head
        self._logits, self._centres, self._size = logits, centres, size
        self._probs: np.ndarray | None = None

    def likelihood(self, ab: tuple[float, float], radius: float) -> np.ndarray:
        """(H, W) float32: the probability the prior gives to a*b* within `radius` of
        `ab` at each pixel (summed over its bins; the nearest bin when none is that
        near), at the work size."""
        if self._probs is None:
            self._probs = torch.softmax(self._logits.float(), dim=0).cpu().numpy()
        d2 = ((self._centres - np.asarray(ab, np.float32)) ** 2).sum(1)
        near = d2 < radius * radius
        if not near.any():
            near = d2 == d2.min()
        q = np.ascontiguousarray(self._probs[near].sum(0), dtype=np.float32)
        return color.resize_linear(q[..., None], *self._size)[..., 0]

    def noun_maps(self, embed) -> NounMaps | None:
        """Where the picture shows a noun (`NounMaps`), with `embed` the text encoder's
        texts -> unit embeddings; None without the encoder head's map."""
        if self.head is None:
            return None
        return NounMaps(self.head, self._size, embed)


# Variations (EncoderPrior.sample): noise cells across the long side of the stride-4 map
# (about 7 regions per side: regions, not pixels), and the a*b* radius of the
# mode a draw stands for. Chosen on 6 validation photos (benchmarks/bench_variations.py).
VARIATION_CELLS = 7
VARIATION_RADIUS = 5.0


def smooth_gumbel(
    shape: tuple[int, int, int, int], generator: torch.Generator, cells: int
) -> torch.Tensor:
    """(B, Q, h, w) Gumbel(0, 1) noise, independent per channel and spatially smooth: a
    normal field on a grid of about `cells` cells across the long side, bilinearly
    upsampled, brought back to unit variance and mapped through the normal and Gumbel
    quantiles, so each pixel's value is still exactly Gumbel. Drawn on the CPU from
    `generator`: the same seed gives the same noise on every device."""
    b, q, h, w = shape
    step = max(h, w) / max(1, cells)
    gh, gw = max(1, round(h / step)) + 1, max(1, round(w / step)) + 1
    z = torch.randn((b, q, gh, gw), generator=generator, dtype=torch.float32)
    z = F.interpolate(z, size=(h, w), mode="bilinear", align_corners=True)
    z = (z - z.mean(dim=(2, 3), keepdim=True)) / z.std(dim=(2, 3), keepdim=True).clamp(min=1e-6)
    u = (0.5 * (1.0 + torch.erf(z * 0.5**0.5))).clamp(1e-6, 1.0 - 1e-6)
    return -torch.log(-torch.log(u))
