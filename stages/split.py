"""split: stratified, seeded train / validation / test parts with their sizes.

Pixel-identical images stay together in one part (given train / test parts are kept as
published); split.json counts the groups of duplicates in each part.
"""

from imgclf import layout
from imgclf.data.dataset import load_imageset, save_imageset
from imgclf.errors import run_stage
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params
from imgclf.data.splitting import duplicate_groups, duplicates_across, keep_given_split, stratified_split


def main() -> None:
    params = load_params()
    data = load_imageset(layout.PREPARED / layout.IMAGES_FILE)
    s = params.split
    if s.keep_given:
        parts = keep_given_split(data, s.validation, params.seed)
    else:
        parts = stratified_split(data, s.train, s.validation, s.test, params.seed)
    with atomic_dir(layout.SPLIT) as out:
        for name, part in parts.items():
            save_imageset(out / f"{name}.npz", part)
        write_json(out / "split.json", {
            name: {"images": len(part), "class_counts": part.class_counts(), "duplicate_groups": duplicate_groups(part)}
            for name, part in parts.items()
        })
    across = duplicates_across(parts)
    print("split: " + ", ".join(f"{name} {len(part)}" for name, part in parts.items())
          + f"; {duplicate_groups(data)} groups of identical images"
          + (f", {across} of them across parts as the source gives them" if across else ""))


if __name__ == "__main__":
    run_stage(main)
