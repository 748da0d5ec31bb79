"""Build an honest evaluation set: MNIST *test* digits (never train) made to look like photos and scans.

    python scripts/make_photo_set.py                      # 550 images (50 per condition) into build/photo-set/
    python scripts/make_photo_set.py --n 300 --seed 1 --out /tmp/photos
    python scripts/make_photo_set.py --sklearn build/optdigits

The images and how they are made: `digitrec.synth.photos` (the renderer is `digitrec.synth.paper.digit_photo`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from digitrec.synth.photos import write_optdigits, write_photo_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/photo-set"))
    parser.add_argument("--n", type=int, default=550)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sklearn", type=Path, default=None, help="Also write the optdigits PNGs into this folder.")
    args = parser.parse_args()
    rows = write_photo_set(args.out, args.n, args.seed)
    print(f"wrote {len(rows)} images and labels.csv to {args.out}")
    if args.sklearn:
        rows = write_optdigits(args.sklearn)
        print(f"wrote {len(rows)} optdigits images and labels.csv to {args.sklearn}")


if __name__ == "__main__":
    main()
