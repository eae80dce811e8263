"""preprocess: decode / resize / convert the raw images to the model input (uint8 NHWC)."""

from imgclf import layout
from imgclf.data.dataset import save_imageset
from imgclf.errors import run_stage
from imgclf.data.preparing import prepare
from imgclf.outputs import atomic_dir, read_json, write_json
from imgclf.params import load_params

def main() -> None:
    params = load_params().preprocess
    manifest = read_json(layout.RAW / layout.MANIFEST_FILE)
    data, quality = prepare(layout.RAW, manifest, params)
    with atomic_dir(layout.PREPARED) as out:
        save_imageset(out / layout.IMAGES_FILE, data)
        write_json(out / layout.MANIFEST_FILE, {
            "images": len(data),
            "image_shape": list(data.images.shape[1:]),
            "color": params.color,
            "class_names": list(data.class_names),
            "class_counts": data.class_counts(),
            "content_sha256": data.content_sha256(),
        })
    write_json(layout.DATA_QUALITY, quality)
    print(f"preprocess: {len(data)} images to {data.images.shape[1:]} ({params.color}); "
          f"{len(quality['bad'])} skipped, {len(quality['duplicates'])} groups of duplicates")


if __name__ == "__main__":
    run_stage(main)
