#!/usr/bin/env python3
"""Cost of placing a prompt's colour words (tinct.color.prompt_regions).

Prints, from one run on this machine:
- `prompt_field` alone at the model's work size (640x400) for a prompt of
  three phrases (its sky, foliage and subject maps, the border-distance graph
  of at most `BORDER_GRID` nodes a side): seconds;
- warm in-process colorize (predict + render at scale 1) of a 0.25 MP and a
  24 MP photo without a prompt and with that prompt, and the ratio (the
  placing runs at work size, so its share should shrink as the photo grows).

    python benchmarks/bench_prompt.py [--model DIR] [--repeats 3]
"""

from __future__ import annotations

from bench_common import best_of, model_and_repeats, photo

from tinct import color
from tinct.color import prompt_regions
from tinct.pipeline import load_pipeline

PROMPT = "a red car on a green lawn under a blue sky"
SIZES = {"0.25 MP": (400, 640), "24 MP": (3984, 6000)}


def main() -> int:
    args = model_and_repeats(__doc__)

    h, w = SIZES["0.25 MP"]
    lightness = color.luminance_lstar(photo(h, w))
    prompt_regions.prompt_field(lightness, PROMPT)  # warm-up (imports)
    t_place = best_of(args.repeats, lambda: prompt_regions.prompt_field(lightness, PROMPT))
    print(f"prompt_field 640x400, {PROMPT!r}: {t_place:.3f} s")

    pipe = load_pipeline(args.model)
    for label, (h, w) in SIZES.items():
        rgb = photo(h, w)

        def run(prompt: str, rgb=rgb) -> None:
            pipe.render(rgb, pipe.predict(rgb, prompt=prompt), 1.0, workers=2)

        run(PROMPT)
        plain = best_of(args.repeats, lambda run=run: run(""))
        told = best_of(args.repeats, lambda run=run: run(PROMPT))
        print(
            f"colorize {label} ({w}x{h}): {plain:.2f} s, with the prompt {told:.2f} s "
            f"= {told / plain:.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
