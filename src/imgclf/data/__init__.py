"""The data wing: dataset sources and downloads, image folders and decoding, the prepared
``ImageSet`` and its split. Imports only the core (params, layout, errors, outputs)."""
