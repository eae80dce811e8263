"""preprocess: resize and convert the raw images to the model input (uint8 NHWC)."""

from imgclf import layout
from imgclf.dataset import load_imageset, save_imageset
from imgclf.errors import run_stage
from imgclf.images import prepare_images
from imgclf.outputs import atomic_dir, write_json
from imgclf.params import load_params


def main() -> None:
    params = load_params().preprocess
    data = prepare_images(load_imageset(layout.RAW / layout.IMAGES_FILE), params.image_size, params.color)
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
    print(f"preprocess: {len(data)} images to {data.images.shape[1:]} ({params.color})")


if __name__ == "__main__":
    run_stage(main)
