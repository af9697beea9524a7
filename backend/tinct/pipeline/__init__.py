"""The colouriser: cold-diffusion scheduler, chroma prior and TinctPipeline."""

from tinct.pipeline.encoder_prior import EncoderPrior
from tinct.pipeline.loading import DEFAULT_MODEL_DIR, load_minilm, load_pipeline
from tinct.pipeline.pipeline_tinct import ColorLatents, TinctPipeline, TinctPipelineOutput
from tinct.pipeline.prior import TinctPrior
from tinct.pipeline.scheduler import ColdDiffusionScheduler

__all__ = [
    "DEFAULT_MODEL_DIR",
    "ColdDiffusionScheduler",
    "EncoderPrior",
    "ColorLatents",
    "TinctPipeline",
    "TinctPipelineOutput",
    "TinctPrior",
    "load_minilm",
    "load_pipeline",
]
