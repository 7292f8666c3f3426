"""Using a trained model: open it for inference (``open.open_for_inference``: a run, a
checkpoint or an exported file, the run's calibration applied), decode files in batches,
turn outputs into probabilities and predict. See docs/ARCHITECTURE.md, "Layers"."""
