"""The bundled zoo. Each file registers builders with ``cnntui.core.registry.register_model``.

Files are loaded by path (not imported as a package), exactly like a user's own folder.
"""
