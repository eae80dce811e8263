"""fetch: materialise the raw dataset in data/raw/ with a manifest (sources, counts, hashes)."""

from imgclf import layout
from imgclf.errors import run_stage
from imgclf.data.fetching import fetch_arrays, fetch_image_folder
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params


def main() -> None:
    params = load_params().fetch
    with atomic_dir(layout.RAW) as out:
        fetch = fetch_image_folder if params.source == "image_folder" else fetch_arrays
        manifest = fetch(params, out)
        write_json(out / layout.MANIFEST_FILE, manifest)
    print(f"fetch: {manifest['images']} images from {params.source!r}, classes {manifest['class_counts']}")


if __name__ == "__main__":
    run_stage(main)
