"""preprocess: decode / resize / convert the raw images to the model input (uint8 NHWC), in shards."""

from imgclf import layout
from imgclf.errors import run_stage
from imgclf.data.images import CHANNELS
from imgclf.data.preparing import prepare
from imgclf.data.shards import write_manifest
from imgclf.outputs import atomic_dir, read_json, write_json
from imgclf.params import load_params

def main() -> None:
    params = load_params().preprocess
    manifest = read_json(layout.RAW / layout.MANIFEST_FILE)
    shape = (*params.image_size, CHANNELS[params.color])
    with atomic_dir(layout.PREPARED) as out:
        index, quality = prepare(layout.RAW, manifest, params, out)
        write_manifest(out, index, shape, params.color)
    write_json(layout.DATA_QUALITY, quality)
    print(f"preprocess: {len(index)} images to {shape} ({params.color}); "
          f"{len(quality['bad'])} skipped, {len(quality['duplicates'])} groups of duplicates")


if __name__ == "__main__":
    run_stage(main)
