"""--show-preprocessed: the 28x28 pictures the network saw, written next to nothing else's."""

from __future__ import annotations

from pathlib import Path

from ..errors import OutputExists


class CropWriter:
    """Writes the 28x28 images the network saw into a folder, as NAME.28x28.png (atomically).

    Never over the files of an earlier run without `force` (checked before any
    work), and never one input's over another's: a second a.png (from another
    folder) becomes a~2.28x28.png.
    """

    def __init__(self, folder: str, force: bool) -> None:
        self.folder = Path(folder)
        self.used: set[str] = set()
        if not force and self.folder.is_dir() and next(self.folder.glob("*.28x28.png"), None) is not None:
            raise OutputExists(
                f"{self.folder}: holds preprocessed images of an earlier run; pass --force to overwrite them, or name another folder"
            )

    def write(self, path: str | None, image, part: str = "") -> Path:
        """Save `image` float32 (28, 28) in [0, 1] for input `path` (`part`: e.g. ".0" for a digit of `read`)."""
        from PIL import Image

        from ..store import atomic_write

        base = (Path(path).name.rsplit(".", 1)[0] if path and path != "-" else "stdin") + part
        name, n = base, 1
        while name in self.used:
            n += 1
            name = f"{base}~{n}"
        self.used.add(name)
        target = self.folder / f"{name}.28x28.png"
        picture = Image.fromarray((image * 255).round().astype("uint8"))
        atomic_write(target, lambda tmp: picture.save(tmp, format="PNG"))
        return target
