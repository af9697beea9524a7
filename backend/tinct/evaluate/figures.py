"""The pictures of a `tinct eval` report: contact sheets and the scale plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinct import color

THUMB = 200  # contact-sheet cell width in pixels


def thumb(rgb: np.ndarray, width: int = THUMB) -> np.ndarray:
    h, w = rgb.shape[:2]
    height = max(1, round(h * width / w))
    small = (
        color.resize_area(rgb, height, width)
        if w > width
        else color.resize_linear(rgb, height, width)
    )
    return color.from_float(small, np.uint8)


def contact_sheet(rows, path: Path) -> None:
    """One row per image: gray | ours | original, captioned with the image's name and the scale
    ours was rendered at."""
    from PIL import Image, ImageDraw

    pad, label = 6, 16
    heads = ("gray input", "ours", "original")
    heights = [max(r[1].shape[0], r[2].shape[0], r[3].shape[0]) for r in rows]
    width = 3 * THUMB + 4 * pad
    sheet = Image.new("RGB", (width, label + pad + sum(h + label + pad for h in heights)), "white")
    draw = ImageDraw.Draw(sheet)
    for c, head in enumerate(heads):
        draw.text((pad + c * (THUMB + pad), 2), head, fill=(0, 0, 0))
    y = label + pad
    for (name, gray, ours, truth, scale), h in zip(rows, heights, strict=True):
        draw.text((pad, y), f"{name}   scale {scale:.2f}", fill=(60, 60, 60))
        for c, img in enumerate((gray, ours, truth)):
            sheet.paste(Image.fromarray(img), (pad + c * (THUMB + pad), y + label))
        y += h + label + pad
    sheet.save(path)


REFERENCE_HEADS = ("reference", "gray input", "no reference", "with reference", "original")
CAPTION_HEADS = ("gray input", "no prompt", "true caption", "original")


def strip_sheet(rows, heads: tuple[str, ...], path: Path) -> None:
    """One row per photo, a label over its thumbnails, one column per head: the
    reference check's (reference | gray | without | with | original) or the
    caption check's (gray | no prompt | true caption | original)."""
    from PIL import Image, ImageDraw

    pad, label = 6, 16
    heights = [max(img.shape[0] for img in r[1:]) for r in rows]
    sheet = Image.new(
        "RGB",
        (len(heads) * (THUMB + pad) + pad, label + pad + sum(h + label + pad for h in heights)),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    for c, head in enumerate(heads):
        draw.text((pad + c * (THUMB + pad), 2), head, fill=(0, 0, 0))
    y = label + pad
    for (name, *images), h in zip(rows, heights, strict=True):
        draw.text((pad, y), name, fill=(60, 60, 60))
        for c, img in enumerate(images):
            sheet.paste(Image.fromarray(img), (pad + c * (THUMB + pad), y + label))
        y += h + label + pad
    sheet.save(path)


def scale_plot(curve: dict, path: Path) -> None:
    """Mean colourfulness against scale; matplotlib when installed, else Pillow."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _scale_plot_pillow(curve, path)
        return
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot(curve["scales"], curve["colorfulness"], "o-", label="ours")
    ax.axhline(curve["colorfulness_truth"], color="gray", ls="--", label="originals")
    ax.axvline(curve["default_scale"], color="tab:orange", ls=":", label="default scale")
    ax.set_xlabel("scale (colour latent multiplier)")
    ax.set_ylabel("colourfulness (Hasler & Suesstrunk)")
    ax.set_title("Colourfulness against scale")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _scale_plot_pillow(curve: dict, path: Path) -> None:
    from PIL import Image, ImageDraw

    w, h, m = 600, 400, 50
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xs, ys = curve["scales"], curve["colorfulness"]
    top = max(max(ys, default=1.0), curve["colorfulness_truth"], 1e-6) * 1.1
    x0, x1 = min(xs, default=0.0), max(xs, default=1.0)

    def px(x: float, y: float) -> tuple[float, float]:
        return (m + (x - x0) / max(x1 - x0, 1e-9) * (w - 2 * m), h - m - y / top * (h - 2 * m))

    d.line([px(x0, 0), px(x1, 0)], fill="black")
    d.line([px(x0, 0), px(x0, top)], fill="black")
    for x in xs:
        d.text((px(x, 0)[0] - 8, h - m + 6), f"{x:.1f}", fill="black")
    for k in range(5):
        y = top * k / 4
        d.text((4, px(x0, y)[1] - 6), f"{y:.0f}", fill="black")
    truth = curve["colorfulness_truth"]
    d.line([px(x0, truth), px(x1, truth)], fill=(150, 150, 150))
    if len(xs) > 1:
        d.line([px(x, y) for x, y in zip(xs, ys, strict=True)], fill=(31, 119, 180), width=2)
    for x, y in zip(xs, ys, strict=True):
        cx, cy = px(x, y)
        d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=(31, 119, 180))
    d.text((m, 10), "colourfulness against scale (blue: ours, gray: originals)", fill="black")
    img.save(path)
