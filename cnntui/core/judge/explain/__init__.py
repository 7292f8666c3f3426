"""What a model looks at: Grad-CAM, Grad-CAM++, saliency, SmoothGrad, integrated
gradients, occlusion, feature maps and filters.

``gradients`` is the only module that differentiates (TensorFlow); ``layers`` finds
layers, nested models included; ``methods`` computes maps on arrays; ``colormap`` draws
them; ``explainer`` runs all that over image files with a run's preprocessing.
"""
