"""fetch: materialise the raw dataset in data/raw/ with a manifest."""

from imgclf import layout
from imgclf.dataset import save_imageset
from imgclf.errors import run_stage
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params
from imgclf.sources import load_source


def main() -> None:
    params = load_params().fetch
    data = load_source(params.source, params.max_per_class)
    with atomic_dir(layout.RAW) as out:
        save_imageset(out / layout.IMAGES_FILE, data)
        write_json(out / layout.MANIFEST_FILE, {
            "source": params.source,
            "images": len(data),
            "image_shape": list(data.images.shape[1:]),
            "class_names": list(data.class_names),
            "class_counts": data.class_counts(),
            "content_sha256": data.content_sha256(),
        })
    print(f"fetch: {len(data)} images from {params.source!r}, classes {data.class_counts()}")


if __name__ == "__main__":
    run_stage(main)
