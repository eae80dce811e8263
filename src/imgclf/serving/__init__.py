"""The serving wing: classifying new images with a trained model."""
