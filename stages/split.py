"""split: stratified, seeded train / validation / test parts with their sizes.

Pixel-identical images stay together in one part (given train / test parts are kept as
published); split.json counts the groups of duplicates in each part. Split reads only the
prepared images' index and writes each part as rows of them, never the pixels.
"""

from imgclf import layout
from imgclf.data.shards import load_index, save_rows
from imgclf.errors import run_stage
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params
from imgclf.data.splitting import duplicate_groups, duplicates_across, keep_given_split, stratified_split


def main() -> None:
    params = load_params()
    index = load_index(layout.PREPARED)
    s = params.split
    if s.keep_given:
        parts = keep_given_split(index, s.validation, params.seed)
    else:
        parts = stratified_split(index, s.train, s.validation, s.test, params.seed)
    with atomic_dir(layout.SPLIT) as out:
        for name, part in parts.items():
            save_rows(layout.split_file(name, out), part)
        write_json(out / "split.json", {
            name: {"images": len(part), "class_counts": part.class_counts(), "duplicate_groups": duplicate_groups(part)}
            for name, part in parts.items()
        })
    across = duplicates_across(parts)
    print("split: " + ", ".join(f"{name} {len(part)}" for name, part in parts.items())
          + f"; {duplicate_groups(index)} groups of identical images"
          + (f", {across} of them across parts as the source gives them" if across else ""))


if __name__ == "__main__":
    run_stage(main)
