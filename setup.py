"""Packaging glue: ships the top-level ``zoo/`` folder inside the wheel as ``cnntui.zoo``."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["cnntui", "cnntui.*"]) + ["cnntui.zoo"],
    package_dir={"cnntui.zoo": "zoo"},
)
