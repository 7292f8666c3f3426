"""Judging a trained model: the evaluation report, temperature scaling fitted on the val
split, explanations (Grad-CAM and friends) and the report's figures. See
docs/ARCHITECTURE.md, "Layers"."""
