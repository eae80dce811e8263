"""The models wing: scikit-learn baselines, Keras CNNs from presets or layer lists, transfer
learning, training, inference and the model store. Imports the core and the data wing."""
